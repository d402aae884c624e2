import TocsinCore
import TocsinExpressions

/// A compiled rule: everything the runtime needs and nothing of the syntax.
///
/// Built once by `NFACompiler`, immutable, shared by every key and shard.
public struct RuleProgram {
  /// The checked rule it came from (names, severity, steps, emit IR), for output and `explain`.
  public var spec: RuleSpec
  /// The automaton.
  public var nfa: NFA
  /// `stepConditions[i]` is step i's compiled `where` conjunction, `nil` when it accepts all.
  public var stepConditions: [Condition?]
  /// `untilConditions[i]` is step i's compiled `until`, `nil` when it has none.
  public var untilConditions: [Condition?]
  /// Compiled `emit` values, parallel to `spec.emit`.
  public var emitValues: [Evaluator]
  /// Compiled `on timeout emit` values, parallel to `spec.onTimeout`.
  public var timeoutValues: [Evaluator]?
  /// Slots of `spec.keyFields`, in order.
  public var keySlots: [SlotIndex]
  /// Compiled `suppress … by` key, `nil` when the rule has no `by` (or no `suppress`).
  public var suppressionKey: Evaluator?

  /// Creates a program. Use `NFACompiler`.
  public init(
    spec: RuleSpec, nfa: NFA, stepConditions: [Condition?], untilConditions: [Condition?],
    emitValues: [Evaluator], timeoutValues: [Evaluator]?, keySlots: [SlotIndex],
    suppressionKey: Evaluator? = nil
  ) {
    self.spec = spec
    self.nfa = nfa
    self.stepConditions = stepConditions
    self.untilConditions = untilConditions
    self.timeoutValues = timeoutValues
    self.emitValues = emitValues
    self.keySlots = keySlots
    self.suppressionKey = suppressionKey
  }

  /// The rule's name.
  public var name: String { spec.name }

  /// Whether `condition` holds for `event` given the partial match's `bindings`.
  @inlinable
  public func holds(
    _ condition: NFA.EdgeCondition, _ event: EventRecord, _ bindings: MatchNode?,
    _ context: EvalContext
  ) -> Bool {
    Self.holds(condition, event, bindings, context, steps: stepConditions, untils: untilConditions)
  }

  /// ``holds(_:_:_:_:)`` over the two condition tables alone. It recurses for `not` and `and`,
  /// so it is not always inlined, and a method on the whole `RuleProgram` then copied the struct
  /// onto the stack for each call; the matcher calls this with its own copies of the tables.
  @inlinable
  public static func holds(
    _ condition: NFA.EdgeCondition, _ event: EventRecord, _ bindings: MatchNode?,
    _ context: EvalContext, steps: [Condition?], untils: [Condition?]
  ) -> Bool {
    switch condition {
    case .always: return true
    case .take(let step):
      guard let predicate = steps[step] else { return true }
      return predicate.holds(event, bindings, context)
    case .until(let step):
      guard let predicate = untils[step] else { return false }
      return predicate.holds(event, bindings, context)
    case .not(let inner): return !holds(inner, event, bindings, context, steps: steps, untils: untils)
    case .and(let l, let r):
      return holds(l, event, bindings, context, steps: steps, untils: untils)
        && holds(r, event, bindings, context, steps: steps, untils: untils)
    }
  }
}

/// Every rule of a run, compiled against one shared field projection.
public struct ProgramSet {
  /// The rules in load order (files sorted by path, rules in file order).
  public var rules: [RuleProgram]
  /// The fields any rule reads; ingestion fills exactly these slots.
  public var projection: FieldProjection

  /// Creates a program set.
  public init(rules: [RuleProgram], projection: FieldProjection) {
    self.rules = rules
    self.projection = projection
  }
}
