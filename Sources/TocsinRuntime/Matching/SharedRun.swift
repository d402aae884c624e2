import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The shape of a rule whose partial matches can share one run of events: a single step that
/// loops without bound (`times N+`, `one_or_more`) with relaxed contiguity, under a condition
/// that reads only the event being tested (`where type == "purchase"`, never an earlier step's
/// values) — the velocity rules ("ten purchases of one card within an hour").
///
/// For such a rule the general matcher keeps one partial match per matching event, each with its
/// own chain of match-buffer nodes, and every matching event extends all of them: k open partial
/// matches cost k + 1 new nodes per event, and their chains hold the same events k times over.
/// Yet every partial match is the same thing — every matching event from its start to now,
/// since relaxed contiguity takes each matching event and skips the rest — and every matching
/// event starts one. So the partial matches of a key, oldest first, *are* the run:
///
/// - partial match `i` binds a node holding only its own start event (no predecessor);
/// - its events are the start events of partial matches `i, i + 1, …, k − 1`, so its count of
///   events is `k − i`;
/// - a matching event adds one node and one partial match and moves each partial match's state
///   along (``RuleMatcher/processRun``), touching no other node; a match is built only when it
///   completes, or times out with `on timeout emit` (``RuleMatcher/matchOfRun(from:through:in:)``);
/// - partial matches leave only from the oldest end (time-outs, skip strategies, state limits),
///   which keeps the correspondence.
///
/// Everything observable is what the general matcher does: the same matches in the same order,
/// the same partial matches with the same states and starts (so timers, skip strategies, state
/// limits and checkpoints see no difference). `SharedRunTests` replays random streams through
/// both. The one difference: the condition is evaluated once per event rather than once per
/// partial match, so a rule whose condition hits a type error counts it once per event.
///
/// Eligibility is decided on the compiled automaton, state by state, so anything the compiler
/// builds differently (strict or non-deterministic contiguity, `greedy`, `until`, a bounded
/// count, further steps) simply uses the general matcher.
struct SharedRun {
  /// The loop's state right after it took an event (`N` or more of `times N+` taken).
  let loop: StateID
  /// The loop's state after an event it skipped.
  let loopIgnored: StateID
  /// `afterTaking[s]`: the state a partial match waiting in state `s` moves to when it takes an
  /// event (indexed by state; only the run's states are set): from the counting state of `c`
  /// events taken (`c < N`, the start state for 0) to that of `c + 1`, or to ``loop``.
  let afterTaking: [StateID]
  /// The counting states: `counting[c]` is a partial match's state after `c` events taken
  /// (`c < N`; `counting[0]` is the start state).
  let counting: [StateID]

  /// The room a key's first list is given. With room for one, a key's second and third
  /// matching events each regrew it (a `malloc`, a move and a `free`: ~470 instructions, on
  /// 202k of W1's first 600k events); a card in W1 holds one to three partial matches at a
  /// time, rarely more. Two, not four: four saved W1 another 0.5% of its instructions but
  /// cost W3 (a million cards, most with one purchase open) 15 MiB of peak RSS, 144 bytes per
  /// list that never holds a second match. Computed, not stored: a stored `static let` is read
  /// through `swift_once`.
  static var firstRoom: Int { 2 }

  /// The run shape of `program`, or `nil` when its matches cannot share a run.
  static func detect(_ program: RuleProgram) -> SharedRun? {
    let spec = program.spec
    guard spec.steps.count == 1, spec.groups.isEmpty, spec.withinBetweenSteps == nil else { return nil }
    let step = spec.steps[0]
    let quantifier = step.quantifier
    guard step.kind == .take, quantifier.max == nil, quantifier.until == nil, quantifier.inner == .relaxed,
      !quantifier.isOptional, !quantifier.isGreedy
    else { return nil }
    if let condition = step.condition, readsBindings(condition) { return nil }

    let nfa = program.nfa
    let take = NFA.EdgeCondition.take(0)
    let skip = NFA.EdgeCondition.not(.take(0))
    func edges(_ s: StateID) -> Set<NFA.Edge> { Set(nfa[s].edges) }
    // Counting states (`counting[c]`: `c` events taken, `c < N`): take to the next, skip back
    // to itself.
    var counting: [StateID] = []
    var state = nfa.start
    while true {
      let here = nfa[state]
      guard here.kind == .normal, !counting.contains(state), state != nfa.final else { return nil }
      guard let next = here.edges.first(where: { $0.action == .take })?.target else { return nil }
      guard edges(state) == [NFA.Edge(.take, to: next, when: take), NFA.Edge(.ignore, to: state, when: skip)]
      else { break }
      counting.append(state)
      state = next
    }
    // The loop: done (proceed to the final state), take again, or skip to its waiting state,
    // which takes back into the loop.
    guard !counting.isEmpty, counting.count == quantifier.min else { return nil }
    let loop = state
    guard nfa[loop].kind == .normal,
      let ignored = nfa[loop].edges.first(where: { $0.action == .ignore })?.target,
      ignored != loop, nfa[ignored].kind == .normal,
      edges(loop) == [
        NFA.Edge(.proceed, to: nfa.final, when: .always), NFA.Edge(.take, to: loop, when: take),
        NFA.Edge(.ignore, to: ignored, when: skip),
      ],
      edges(ignored) == [NFA.Edge(.take, to: loop, when: take), NFA.Edge(.ignore, to: ignored, when: skip)]
    else { return nil }
    var afterTaking = Array(repeating: StateID(0), count: nfa.states.count)
    for (c, s) in counting.enumerated() { afterTaking[s.index] = c + 1 < counting.count ? counting[c + 1] : loop }
    afterTaking[loop.index] = loop
    afterTaking[ignored.index] = loop
    return SharedRun(loop: loop, loopIgnored: ignored, afterTaking: afterTaking, counting: counting)
  }

