import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Builds the ``NFA`` of a checked rule the way Flink CEP's `NFACompiler` does, so that every
/// construct matches exactly what Flink would: backwards from the final state, each pattern
/// element becoming one or more states whose edges encode its quantifier and contiguity.
///
/// | element                 | states                                                          |
/// |-------------------------|-----------------------------------------------------------------|
/// | once                    | `S`: take(C) → next; ignore per contiguity                       |
/// | `times n..m`            | n mandatory copies `S#k`, then m−n optional copies (proceed → next) |
/// | `times n+`              | n copies, then loop `S*`: take(C) → `S*`, proceed → next           |
/// | `optional`              | the entry copy also proceeds to what follows                     |
/// | `greedy`                | the loop proceeds only when C fails; the next state's edges get `and not C` |
/// | `until U`               | take and ignore get `and not U`                                  |
/// | `not_next N`            | `N?`: proceed(not N) → next, proceed(N) → stop                   |
/// | `not_followed_by N`     | the next element's entry state gets proceed(N) → stop; as the last step with `within`, a pending state |
/// | group `( … )`           | the group's own sequence compiled in place; looping groups proceed back to their head |
///
/// Ignore edges: strict contiguity has none, relaxed ignores events that fail C,
/// non-deterministic relaxed ignores every event. The entry copy of an element uses its
/// contiguity towards the previous element; later copies and loops use the quantifier's inner
/// contiguity. Conditions are `NFA.EdgeCondition` trees over step indices, so each `where` is
/// compiled once.
public struct NFACompiler {
  /// A pattern element: one step, or a group with its own elements.
  indirect enum Element {
    case step(Int)
    case group(Int, [Element])
  }

  /// Where the compiler is: the sequence being compiled, the element's index in it, and the
  /// enclosing group. Passed down explicitly instead of Flink's mutable cursor fields.
  struct Position {
    var sequence: [Element]
    var index: Int
    var group: Int?
    var groupFirstOfLoop: Bool

    var element: Element { sequence[index] }
    var previous: Element? { index > 0 ? sequence[index - 1] : nil }
    var following: Element? { index + 1 < sequence.count ? sequence[index + 1] : nil }
    var isHeadOfGroup: Bool { group != nil && index == 0 }
  }

  private let spec: RuleSpec
  private var states: [NFA.State] = []
  private var stopStates: [Int: StateID] = [:]
  /// Greedy loops with `until` proceed to a copy of their sink taken before the greedy
  /// condition was added to it (Flink's `originalStateMap`).
  private var originalStates: [StateID: StateID] = [:]
  private var finalState = StateID(0)

  private init(spec: RuleSpec) { self.spec = spec }

  // MARK: - Entry points

  /// Compiles `spec`'s automaton and conditions, allocating field slots in `expressions`.
  public static func compile(_ spec: RuleSpec, expressions: inout ExprCompiler) -> RuleProgram {
    var compiler = NFACompiler(spec: spec)
    let nfa = compiler.build()
    // Wrapped as they are compiled (``Condition``), so no closure passes through a generic.
    let conditions = spec.steps.map { step in step.condition.map { Condition(expressions.compileCondition($0)) } }
    let untils = spec.steps.map { step in step.quantifier.until.map { Condition(expressions.compileCondition($0)) } }
    let emit = spec.emit.map { expressions.compileValue($0.value) }
    let timeout = spec.onTimeout.map { fields in fields.map { expressions.compileValue($0.value) } }
    let keySlots = spec.keyFields.map { expressions.slot(for: $0) }
    let suppressionKey = spec.suppression?.key.map { expressions.compileValue($0) }
    return RuleProgram(
      spec: spec, nfa: nfa, stepConditions: conditions, untilConditions: untils, emitValues: emit,
      timeoutValues: timeout, keySlots: keySlots, suppressionKey: suppressionKey)
  }

  /// Compiles a whole rule set against one shared projection. `extraFields` (the time field,
  /// the id field) are projected first so their slots are stable across rule sets.
  public static func compile(_ specs: [RuleSpec], extraFields: [FieldPath] = []) -> ProgramSet {
    var expressions = ExprCompiler(projection: FieldProjection(extraFields))
    let programs = specs.map { compile($0, expressions: &expressions) }
    return ProgramSet(rules: programs, projection: expressions.projection)
  }

  // MARK: - Structure

