import TocsinCore
import XCTest

@testable import TocsinRuntime

/// `suppress DURATION [by expr]` decisions, one alert stream per table.
final class SuppressorTests: XCTestCase {
  /// One alert of the stream: rule index, time in seconds, suppression key, and whether it is an
  /// `on timeout` alert; then the expected decision: `w0`, `w3` (written, carrying 3) or `s`.
  private typealias Step = (rule: Int, seconds: Int64, key: Value, timeout: Bool, expected: String)

  private func step(_ rule: Int, _ seconds: Int64, _ key: Value, _ expected: String, timeout: Bool = false) -> Step {
    (rule, seconds, key, timeout, expected)
  }

  /// Feeds `steps` in order to a suppressor with `durations` and compares every decision.
  private func suppressionTest(
    _ durations: [EventDuration?], _ steps: [Step], file: StaticString = #filePath, line: UInt = #line
  ) {
    var suppressor = Suppressor(durations: durations)
    var got: [String] = []
    for s in steps {
      let alert = Alert(
        source: AlertRule(index: s.rule, name: "r\(s.rule)", severity: .medium), idHash: 0, isTimeout: s.timeout,
        time: .milliseconds(s.seconds * 1000), start: .milliseconds(s.seconds * 1000), suppressionKey: s.key)
      switch suppressor.alertArrived(alert) {
      case .suppress: got.append("s")
      case .write(let n): got.append("w\(n)")
      }
    }
    XCTAssertEqual(got, steps.map(\.expected), file: file, line: line)
  }

  private let a = Value.string("a")
  private let b = Value.string("b")

  func testDurationEdges() {
    // Exactly DURATION apart is written; one nanosecond less is suppressed.
    suppressionTest([.seconds(60)], [step(0, 0, a, "w0"), step(0, 59, a, "s"), step(0, 60, a, "w1")])
    suppressionTest([.seconds(60)], [step(0, 0, a, "w0"), step(0, 60, a, "w0"), step(0, 120, a, "w0")])
    // The window starts at the last *written* alert, not the last suppressed one.
    suppressionTest(
      [.seconds(60)],
      [step(0, 0, a, "w0"), step(0, 30, a, "s"), step(0, 59, a, "s"), step(0, 61, a, "w2"), step(0, 100, a, "s")])
  }

  func testKeysAndRulesAreIndependent() {
    suppressionTest(
      [.seconds(60), .seconds(60)],
      [step(0, 0, a, "w0"), step(0, 1, b, "w0"), step(1, 2, a, "w0"), step(0, 3, a, "s"), step(1, 4, a, "s")])
    // Matches and timeouts of one rule and key are throttled separately.
    suppressionTest(
      [.seconds(60)],
      [step(0, 0, a, "w0"), step(0, 1, a, "w0", timeout: true), step(0, 2, a, "s", timeout: true)])
    // Values of different types are different keys ("1" and 1).
    suppressionTest([.seconds(60)], [step(0, 0, .string("1"), "w0"), step(0, 1, .int(1), "w0")])
  }

  func testRulesWithoutSuppressAndNullKeysAreAlwaysWritten() {
    suppressionTest([nil], [step(0, 0, a, "w0"), step(0, 0, a, "w0")])
    suppressionTest(
      [.seconds(60)], [step(0, 0, .null, "w0"), step(0, 1, .null, "w0"), step(0, 2, a, "w0"), step(0, 3, .null, "w0")])
  }

  func testOutOfOrderAlertsCountAtTheAlertClock() {
    // Equal times in one output step: the first is written, the rest suppressed, whatever
    // their keys' order.
    suppressionTest([.seconds(60)], [step(0, 10, a, "w0"), step(0, 10, b, "w0"), step(0, 10, a, "s"), step(0, 10, b, "s")])
    // A held match released after a later alert counts at the clock (100), not at its own time
    // (20): it is within 60 s of the written alert at 100.
    suppressionTest([.seconds(60)], [step(0, 100, a, "w0"), step(0, 20, a, "s"), step(0, 159, a, "s"), step(0, 160, a, "w2")])
    // ...and an old alert of a new key is written at clock 100, opening its window there.
    suppressionTest([.seconds(60)], [step(0, 100, a, "w0"), step(0, 20, b, "w0"), step(0, 150, b, "s")])
    // The clock is per rule: rule 1's late alert is not moved by rule 0's.
    suppressionTest([.seconds(60), .seconds(60)], [step(0, 500, a, "w0"), step(1, 0, a, "w0"), step(1, 59, a, "s")])
  }

  func testCountsCarryWhileTheKeyIsActiveAndExpireAfterQuiet() {
    // Suppressed at 50; the next alert at 109 is within 60 s of it: written carrying 1.
    suppressionTest([.seconds(60)], [step(0, 0, a, "w0"), step(0, 50, a, "s"), step(0, 109, a, "w1")])
    // Quiet for 60 s after the last suppressed alert: the entry expired, the count is dropped.
    suppressionTest([.seconds(60)], [step(0, 0, a, "w0"), step(0, 50, a, "s"), step(0, 110, a, "w0")])
  }

  func testStateIsBoundedAndRestorable() {
    let rule = AlertRule(index: 0, name: "r", severity: .low)
    var suppressor = Suppressor(durations: [.seconds(10)])
    for i in 0..<10_000 {
      let alert = Alert(
        source: rule, idHash: 0, time: .milliseconds(Int64(i) * 1000), start: .milliseconds(Int64(i) * 1000),
        suppressionKey: .string("k\(i % 100)"))
      _ = suppressor.alertArrived(alert)
    }
    // Keys seen in the last 10 s of alert time (one alert per second, 100 keys in rotation).
    XCTAssertEqual(suppressor.entries.count, 10)
    XCTAssertEqual(suppressor.entries.map(\.key.value.description), (9990..<10_000).map { "k\($0 % 100)" }.sorted())

    var restored = Suppressor(durations: [.seconds(10)])
    restored.restore(entries: suppressor.entries, clocks: suppressor.clocks)
    XCTAssertEqual(restored.entries, suppressor.entries)
    let next = Alert(
      source: rule, idHash: 0, time: .milliseconds(10_000_000), start: .milliseconds(10_000_000),
      suppressionKey: .string("k95"))
    XCTAssertEqual(restored.alertArrived(next), suppressor.alertArrived(next))
  }
}
