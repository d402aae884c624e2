import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Shared runs kept as run queues (``RunQueue``): one queue of entries per rule instead of a
/// list, match nodes and a timer per key.
extension Engine {
  /// Rule `matcher`'s run queue under `options`, or `nil` when its partial matches stay in the
  /// general state (``states``).
  ///
  /// A queue holds a rule whose partial matches share a run (``RuleMatcher/sharesRuns``), that
  /// has a window, emits nothing when they end (``RuleMatcher/endsSilently``), and whose skip
  /// strategy drops a key's partial matches from the oldest end only:
  /// - `no_skip` keeps them all;
  /// - `skip to_next` drops those whose match was emitted (the oldest ones);
  /// - `skip past_last_event` drops them all after the first match.
  ///
  /// `skip to_first`/`to_last` keep the general state, as do rules under a state budget (whose
  /// estimate and eviction order are kept from the general state's measures), and rules past
  /// the first 64 or past their key space's tracked rules (whose openness is read from the
  /// general state). An idle-key TTL applies to a queue as to the general state.
  ///
  /// A rule of the pair shape (``PairShape``, which says which skip strategies it takes) gets a
  /// pair queue under the same conditions: see ``RunQueue``.
  static func runQueue(
    for matcher: RuleMatcher, rule r: Int, bitInSpace: Int, programs: ProgramSet, options: EngineOptions
  ) -> RunQueue? {
    guard r < RuleGuards.trackedRules, bitInSpace < KeySpace.trackedRules else { return nil }
    let program = matcher.program
    let spec = program.spec
    // What an alert reads of the matched events beyond their time and identity.
    var read = spec.emit.flatMap(\.value.allFields)
    if let key = spec.suppression?.key { read += key.allFields }
    func kept() -> [SlotIndex] { Set(read.compactMap { programs.projection.existingSlot(for: $0) }).sorted() }
    if let (run, within) = queueShape(matcher, options: options) {
      return RunQueue(within: within, needed: run.counting.count, keptSlots: kept(), slotCount: programs.projection.count)
    }
    guard let (shape, within) = pairShape(program, options: options) else { return nil }
    // And what the later steps' conditions read of the first event.
    let conditions = [shape.second, shape.negation].compactMap { $0.flatMap { spec.steps[$0].condition } }
    for condition in conditions { read += PairShape.firstStepFields(condition) }
    let kept = kept()
    var compiler = ExprCompiler(projection: programs.projection, kept: ExprCompiler.KeptValues(step: 0, slots: kept))
    func test(_ step: Int) -> RunQueue.Pair.Test {
      let condition = spec.steps[step].condition
      let readsFirst = condition?.readsBindings ?? false
      let filter = condition.flatMap { condition in
        isFiltered(condition, shape: shape, options: options)
          ? PairFilter.make(condition, kept: kept, projection: programs.projection) {
            Condition(compiler.compileCondition($0))
          } : nil
      }
      return RunQueue.Pair.Test(
        condition: condition.map { Condition(compiler.compileCondition($0)) }, readsFirst: readsFirst, filter: filter)
    }
    let pair = RunQueue.Pair(
      waiting: shape.waiting, second: shape.second, take: test(shape.second), negation: shape.negation.map(test),
      readsStartTime: conditions.contains(where: PairShape.readsFirstStepTime), consumes: shape.consumes,
      strict: shape.strict)
    return RunQueue(within: within, needed: 1, keptSlots: kept, slotCount: programs.projection.count, pair: pair)
  }

  /// Whether rule `program` keeps its partial matches in a pair queue under `options` (as
  /// ``queuesRuns(of:options:)`` asks for run queues), for `tocsin explain`.
  public static func queuesPairs(of program: RuleProgram, options: EngineOptions = EngineOptions()) -> Bool {
    pairShape(program, options: options) != nil
  }

