import TocsinExpressions

/// The checker's message catalogue (domain `sema`), cases sorted alphabetically.
enum SemaMessage: DiagnosticMessage {
  /// `not_followed_by` as the last step of a rule without `within`.
  case absenceWithoutWithin
  /// `count(a.b)`, `sum(a)`: an aggregate's argument has the wrong shape.
  case aggregateArgument(function: String, example: String)
  /// `amount > 10 and amount < 5`: comparisons with numbers no value of the field satisfies.
  case alwaysFalse(field: String)
  /// `amount > 5 or amount < 10`: comparisons with numbers every number satisfies.
  case alwaysTrue(field: String)
  /// A regex, glob or CIDR argument that is not a string literal.
  case argumentNotLiteral(position: Int, function: String, signature: String)
  /// A literal argument whose type does not fit the parameter.
  case argumentTypeMismatch(position: Int, function: String, found: ValueType, expected: ValueType)
  /// `time - 5` or `duration + "x"`: an arithmetic operator on a time or a duration with an
  /// operand it does not combine with.
  case arithmeticTypeMismatch(op: String, lhs: ValueType, rhs: ValueType)
  /// `begin` after the first step.
  case beginNotFirst
  /// Two literal types that can never be compared, e.g. `"a" == 1`.
  case comparisonTypeMismatch(op: String, lhs: ValueType, rhs: ValueType)
  /// `x == null`, which is always false.
  case comparisonWithNull
  /// A `where` whose type is known and not bool.
  case conditionNotBool(ValueType)
  /// `consecutive` and `allow_combinations` on one step or group.
  case conflictingContiguity
  /// A clause written twice in one rule.
  case duplicateClause(String)
  /// Two emitted fields with one name.
  case duplicateEmitField(String)
  /// A field declared twice in the schemas of one file.
  case duplicateSchemaField(String)
  /// A modifier such as `optional` or `greedy` written twice on one step or group.
  case duplicateModifier(String)
  /// Two `times` on one step.
  case duplicateQuantifier(step: String)
  /// Two rules with one name (across all files).
  case duplicateRule(String)
  /// Two steps with one name in a rule.
  case duplicateStep(String)
  /// `to a, a`: a sink named twice in one `to` clause.
  case duplicateSink(String)
  /// A path whose first component looks like a misspelt step name.
  case fieldLooksLikeStep(name: String, path: String)
  /// The first step is not `begin`.
  case firstStepNotBegin(found: String)
  /// `greedy` on a group or on a step inside a group.
  case greedyInGroup(onGroup: Bool)
  /// `where`, `or where` or `until` on a group.
  case groupCondition(String)
  /// A group whose steps are all negations.
  case groupWithoutTakingStep
  /// `in_cidr(ip, "10.0.0.0/33")`: not an IPv4 or IPv6 block.
  case invalidCidr(String)
  /// A regex PCRE2 does not compile, with PCRE2's message.
  case invalidRegex(String)
  /// `x in [a, y]`: a list element that is not a literal.
  case listElementNotConstant
  /// `in` followed by something that is not a list.
  case inNotList(ValueType)
  /// `burst.amount` where `burst` takes several events.
  case loopingStepField(step: String)
  /// A rule without any step.
  case missingStep(rule: String)
  /// `greedy`, `consecutive`, `allow_combinations` or `until` on a step or group that takes one event.
  case modifierNeedsLoop(String)
  /// `not_next ( … )`: a group cannot be a negation.
  case negatedGroup(String)
  /// A pattern or group that starts with a negation step.
  case negationFirst(String, inGroup: Bool)
  /// A quantifier or loop modifier on a negation step.
  case negationQuantifier(String)
  /// A negation step read by a condition, `emit`, an aggregate or a skip strategy.
  case negationStepRead(step: String)
  /// An operator applied to a literal type it does not accept, e.g. `"a" + 1`, `not 3`.
  case operandTypeMismatch(op: String, found: ValueType, expected: String)
  /// A condition reading a field of an earlier optional step, which reads null when it was
  /// skipped.
  case optionalStepRead(step: String)
  /// An optional step or group directly followed by a negation step.
  case optionalBeforeNegation(String)
  /// `or where` with no `where` before it on the step.
  case orWhereFirst
  /// A rule whose automaton would need more than `limit` step copies.
  case patternTooLarge(copies: Int, limit: Int)
  /// A field read once that looks like a misspelling of a field read elsewhere.
  case rarelyUsedField(name: String, suggestion: String)
  /// `regex_extract(s, "(a)", 2)`: a literal group number beyond the pattern's groups.
  case regexGroupOutOfRange(group: Int64, groups: Int)
  /// A schema file that cannot be read, or that holds rules.
  case schemaFileUnusable(path: String, reason: String)
  /// `skip to_first` / `to_last` to a step that may bind nothing.
  case skipTargetOptional(step: String)
  /// `skip to_first` / `to_last` to a negation step, which binds no event.
  case skipToNegation(step: String)
  /// A condition reading a step declared after its own.
  case stepDeclaredLater(step: String, current: String)
  /// A step name used without a field (`first` instead of `first.amount`).
  case stepWithoutField(step: String)
  /// `speed_kmh(a, b)` whose arguments are not steps that take one event.
  case speedArguments
  /// `suppress 0s`.
  case suppressNotPositive
  /// `time(x)` where `x` is not a step name.
  case timeArgument
  /// `on timeout emit` in a rule without `within`.
  case timeoutWithoutWithin
  /// `times N` with N outside 1…100000.
  case timesOutOfRange(String)
  /// `times N..M` with N > M.
  case timesRangeReversed(String)
  /// More than `limit` `where` / `or where` clauses on one step.
  case tooManyConditions(count: Int, limit: Int)
  /// More than `limit` steps in one rule.
  case tooManySteps(count: Int, limit: Int)
  /// A looping or `followed_by_any` step, or a looping group, in a rule without `within`.
  case unboundedState
  /// A named step without conditions that nothing reads: it takes any event.
  case unusedStep(step: String)
  /// A field a schema does not declare.
  case unknownField(String)
  /// A call of an unknown function.
  case unknownFunction(String)
  /// A schema type that does not exist.
  case unknownSchemaType(String)
  /// `severity` with an unknown level.
  case unknownSeverity(String)
  /// A time-zone name Foundation does not know.
  case unknownTimeZone(String)
  /// `to NAME` where the sink configuration given to `check` defines no sink `NAME`.
  case unknownSink(String)
  /// An aggregate over a step that does not exist.
  case unknownStep(String)
  /// `within 0s`.
  case withinNotPositive
  /// A call with the wrong number of arguments.
  /// `expected` lists the accepted counts (`[1, 2]` for an optional argument).
  case wrongArgumentCount(function: String, expected: [Int], found: Int, signature: String)

