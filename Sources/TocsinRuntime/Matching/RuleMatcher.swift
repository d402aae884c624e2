import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Buffers one shard reuses for every event of one rule, so matching does not allocate per
/// event once they have grown (STYLE §27's `StepScratch`). Not shared between threads.
public final class MatcherScratch {
  var next: [Computation] = []
  var complete: [Computation] = []
  var frontier: [StateID] = []

  /// Empty buffers.
  public init() {}
}

/// Runs one rule's automaton over one key's events: Flink CEP's `NFA.process` and
/// `NFA.advanceTime`, over ``PartialMatches``.
///
/// Pure with respect to its inputs: the same events in the same order give the same matches.
public final class RuleMatcher {
  /// The compiled rule.
  public let program: RuleProgram
  private let within: EventDuration?
  private let holdsCompleted: Bool

  /// A matcher for `program`.
  public init(program: RuleProgram) {
    self.program = program
    self.within = program.spec.within
    self.holdsCompleted = program.spec.skip != .noSkip
  }

  /// Whether `computation` can no longer complete once no event at or before `time` can arrive:
  /// `time - start >= within` (Flink's `isStateTimedOut`).
  @inlinable func isTimedOut(_ start: EventPosition, at time: EventTime) -> Bool {
    guard let within = program.spec.within else { return false }
    return time - start.time >= within
  }

  /// The time at which a partial match started at `start` times out, or `nil` without `within`.
  public func deadline(forStart start: EventPosition) -> EventTime? {
    within.map { start.time + $0 }
  }

  // MARK: - Events

  /// Feeds one event of this key; calls `emit` with each complete match, in emission order.
  ///
  /// 1) Drops partial matches that timed out by the event's time. 2) Moves every partial match
  /// and the implicit start computation along the automaton (branching where several edges
  /// apply). 3) Emits complete matches according to the skip strategy.
  public func process(
    _ event: EventRecord, _ state: inout PartialMatches, context: EvalContext,
    scratch: MatcherScratch, emit: (MatchNode) -> Void
  ) {
    // 1) Time out.
    advanceTime(to: event.time, &state, emit: emit)

    // 2) Transitions, into the scratch buffers (no allocation once they have grown).
    scratch.next.removeAll(keepingCapacity: true)
    scratch.complete.removeAll(keepingCapacity: true)
    for computation in state.partials {
      transitions(
        from: computation.state, bindings: computation.bindings, start: computation.start,
        event: event, context: context, scratch: scratch)
    }
    transitions(
      from: program.nfa.start, bindings: nil, start: EventPosition(event), event: event,
      context: context, scratch: scratch)

    // 3) Emission. Swapping hands the key's old array to the scratch for the next event.
    swap(&state.partials, &scratch.next)
    if holdsCompleted {
      state.completed.append(contentsOf: scratch.complete)
      releaseCompleted(&state, emit: emit)
    } else {
      for match in scratch.complete { emit(match.bindings) }
    }
    state._checkInvariants()
  }

  /// Flink's `computeNextStates` for one computation. `bindings == nil` means the start
  /// computation, which never ignores and is never dropped (the caller re-creates it per event).
  private func transitions(
    from origin: StateID, bindings: MatchNode?, start: EventPosition, event: EventRecord,
    context: EvalContext, scratch: MatcherScratch
  ) {
    let nfa = program.nfa
    // Edges of one state usually test the same step's condition (take C, ignore unless C):
    // evaluate it once per computation.
    var cachedStep = -1
    var cachedResult = false
    func holds(_ condition: NFA.EdgeCondition) -> Bool {
      switch condition {
      case .always: return true
      case .stepCondition(let step), .notStepCondition(let step):
        if step != cachedStep {
          cachedStep = step
          cachedResult = program.holds(.stepCondition(step), event, bindings, context)
        }
        if case .stepCondition = condition { return cachedResult }
        return !cachedResult
      }
    }
    // The decision graph: the origin's edges plus, through proceed edges that hold, the edges of
    // the states reachable by ε-moves — all evaluated against this event.
    scratch.frontier.removeAll(keepingCapacity: true)
    scratch.frontier.append(origin)
    var visited = 0
    while visited < scratch.frontier.count {
      let stateID = scratch.frontier[visited]
      visited += 1
      let state = nfa[stateID]
      for edge in state.edges where holds(edge.condition) {
        switch edge.action {
        case .proceed:
          if !scratch.frontier.contains(edge.target) { scratch.frontier.append(edge.target) }
        case .ignore:
          guard let bindings else { continue }  // the start computation never ignores
          scratch.next.append(Computation(state: edge.target, bindings: bindings, start: start))
        case .take:
          // swift-format-ignore: NeverForceUnwrap — only the final state has no step, and it has no edges.
          let node = MatchNode(step: state.step!, event: event, previous: bindings)
          let taken = Computation(state: edge.target, bindings: node, start: start)
          if edge.target == nfa.final {
            scratch.complete.append(taken)
          } else {
            scratch.next.append(taken)
            if reachesFinal(from: edge.target, event: event, bindings: node, context: context) {
              scratch.complete.append(Computation(state: nfa.final, bindings: node, start: start))
            }
          }
        }
      }
    }
  }

