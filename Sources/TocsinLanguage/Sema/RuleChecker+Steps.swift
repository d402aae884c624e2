import TocsinCore
import TocsinExpressions

/// Step and group declarations: names, modifiers (quantifiers and their restrictions), the order
/// of steps within the pattern and within each group, and negation rules, as Flink CEP's
/// `NFACompiler` enforces them.
extension RuleChecker {
  /// Declares the top-level sequence; steps and groups are flattened in written order.
  mutating func declarePattern(_ pattern: [StepSyntax]) {
    // Steps may have been lost to a syntax error; then "no steps" would be a follow-on error.
    if pattern.isEmpty && !rule.hasSyntaxErrors {
      report(.missingStep(rule: rule.name?.value ?? "?"), at: rule.name?.range ?? rule.ruleKeyword)
    }
    declareSequence(pattern, enclosingGroups: [], inherited: .relaxed)
  }

  /// What the modifiers of one step or group say.
  private struct Modifiers {
    var quantifier = Quantifier.once
    var quantifierRange: SourceRange?
    var optional: SourceRange?
    var greedy: SourceRange?
    var consecutive: SourceRange?
    var allowCombinations: SourceRange?
    var until: (syntax: ExprSyntax, range: SourceRange)?
    var conditions: [(isOr: Bool, syntax: ExprSyntax, range: SourceRange)] = []
  }

  /// The contiguity a step keyword gives; `begin` takes the enclosing sequence's.
  private static func contiguity(of intro: StepIntro, inherited: Contiguity) -> Contiguity {
    switch intro {
    case .begin: return inherited
    case .next, .notNext: return .strict
    case .followedBy, .notFollowedBy: return .relaxed
    case .followedByAny: return .nonDeterministic
    }
  }

  /// Declares one sequence (the pattern, or a group's steps): its order rules, then each element.
  private mutating func declareSequence(
    _ elements: [StepSyntax], enclosingGroups: [Int], inherited: Contiguity
  ) {
    let inGroup = !enclosingGroups.isEmpty
    var previousOptional: SourceRange?
    for (position, element) in elements.enumerated() {
      let intro = element.kind
      if position == 0 {
        if intro.value.isNegation {
          report(.negationFirst(intro.value.rawValue, inGroup: inGroup), at: intro.range)
        } else if intro.value != .begin {
          report(.firstStepNotBegin(found: intro.value.rawValue), at: intro.range)
        }
      } else if intro.value == .begin {
        report(.beginNotFirst, at: intro.range)
      }
      if intro.value.isNegation, let optional = previousOptional {
        report(
          .optionalBeforeNegation(intro.value.rawValue), at: intro.range,
          notes: [note("the step before is optional here", at: optional)])
      }
      let contiguity = RuleChecker.contiguity(of: intro.value, inherited: inherited)
      if let group = element.group {
        previousOptional = declareGroup(element, group, enclosingGroups: enclosingGroups, contiguity: contiguity)
      } else {
        previousOptional = declareStep(element, enclosingGroups: enclosingGroups, contiguity: contiguity)
      }
    }
  }

  /// Records a step: duplicate names and its modifiers. Returns the `optional` modifier's range
  /// when the step is optional.
  private mutating func declareStep(
    _ step: StepSyntax, enclosingGroups: [Int], contiguity: Contiguity
  ) -> SourceRange? {
    if let name = step.name, let first = stepIndex(named: name.value), let firstName = steps[first].name {
      report(
        .duplicateStep(name.value), at: name.range,
        notes: [note("'\(name.value)' is first declared here", at: firstName.range)])
    }
    let modifiers = readModifiers(step, isGroup: false, inGroup: !enclosingGroups.isEmpty)
    steps.append(
      StepInfo(
        name: step.name, kind: step.kind, quantifier: modifiers.quantifier,
        quantifierRange: modifiers.quantifierRange, contiguity: contiguity,
        enclosingGroups: enclosingGroups, conditions: modifiers.conditions,
        until: modifiers.until?.syntax, syntax: step))
    return modifiers.quantifier.isOptional ? modifiers.optional : nil
  }

  /// Records a group and declares its steps. Returns the `optional` modifier's range when the
  /// group is optional.
  private mutating func declareGroup(
    _ step: StepSyntax, _ group: GroupSyntax, enclosingGroups: [Int], contiguity: Contiguity
  ) -> SourceRange? {
    if step.kind.value.isNegation {
      report(.negatedGroup(step.kind.value.rawValue), at: step.kind.range)
    }
    let modifiers = readModifiers(step, isGroup: true, inGroup: true)
    let index = groups.count
    let first = steps.count
    groups.append(
      GroupInfo(
        syntax: step, range: first..<first, contiguity: contiguity, quantifier: modifiers.quantifier,
        quantifierRange: modifiers.quantifierRange, enclosingGroups: enclosingGroups))
    // A group of negations only would match no event at all; its first-step error would then
    // say the same thing less clearly.
    if !RuleChecker.hasTakingStep(group.steps) {
      report(.groupWithoutTakingStep, at: group.open)
      var inner = group.steps
      if !inner.isEmpty { inner[0].kind.value = .begin }  // already reported
      declareSequence(inner, enclosingGroups: enclosingGroups + [index], inherited: contiguity)
    } else {
      declareSequence(group.steps, enclosingGroups: enclosingGroups + [index], inherited: contiguity)
    }
    groups[index].range = first..<steps.count
    return modifiers.quantifier.isOptional ? modifiers.optional : nil
  }