  /// The rule's steps and groups as a tree of elements.
  static func elements(of spec: RuleSpec) -> [Element] {
    // Outermost first: earlier start, then longer range.
    let groups = spec.groups.enumerated().sorted { a, b in
      a.element.range.lowerBound != b.element.range.lowerBound
        ? a.element.range.lowerBound < b.element.range.lowerBound
        : a.element.range.count > b.element.range.count
    }
    func build(_ range: Range<Int>, excluding enclosing: Int?) -> [Element] {
      var out: [Element] = []
      var i = range.lowerBound
      while i < range.upperBound {
        let candidate = groups.first { g in
          g.offset != enclosing && g.element.range.lowerBound == i
            && g.element.range.upperBound <= range.upperBound
            && (g.element.range != range || enclosing == nil)
        }
        if let (index, group) = candidate.map({ ($0.offset, $0.element) }) {
          out.append(.group(index, build(group.range, excluding: index)))
          i = group.range.upperBound
        } else {
          out.append(.step(i))
          i += 1
        }
      }
      return out
    }
    return build(0..<spec.steps.count, excluding: nil)
  }

  private func quantifier(_ e: Element) -> Quantifier {
    switch e {
    case .step(let i): return spec.steps[i].quantifier
    case .group(let g, _): return spec.groups[g].quantifier
    }
  }

  private func contiguity(_ e: Element) -> Contiguity {
    switch e {
    case .step(let i): return spec.steps[i].contiguity
    case .group(let g, _): return spec.groups[g].contiguity
    }
  }

  private func kind(_ e: Element) -> StepKind {
    if case .step(let i) = e { return spec.steps[i].kind }
    return .take
  }

  private func name(_ e: Element) -> String {
    switch e {
    case .step(let i): return spec.steps[i].name
    case .group(let g, _): return "(group \(g + 1))"
    }
  }

  private func stepIndex(_ e: Element) -> Int? {
    if case .step(let i) = e { return i }
    return nil
  }

  // MARK: - Conditions

  private func take(_ e: Element) -> NFA.EdgeCondition {
    if case .step(let i) = e { return .take(i) }
    return .always
  }

  /// The take condition extended with `and not until`.
  private func takeWithUntil(_ e: Element) -> NFA.EdgeCondition {
    guard case .step(let i) = e, spec.steps[i].quantifier.until != nil else { return take(e) }
    return .both(.take(i), .negation(.until(i)))
  }

  private func ignore(for contiguity: Contiguity, _ e: Element) -> NFA.EdgeCondition? {
    switch contiguity {
    case .strict: return nil
    case .relaxed: return .negation(take(e))
    case .nonDeterministic: return .always
    }
  }

  /// The ignore condition of an element's entry (Flink's `getIgnoreCondition`): the element's
  /// own contiguity, or for the head of a group the group's (outer on its first iteration,
  /// inner on later ones).
  private func outerIgnore(_ p: Position) -> NFA.EdgeCondition? {
    var c = contiguity(p.element)
    if p.isHeadOfGroup, let g = p.group {
      c = p.groupFirstOfLoop ? spec.groups[g].contiguity : spec.groups[g].quantifier.inner
    }
    return ignore(for: c, p.element)
  }

  private func innerIgnore(_ e: Element) -> NFA.EdgeCondition? {
    let base = ignore(for: quantifier(e).inner, e)
    guard let base, case .step(let i) = e, spec.steps[i].quantifier.until != nil else { return base }
    return .both(base, .negation(.until(i)))
  }

  // MARK: - Building

  private mutating func build() -> NFA {
    finalState = addState(name: "$final", step: nil, kind: .final)
    let top = Self.elements(of: spec)
    let start = compileSequence(top, group: nil, sink: finalState)
    return renumbered(start: start)
  }

