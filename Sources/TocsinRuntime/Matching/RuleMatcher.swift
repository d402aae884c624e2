import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Buffers one shard reuses for every event of one rule, so matching does not allocate per
/// event once they have grown (STYLE §27's `StepScratch`). Not shared between threads.
public final class MatcherScratch {
  var next: [Computation] = []
  var complete: [Computation] = []
  var frontier = StateStack()
  /// Per step: the generation in which `takeResult` / `untilResult` were computed.
  var takeStamp = ScratchList<UInt64>()
  var takeResult = ScratchList<Bool>()
  var untilStamp = ScratchList<UInt64>()
  var untilResult = ScratchList<Bool>()
  var generation: UInt64 = 0
  /// The generation at which the current event's walk began: a condition that reads no binding
  /// (``RuleMatcher``'s `takeReadsBindings`) and was computed at or after it is the event's.
  var eventGeneration: UInt64 = 0
  /// The current event's decision-graph effects (``RuleMatcher``'s `decide`): the plans kept
  /// for states whose walk reads no binding, then the walk in progress. Emptied per event.
  var effects = ScratchList<Effect>()
  /// Per automaton state: the plan kept for it during the current event (``Plan``).
  var plans = ScratchList<Plan>()

  /// Empty buffers.
  public init() {}

  @inline(__always)
  func prepare(steps: Int, states: Int) {
    if takeStamp.count < steps {
      takeStamp.reset(count: steps, to: 0)
      takeResult.reset(count: steps, to: false)
      untilStamp.reset(count: steps, to: 0)
      untilResult.reset(count: steps, to: false)
    }
    if plans.count < states { plans.reset(count: states, to: Plan()) }
  }

  /// One thing the decision graph does to a partial match for an event, in the order the walk
  /// finds it (Flink's `computeNextStates`, recorded rather than performed).
  struct Effect {
    enum Kind: UInt8 {
      /// The partial match waits in `target` with its bindings (passed by, or moved on).
      case ignore
      /// The event is bound by `step` and the partial match moves to `target`.
      case take
    }
    var kind: Kind
    /// For a take to a state that is not final: whether that state reaches the final state by
    /// proceed edges that hold for the event (1, 0; −1 not known yet).
    var completes: Int8 = -1
    var target: StateID
    var step: Int32 = 0
  }

  /// The effects of one state's walk for the current event, kept when the walk reads no
  /// binding (every partial match waiting in the state then gets the same ones).
  struct Plan {
    /// The event generation it was made in; older is stale.
    var stamp: UInt64 = 0
    /// Its effects: `effects[first..<end]`.
    var first: Int32 = 0
    var end: Int32 = 0
    /// Whether the walk reached a stop state (`not_next`, `not_followed_by`).
    var stopped = false
  }
}

/// A list of plain values emptied per use without giving up its storage.
///
/// `Array.removeAll(keepingCapacity:)` goes through the generic `replaceSubrange` (~200
/// instructions per event measured for the decision-graph walks); here emptying is a store.
/// The elements are in plain memory the list owns: as an `Array` in the scratch (a class),
/// every write checked the buffer's uniqueness, a runtime call each (~10 per W2 event in the
/// walk alone). Noncopyable: one owner, which frees the memory.
struct ScratchList<Element>: ~Copyable {
  private var base: UnsafeMutablePointer<Element>
  private var capacity = 8
  /// Number of elements in the list.
  private(set) var count = 0

  /// An empty list of plain values (no references: elements are overwritten and dropped
  /// without being deinitialised).
  init() {
    precondition(_isPOD(Element.self), "a scratch list holds plain values only")
    base = .allocate(capacity: capacity)
  }

  deinit { base.deallocate() }

  /// Empties the list.
  @inline(__always)
  mutating func removeAll() { count = 0 }

  /// Appends `element`.
  @inline(__always)
  mutating func append(_ element: Element) {
    if count == capacity { grow() }
    (base + count).initialize(to: element)
    count += 1
  }

  @inline(never)
  private mutating func grow() {
    capacity *= 2
    base = base.moved(count: count, toCapacity: capacity)
  }

  /// Makes the list `count` elements, each `value` (for the scratch's per-step and per-state
  /// values, indexed by step or state).
  mutating func reset(count: Int, to value: Element) {
    if capacity < count {
      base.deallocate()
      capacity = count
      base = .allocate(capacity: capacity)
    }
    base.initialize(repeating: value, count: count)
    self.count = count
  }

  @inline(__always)
  subscript(i: Int) -> Element {
    get {
      precondition(i >= 0 && i < count, "scratch list index out of range")
      return base[i]
    }
    set {
      precondition(i >= 0 && i < count, "scratch list index out of range")
      base[i] = newValue
    }
  }
}

extension ScratchList where Element: Equatable {
  /// Whether `element` is in the list (automata have a handful of states: a linear scan).
  @inline(__always)
  func contains(_ element: Element) -> Bool {
    for i in 0..<count where base[i] == element { return true }
    return false
  }
}

/// A list of automaton states emptied per use (the decision-graph walks' frontier).
typealias StateStack = ScratchList<StateID>

/// How a match came to be emitted.
public enum MatchOutcome: Equatable {
  /// Its last step took an event.
  case complete
  /// A trailing `not_followed_by` saw no forbidden event before the window closed at `deadline`.
  case absence(deadline: EventTime)
  /// A partial match expired at `deadline` (only reported with `on timeout emit`).
  case timeout(deadline: EventTime)
}

/// Runs one rule's automaton over one key's events: Flink CEP's `NFA.process` and
/// `NFA.advanceTime`, over ``PartialMatches``.
///
/// Pure with respect to its inputs: the same events in the same order give the same matches.
public final class RuleMatcher {
  /// Receives each emitted match (its last bound node) and how it came about.
  public typealias Emit = (MatchNode, MatchOutcome) -> Void

  /// The compiled rule.
  public let program: RuleProgram
  /// Per step, whether its match-buffer nodes keep the event's field values: only when an
  /// expression of the rule reads one of the step's fields (``RuleSpec/stepFieldsRead``).
  /// Otherwise a node binds the event with no slots (``EventSlots/none``: no buffer, so binding
  /// and dropping it update no reference count), and the event's slot buffer goes back to the
  /// decoder once nothing else holds it: a loop's events (`count(spree)`) held a buffer
  /// of every projected field (~400 bytes on W2) each for as long as their partial matches
  /// stayed open.
  let keepsSlots: [Bool]
  private let within: EventDuration?
  private let gap: EventDuration?
  let holdsCompleted: Bool
  let reportsTimeouts: Bool