  static let domain = "sema"

  /// The largest `times N`.
  static let timesLimit = 100_000

  var severity: DiagnosticSeverity {
    switch self {
    case .alwaysFalse, .alwaysTrue, .comparisonWithNull, .duplicateSink, .fieldLooksLikeStep, .optionalStepRead,
      .rarelyUsedField, .skipTargetOptional, .unboundedState, .unusedStep:
      return .warning
    default: return .error
    }
  }

  var text: String {
    switch self {
    case .absenceWithoutWithin:
      return "'not_followed_by' as the last step needs 'within': without a deadline the absence never becomes certain"
    case .aggregateArgument(let function, let example):
      return "'\(function)' takes a step \(function == "count" ? "name" : "field"), like '\(example)'"
    case .alwaysFalse(let field):
      return "condition is always false: no value of '\(field)' satisfies these comparisons"
    case .alwaysTrue(let field):
      return "condition is always true for a numeric '\(field)': these comparisons cover every number"
    case .argumentNotLiteral(let position, let function, let signature):
      return "argument \(position) of '\(function)' must be a string literal, compiled once; expected '\(signature)'"
    case .argumentTypeMismatch(let position, let function, let found, let expected):
      return "argument \(position) of '\(function)' has type '\(found.rawValue)'; expected \(expected.rawValue)"
    case .arithmeticTypeMismatch(let op, let lhs, let rhs):
      return "operator '\(op)' cannot combine '\(lhs.rawValue)' and '\(rhs.rawValue)'"
    case .beginNotFirst: return "'begin' can only start a rule; expected 'next' or 'followed_by'"
    case .comparisonTypeMismatch(let op, let lhs, let rhs):
      return "cannot compare '\(lhs.rawValue)' with '\(rhs.rawValue)' using '\(op)'"
    case .comparisonWithNull:
      return "comparison with null is always false; use exists(f) or not exists(f)"
    case .conditionNotBool(let type): return "condition has type '\(type.rawValue)'; expected bool"
    case .conflictingContiguity:
      return "'consecutive' and 'allow_combinations' cannot be combined: the repetitions are either strictly contiguous or any combination"
    case .duplicateClause(let name): return "duplicate '\(name)' clause"
    case .duplicateEmitField(let name): return "duplicate emit field '\(name)'"
    case .duplicateSchemaField(let name): return "field '\(name)' is declared twice in the schema"
    case .duplicateModifier(let word): return "duplicate '\(word)'"
    case .duplicateQuantifier(let step):
      return "\(step) has more than one quantifier ('times' or 'one_or_more')"
    case .duplicateRule(let name): return "duplicate rule name '\(name)'"
    case .duplicateSink(let name): return "sink '\(name)' is named twice; its alerts are sent once"
    case .duplicateStep(let name): return "duplicate step name '\(name)'"
    case .fieldLooksLikeStep(let name, let path):
      return "'\(name)' is not a step; reading field '\(path)' of the current event"
    case .firstStepNotBegin(let found): return "the first step must be 'begin', found '\(found)'"
    case .greedyInGroup(let onGroup):
      return onGroup
        ? "'greedy' cannot apply to a group: greedy matching is only defined for a single looping step"
        : "'greedy' cannot apply to a step inside a group: greedy matching is only defined outside groups"
    case .groupCondition(let word):
      return "'\(word)' cannot apply to a group: conditions belong to the group's steps"
    case .groupWithoutTakingStep:
      return "a group needs a step that takes events: a group of negations alone matches nothing"
    case .inNotList(let type):
      return "'in' needs a list, like '[\"a\", \"b\"]' or 'split(tags, \",\")'; found '\(type.rawValue)'"
    case .invalidCidr(let text):
      return "'\(text)' is not an IPv4 or IPv6 CIDR block"
    case .invalidRegex(let message): return "invalid regular expression: \(message)"
    case .listElementNotConstant:
      return "the values after 'in' must be literals (strings, numbers or booleans)"
    case .loopingStepField(let step):
      return "step '\(step)' takes several events; expected an aggregate over it"
    case .missingStep(let rule): return "rule '\(rule)' has no steps; expected 'begin NAME'"
    case .modifierNeedsLoop(let word):
      return "'\(word)' only applies to a repeating step or group: this one takes a single event"
    case .negatedGroup(let word):
      return "a group cannot be introduced by '\(word)': only single steps can be negations"
    case .negationFirst(let word, let inGroup):
      return "\(inGroup ? "a group" : "a pattern") cannot start with '\(word)': a negation needs an earlier step to follow"
    case .negationQuantifier(let word):
      return "a negation step cannot take '\(word)': a negation step matches no event, so it cannot repeat"
    case .negationStepRead(let step):
      return "'\(step)' is a negation step and binds no event, so it cannot be read"
    case .operandTypeMismatch(let op, let found, let expected):
      return "operator '\(op)' cannot be applied to '\(found.rawValue)'; expected \(expected)"
    case .optionalStepRead(let step):
      return "step '\(step)' is optional: when it was skipped this reads null and the comparison is false"
    case .optionalBeforeNegation(let word):
      return "an optional step cannot be directly followed by '\(word)': an optional path to a negation is not supported"
    case .orWhereFirst:
      return "'or where' needs a 'where' before it on the same step"
    case .rarelyUsedField(let name, let suggestion):
      return "field '\(name)' is read only here; did you mean '\(suggestion)'?"
    case .patternTooLarge(let copies, let limit):
      let count = copies > limit ? "more than \(limit)" : "\(copies)"
      return "the rule's pattern unrolls to \(count) step copies; expected at most \(limit)"
    case .regexGroupOutOfRange(let group, let groups):
      return "the pattern has \(groups) capture group\(groups == 1 ? "" : "s"), so group \(group) never matches; expected 0 (the whole match) to \(groups)"
    case .schemaFileUnusable(let path, let reason): return "schema file '\(path)' \(reason)"
    case .skipTargetOptional(let step):
      return "skip target '\(step)' is optional: for matches without it the skip behaves like 'no_skip'"
    case .skipToNegation(let step):
      return "cannot skip to '\(step)': a negation step binds no event"
    case .stepDeclaredLater(let step, let current):
      return "step '\(step)' is declared after '\(current)'; a condition can only read earlier steps"
    case .stepWithoutField(let step):
      return "'\(step)' is a step; expected a field after it, like '\(step).amount'"
    case .speedArguments:
      return "'speed_kmh' with two arguments takes two steps that take one event each, like 'speed_kmh(first, second)'"
    case .timeArgument:
      return "'time' takes a step that takes one event, or nothing for the current event, like 'time(first)' or 'time()'"
    case .timeoutWithoutWithin:
      return "'on timeout' needs 'within': without a deadline no partial match ever times out"
    case .timesOutOfRange(let text):
      return "'times \(text)' is out of range; expected a count from 1 to \(SemaMessage.timesLimit)"
    case .timesRangeReversed(let text):
      return "'times \(text)' has its lower bound above its upper bound"
    case .tooManyConditions(let count, let limit):
      return "step has \(count) 'where' clauses; expected at most \(limit)"
    case .tooManySteps(let count, let limit):
      return "rule has \(count) steps; expected at most \(limit)"
    case .unboundedState:
      return "unbounded state: without 'within', partial matches of this step are kept until end of input"
    case .unusedStep(let step):
      return "step '\(step)' has no condition and is never read: it takes any event"
    case .unknownField(let name): return "unknown field '\(name)'; the schema does not declare it"
    case .unknownSchemaType(let name):
      return "unknown schema type '\(name)'; expected \(SchemaType.spellings)"
    case .unknownTimeZone(let name): return "unknown time zone '\(name)'; expected an IANA name like 'Europe/Berlin'"
    case .unknownFunction(let name): return "unknown function '\(name)'"
    case .unknownSeverity(let name):
      return "unknown severity '\(name)'; expected info, low, medium, high or critical"
    case .unknownSink(let name): return "unknown sink '\(name)'"
    case .unknownStep(let name): return "unknown step '\(name)'"
    case .suppressNotPositive: return "'suppress' must be longer than zero"
    case .withinNotPositive: return "'within' must be longer than zero"
    case .wrongArgumentCount(let function, let expected, let found, let signature):
      let noun = expected == [1] ? "argument" : "arguments"
      let counts = expected.map(String.init).joined(separator: " or ")
      return "'\(function)' takes \(counts) \(noun), found \(found); expected '\(signature)'"
    }
  }