  /// For `tocsin explain`: each later step of pair rule `program` whose condition reads `a`, with
  /// the conjuncts the event alone is tested on before a key's entries are walked
  /// (``PairFilter``), rendered; an empty list means every candidate event walks them. `nil` for
  /// a rule no pair queue holds under `options`; no steps under `next` (no walk to save) or when
  /// `filtersPairs` is off.
  public static func pairFilters(
    of program: RuleProgram, options: EngineOptions = EngineOptions()
  ) -> [(step: String, conjuncts: [String])]? {
    guard let (shape, _) = pairShape(program, options: options) else { return nil }
    let spec = program.spec
    let names = spec.steps.map(\.name)
    return [shape.second, shape.negation].compactMap { $0 }.compactMap { step in
      guard let condition = spec.steps[step].condition, isFiltered(condition, shape: shape, options: options)
      else { return nil }
      return (names[step], PairFilter.usableConjuncts(of: condition).map { $0.rendered(stepNames: names) })
    }
  }

  /// Whether a pair queue asks a filter (``PairFilter``) about `condition`, a later step's: when
  /// it reads `a` (one that does not is evaluated once per event anyway), filters are on, and
  /// the rule is not `next` (whose event ends the key's entry whatever the condition says, so
  /// there is no walk to save).
  private static func isFiltered(_ condition: Expr, shape: PairShape, options: EngineOptions) -> Bool {
    condition.readsBindings && options.filtersPairs && !shape.strict
  }

  /// The pair shape and window of a rule that a pair queue can hold under `options`. (The shape
  /// itself has a window, no skip strategy and no time-out alerts: it ends silently.)
  private static func pairShape(_ program: RuleProgram, options: EngineOptions) -> (PairShape, EventDuration)? {
    guard options.queuesPairs, options.limits.maxStateBytes == nil, let within = program.spec.within,
      let shape = PairShape.detect(program)
    else { return nil }
    return (shape, within)
  }

  /// Whether rule `program` keeps its partial matches in a run queue under `options` (in a
  /// rule set where it is among the first 64 rules, as ``runQueue(for:rule:bitInSpace:programs:options:)``
  /// also asks), for `tocsin explain`.
  public static func queuesRuns(of program: RuleProgram, options: EngineOptions = EngineOptions()) -> Bool {
    queueShape(RuleMatcher(program: program), options: options) != nil
  }

  /// The shared run and window of a rule whose shape and options let a run queue hold it.
  private static func queueShape(_ matcher: RuleMatcher, options: EngineOptions) -> (SharedRun, EventDuration)? {
    let spec = matcher.program.spec
    guard options.queuesSharedRuns, let run = matcher.run, matcher.endsSilently, let within = spec.within,
      options.limits.maxStateBytes == nil
    else { return nil }
    switch spec.skip {
    case .noSkip, .skipToNext, .skipPastLastEvent: return (run, within)
    case .skipToFirst, .skipToLast: return nil
    }
  }

