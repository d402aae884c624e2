import TocsinCore
import TocsinExpressions

/// Checks one rule and lowers it to a ``RuleSpec``.
///
/// Pass order: 1) clauses (duplicates, severity, `within`, key, skip) and step declarations
/// (names, modifiers, step order within the pattern and each group, in
/// `RuleChecker+Steps.swift`), 2) the skip target, 3) conditions and 4) `emit` and
/// `on timeout emit` (name resolution and types, in `RuleChecker+Expressions.swift`), 5) rule-wide
/// checks and warnings. Conditions are resolved only after every step is declared, so a reference
/// to a later step can be told apart from a field. Every problem is reported; the spec is produced
/// only when the rule has no error, syntax errors included.
struct RuleChecker {
  /// What the checker knows about a step while resolving names.
  struct StepInfo {
    var name: Located<String>?
    var kind: Located<StepIntro>
    var quantifier: Quantifier
    /// The quantifier modifier (`times`, `one_or_more`), for the unbounded-state warning.
    var quantifierRange: SourceRange?
    /// How the step relates to the one before it.
    var contiguity: Contiguity
    /// Indices into ``RuleChecker/groups`` of the groups around the step, outermost first.
    var enclosingGroups: [Int]
    /// `where` / `or where` in written order, and `until`.
    var conditions: [(isOr: Bool, syntax: ExprSyntax, range: SourceRange)]
    var until: ExprSyntax?
    var syntax: StepSyntax

    var isNegation: Bool { kind.value.isNegation }
  }

  /// What the checker knows about a group.
  struct GroupInfo {
    var syntax: StepSyntax
    var range: Range<Int>
    var contiguity: Contiguity
    var quantifier: Quantifier
    var quantifierRange: SourceRange?
    var enclosingGroups: [Int]
  }

  /// Where an expression is evaluated, which decides what names mean.
  enum Context {
    /// A `where` or `until` of step number `step`.
    case condition(step: Int)
    /// An `emit` or `on timeout emit` value, evaluated once per (partial) match.
    case emit
  }

  let file: SourceFile
  let rule: RuleSyntax
  /// The sink names of the sink configuration, when one was given; `nil`: `to` names are not
  /// checked here (`tocsin run` checks them against its configuration).
  let knownSinks: [String]?
  var steps: [StepInfo] = []
  /// Groups in declaration order (outermost first).
  var groups: [GroupInfo] = []
  var diagnostics: [Diagnostic] = []
  /// Fields read by this rule, for the rule-set-wide misspelling check.
  var fieldUses: [FieldUse] = []
  /// The file's declared fields, if it has a schema.
  let schema: Schema?
  /// Steps whose events something reads (`a.f`, `count(a)`, `time(a)`, a skip target), for the
  /// unused-step warning.
  var readSteps: Set<Int> = []
  /// How many `exists(…)` / `coalesce(…)` calls the resolver is inside: reading an optional step
  /// there is deliberate.
  var guardDepth = 0
  /// Reads of optional steps in the condition being resolved, and the steps it guards with
  /// `exists` / `coalesce` (see `reportOptionalReads()`).
  var optionalReads: [(step: Int, name: Located<String>, notes: [Note])] = []
  var guardedSteps: Set<Int> = []

  init(file: SourceFile, rule: RuleSyntax, schema: Schema? = nil, knownSinks: [String]? = nil) {
    self.file = file
    self.rule = rule
    self.schema = schema
    self.knownSinks = knownSinks
  }