  /// Flink's `createMiddleStates` followed by the conversion of the sequence's first element.
  private mutating func compileSequence(_ sequence: [Element], group: Int?, sink: StateID) -> StateID {
    var lastSink = sink
    for index in stride(from: sequence.count - 1, to: 0, by: -1) {
      let p = Position(sequence: sequence, index: index, group: group, groupFirstOfLoop: true)
      switch kind(p.element) {
      case .notFollowedBy:
        // Converted into stop edges on the following element; as the last element (with a
        // window), a pending state that completes when the window closes.
        if states[lastSink.index].kind == .final && (spec.within != nil || spec.withinBetweenSteps != nil) {
          let step = stepIndex(p.element)
          let pending = addState(name: name(p.element), step: step, kind: .pending)
          let stop = stopState(for: p.element)
          addEdge(pending, .proceed, stop, take(p.element))
          addEdge(pending, .ignore, pending, .negation(take(p.element)))
          lastSink = pending
        }
      case .notNext:
        let notNext = addState(name: name(p.element), step: stepIndex(p.element))
        let stop = stopState(for: p.element)
        if states[lastSink.index].kind == .final {
          // An ignore, not a proceed, so that reaching the final state needs the next event.
          addEdge(notNext, .ignore, lastSink, .negation(take(p.element)))
        } else {
          addEdge(notNext, .proceed, lastSink, .negation(take(p.element)))
        }
        addEdge(notNext, .proceed, stop, take(p.element))
        lastSink = notNext
      case .take:
        lastSink = convert(p, sink: lastSink)
      }
    }
    return convert(Position(sequence: sequence, index: 0, group: group, groupFirstOfLoop: true), sink: lastSink)
  }

  /// Flink's `convertPattern`.
  private mutating func convert(_ p: Position, sink: StateID) -> StateID {
    let q = quantifier(p.element)
    let last: StateID
    if q.max == nil {
      var inLoop = p
      inLoop.groupFirstOfLoop = false
      let sinkWithoutNots = copyWithoutTransitiveNots(inLoop, sink)
      let looping = createLooping(inLoop, sink: sinkWithoutNots)
      last = createTimes(p, sink: looping, proceed: sink, from: q.min, to: q.min)
    } else if q.min != 1 || q.max != 1 {
      last = createTimes(p, sink: sink, proceed: sink, from: q.min, to: q.max ?? q.min)
    } else {
      last = createSingleton(
        p, sink: sink, proceed: sink, take: take(p.element), ignore: outerIgnore(p),
        isOptional: q.isOptional)
    }
    addStopStates(p, to: last)
    return last
  }

  /// Flink's `createTimesState`: `to − from` optional copies, `from − 1` mandatory copies, then
  /// the entry copy.
  private mutating func createTimes(
    _ p: Position, sink: StateID, proceed: StateID, from: Int, to: Int
  ) -> StateID {
    var inner = p
    inner.groupFirstOfLoop = false
    let takeCondition = takeWithUntil(p.element)
    let innerIgnoreCondition = innerIgnore(p.element)
    let q = quantifier(p.element)
    if q.isGreedy && from != to {
      if q.until != nil {
        originalStates[sink] = copy(sink)
      }
      updateWithGreedyCondition(sink, takeCondition)
    }
    var last = sink
    // Copies are named `S#k`, k counting from the entry copy (#1), built back to front.
    let numbered = to > 1 || q.max == nil
    func copyName(_ k: Int) -> String { numbered ? "\(name(p.element))#\(k)" : name(p.element) }
    for k in stride(from: to, to: from, by: -1) {
      last = createSingleton(
        inner, sink: last, proceed: proceed, take: takeCondition, ignore: innerIgnoreCondition,
        isOptional: true, copyName: copyName(k))
      addStopStateToLooping(p, last)
    }
    for k in stride(from: from, to: 1, by: -1) {
      last = createSingleton(
        inner, sink: last, proceed: nil, take: takeCondition, ignore: innerIgnoreCondition,
        isOptional: false, copyName: copyName(k))
      addStopStateToLooping(p, last)
    }
    var head = p
    head.groupFirstOfLoop = true
    return createSingleton(
      head, sink: last, proceed: proceed, take: takeCondition, ignore: outerIgnore(head),
      isOptional: q.isOptional, copyName: copyName(1))
  }

