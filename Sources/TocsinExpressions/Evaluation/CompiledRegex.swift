import CPCRE2

/// A PCRE2 regular expression compiled once (UTF-8, Unicode properties, JIT when available) with
/// its match data allocated once, for `matches` and `regex_extract`.
///
/// Matching is bounded: a match limit and a depth limit stop catastrophic backtracking, and a
/// search that hits them reports ``MatchResult/limitExceeded`` (the condition is then false and
/// counted) instead of running for minutes. Not thread-safe: each shard compiles its own rules.
public final class CompiledRegex {
  /// Why a pattern did not compile.
  public struct CompileError: Error, Equatable {
    /// PCRE2's message.
    public var message: String
    /// Byte offset in the pattern where PCRE2 stopped.
    public var offset: Int
  }

  /// The outcome of one search.
  public enum MatchResult: Equatable {
    /// The pattern matched; the captured group's text when one was asked for.
    case matched(String?)
    /// No match.
    case noMatch
    /// The match or depth limit was hit (catastrophic backtracking).
    case limitExceeded
  }

  /// The largest number of backtracking steps one search may take.
  public static let matchLimit: UInt32 = 100_000
  /// The deepest backtracking recursion one search may use.
  public static let depthLimit: UInt32 = 10_000

  /// The pattern's source text.
  public let pattern: String
  /// Whether the JIT compiler accepted the pattern.
  public let isJIT: Bool
  private let code: OpaquePointer
  private let matchData: OpaquePointer
  private let matchContext: OpaquePointer

  /// Compiles `pattern`.
  /// - Throws: ``CompileError`` with PCRE2's message and the error offset.
  public init(_ pattern: String) throws(CompileError) {
    var errorCode: Int32 = 0
    var errorOffset: Int = 0
    let compiled = pattern.withCString { p in
      p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
        pcre2_compile_8(
          bytes, pattern.utf8.count, UInt32(PCRE2_UTF | PCRE2_UCP), &errorCode, &errorOffset, nil)
      }
    }
    guard let compiled else {
      throw CompileError(message: Self.message(for: errorCode), offset: errorOffset)
    }
    guard let data = pcre2_match_data_create_from_pattern_8(compiled, nil),
      let context = pcre2_match_context_create_8(nil)
    else {
      pcre2_code_free_8(compiled)
      throw CompileError(message: "out of memory", offset: 0)
    }
    pcre2_set_match_limit_8(context, Self.matchLimit)
    pcre2_set_depth_limit_8(context, Self.depthLimit)
    self.pattern = pattern
    self.code = compiled
    self.matchData = data
    self.matchContext = context
    self.isJIT = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
  }

  deinit {
    pcre2_match_data_free_8(matchData)
    pcre2_match_context_free_8(matchContext)
    pcre2_code_free_8(code)
  }

  /// Searches `subject`; with `group`, also returns that capture group's text (nil when the
  /// group did not participate or does not exist).
  public func match(_ subject: String, group: Int? = nil) -> MatchResult {
    var subject = subject
    let rc: Int32 = subject.withUTF8 { buffer in
      // An empty native string may have no base address; PCRE2 accepts any pointer for 0 bytes.
      let empty: [UInt8] = [0]
      return empty.withUnsafeBufferPointer { fallback in
        let base = buffer.baseAddress ?? fallback.baseAddress.map { UnsafePointer($0) }
        return isJIT
          ? pcre2_jit_match_8(code, base, buffer.count, 0, 0, matchData, matchContext)
          : pcre2_match_8(code, base, buffer.count, 0, 0, matchData, matchContext)
      }
    }
    if rc == PCRE2_ERROR_NOMATCH { return .noMatch }
    if rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT {
      return .limitExceeded
    }
    guard rc >= 0 else { return .noMatch }
    guard let group else { return .matched(nil) }
    guard group >= 0, rc == 0 || group < Int(rc) else { return .matched(nil) }
    guard let ovector = pcre2_get_ovector_pointer_8(matchData) else { return .matched(nil) }
    let count = Int(pcre2_get_ovector_count_8(matchData))
    guard group < count else { return .matched(nil) }
    // PCRE2_UNSET is (size_t)-1, which Swift imports as -1.
    let start = ovector[2 * group]
    let end = ovector[2 * group + 1]
    guard start >= 0, end >= start else { return .matched(nil) }
    let bytes = Array(subject.utf8)[Int(start)..<Int(end)]
    return .matched(String(decoding: bytes, as: UTF8.self))
  }

  private static func message(for code: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
    return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "error \(code)"
  }
}