  /// ``route(_:keys:into:)`` for a rule with a run queue: the shared run's step
  /// (``RuleMatcher/processRun``) on the queue.
  ///
  /// For a pair queue, the walk of ``processPaired(_:_:_:rule:key:keySpace:hasQuickStartCheck:takesByGuard:_:)``.
  /// `mayTake` is `false` when the step guard shows no step of the rule can take the event;
  /// `takesByGuard` is `true` when the guard lookup alone shows that the first step takes it: an
  /// exact start guard without a residual conjunction matched (``RuleGuards/Candidates/exactStart``).
  /// Then the step's condition is not evaluated again, nor when `mayTake` is `false`, as the
  /// general state's closed-key start does (`closedStart`): a run or pair queue's first step is
  /// its start step (~60 instructions per W1 purchase in `card_velocity`'s step).
  @inline(__always)
  func processQueued(
    _ queue: RunQueue, _ event: EventRecord, rule r: Int, key: KeyID, keySpace space: Int, bit: Int,
    hasQuickStartCheck: Bool, mayTake: Bool, takesByGuard: Bool, _ actions: inout [EngineAction]
  ) {
    let k = key.index
    queue.ensureKey(k)
    if options.limits.keyTTL != nil { touchForTTL(rule: r, key: key, at: event.time) }
    // What the event's time has passed times out first (events come in time order, so it is
    // the queue's head, over all keys).
    popExpired(queue, upTo: event.time, keySpace: space, bit: bit)
    if let hotPair = queue.hotPair {
      hotPair._withUnsafeGuaranteedRef { pair in
        // Under `next` any event of the key ends its partial match, so it is walked even when
        // no step can take it.
        if mayTake || pair.strict {
          processPaired(
            queue, pair, event, rule: r, key: key, keySpace: space, hasQuickStartCheck: hasQuickStartCheck,
            takesByGuard: takesByGuard, &actions)
        }
      }
    } else {
      let taken =
        mayTake
        && (takesByGuard
          || withRule(r) { matcher, context, _ in
            if !hasQuickStartCheck { context.key = .string(keySpaces[space].text(of: key)) }
            return matcher.takeHolds(step: 0, event, nil, context)
          })
      _assertTakeAgrees(rule: r, event: event, taken: taken, hasQuickStartCheck: hasQuickStartCheck)
      if taken {
        queue.append(event, key: k)
        let count = queue.count(ofKey: k)
        if count >= queue.needed { emitRunMatches(queue, rule: r, key: key, count: count, &actions) }
      } else if queue.count(ofKey: k) > 0 {
        queue.markSkipped(key: k)
      }
    }
    let cap = options.limits.maxPartialsPerKey
    // Its oldest partial matches beyond the cap dropped, as ``capPartials(rule:key:emit:)`` drops
    // them from the general state.
    if queue.count(ofKey: k) > cap {
      dropQueued(queue, rule: r, key: key, count: queue.count(ofKey: k) - cap, limit: .partialsPerKey)
    }
    let isOpen = queue.count(ofKey: k) > 0
    hotMasks[space]._withUnsafeGuaranteedRef { $0.set(isOpen, bit: bit, at: k) }
    if options.limits.keyTTL != nil { scheduleTTL(rule: r, key: key) }
  }

  /// Debug builds: the first step's condition, evaluated apart, agrees with `taken`, where the
  /// guard lookup decided it (for a rule whose condition reads only the event).
  private func _assertTakeAgrees(rule r: Int, event: EventRecord, taken: Bool, hasQuickStartCheck: Bool) {
    #if DEBUG
      guard hasQuickStartCheck else { return }
      assert(
        rules[r].matcher.takeHolds(step: 0, event, nil, EvalContext()) == taken,
        "the guard lookup and the first step of rule '\(rules[r].matcher.program.name)' disagree on event \(event.identity)")
    #endif
  }

  /// A pair queue's step (the general matcher's, for the pair shape): the key's partial matches
  /// are walked oldest first (``walkPairs(_:_:_:rule:key:context:_:)``); then the event starts a
  /// partial match of its own when the first step takes it.
  @inline(__always)
  private func processPaired(
    _ queue: RunQueue, _ pair: RunQueue.Pair, _ event: EventRecord, rule r: Int, key: KeyID, keySpace space: Int,
    hasQuickStartCheck: Bool, takesByGuard: Bool, _ actions: inout [EngineAction]
  ) {
    let k = key.index
    let open = queue.count(ofKey: k) > 0
    withRule(r) { matcher, context, _ in
      if !hasQuickStartCheck { context.key = .string(keySpaces[space].text(of: key)) }
      if open { walkPairs(queue, pair, event, rule: r, key: key, context: context, &actions) }
      if takesByGuard {
        _assertTakeAgrees(rule: r, event: event, taken: true, hasQuickStartCheck: hasQuickStartCheck)
      } else if !matcher.takeHolds(step: 0, event, nil, context) {
        return
      }
      // Nothing more to evaluate: the general walk asks whether a partial match's new state
      // reaches the final state by proceed edges only from states with a path of them to it
      // (`RuleMatcher.proceedsReachFinal`), and the pair's first state has none (its proceed
      // edge leads to the second step, which waits for an event). Before that, it walked the
      // negation's proceed edge against the event just taken, counting its errors, and so did
      // this queue.
      queue.append(event, key: k)
    }
  }

