import TocsinApp
import TocsinIO
import TocsinSinks
import XCTest

/// Sink figures on `/metrics`: one series per sink, webhook-only families only for webhooks.
final class SinkMetricsTests: XCTestCase {
  func testExposition() {
    var file = SinkStatistics(kind: "file")
    file.sent = 30
    var hook = SinkStatistics(kind: "webhook")
    hook.sent = 18
    hook.retried = 3
    hook.spilled = 2
    hook.queued = 5
    hook.breaker = .open
    let text = MetricsRegistry.render(SinkRouter.metricFamilies([("audit", file), ("pager", hook)]))
    let lines = Set(text.split(separator: "\n").map(String.init))
    // (line, expected present)
    let cases: [(String, Bool)] = [
      (#"tocsin_sink_sent_total{sink="audit",kind="file"} 30"#, true),
      (#"tocsin_sink_sent_total{sink="pager",kind="webhook"} 18"#, true),
      (#"tocsin_sink_retries_total{sink="pager",kind="webhook"} 3"#, true),
      (#"tocsin_sink_spilled_total{sink="pager",kind="webhook"} 2"#, true),
      (#"tocsin_sink_dropped_total{sink="pager",kind="webhook"} 0"#, true),
      (#"tocsin_sink_queue_depth{sink="pager",kind="webhook"} 5"#, true),
      (#"tocsin_sink_breaker_state{sink="pager",state="open"} 1"#, true),
      (#"tocsin_sink_breaker_state{sink="pager",state="closed"} 0"#, true),
      (#"tocsin_sink_breaker_state{sink="pager",state="half-open"} 0"#, true),
      (#"tocsin_sink_retries_total{sink="audit",kind="file"} 0"#, false),
      ("# TYPE tocsin_sink_queue_depth gauge", true),
      ("# TYPE tocsin_sink_sent_total counter", true),
    ]
    for (line, present) in cases {
      XCTAssertEqual(lines.contains(line), present, line + "\n" + text)
    }
  }
}
