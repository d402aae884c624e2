#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

import TocsinCore

/// The compiled form of a function's literal argument (see ``Builtin/literalArgument``): a PCRE2
/// regex for `matches` and `regex_extract`; for `like`, a byte matcher when the glob has no `?`
/// (``StarGlob``: `"m1*"`, `"*.png"`, `"/api/*/admin"`) and otherwise an anchored regex; a CIDR
/// block for `in_cidr`. Built once per distinct literal by ``ExprCompiler``.
public enum LiteralPattern {
  case regex(CompiledRegex)
  case glob(StarGlob)
  case cidr(CIDRBlock)

  /// Why a literal is not a valid pattern.
  public enum Problem: Error, Hashable, Sendable {
    /// PCRE2 rejected the regex; `offset` is a byte offset into the pattern.
    case regex(message: String, offset: Int)
    /// Not `ADDRESS/PREFIX` with an IPv4 or IPv6 address and a prefix length that fits it.
    case cidr
  }

  /// Compiles the literal argument of `function`.
  public static func compile(_ function: Builtin, _ literal: String) -> Result<LiteralPattern, Problem> {
    switch function {
    case .inCidr:
      guard let block = CIDRBlock(literal) else { return .failure(.cidr) }
      return .success(.cidr(block))
    case .like:
      if let glob = StarGlob(literal) { return .success(.glob(glob)) }
      return compileRegex(Glob.regexPattern(for: literal))
    default:
      return compileRegex(literal)
    }
  }

  private static func compileRegex(_ pattern: String) -> Result<LiteralPattern, Problem> {
    do {
      return .success(.regex(try CompiledRegex(pattern)))
    } catch {
      return .failure(.regex(message: error.message, offset: error.offset))
    }
  }
}

/// `like` globs: `*` is any run of characters, `?` one character, everything else is literal.
public enum Glob {
  /// An anchored PCRE2 pattern equivalent to `glob` (dot matches newline).
  public static func regexPattern(for glob: String) -> String {
    var out = "(?s)\\A"
    for scalar in glob.unicodeScalars {
      switch scalar {
      case "*": out += ".*"
      case "?": out += "."
      default:
        let isWord = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_"
        if !isWord && scalar.isASCII { out += "\\" }
        out.unicodeScalars.append(scalar)
      }
    }
    return out + "\\z"
  }
}

/// A `like` glob whose only wildcard is `*`, matched on UTF-8 bytes without a regex.
///
/// The glob is cut at its stars into literal pieces. A string matches when it begins with the
/// first piece (unless the glob begins with `*`), ends with the last (unless the glob ends with
/// `*`), and holds the pieces between, in order, without overlap, in what is left: each found
/// at its leftmost place, which is never worse for the pieces after it. Byte comparison is code
/// point comparison (UTF-8 is self-synchronising: a valid sequence found in a valid string
/// starts and ends on code point boundaries), which is what the regex form compares, with no
/// case folding or normalisation either way.
///
/// Why: the common globs (`"m1*"`, `"*.png"`) are a prefix or a suffix test, a few
/// nanoseconds; through PCRE2 each call cost ~170 instructions (W2's `w2_night_spree`).
public struct StarGlob: Hashable, Sendable {
  /// The literal pieces between stars, in order (empty pieces dropped, except for a glob with
  /// no star: its one piece is the whole string).
  let pieces: [[UInt8]]
  /// The glob has no star: the string must equal its one piece.
  let isExact: Bool
  /// The first piece must start the string (the glob does not begin with `*`).
  let anchoredStart: Bool
  /// The last piece must end the string (the glob does not end with `*`).
  let anchoredEnd: Bool
  /// A glob that is one piece of at most 15 bytes, whole (`"abc"`) or a prefix (`"m1*"`), as
  /// the words of a short string (``SmallString``): a short subject is then tested from its
  /// bits, two masked compares, where the byte path cost ~150 instructions a call (W2's
  /// `like(merchant, "m1*")` on every purchase). `nil` for any other glob, and where short
  /// strings are not in the small form.
  let short: Short?

  struct Short: Hashable, Sendable {
    let low: UInt64
    let high: UInt64
    let lowMask: UInt64
    let highMask: UInt64
    let count: Int
    /// The subject must be the piece itself (no star), not start with it.
    let isWhole: Bool
  }

  /// The matcher for `glob`, or `nil` if it holds a `?` (one character: left to the regex form).
  public init?(_ glob: String) {
    let bytes = Array(glob.utf8)
    guard !bytes.contains(UInt8(ascii: "?")) else { return nil }
    let star = UInt8(ascii: "*")
    isExact = !bytes.contains(star)
    anchoredStart = bytes.first != star
    anchoredEnd = bytes.last != star
    pieces =
      isExact
      ? [bytes] : bytes.split(separator: star, omittingEmptySubsequences: true).map(Array.init)
    let isPrefix = anchoredStart && !anchoredEnd && pieces.count == 1
    if SmallString.isAvailable, isExact || isPrefix, pieces[0].count <= SmallString.maxBytes {
      let piece = pieces[0]
      let (low, high) = SmallString.words(piece)
      let (lowMask, highMask) = SmallString.words(Array(repeating: 0xFF, count: piece.count))
      short = Short(low: low, high: high, lowMask: lowMask, highMask: highMask, count: piece.count, isWhole: isExact)
    } else {
      short = nil
    }
  }

