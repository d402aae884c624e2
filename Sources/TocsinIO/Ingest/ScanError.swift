/// What the event scanner expected to find where a line stopped being valid JSON.
///
/// A closed set so that errors carry no strings and throwing one does not allocate; the text is
/// produced on demand by ``description``.
public enum JSONExpectation: Sendable, Hashable, CustomStringConvertible {
  /// The start of a JSON object (`{`).
  case object
  /// Any JSON value (string, number, object, array, `true`, `false`, `null`).
  case value
  /// A string object key.
  case objectKey
  /// The `:` between a key and its value.
  case colon
  /// A `,` or the `}` that ends an object.
  case commaOrObjectEnd
  /// A `,` or the `]` that ends an array.
  case commaOrArrayEnd
  /// A decimal digit inside a number.
  case digit
  /// One of the four hexadecimal digits of a `\u` escape.
  case hexDigit
  /// A valid escape character after `\` (one of `"\/bfnrtu`).
  case escapeCharacter
  /// The closing `"` of a string (the line ended inside it).
  case closingQuote
  /// A byte other than a raw control character (U+0000–U+001F must be escaped in strings).
  case noControlCharacter
  /// A `\uDC00`–`\uDFFF` escape completing a surrogate pair (lone surrogates are rejected).
  case lowSurrogate
  /// The rest of the literal `true`, `false` or `null`.
  case literal

  /// The expectation as shown in messages.
  public var description: String {
    switch self {
    case .object: return "'{'"
    case .value: return "a value"
    case .objectKey: return "an object key string"
    case .colon: return "':'"
    case .commaOrObjectEnd: return "',' or '}'"
    case .commaOrArrayEnd: return "',' or ']'"
    case .digit: return "a digit"
    case .hexDigit: return "a hexadecimal digit"
    case .escapeCharacter: return "an escape character (one of \"\\/bfnrtu)"
    case .closingQuote: return "a closing '\"'"
    case .noControlCharacter: return "no raw control character in a string"
    case .lowSurrogate: return "a low surrogate escape '\\uDC00'...'\\uDFFF'"
    case .literal: return "'true', 'false' or 'null'"
    }
  }
}

/// Why ``EventScanner`` rejected a line. Offsets are 0-based byte offsets within the line.
///
/// Errors are data; ``message`` generates the text and ``reason`` the stable dead-letter id.
public enum ScanError: Error, Sendable, Hashable {
  /// The line is empty or holds only JSON whitespace.
  case emptyLine
  /// The line is a valid-looking JSON value that is not an object (`[1]`, `"x"`, `42`).
  case notAnObject(offset: Int)
  /// The line is not valid JSON at `offset`.
  case invalidJSON(offset: Int, expected: JSONExpectation)
  /// Objects/arrays nest deeper than `limit`; `offset` is the opening bracket past the limit.
  case nestingTooDeep(offset: Int, limit: Int)
  /// A string holds bytes that are not valid UTF-8, starting at `offset`.
  case invalidUTF8(offset: Int)
  /// Something other than whitespace follows the closing `}` of the event object.
  case trailingCharacters(offset: Int)
  /// A projected number at `offset` whose magnitude is beyond a 64-bit float (`1e400`): it
  /// would read as infinity and make every comparison and sum meaningless. (Unprojected
  /// numbers are only checked for syntax; underflow to 0 is accepted.)
  case numberOutOfRange(offset: Int)

  /// The byte offset within the line where the problem is, if any.
  public var offset: Int? {
    switch self {
    case .emptyLine: return nil
    case .notAnObject(let offset), .invalidJSON(let offset, _), .nestingTooDeep(let offset, _),
      .invalidUTF8(let offset), .trailingCharacters(let offset), .numberOutOfRange(let offset):
      return offset
    }
  }

  /// The dead-letter reason for this error.
  public var reason: DeadLetterReason {
    switch self {
    case .emptyLine, .invalidJSON, .trailingCharacters: return .invalidJSON
    case .notAnObject: return .notAnObject
    case .nestingTooDeep: return .nestingTooDeep
    case .invalidUTF8: return .invalidUTF8
    case .numberOutOfRange: return .numberOutOfRange
    }
  }

  /// A one-line, lower-case description for dead letters and logs.
  public var message: String {
    switch self {
    case .emptyLine:
      return "empty line"
    case .notAnObject(let offset):
      return "event is not a JSON object (byte \(offset))"
    case .invalidJSON(let offset, let expected):
      return "invalid JSON at byte \(offset): expected \(expected)"
    case .nestingTooDeep(let offset, let limit):
      return "JSON nesting deeper than \(limit) levels at byte \(offset)"
    case .invalidUTF8(let offset):
      return "invalid UTF-8 in string at byte \(offset)"
    case .trailingCharacters(let offset):
      return "unexpected characters after the event object at byte \(offset)"
    case .numberOutOfRange(let offset):
      return "number at byte \(offset) is too large for a 64-bit float"
    }
  }
}
