import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Runs one rule's automaton over one key's events: Flink CEP's `NFA.process` and
/// `NFA.advanceTime`, over ``PartialMatches``.
///
/// Pure with respect to its inputs: the same events in the same order give the same matches.
public struct RuleMatcher {
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
    emit: (MatchNode) -> Void
  ) {
    // 1) Time out.
    advanceTime(to: event.time, &state, emit: emit)

    // 2) Transitions.
    var next: [Computation] = []
    next.reserveCapacity(state.partials.count + 1)
    var complete: [Computation] = []
    for computation in state.partials {
      transitions(
        from: computation.state, bindings: computation.bindings, start: computation.start,
        event: event, context: context, into: &next, complete: &complete)
    }
    transitions(
      from: program.nfa.start, bindings: nil, start: EventPosition(event), event: event,
      context: context, into: &next, complete: &complete)

    // 3) Emission.
    state.partials = next
    if holdsCompleted {
      state.completed.append(contentsOf: complete)
      releaseCompleted(&state, emit: emit)
    } else {
      for match in complete { emit(match.bindings) }
    }
    state._checkInvariants()
  }

  /// Flink's `computeNextStates` for one computation. `bindings == nil` means the start
  /// computation, which never ignores and is never dropped (the caller re-creates it per event).
  private func transitions(
    from origin: StateID, bindings: MatchNode?, start: EventPosition, event: EventRecord,
    context: EvalContext, into next: inout [Computation], complete: inout [Computation]
  ) {
    let nfa = program.nfa
    // The decision graph: the origin's edges plus, through proceed edges that hold, the edges of
    // the states reachable by ε-moves — all evaluated against this event.
    var frontier = [origin]
    var visited = 0
    while visited < frontier.count {
      let stateID = frontier[visited]
      visited += 1
      let state = nfa[stateID]
      for edge in state.edges where program.holds(edge.condition, event, bindings, context) {
        switch edge.action {
        case .proceed:
          if !frontier.contains(edge.target) { frontier.append(edge.target) }
        case .ignore:
          guard let bindings else { continue }  // the start computation never ignores
          next.append(Computation(state: edge.target, bindings: bindings, start: start))
        case .take:
          // swift-format-ignore: NeverForceUnwrap — only the final state has no step, and it has no edges.
          let node = MatchNode(step: state.step!, event: event, previous: bindings)
          let taken = Computation(state: edge.target, bindings: node, start: start)
          if edge.target == nfa.final {
            complete.append(taken)
          } else {
            next.append(taken)
            if reachesFinal(from: edge.target, event: event, bindings: node, context: context) {
              complete.append(Computation(state: nfa.final, bindings: node, start: start))
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
    var frontier = [state]
    var visited = 0
    while visited < frontier.count {
      let current = program.nfa[frontier[visited]]
      visited += 1
      for edge in current.edges where edge.action == .proceed {
        guard program.holds(edge.condition, event, bindings, context) else { continue }
        if edge.target == program.nfa.final { return true }
        if !frontier.contains(edge.target) { frontier.append(edge.target) }
      }
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

  private func prune(after match: Computation, _ state: inout PartialMatches) {
    switch program.spec.skip {
    case .noSkip:
      return
    case .skipPastLastEvent:
      let last = match.last
      state.partials.removeAll { $0.start <= last }
      state.completed.removeAll { $0.start <= last }
    }
  }
}
