#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

import TocsinCore

/// The results of one regex for short subjects: a direct-mapped table keyed by the subject's
/// bits in the standard library's small form (``SmallString``: at most 15 UTF-8 bytes, held
/// inline in the string's two words, canonical, so equal bits are equal strings).
///
/// Why: the fields regexes test are mostly short and repeat — a page path, a merchant id, a
/// status, a country — and a PCRE2 run with its call costs ~300 instructions, plus ~130 to make
/// an extracted group's string, where a hit here costs a hash, one cache line and a compare
/// (W2's `regex_extract(merchant, "^m([0-9]{2})[0-9]{2}$", 1) == "00"` runs on every purchase).
/// A result is a pure function of the pattern and the subject, so a hit returns exactly what a
/// run would; a run that hit the match limit is not kept (each such call is counted again).
///
/// The table holds ``capacity`` entries (40 bytes each: ~160 KiB per regex, allocated zeroed
/// with the regex, so memory only for the pages its subjects touch). It stops paying when the field rarely repeats (client IPs, ids): after
/// each ``reviewEvery`` lookups, a table whose hits were under a quarter of them is freed, and
/// the regex runs every time from then on. Confined to one thread, like ``CompiledRegex``.
final class RegexResultCache {
  /// Entries (a power of two).
  static let capacity = 4096
  /// Lookups between two reviews of the hit rate.
  static let reviewEvery = 8192

  /// What an entry records: the subject's bits and the operation (0 for `matches`, the group
  /// number plus one for `regex_extract`) make the key; `outcome` is 0 for an empty entry.
  struct Entry {
    var subject0: UInt64
    var subject1: UInt64
    var operation: UInt32
    /// An ``Outcome``'s raw value; 0 for an empty entry.
    var outcome: UInt32
    var text0: UInt64
    var text1: UInt64
  }

  /// What a run found, as an entry keeps it.
  enum Outcome: UInt32 {
    case notMatched = 1
    /// Matched (and for an extract, the group took no part).
    case matched = 2
    /// Matched, with the group's text in the entry (a short string's bits).
    case text = 3
  }

  /// What a lookup found.
  enum Found {
    case missing
    case notMatched
    case matched
    /// Matched; the group's text (for an extract).
    case text(String)
  }

  private let entries: UnsafeMutablePointer<Entry>
  private var lookups = 0
  private var hits = 0
  /// The hit rate fell under a quarter: the owner should drop the cache.
  private(set) var isUnprofitable = false

  init() {
    // Zeroed memory is a table of empty entries (`outcome` 0): `calloc` gives it without writing
    // 160 KiB, so a regex that runs a few times pays only for the pages it touches.
    guard let raw = calloc(Self.capacity, MemoryLayout<Entry>.stride) else {
      fatalError("out of memory: a regex result table")
    }
    entries = raw.bindMemory(to: Entry.self, capacity: Self.capacity)
  }

  deinit {
    free(entries)
  }

  /// The entry that `operation` on the subject with bits `bits` uses.
  @inline(__always)
  static func index(_ bits: (UInt64, UInt64), operation: UInt32) -> Int {
    // A multiply carries a word's low bytes into its high bits only: the index is taken from the
    // top of the second product, which every byte of the subject reaches.
    var h = (bits.0 ^ (bits.1 << 32 | bits.1 >> 32) ^ UInt64(operation)) &* 0x9E37_79B9_7F4A_7C15
    h = (h ^ h >> 32) &* 0xC2B2_AE3D_27D4_EB4F
    return Int(truncatingIfNeeded: h >> UInt64(64 - capacity.trailingZeroBitCount))
  }

  @inline(__always)
  private func slot(_ bits: (UInt64, UInt64), _ operation: UInt32) -> UnsafeMutablePointer<Entry> {
    entries + Self.index(bits, operation: operation)
  }

  /// The recorded result of `operation` on the short subject with bits `bits`.
  @inline(__always)
  func find(_ bits: (UInt64, UInt64), operation: UInt32) -> Found {
    lookups &+= 1
    if lookups == Self.reviewEvery { review() }
    let e = slot(bits, operation)
    guard e.pointee.outcome != 0, e.pointee.subject0 == bits.0, e.pointee.subject1 == bits.1,
      e.pointee.operation == operation
    else { return .missing }
    hits &+= 1
    switch Outcome(rawValue: e.pointee.outcome) {
    case .notMatched: return .notMatched
    case .matched: return .matched
    case .text: return .text(SmallString.string(bits: (e.pointee.text0, e.pointee.text1)))
    case nil: return .missing  // an empty entry (`outcome` 0), ruled out above
    }
  }

  /// Records that `operation` on the subject with bits `bits` found `outcome`; for `.text`,
  /// the group's text is `text` (a short string's bits).
  @inline(__always)
  func record(_ bits: (UInt64, UInt64), operation: UInt32, outcome: Outcome, text: (UInt64, UInt64) = (0, 0)) {
    slot(bits, operation).pointee = Entry(
      subject0: bits.0, subject1: bits.1, operation: operation, outcome: outcome.rawValue, text0: text.0, text1: text.1)
  }

  private func review() {
    if hits &* 4 < lookups { isUnprofitable = true }
    lookups = 0
    hits = 0
  }
}