  /// Whether `state` reaches the final state by proceed edges that hold for `event`
  /// (Flink's `findFinalStateAfterProceed`).
  private func reachesFinal(
    from state: StateID, event: EventRecord, bindings: MatchNode, context: EvalContext
  ) -> Bool {
    // Proceed chains are short (one per looping step in a row); walk them without a visited set
    // but with a bound, since the compiler never builds proceed cycles.
    var pending: [StateID] = []
    var current: StateID? = state
    var steps = 0
    while let id = current, steps <= program.nfa.states.count {
      steps += 1
      for edge in program.nfa[id].edges where edge.action == .proceed {
        guard program.holds(edge.condition, event, bindings, context) else { continue }
        if edge.target == program.nfa.final { return true }
        pending.append(edge.target)
      }
      current = pending.popLast()
    }
    return false
  }

  // MARK: - Time

  /// Drops partial matches that can no longer complete because no event at or before `time`
  /// will arrive, then releases held matches no partial match can precede any more.
  public func advanceTime(to time: EventTime, _ state: inout PartialMatches, emit: (MatchNode) -> Void)
  {
    guard within != nil else { return }
    if let first = state.partials.first, isTimedOut(first.start, at: time) {
      state.partials.removeAll { isTimedOut($0.start, at: time) }
      if holdsCompleted { releaseCompleted(&state, emit: emit) }
    }
  }

  /// End of input: no partial match can progress; every held match is released in order.
  public func finish(_ state: inout PartialMatches, emit: (MatchNode) -> Void) {
    state.partials.removeAll()
    if holdsCompleted { releaseCompleted(&state, emit: emit) }
  }

  // MARK: - Skip strategies

  /// Emits held matches while the earliest one starts no later than every open partial match
  /// (Flink's `processMatchesAccordingToSkipStrategy`), pruning after each.
  private func releaseCompleted(_ state: inout PartialMatches, emit: (MatchNode) -> Void) {
    // Stable sort by start: appended matches may start before held ones.
    if state.completed.count > 1 {
      state.completed = state.completed.enumerated().sorted { a, b in
        a.element.start != b.element.start ? a.element.start < b.element.start : a.offset < b.offset
      }.map(\.element)
    }
    while let match = state.completed.first,
      state.partials.first.map({ match.start <= $0.start }) ?? true
    {
      state.completed.removeFirst()
      emit(match.bindings)
      prune(after: match, &state)
    }
  }

  /// Flink's `AfterMatchSkipStrategy.prune`: a pruning position taken from the match, and
  /// every partial or held match that started before it (or at it, for `to_next` and
  /// `past_last_event`) is discarded. When `to_first`/`to_last` name a step that bound no
  /// event, nothing is pruned (Flink's default, which falls back to no skip).
  private func prune(after match: Computation, _ state: inout PartialMatches) {
    let pruning: EventPosition
    let inclusive: Bool
    switch program.spec.skip {
    case .noSkip:
      return
    case .skipToNext:
      pruning = EventPosition(match.bindings.first.event)
      inclusive = true
    case .skipPastLastEvent:
      pruning = match.last
      inclusive = true
    case .skipToFirst(let step, _), .skipToLast(let step, _):
      var found: EventPosition?
      var node: MatchNode? = match.bindings
      while let n = node {
        if n.step == step {
          found = EventPosition(n.event)
          if case .skipToLast = program.spec.skip { break }  // walking back: first hit is last
        }
        node = n.previous
      }
      guard let found else { return }
      pruning = found
      inclusive = false
    }
    let shouldPrune = { (start: EventPosition) in inclusive ? start <= pruning : start < pruning }
    state.partials.removeAll { shouldPrune($0.start) }
    state.completed.removeAll { shouldPrune($0.start) }
  }
}