  /// Tests `event` against each of key `key`'s partial matches in `queue`, oldest first, as the
  /// general walk does from their waiting state: the second step's condition, then the
  /// negation's. A partial match the second step takes emits the match `(a, event)`; it then ends
  /// under `followed_by` and stays open under `followed_by_any`; one the negation takes ends
  /// (after emitting, if both took it). A condition that reads nothing of `a` is evaluated for
  /// the first partial match only and holds or fails for all (the general walk's per-event
  /// cache), so the walk stops early when nothing can change; one that reads `a` is first asked
  /// of its filter (``PairFilter``), which may show from the event alone that it holds for no
  /// entry.
  @inline(__always)
  private func walkPairs(
    _ queue: RunQueue, _ pair: RunQueue.Pair, _ event: EventRecord, rule r: Int, key: KeyID, context: EvalContext,
    _ actions: inout [EngineAction]
  ) {
    let k = key.index
    // A condition's value for every entry, once known (a step without one takes every event).
    var takesAll: Bool? = pair.take.condition == nil ? true : nil
    var stopsAll: Bool? = pair.negation.map { $0.condition == nil ? true : nil } ?? false
    func holds(_ test: RunQueue.Pair.Test, _ known: inout Bool?) -> Bool {
      if let known { return known }
      // swift-format-ignore: NeverForceUnwrap
      // `known` is set for a test without a condition.
      let result = Unmanaged.passUnretained(test.condition!)._withUnsafeGuaranteedRef { $0.holds(event, nil, context) }
      if !test.readsFirst { known = result }
      return result
    }
    // Nothing to do when neither condition can hold for any entry: one that reads nothing of
    // `a` evaluated (in the walk's order, the second step's first, as for the first entry), one
    // that does asked of its filter (which records nothing, and rules it out only when no
    // entry's evaluation would record anything either). Under `next` the event ends the key's
    // partial match (its one live entry, the newest) whatever the conditions say.
    if !pair.strict {
      let filtering = pair.hasFilters && queue.usesFilters()
      var filtered = false
      func holdsForNone(_ test: RunQueue.Pair.Test, _ known: inout Bool?) -> Bool {
        guard test.readsFirst else { return !holds(test, &known) }
        guard filtering, let filter = test.filter,
          Unmanaged.passUnretained(filter)._withUnsafeGuaranteedRef({
            $0.rulesOut(event, context: context, kinds: { queue.keptKinds($0) })
          })
        else { return false }
        filtered = true
        return true
      }
      let none = holdsForNone(pair.take, &takesAll) && (pair.negation.map { holdsForNone($0, &stopsAll) } ?? true)
      if filtering { queue.recordFilterOutcome(ruledOut: none && filtered) }
      if none { return }
    }
    queue.walkLive(key: k) { s in
      context.keptValues = queue.keptValues(s)
      if pair.readsStartTime { context.keptTime = queue.entry(s).pointee.start.time }
      let takes = holds(pair.take, &takesAll)
      let stops = pair.strict || (pair.negation.map { holds($0, &stopsAll) } ?? false)
      if takes { emitPair(queue, pair, entry: s, event, rule: r, key: key, &actions) }
      if stops || (takes && pair.consumes) { queue.end(s, key: k) }
    }
    context.keptValues = nil
  }

  /// Emits the match of pair queue entry `s` and `event`: the nodes the general matcher binds.
  @inline(never)
  private func emitPair(
    _ queue: RunQueue, _ pair: RunQueue.Pair, entry s: UInt64, _ event: EventRecord, rule r: Int, key: KeyID,
    _ actions: inout [EngineAction]
  ) {
    let nodes = rules[r].matcher.nodes
    let first = nodes.make(step: 0, event: queue.event(s), previous: nil)
    let match = nodes.make(step: pair.second, event: event, previous: first)
    tallies.alertsByRule[r] += 1
    actions.append(.alert(makeAlert(rule: r, key: key, match: match, outcome: .complete)))
    // The alert keeps none of the nodes: back to the pool for the next alert (freeing them
    // and allocating two more cost ~1,000 instructions an alert).
    nodes.recycle(consume match)
  }