  /// Whether a group's steps (nested groups included) contain a step that takes events.
  private static func hasTakingStep(_ steps: [StepSyntax]) -> Bool {
    steps.contains { step in
      if let group = step.group { return hasTakingStep(group.steps) }
      return !step.kind.value.isNegation
    }
  }

  /// Reads and checks the modifiers of a step or group.
  private mutating func readModifiers(_ step: StepSyntax, isGroup: Bool, inGroup: Bool) -> Modifiers {
    var result = Modifiers()
    let isNegation = step.kind.value.isNegation && !isGroup
    let stepName = isGroup ? "group" : "step '\(step.name?.value ?? "?")'"
    var min = 1
    var max: Int? = 1
    for modifier in step.modifiers {
      let spelling = RuleChecker.spelling(of: modifier.kind)
      switch modifier.kind {
      case .where(let expr), .orWhere(let expr), .until(let expr):
        if isGroup {
          report(.groupCondition(spelling), at: modifier.range)
          continue
        }
        if case .until = modifier.kind {
          if isNegation {
            report(.negationQuantifier(spelling), at: modifier.range)
          } else if let first = result.until {
            report(.duplicateModifier(spelling), at: modifier.range, notes: [note("first '\(spelling)' is here", at: first.range)])
          } else {
            result.until = (expr, modifier.range)
          }
        } else {
          if case .orWhere = modifier.kind, result.conditions.isEmpty {
            report(.orWhereFirst, at: modifier.range)
          }
          var isOr = false
          if case .orWhere = modifier.kind { isOr = true }
          result.conditions.append((isOr, expr, modifier.range))
        }
      case .times, .timesRange, .oneOrMore:
        if isNegation {
          report(.negationQuantifier(spelling), at: modifier.range)
          continue
        }
        if let first = result.quantifierRange {
          report(
            .duplicateQuantifier(step: stepName), at: modifier.range,
            notes: [note("first quantifier is here", at: first)])
          continue
        }
        result.quantifierRange = modifier.range
        switch modifier.kind {
        case .times(let count, let orMore):
          guard count.value >= 1 && count.value <= Int64(SemaMessage.timesLimit) else {
            report(.timesOutOfRange(file.text(of: count.range)), at: count.range)
            continue
          }
          min = Int(count.value)
          max = orMore ? nil : min
        case .timesRange(let low, let high):
          let text = "\(file.text(of: low.range))..\(file.text(of: high.range))"
          guard low.value >= 1 && high.value <= Int64(SemaMessage.timesLimit) else {
            report(.timesOutOfRange(text), at: low.value >= 1 ? high.range : low.range)
            continue
          }
          guard low.value <= high.value else {
            report(.timesRangeReversed(text), at: low.range)
            continue
          }
          min = Int(low.value)
          max = Int(high.value)
        default:
          min = 1
          max = nil
        }
      case .optional, .greedy, .consecutive, .allowCombinations:
        if isNegation {
          report(.negationQuantifier(spelling), at: modifier.range)
          continue
        }
        if case .greedy = modifier.kind, inGroup {
          report(.greedyInGroup(onGroup: isGroup), at: modifier.range)
          continue
        }
        let existing: SourceRange?
        switch modifier.kind {
        case .optional: existing = result.optional
        case .greedy: existing = result.greedy
        case .consecutive: existing = result.consecutive
        default: existing = result.allowCombinations
        }
        if let existing {
          report(
            .duplicateModifier(spelling), at: modifier.range,
            notes: [note("first '\(spelling)' is here", at: existing)])
          continue
        }
        switch modifier.kind {
        case .optional: result.optional = modifier.range
        case .greedy: result.greedy = modifier.range
        case .consecutive: result.consecutive = modifier.range
        default: result.allowCombinations = modifier.range
        }
      }
    }
    if let consecutive = result.consecutive, let combinations = result.allowCombinations {
      let (first, second) = consecutive.start < combinations.start
        ? (consecutive, combinations) : (combinations, consecutive)
      report(
        .conflictingContiguity, at: second,
        notes: [note("'\(file.text(of: first))' is here", at: first)])
    }
    var quantifier = Quantifier(min: min, max: max)
    if max == 1 {
      // Only a looping step or group can use these; report each in written order.
      let loopOnly = [result.greedy, result.consecutive, result.allowCombinations, result.until?.range]
        .compactMap { $0 }.sorted { $0.start < $1.start }
      for range in loopOnly {
        let word = file.text(of: range).split(separator: " ").first.map(String.init) ?? ""
        report(.modifierNeedsLoop(word), at: range, hint: "add a quantifier such as 'times 2+' or 'one_or_more'")
      }
    } else {
      if result.consecutive != nil && result.allowCombinations == nil { quantifier.inner = .strict }
      if result.allowCombinations != nil && result.consecutive == nil { quantifier.inner = .nonDeterministic }
      quantifier.isGreedy = result.greedy != nil
    }
    quantifier.isOptional = result.optional != nil
    result.quantifier = quantifier
    if max == 1 { result.until = nil }
    return result
  }

  /// How a modifier is written, for messages.
  private static func spelling(of kind: StepModifierSyntax.Kind) -> String {
    switch kind {
    case .where: return "where"
    case .orWhere: return "or where"
    case .until: return "until"
    case .times(_, let orMore): return orMore ? "times N+" : "times"
    case .timesRange: return "times N..M"
    case .oneOrMore: return "one_or_more"
    case .optional: return "optional"
    case .greedy: return "greedy"
    case .consecutive: return "consecutive"
    case .allowCombinations: return "allow_combinations"
    }
  }
}
