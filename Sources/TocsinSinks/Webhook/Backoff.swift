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

/// A small seeded generator (splitmix64, Steele, Lea and Flood 2014): fast, 64-bit state, good
/// enough for jitter; not for cryptography.
public struct SplitMix64: Sendable {
  private var state: UInt64

  /// A generator that produces the same sequence for the same seed.
  public init(seed: UInt64) {
    state = seed
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A value in `0 ... upperBound` (inclusive), by multiply-shift (bias below 2⁻³²).
  public mutating func next(upTo upperBound: UInt64) -> UInt64 {
    guard upperBound < UInt64.max else { return next() }
    return next().multipliedFullWidth(by: upperBound + 1).high
  }
}