  // The automaton flattened for the hot loops: edges of state `s` are
  // `edges[edgeStart[s]..<edgeStart[s + 1]]`. Reading these arrays copies no `NFA.State`
  // (whose name and edge array would be retained and released per visit), and no
  // `NFA.EdgeCondition` either: an indirect enum, whose box each copy retained and released, per
  // edge tested (the walk's largest source of reference counting: on the adversarial test's hot
  // key, two atomic updates per edge of each of its 64 partial matches per event). Edges and
  // conditions here are plain data (``FlatEdge``, ``FlatCondition``).
  private let edges: [FlatEdge]
  private let conditions: [FlatCondition]
  private let edgeStart: [Int]
  private let stateStep: [Int]
  private let isStop: [Bool]
  /// Per state: whether some path of proceed edges (ε-moves) leads from it to the final state,
  /// whatever their conditions. Without one, ``reachesFinal(from:event:bindings:context:)`` can
  /// only answer no, and is not asked: a loop's state followed by a `followed_by` step has a
  /// proceed edge, to the next step's state, which waits for an event (W2's
  /// `w2_night_spree` walked it for every event its loop took: ~200 instructions per event).
  private let proceedsReachFinal: [Bool]
  let finalState: StateID
  let startState: StateID
  /// Reused by ``reachesFinal(from:event:bindings:context:)``.
  private let scratchStates = StateList()
  /// Nodes of ended partial matches, reused for new bindings (``MatchNodePool``).
  public let nodes = MatchNodePool()
  /// Emptied lists of partial matches kept for their small buffers (``giveBack(_:)``,
  /// ``makeRoom(in:for:)``), most recent last: a key whose partial matches all end gives its
  /// list here, and the next key to open takes it. Freed and allocated again instead, each list
  /// cost ~350 instructions (the runtime's array growth path, `malloc`, the release path and
  /// `free`), and on W2 most events open or close some key (~3 lists per event).
  private var spareLists: [[Computation]] = []
  /// The program's step and `until` conditions, held here so that evaluating one reads the
  /// matcher (a class) and not `program` (a method on the `RuleProgram` struct, recursive and so
  /// not inlined, copied the whole struct onto the stack per condition), and unretained: a
  /// class reference read out of an array is retained and released around its use
  /// (``Condition``). `program` holds the references. Evaluated by
  /// ``takeHolds(step:_:_:_:)`` and ``untilHolds(step:_:_:_:)``, for the edge conditions of
  /// ``holds(_:_:_:_:)`` and the walk's cached evaluation.
  private let stepConditions: [Unmanaged<Condition>?]
  private let untilConditions: [Unmanaged<Condition>?]
  /// Per step: whether its condition (its `until`) reads the partial match's bindings
  /// (``Expr/readsBindings``). One that does not holds or fails for an event whichever partial
  /// match of the key it is tested for, so the walk computes it once per event, not once per
  /// partial match: on a key with 64 open partial matches, one evaluation instead of 64.
  private let takeReadsBindings: [Bool]
  private let untilReadsBindings: [Bool]
  /// Per state: whether the walk of a partial match waiting there reads no binding, so that
  /// every partial match of the key waiting there gets the same effects from an event: the walk
  /// is done for the first and its effects kept for the others (``MatcherScratch/Plan``). On a
  /// key with many partial matches in few states (the adversarial test's hot key: 64, in two
  /// states), one walk per state and event instead of one per partial match.
  let sharesPlan: [Bool]

  /// A reusable list of states.
  final class StateList {
    var states = StateStack()
  }

  /// Whether a partial match that ends unfinished emits nothing: the rule has no `on timeout
  /// emit` and no trailing absence (a pending state, which completes when its window closes).
  /// At the end of input, such a rule's partial matches only need to go away.
  public let endsSilently: Bool

  /// Whether a partial match's time-out changes nothing anyone sees: the rule ends silently
  /// (``endsSilently``) and no time-out can release a held match. Either the rule holds none
  /// back, or it shares a run under a skip strategy that leaves none held after a step: a run's
  /// oldest partial match completes whenever any does, and it starts first, so its match is
  /// emitted at once, and `to_next`, `past_last_event` and `to_last` then prune every partial
  /// match that starts before the next completed one (`to_first` prunes nothing older than the
  /// run's start, and holds the others). Such a rule's time-outs only free memory, so the engine
  /// may take them a little late (its timers are rounded up, see
  /// `Engine.timerQuantum(for:options:)`); debug builds check after every step that nothing is
  /// held (``finishStep(_:scratch:emit:)``).
  public var timeOutsAreQuiet: Bool {
    guard endsSilently else { return false }
    guard holdsCompleted else { return true }
    guard run != nil else { return false }
    switch program.spec.skip {
    case .skipToNext, .skipPastLastEvent, .skipToLast: return true
    case .noSkip, .skipToFirst: return false
    }
  }

  /// The shortest of the rule's windows (`within`, `within_between_steps`), `nil` without one.
  public var shortestWindow: EventDuration? {
    switch (within, gap) {
    case (let a?, let b?): return min(a, b)
    case (let a?, nil): return a
    case (nil, let b?): return b
    case (nil, nil): return nil
    }
  }

  /// Whether ``mayStart(_:context:)`` may be used: no condition reads the partition key, which
  /// the quick check does not set.
  public let hasQuickStartCheck: Bool

  /// Per state: whether an event for which every take condition and every `until` of the rule
  /// is false leaves a partial match waiting there exactly as it is (same state, same
  /// bindings) — the only edge such an event follows is an ignore edge back to the state. True
  /// for the states of `followed_by` and `followed_by_any` steps (relaxed contiguity); false for
  /// a strict step (`next`, `not_next`: a non-matching event ends the partial match) and for a
  /// loop's state right after it took an event (the next event moves it on). ``process`` records
  /// in ``PartialMatches/isSettled`` whether every partial match waits in such a state; with
  /// the step guard (``RuleGuards``) saying no condition can hold, the engine then skips the
  /// event for that key (no timeout being due).
  let isTransparent: [Bool]
  /// Whether any state is transparent, so ``PartialMatches/isSettled`` can ever be true.
  public let hasTransparentStates: Bool
  /// Whether ``process`` records ``PartialMatches/isSettled``: set by the engine for rules it may
  /// skip (they have a step guard); for the others the O(partial matches) scan is not paid.
  var tracksSettling = false

