import XCTest

@testable import TocsinSinks

final class CircuitBreakerTests: XCTestCase {
  private enum Step {
    /// Ask at time `t` (ms); expect permission or not.
    case request(at: UInt64, permitted: Bool)
    case success
    case failure(at: UInt64)
  }

  private func ms(_ value: UInt64) -> MonotonicTime { MonotonicTime(nanoseconds: value * 1_000_000) }

  /// Runs `steps` on a breaker (threshold 3, cool-down 100 ms), checking the state after each.
  private func breakerTest(
    _ steps: [(Step, CircuitBreaker.State)], file: StaticString = #filePath, line: UInt = #line
  ) {
    var breaker = CircuitBreaker(configuration: .init(failureThreshold: 3, cooldown: .milliseconds(100)))
    for (index, (step, expected)) in steps.enumerated() {
      switch step {
      case .request(let t, let permitted):
        XCTAssertEqual(breaker.requestPermitted(at: ms(t)), permitted, "step \(index): permission", file: file, line: line)
      case .success: breaker.recordSuccess()
      case .failure(let t): breaker.recordFailure(at: ms(t))
      }
      XCTAssertEqual(breaker.state, expected, "step \(index)", file: file, line: line)
    }
  }

  func testClosed_OpensAfterThresholdConsecutiveFailures() {
    breakerTest([
      (.request(at: 0, permitted: true), .closed(failures: 0)),
      (.failure(at: 0), .closed(failures: 1)),
      (.failure(at: 1), .closed(failures: 2)),
      (.failure(at: 2), .open(until: ms(102))),
      (.request(at: 50, permitted: false), .open(until: ms(102))),
      (.request(at: 101, permitted: false), .open(until: ms(102))),
    ])
  }

  func testClosed_SuccessResetsTheCount() {
    breakerTest([
      (.failure(at: 0), .closed(failures: 1)),
      (.failure(at: 1), .closed(failures: 2)),
      (.success, .closed(failures: 0)),
      (.failure(at: 2), .closed(failures: 1)),
    ])
  }

  func testHalfOpen_OneProbeThenCloseOnSuccess() {
    breakerTest([
      (.failure(at: 0), .closed(failures: 1)),
      (.failure(at: 0), .closed(failures: 2)),
      (.failure(at: 0), .open(until: ms(100))),
      (.request(at: 100, permitted: true), .halfOpen(probeInFlight: true)),
      (.request(at: 101, permitted: false), .halfOpen(probeInFlight: true)),
      (.success, .closed(failures: 0)),
      (.request(at: 102, permitted: true), .closed(failures: 0)),
    ])
  }

  func testHalfOpen_FailedProbeReopensForAnotherCooldown() {
    breakerTest([
      (.failure(at: 0), .closed(failures: 1)),
      (.failure(at: 0), .closed(failures: 2)),
      (.failure(at: 0), .open(until: ms(100))),
      (.request(at: 150, permitted: true), .halfOpen(probeInFlight: true)),
      (.failure(at: 160), .open(until: ms(260))),
      (.request(at: 200, permitted: false), .open(until: ms(260))),
      (.request(at: 260, permitted: true), .halfOpen(probeInFlight: true)),
    ])
  }

  func testStateNames() {
    XCTAssertEqual(CircuitBreaker.StateName.halfOpen.rawValue, "half-open")
    var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, cooldown: .zero))
    XCTAssertEqual(breaker.stateName, .closed)
    breaker.recordFailure(at: ms(0))
    XCTAssertEqual(breaker.stateName, .open)
    XCTAssertTrue(breaker.requestPermitted(at: ms(0)))
    XCTAssertEqual(breaker.stateName, .halfOpen)
  }
}
