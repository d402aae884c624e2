import TocsinCore
import TocsinExpressions

/// Interval reasoning over comparisons of one field with numeric literals, for the
/// `sema.alwaysFalse` / `sema.alwaysTrue` warnings: `amount > 10 and amount < 5` can never hold,
/// `amount > 5 or amount < 10` holds for every number.
extension RuleChecker {
  /// A field compared with a number: `field op value` (operands already put in that order).
  private struct Bound {
    var field: String
    var op: BinaryOperator
    var value: Double
  }

  /// Warns about the first `and` chain in `condition` no number satisfies, or the first `or`
  /// chain every number satisfies, reporting at `range` (the `where` or `until` expression).
  mutating func lintConstantConditions(_ condition: Expr, at range: SourceRange) {
    var reported = false
    condition.visit { node in
      guard !reported else { return }
      switch node {
      case .and:
        if let field = RuleChecker.contradictedField(RuleChecker.flatten(node, and: true).compactMap(bound)) {
          report(.alwaysFalse(field: field), at: range)
          reported = true
        }
      case .or:
        if let field = RuleChecker.coveredField(RuleChecker.flatten(node, and: false).compactMap(bound)) {
          report(.alwaysTrue(field: field), at: range)
          reported = true
        }
      default: break
      }
    }
  }

  /// The operands of a chain of `and` (or of `or`), left to right.
  private static func flatten(_ expr: Expr, and: Bool) -> [Expr] {
    switch (expr, and) {
    case (.and(let l, let r), true), (.or(let l, let r), false):
      return flatten(l, and: and) + flatten(r, and: and)
    default:
      return [expr]
    }
  }

  /// `f op number` or `number op f`, with the field's display name.
  private func bound(_ expr: Expr) -> Bound? {
    guard case .binary(let op, let l, let r) = expr, op.isComparison else { return nil }
    func number(_ e: Expr) -> Double? {
      switch e {
      case .constant(.int(let i)): return Double(i)
      case .constant(.float(let d)) where !d.isNaN: return d
      default: return nil
      }
    }
    func name(_ e: Expr) -> String? {
      switch e {
      case .field(let path): return path.description
      case .stepField(let step, let path): return "\(steps[step].name?.value ?? "?").\(path)"
      default: return nil
      }
    }
    if let field = name(l), let value = number(r) { return Bound(field: field, op: op, value: value) }
    if let field = name(r), let value = number(l) { return Bound(field: field, op: op.mirrored, value: value) }
    return nil
  }

  /// The first field whose bounds (all of which must hold) leave no number.
  private static func contradictedField(_ bounds: [Bound]) -> String? {
    var fields: [String] = []
    for b in bounds where !fields.contains(b.field) { fields.append(b.field) }
    for field in fields {
      var lower = -Double.infinity
      var lowerOpen = false
      var upper = Double.infinity
      var upperOpen = false
      var excluded: [Double] = []
      for b in bounds where b.field == field {
        switch b.op {
        case .greater, .greaterOrEqual, .equal:
          let open = b.op == .greater
          if b.value > lower || (b.value == lower && open) { (lower, lowerOpen) = (b.value, open) }
        default: break
        }
        switch b.op {
        case .less, .lessOrEqual, .equal:
          let open = b.op == .less
          if b.value < upper || (b.value == upper && open) { (upper, upperOpen) = (b.value, open) }
        case .notEqual: excluded.append(b.value)
        default: break
        }
      }
      if lower > upper || (lower == upper && (lowerOpen || upperOpen))
        || (lower == upper && excluded.contains(lower))
      {
        return field
      }
    }
    return nil
  }

  /// The first field whose bounds (any of which may hold) cover every number.
  private static func coveredField(_ bounds: [Bound]) -> String? {
    for below in bounds where below.op == .less || below.op == .lessOrEqual {
      for above in bounds where above.field == below.field && (above.op == .greater || above.op == .greaterOrEqual) {
        // `f < a or f > b` covers everything when b < a, or b == a and one side includes it.
        if above.value < below.value
          || (above.value == below.value && (below.op == .lessOrEqual || above.op == .greaterOrEqual))
        {
          return below.field
        }
      }
    }
    // `f != a or f != b` with a ≠ b.
    let notEqual = bounds.filter { $0.op == .notEqual }
    for a in notEqual where notEqual.contains(where: { $0.field == a.field && $0.value != a.value }) {
      return a.field
    }
    return nil
  }
}