  /// Whether ``process`` keeps the leading partial matches an event leaves unchanged where they
  /// are instead of copying them (on by default; the tests compare both ways).
  var keepsUnchangedInPlace = true

  /// For a rule whose partial matches share one run of events (``SharedRun``), its shape;
  /// `nil` for the general matcher.
  let run: SharedRun?

  /// Whether this matcher keeps a rule's partial matches as one shared run (``SharedRun``).
  public var sharesRuns: Bool { run != nil }

  /// Whether a matcher for `program` keeps its partial matches as one shared run (by default).
  public static func sharesRuns(_ program: RuleProgram) -> Bool { SharedRun.detect(program) != nil }

  /// A matcher for `program`. With `sharingRuns` (the default), a rule of the velocity shape
  /// keeps its partial matches as one shared run (``SharedRun``); without, every rule uses the
  /// general automaton walk, whose partial matches each hold their own chain (what `explain
  /// --trace` shows, and what the equivalence tests compare runs against).
  /// - Parameters:
  ///   - startResidual: see ``startResidual``.
  ///   - cachingEventConditions: whether a condition that reads no binding is evaluated once per
  ///     event rather than once per partial match, and a walk that reads none done once per
  ///     state and event (``sharesPlan``) (the default; the tests compare both ways).
  public init(
    program: RuleProgram, sharingRuns: Bool = true, startResidual: Condition? = nil,
    cachingEventConditions: Bool = true
  ) {
    self.program = program
    self.keepsSlots = program.spec.stepFieldsRead
    self.startResidual = startResidual
    self.hotStartResidual = startResidual.map { .passUnretained($0) }
    self.run = sharingRuns ? SharedRun.detect(program) : nil
    self.stepConditions = program.stepConditions.map { $0.map(Unmanaged.passUnretained) }
    self.untilConditions = program.untilConditions.map { $0.map(Unmanaged.passUnretained) }
    self.within = program.spec.within
    self.gap = program.spec.withinBetweenSteps
    self.holdsCompleted = program.spec.skip != .noSkip
    self.reportsTimeouts = program.spec.onTimeout != nil
    self.endsSilently = !reportsTimeouts && !program.nfa.states.contains { $0.kind == .pending }
    var readsKey = false
    for step in program.spec.steps {
      for expr in [step.condition, step.quantifier.until].compactMap({ $0 }) {
        expr.visit { if case .key = $0 { readsKey = true } }
      }
    }
    self.hasQuickStartCheck = !readsKey
    self.takeReadsBindings = program.spec.steps.map {
      !cachingEventConditions || ($0.condition?.readsBindings ?? false)
    }
    self.untilReadsBindings = program.spec.steps.map {
      !cachingEventConditions || ($0.quantifier.until?.readsBindings ?? false)
    }
    var edges: [FlatEdge] = []
    var conditions: [FlatCondition] = []
    var edgeStart: [Int] = []
    for state in program.nfa.states {
      edgeStart.append(edges.count)
      for edge in state.edges {
        let condition = FlatCondition.add(edge.condition, to: &conditions)
        edges.append(FlatEdge(action: edge.action, target: edge.target, condition: condition))
      }
    }
    edgeStart.append(edges.count)
    self.edges = edges
    self.conditions = conditions
    self.edgeStart = edgeStart
    self.stateStep = program.nfa.states.map { $0.step ?? -1 }
    self.isStop = program.nfa.states.map { $0.kind == .stop }
    self.proceedsReachFinal = Self.statesReachingFinalByProceeds(program.nfa)
    // Without the event-condition cache every walk is its own (the plain walk the tests compare
    // against).
    self.sharesPlan =
      cachingEventConditions
      ? Self.plannableStates(
        edges: edges, conditions: conditions, edgeStart: edgeStart, final: program.nfa.final,
        takeReadsBindings: takeReadsBindings, untilReadsBindings: untilReadsBindings)
      : Array(repeating: false, count: edgeStart.count - 1)
    self.finalState = program.nfa.final
    self.startState = program.nfa.start
    let transparent = Self.transparentStates(program.nfa)
    self.isTransparent = transparent
    self.hasTransparentStates = transparent.contains(true)
  }

  /// ``proceedsReachFinal``: the states from which proceed edges alone (their conditions
  /// ignored, so a superset of what any event allows) lead to the final state. The final state
  /// itself is not one: ``reachesFinal(from:event:bindings:context:)`` looks for it among the
  /// targets of the edges it follows.
  static func statesReachingFinalByProceeds(_ nfa: NFA) -> [Bool] {
    // Backwards from the final state over proceed edges, to a fixed point.
    var reaches = Array(repeating: false, count: nfa.states.count)
    var changed = true
    while changed {
      changed = false
      for state in nfa.states where !reaches[state.id.index] {
        let leads = state.edges.contains { edge in
          edge.action == .proceed && (edge.target == nfa.final || reaches[edge.target.index])
        }
        if leads {
          reaches[state.id.index] = true
          changed = true
        }
      }
    }
    return reaches
  }

  /// ``isTransparent``, by following the decision graph of every state a partial match can
  /// wait in with every take and `until` condition false.
  static func transparentStates(_ nfa: NFA) -> [Bool] {
    func holds(_ condition: NFA.EdgeCondition) -> Bool {
      switch condition {
      case .always: return true
      case .take, .until: return false
      case .not(let inner): return !holds(inner)
      case .and(let l, let r): return holds(l) && holds(r)
      }
    }
    return nfa.states.map { state in
      guard state.id != nfa.final, state.kind != .stop else { return false }
      var frontier = [state.id]
      var ignores: [StateID] = []
      var i = 0
      while i < frontier.count {
        for edge in nfa.states[frontier[i].index].edges where holds(edge.condition) {
          switch edge.action {
          case .take: return false
          case .ignore: ignores.append(edge.target)
          case .proceed: if !frontier.contains(edge.target) { frontier.append(edge.target) }
          }
        }
        i += 1
      }
      return ignores == [state.id]
    }
  }