  /// Whether the whole of `subject` matches the glob.
  public func matches(_ subject: String) -> Bool {
    if let short {
      let bits = SmallString.bits(of: subject)
      if SmallString.isSmall(bits) {
        let (low, high, count) = SmallString.contents(bits)
        // Past its count a short string's bytes are zero, so a whole match is equal words.
        guard short.isWhole ? count == short.count : count >= short.count else { return false }
        return low & short.lowMask == short.low && high & short.highMask == short.high
      }
    }
    var subject = subject
    return subject.withUTF8 { matches(UnsafeRawBufferPointer($0)) }
  }

  /// Whether the whole of `bytes` (UTF-8) matches the glob.
  func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
    if isExact { return bytes.elementsEqual(pieces[0]) }
    var low = 0
    var high = bytes.count
    var first = 0
    var end = pieces.count
    if anchoredStart, let piece = pieces.first {
      guard Self.occurs(piece, in: bytes, at: 0) else { return false }
      low = piece.count
      first = 1
    }
    if anchoredEnd, end > first, let piece = pieces.last {
      guard high - low >= piece.count, Self.occurs(piece, in: bytes, at: high - piece.count) else { return false }
      high -= piece.count
      end -= 1
    }
    for i in first..<end {
      guard let found = Self.find(pieces[i], in: bytes, from: low, before: high) else { return false }
      low = found + pieces[i].count
    }
    return low <= high
  }

  /// Whether `piece` lies in `bytes` at `offset` (the caller checked it fits).
  private static func occurs(_ piece: [UInt8], in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
    guard offset >= 0, offset + piece.count <= bytes.count, let base = bytes.baseAddress else { return false }
    return piece.withUnsafeBytes { needle in
      guard let start = needle.baseAddress else { return true }  // an empty piece lies anywhere
      return memcmp(start, base + offset, piece.count) == 0
    }
  }

  /// The leftmost offset in `low..<high` at which `piece` lies wholly before `high`.
  private static func find(_ piece: [UInt8], in bytes: UnsafeRawBufferPointer, from low: Int, before high: Int) -> Int? {
    guard high - low >= piece.count, let base = bytes.baseAddress else { return nil }
    let lead = Int32(piece[0])
    var at = low
    let last = high - piece.count
    while at <= last {
      // The next place the piece's first byte occurs, then the rest compared.
      guard let hit = memchr(base + at, lead, last - at + 1) else { return nil }
      at = base.distance(to: UnsafeRawPointer(hit))
      if occurs(piece, in: bytes, at: at) { return at }
      at += 1
    }
    return nil
  }
}

/// An IPv4 or IPv6 address block, `10.0.0.0/8` or `2001:db8::/32`.
public struct CIDRBlock: Hashable, Sendable {
  /// The network address, 4 or 16 bytes.
  public let address: [UInt8]
  /// The number of leading bits that must match.
  public let prefixLength: Int

  /// Parses `ADDRESS/PREFIX`; `nil` if malformed or the prefix is longer than the address.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let bytes = CIDRBlock.parseAddress(String(parts[0])),
      !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].count <= 3,
      let length = Int(parts[1]), length <= bytes.count * 8
    else { return nil }
    address = bytes
    prefixLength = length
  }

  /// The 4 or 16 bytes of an IPv4 or IPv6 address, or `nil`.
  public static func parseAddress(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if text.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
      return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if text.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 {
      return withUnsafeBytes(of: &v6) { Array($0) }
    }
    return nil
  }

  /// Whether `ip` lies in the block; `nil` if it is not an IP address. An IPv4-mapped IPv6
  /// address (`::ffff:10.1.2.3`) is tested as IPv4 against an IPv4 block; otherwise an address
  /// of the other family is not in the block.
  public func contains(_ ip: String) -> Bool? {
    if address.count == 4 {
      var v4 = in_addr()
      if ip.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
        return withUnsafeBytes(of: &v4) { matches(UnsafeRawBufferPointer(rebasing: $0[...])) }
      }
    }
    var v6 = in6_addr()
    if ip.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 {
      return withUnsafeBytes(of: &v6) { bytes in
        if address.count == 16 { return matches(bytes) }
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
        guard bytes.prefix(12).elementsEqual(mapped) else { return false }
        return matches(UnsafeRawBufferPointer(rebasing: bytes[12...]))
      }
    }
    if address.count == 16, CIDRBlock.isIPv4(ip) { return false }
    return nil
  }

  private static func isIPv4(_ ip: String) -> Bool {
    var v4 = in_addr()
    return ip.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1
  }

  private func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var remaining = prefixLength
    var i = 0
    while remaining > 0 {
      let bits = Swift.min(8, remaining)
      let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
      if bytes[i] & mask != address[i] & mask { return false }
      remaining -= bits
      i += 1
    }
    return true
  }
}
