#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A point in processing time: nanoseconds on the monotonic clock.
///
/// Sinks deal in processing time (timeouts, backoff, breaker cool-down), never event time, so
/// they use this rather than ``EventTime``. State machines take it as an argument instead of
/// reading the clock, so tests drive them with a manual clock.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// Nanoseconds since an unspecified start (boot, on Linux).
  public var nanoseconds: UInt64

  /// A time `nanoseconds` after the clock's origin.
  public init(nanoseconds: UInt64) {
    self.nanoseconds = nanoseconds
  }

  /// The current time of `CLOCK_MONOTONIC`.
  public static func now() -> MonotonicTime {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return MonotonicTime(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
  }

  /// This time moved forward by `duration` (saturating; negative durations count as zero).
  public func advanced(by duration: Duration) -> MonotonicTime {
    MonotonicTime(nanoseconds: nanoseconds &+ duration.nanosecondsClamped)
  }

  /// How long from `self` until `later` (zero if `later` is earlier).
  public func duration(to later: MonotonicTime) -> Duration {
    later.nanoseconds > nanoseconds ? .nanoseconds(Int64(clamping: later.nanoseconds - nanoseconds)) : .zero
  }

  public static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

  public var description: String { "\(nanoseconds)ns" }
}

extension Duration {
  /// Whole nanoseconds, clamped to `0...UInt64.max / 4` (about 146 years) so sums cannot wrap.
  var nanosecondsClamped: UInt64 {
    let (seconds, attoseconds) = components
    guard seconds >= 0 else { return 0 }
    let whole = UInt64(clamping: seconds)
    guard whole < UInt64.max / 4_000_000_000 else { return UInt64.max / 4 }
    return whole * 1_000_000_000 + UInt64(clamping: attoseconds / 1_000_000_000)
  }

  /// Milliseconds, rounded down, clamped to `Int32` (for `poll(2)`).
  var pollMilliseconds: Int32 { Int32(clamping: nanosecondsClamped / 1_000_000) }
}
