import TocsinExpressions
import TocsinTestSupport
import XCTest

@testable import TocsinSinks

final class SinkConfigurationTests: XCTestCase {
  /// The example shipped in the repository parses, with the documented settings.
  func testExampleFile() throws {
    let configuration = try SinkConfigurationParser.load(path: Repository.path("sinks.example.yaml"))
    XCTAssertEqual(configuration.sinkNames, ["console", "audit", "pager", "dead_letters"])
    XCTAssertEqual(configuration.routes[.high], ["pager", "audit"])
    XCTAssertEqual(configuration.route(for: .low), ["console", "audit"])
    XCTAssertEqual(configuration.deadLetter, "dead_letters")
    guard case .webhook(let pager)? = configuration.sink(named: "pager")?.kind else { return XCTFail("pager") }
    XCTAssertEqual(pager.endpoint.port, 8080)
    XCTAssertEqual(pager.linger, .milliseconds(200))
    XCTAssertEqual(pager.breaker.failureThreshold, 5)
    XCTAssertEqual(pager.breaker.cooldown, .seconds(30))
    guard case .file(let audit)? = configuration.sink(named: "audit")?.kind else { return XCTFail("audit") }
    XCTAssertEqual(audit.maxBytes, 10_485_760)
    XCTAssertEqual(audit.fsync, .interval(.seconds(1)))
  }

  func testDefaults() throws {
    let configuration = try SinkConfigurationParser.parse(
      "sinks:\n  hook: { type: webhook, url: 'http://h/', spill: s.ndjson }\n  f: { type: file, path: a }\n", path: "t.yaml")
    guard case .webhook(let hook)? = configuration.sink(named: "hook")?.kind else { return XCTFail() }
    XCTAssertEqual(hook, WebhookConfiguration(endpoint: try HTTPEndpoint(parsing: "http://h/"), spillPath: "s.ndjson"))
    guard case .file(let file)? = configuration.sink(named: "f")?.kind else { return XCTFail() }
    XCTAssertEqual(file, SinkConfiguration.FileSettings(path: "a"))
    XCTAssertNil(configuration.route(for: .high))
  }

  /// Each bad file gives one error, at the right line, of the right kind.
  func testErrors() {
    let table: [(text: String, line: Int, check: (SinkConfigurationError.Problem) -> Bool)] = [
      ("sinks: [a, b]", 1, { if case .expected = $0 { return true } else { return false } }),
      ("sinkz: {}", 1, { if case .unknownKey("sinkz", _, _) = $0 { return true } else { return false } }),
      ("routes: {}", 1, { if case .missingKey("sinks", _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: pipe }", 2, { if case .invalidValue(key: "type", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a:\n    type: file\n    path: x\n    retries: 3", 5, { if case .unknownKey("retries", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: file }", 2, { if case .missingKey("path", _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: webhook, url: 'http://h/' }", 2, { if case .missingKey("spill", _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: webhook, url: 'https://h/', spill: s }", 2, { $0 == .invalidURL(.httpsNotSupported) }),
      ("sinks:\n  a: { type: webhook, url: 'http://h/', spill: s, linger: soon }", 2, { if case .invalidValue(key: "linger", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: webhook, url: 'http://h/', spill: s, retries: -1 }", 2, { if case .invalidValue(key: "retries", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: file, path: x, fsync: always }", 2, { if case .invalidValue(key: "fsync", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a-b: { type: stdout }", 2, { $0 == .invalidSinkName("a-b") }),
      ("sinks:\n  a: { type: stdout }\nroutes:\n  high: [a, b]", 4, { if case .unknownSink("b", _, _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: stdout }\nroutes:\n  urgent: [a]", 4, { if case .unknownKey("urgent", "routes", _) = $0 { return true } else { return false } }),
      ("sinks:\n  a: { type: webhook, url: 'http://h/', spill: s }\ndead_letter: a", 3, { $0 == .deadLetterSinkType(name: "a", type: "webhook") }),
      ("sinks:\n  a: { type: file, path: x }\n  b: { type: file, path: x }", 3, { $0 == .sharedPath("x", first: "a", second: "b") }),
      ("sinks:\n  a: { type: stdout\n", 0, { if case .syntax = $0 { return true } else { return false } }),
    ]
    for (text, line, check) in table {
      do {
        _ = try SinkConfigurationParser.parse(text, path: "t.yaml")
        XCTFail("accepted:\n\(text)")
      } catch {
        XCTAssertTrue(check(error.problem), "\(text)\n→ \(error)")
        if line > 0 { XCTAssertEqual(error.line, line, "\(text)\n→ \(error)") }
        XCTAssertTrue(error.description.hasPrefix("t.yaml"), error.description)
      }
    }
  }

  func testHTTPSMessageSaysWhatToDo() {
    XCTAssertTrue(HTTPEndpoint.ParseError.httpsNotSupported.description.contains("TLS-terminating proxy"))
  }
}
