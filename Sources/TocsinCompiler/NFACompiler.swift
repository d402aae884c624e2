import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Builds the ``NFA`` of a checked rule, the way Flink CEP's `NFACompiler` does: backwards from
/// the final state, each step becoming one or more states whose edges encode its quantifier and
/// contiguity.
///
/// | step                       | states                                                       |
/// |----------------------------|--------------------------------------------------------------|
/// | once                       | `S`: take(C) → next; ignore per contiguity → `S`             |
/// | `times n`                  | n copies `S#1…S#n` chained by take(C)                        |
/// | `times n+`                 | copies `S#1…S#n` then loop `S*`: take(C) → `S*`, proceed → next |
///
/// Ignore edges: `next` (strict) has none, `followed_by` (relaxed) ignores events that fail C,
/// non-deterministic relaxed ignores every event. The first copy of a step uses the contiguity
/// towards the previous step; later copies and the loop use the quantifier's inner contiguity
/// (relaxed by default). A loop's ignore edge leads to a twin state `S*ignored` that can take
/// again but not proceed, exactly as Flink does, so a skipped event cannot be followed by the
/// next step's match within the same branch.
public struct NFACompiler {
  private var states: [NFA.State] = []

  /// A fresh compiler.
  public init() {}

  /// Compiles `spec`'s automaton and conditions, allocating field slots in `expressions`.
  public static func compile(_ spec: RuleSpec, expressions: inout ExprCompiler) -> RuleProgram {
    var compiler = NFACompiler()
    let nfa = compiler.buildNFA(spec)
    let conditions = spec.steps.map { step in step.condition.map { expressions.compileCondition($0) } }
    let emit = spec.emit.map { expressions.compileValue($0.value) }
    var projection = expressions.projection
    let keySlots = spec.keyFields.map { projection.slot(for: $0) }
    expressions = ExprCompiler(projection: projection)
    return RuleProgram(
      spec: spec, nfa: nfa, stepConditions: conditions, emitValues: emit, keySlots: keySlots)
  }

  /// Compiles a whole rule set against one shared projection. `extraFields` (the time field,
  /// the id field) are projected first so their slots are stable across rule sets.
  public static func compile(_ specs: [RuleSpec], extraFields: [FieldPath] = []) -> ProgramSet {
    var expressions = ExprCompiler(projection: FieldProjection(extraFields))
    let programs = specs.map { compile($0, expressions: &expressions) }
    return ProgramSet(rules: programs, projection: expressions.projection)
  }

  // MARK: - Automaton construction

  private mutating func buildNFA(_ spec: RuleSpec) -> NFA {
    let final = addState(name: "$final", step: nil)
    var sink = final
    for (index, step) in spec.steps.enumerated().reversed() {
      sink = addStep(step, index: index, isFirst: index == 0, sink: sink)
    }
    // Renumber so the start state is [0] and states read in pattern order.
    return renumbered(start: sink, final: final)
  }

  private mutating func addStep(_ step: StepSpec, index: Int, isFirst: Bool, sink: StateID)
    -> StateID
  {
    let q = step.quantifier
    let outer: Contiguity? = isFirst ? nil : step.contiguity
    var next = sink
    if q.max == nil {
      next = addLoop(step, index: index, sink: sink)
    }
    let copies = q.min
    for copy in stride(from: copies, through: 1, by: -1) {
      let contiguity = copy == 1 ? outer : q.inner
      let name = copies == 1 && q.max != nil ? step.name : "\(step.name)#\(copy)"
      next = addSingleton(name: name, step: index, contiguity: contiguity, target: next)
    }
    return next
  }

  /// One state taking one event of `step`, with the ignore edge `contiguity` calls for
  /// (`nil` for the start state, which never ignores).
  private mutating func addSingleton(
    name: String, step: Int, contiguity: Contiguity?, target: StateID
  ) -> StateID {
    let id = addState(name: name, step: step)
    states[id.index].edges.append(NFA.Edge(.take, to: target, when: .stepCondition(step)))
    if let ignore = Self.ignoreCondition(contiguity, step: step) {
      states[id.index].edges.append(NFA.Edge(.ignore, to: id, when: ignore))
    }
    return id
  }

  private mutating func addLoop(_ step: StepSpec, index: Int, sink: StateID) -> StateID {
    let loop = addState(name: "\(step.name)*", step: index)
    states[loop.index].edges.append(NFA.Edge(.take, to: loop, when: .stepCondition(index)))
    states[loop.index].edges.append(NFA.Edge(.proceed, to: sink, when: .always))
    if let ignore = Self.ignoreCondition(step.quantifier.inner, step: index) {
      let ignored = addState(name: "\(step.name)*ignored", step: index)
      states[ignored.index].edges.append(NFA.Edge(.take, to: loop, when: .stepCondition(index)))
      states[ignored.index].edges.append(NFA.Edge(.ignore, to: ignored, when: ignore))
      states[loop.index].edges.append(NFA.Edge(.ignore, to: ignored, when: ignore))
    }
    return loop
  }

  private static func ignoreCondition(_ contiguity: Contiguity?, step: Int) -> NFA.EdgeCondition? {
    switch contiguity {
    case nil, .strict?: return nil
    case .relaxed?: return .notStepCondition(step)
    case .nonDeterministic?: return .always
    }
  }

  private mutating func addState(name: String, step: Int?) -> StateID {
    let id = StateID(states.count)
    states.append(NFA.State(id: id, name: name, step: step))
    return id
  }

  /// States were created back to front; number them front to back (breadth-first from start,
  /// edges in order) so dumps read in pattern order.
  private func renumbered(start: StateID, final: StateID) -> NFA {
    var order: [StateID] = []
    var seen = Set<StateID>()
    var queue = [start]
    var head = 0
    while head < queue.count {
      let id = queue[head]
      head += 1
      guard seen.insert(id).inserted, id != final else { continue }
      order.append(id)
      for edge in states[id.index].edges where !seen.contains(edge.target) { queue.append(edge.target) }
    }
    order.append(final)
    var newID = [StateID: StateID]()
    for (i, old) in order.enumerated() { newID[old] = StateID(i) }
    let renamed = order.enumerated().map { i, old -> NFA.State in
      var s = states[old.index]
      s.id = StateID(i)
      s.edges = s.edges.map { e in
        var e = e
        e.target = newID[e.target] ?? e.target
        return e
      }
      return s
    }
    return NFA(states: renamed, start: newID[start] ?? start, final: newID[final] ?? final)
  }
}