  var hint: String? {
    switch self {
    case .absenceWithoutWithin, .timeoutWithoutWithin: return "add e.g. 'within 10m'"
    case .alwaysFalse: return "check the bounds; did you mean 'or', or the other comparison operator?"
    case .alwaysTrue:
      return "check the bounds; did you mean 'and'? (a missing or non-numeric value still makes it false)"
    case .optionalStepRead(let step):
      return "guard it with 'not exists(\(step).f) or …', or give it a default with 'coalesce(\(step).f, …)'"
    case .unusedStep:
      return "add a 'where' to say which event it takes, or remove the step if any event will do"
    case .arithmeticTypeMismatch(let op, let lhs, let rhs):
      return SemaMessage.temporalHint(op: op, lhs, rhs)
    case .comparisonTypeMismatch(_, let lhs, let rhs):
      return SemaMessage.temporalHint(op: "==", lhs, rhs)
    case .loopingStepField(let step):
      return "use an aggregate like 'sum(\(step).f)' or 'count(\(step))'"
    case .negationQuantifier: return "one matching event already ends the partial match; remove the modifier"
    case .optionalBeforeNegation:
      return "write two rules, one with and one without the optional step"
    case .timesRangeReversed: return "write the smaller count first, e.g. 'times 2..5'"
    case .patternTooLarge:
      return "a repeated group multiplies the copies of the steps inside it; lower the 'times' counts"
    case .tooManyConditions: return "combine alternatives with 'x in [a, b, …]'"
    case .tooManySteps: return "split the pattern into several rules"
    case .unboundedState: return "add 'within DURATION' to bound how long partial matches are kept"
    default: return nil
    }
  }

  /// How to fix an operator applied to a time or duration and something it does not fit.
  static func temporalHint(op: String, _ lhs: ValueType, _ rhs: ValueType) -> String? {
    let pair = Set([lhs, rhs])
    if pair.contains(.duration) && !pair.isDisjoint(with: [.int, .float, .number]) {
      return op == "*" || op == "/" ? nil : "write the number as a duration literal, like '5m' or '300s', or scale one: '5 * 1m'"
    }
    if pair.contains(.time) && !pair.isDisjoint(with: [.int, .float, .number, .string]) {
      return "convert epoch milliseconds or RFC 3339 text with 'to_time(…)'"
    }
    if pair == [.time, .duration] {
      return "add or subtract a duration to get a time ('time(a) + 5m'), or subtract two times to get a duration"
    }
    if pair == [.time] && op == "+" { return "subtract two times to get a duration: 'time(b) - time(a)'" }
    return nil
  }
}
