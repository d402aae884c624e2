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
