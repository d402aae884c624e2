import TocsinCore
import XCTest

@testable import TocsinSinks

final class BackoffTests: XCTestCase {
  private let policy = Backoff(initial: .milliseconds(100), maximum: .seconds(1))

  func testCeiling_DoublesUpToTheMaximum() {
    let table: [(attempt: Int, ceiling: Duration)] = [
      (0, .milliseconds(100)), (1, .milliseconds(200)), (2, .milliseconds(400)),
      (3, .milliseconds(800)), (4, .seconds(1)), (5, .seconds(1)), (63, .seconds(1)), (1000, .seconds(1)),
    ]
    for (attempt, ceiling) in table {
      XCTAssertEqual(policy.ceiling(attempt: attempt), ceiling, "attempt \(attempt)")
    }
  }

  /// The schedule for seed 42, computed independently (a Python splitmix64 with the same
  /// multiply-shift range reduction), so a change to the generator or the jitter shows.
  func testDelay_SeededScheduleIsReproducible() {
    var random = SplitMix64(seed: 42)
    let delays = (0..<6).map { policy.delay(attempt: $0, using: &random) }
    let expected: [Int64] = [74_156_488, 31_982_078, 111_440_452, 275_352_573, 38_030_168, 868_228_077]
    XCTAssertEqual(delays, expected.map { Duration.nanoseconds($0) })
  }

  /// Full jitter: every delay lies in `0 ... ceiling`, and the delays spread over the range.
  func testDelay_FullJitterStaysWithinTheCeiling() {
    for seed: UInt64 in 0..<50 {
      var random = SplitMix64(seed: seed)
      for attempt in 0..<8 {
        let delay = policy.delay(attempt: attempt, using: &random)
        XCTAssertTrue(delay >= .zero && delay <= policy.ceiling(attempt: attempt), "seed \(seed) attempt \(attempt)")
      }
    }
    var random = SplitMix64(seed: 7)
    let samples = (0..<1000).map { _ in policy.delay(attempt: 0, using: &random) }
    XCTAssertLessThan(samples.min() ?? .zero, .milliseconds(5))
    XCTAssertGreaterThan(samples.max() ?? .zero, .milliseconds(95))
  }

  func testZeroInitial_NeverWaits() {
    var random = SplitMix64(seed: 1)
    let none = Backoff(initial: .zero, maximum: .zero)
    XCTAssertEqual(none.delay(attempt: 3, using: &random), .zero)
  }
}
