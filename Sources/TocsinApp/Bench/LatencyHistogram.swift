/// A log-linear histogram of non-negative integers (nanoseconds), for latency percentiles.
///
/// Values below 2^``precisionBits`` get a bucket each. Above that, every power-of-two range
/// `[2^k, 2^(k+1))` is split into 2^``precisionBits`` equal buckets, so a bucket is at most
/// 1/32 of its values wide: a reported percentile is within 3.2% of the exact one (the
/// HdrHistogram layout with a fixed 32 sub-buckets). 1,920 counters cover all of `UInt64`, so
/// recording never allocates and never saturates.
///
///     var histogram = LatencyHistogram()
///     histogram.record(1_250)
///     histogram.record(1_000_000)
///     histogram.percentile(0.5)    // 1_279: the top of 1_250's bucket, 1_248…1_279
///
/// - Complexity: ``record(_:)`` O(1); ``percentile(_:)`` O(buckets).
public struct LatencyHistogram: Sendable, Equatable {
  /// Bits of precision below the leading one bit: 2^5 = 32 sub-buckets per power of two.
  public static let precisionBits = 5
  private static let subBuckets = 1 << precisionBits
  /// Enough buckets for every `UInt64`: the exact range plus 59 ranges of 32.
  static let bucketCount = (64 - precisionBits + 1) * subBuckets

  private var counts: [UInt64]
  /// Values recorded.
  public private(set) var count: UInt64 = 0
  /// The smallest value recorded (`UInt64.max` while empty).
  public private(set) var minimum: UInt64 = .max
  /// The largest value recorded (0 while empty).
  public private(set) var maximum: UInt64 = 0

  /// An empty histogram.
  public init() { counts = Array(repeating: 0, count: Self.bucketCount) }

  /// The bucket holding `value`.
  @inline(__always)
  static func bucket(of value: UInt64) -> Int {
    if value < UInt64(subBuckets) { return Int(value) }
    let shift = (63 - value.leadingZeroBitCount) - precisionBits
    let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
    return (shift + 1) * subBuckets + sub
  }

  /// The values bucket `index` holds: `lower...upper`.
  static func range(ofBucket index: Int) -> ClosedRange<UInt64> {
    if index < subBuckets { return UInt64(index)...UInt64(index) }
    let shift = UInt64(index / subBuckets - 1)
    let lower = UInt64(subBuckets + index % subBuckets) << shift
    return lower...(lower + ((1 << shift) - 1))
  }

  /// Adds one value.
  @inline(__always)
  public mutating func record(_ value: UInt64) {
    counts[Self.bucket(of: value)] &+= 1
    count &+= 1
    if value < minimum { minimum = value }
    if value > maximum { maximum = value }
  }

  /// The value at quantile `q` (0…1): the highest value of the bucket holding the
  /// ⌈q·count⌉-th smallest value (at least the first), clamped to the recorded minimum and
  /// maximum. `nil` while empty.
  public func percentile(_ q: Double) -> UInt64? {
    guard count > 0 else { return nil }
    let wanted = max(1, UInt64((min(1, max(0, q)) * Double(count)).rounded(.up)))
    var seen: UInt64 = 0
    for (index, n) in counts.enumerated() where n > 0 {
      seen += n
      if seen >= wanted {
        return min(maximum, max(minimum, Self.range(ofBucket: index).upperBound))
      }
    }
    return maximum
  }
}
