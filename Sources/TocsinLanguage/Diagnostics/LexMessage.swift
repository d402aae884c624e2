/// The lexer's message catalogue (domain `lex`), cases sorted alphabetically.
enum LexMessage: DiagnosticMessage {
  /// A duration amount without a unit (`1h30`).
  case missingDurationUnit(String)
  /// A number too large for a 64-bit integer, or a duration beyond its range.
  case numberTooLarge(String)
  /// A character that cannot start a token.
  case unexpectedCharacter(String)
  /// A duration unit that is not `ms s m h d`.
  case unknownDurationUnit(String)
  /// A backslash escape other than `\" \\ \n \t \uXXXX`.
  case unknownEscape(String)
  /// A string literal without its closing quote on the same line.
  case unterminatedString

  static let domain = "lex"

  var text: String {
    switch self {
    case .missingDurationUnit(let amount):
      return "missing unit after '\(amount)'; expected ms, s, m, h or d"
    case .numberTooLarge(let text): return "number '\(text)' is too large"
    case .unexpectedCharacter(let c): return "unexpected character '\(c)'"
    case .unknownDurationUnit(let unit):
      return "unknown duration unit '\(unit)'; expected ms, s, m, h or d"
    case .unknownEscape(let escape):
      return "unknown escape sequence '\(escape)'; expected \\\", \\\\, \\n, \\t or \\uXXXX"
    case .unterminatedString: return "unterminated string; expected '\"' before the end of the line"
    }
  }
}
