import Foundation
import TocsinTestSupport
import XCTest

@testable import TocsinSinks

/// The webhook sink against a real HTTP server on loopback that answers, fails with 500s,
/// stalls, refuses connections and recovers.
final class WebhookSinkTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "tocsin-webhook-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Collects the sink's state-change reports (they arrive from its thread).
  private final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [WebhookEvent] = []
    var events: [WebhookEvent] { lock.withLock { _events } }
    func append(_ event: WebhookEvent) { lock.withLock { _events.append(event) } }
  }

  private func record(_ id: String) -> SinkRecord {
    SinkRecord(bytes: Array("{\"rule\":\"r\",\"id\":\"\(id)\",\"severity\":\"high\"}\n".utf8), rule: "r", severity: .high)
  }

  /// Fast settings: 400 ms request timeout, 2 retries, breaker after 3 failures for 300 ms.
  private func configuration(port: UInt16) throws -> WebhookConfiguration {
    var settings = WebhookConfiguration(
      endpoint: try HTTPEndpoint(parsing: "http://127.0.0.1:\(port)/alerts"), spillPath: directory + "/spill.ndjson")
    settings.batchSize = 5
    settings.linger = .milliseconds(20)
    settings.connectTimeout = .milliseconds(200)
    settings.requestTimeout = .milliseconds(400)
    settings.retries = 2
    settings.backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(40))
    settings.breaker = CircuitBreaker.Configuration(failureThreshold: 3, cooldown: .milliseconds(300))
    settings.drainTimeout = .seconds(5)
    return settings
  }

  /// Alert ids in JSON-array request bodies.
  private func ids(inBodies bodies: [[UInt8]]) throws -> [String] {
    try bodies.flatMap { body -> [String] in
      let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
      return array.compactMap { $0["id"] as? String }
    }
  }

  private func spilledIDs() throws -> [String] {
    let text = String(decoding: FileManager.default.contents(atPath: directory + "/spill.ndjson") ?? Data(), as: UTF8.self)
    return try text.split(separator: "\n").map { line in
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      return try XCTUnwrap(object["id"] as? String)
    }
  }

  private func waitUntil(_ what: String, timeout: Double = 10, _ condition: () -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
      if Date() > deadline { return XCTFail("timed out waiting for \(what)") }
      usleep(5000)
    }
  }

  func testFailuresStallsRefusalsAndRecovery_EveryAlertDeliveredOrSpilled() throws {
    let server = try LoopbackHTTPServer()
    defer { server.shutdown() }
    let log = EventLog()
    let settings = try configuration(port: server.port)
    let sink = try WebhookSink(name: "pager", configuration: settings) { log.append($0) }
    var expected: [String] = []
    func send(_ phase: String) throws {
      for i in 0..<10 {
        let id = "\(phase)-\(i)"
        expected.append(id)
        try sink.write(record(id))
      }
      let total = expected.count
      waitUntil("\(phase): every alert sent or spilled") {
        let s = sink.statistics
        return s.sent + s.spilled + s.dropped == total
      }
    }
    let cooldown: useconds_t = 350_000

    // 1) Healthy, chunked answers, one kept-alive connection.
    server.mode = .respond(status: 200, chunked: true)
    try send("ok")
    XCTAssertEqual(sink.statistics.sent, 10)
    XCTAssertEqual(server.connectionsAccepted, 1, "keep-alive: both batches on one connection")

    // 2) 500s: retried, then spilled; the breaker opens.
    server.mode = .respond(status: 500, chunked: false)
    try send("fail")
    usleep(cooldown)

    // 3) Stalls: each request times out.
    server.mode = .stall
    try send("stall")
    usleep(cooldown)

    // 4) Refused connections.
    server.stopListening()
    try send("refused")
    usleep(cooldown)

    // 5) Recovery.
    try server.resumeListening()
    server.mode = .respond(status: 200, chunked: false)
    try send("recovered")
    try sink.close()

    let statistics = sink.statistics
    let delivered = try ids(inBodies: server.acknowledgedBodies)
    let spilled = try spilledIDs()
    XCTAssertEqual(Set(delivered).count, delivered.count, "no acknowledged alert was sent twice")
    XCTAssertEqual(Set(spilled).count, spilled.count, "no alert spilled twice")
    XCTAssertTrue(Set(delivered).isDisjoint(with: spilled), "an acknowledged alert is never spilled")
    XCTAssertEqual(Set(delivered).union(spilled).sorted(), expected.sorted(), "every alert is delivered or spilled")
    XCTAssertTrue(expected.filter { $0.hasPrefix("recovered") }.allSatisfy(Set(delivered).contains), "after recovery every alert arrives")
    XCTAssertTrue(expected.filter { $0.hasPrefix("ok") }.allSatisfy(Set(delivered).contains))
    XCTAssertEqual(statistics.sent, delivered.count)
    XCTAssertEqual(statistics.spilled, spilled.count)
    XCTAssertEqual(statistics.dropped, 0)
    XCTAssertGreaterThan(statistics.retried, 0)
    XCTAssertEqual(statistics.breaker, .closed)
    let events = log.events
    XCTAssertTrue(events.contains { if case .breakerOpened = $0 { return true } else { return false } }, "\(events)")
    XCTAssertTrue(events.contains(.breakerHalfOpen), "\(events)")
    XCTAssertEqual(events.last, .recovered, "\(events)")
    // The stalled requests reached the server (and may have been processed there): the
    // receiver sees their ids and can dedup any later copy.
    XCTAssertTrue(try ids(inBodies: server.receivedBodies).contains("stall-0"))
  }

  /// A full queue never blocks the engine: new alerts are spilled at once and counted.
  func testFullQueue_SpillsWithoutBlocking() throws {
    let server = try LoopbackHTTPServer()
    defer { server.shutdown() }
    server.mode = .stall
    let log = EventLog()
    var settings = try configuration(port: server.port)
    settings.queueCapacity = 5
    settings.retries = 0
    settings.drainTimeout = .milliseconds(100)
    let sink = try WebhookSink(name: "pager", configuration: settings) { log.append($0) }
    let started = Date()
    for i in 0..<200 { try sink.write(record("q-\(i)")) }
    XCTAssertLessThan(Date().timeIntervalSince(started), 1.0, "writes do not wait for the endpoint")
    try sink.close()
    let statistics = sink.statistics
    XCTAssertEqual(statistics.sent + statistics.spilled, 200)
    XCTAssertEqual(statistics.dropped, 0)
    XCTAssertGreaterThanOrEqual(statistics.spilled, 190)
    XCTAssertEqual(Set(try spilledIDs()).count, statistics.spilled)
    XCTAssertTrue(log.events.contains(.queueFull(capacity: 5)), "\(log.events)")
  }

  /// A 4xx that retrying cannot fix spills the batch at once, without retries or breaker trips.
  func testPermanentRejection_SpillsWithoutRetrying() throws {
    let server = try LoopbackHTTPServer()
    defer { server.shutdown() }
    server.mode = .respond(status: 400, chunked: false)
    let log = EventLog()
    let sink = try WebhookSink(name: "pager", configuration: try configuration(port: server.port)) { log.append($0) }
    for i in 0..<3 { try sink.write(record("bad-\(i)")) }
    try sink.close()
    XCTAssertEqual(sink.statistics.spilled, 3)
    XCTAssertEqual(sink.statistics.retried, 0)
    XCTAssertEqual(sink.statistics.breaker, .closed)
    XCTAssertEqual(server.receivedBodies.count, 1)
    XCTAssertEqual(log.events, [.rejected(status: 400)])
  }
}
