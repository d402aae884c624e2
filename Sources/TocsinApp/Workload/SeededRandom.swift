import TocsinCore

/// xoshiro256**: the seeded generator behind every workload Tocsin produces.
///
/// Swift's `SystemRandomNumberGenerator` cannot be seeded, so it can never feed a reproducible
/// workload. This generator's output is a pure function of `(seed, stream)` on every platform,
/// which is what makes `PaymentStream.generate` byte-for-byte reproducible.
///
/// `stream` separates independent uses of one user-visible seed (event content versus arrival
/// order), so changing the arrival seed never changes the events themselves.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// A generator seeded from `seed` and a stream tag, expanded through ``SplitMix64``.
  public init(seed: UInt64, stream: UInt64 = 0) {
    var mixer = SplitMix64(seed: seed ^ (stream &* 0xd1b5_4a32_d192_ed03))
    s0 = mixer.next()
    s1 = mixer.next()
    s2 = mixer.next()
    s3 = mixer.next()
    // The all-zero state is the one fixed point; SplitMix64 cannot produce four zeros in a row,
    // but guard anyway so the invariant is local.
    if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
  }

  /// The next 64 pseudo-random bits.
  @inline(__always)
  public mutating func next() -> UInt64 {
    let result = rotateLeft(s1 &* 5, by: 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotateLeft(s3, by: 45)
    return result
  }

  /// A uniform integer in `0..<bound` (Lemire's multiply-shift; the bias is below 2⁻³² for the
  /// bounds a workload uses, and, unlike rejection, it draws exactly one word per call, which
  /// keeps streams aligned when a bound changes).
  ///
  /// - Precondition: `bound > 0`.
  @inline(__always)
  public mutating func below(_ bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive")
    return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
  }

  /// A uniform integer in `range`.
  @inline(__always)
  public mutating func between(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + below(range.upperBound - range.lowerBound + 1)
  }

  /// `true` with probability `percent / 100`.
  @inline(__always)
  public mutating func chance(percent: Int) -> Bool { below(100) < percent }
}

/// `x` rotated left by `k` bits, `0 < k < 64`.
@inline(__always)
private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
