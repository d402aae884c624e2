import TocsinExpressions

/// The checker's message catalogue (domain `sema`), cases sorted alphabetically.
enum SemaMessage: DiagnosticMessage {
  /// `count(a.b)`, `sum(a)`: an aggregate's argument has the wrong shape.
  case aggregateArgument(function: String, example: String)
  /// A literal argument whose type does not fit the parameter.
  case argumentTypeMismatch(position: Int, function: String, found: ValueType, expected: ValueType)
  /// `begin` after the first step.
  case beginNotFirst
  /// Two literal types that can never be compared, e.g. `"a" == 1`.
  case comparisonTypeMismatch(op: String, lhs: ValueType, rhs: ValueType)
  /// `x == null`, which is always false.
  case comparisonWithNull
  /// A `where` whose type is known and not bool.
  case conditionNotBool(ValueType)
  /// A clause written twice in one rule.
  case duplicateClause(String)
  /// Two emitted fields with one name.
  case duplicateEmitField(String)
  /// Two `times` on one step.
  case duplicateQuantifier(step: String)
  /// Two rules with one name (across all files).
  case duplicateRule(String)
  /// Two steps with one name in a rule.
  case duplicateStep(String)
  /// A path whose first component looks like a misspelt step name.
  case fieldLooksLikeStep(name: String, path: String)
  /// The first step is not `begin`.
  case firstStepNotBegin(found: String)
  /// `burst.amount` where `burst` takes several events.
  case loopingStepField(step: String)
  /// A rule without any step.
  case missingStep(rule: String)
  /// An operator applied to a literal type it does not accept, e.g. `"a" + 1`, `not 3`.
  case operandTypeMismatch(op: String, found: ValueType, expected: String)
  /// A field read once that looks like a misspelling of a field read elsewhere.
  case rarelyUsedField(name: String, suggestion: String)
  /// A condition reading a step declared after its own.
  case stepDeclaredLater(step: String, current: String)
  /// A step name used without a field (`first` instead of `first.amount`).
  case stepWithoutField(step: String)
  /// `times N` with N outside 1…100000.
  case timesOutOfRange(String)
  /// A looping step in a rule without `within`.
  case unboundedState
  /// A call of an unknown function.
  case unknownFunction(String)
  /// `severity` with an unknown level.
  case unknownSeverity(String)
  /// An aggregate over a step that does not exist.
  case unknownStep(String)
  /// `within 0s`.
  case withinNotPositive
  /// A call with the wrong number of arguments.
  case wrongArgumentCount(function: String, expected: Int, found: Int, signature: String)

  static let domain = "sema"

  /// The largest `times N`.
  static let timesLimit = 100_000

  var severity: DiagnosticSeverity {
    switch self {
    case .comparisonWithNull, .fieldLooksLikeStep, .rarelyUsedField, .unboundedState: return .warning
    default: return .error
    }
  }

  var text: String {
    switch self {
    case .aggregateArgument(let function, let example):
      return "'\(function)' takes a step \(function == "count" ? "name" : "field"), like '\(example)'"
    case .argumentTypeMismatch(let position, let function, let found, let expected):
      return "argument \(position) of '\(function)' has type '\(found.rawValue)'; expected \(expected.rawValue)"
    case .beginNotFirst: return "'begin' can only start a rule; expected 'next' or 'followed_by'"
    case .comparisonTypeMismatch(let op, let lhs, let rhs):
      return "cannot compare '\(lhs.rawValue)' with '\(rhs.rawValue)' using '\(op)'"
    case .comparisonWithNull:
      return "comparison with null is always false; use exists(f) or not exists(f)"
    case .conditionNotBool(let type): return "condition has type '\(type.rawValue)'; expected bool"
    case .duplicateClause(let name): return "duplicate '\(name)' clause"
    case .duplicateEmitField(let name): return "duplicate emit field '\(name)'"
    case .duplicateQuantifier(let step): return "step '\(step)' has more than one 'times'"
    case .duplicateRule(let name): return "duplicate rule name '\(name)'"
    case .duplicateStep(let name): return "duplicate step name '\(name)'"
    case .fieldLooksLikeStep(let name, let path):
      return "'\(name)' is not a step; reading field '\(path)' of the current event"
    case .firstStepNotBegin(let found): return "the first step must be 'begin', found '\(found)'"
    case .loopingStepField(let step):
      return "step '\(step)' takes several events; expected an aggregate over it"
    case .missingStep(let rule): return "rule '\(rule)' has no steps; expected 'begin NAME'"
    case .operandTypeMismatch(let op, let found, let expected):
      return "operator '\(op)' cannot be applied to '\(found.rawValue)'; expected \(expected)"
    case .rarelyUsedField(let name, let suggestion):
      return "field '\(name)' is read only here; did you mean '\(suggestion)'?"
    case .stepDeclaredLater(let step, let current):
      return "step '\(step)' is declared after '\(current)'; a condition can only read earlier steps"
    case .stepWithoutField(let step):
      return "'\(step)' is a step; expected a field after it, like '\(step).amount'"
    case .timesOutOfRange(let text):
      return "'times \(text)' is out of range; expected a count from 1 to \(SemaMessage.timesLimit)"
    case .unboundedState:
      return "unbounded state: partial matches of a looping step without 'within' are kept until end of input"
    case .unknownFunction(let name): return "unknown function '\(name)'"
    case .unknownSeverity(let name):
      return "unknown severity '\(name)'; expected info, low, medium, high or critical"
    case .unknownStep(let name): return "unknown step '\(name)'"
    case .withinNotPositive: return "'within' must be longer than zero"
    case .wrongArgumentCount(let function, let expected, let found, let signature):
      let noun = expected == 1 ? "argument" : "arguments"
      return "'\(function)' takes \(expected) \(noun), found \(found); expected '\(signature)'"
    }
  }

  var hint: String? {
    switch self {
    case .loopingStepField(let step):
      return "use an aggregate like 'sum(\(step).f)' or 'count(\(step))'"
    case .unboundedState: return "add 'within DURATION' to bound how long partial matches are kept"
    default: return nil
    }
  }
}
