import TocsinCore
import TocsinExpressions

/// Checks every rule of a rule set: per-rule checks, rule names unique across files, and the
/// rule-set-wide "field read only once that looks like a typo" warning.
struct RuleSetChecker {
  /// The sink names `to` clauses may use; `nil` when no sink configuration was given.
  var knownSinks: [String]? = nil
  /// The most name comparisons the misspelled-field warning may make (see
  /// ``rarelyUsedFieldWarnings(_:)``).
  static let rarelyUsedFieldComparisonLimit = 1_000_000

  var diagnostics: [Diagnostic] = []

  /// Checks `files` in order and returns the specs of the rules without errors.
  /// - Parameter loadSchema: reads a schema file named by `schema "…"`; `nil` reports every
  ///   such file as unreadable.
  mutating func check(_ files: [RuleFileSyntax], loadSchema: ((String) -> SourceFile?)? = nil) -> [RuleSpec] {
    var specs: [RuleSpec] = []
    var firstRule: [String: (file: SourceFile, range: SourceRange)] = [:]
    var fieldUses: [FieldUse] = []
    for syntax in files {
      let schema = Schema.build(for: syntax, load: loadSchema, diagnostics: &diagnostics)
      for rule in syntax.rules {
        var checker = RuleChecker(file: syntax.file, rule: rule, schema: schema, knownSinks: knownSinks)
        var spec = checker.check()
        diagnostics += checker.diagnostics
        // With a schema, undeclared fields are errors already; the guess would only add noise.
        if schema == nil { fieldUses += checker.fieldUses }
        guard let name = rule.name else { continue }
        if let first = firstRule[name.value] {
          diagnostics.append(
            Diagnostic(
              SemaMessage.duplicateRule(name.value), file: syntax.file, range: name.range,
              notes: [Note(message: "'\(name.value)' is first declared here", file: first.file, range: first.range)]))
          spec = nil
        } else {
          firstRule[name.value] = (syntax.file, name.range)
        }
        if let spec { specs.append(spec) }
      }
    }
    diagnostics += RuleSetChecker.rarelyUsedFieldWarnings(fieldUses)
    return specs
  }

  /// Warns about a field read exactly once whose name is one or two edits away from a field read
  /// elsewhere: `amout` next to `amount`. The allowed distance grows with the name (1 up to five
  /// characters, 2 from six), so short names such as `lat` and `lon` are not flagged.
  ///
  /// The check compares every once-read name with every name, so it is skipped when that is
  /// more than ``rarelyUsedFieldComparisonLimit`` comparisons (a generated rule set reading
  /// thousands of fields): a warning is not worth minutes of checking.
  static func rarelyUsedFieldWarnings(_ uses: [FieldUse]) -> [Diagnostic] {
    var counts: [String: Int] = [:]
    for use in uses { counts[use.name, default: 0] += 1 }
    let singles = counts.values.filter { $0 == 1 }.count
    guard singles * counts.count <= rarelyUsedFieldComparisonLimit else { return [] }
    // Sorted so the suggestion does not depend on dictionary order.
    let names = counts.keys.sorted()
    var out: [Diagnostic] = []
    for use in uses where counts[use.name] == 1 {
      let limit = min(2, max(1, use.name.count / 3))
      var best: (name: String, distance: Int, count: Int)?
      for other in names where other != use.name {
        // The edit distance is at least the length difference: skip the costly comparison.
        guard abs(other.count - use.name.count) <= limit else { continue }
        let d = Suggestions.distance(use.name, other)
        guard d <= limit, d < use.name.count else { continue }
        let count = counts[other] ?? 0
        if let b = best, (b.distance, -b.count) <= (d, -count) { continue }
        best = (other, d, count)
      }
      guard let best else { continue }
      out.append(
        Diagnostic(
          SemaMessage.rarelyUsedField(name: use.name, suggestion: best.name), file: use.file, range: use.range))
    }
    return out
  }
}