  var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }

  mutating func report(
    _ message: SemaMessage, at range: SourceRange, notes: [Note] = [], hint: String? = nil
  ) {
    diagnostics.append(Diagnostic(message, file: file, range: range, notes: notes, hint: hint))
  }

  func note(_ message: String, at range: SourceRange) -> Note {
    Note(message: message, file: file, range: range)
  }

  /// The index of the first step called `name`.
  func stepIndex(named name: String) -> Int? {
    steps.firstIndex { $0.name?.value == name }
  }

  var stepNames: [String] { steps.compactMap { $0.name?.value } }

  /// Whether step `index` may bind several events: it loops, or a group around it repeats.
  func bindsSeveralEvents(_ index: Int) -> Bool {
    steps[index].quantifier.isLooping
      || steps[index].enclosingGroups.contains { groups[$0].quantifier.isLooping }
  }

  /// Whether step `index` may bind no event: it is optional, or a group around it is.
  func mayBindNothing(_ index: Int) -> Bool {
    steps[index].quantifier.isOptional
      || steps[index].enclosingGroups.contains { groups[$0].quantifier.isOptional }
  }

  /// Whether step `index` may have been skipped when a condition of step `current` runs: it is
  /// optional, or sits in an optional group that does not also hold `current` (inside one
  /// group instance the earlier steps have matched).
  func mayBeSkipped(_ index: Int, before current: Int) -> Bool {
    steps[index].quantifier.isOptional
      || steps[index].enclosingGroups.contains {
        groups[$0].quantifier.isOptional && !steps[current].enclosingGroups.contains($0)
      }
  }

  // MARK: - Rule

  /// The rule's non-step clauses after checking, with their defaults.
  struct Header {
    var severity = Severity.medium
    var description: String?
    var keyFields: [FieldPath] = []
    var within: EventDuration?
    var withinBetweenSteps: EventDuration?
    var skip = SkipStrategy.noSkip
    /// `skip to_first` / `to_last` and its step, resolved once every step is declared.
    var skipTarget: (strategy: SkipStrategyName, step: Located<String>)?
    var emit: [EmitFieldSyntax] = []
    var onTimeout: (keyword: SourceRange, fields: [EmitFieldSyntax])?
    /// `to` sink names, duplicates removed.
    var sinks: [String] = []
    /// `suppress DURATION [by expr]`; the key is resolved with the `emit` values.
    var suppress: (duration: EventDuration, key: ExprSyntax?)?
    /// The top-level steps and groups, in order.
    var pattern: [StepSyntax] = []
  }

  /// Checks the rule; returns its spec when there is no error.
  mutating func check() -> RuleSpec? {
    var header = checkClauses()  // 1) clauses
    guard checkStepCount(header.pattern) else { return nil }  // 1) too large to check further
    declarePattern(header.pattern)  // 1) steps and groups
    guard checkSizeLimits() else { return nil }
    resolveSkipTarget(&header)  // 2)
    let stepSpecs = lowerSteps()  // 3) conditions
    let emit = lowerEmit(header.emit)  // 4) emit
    let onTimeout = header.onTimeout.map { lowerEmit($0.fields) }
    let suppression = header.suppress.map { lowerSuppress($0) }
    checkRuleWide(header)  // 5)
    lintUnusedSteps()
    guard errorCount == 0, !rule.hasSyntaxErrors, let name = rule.name else { return nil }
    return RuleSpec(
      name: name.value, severity: header.severity, description: header.description,
      keyFields: header.keyFields, steps: stepSpecs, within: header.within,
      withinBetweenSteps: header.withinBetweenSteps,
      groups: groups.map { GroupSpec(range: $0.range, contiguity: $0.contiguity, quantifier: $0.quantifier) },
      skip: header.skip, emit: emit, onTimeout: onTimeout, sinks: header.sinks, suppression: suppression,
      sourcePath: file.path,
      sourceLine: file.location(of: rule.ruleKeyword.start).line)
  }

  /// Checks every clause once, reporting duplicates, and collects the steps.
  private mutating func checkClauses() -> Header {
    var header = Header()
    var firstClause: [String: SourceRange] = [:]
    for clause in rule.clauses {
      if let category = RuleChecker.uniqueCategory(of: clause.kind) {
        if let first = firstClause[category] {
          // Two-word clauses are named in full ("duplicate 'on timeout' clause").
          let name = category.contains(" ") ? category : file.text(of: clause.keyword)
          report(
            .duplicateClause(name), at: clause.keyword,
            notes: [note("first '\(file.text(of: first))' is here", at: first)])
          continue
        }
        firstClause[category] = clause.keyword
      }
      switch clause.kind {
      case .severity(let level):
        if let known = Severity(rawValue: level.value) {
          header.severity = known
        } else {
          report(
            .unknownSeverity(level.value), at: level.range,
            hint: Suggestions.didYouMean(level.value, among: Severity.allCases.map(\.rawValue)))
        }
      case .description(let text):
        header.description = text.value
      case .key(let paths):
        for path in paths {
          let fieldPath = FieldPath(path.components.map(\.value))
          header.keyFields.append(fieldPath)
          fieldUses.append(FieldUse(name: fieldPath.description, file: file, range: path.range))
          checkDeclared(fieldPath, at: path.range)
        }
      case .within(let duration):
        if duration.value <= .zero { report(.withinNotPositive, at: duration.range) }
        header.within = duration.value
      case .withinBetweenSteps(let duration):
        if duration.value <= .zero { report(.withinNotPositive, at: duration.range) }
        header.withinBetweenSteps = duration.value
      case .skip(let strategy, let step):
        switch strategy.value {
        case .noSkip: header.skip = .noSkip
        case .toNext: header.skip = .skipToNext
        case .pastLastEvent: header.skip = .skipPastLastEvent
        case .toFirst, .toLast:
          if let step { header.skipTarget = (strategy.value, step) }
        }
      case .emit(let fields):
        header.emit = fields
      case .onTimeout(let fields):
        header.onTimeout = (clause.keyword, fields)
      case .to(let sinks):
        header.sinks = checkSinks(sinks)
      case .suppress(let duration, let key):
        if duration.value <= .zero { report(.suppressNotPositive, at: duration.range) }
        header.suppress = (duration.value, key)
      case .step(let step):
        header.pattern.append(step)
      }
    }
    return header
  }

  /// The clauses that may appear once per rule, by category (`no_skip` and `skip` share one);
  /// `nil` for steps.
  private static func uniqueCategory(of kind: ClauseSyntax.Kind) -> String? {
    switch kind {
    case .step: return nil
    case .severity: return "severity"
    case .description: return "description"
    case .key: return "key"
    case .within: return "within"
    case .withinBetweenSteps: return "within between steps"
    case .skip: return "skip"
    case .emit: return "emit"
    case .onTimeout: return "on timeout"
    case .to: return "to"
    case .suppress: return "suppress"
    }
  }

  /// `to a, b`: duplicates are warned about and dropped; with a sink configuration, every name
  /// must be one of its sinks.
  private mutating func checkSinks(_ sinks: [Located<String>]) -> [String] {
    var names: [String] = []
    for sink in sinks {
      if let first = sinks.first(where: { $0.value == sink.value }), first.range != sink.range {
        report(.duplicateSink(sink.value), at: sink.range, notes: [note("first named here", at: first.range)])
        continue
      }
      if let knownSinks, !knownSinks.contains(sink.value) {
        let hint = Suggestions.didYouMean(sink.value, among: knownSinks)
          ?? (knownSinks.isEmpty ? "the sink configuration defines no sinks" : "defined sinks: \(knownSinks.joined(separator: ", "))")
        report(.unknownSink(sink.value), at: sink.range, hint: hint)
      }
      names.append(sink.value)
    }
    return names
  }

  /// `skip to_first STEP` / `skip to_last STEP`: the step must exist and bind events.
  private mutating func resolveSkipTarget(_ header: inout Header) {
    guard let (strategy, step) = header.skipTarget else { return }
    guard let index = stepIndex(named: step.value) else {
      report(.unknownStep(step.value), at: step.range, hint: Suggestions.didYouMean(step.value, among: stepNames))
      return
    }
    let declared = [note("'\(step.value)' is declared here", at: steps[index].name?.range ?? steps[index].kind.range)]
    readSteps.insert(index)
    if steps[index].isNegation {
      report(.skipToNegation(step: step.value), at: step.range, notes: declared)
      return
    }
    if mayBindNothing(index) {
      report(.skipTargetOptional(step: step.value), at: step.range, notes: declared)
    }
    header.skip = strategy == .toFirst
      ? .skipToFirst(step: index, name: step.value) : .skipToLast(step: index, name: step.value)
  }

  /// Resolves each step's conditions and `until`.
  private mutating func lowerSteps() -> [StepSpec] {
    var specs: [StepSpec] = []
    for (i, step) in steps.enumerated() {
      var condition: Expr?
      for (isOr, syntax, _) in step.conditions {
        guard let typed = resolveCondition(syntax, step: i) else { continue }
        if let before = condition {
          condition = isOr ? .or(before, typed) : .and(before, typed)
        } else {
          condition = typed
        }
      }
      var quantifier = step.quantifier
      if let until = step.until { quantifier.until = resolveCondition(until, step: i) }
      let kind: TocsinExpressions.StepKind
      switch step.kind.value {
      case .notNext: kind = .notNext
      case .notFollowedBy: kind = .notFollowedBy
      default: kind = .take
      }
      specs.append(
        StepSpec(
          name: step.name?.value ?? "", kind: kind, contiguity: step.contiguity, quantifier: quantifier,
          condition: condition))
    }
    return specs
  }

  /// A `where` or `until` of step `step`: resolved and checked to be bool.
  private mutating func resolveCondition(_ syntax: ExprSyntax, step: Int) -> Expr? {
    let resolved = resolve(syntax, in: .condition(step: step))
    reportOptionalReads()
    guard let typed = resolved else { return nil }
    if typed.type != .unknown && typed.type != .bool {
      report(.conditionNotBool(typed.type), at: syntax.range)
    }
    lintConstantConditions(typed.expr, at: syntax.range)
    return typed.expr
  }

  /// Resolves the `emit` (or `on timeout emit`) values and reports duplicate names.
  private mutating func lowerEmit(_ fields: [EmitFieldSyntax]) -> [EmitField] {
    var emit: [EmitField] = []
    var firstName: [String: SourceRange] = [:]
    for field in fields {
      if let first = firstName[field.name.value] {
        report(
          .duplicateEmitField(field.name.value), at: field.name.range,
          notes: [note("first '\(field.name.value)' is here", at: first)])
      } else {
        firstName[field.name.value] = field.name.range
      }
      if let typed = resolve(field.value, in: .emit) {
        emit.append(EmitField(name: field.name.value, value: typed.expr))
      }
    }
    return emit
  }

  /// The `suppress` clause: its key is resolved like an `emit` value (the match's last event,
  /// steps by name, `key`); any type will do, and a null value at run time means "never
  /// suppressed".
  private mutating func lowerSuppress(_ clause: (duration: EventDuration, key: ExprSyntax?)) -> SuppressionSpec {
    SuppressionSpec(duration: clause.duration, key: clause.key.flatMap { resolve($0, in: .emit)?.expr })
  }

  /// Checks that need the whole rule: deadlines for absence and timeouts, unbounded state.
  private mutating func checkRuleWide(_ header: Header) {
    let hasDeadline = header.within != nil || header.withinBetweenSteps != nil
    if let last = steps.last, last.kind.value == .notFollowedBy, !hasDeadline {
      report(.absenceWithoutWithin, at: last.kind.range)
    }
    if let timeout = header.onTimeout, !hasDeadline {
      report(.timeoutWithoutWithin, at: timeout.keyword)
    }
    guard !hasDeadline else { return }
    var warnings: [SourceRange] = []
    for step in steps {
      if step.quantifier.isLooping {
        warnings.append(step.quantifierRange ?? step.kind.range)
      } else if step.kind.value == .followedByAny {
        warnings.append(step.kind.range)
      }
    }
    for group in groups where group.quantifier.isLooping {
      warnings.append(group.quantifierRange ?? group.syntax.kind.range)
    }
    for range in warnings.sorted(by: { $0.start < $1.start }) { report(.unboundedState, at: range) }
  }
}

/// A field read somewhere in the rule set, for the misspelling check.
struct FieldUse {
  /// The dotted path.
  var name: String
  var file: SourceFile
  var range: SourceRange
}