  /// ``sharesPlan``: a state whose walk may evaluate no condition that reads bindings. The walk
  /// evaluates the edges of every state its proceed edges reach (whether or not they hold: a
  /// superset), and ``reachesFinal(from:event:bindings:context:)`` the proceed edges reachable
  /// from each take edge's target.
  static func plannableStates(
    edges: [FlatEdge], conditions: [FlatCondition], edgeStart: [Int], final: StateID,
    takeReadsBindings: [Bool], untilReadsBindings: [Bool]
  ) -> [Bool] {
    func readsBindings(_ c: Int32) -> Bool {
      let node = conditions[Int(c)]
      switch node.kind {
      case .always: return false
      case .take: return takeReadsBindings[Int(node.a)]
      case .until: return untilReadsBindings[Int(node.a)]
      case .not: return readsBindings(node.a)
      case .and: return readsBindings(node.a) || readsBindings(node.b)
      }
    }
    func proceedClosure(_ state: Int) -> [Int] {
      var closure = [state]
      var i = 0
      while i < closure.count {
        for k in edgeStart[closure[i]]..<edgeStart[closure[i] + 1] where edges[k].action == .proceed {
          let target = edges[k].target.index
          if !closure.contains(target) { closure.append(target) }
        }
        i += 1
      }
      return closure
    }
    return (0..<edgeStart.count - 1).map { origin in
      for state in proceedClosure(origin) {
        for k in edgeStart[state]..<edgeStart[state + 1] {
          if readsBindings(edges[k].condition) { return false }
          guard edges[k].action == .take, edges[k].target != final else { continue }
          for reached in proceedClosure(edges[k].target.index) {
            for p in edgeStart[reached]..<edgeStart[reached + 1]
            where edges[p].action == .proceed && readsBindings(edges[p].condition) {
              return false
            }
          }
        }
      }
      return true
    }
  }

  /// Whether every partial match of `state` waits in a transparent state (``isTransparent``).
  public func isSettled(_ state: PartialMatches) -> Bool {
    guard hasTransparentStates else { return false }
    return state.partials.withUnsafeBufferPointer { partials in
      isTransparent.withUnsafeBufferPointer { transparent in
        for p in partials.indices where !transparent[Int(partials[p].state.rawValue)] { return false }
        return true
      }
    }
  }

  // MARK: - Quick check

  /// Whether `event` can start a match: some take edge reachable from the start state (through
  /// proceed edges that hold) accepts it. For a key with no open or held partial match, a `false`
  /// here means processing the event would change nothing, so the engine skips it — one
  /// condition evaluation instead of a full step (DESIGN §4's prefilter). A stop edge counts as
  /// "may start" so the thorough path decides.
  public func mayStart(_ event: EventRecord, context: EvalContext, scratch: MatcherScratch) -> Bool {
    scratch.frontier.removeAll()
    scratch.frontier.append(startState)
    var visited = 0
    while visited < scratch.frontier.count {
      let state = scratch.frontier[visited].index
      visited += 1
      for k in edgeStart[state]..<edgeStart[state + 1] where edges[k].action != .ignore {
        guard holds(edges[k].condition, event, nil, context) else { continue }
        if edges[k].action == .take { return true }
        if !scratch.frontier.contains(edges[k].target) { scratch.frontier.append(edges[k].target) }
      }
    }
    return false
  }

  /// The rest of the start step's conjunction when the start guard matched
  /// (``RuleGuards/startResidual(_:)``), compiled by the engine. `nil`: the guard decides
  /// alone.
  let startResidual: Condition?
  /// ``startResidual`` unretained, for the per-event call (a condition reached through a
  /// property is retained around the call otherwise).
  private let hotStartResidual: Unmanaged<Condition>?

  /// The quick check for an event whose field matched the rule's exact start guard: whether the
  /// rest of the start step's conjunction holds (no automaton walk, no second test of the
  /// equality). The engine asks only rules that have one (`Route.checksStartResidual`).
  @inline(__always)
  func startResidualHolds(_ event: EventRecord, context: EvalContext) -> Bool {
    hotStartResidual?._withUnsafeGuaranteedRef { $0.holds(event, nil, context) } ?? true
  }

  // MARK: - Time bounds

  /// The state an event that passes the start step's condition leaves a new partial match in,
  /// when that is all the walk from the start state does: its edges test nothing but step 0's
  /// condition, exactly one of them takes (into a state that is neither final nor a stop, and
  /// whose ε-moves, which the walk follows against the event, test nothing and never reach the
  /// final state: an `optional` step after the first), and none proceeds. Then, for a key with
  /// nothing open, ``process`` on an event whose start step holds makes exactly one partial
  /// match, binding the event to step 0 in this state, evaluates step 0's condition once and
  /// nothing else, and emits nothing: what a start queue's direct start does without the walk
  /// (Engine+StartQueues.swift). `nil` for any other shape.
  var loneStartState: StateID? {
    func testsOnlyStartStep(_ c: Int32) -> Bool {
      let node = conditions[Int(c)]
      switch node.kind {
      case .always: return true
      case .take: return node.a == 0
      case .until: return false
      case .not: return testsOnlyStartStep(node.a)
      case .and: return testsOnlyStartStep(node.a) && testsOnlyStartStep(node.b)
      }
    }
    guard stateStep[startState.index] == 0 else { return nil }
    var taken: StateID?
    for k in edgeStart[startState.index]..<edgeStart[startState.index + 1] {
      guard testsOnlyStartStep(edges[k].condition) else { return nil }
      switch edges[k].action {
      case .proceed: return nil
      case .ignore: continue
      case .take:
        guard taken == nil else { return nil }
        taken = edges[k].target
      }
    }
    guard let taken, taken != finalState, !isStop[taken.index] else { return nil }
    // What `reachesFinal` follows from it after the take.
    var pending = [taken]
    var seen: Set<StateID> = [taken]
    while let state = pending.popLast() {
      for k in edgeStart[state.index]..<edgeStart[state.index + 1] where edges[k].action == .proceed {
        guard conditions[Int(edges[k].condition)].kind == .always, edges[k].target != finalState else { return nil }
        if seen.insert(edges[k].target).inserted { pending.append(edges[k].target) }
      }
    }
    return taken
  }

  /// When `computation` times out: the earlier of `start + within` and
  /// `last event + within between steps`; `nil` when the rule has neither.
  public func deadline(of computation: Computation) -> EventTime? {
    let a = within.map { computation.start.time + $0 }
    let b = gap.map { computation.lastTime + $0 }
    switch (a, b) {
    case (let x?, let y?): return min(x, y)
    case (let x?, nil): return x
    case (nil, let y?): return y
    case (nil, nil): return nil
    }
  }

  /// The earliest deadline among `state`'s partial matches, `nil` when none has one.
  /// - Complexity: O(1) for rules with only `within` (partial matches are sorted by start, so
  ///   the first has the earliest deadline); O(n) with `within_between_steps`.
  public func earliestDeadline(of state: PartialMatches) -> EventTime? {
    guard let first = state.partials.first else { return nil }
    if gap == nil { return within.map { first.start.time + $0 } }
    var earliest: EventTime? = nil
    for computation in state.partials {
      if let d = deadline(of: computation), earliest.map({ d < $0 }) ?? true { earliest = d }
    }
    return earliest
  }

