import TocsinCore

/// The resolved, checked expression IR: what `where` conditions and `emit` fields mean.
///
/// The front end (`TocsinLanguage`'s semantic pass) produces it from the syntax tree after
/// resolving every name: a bare name is a field of the current event, `step.field` is a field of
/// an earlier singleton step's event, `count(step)` / `sum(step.f)` aggregate a looping step.
/// Nothing here refers to syntax; ``ExprCompiler`` turns it into closures over slot indices.
public indirect enum Expr: Hashable, Sendable {
  /// A literal or folded constant.
  case constant(Value)
  /// A field of the event being tested (in `emit`: of the match's last event).
  case field(FieldPath)
  /// A field of the event bound to step number `step` (0-based, in declaration order).
  /// Only singleton steps can be read this way; the most recent binding is used.
  case stepField(step: Int, FieldPath)
  /// The partition key of the match as a string (composite keys joined by `|`).
  case key
  /// An aggregate over the events bound so far to looping step `step`.
  /// `field` is `nil` for `count(step)`.
  case aggregate(AggregateFunction, step: Int, field: FieldPath?)
  /// `not e`: `true`↔`false`, anything else is a type error (null).
  case not(Expr)
  /// `-e` on a number.
  case negate(Expr)
  /// Arithmetic or comparison.
  case binary(BinaryOperator, Expr, Expr)
  /// Short-circuit `and`: false as soon as the left side is not `true`.
  case and(Expr, Expr)
  /// Short-circuit `or`: true as soon as the left side is `true`.
  case or(Expr, Expr)
  /// A call of a built-in function with checked arity.
  case call(Builtin, [Expr])
  /// `time()`: the event time of the event being tested (in `emit`: of the match's last event).
  case eventTime
  /// `time(step)`: the event time of the event bound to singleton step number `step`.
  case stepTime(step: Int)
  /// `element in list`: whether a list value (`split(…)`) holds a value equal to `element`.
  /// A null element gives `false` (as `in [..]` does); a null list gives null.
  case member(Expr, list: Expr)

  /// Whether the expression reads what a partial match has bound (`step.field`, `time(step)`,
  /// an aggregate). One that does not has the same value for every partial match of a key an
  /// event is tested against (the key is the same for all of them).
  public var readsBindings: Bool {
    var reads = false
    visit { expr in
      switch expr {
      case .stepField, .stepTime, .aggregate: reads = true
      default: break
      }
    }
    return reads
  }

  /// Every field of the *current* event this expression reads (for projection).
  public var currentFields: [FieldPath] {
    var out: [FieldPath] = []
    visit { expr in
      if case .field(let path) = expr { out.append(path) }
    }
    return out
  }

  /// Every field path read through any form (current, step, aggregate), for projection.
  public var allFields: [FieldPath] {
    var out: [FieldPath] = []
    visit { expr in
      switch expr {
      case .field(let path), .stepField(_, let path): out.append(path)
      case .aggregate(_, _, let path?): out.append(path)
      default: break
      }
    }
    return out
  }

  /// Calls `body` on this node and every descendant, parents first.
  public func visit(_ body: (Expr) -> Void) {
    body(self)
    switch self {
    case .constant, .field, .stepField, .key, .aggregate, .eventTime, .stepTime: break
    case .not(let e), .negate(let e): e.visit(body)
    case .binary(_, let l, let r), .and(let l, let r), .or(let l, let r), .member(let l, let r):
      l.visit(body)
      r.visit(body)
    case .call(_, let args): for a in args { a.visit(body) }
    }
  }
}

/// Binary operators with their rule-language spelling.
public enum BinaryOperator: String, Hashable, Sendable, CaseIterable {
  case add = "+", subtract = "-", multiply = "*", divide = "/"
  case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">"
  case greaterOrEqual = ">="

  /// Whether the operator compares (yields bool) rather than computes.
  public var isComparison: Bool {
    switch self {
    case .add, .subtract, .multiply, .divide: return false
    default: return true
    }
  }
}

/// Aggregates over a looping step's events.
public enum AggregateFunction: String, Hashable, Sendable, CaseIterable {
  /// Number of events bound to the step (`count(x)`), an int.
  case count
  /// Sum of a numeric field (`sum(x.amount)`); int if every value is an int, else float.
  /// Non-numeric values are skipped and counted as type errors; no numeric value gives 0.
  case sum
  /// Arithmetic mean of a numeric field (`avg(x.amount)`), a float; null when there is none.
  case avg
}
