import TocsinCore
import TocsinRuntime
import XCTest

/// ``TimeCalibration`` on its own: when it completes and which base it picks.
final class TimeCalibrationTests: XCTestCase {
  /// One row: adding `times` (seconds) one by one completes at index `completesAt` with `base`
  /// (seconds), or never (`nil`), with a 1 h skew, 2 confirmations and a limit of `limit`.
  private func calibrationTest(
    _ times: [Int64], limit: Int = 100, completesAt: Int?, base: Int64?,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    var calibration = TimeCalibration<Int>(skew: .hours(1), confirmations: 2, limit: limit)
    for (i, t) in times.enumerated() {
      if let found = calibration.add(i, at: .milliseconds(t * 1000)) {
        XCTAssertEqual(i, completesAt, "completed early", file: file, line: line)
        XCTAssertEqual(found, base.map { EventTime.milliseconds($0 * 1000) }, file: file, line: line)
        XCTAssertEqual(calibration.items, Array(0...i), "held in arrival order", file: file, line: line)
        return
      }
    }
    XCTAssertNil(completesAt, "never completed", file: file, line: line)
  }

  func testCompletion() {
    let y2099: Int64 = 4_070_908_800
    calibrationTest([10, 20, 30], completesAt: 2, base: 30)
    calibrationTest([30, 20, 10], completesAt: 2, base: 30)
    calibrationTest([y2099, 10, 20, 30], completesAt: 3, base: 30)
    calibrationTest([10, y2099, 20, y2099 + 1, 30], completesAt: 4, base: 30)
    calibrationTest([y2099, y2099 + 1, y2099 + 2, 10], completesAt: 2, base: y2099 + 2)
    // Only events within the skew of the anchor count towards the base.
    calibrationTest([0, 3_000, 6_000], completesAt: 2, base: 6_000)
    calibrationTest([0, 3_000, 7_300], completesAt: nil, base: nil)
    // The limit ends it with the lower median.
    calibrationTest([0, 7_200, 14_400, 21_600], limit: 4, completesAt: 3, base: 7_200)
    calibrationTest([y2099, 0, 7_200], limit: 3, completesAt: 2, base: 7_200)
  }

  func testZeroConfirmationsTrustsTheFirstEvent() {
    var calibration = TimeCalibration<Int>(skew: .hours(1), confirmations: 0, limit: 100)
    XCTAssertEqual(calibration.add(0, at: .milliseconds(42)), .milliseconds(42))
  }

  func testFallbackBaseOfNothingIsNegativeInfinity() {
    let calibration = TimeCalibration<Int>(skew: .hours(1), confirmations: 2, limit: 100)
    XCTAssertEqual(calibration.fallbackBase, .negativeInfinity)
  }
}