  /// ``earliestDeadline(of:)`` for state the caller holds in place (an element of the engine's
  /// per-key arrays): passing it by value from there copies it, retaining both its arrays.
  @inline(__always)
  public func earliestDeadline(in state: inout PartialMatches) -> EventTime? {
    guard gap == nil else { return earliestDeadline(of: state) }
    guard let within, !state.partials.isEmpty else { return nil }
    return state.partials[0].start.time + within
  }

  /// Whether flat condition `c` holds for `event` given `bindings`, over this matcher's
  /// unretained condition tables: the one evaluation of edge conditions.
  func holds(_ c: Int32, _ event: EventRecord, _ bindings: MatchNode?, _ context: EvalContext) -> Bool {
    let node = conditions[Int(c)]
    switch node.kind {
    case .always: return true
    case .take: return takeHolds(step: Int(node.a), event, bindings, context)
    case .until: return untilHolds(step: Int(node.a), event, bindings, context)
    case .not: return !holds(node.a, event, bindings, context)
    case .and: return holds(node.a, event, bindings, context) && holds(node.b, event, bindings, context)
    }
  }

  /// Whether step `step`'s `where` holds (a step without one accepts every event).
  @inline(__always)
  func takeHolds(step: Int, _ event: EventRecord, _ bindings: MatchNode?, _ context: EvalContext) -> Bool {
    guard let predicate = stepConditions[step] else { return true }
    return predicate._withUnsafeGuaranteedRef { $0.holds(event, bindings, context) }
  }

  /// Whether step `step`'s `until` holds (a step without one: never).
  @inline(__always)
  func untilHolds(step: Int, _ event: EventRecord, _ bindings: MatchNode?, _ context: EvalContext) -> Bool {
    guard let predicate = untilConditions[step] else { return false }
    return predicate._withUnsafeGuaranteedRef { $0.holds(event, bindings, context) }
  }

  /// Whether `computation` can no longer complete once no event at or before `time` can arrive
  /// (Flink's `isStateTimedOut`: `time − start >= within`).
  @inlinable func isTimedOut(_ computation: Computation, at time: EventTime) -> Bool {
    guard let deadline = deadline(of: computation) else { return false }
    return time >= deadline
  }

  /// `event` as step `step`'s nodes bind it: whole, or without its field values when nothing
  /// reads the step's fields (``keepsSlots``).
  @inline(__always)
  func binding(_ event: EventRecord, step: Int) -> EventRecord {
    if keepsSlots[step] { return event }
    return EventRecord(
      time: event.time, sequence: event.sequence, line: event.line, identity: event.identity, slots: .none)
  }

  // MARK: - Events

  /// Feeds one event of this key; calls `emit` with each complete match, in emission order.
  ///
  /// 1) Drops partial matches that timed out by the event's time. 2) Moves every partial match
  /// and the implicit start computation along the automaton (branching where several edges
  /// apply). 3) Emits complete matches according to the skip strategy.
  public func process(
    _ event: EventRecord, _ state: inout PartialMatches, context: EvalContext,
    scratch: MatcherScratch, emit: Emit
  ) {
    if let run {
      processRun(run, event, &state, context: context, scratch: scratch, emit: emit)
      return
    }
    // 1) Time out.
    state.partials.prefetchNodes()
    advanceTime(to: event.time, &state, emit: emit)

    // 2) Transitions, into the scratch buffers (no allocation once they have grown).
    scratch.prepare(steps: program.spec.steps.count, states: edgeStart.count - 1)
    scratch.generation &+= 1
    scratch.eventGeneration = scratch.generation
    scratch.effects.removeAll()
    // Both lists were drained by the last event (the pool took what it could).
    assert(scratch.next.isEmpty && scratch.complete.isEmpty)
    // Through the buffer with an unretained node, not `for computation in`: copying each element
    // out costs a retain and a release of its node, often a cache miss. The array holds every
    // node for the whole walk (`transitions` appends to the scratch, never to the state).
    //
    // The leading partial matches the event leaves exactly as they were (it only passed them by)
    // are not copied at all: they stay where they are in the key's array, and only what follows
    // them is rebuilt. A copy cost a retain and a release of a node the event may not otherwise
    // touch (a cold line), for what is, on a long window, most partial matches at most events.
    var unchanged = 0
    state.partials.withUnsafeBufferPointer { partials in
      for i in partials.indices {
        let same = Unmanaged.passUnretained(partials[i].bindings)._withUnsafeGuaranteedRef { node in
          transitions(
            from: partials[i].state, bindings: node, start: partials[i].start,
            event: event, context: context, scratch: scratch,
            mayStayInPlace: unchanged == i && keepsUnchangedInPlace)
        }
        if same { unchanged += 1 }
      }
    }
    transitions(
      from: startState, bindings: nil, start: EventPosition(event), event: event,
      context: context, scratch: scratch, mayStayInPlace: false)

    // 3) Emission. Swapping hands the key's old array to the scratch for the next event; the
    // nodes of partial matches the event ended go back to the pool while they are in the cache.
    // (Copying the new list into the key's array instead saves the scratch regrowing, but costs
    // a retain and a release per partial match: +1.1% instructions on W1, +1.9% on W2.)
    if unchanged > 0 {
      // The first `unchanged` stay in place; what the event made of the rest, and the matches it
      // started, follow them.
      drain(&state.partials, downTo: unchanged)
      moveAppending(&scratch.next, to: &state.partials)
    } else if scratch.next.isEmpty {
      // Nothing stays open: the key's array goes, and the scratch keeps its room. (Swapping here
      // gave the key the scratch's buffer only to free it, and left the scratch the key's small
      // one to regrow 1 → 2 → 4 on the next events: a `malloc`, a copy and a `free` each.)
      drain(&state.partials)
      giveBack(&state.partials)
    } else if scratch.next.count <= Self.shortList && state.partials.capacity < scratch.next.count {
      // A short list the key's array cannot hold (a new key's: no buffer yet) moves into a
      // buffer grown for it, and the scratch keeps its room. Swapped, the key took the scratch's
      // buffer and left it the key's, often none: the next long list (a hot key's) regrew it
      // 1 → 2 → … → 128, a `malloc` and a copy per step, and the short list went through
      // `trimPartials`. (Moving every short list instead of swapping: +1.1% instructions on W2.)
      drain(&state.partials)
      makeRoom(in: &state.partials, for: scratch.next.count)
      moveAppending(&scratch.next, to: &state.partials)
    } else {
      swap(&state.partials, &scratch.next)
      drain(&scratch.next)
      if state.partials.capacity > max(8, 2 * state.partials.count) { trimPartials(&state) }
    }
    finishStep(&state, scratch: scratch, emit: emit)
  }

