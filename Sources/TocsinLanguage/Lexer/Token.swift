import TocsinCore

/// Reserved words. Everything else that looks like a name is an identifier.
///
/// Clause and step keywords are reserved so a misplaced clause can never be read as a field.
/// Words that only have meaning after another keyword (severity levels, skip strategies such as
/// `past_last_event`) are *not* reserved: the parser reads them as identifiers and looks them up
/// in their own tables, so adding one is a table entry, not a new keyword.
public enum Keyword: String, Hashable, Sendable, CaseIterable {
  case rule, severity, description, key, within, emit, skip
  case noSkip = "no_skip"
  case begin, next
  case followedBy = "followed_by"
  case followedByAny = "followed_by_any"
  case notNext = "not_next"
  case notFollowedBy = "not_followed_by"
  case `where`, times, until, optional, greedy, consecutive
  case oneOrMore = "one_or_more"
  case allowCombinations = "allow_combinations"
  case between, steps, on, timeout, suppress
  case and, or, not, `in`
  case `true`, `false`, null

  /// The word as written.
  public var spelling: String { rawValue }
}

/// Punctuation and operators.
public enum Punctuator: String, Hashable, Sendable, CaseIterable {
  case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">="
  case less = "<", greater = ">"
  case plus = "+", minus = "-", star = "*", slash = "/"
  case leftParen = "(", rightParen = ")", leftBrace = "{", rightBrace = "}"
  case leftBracket = "[", rightBracket = "]"
  case comma = ",", colon = ":", dot = ".", dotDot = ".."
}

/// What a token is, with its decoded value.
public enum TokenKind: Hashable, Sendable {
  /// A name that is not a keyword.
  case identifier(String)
  /// A reserved word.
  case keyword(Keyword)
  /// A decimal integer literal.
  case integer(Int64)
  /// A decimal literal with a fraction (`1.5`).
  case float(Double)
  /// A string literal with escapes decoded.
  case string(String)
  /// A duration literal (`10m`, `1h30m`, `500ms`).
  case duration(EventDuration)
  /// An operator or punctuation mark.
  case punctuator(Punctuator)
  /// A malformed literal or stray character the lexer already reported; the parser skips it
  /// silently.
  case invalid
  /// The end of the file (its range is empty, at the end).
  case endOfFile
}

/// A token and where it was written.
public struct Token: Hashable, Sendable {
  /// What it is.
  public var kind: TokenKind
  /// Its bytes in the source file.
  public var range: SourceRange

  /// Creates a token.
  public init(_ kind: TokenKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }

  /// Whether the token is the given keyword.
  func isKeyword(_ keyword: Keyword) -> Bool { kind == .keyword(keyword) }
  /// Whether the token is the given punctuator.
  func isPunctuator(_ punctuator: Punctuator) -> Bool { kind == .punctuator(punctuator) }
}

/// A lexed file: tokens (ending with `.endOfFile`), comment trivia and lexer diagnostics.
public struct LexedFile: Sendable {
  /// Every token in order; the last one is `.endOfFile`.
  public var tokens: [Token]
  /// The range of every `#` comment (from `#` to the end of the line, excluding the newline),
  /// kept for the formatter.
  public var comments: [SourceRange]
  /// Problems found while lexing.
  public var diagnostics: [Diagnostic]
}
