import XCTest

@testable import TocsinSinks

final class HTTPResponseParserTests: XCTestCase {
  private enum Expect: Equatable {
    case needMore
    case response(status: Int, body: String, keepAlive: Bool)
    case failed
  }

  /// Feeds `pieces` one at a time (only the last with `endOfStream` when `closed`) and checks
  /// the outcome after the last piece; earlier pieces must all need more.
  private func parserTest(
    _ pieces: [String], closed: Bool = false, _ expected: Expect, file: StaticString = #filePath, line: UInt = #line
  ) {
    var parser = HTTPResponseParser()
    var outcome = HTTPResponseParser.Outcome.needMore
    for (index, piece) in pieces.enumerated() {
      parser.append(Array(piece.utf8))
      outcome = parser.parse(endOfStream: closed && index == pieces.count - 1)
      if index < pieces.count - 1 {
        XCTAssertEqual(outcome, .needMore, "piece \(index)", file: file, line: line)
      }
    }
    let actual: Expect
    switch outcome {
    case .needMore: actual = .needMore
    case .failed: actual = .failed
    case .complete(let r): actual = .response(status: r.status, body: String(decoding: r.body, as: UTF8.self), keepAlive: r.keepAlive)
    }
    XCTAssertEqual(actual, expected, file: file, line: line)
  }

  func testContentLength() {
    parserTest(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"], .response(status: 200, body: "ok", keepAlive: true))
    parserTest(["HTTP/1.1 500 Oops\r\nContent-Le", "ngth: 5\r\n\r\nab", "cde"], .response(status: 500, body: "abcde", keepAlive: true))
    parserTest(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], .needMore)
    parserTest(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], closed: true, .failed)
    parserTest(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"], .response(status: 200, body: "", keepAlive: false))
    parserTest(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"], .response(status: 200, body: "", keepAlive: false))
    parserTest(["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"], .response(status: 200, body: "", keepAlive: true))
  }

  func testChunked() {
    parserTest(
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;ext=1\r\n!!!\r\n0\r\n\r\n"],
      .response(status: 200, body: "ok!!!", keepAlive: true))
    parserTest(
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "a\r\n0123", "456789\r\n", "0\r\nX-T: 1\r\n", "\r\n"],
      .response(status: 200, body: "0123456789", keepAlive: true))
    parserTest(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], .failed)
    parserTest(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX"], .failed)
    parserTest(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n"], closed: true, .failed)
  }

  func testFramingByConnectionEnd_InterimAndBodiless() {
    parserTest(["HTTP/1.1 200 OK\r\n\r\nall of it"], .needMore)
    parserTest(["HTTP/1.1 200 OK\r\n\r\nall of it"], closed: true, .response(status: 200, body: "all of it", keepAlive: false))
    parserTest(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"], .response(status: 201, body: "x", keepAlive: true))
    parserTest(["HTTP/1.1 204 No Content\r\n\r\n"], .response(status: 204, body: "", keepAlive: true))
  }

  func testMalformed() {
    parserTest(["SMTP 220 hello\r\n\r\n"], .failed)
    parserTest(["HTTP/1.1 2000 OK\r\n\r\n"], .failed)
    parserTest(["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], .failed)
    parserTest(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"], .failed)
    parserTest([""], closed: true, .failed)
  }
}

final class HTTPEndpointTests: XCTestCase {
  func testParsing() throws {
    let table: [(String, host: String, port: UInt16, target: String)] = [
      ("http://127.0.0.1:8080/alerts", "127.0.0.1", 8080, "/alerts"),
      ("http://example.com", "example.com", 80, "/"),
      ("HTTP://example.com?x=1", "example.com", 80, "/?x=1"),
      ("http://[::1]:9000/a/b?c#frag", "::1", 9000, "/a/b?c"),
    ]
    for (url, host, port, target) in table {
      let endpoint = try HTTPEndpoint(parsing: url)
      XCTAssertEqual([endpoint.host, String(endpoint.port), endpoint.target], [host, String(port), target], url)
    }
    XCTAssertEqual(try HTTPEndpoint(parsing: "http://[::1]:9000/").hostHeader, "[::1]:9000")
  }

  func testRejected() {
    let table: [(String, HTTPEndpoint.ParseError)] = [
      ("https://hooks.example.com/x", .httpsNotSupported),
      ("ftp://x", .unsupportedScheme("ftp")),
      ("example.com/x", .unsupportedScheme("")),
      ("http://:80/", .invalidHost),
      ("http://user@host/", .invalidHost),
      ("http://host:0/", .invalidPort("0")),
      ("http://host:99999/", .invalidPort("99999")),
    ]
    for (url, expected) in table {
      XCTAssertThrowsError(try HTTPEndpoint(parsing: url), url) { error in
        XCTAssertEqual(error as? HTTPEndpoint.ParseError, expected, url)
      }
    }
  }
}