  /// The most partial matches ``process`` moves into a key's own array rather than swapping
  /// the scratch's buffer for it.
  static var shortList: Int { 8 }

  /// How many emptied lists ``spareLists`` keeps, and the most room a kept one may have (a hot
  /// key's big buffer is freed, not kept).
  static var spareListLimit: Int { 64 }

  /// Empties `list` (releasing what it still holds: at its callers, the placeholders of retired
  /// nodes) and keeps its buffer for the next list to open when it is small; `list` is left
  /// without a buffer.
  @inline(__always)
  func giveBack(_ list: inout [Computation]) {
    guard list.capacity > 0 else { return }
    while !list.isEmpty { list.removeLast() }
    guard list.capacity <= Self.shortList, spareLists.count < Self.spareListLimit else {
      list = []
      return
    }
    var emptied: [Computation] = []
    swap(&emptied, &list)
    spareLists.append(emptied)
  }

  /// Gives `list` room for `count` partial matches, from a kept buffer when it has none.
  @inline(__always)
  func makeRoom(in list: inout [Computation], for count: Int) {
    if list.capacity == 0, count <= Self.shortList, let spare = spareLists.popLast() { list = spare }
    if list.capacity < count { list.reserveCapacity(max(count, 2 * list.capacity)) }
  }

  /// Appends `source`'s computations to `list`, in order, and leaves `source` empty with its
  /// capacity. Moved, not copied: `append(contentsOf:)` retained each node and emptying the
  /// source released it again. Popped from the end, then put back in order by a reversal
  /// through the buffer (`list[first...].reverse()` went through the array's range subscript,
  /// which copied the slice and wrote it back: a retain and a release per element, and an array
  /// allocated per call).
  @inline(__always)
  func moveAppending(_ source: inout [Computation], to list: inout [Computation]) {
    guard !source.isEmpty else { return }
    let first = list.count
    while let moving = source.popLast() { list.append(moving) }
    list.withUnsafeMutableBufferPointer { partials in
      var (i, j) = (first, partials.count - 1)
      while i < j {
        partials.swapAt(i, j)
        i += 1
        j -= 1
      }
    }
  }

  /// The end of a step, for the general walk and shared runs alike: records whether the key's
  /// partial matches are settled, then emits the matches the event completed (`scratch.complete`)
  /// or holds them per the skip strategy, and empties the list.
  @inline(__always)
  func finishStep(_ state: inout PartialMatches, scratch: MatcherScratch, emit: Emit) {
    if tracksSettling { state.isSettled = isSettled(state) }
    if holdsCompleted {
      // Guarded: appending nothing to an array without a buffer still went through the
      // runtime's regrowth path (~90 instructions).
      if !scratch.complete.isEmpty { state.completed.append(contentsOf: scratch.complete) }
      releaseCompleted(&state, emit: emit)
    } else {
      for match in scratch.complete { emit(match.bindings, .complete) }
    }
    drain(&scratch.complete)
    state._checkInvariants()
    assert(state.completed.isEmpty || !timeOutsAreQuiet, "a rule with quiet time-outs holds a match back")
  }

  /// Empties `list` down to its first `kept` elements (keeping its capacity), giving the pool
  /// the nodes only the removed ones held.
  ///
  /// Element by element from the end: `removeAll(keepingCapacity:)` goes through the generic
  /// `replaceSubrange` (~470 instructions per event on W2), and a popped element's node is owned
  /// here, so the pool takes it without a reference count update.
  @inline(__always)
  func drain(_ list: inout [Computation], downTo kept: Int = 0) {
    for _ in kept..<list.count {
      let computation = list.removeLast()
      nodes.recycle((consume computation).bindings)
    }
  }

  /// Drops the `count` oldest partial matches of `state` (time-outs of a shared run, state
  /// limits), their nodes retired to the pool (``MatchNodePool/retire(_:)``: a dropped node is
  /// usually cold, bound up to a window ago). `removeFirst(count)` alone released each node to
  /// the allocator: a hot key at its cap drops as many partial matches per event as it opens,
  /// and each freed node was allocated again for the next event's bindings.
  public func dropOldest(_ count: Int, from state: inout PartialMatches) {
    let n = min(count, state.partials.count)
    guard n > 0 else { return }
    state.partials.withUnsafeMutableBufferPointer { partials in
      for i in 0..<n { nodes.retire(&partials[i].bindings) }
    }
    if n == state.partials.count {
      giveBack(&state.partials)
    } else {
      state.partials.removeFirst(n)
    }
  }

  /// Gives the key an array sized to what it holds. The scratch array a key receives by the swap
  /// above may have grown for another key (a hot key with thousands of partial matches); kept,
  /// that capacity would stay on every quiet key processed after it — measured at ~680 bytes
  /// per key on the adversarial test, three times the state itself.
  @inline(never)
  private func trimPartials(_ state: inout PartialMatches) {
    var trimmed: [Computation] = []
    trimmed.reserveCapacity(state.partials.count)
    moveAppending(&state.partials, to: &trimmed)
    state.partials = trimmed
  }

