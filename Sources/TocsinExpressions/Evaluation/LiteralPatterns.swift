#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The compiled form of a function's literal argument (see ``Builtin/literalArgument``): a PCRE2
/// regex for `matches`, `regex_extract` and `like` (a glob is translated to an anchored regex),
/// or a CIDR block for `in_cidr`. Built once per distinct literal by ``ExprCompiler``.
public enum LiteralPattern {
  case regex(CompiledRegex)
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
