import XCTest

@testable import TocsinIO

/// The Prometheus text encoder, histograms, address parsing and the HTTP responses.
final class MetricsTests: XCTestCase {
  func testExpositionFormat() {
    var histogram = Histogram(bounds: [0.001, 0.01])
    for value in [0.0005, 0.002, 0.02] { histogram.observe(value) }
    let text = MetricsRegistry.render([
      .single("t_events_total", "Events in.", .counter, 42),
      MetricFamily(
        name: "t_alerts_total", help: "Alerts \\ by \"rule\".\nSecond line.", type: .counter,
        samples: [.init(labels: [("rule", "a\"b\\c\nd"), ("severity", "high")], value: 3)]),
      .single("t_ratio", "A gauge.", .gauge, 0.25),
      MetricFamily(name: "t_empty", help: "No samples.", type: .gauge, samples: []),
      MetricFamily(name: "t_latency_seconds", help: "Latency.", histogram: histogram),
    ])
    XCTAssertEqual(
      text,
      """
      # HELP t_events_total Events in.
      # TYPE t_events_total counter
      t_events_total 42
      # HELP t_alerts_total Alerts \\\\ by "rule".\\nSecond line.
      # TYPE t_alerts_total counter
      t_alerts_total{rule="a\\"b\\\\c\\nd",severity="high"} 3
      # HELP t_ratio A gauge.
      # TYPE t_ratio gauge
      t_ratio 0.25
      # HELP t_empty No samples.
      # TYPE t_empty gauge
      # HELP t_latency_seconds Latency.
      # TYPE t_latency_seconds histogram
      t_latency_seconds_bucket{le="0.001"} 1
      t_latency_seconds_bucket{le="0.01"} 2
      t_latency_seconds_bucket{le="+Inf"} 3
      t_latency_seconds_sum 0.0225
      t_latency_seconds_count 3

      """)
  }

  func testValueFormatting() {
    let cases: [(Double, String)] = [
      (0, "0"), (-3, "-3"), (1e14, "100000000000000"), (1e16, "1e+16"), (0.5, "0.5"), (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"),
    ]
    for (value, text) in cases { XCTAssertEqual(MetricsRegistry.format(value), text, "\(value)") }
  }

  func testHistogramQuantiles() {
    var h = Histogram(bounds: [1, 2, 4])
    XCTAssertNil(h.quantile(0.5))
    for v in [0.5, 1.5, 1.5, 3] { h.observe(v) }
    XCTAssertEqual(h.counts, [1, 2, 1, 0])
    XCTAssertEqual(h.quantile(0.25), 1)  // the whole first bucket
    XCTAssertEqual(h.quantile(0.5), 1.5)  // halfway through (1, 2]
    XCTAssertEqual(h.quantile(1), 4)
    h.observe(100)  // above the last bound: answered as the last bound
    XCTAssertEqual(h.quantile(1), 4)
    h.observe(1)  // on a bound: counted in that bucket (le is inclusive)
    XCTAssertEqual(h.counts, [2, 2, 1, 1])
  }

  func testPublishReplacesFamiliesInFirstPublishedOrder() {
    let registry = MetricsRegistry()
    registry.publish([.single("a", "A.", .counter, 1), .single("b", "B.", .gauge, 1)])
    registry.publish([.single("b", "B.", .gauge, 7), .single("a", "A.", .counter, 2)])
    registry.register { [.single("c", "C.", .gauge, 3)] }
    XCTAssertEqual(registry.snapshot().map(\.name), ["a", "b", "c"])
    XCTAssertEqual(registry.snapshot().map { $0.samples[0].value }, [2, 7, 3])
  }

  func testAddressParsing() {
    let ok: [(String, Bool, MetricsAddress)] = [
      ("9464", false, MetricsAddress(host: "127.0.0.1", port: 9464)),
      (":9464", false, MetricsAddress(host: "127.0.0.1", port: 9464)),
      ("localhost:80", false, MetricsAddress(host: "localhost", port: 80)),
      ("127.1.2.3:0", false, MetricsAddress(host: "127.1.2.3", port: 0)),
      ("[::1]:9464", false, MetricsAddress(host: "::1", port: 9464)),
      ("0.0.0.0:9464", true, MetricsAddress(host: "0.0.0.0", port: 9464)),
    ]
    for (text, remote, expected) in ok {
      XCTAssertEqual(try MetricsAddress(parsing: text, allowRemote: remote), expected, text)
    }
    let bad: [(String, MetricsAddress.ParseError)] = [
      ("", .malformed("")), ("x", .malformed("x")), ("host:", .malformed("host:")), ("1:65536", .malformed("1:65536")),
      ("0.0.0.0:9464", .notLoopback("0.0.0.0")), ("10.0.0.1:1", .notLoopback("10.0.0.1")),
      ("127.0.0.1.evil.com:1", .notLoopback("127.0.0.1.evil.com")),
    ]
    for (text, error) in bad {
      XCTAssertThrowsError(try MetricsAddress(parsing: text, allowRemote: false), text) {
        XCTAssertEqual($0 as? MetricsAddress.ParseError, error, text)
      }
    }
  }

  func testResponses() {
    let registry = MetricsRegistry()
    registry.publish([.single("a_total", "A.", .counter, 1)])
    func head(_ request: String) -> String {
      let text = String(decoding: MetricsServer.response(to: request, registry: registry), as: UTF8.self)
      return text.components(separatedBy: "\r\n")[0]
    }
    XCTAssertEqual(head("GET /metrics HTTP/1.1"), "HTTP/1.1 200 OK")
    XCTAssertEqual(head("GET /metrics?x=1 HTTP/1.1"), "HTTP/1.1 200 OK")
    XCTAssertEqual(head("GET / HTTP/1.1"), "HTTP/1.1 404 Not Found")
    XCTAssertEqual(head("GET /metricsx HTTP/1.1"), "HTTP/1.1 404 Not Found")
    XCTAssertEqual(head("POST /metrics HTTP/1.1"), "HTTP/1.1 405 Method Not Allowed")
    XCTAssertEqual(head(""), "HTTP/1.1 405 Method Not Allowed")
    let full = String(decoding: MetricsServer.response(to: "GET /metrics HTTP/1.1", registry: registry), as: UTF8.self)
    XCTAssertTrue(full.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
    XCTAssertTrue(full.hasSuffix("\r\n\r\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"))
  }
}