  /// Flink's `computeNextStates` for one computation. `bindings == nil` means the start
  /// computation, which never ignores and is never dropped (the caller re-creates it per event).
  /// If any branch reaches a stop state (a `not_next`/`not_followed_by` event), every partial
  /// match this computation produced for the event is discarded; matches it completed stay.
  ///
  /// With `mayStayInPlace`, an ignore edge back to `origin` (the event passed the partial match
  /// by) is not appended at once: if it turns out to be all the event did to the partial match,
  /// nothing is appended to `scratch.next` and the result is `true` (the caller keeps the
  /// partial match where it is; matches it completed are in `scratch.complete` as usual);
  /// otherwise it is inserted where it would have been appended, and the result is `false`.
  /// The lists come out the same either way.
  ///
  /// The walk (``decide(from:bindings:event:context:scratch:_:)``) finds what the event does,
  /// and ``perform(_:_:bindings:event:context:scratch:)`` does it. For a state whose walk reads no
  /// binding (``sharesPlan``) the effects found are kept for the event (a plan), and the key's
  /// other partial matches waiting there only perform them; any other walk performs each effect
  /// as it finds it.
  @discardableResult
  private func transitions(
    from origin: StateID, bindings: MatchNode?, start: EventPosition, event: EventRecord,
    context: EvalContext, scratch: MatcherScratch, mayStayInPlace: Bool
  ) -> Bool {
    var done = Application(origin: origin, start: start, mayStayInPlace: mayStayInPlace, mark: scratch.next.count)
    guard bindings != nil, sharesPlan[origin.index] else {
      let stopped = decide(from: origin, bindings: bindings, event: event, context: context, scratch: scratch) {
        _ = perform($0, &done, bindings: bindings, event: event, context: context, scratch: scratch)
      }
      return finish(done, bindings: bindings, stopped: stopped, scratch: scratch)
    }
    var plan = scratch.plans[origin.index]
    if plan.stamp != scratch.eventGeneration {
      plan.first = Int32(scratch.effects.count)
      plan.stopped = decide(from: origin, bindings: bindings, event: event, context: context, scratch: scratch) {
        scratch.effects.append($0)
      }
      plan.end = Int32(scratch.effects.count)
      plan.stamp = scratch.eventGeneration
      scratch.plans[origin.index] = plan
    }
    for e in Int(plan.first)..<Int(plan.end) {
      let effect = scratch.effects[e]
      let completes = perform(effect, &done, bindings: bindings, event: event, context: context, scratch: scratch)
      // Kept with the plan: its conditions read no binding.
      if completes != effect.completes { scratch.effects[e].completes = completes }
    }
    return finish(done, bindings: bindings, stopped: plan.stopped, scratch: scratch)
  }

  /// Walks the decision graph of a computation waiting in `origin` for `event`: the origin's
  /// edges plus, through proceed edges that hold, the edges of the states reachable by ε-moves.
  /// Passes the ignore and take edges that hold to `found`, in order (an ignore only for a
  /// partial match: the start computation never ignores); returns whether a take edge led to a
  /// stop state.
  @inline(__always)
  private func decide(
    from origin: StateID, bindings: MatchNode?, event: EventRecord, context: EvalContext,
    scratch: MatcherScratch, _ found: (MatcherScratch.Effect) -> Void
  ) -> Bool {
    scratch.generation &+= 1
    let generation = scratch.generation
    let eventGeneration = scratch.eventGeneration
    // Step conditions are evaluated at most once per computation (take C / ignore unless C), and
    // those that read no binding at most once per event (stamped at or after the event's start).
    func holds(_ c: Int32) -> Bool {
      let node = conditions[Int(c)]
      switch node.kind {
      case .always: return true
      case .take:
        let step = Int(node.a)
        let stamp = scratch.takeStamp[step]
        if takeReadsBindings[step] ? stamp != generation : stamp < eventGeneration {
          scratch.takeStamp[step] = generation
          scratch.takeResult[step] = takeHolds(step: step, event, bindings, context)
        }
        return scratch.takeResult[step]
      case .until:
        let step = Int(node.a)
        let stamp = scratch.untilStamp[step]
        if untilReadsBindings[step] ? stamp != generation : stamp < eventGeneration {
          scratch.untilStamp[step] = generation
          scratch.untilResult[step] = untilHolds(step: step, event, bindings, context)
        }
        return scratch.untilResult[step]
      case .not: return !holds(node.a)
      case .and: return holds(node.a) && holds(node.b)
      }
    }
    var stopped = false
    scratch.frontier.removeAll()
    scratch.frontier.append(origin)
    var visited = 0
    while visited < scratch.frontier.count {
      let state = scratch.frontier[visited].index
      visited += 1
      for k in edgeStart[state]..<edgeStart[state + 1] where holds(edges[k].condition) {
        let target = edges[k].target
        switch edges[k].action {
        case .proceed:
          if !scratch.frontier.contains(target) { scratch.frontier.append(target) }
        case .ignore:
          if bindings != nil { found(MatcherScratch.Effect(kind: .ignore, target: target)) }
        case .take:
          if isStop[target.index] {
            stopped = true
          } else {
            found(MatcherScratch.Effect(kind: .take, target: target, step: Int32(stateStep[state])))
          }
        }
      }
    }
    return stopped
  }

  /// One computation's effects performed so far (``transitions``). Its bindings are passed
  /// alongside, not held here: a reference held here cost a retain and a release per walk.
  private struct Application {
    let origin: StateID
    let start: EventPosition
    let mayStayInPlace: Bool
    /// `scratch.next.count` before the first effect.
    let mark: Int
    /// Where the ignore edge back to the origin would have been appended, when it was held back.
    var heldAt: Int? = nil
  }

  /// Does `effect` to the computation of `done` (whose bindings are `bindings`): appends what it
  /// becomes to `scratch.next`, and a match it completes to `scratch.complete`. Returns
  /// `effect.completes`, worked out if it was not known.
  @inline(__always)
  private func perform(
    _ effect: MatcherScratch.Effect, _ done: inout Application, bindings: MatchNode?, event: EventRecord,
    context: EvalContext, scratch: MatcherScratch
  ) -> Int8 {
    let target = effect.target
    let start = done.start
    switch effect.kind {
    case .ignore:
      guard let bindings else { return effect.completes }  // found only for partial matches
      if done.mayStayInPlace, done.heldAt == nil, target == done.origin {
        done.heldAt = scratch.next.count
      } else if target == finalState {
        // `not_next` as the last step: the next event did not violate it.
        scratch.complete.append(Computation(state: target, bindings: bindings, start: start))
      } else {
        scratch.next.append(Computation(state: target, bindings: bindings, start: start))
      }
      return effect.completes
    case .take:
      let step = Int(effect.step)
      let node = nodes.make(step: step, event: binding(event, step: step), previous: bindings)
      let taken = Computation(state: target, bindings: node, start: start)
      if target == finalState {
        scratch.complete.append(taken)
        return effect.completes
      }
      scratch.next.append(taken)
      var completes = effect.completes
      if completes < 0 {
        // Only a state with a path of proceed edges to the final state reaches it without an event.
        completes =
          proceedsReachFinal[target.index]
            && reachesFinal(from: target, event: event, bindings: node, context: context)
          ? 1 : 0
      }
      if completes == 1 { scratch.complete.append(Computation(state: finalState, bindings: node, start: start)) }
      return completes
    }
  }

