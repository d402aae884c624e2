import TocsinCore
import TocsinExpressions

/// Checks one rule and lowers it to a ``RuleSpec``.
///
/// Pass order: 1) clauses (duplicates, severity, `within`, key, skip) and step declarations
/// (names, quantifiers), 2) step order, 3) conditions and 4) `emit` (name resolution and types, in
/// `RuleChecker+Expressions.swift`), 5) rule-wide warnings. Conditions are resolved only after
/// every step is declared, so a reference to a later step can be told apart from a field. Every problem is reported; the spec is
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

  /// The rule's non-step clauses after checking, with their defaults.
  struct Header {
    var severity = Severity.medium
    var description: String?
    var keyFields: [FieldPath] = []
    var within: EventDuration?
    var skip = SkipStrategy.noSkip
    var emit: [EmitFieldSyntax] = []
  }

  /// Checks the rule; returns its spec when there is no error.
  mutating func check() -> RuleSpec? {
    let header = checkClauses()  // 1) clauses, and step declarations in written order
    checkStepOrder()  // 2)
    let stepSpecs = lowerSteps()  // 3) conditions
    let emit = lowerEmit(header.emit)  // 4) emit
    // 5) Rule-wide warnings.
    if header.within == nil {
      for step in steps where step.quantifier.isLooping {
        report(.unboundedState, at: step.quantifierRange ?? step.kind.range)
      }
    }
    guard errorCount == 0, !rule.hasSyntaxErrors, let name = rule.name else { return nil }
    return RuleSpec(
      name: name.value, severity: header.severity, description: header.description,
      keyFields: header.keyFields, steps: stepSpecs, within: header.within, skip: header.skip,
      emit: emit, sourcePath: file.path, sourceLine: file.location(of: rule.ruleKeyword.start).line)
  }

  /// Checks every clause once, reporting duplicates, and records the steps.
  private mutating func checkClauses() -> Header {
    var header = Header()
    var firstClause: [String: SourceRange] = [:]
    for clause in rule.clauses {
      if let category = RuleChecker.uniqueCategory(of: clause.kind) {
        if let first = firstClause[category] {
          report(
            .duplicateClause(file.text(of: clause.keyword)), at: clause.keyword,
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
        }
      case .within(let duration):
        if duration.value <= .zero { report(.withinNotPositive, at: duration.range) }
        header.within = duration.value
      case .skip(let strategy):
        switch strategy.value {
        case .noSkip: header.skip = .noSkip
        case .pastLastEvent: header.skip = .skipPastLastEvent
        }
      case .emit(let fields):
        header.emit = fields
      case .step(let step):
        checkStepDeclaration(step)
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
    case .skip: return "skip"
    case .emit: return "emit"
    }
  }

  /// A rule has steps, `begin` first and only first.
  private mutating func checkStepOrder() {
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
  }

  /// Resolves each step's `where` clauses (AND-ed) and maps its kind to a contiguity.
  private mutating func lowerSteps() -> [StepSpec] {
    var specs: [StepSpec] = []
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
      // `begin` has no predecessor, so its contiguity is irrelevant; `.relaxed` by convention.
      let contiguity: Contiguity = step.kind.value == .next ? .strict : .relaxed
      specs.append(
        StepSpec(
          name: step.name?.value ?? "", contiguity: contiguity, quantifier: step.quantifier,
          condition: condition))
    }
    return specs
  }

  /// Resolves the `emit` values and reports duplicate names.
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
