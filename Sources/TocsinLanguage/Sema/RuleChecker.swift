import TocsinCore
import TocsinExpressions

/// Checks one rule and lowers it to a ``RuleSpec``.
///
/// Pass order: 1) clauses (duplicates, severity, `within`, key, skip), 2) steps (order, names,
/// quantifiers), 3) conditions and `emit` (name resolution and types, in
/// `RuleChecker+Expressions.swift`), 4) rule-wide warnings. Every problem is reported; the spec is
/// produced only when the rule has no error, syntax errors included.
struct RuleChecker {
  /// What the checker knows about a step while resolving names.
  struct StepInfo {
    var name: Located<String>?
    var kind: Located<StepKind>
    var quantifier: Quantifier
    /// The `times` modifier, for the unbounded-state warning.
    var quantifierRange: SourceRange?
    var syntax: StepSyntax
  }

  /// Where an expression is evaluated, which decides what names mean.
  enum Context {
    /// A `where` of step number `step`.
    case condition(step: Int)
    /// An `emit` value, evaluated once per complete match.
    case emit
  }

  let file: SourceFile
  let rule: RuleSyntax
  var steps: [StepInfo] = []
  var diagnostics: [Diagnostic] = []
  /// Fields read by this rule, for the rule-set-wide misspelling check.
  var fieldUses: [FieldUse] = []

  init(file: SourceFile, rule: RuleSyntax) {
    self.file = file
    self.rule = rule
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

  // MARK: - Rule

  /// Checks the rule; returns its spec when there is no error.
  mutating func check() -> RuleSpec? {
    var severity = Severity.medium
    var description: String?
    var keyFields: [FieldPath] = []
    var within: EventDuration?
    var skip = SkipStrategy.noSkip
    var emitSyntax: [EmitFieldSyntax] = []
    var firstClause: [String: SourceRange] = [:]

    // 1) Clauses.
    for clause in rule.clauses {
      let category: String?
      switch clause.kind {
      case .step: category = nil
      case .severity: category = "severity"
      case .description: category = "description"
      case .key: category = "key"
      case .within: category = "within"
      case .skip: category = "skip"
      case .emit: category = "emit"
      }
      if let category {
        if let first = firstClause[category] {
          let spelling = file.text(of: clause.keyword)
          report(
            .duplicateClause(spelling), at: clause.keyword,
            notes: [note("first '\(file.text(of: first))' is here", at: first)])
          continue
        }
        firstClause[category] = clause.keyword
      }
      switch clause.kind {
      case .severity(let level):
        if let known = Severity(rawValue: level.value) {
          severity = known
        } else {
          report(
            .unknownSeverity(level.value), at: level.range,
            hint: Suggestions.didYouMean(level.value, among: Severity.allCases.map(\.rawValue)))
        }
      case .description(let text):
        description = text.value
      case .key(let paths):
        for path in paths {
          let fieldPath = FieldPath(path.components.map(\.value))
          keyFields.append(fieldPath)
          fieldUses.append(FieldUse(name: fieldPath.description, file: file, range: path.range))
        }
      case .within(let duration):
        if duration.value <= .zero { report(.withinNotPositive, at: duration.range) }
        within = duration.value
      case .skip(let strategy):
        switch strategy.value {
        case .noSkip: skip = .noSkip
        case .pastLastEvent: skip = .skipPastLastEvent
        }
      case .emit(let fields):
        emitSyntax = fields
      case .step(let step):
        checkStepDeclaration(step)
      }
    }

    // 2) Step order.
    // Steps may have been lost to a syntax error; then "no steps" would be a follow-on error.
    if steps.isEmpty && !rule.hasSyntaxErrors {
      report(.missingStep(rule: rule.name?.value ?? "?"), at: rule.name?.range ?? rule.ruleKeyword)
    }
    for (i, step) in steps.enumerated() {
      if i == 0 && step.kind.value != .begin {
        report(.firstStepNotBegin(found: step.kind.value.rawValue), at: step.kind.range)
      } else if i > 0 && step.kind.value == .begin {
        report(.beginNotFirst, at: step.kind.range)
      }
    }

    // 3) Conditions and emit.
    var stepSpecs: [StepSpec] = []
    for (i, step) in steps.enumerated() {
      var condition: Expr?
      for modifier in step.syntax.modifiers {
        guard case .where(let syntax) = modifier.kind,
          let typed = resolve(syntax, in: .condition(step: i))
        else { continue }
        if typed.type != .unknown && typed.type != .bool {
          report(.conditionNotBool(typed.type), at: syntax.range)
        }
        condition = condition.map { .and($0, typed.expr) } ?? typed.expr
      }
      let contiguity: Contiguity = step.kind.value == .next ? .strict : .relaxed
      stepSpecs.append(
        StepSpec(
          name: step.name?.value ?? "", contiguity: contiguity, quantifier: step.quantifier,
          condition: condition))
    }
    var emit: [EmitField] = []
    var emitNames: [String: SourceRange] = [:]
    for field in emitSyntax {
      if let first = emitNames[field.name.value] {
        report(
          .duplicateEmitField(field.name.value), at: field.name.range,
          notes: [note("first '\(field.name.value)' is here", at: first)])
      } else {
        emitNames[field.name.value] = field.name.range
      }
      if let typed = resolve(field.value, in: .emit) {
        emit.append(EmitField(name: field.name.value, value: typed.expr))
      }
    }

    // 4) Rule-wide warnings.
    if within == nil {
      for step in steps where step.quantifier.isLooping {
        report(.unboundedState, at: step.quantifierRange ?? step.kind.range)
      }
    }

    guard errorCount == 0, !rule.hasSyntaxErrors, let name = rule.name else { return nil }
    return RuleSpec(
      name: name.value, severity: severity, description: description, keyFields: keyFields,
      steps: stepSpecs, within: within, skip: skip, emit: emit, sourcePath: file.path,
      sourceLine: file.location(of: rule.ruleKeyword.start).line)
  }

  // MARK: - Steps

  /// Records a step: duplicate names and its quantifier. Conditions are resolved later, once
  /// every step is known, so a reference to a later step can be told apart from a field.
  mutating func checkStepDeclaration(_ step: StepSyntax) {
    if let name = step.name, let first = stepIndex(named: name.value), let firstName = steps[first].name {
      report(
        .duplicateStep(name.value), at: name.range,
        notes: [note("'\(name.value)' is first declared here", at: firstName.range)])
    }
    var quantifier = Quantifier.once
    var quantifierRange: SourceRange?
    for modifier in step.modifiers {
      guard case .times(let count, let orMore) = modifier.kind else { continue }
      if quantifierRange != nil {
        report(.duplicateQuantifier(step: step.name?.value ?? "?"), at: modifier.range)
        continue
      }
      quantifierRange = modifier.range
      guard count.value >= 1 && count.value <= Int64(SemaMessage.timesLimit) else {
        report(.timesOutOfRange(file.text(of: count.range)), at: count.range)
        continue
      }
      quantifier = orMore ? .timesOrMore(Int(count.value)) : .times(Int(count.value))
    }
    steps.append(
      StepInfo(
        name: step.name, kind: step.kind, quantifier: quantifier, quantifierRange: quantifierRange,
        syntax: step))
  }
}

/// A field read somewhere in the rule set, for the misspelling check.
struct FieldUse {
  /// The dotted path.
  var name: String
  var file: SourceFile
  var range: SourceRange
}
