import TocsinCore
import TocsinExpressions

/// Times, durations and the checks that need them: `time()` / `time(step)`, the step form of
/// `speed_kmh`, time-zone literals, the type table of time arithmetic, and the unused-step lint.
extension RuleChecker {
  // MARK: - time(), time(step)

  /// `time()`: the current event's time (in `emit`, the match's last event's); `time(step)`: the
  /// time of the event a singleton step took, resolved like `step.field`.
  mutating func resolveTime(_ name: Located<String>, _ arguments: [ExprSyntax], in context: Context) -> TypedExpr? {
    guard let argument = arguments.first else { return TypedExpr(expr: .eventTime, type: .time) }
    guard arguments.count == 1 else {
      report(
        .wrongArgumentCount(function: "time", expected: [0, 1], found: arguments.count, signature: "time(step)"),
        at: name.range)
      return nil
    }
    guard case .path(let path) = argument.kind, path.components.count == 1 else {
      report(.timeArgument, at: argument.range)
      return nil
    }
    let head = path.components[0]
    guard let index = stepIndex(named: head.value) else {
      report(.timeArgument, at: argument.range, hint: Suggestions.didYouMean(head.value, among: stepNames))
      return nil
    }
    let step = steps[index]
    let declared = [note("'\(head.value)' is declared here", at: step.name?.range ?? step.kind.range)]
    var isCurrent = false
    if case .condition(let current) = context {
      if index > current {
        report(
          .stepDeclaredLater(step: head.value, current: steps[current].name?.value ?? "?"),
          at: head.range, notes: declared)
        return nil
      }
      isCurrent = index == current
    }
    if step.isNegation && !isCurrent {
      report(.negationStepRead(step: head.value), at: head.range, notes: declared)
      return nil
    }
    if bindsSeveralEvents(index) {
      report(.loopingStepField(step: head.value), at: path.range)
      return nil
    }
    if isCurrent { return TypedExpr(expr: .eventTime, type: .time) }
    readSteps.insert(index)
    if case .condition(let current) = context, mayBeSkipped(index, before: current) {
      noteOptionalRead(index, name: head, notes: declared)
    }
    return TypedExpr(expr: .stepTime(step: index), type: .time)
  }

  // MARK: - speed_kmh(a, b)

  /// `speed_kmh(a, b)` for two steps: expanded to
  /// `speed_kmh(a.lat, a.lon, time(a), b.lat, b.lon, time(b))` and checked as that, so the
  /// steps resolve exactly like written-out fields (the current step reads the current event).
  mutating func resolveSpeed(_ name: Located<String>, _ arguments: [ExprSyntax], in context: Context) -> TypedExpr? {
    var expanded: [ExprSyntax] = []
    for argument in arguments {
      guard case .path(let path) = argument.kind, path.components.count == 1,
        stepIndex(named: path.components[0].value) != nil
      else {
        report(.speedArguments, at: argument.range, hint: "or write 'speed_kmh(lat1, lon1, t1, lat2, lon2, t2)'")
        return nil
      }
      let step = path.components[0]
      func field(_ name: String) -> ExprSyntax {
        ExprSyntax(
          .path(PathSyntax(components: [step, Located(name, at: step.range)], range: path.range)), argument.range)
      }
      let time = ExprSyntax(
        .call(name: Located("time", at: step.range), arguments: [argument]), argument.range)
      expanded += [field("lat"), field("lon"), time]
    }
    return resolve(ExprSyntax(.call(name: name, arguments: expanded), name.range), in: context)
  }

  // MARK: - Zones

  /// The zone argument of `hour_of_day`, `day_of_week` or `date` must be a string literal naming
  /// a zone Foundation knows.
  mutating func checkZone(_ builtin: Builtin, _ syntax: ExprSyntax, position: Int) -> Bool {
    guard case .string(let name) = syntax.kind else {
      report(
        .argumentNotLiteral(position: position + 1, function: builtin.name, signature: builtin.signature),
        at: syntax.range)
      return false
    }
    guard !TimeZoneRules.isKnown(name) else { return true }
    report(
      .unknownTimeZone(name), at: syntax.range,
      hint: Suggestions.didYouMean(name, among: TimeZoneRules.knownIdentifiers))
    return false
  }

  // MARK: - Arithmetic on times and durations

  /// The result type of `lhs op rhs` when a side is a time or a duration (the table of
  /// ``Operations/temporalArithmetic(_:_:_:)``); `nil` when no run-time values of these types
  /// combine. An `unknown` side may be anything, so the result is `unknown` where it would
  /// depend on it.
  static func temporalResult(_ op: BinaryOperator, _ lhs: ValueType, _ rhs: ValueType) -> ValueType? {
    let numeric: Set<ValueType> = [.int, .float, .number]
    switch (lhs, op, rhs) {
    case (.time, .subtract, .time): return .duration
    case (.time, .add, .duration), (.time, .subtract, .duration), (.duration, .add, .time): return .time
    case (.duration, .add, .duration), (.duration, .subtract, .duration): return .duration
    case (.duration, .divide, .duration): return .float
    case (.duration, .multiply, let n) where numeric.contains(n): return .duration
    case (let n, .multiply, .duration) where numeric.contains(n): return .duration
    case (.duration, .divide, let n) where numeric.contains(n): return .duration
    // One side unknown.
    case (.time, .add, .unknown), (.unknown, .add, .time): return .time
    case (.unknown, .subtract, .time): return .duration
    case (.time, .subtract, .unknown): return .unknown  // a duration or a time
    case (.duration, .multiply, .unknown), (.unknown, .multiply, .duration): return .duration
    case (.unknown, .divide, .duration): return .float
    case (.duration, _, .unknown), (.unknown, _, .duration): return .unknown
    default: return nil
    }
  }

  // MARK: - Reads of optional steps

  /// Records a read of optional step `index` in the condition being resolved: inside
  /// `exists(…)` / `coalesce(…)` it marks the step as guarded, elsewhere it is a candidate for
  /// ``reportOptionalReads()``.
  mutating func noteOptionalRead(_ index: Int, name: Located<String>, notes: [Note]) {
    if guardDepth > 0 {
      guardedSteps.insert(index)
    } else {
      optionalReads.append((index, name, notes))
    }
  }

  /// Warns about the reads of optional steps in the condition just resolved, except for steps
  /// the condition also tests with `exists` or `coalesce` (`not exists(b.x) or b.x > 1`).
  mutating func reportOptionalReads() {
    for (index, name, notes) in optionalReads where !guardedSteps.contains(index) {
      report(.optionalStepRead(step: name.value), at: name.range, notes: notes)
    }
    optionalReads = []
    guardedSteps = []
  }

  // MARK: - Unused steps

  /// Warns about a step after the first that takes one event, has no `where`, and is read by
  /// nothing (no `step.f`, aggregate, `time(step)`, `speed_kmh` or skip target): it takes
  /// whatever event comes next, so it only delays the match by one arbitrary event — almost
  /// always a forgotten condition. Not reported, because they can be meant: the first step
  /// (every event starts a match), a looping step (a count of any events), a negation (any
  /// event breaks the match), and any rule with errors (its conditions may be what is missing).
  mutating func lintUnusedSteps() {
    guard !rule.hasSyntaxErrors, errorCount == 0 else { return }
    for (index, step) in steps.enumerated() where index > 0 {
      guard let name = step.name, !step.isNegation, !bindsSeveralEvents(index), step.conditions.isEmpty,
        !readSteps.contains(index)
      else { continue }
      report(.unusedStep(step: name.value), at: name.range)
    }
  }
}
