import TocsinCore
import TocsinExpressions

/// Size limits on one rule, checked right after the steps are declared.
///
/// Limits are diagnostics, not crashes (STYLE §24): a rule file is untrusted input, and without
/// them a few hundred bytes of text can ask for more automaton states than ``StateID`` can
/// number (`(a times 100000) times 100000`), or make checking quadratic in the number of steps.
/// A rule over a limit gets one error and is not checked further, so a huge rule costs only
/// its parse.
extension RuleChecker {
  /// The most steps (inside groups included) one rule may declare.
  static let stepLimit = 1_000
  /// The most `where` / `or where` clauses on one step: they combine into one condition whose
  /// depth grows by one per clause, like an operator chain (see ``Parser/nestingLimit``).
  static let conditionLimit = Parser.nestingLimit
  /// The most step copies a rule's automaton may unroll to: roughly its state count (a
  /// `times N` step is N copies, and a repeated group multiplies the copies of its steps).
  static let copyLimit = 200_000

  /// Counts the steps of `pattern` (groups' steps included) before they are declared, since
  /// declaring is quadratic in the number of steps (duplicate names, references).
  ///
  /// - Returns: `false`, after reporting, when there are more than ``stepLimit``.
  mutating func checkStepCount(_ pattern: [StepSyntax]) -> Bool {
    func count(_ steps: [StepSyntax]) -> Int {
      steps.reduce(0) { $0 + ($1.group.map { count($0.steps) } ?? 1) }
    }
    let total = count(pattern)
    guard total > Self.stepLimit else { return true }
    report(.tooManySteps(count: total, limit: Self.stepLimit), at: rule.name?.range ?? rule.ruleKeyword)
    return false
  }

  /// Reports every `where` clause or automaton size limit the declared steps exceed.
  ///
  /// - Returns: `false` when the rule is too large to check further.
  mutating func checkSizeLimits() -> Bool {
    var withinLimits = true
    for step in steps where step.conditions.count > Self.conditionLimit {
      report(
        .tooManyConditions(count: step.conditions.count, limit: Self.conditionLimit),
        at: step.conditions[Self.conditionLimit].range)
      withinLimits = false
    }
    let copies = stepCopies()
    if copies > Self.copyLimit {
      report(
        .patternTooLarge(copies: copies, limit: Self.copyLimit),
        at: rule.name?.range ?? rule.ruleKeyword)
      withinLimits = false
    }
    return withinLimits
  }

  /// An upper bound on the step copies the automaton compiler makes, saturating at
  /// `copyLimit + 1`: per step, the largest count its quantifier allows (`N + 1` for `N+`),
  /// times the same for every group around it.
  func stepCopies() -> Int {
    let cap = Self.copyLimit + 1
    func copies(_ q: Quantifier) -> Int { Swift.max(1, q.max ?? (q.min + 1)) }
    var total = 0
    for step in steps {
      var product = copies(step.quantifier)
      for g in step.enclosingGroups {
        let (next, overflow) = product.multipliedReportingOverflow(by: copies(groups[g].quantifier))
        product = overflow ? cap : Swift.min(next, cap)
      }
      total = Swift.min(total + product, cap)
    }
    return total
  }
}
