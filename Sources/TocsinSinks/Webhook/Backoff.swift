import TocsinCore

/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
/// Jitter", 2015): before retry `n` (0-based) wait a uniformly random time in
/// `0 ... min(maximum, initial × 2ⁿ)`.
///
/// Full jitter spreads the retries of many clients over the whole window, so a recovering
/// endpoint is not hit by synchronised waves. The randomness comes from a seeded generator, so a
/// test (or a reproduction) gets the same schedule for the same seed.
public struct Backoff: Hashable, Sendable {
  /// The ceiling of the first wait.
  public var initial: Duration
  /// The largest ceiling.
  public var maximum: Duration

  /// Creates a policy; `maximum` is raised to `initial` if smaller.
  public init(initial: Duration, maximum: Duration) {
    self.initial = max(initial, .zero)
    self.maximum = max(maximum, self.initial)
  }

  /// The ceiling before retry `attempt` (0-based): `min(maximum, initial × 2^attempt)`.
  public func ceiling(attempt: Int) -> Duration {
    let base = initial.nanosecondsClamped
    let cap = maximum.nanosecondsClamped
    let shift = UInt64(min(max(attempt, 0), 62))
    // Doubling past the cap (or overflowing) is the cap.
    let scaled = base == 0 ? 0 : (base > cap >> shift ? cap : base << shift)
    return .nanoseconds(Int64(clamping: min(scaled, cap)))
  }

  /// The wait before retry `attempt`: uniform in `0 ... ceiling(attempt)`, drawn from `random`.
  public func delay(attempt: Int, using random: inout SplitMix64) -> Duration {
    let ceiling = ceiling(attempt: attempt).nanosecondsClamped
    guard ceiling > 0 else { return .zero }
    return .nanoseconds(Int64(clamping: random.next(upTo: ceiling)))
  }
}