  /// The matches a taken event completes (every partial match with `needed` events or more,
  /// oldest first: the first `count − needed + 1`), as the rule's skip strategy lets them out.
  @inline(never)
  private func emitRunMatches(_ queue: RunQueue, rule r: Int, key: KeyID, count: Int, _ actions: inout [EngineAction]) {
    let matcher = rules[r].matcher
    let skip = matcher.program.spec.skip
    let complete = count - queue.needed + 1
    // `past_last_event`: the first match prunes every other partial and held match.
    let emitted = skip == .skipPastLastEvent ? 1 : complete
    let live = queue.liveEntries(key: key.index)
    // Each match's nodes, newest first, share nothing: partial match `i`'s match is entries
    // `i…` (as ``RuleMatcher/matchOfRun(from:through:in:)`` builds it).
    for first in 0..<emitted {
      var match: MatchNode? = nil
      for s in live[first...] { match = matcher.nodes.make(step: 0, event: queue.event(s), previous: match) }
      tallies.alertsByRule[r] += 1
      // swift-format-ignore: NeverForceUnwrap
      // `live` has `count` ≥ `needed` ≥ 1 entries, so `live[first...]` is never empty.
      actions.append(.alert(makeAlert(rule: r, key: key, match: match!, outcome: .complete)))
      // The alert keeps none of the nodes (as in ``emitPair``).
      matcher.nodes.recycle(match.take()!)
    }
    switch skip {
    case .noSkip: break
    case .skipToNext: queue.dropOldest(emitted, key: key.index)
    default: queue.dropOldest(count, key: key.index)
    }
  }

  /// ``dropOldest(rule:key:count:limit:collect:)`` for a rule with a run queue (the per-key cap's
  /// and the idle-key TTL's drops): the key's oldest partial matches dropped, reported and
  /// counted as the general state's are.
  @inline(never)
  func dropQueued(_ queue: RunQueue, rule r: Int, key: KeyID, count: Int, limit: StateLimitKind) {
    let n = min(count, queue.count(ofKey: key.index))
    guard n > 0 else { return }
    let oldest = queue.entry(queue.oldestEntry(key: key.index)).pointee.start.time
    queue.dropOldest(n, key: key.index)
    if queue.count(ofKey: key.index) == 0 {
      hotMasks[rules[r].keySpace]._withUnsafeGuaranteedRef { $0.set(false, bit: rules[r].bitInSpace, at: key.index) }
    }
    recordDrop(rule: r, key: key, limit: limit, dropped: n, oldest: oldest)
    reclaimIfIdle(space: rules[r].keySpace, key: key)
  }

  /// Rule `r`'s open partial matches for `key`, in its queue or its general state.
  func openPartials(rule r: Int, key: KeyID) -> Int {
    if let queue = hotQueues[r] { return queue._withUnsafeGuaranteedRef { $0.count(ofKey: key.index) } }
    guard key.index < states.count(of: r) else { return 0 }
    return states[r, key.index].hasQueuedStart ? 1 : states[r, key.index].partials.count
  }

  /// Whether rule `r` holds anything for `key` (open or held matches), in its queue or its
  /// general state.
  func holdsState(rule r: Int, key: KeyID) -> Bool {
    if let queue = hotQueues[r] { return queue._withUnsafeGuaranteedRef { $0.count(ofKey: key.index) > 0 } }
    return key.index < states.count(of: r) && (!states[r, key.index].isEmpty || states[r, key.index].hasQueuedStart)
  }

