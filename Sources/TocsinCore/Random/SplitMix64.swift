/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): a tiny seeded 64-bit generator; not for cryptography.
///
/// Used for webhook retry jitter, to expand one seed into the state of the workload generator
/// (which is xoshiro256**: SplitMix64's period is only 2⁶⁴ and consecutive seeds give related
/// streams), and by property tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator whose output depends only on `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 pseudo-random bits.
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