  /// Whether `condition` reads anything bound by a step (a step's field, time or aggregate).
  static func readsBindings(_ condition: Expr) -> Bool {
    var reads = false
    condition.visit { expr in
      switch expr {
      case .stepField, .stepTime, .aggregate: reads = true
      default: break
      }
    }
    return reads
  }
}

extension RuleMatcher {
  // MARK: - Shared runs

  /// ``process`` for a rule whose partial matches share a run (``SharedRun``): the general
  /// matcher's steps, with the run's transitions. Inlined into ``process``, its one caller.
  @inline(__always)
  func processRun(
    _ run: SharedRun, _ event: EventRecord, _ state: inout PartialMatches, context: EvalContext,
    scratch: MatcherScratch, emit: Emit
  ) {
    advanceRun(run, to: event.time, &state, emit: emit)
    assert(scratch.complete.isEmpty)
    if takeHolds(step: 0, event, nil, context) {
      // The event as the run's nodes bind it, once for every node this event makes.
      let bound = binding(event, step: 0)
      // Every partial match takes the event (relaxed contiguity), and the event starts one more.
      let started = Computation(
        state: run.afterTaking[startState.index], bindings: nodes.make(step: 0, event: bound, previous: nil),
        start: EventPosition(event))
      // Only a list with partial matches is walked: `withUnsafeMutableBufferPointer` on a list
      // without a buffer (the key's usual state) allocated one, which the append below then
      // regrew (two `malloc`s and a `free` per event for a new key, ~400 instructions), and the
      // kept list buffers (``makeRoom(in:for:)``) went unused.
      if state.partials.isEmpty {
        makeRoom(in: &state.partials, for: SharedRun.firstRoom)
      } else {
        state.partials.withUnsafeMutableBufferPointer { partials in
          for i in partials.indices {
            let taken = run.afterTaking[partials[i].state.index]
            partials[i].state = taken
            if taken == run.loop {
              scratch.complete.append(
                Computation(
                  state: finalState, bindings: matchOfRun(from: i, through: bound, in: UnsafeBufferPointer(partials)),
                  start: partials[i].start))
            }
          }
        }
      }
      state.partials.append(started)
      if started.state == run.loop {
        scratch.complete.append(
          Computation(state: finalState, bindings: nodes.make(step: 0, event: bound, previous: nil), start: started.start))
      }
    } else if !state.partials.isEmpty {
      // Skipped: a partial match that had just taken an event waits in the loop's other state.
      state.partials.withUnsafeMutableBufferPointer { partials in
        for i in partials.indices where partials[i].state == run.loop { partials[i].state = run.loopIgnored }
      }
    }
    finishStep(&state, scratch: scratch, emit: emit)
  }

  /// ``advanceTime`` for a shared run: the partial matches that timed out are the oldest ones
  /// (all share one window length), so they leave from the front.
  func advanceRun(_ run: SharedRun, to time: EventTime, _ state: inout PartialMatches, emit: Emit) {
    guard let earliest = earliestDeadline(in: &state), time >= earliest else { return }
    var expired = 0
    while expired < state.partials.count, let deadline = deadline(of: state.partials[expired]), time >= deadline {
      expired += 1
    }
    if reportsTimeouts {
      state.partials.withUnsafeBufferPointer { partials in
        for i in 0..<expired {
          // swift-format-ignore: NeverForceUnwrap
          // `expired` counts only partial matches with a deadline.
          emit(matchOfRun(from: i, through: nil, in: partials), .timeout(deadline: deadline(of: partials[i])!))
        }
      }
    }
    dropOldest(expired, from: &state)
    if holdsCompleted { releaseCompleted(&state, emit: emit) }
  }

  /// The match of partial match `first` of a run: the start events of partial matches `first`
  /// onwards, then `event` when it is taking one (`nil` for a time-out), already as step 0's
  /// nodes bind it (``binding(_:step:)``). New nodes, linked as every match is.
  func matchOfRun(from first: Int, through event: EventRecord?, in partials: UnsafeBufferPointer<Computation>) -> MatchNode {
    var match: MatchNode? = nil
    for i in first..<partials.count { match = nodes.make(step: 0, event: partials[i].bindings.event, previous: match) }
    if let event { match = nodes.make(step: 0, event: event, previous: match) }
    // swift-format-ignore: NeverForceUnwrap
    // At least one node: partial match `first` exists.
    return match!
  }
}

extension RuleMatcher {
  /// Brings state restored from a checkpoint into this matcher's form; `false` when it cannot
  /// be this rule's state. A shared run (each partial match binding its start event alone) is
  /// kept as it is; state a general matcher wrote (each partial match with its own chain: a
  /// checkpoint from a build without shared runs) is rebuilt from the oldest partial match's
  /// chain, which holds every event of the others.
  public func adopt(_ state: inout PartialMatches) -> Bool {
    guard run != nil, !state.partials.isEmpty else { return true }
    let partials = state.partials
    if partials.allSatisfy({ $0.bindings.previous == nil && EventPosition($0.bindings.event) == $0.start }) {
      return true
    }
    let events = partials[0].bindings.nodesInOrder
    guard events.count == partials.count else { return false }
    for (i, original) in events.enumerated() {
      guard EventPosition(original.event) == partials[i].start else { return false }
      state.partials[i].rebind(nodes.make(step: original.step, event: original.event, previous: nil))
    }
    return true
  }
}
