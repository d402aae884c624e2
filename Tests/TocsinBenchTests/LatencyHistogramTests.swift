@testable import TocsinApp
import XCTest

/// The log-linear latency histogram: bucket layout and percentiles, by table.
final class LatencyHistogramTests: XCTestCase {
  private func histogram(_ values: [UInt64]) -> LatencyHistogram {
    var h = LatencyHistogram()
    for v in values { h.record(v) }
    return h
  }

  /// `(values, quantile, expected)` rows; expected values are the top of the bucket holding the
  /// ⌈q·n⌉-th smallest value, clamped to the recorded range, worked out by hand from the layout
  /// (exact below 64; buckets 2^(k−5) wide in [2^k, 2^(k+1)) above).
  func testPercentile_Table() {
    let hundred = Array(UInt64(1)...100)
    let cases: [(values: [UInt64], q: Double, expected: UInt64?, line: UInt)] = [
      ([], 0.5, nil, #line),
      ([7], 0, 7, #line),
      ([7], 1, 7, #line),
      ([0, 0, 0], 0.99, 0, #line),
      ([1, 2, 3, 4], 0.5, 2, #line),  // exact region: 2nd of 4
      ([1, 2, 3, 4], 0.75, 3, #line),
      ([1, 2, 3, 4], 1, 4, #line),
      (hundred, 0.5, 50, #line),  // exact below 64
      (hundred, 0.99, 99, #line),  // 99 is in [98, 99]
      (hundred, 0.10, 10, #line),
      (hundred, 1, 100, #line),  // [100, 103] clamped to the maximum
      ([1_250, 1_000_000], 0.5, 1_279, #line),  // [1248, 1279]
      ([1_250, 1_000_000], 1, 1_000_000, #line),  // [999424, 1015807] clamped
      ([1_000, 1_000, 1_000, 50_000], 0.75, 1_007, #line),  // [992, 1007]
      ([1_000, 1_000, 1_000, 50_000], 0.76, 50_000, #line),
      ([UInt64.max], 0.5, UInt64.max, #line),
    ]
    for c in cases {
      XCTAssertEqual(histogram(c.values).percentile(c.q), c.expected, "q \(c.q) of \(c.values.prefix(5))", line: c.line)
    }
  }

  /// Every bucket is contiguous with the next, and the value's bucket contains it.
  func testBuckets_ContiguousAndContaining() {
    var next: UInt64 = 0
    for index in 0..<LatencyHistogram.bucketCount {
      let range = LatencyHistogram.range(ofBucket: index)
      XCTAssertEqual(range.lowerBound, next, "bucket \(index)")
      XCTAssertEqual(LatencyHistogram.bucket(of: range.lowerBound), index)
      XCTAssertEqual(LatencyHistogram.bucket(of: range.upperBound), index)
      if range.upperBound == .max {
        XCTAssertEqual(index, LatencyHistogram.bucketCount - 1)
        return
      }
      next = range.upperBound + 1
    }
    XCTFail("the buckets do not reach UInt64.max")
  }

  /// A bucket above the exact region is at most 1/32 of its lower bound wide.
  func testBuckets_RelativeWidth() {
    for value: UInt64 in [32, 33, 63, 64, 1_000, 123_456, 9_876_543_210, UInt64.max / 3] {
      let range = LatencyHistogram.range(ofBucket: LatencyHistogram.bucket(of: value))
      XCTAssertLessThanOrEqual(
        Double(range.upperBound - range.lowerBound + 1) / Double(range.lowerBound), 1.0 / 32, "\(value)")
    }
  }

  func testCountMinimumMaximum() {
    let h = histogram([5, 900, 3])
    XCTAssertEqual(h.count, 3)
    XCTAssertEqual(h.minimum, 3)
    XCTAssertEqual(h.maximum, 900)
  }
}
