import TocsinCore

/// Mutable per-rule evaluation state shared by a rule's compiled expressions.
///
/// It carries the partition key of the match being evaluated (set by the runtime before it
/// evaluates a key's partial matches) and counts run-time type errors, which make a condition
/// false but never abort the stream. One context per rule and shard; not thread-safe.
public final class EvalContext {
  /// The key of the partial matches being evaluated, as the `key` expression sees it.
  public var key: Value = .null
  /// For a condition compiled against kept values (``ExprCompiler/kept``): the kept values of
  /// the partial match under test, set by the caller before each evaluation.
  public var keptValues: UnsafePointer<Value>?
  /// For such a condition: the time of the kept step's event.
  public var keptTime = EventTime(nanosecondsSinceEpoch: 0)
  /// Number of evaluations that hit a type error (e.g. comparing a string with a number).
  public private(set) var typeErrors: Int = 0
  /// Number of arithmetic errors (division by zero, overflow to non-finite).
  public private(set) var arithmeticErrors: Int = 0
  /// Number of regex matches (`matches`, `regex_extract`, `like`) that ran out of PCRE2's match
  /// limit; each made its condition false.
  public private(set) var regexLimitHits: Int = 0
  /// The pattern of the first regex that ran out of its match limit, for the run summary.
  public private(set) var firstRegexLimitPattern: String?
  /// The first type error's description, for the run summary.
  public private(set) var firstTypeError: String?

  /// Every error recorded so far (type, arithmetic, regex limit): compared before and after an
  /// evaluation, whether it recorded any.
  @inlinable
  public var recordedErrors: Int { typeErrors &+ arithmeticErrors &+ regexLimitHits }

  /// A fresh context.
  public init() {}

  /// Records a type error; the message is built only for the first one.
  @inline(never)
  public func recordTypeError(_ message: @autoclosure () -> String) {
    typeErrors += 1
    if firstTypeError == nil { firstTypeError = message() }
  }

  /// Records a regex match that exceeded PCRE2's match or depth limit.
  @inline(never)
  public func recordRegexLimit(pattern: String) {
    regexLimitHits += 1
    if firstRegexLimitPattern == nil { firstRegexLimitPattern = pattern }
  }

  /// Sets the counters to values saved in a checkpoint (a resumed run continues counting).
  public func restoreCounts(
    typeErrors: Int, arithmeticErrors: Int, regexLimitHits: Int, firstTypeError: String?,
    firstRegexLimitPattern: String?
  ) {
    self.typeErrors = typeErrors
    self.arithmeticErrors = arithmeticErrors
    self.regexLimitHits = regexLimitHits
    self.firstTypeError = firstTypeError
    self.firstRegexLimitPattern = firstRegexLimitPattern
  }

  /// Records an arithmetic error.
  @inline(never)
  public func recordArithmeticError() { arithmeticErrors += 1 }

  /// The error counters as they are now, for ``forgetErrors(since:)``.
  /// Inlinable: taken before every quick start check, where a call cost ~25 instructions per W1
  /// event.
  public struct ErrorMark {
    @usableFromInline let typeErrors: Int
    @usableFromInline let arithmeticErrors: Int
    @usableFromInline let regexLimitHits: Int
    @usableFromInline let hadFirstTypeError: Bool
    @usableFromInline let hadFirstRegexLimit: Bool

    @inlinable init(
      typeErrors: Int, arithmeticErrors: Int, regexLimitHits: Int, hadFirstTypeError: Bool, hadFirstRegexLimit: Bool
    ) {
      self.typeErrors = typeErrors
      self.arithmeticErrors = arithmeticErrors
      self.regexLimitHits = regexLimitHits
      self.hadFirstTypeError = hadFirstTypeError
      self.hadFirstRegexLimit = hadFirstRegexLimit
    }

    /// ``EvalContext/recordedErrors`` at the mark.
    @inlinable public var recordedErrors: Int { typeErrors &+ arithmeticErrors &+ regexLimitHits }
  }

  /// A mark of the error counters now.
  @inlinable
  public var errorMark: ErrorMark {
    ErrorMark(
      typeErrors: typeErrors, arithmeticErrors: arithmeticErrors, regexLimitHits: regexLimitHits,
      hadFirstTypeError: firstTypeError != nil, hadFirstRegexLimit: firstRegexLimitPattern != nil)
  }

  /// Forgets the errors recorded since `mark`: for an evaluation made ahead of one that will
  /// meet the same errors again (a quick start check before the walk of the same start step),
  /// so that each is counted once.
  public func forgetErrors(since mark: ErrorMark) {
    typeErrors = mark.typeErrors
    arithmeticErrors = mark.arithmeticErrors
    regexLimitHits = mark.regexLimitHits
    if !mark.hadFirstTypeError { firstTypeError = nil }
    if !mark.hadFirstRegexLimit { firstRegexLimitPattern = nil }
  }

  /// Evaluates `body` and returns its result, or `nil` when it recorded an error (a type or
  /// arithmetic error, a regex limit hit), which is then forgotten: the counters are as they
  /// were. For a condition evaluated ahead of time only to learn whether it is false (a pair
  /// queue's filter), so that its errors are counted where the rule's own evaluation meets them.
  @inline(__always)
  public func withoutRecording(_ body: () -> Bool) -> Bool? {
    let mark = errorMark
    let result = body()
    if recordedErrors == mark.recordedErrors { return result }
    forgetErrors(since: mark)
    return nil
  }
}

/// A compiled expression: the value of an expression for the event under test, the partial
/// match's bindings so far, and the rule's context.
public typealias Evaluator = (_ event: EventRecord, _ bindings: MatchNode?, _ context: EvalContext)
  -> Value

/// A compiled condition: whether the expression is exactly `true`.
public typealias Predicate = (_ event: EventRecord, _ bindings: MatchNode?, _ context: EvalContext)
  -> Bool

/// A compiled condition (``Predicate``) held by an object, the form the matcher keeps it in.
///
/// A closure kept in an array is stored at the array's generic abstraction, so every call went
/// through a reabstraction thunk, and reading it out of the array retained and released its
/// context around the call (two atomic updates per condition evaluated). A constant property
/// of an object keeps the closure as it was compiled, and a borrowed object (`Unmanaged`,
/// `_withUnsafeGuaranteedRef`) is called with no reference counting at all.
public final class Condition {
  /// The compiled condition.
  public let holds: Predicate

  /// Holds `holds`.
  public init(_ holds: @escaping Predicate) { self.holds = holds }
}