  /// Flink's `createSingletonState`.
  private mutating func createSingleton(
    _ p: Position, sink: StateID, proceed: StateID?, take takeCondition: NFA.EdgeCondition,
    ignore ignoreCondition: NFA.EdgeCondition?, isOptional: Bool, copyName: String? = nil
  ) -> StateID {
    if case .group(let g, let children) = p.element {
      return createGroup(g, children, sink: sink, proceed: proceed, isOptional: isOptional)
    }
    let step = stepIndex(p.element)
    let state = addState(name: copyName ?? name(p.element), step: step)
    // Once an event is taken, the `not_followed_by`s before an optional element no longer apply.
    let sinkWithoutNots = copyWithoutTransitiveNots(p, sink)
    addEdge(state, .take, sinkWithoutNots, takeCondition)
    let q = quantifier(p.element)
    if isOptional && !p.isHeadOfGroup, let proceed {
      if q.isGreedy {
        if case .step(let i) = p.element, q.until != nil, let original = originalStates[proceed] {
          addEdge(state, .proceed, original, .until(i))
        }
        addEdge(state, .proceed, proceed, .negation(takeCondition))
      } else {
        addEdge(state, .proceed, proceed, .always)
      }
    }
    if let ignoreCondition {
      let ignoreState: StateID
      if isOptional {
        ignoreState = addState(name: (copyName ?? name(p.element)) + "?ignored", step: step)
        addEdge(ignoreState, .take, sinkWithoutNots, takeCondition)
        addEdge(ignoreState, .ignore, ignoreState, ignoreCondition)
        addStopStates(p, to: ignoreState)
      } else {
        ignoreState = state
      }
      addEdge(state, .ignore, ignoreState, ignoreCondition)
    }
    return state
  }

  /// Flink's `createLooping`.
  private mutating func createLooping(_ p: Position, sink: StateID) -> StateID {
    if case .group(let g, let children) = p.element {
      return createLoopingGroup(g, children, sink: sink)
    }
    guard case .step(let i) = p.element else { preconditionFailure("groups handled above") }
    let q = quantifier(p.element)
    let takeCondition = takeWithUntil(p.element)
    let ignoreCondition = innerIgnore(p.element)
    let loop = addState(name: name(p.element) + "*", step: i)
    if q.isGreedy {
      if q.until != nil {
        let sinkCopy = copy(sink)
        addEdge(loop, .proceed, sinkCopy, .until(i))
        originalStates[sink] = sinkCopy
      }
      addEdge(loop, .proceed, sink, .negation(takeCondition))
      updateWithGreedyCondition(sink, take(p.element))
    } else {
      addEdge(loop, .proceed, sink, .always)
    }
    addEdge(loop, .take, loop, takeCondition)
    addStopStateToLooping(p, loop)
    if let ignoreCondition {
      let ignored = addState(name: name(p.element) + "*ignored", step: i)
      addEdge(ignored, .take, loop, takeCondition)
      addEdge(ignored, .ignore, ignored, ignoreCondition)
      addEdge(loop, .ignore, ignored, ignoreCondition)
      addStopStateToLooping(p, ignored)
    }
    return loop
  }

  /// Flink's `createGroupPatternState`: the group's own sequence, compiled in place.
  private mutating func createGroup(
    _ g: Int, _ children: [Element], sink: StateID, proceed: StateID?, isOptional: Bool
  ) -> StateID {
    let head = compileSequence(children, group: g, sink: sink)
    if isOptional, let proceed {
      // Like an optional step's ignore state: events the head skips lead to a copy without
      // the skip-the-group edge, so an absent group yields one match, not one per skipped
      // event (Flink adds the proceed edge to the head itself, and its ignore loop then
      // re-offers the skip path after every ignored event).
      let ignoredHead = copy(head)
      for k in states[head.index].edges.indices
      where states[head.index].edges[k].action == .ignore && states[head.index].edges[k].target == head {
        states[head.index].edges[k].target = ignoredHead
      }
      states[ignoredHead.index].name += "?ignored"
      addEdge(head, .proceed, proceed, .always)
    }
    return head
  }

  /// Flink's `createLoopingGroupPatternState`: after the group's last element, proceed either
  /// to what follows or (through a dummy state) back to the group's head.
  private mutating func createLoopingGroup(_ g: Int, _ children: [Element], sink: StateID) -> StateID {
    let dummy = addState(name: "(group \(g + 1))*", step: nil)
    let head = compileSequence(children, group: g, sink: dummy)
    addEdge(head, .proceed, sink, .always)
    addEdge(dummy, .proceed, head, .always)
    return head
  }

  // MARK: - Negation

  private mutating func stopState(for e: Element) -> StateID {
    let step = stepIndex(e) ?? -1
    if let existing = stopStates[step] { return existing }
    let stop = addState(name: name(e) + "!", step: stepIndex(e), kind: .stop)
    addEdge(stop, .take, stop, take(e))
    stopStates[step] = stop
    return stop
  }

  /// The `not_followed_by` steps directly before `p`'s element, looking through optional
  /// elements (Flink's `getCurrentNotCondition`).
  private func notFollowedBefore(_ p: Position) -> [Element] {
    var out: [Element] = []
    var i = p.index
    while i > 0 {
      let prev = p.sequence[i - 1]
      guard quantifier(prev).isOptional || kind(prev) == .notFollowedBy else { break }
      if kind(prev) == .notFollowedBy { out.append(prev) }
      i -= 1
    }
    return out
  }

