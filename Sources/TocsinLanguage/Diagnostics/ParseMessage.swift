/// The parser's message catalogue (domain `parse`), cases sorted alphabetically.
enum ParseMessage: DiagnosticMessage {
  /// `a < b < c`.
  case chainedComparison
  /// A token where a clause should start; `found` is its spelling.
  case expectedClause(found: String)
  /// A token where an expression should start.
  case expectedExpression(found: String)
  /// Something other than `rule` at the top level.
  case expectedRule(found: String)
  /// `expected ':' after 'user'`, `expected a rule name after 'rule'`: something missing after
  /// the previous token.
  case expectedToken(expected: String, after: String)
  /// An opening bracket without its closing one.
  case missingClosing(String, opening: String)
  /// Expressions nested deeper than ``Parser/nestingLimit``.
  case nestingTooDeep(limit: Int)
  /// An identifier where a clause keyword was expected, e.g. `severty`.
  case unknownClause(String)
  /// `skip` followed by an unknown strategy.
  case unknownSkipStrategy(String)

  static let domain = "parse"

  var text: String {
    switch self {
    case .chainedComparison:
      return "comparisons cannot be chained; expected 'and' between them"
    case .expectedClause(let found): return "expected a clause, found \(found)"
    case .expectedExpression(let found): return "expected an expression, found \(found)"
    case .expectedRule(let found): return "expected 'rule', found \(found)"
    case .expectedToken(let expected, let after): return "expected \(expected) after \(after)"
    case .missingClosing(let closing, let opening):
      return "expected '\(closing)' to close '\(opening)'"
    case .nestingTooDeep(let limit): return "expression is nested more than \(limit) levels deep"
    case .unknownClause(let word):
      return "unknown clause '\(word)'; expected a clause keyword such as 'begin', 'where' or 'within'"
    case .unknownSkipStrategy(let word):
      let known = SkipStrategyName.afterSkip.map { "'\($0.rawValue)'" }.joined(separator: ", ")
      return "unknown skip strategy '\(word)'; expected \(known)"
    }
  }
}