  /// Times out queue entries whose window has closed by `now`.
  @inline(__always)
  func popExpired(_ queue: RunQueue, upTo now: EventTime, keySpace space: Int, bit: Int) {
    // The open mask a pop may clear is fetched 8 pops ahead, with the key's counts: it is a
    // random line of a table as long as the key space (a stall of its own in `perf` on W2).
    queue.popExpired(upTo: now) { k in
      hotMasks[space]._withUnsafeGuaranteedRef { $0.prefetch(k) }
    } emptied: { k in
      hotMasks[space]._withUnsafeGuaranteedRef { $0.set(false, bit: bit, at: k) }
    }
  }

  /// Starts loading the counts of the keys `hint`'s event has in the spaces of the rules with a
  /// shared run's queue: the event's first step on such a queue reads them, open or not. A pair
  /// queue's are loaded with the open rules' states (``prefetchState(rule:key:)``): its step
  /// walks entries only for an open key, and most events of its key space never reach it (a rare
  /// first step: W1's `geo_impossible_purchase`).
  @inline(__always)
  func prefetchQueuedKeys(for hint: ReleaseHint) {
    for queued in runQueuedRules where queued.keySpace < 4 {
      guard let key = hint.keys[queued.keySpace] else { continue }
      queued.queue._withUnsafeGuaranteedRef { queue in
        if let run = queue.address(ofKey: key.index) { MemoryHint.prefetch(run) }
      }
    }
  }

  /// The number of rules whose partial matches are kept in shared runs' queues (summaries, tests).
  public var runQueues: Int { runQueuedRules.count }

  /// The number of rules whose partial matches are kept in pair queues (summaries, tests).
  public var pairQueues: Int { queuedRules.count - runQueues }

  /// The walks over a key's pair-queue entries that a filter left out (``PairFilter``): the
  /// event alone showed the condition false for every entry (tests).
  public var pairWalksFiltered: Int { queues.reduce(0) { $0 + ($1?.filteredWalks ?? 0) } }

  /// The entries pair-queue walks gathered (each walk gathers its key's live entries: tests).
  public var pairEntriesWalked: Int { queues.reduce(0) { $0 + ($1?.walkedEntries ?? 0) } }

  /// Open partial matches in run queues.
  var queuedPartialMatches: Int {
    var total = 0
    for queued in queuedRules { total += queued.queue._withUnsafeGuaranteedRef { $0.live } }
    return total
  }

  // MARK: - Checkpoints

  /// Rule `r`'s queued partial matches in the general state's form: per key, each partial
  /// match binding its start event alone, in the state its count of events puts it in, and the
  /// timer its oldest would have (so a build that keeps them in the general state times them
  /// out). Only what `queue` keeps of the events is written: all any later step of the rule
  /// reads.
  func queuedStates(_ queue: RunQueue, rule r: Int) -> [(key: Int, state: PartialMatches)] {
    let run = rules[r].matcher.run
    var out: [(key: Int, state: PartialMatches)] = []
    // Each key with live entries once: its entries, oldest first, from its newest.
    var seen = Set<Int>()
    var s = queue.head
    while s < queue.tail {
      let k = Int(queue.entry(s).pointee.key)
      s += 1
      guard queue.count(ofKey: k) > 0, seen.insert(k).inserted else { continue }
      let live = queue.liveEntries(key: k)
      var state = PartialMatches()
      for (i, number) in live.enumerated() {
        let stateID: StateID
        if let run {
          let taken = live.count - i
          stateID =
            taken < run.counting.count
            ? run.counting[taken] : queue.skippedLast(key: k) ? run.loopIgnored : run.loop
        } else {
          // swift-format-ignore: NeverForceUnwrap
          // A queue is a shared run's or a pair's.
          stateID = queue.pair!.waiting
        }
        state.partials.append(
          Computation(
            state: stateID, bindings: MatchNode(step: 0, event: queue.event(number), previous: nil),
            start: queue.entry(number).pointee.start))
      }
      // The deadline the general state's timer would have (held matches are never queued).
      let quantum = timerQuantum(rule: r, for: state)
      state.scheduledDeadline = Self.roundedUp(state.partials[0].start.time + queue.within, to: quantum)
      out.append((k, state))
    }
    return out.sorted { $0.key < $1.key }
  }
}