  /// Adds proceed-to-stop edges for the `not_followed_by`s before `p`'s element.
  private mutating func addStopStates(_ p: Position, to state: StateID) {
    for negation in notFollowedBefore(p) {
      let stop = stopState(for: negation)
      addEdge(state, .proceed, stop, take(negation))
    }
  }

  /// Inside a loop followed by `not_followed_by N`, an N event stops the match.
  private mutating func addStopStateToLooping(_ p: Position, _ state: StateID) {
    guard let following = p.following, kind(following) == .notFollowedBy else { return }
    let stop = stopState(for: following)
    addEdge(state, .proceed, stop, take(following))
  }

  /// For an optional element preceded by `not_followed_by`s: a copy of `sink` without the stop
  /// edges of those negations (taking the optional element's event ends their scope).
  private mutating func copyWithoutTransitiveNots(_ p: Position, _ sink: StateID) -> StateID {
    let negations = notFollowedBefore(p)
    guard !negations.isEmpty, quantifier(p.element).isOptional else { return sink }
    let negated = Set(negations.compactMap { stopStates[stepIndex($0) ?? -1] })
    var copies: [StateID: StateID] = [:]
    return copyDroppingStops(sink, negated, &copies)
  }

  /// Copies `state` and, through proceed edges, what it reaches, leaving out proceed edges into
  /// the stop states in `negated`. `copies` maps originals to copies, so shared targets are
  /// copied once and proceed cycles (optional steps in a looping group) terminate.
  private mutating func copyDroppingStops(
    _ state: StateID, _ negated: Set<StateID>, _ copies: inout [StateID: StateID]
  ) -> StateID {
    if let existing = copies[state] { return existing }
    let original = states[state.index]
    let copyID = addState(name: original.name, step: original.step, kind: original.kind)
    copies[state] = copyID
    for edge in original.edges {
      if edge.action == .proceed {
        if states[edge.target.index].kind == .stop {
          if negated.contains(edge.target) { continue }
          addEdge(copyID, .proceed, edge.target, edge.condition)
        } else {
          addEdge(copyID, .proceed, copyDroppingStops(edge.target, negated, &copies), edge.condition)
        }
      } else {
        addEdge(copyID, edge.action, edge.target == state ? copyID : edge.target, edge.condition)
      }
    }
    return copyID
  }

  // MARK: - Helpers

  private mutating func updateWithGreedyCondition(_ state: StateID, _ takeCondition: NFA.EdgeCondition) {
    for k in states[state.index].edges.indices {
      states[state.index].edges[k].condition = .both(
        states[state.index].edges[k].condition, .negation(takeCondition))
    }
  }

  private mutating func copy(_ state: StateID) -> StateID {
    let original = states[state.index]
    let id = addState(name: original.name, step: original.step, kind: original.kind)
    for edge in original.edges {
      addEdge(id, edge.action, edge.target == state ? id : edge.target, edge.condition)
    }
    return id
  }

  private mutating func addState(name: String, step: Int?, kind: NFA.StateKind = .normal) -> StateID {
    let id = StateID(states.count)
    states.append(NFA.State(id: id, name: name, step: step, kind: kind))
    return id
  }

  private mutating func addEdge(
    _ from: StateID, _ action: NFA.Action, _ to: StateID, _ condition: NFA.EdgeCondition
  ) {
    states[from.index].edges.append(NFA.Edge(action, to: to, when: condition))
  }

  /// States were created back to front; number the reachable ones front to back
  /// (breadth-first from the start, edges in order, the final state last) so dumps read in
  /// pattern order. Unreachable states (copies a construction did not use) are dropped.
  private func renumbered(start: StateID) -> NFA {
    var order: [StateID] = []
    var seen = Set<StateID>()
    var queue = [start]
    var head = 0
    while head < queue.count {
      let id = queue[head]
      head += 1
      guard seen.insert(id).inserted, id != finalState else { continue }
      order.append(id)
      for edge in states[id.index].edges where !seen.contains(edge.target) { queue.append(edge.target) }
    }
    order.append(finalState)
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
    return NFA(states: renamed, start: newID[start] ?? start, final: newID[finalState] ?? finalState)
  }
}
