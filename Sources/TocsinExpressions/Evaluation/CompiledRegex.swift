import CPCRE2
import TocsinCore

/// A PCRE2 regular expression compiled once (UTF and Unicode properties on, JIT when the platform
/// supports it) with match limits, so a catastrophically backtracking pattern fails fast instead
/// of stalling the stream.
///
/// The match data is allocated once and reused: an instance is confined to one thread, like the
/// rest of a rule's evaluation state.
public final class CompiledRegex {
  /// Why a pattern did not compile: PCRE2's message and the byte offset into the pattern.
  public struct CompileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// PCRE2's message, e.g. `missing closing parenthesis`.
    public var message: String
    /// Byte offset into the pattern's UTF-8 where PCRE2 stopped.
    public var offset: Int
    public var description: String { "\(message) at offset \(offset)" }
  }

  /// The outcome of one match attempt.
  public enum MatchResult: Equatable, Sendable {
    case matched, notMatched
    /// The match or depth limit (or the JIT stack) ran out: treated as no match, and counted.
    case limitExceeded
  }

  /// The largest number of backtracking steps (`pcre2_set_match_limit`) and the nesting depth
  /// limit (`pcre2_set_depth_limit`) of one match.
  public static let matchLimit: UInt32 = 100_000

  /// Whether the linked PCRE2 was built with JIT support (`PCRE2_CONFIG_JIT`).
  public static let isJITAvailable: Bool = {
    var available: UInt32 = 0
    _ = pcre2_config_8(UInt32(PCRE2_CONFIG_JIT), &available)
    return available == 1
  }()

  /// The pattern as written.
  public let pattern: String
  /// Whether the JIT compiler accepted the pattern.
  public let isJIT: Bool
  /// Number of capture groups.
  public let captureCount: Int
  /// How many times the pattern has been run (for tests of result reuse; wraps around).
  public private(set) var runCount = 0
  /// Results for short subjects (``RegexResultCache``), dropped for good when it stops paying;
  /// `nil` too where short strings are not in the small form. Made with the regex, not with its
  /// first short subject, so that evaluating conditions never allocates (the bench's condition
  /// pass checks it); its table is zeroed pages that cost memory only once touched.
  private var results: RegexResultCache?
  private let code: OpaquePointer
  private let matchData: OpaquePointer
  private let matchContext: OpaquePointer

  /// Compiles `pattern`.
  /// - Throws: ``CompileError`` with PCRE2's message and offset.
  public init(_ pattern: String) throws(CompileError) {
    self.pattern = pattern
    var errorCode: Int32 = 0
    var errorOffset = 0
    let utf8 = Array(pattern.utf8)
    let compiled = utf8.withUnsafeBufferPointer { buffer in
      pcre2_compile_8(
        buffer.baseAddress, buffer.count, PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nil)
    }
    guard let compiled else {
      throw CompileError(message: CompiledRegex.message(for: errorCode), offset: errorOffset)
    }
    code = compiled
    isJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
    var captures: UInt32 = 0
    pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
    captureCount = Int(captures)
    // swift-format-ignore: NeverForceUnwrap — allocation failure is not recoverable here.
    matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)!
    // swift-format-ignore: NeverForceUnwrap
    matchContext = pcre2_match_context_create_8(nil)!
    pcre2_set_match_limit_8(matchContext, CompiledRegex.matchLimit)
    pcre2_set_depth_limit_8(matchContext, CompiledRegex.matchLimit)
    results = SmallString.isAvailable ? RegexResultCache() : nil
  }

  deinit {
    pcre2_match_data_free_8(matchData)
    pcre2_match_context_free_8(matchContext)
    pcre2_code_free_8(code)
  }

  /// Runs the pattern on `subject`; the result's capture offsets stay in the match data.
  private func run(_ subject: inout String) -> Int32 {
    runCount &+= 1
    return subject.withUTF8 { buffer in
      // An empty buffer may have no base address; PCRE2 needs a valid pointer even for length 0.
      let empty: [UInt8] = [0]
      return empty.withUnsafeBufferPointer { fallback in
        let base = buffer.baseAddress ?? fallback.baseAddress
        return isJIT
          ? pcre2_jit_match_8(code, base, buffer.count, 0, 0, matchData, matchContext)
          : pcre2_match_8(code, base, buffer.count, 0, 0, matchData, matchContext)
      }
    }
  }

  private static func isLimit(_ rc: Int32) -> Bool {
    rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT
      || rc == PCRE2_ERROR_HEAPLIMIT
  }

  /// Whether the pattern matches somewhere in `subject`.
  public func matches(_ subject: String) -> MatchResult {
    if let (cache, bits) = resultCache(for: subject) {
      switch cache.find(bits, operation: 0) {
      case .notMatched: return .notMatched
      case .matched, .text: return .matched
      case .missing:
        let result = runMatches(subject)
        if result != .limitExceeded { cache.record(bits, operation: 0, outcome: result == .matched ? .matched : .notMatched) }
        return result
      }
    }
    return runMatches(subject)
  }

  private func runMatches(_ subject: String) -> MatchResult {
    var subject = subject
    let rc = run(&subject)
    if rc >= 0 { return .matched }
    return CompiledRegex.isLimit(rc) ? .limitExceeded : .notMatched
  }

  /// ``results`` and `subject`'s bits when it is a short string and the cache is in use; `nil`
  /// otherwise, and from the review that found the cache unprofitable on.
  @inline(__always)
  private func resultCache(for subject: String) -> (RegexResultCache, (UInt64, UInt64))? {
    guard let results else { return nil }
    guard !results.isUnprofitable else {
      self.results = nil
      return nil
    }
    let bits = SmallString.bits(of: subject)
    return SmallString.isSmall(bits) ? (results, bits) : nil
  }

  /// The outcome of ``extract(_:group:)``.
  public enum ExtractResult: Equatable, Sendable {
    /// The text of the group; `nil` when the pattern matched but the group took no part.
    case matched(String?)
    case notMatched, limitExceeded
  }

  /// The text captured by `group` (0 = the whole match) in the first match in `subject`.
  public func extract(_ subject: String, group: Int) -> ExtractResult {
    if group >= 0, group < Int(UInt32.max), let (cache, bits) = resultCache(for: subject) {
      let operation = UInt32(group) + 1
      switch cache.find(bits, operation: operation) {
      case .notMatched: return .notMatched
      case .matched: return .matched(nil)
      case .text(let text): return .matched(text)
      case .missing:
        let result = runExtract(subject, group: group)
        switch result {
        case .notMatched: cache.record(bits, operation: operation, outcome: .notMatched)
        case .matched(nil): cache.record(bits, operation: operation, outcome: .matched)
        case .matched(let text?):
          // A part of a short string is short: kept as its bits (checked all the same).
          let textBits = SmallString.bits(of: text)
          if SmallString.isSmall(textBits) { cache.record(bits, operation: operation, outcome: .text, text: textBits) }
        case .limitExceeded: break
        }
        return result
      }
    }
    return runExtract(subject, group: group)
  }

  private func runExtract(_ subject: String, group: Int) -> ExtractResult {
    var subject = subject
    let rc = run(&subject)
    if rc < 0 { return CompiledRegex.isLimit(rc) ? .limitExceeded : .notMatched }
    guard group >= 0, group <= captureCount, group < Int(pcre2_get_ovector_count_8(matchData)) else {
      return .matched(nil)
    }
    // swift-format-ignore: NeverForceUnwrap — the match data always has an ovector.
    let ovector = pcre2_get_ovector_pointer_8(matchData)!
    // `size_t` is imported as `Int`, so PCRE2_UNSET (`~(size_t)0`) reads as -1.
    let start = Int(bitPattern: UInt(truncatingIfNeeded: ovector[2 * group]))
    let end = Int(bitPattern: UInt(truncatingIfNeeded: ovector[2 * group + 1]))
    return subject.withUTF8 { buffer in
      guard start >= 0, end >= start, end <= buffer.count else { return .matched(nil) }
      return .matched(String(decoding: buffer[start..<end], as: UTF8.self))
    }
  }

  /// Runs the pattern on `subject` and copies the capture offsets into `captures` (UTF-8 byte
  /// offsets, start and end per group, -1 for a group that took no part). `captures` must hold
  /// `2 * (captureCount + 1)` elements; it is written in place, so the caller can preallocate it.
  public func match(_ subject: String, captures: inout [Int]) -> MatchResult {
    var subject = subject
    let rc = run(&subject)
    if rc < 0 { return CompiledRegex.isLimit(rc) ? .limitExceeded : .notMatched }
    let pairs = min(captures.count / 2, Int(pcre2_get_ovector_count_8(matchData)))
    // swift-format-ignore: NeverForceUnwrap — the match data always has an ovector.
    let ovector = pcre2_get_ovector_pointer_8(matchData)!
    for i in 0..<(2 * pairs) { captures[i] = Int(bitPattern: UInt(truncatingIfNeeded: ovector[i])) }
    for i in (2 * pairs)..<captures.count { captures[i] = -1 }
    return .matched
  }

  /// PCRE2's text for an error code.
  private static func message(for code: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let length = buffer.withUnsafeMutableBufferPointer {
      pcre2_get_error_message_8(code, $0.baseAddress, $0.count)
    }
    guard length > 0 else { return "error \(code)" }
    return String(decoding: buffer[..<Int(length)], as: UTF8.self)
  }
}