  /// After the effects: discards what a stopped walk appended to `scratch.next`, and puts a
  /// held-back ignore in its place unless it was all the event did. Returns whether the partial
  /// match stays in place.
  @inline(__always)
  private func finish(_ done: Application, bindings: MatchNode?, stopped: Bool, scratch: MatcherScratch) -> Bool {
    if stopped {
      scratch.next.removeSubrange(done.mark...)
      return false
    }
    guard let heldAt = done.heldAt, let bindings else { return false }
    // Matches it completed do not matter here: they go to their own list, and the partial
    // match stays open either way.
    if scratch.next.count == done.mark { return true }
    scratch.next.insert(Computation(state: done.origin, bindings: bindings, start: done.start), at: heldAt)
    return false
  }

  /// Whether `state` reaches the final state by proceed edges that hold for `event`
  /// (Flink's `findFinalStateAfterProceed`).
  private func reachesFinal(
    from state: StateID, event: EventRecord, bindings: MatchNode, context: EvalContext
  ) -> Bool {
    // Only states with a proceed edge can reach the final state without an event. The walk
    // reuses one scratch list (matchers run on one thread).
    let pending = scratchStates
    pending.states.removeAll()
    var current: StateID? = state
    var visited = 0
    while let id = current {
      for k in edgeStart[id.index]..<edgeStart[id.index + 1] where edges[k].action == .proceed {
        guard holds(edges[k].condition, event, bindings, context) else { continue }
        let target = edges[k].target
        if target == finalState { return true }
        if !pending.states.contains(target) { pending.states.append(target) }
      }
      current = visited < pending.states.count ? pending.states[visited] : nil
      visited += 1
    }
    return false
  }

  // MARK: - Time

  /// Drops partial matches that can no longer complete because no event at or before `time`
  /// will arrive. Those waiting in a pending (absence) state complete instead; others are
  /// reported as timeouts when the rule has `on timeout emit`. Then releases held matches no
  /// partial match can precede any more.
  public func advanceTime(to time: EventTime, _ state: inout PartialMatches, emit: Emit) {
    if let run {
      advanceRun(run, to: time, &state, emit: emit)
      return
    }
    guard let earliest = earliestDeadline(of: state), time >= earliest else { return }
    state.partials.prefetchNodes()
    var absent: [Computation] = []
    // In place, keeping the order of what stays; a timed-out partial match's nodes go back to
    // the pool unless an absence match carries them on.
    var kept = 0
    state.partials.withUnsafeMutableBufferPointer { partials in
      for i in partials.indices {
        guard let deadline = deadline(of: partials[i]), time >= deadline else {
          if kept != i { partials.swapAt(kept, i) }
          kept += 1
          continue
        }
        if program.nfa[partials[i].state].kind == .pending {
          var match = partials[i]
          match.absenceDeadline = deadline
          absent.append(match)
        } else {
          if reportsTimeouts { emit(partials[i].bindings, .timeout(deadline: deadline)) }
          nodes.retire(&partials[i].bindings)
        }
      }
    }
    if kept == 0 {
      // Nothing stays open: the buffer goes now, while it is in the cache. Kept empty, it would
      // cost the key's next event a miss on its header (a key whose window has passed is
      // usually quiet for long) and hold memory for every idle key until the key is reclaimed.
      // A small one is kept for the next key to open (``giveBack(_:)``).
      giveBack(&state.partials)
    } else {
      while state.partials.count > kept { state.partials.removeLast() }
    }
    if holdsCompleted {
      if !absent.isEmpty { state.completed.append(contentsOf: absent) }
      releaseCompleted(&state, emit: emit)
    } else {
      for match in absent { emit(match.bindings, outcome(of: match)) }
    }
  }

  /// End of input: no partial match can progress. With a window, everything open times out
  /// (absences complete); every held match is then released in order.
  public func finish(_ state: inout PartialMatches, emit: Emit) {
    advanceTime(to: .infinity, &state, emit: emit)
    state.partials.removeAll()
    if holdsCompleted { releaseCompleted(&state, emit: emit) }
  }

  /// Emits the held matches that no open partial match precedes any more, e.g. after a state
  /// limit dropped the partial matches that were holding them back. Does nothing without a
  /// skip strategy that holds matches.
  public func releaseHeld(_ state: inout PartialMatches, emit: Emit) {
    if holdsCompleted { releaseCompleted(&state, emit: emit) }
  }

  private func outcome(of match: Computation) -> MatchOutcome {
    match.absenceDeadline.map { .absence(deadline: $0) } ?? .complete
  }

  // MARK: - Skip strategies

  /// Emits held matches while the earliest one starts no later than every open partial match
  /// (Flink's `processMatchesAccordingToSkipStrategy`), pruning after each.
  func releaseCompleted(_ state: inout PartialMatches, emit: Emit) {
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
      emit(match.bindings, outcome(of: match))
      prune(after: match, &state)
    }
    // As in ``advanceTime``: emptied lists give their buffers back while they are in the cache.
    if state.completed.isEmpty, state.completed.capacity > 0 { state.completed = [] }
    if state.partials.isEmpty { giveBack(&state.partials) }
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

/// An automaton edge as plain data (``RuleMatcher``'s hot loops): its condition is an index into
/// the matcher's ``FlatCondition`` table.
struct FlatEdge {
  var action: NFA.Action
  var target: StateID
  var condition: Int32
}

/// One node of an edge condition as plain data: ``NFA/EdgeCondition`` flattened into a table,
/// its operands indices into the same table. Reading it counts no reference.
struct FlatCondition {
  enum Kind: UInt8 { case always, take, until, not, and }
  var kind: Kind
  /// The step (`take`, `until`), the operand (`not`) or the left operand (`and`).
  var a: Int32 = 0
  /// The right operand (`and`).
  var b: Int32 = 0

  /// Appends `condition`'s nodes to `table` (operands first); returns its root's index.
  static func add(_ condition: NFA.EdgeCondition, to table: inout [FlatCondition]) -> Int32 {
    let node: FlatCondition
    switch condition {
    case .always: node = FlatCondition(kind: .always)
    case .take(let step): node = FlatCondition(kind: .take, a: Int32(step))
    case .until(let step): node = FlatCondition(kind: .until, a: Int32(step))
    case .not(let inner): node = FlatCondition(kind: .not, a: add(inner, to: &table))
    case .and(let l, let r):
      let left = add(l, to: &table)
      node = FlatCondition(kind: .and, a: left, b: add(r, to: &table))
    }
    table.append(node)
    return Int32(table.count - 1)
  }
}
