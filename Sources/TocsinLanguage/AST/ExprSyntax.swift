import TocsinCore
import TocsinExpressions

/// An expression as written, before names are resolved.
public struct ExprSyntax: Sendable {
  /// What it is.
  public var kind: Kind
  /// Its whole extent (parentheses included for ``Kind/parenthesized(_:)``).
  public var range: SourceRange
  /// The number of nodes on the longest path from this node down to a leaf (a leaf is 1).
  ///
  /// Every later stage (checking, lowering, compiling, evaluating) walks expressions
  /// recursively, so the parser caps this at ``Parser/nestingLimit``: a long operator chain such
  /// as `a + a + … + a` builds a tree as deep as it is long, just like nested parentheses.
  public private(set) var height: Int

  /// Creates an expression node.
  public init(_ kind: Kind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
    switch kind {
    case .integer, .float, .string, .duration, .bool, .null, .key, .path:
      height = 1
    case .call(_, let arguments):
      height = 1 + arguments.reduce(0) { max($0, $1.height) }
    case .prefix(_, let operand), .parenthesized(let operand):
      height = 1 + operand.height
    case .infix(_, let lhs, let rhs), .inValue(let lhs, _, let rhs):
      height = 1 + max(lhs.height, rhs.height)
    case .inList(let lhs, _, let elements):
      // Lowered to a balanced `or` of comparisons, so the list's length adds only log2(n).
      var balanced = 1
      while (1 << balanced) < elements.count { balanced += 1 }
      height = 1 + balanced + elements.reduce(lhs.height) { max($0, $1.height) }
    }
  }

  /// The expression forms.
  public indirect enum Kind: Sendable {
    /// `42`.
    case integer(Int64)
    /// `1.5`.
    case float(Double)
    /// `"text"`.
    case string(String)
    /// `10m`, `1h30m`, `500ms`.
    case duration(EventDuration)
    /// `true` / `false`.
    case bool(Bool)
    /// `null`.
    case null
    /// `key`: the partition key.
    case key
    /// `a.b.c`: a field or a step's field, resolved by the semantic pass.
    case path(PathSyntax)
    /// `name(args…)`.
    case call(name: Located<String>, arguments: [ExprSyntax])
    /// `-e` or `not e`.
    case prefix(Located<PrefixOperator>, ExprSyntax)
    /// `l op r`.
    case infix(Located<InfixOperator>, ExprSyntax, ExprSyntax)
    /// `( e )`, kept so a formatter can reproduce it.
    case parenthesized(ExprSyntax)
    /// `e in [a, b, c]`; `keyword` is the range of `in`.
    case inList(ExprSyntax, keyword: SourceRange, elements: [ExprSyntax])
    /// `e in list_expr` (e.g. `tag in split(tags, ",")`); `keyword` is the range of `in`.
    case inValue(ExprSyntax, keyword: SourceRange, ExprSyntax)
  }
}

/// Prefix operators.
public enum PrefixOperator: String, Hashable, Sendable {
  /// `-e`.
  case negate = "-"
  /// `not e`.
  case not
}

/// Infix operators, with their precedence.
public enum InfixOperator: String, Hashable, Sendable, CaseIterable {
  case or, and
  case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">"
  case greaterOrEqual = ">="
  case add = "+", subtract = "-", multiply = "*", divide = "/"

  /// Binding strength: `or` < `and` < comparison < `+ -` < `* /`.
  public var precedence: Int {
    switch self {
    case .or: return 1
    case .and: return 2
    case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return 3
    case .add, .subtract: return 4
    case .multiply, .divide: return 5
    }
  }

  /// Comparisons do not chain: `a < b < c` is a syntax error.
  public var isComparison: Bool { precedence == 3 }

  /// The IR operator for arithmetic and comparison (`nil` for `and` / `or`).
  public var binaryOperator: BinaryOperator? { BinaryOperator(rawValue: rawValue) }

  /// The operator a token spells, if any.
  init?(token: TokenKind) {
    switch token {
    case .keyword(.and): self = .and
    case .keyword(.or): self = .or
    case .punctuator(let p):
      guard let op = InfixOperator(rawValue: p.rawValue) else { return nil }
      self = op
    default: return nil
    }
  }
}
