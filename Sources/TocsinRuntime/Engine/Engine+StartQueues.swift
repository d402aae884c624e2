import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Start queues: a partial match a key's event starts while the key has nothing open for the
/// rule, kept out of the general state (``states``) in one queue per rule until the key's next
/// event the rule must step.
///
/// Most partial matches of a rule like `begin first where type == "purchase" followed_by more
/// … within 10m between steps` are started and never extended: the card's next purchase comes
/// after the window. In the general state each one cost the walk from the start state, a list for
/// its key, a timer, and a window later the timer's visit to the key's cold slot, list and node
/// to drop it. A rule whose start is one take edge of its first step and nothing else
/// (``RuleMatcher/loneStartState``) makes, from an event its quick start check admits for a key
/// with nothing open, exactly one partial match in one state, so that partial match is pushed
/// straight onto the rule's ``StartQueue`` (its event, time and key: a 64-byte line in a ring; the key's
/// state slot says where, ``PartialMatches/queuedStart``), with no walk, list or timer. Every
/// entry has the same window (the earlier of `within` and `within … between steps`: its last
/// event is its first), and events are released in time order, so the queue times them out from
/// its head, at each watermark step and before each event the rule sees.
///
/// The general state stays the reference. Before the rule steps an event for a key whose start
/// is queued, the start goes back into ``states`` as the computation the walk made (the same
/// state, node and start), and the step runs as it would have; what it leaves stays in the
/// general state. An event no step of the rule can use (the step guard) leaves a queued start
/// where it is when its state is transparent, as it leaves settled general state. The quick
/// check has evaluated the first step's condition once, as the walk would have; a check that
/// recorded an error (a type or arithmetic error, a regex limit) takes the general path, whose
/// walk records it again, so the error counts are the general state's too.
///
/// For rules that end silently (a time-out shows nothing), on the general walk (no shared run or
/// pair queue), with a quick start check and a window, among the first 64 rules of their key
/// space, and without state limits (a TTL, a per-key cap below one, a state budget: their
/// bookkeeping reads the general state). `EngineOptions.queuesStarts = false` turns them off;
/// `StartQueueTests` and `CheckpointReplayTests.testQueuingStartsChangesNothing` compare both.
extension Engine {
  /// Rule `matcher`'s start queue under `options`, or `nil` when it has none (see the
  /// extension's notes). For a rule without a run or pair queue.
  static func startQueue(
    for matcher: RuleMatcher, rule r: Int, bitInSpace: Int, options: EngineOptions
  ) -> StartQueue? {
    guard r < RuleGuards.trackedRules, bitInSpace < KeySpace.trackedRules,
      let window = startQueueWindow(matcher, options: options), let waiting = matcher.loneStartState
    else { return nil }
    return StartQueue(window: window, waiting: waiting)
  }

  /// The window of a queued start of `matcher`'s rule, when its shape and `options` let a start
  /// queue hold them.
  private static func startQueueWindow(_ matcher: RuleMatcher, options: EngineOptions) -> EventDuration? {
    let limits = options.limits
    guard options.queuesStarts, matcher.run == nil, matcher.endsSilently, matcher.hasQuickStartCheck,
      limits.maxStateBytes == nil, limits.keyTTL == nil, limits.maxPartialsPerKey >= 1
    else { return nil }
    // A lone start's last event is its first: it stays open for the shorter of `within` and
    // `within … between steps`.
    return matcher.shortestWindow
  }

  /// Whether rule `program` keeps its lone starts in a start queue under `options` (in a rule
  /// set where it is among the first 64 rules), for `tocsin explain`.
  public static func queuesStarts(of program: RuleProgram, options: EngineOptions = EngineOptions()) -> Bool {
    let matcher = RuleMatcher(program: program)
    return !queuesRuns(of: program, options: options) && !queuesPairs(of: program, options: options)
      && startQueueWindow(matcher, options: options) != nil && matcher.loneStartState != nil
  }

  /// The number of rules with a start queue (summaries, tests).
  public var startQueueCount: Int { startQueuedRules.count }

  /// Before rule `r`'s general step on `event` for `key`: times out queued starts by the
  /// event's time; then a queued start of the key stays queued when the event is `unconcerned`
  /// (no step can use it) and its state is transparent — `true`: the step is left out, as for
  /// settled general state — or goes back to ``states`` as the computation it was, for the step
  /// (`false`, as with no queued start).
  @inline(__always)
  func prepareStep(
    _ queue: StartQueue, _ event: EventRecord, rule r: Int, key: KeyID, keySpace space: Int, bit: Int,
    unconcerned: Bool
  ) -> Bool {
    popExpired(queue, rule: r, upTo: event.time, keySpace: space, bit: bit)
    guard let slot = states.address(of: r, key.index), slot.pointee.hasQueuedStart else { return false }
    let waiting = queue.waiting
    return withRule(r) { matcher, _, _ in
      if unconcerned && matcher.isTransparent[Int(waiting.rawValue)] { return true }
      slot.pointee.hasQueuedStart = false
      assert(slot.pointee.isEmpty, "a key with a queued start had general state")
      matcher.makeRoom(in: &slot.pointee.partials, for: 1)
      slot.pointee.partials.append(queue.take(queue.number(low: slot.pointee.queuedStart), into: matcher.nodes))
      // As the step that started it left it (``RuleMatcher/process`` sets it after each step).
      if matcher.tracksSettling { slot.pointee.isSettled = matcher.isSettled(slot.pointee) }
      return false
    }
  }

  /// A start for a key with nothing open for rule `r`, whose quick start check passed without
  /// recording an error: queued as the partial match ``RuleMatcher/process`` would make of it
  /// (``RuleMatcher/loneStartState``), without the walk, the key's list or a timer.
  @inline(__always)
  func queueStart(_ queue: StartQueue, _ event: EventRecord, rule r: Int, key: KeyID, keySpace space: Int, bit: Int) {
    popExpired(queue, rule: r, upTo: event.time, keySpace: space, bit: bit)
    let k = key.index
    states.ensure(rule: r, count: k + 1)
    // swift-format-ignore: NeverForceUnwrap
    // `ensure` gave the key a slot.
    let slot = states.address(of: r, k)!
    assert(slot.pointee.isEmpty && !slot.pointee.hasQueuedStart, "a direct start for a key with something open")
    let binding = withRule(r) { matcher, _, _ in matcher.binding(event, step: 0) }
    slot.pointee.queuedStart = UInt32(truncatingIfNeeded: queue.push(binding, key: k))
    slot.pointee.hasQueuedStart = true
    hotMasks[space]._withUnsafeGuaranteedRef { $0.set(true, bit: bit, at: k) }
  }

  /// Times out `queue`'s lone starts whose window has closed by `now` (rule `r`'s), their
  /// nodes retired to the rule's pool as the general state's time-outs retire theirs.
  @inline(__always)
  func popExpired(_ queue: StartQueue, rule r: Int, upTo now: EventTime, keySpace space: Int, bit: Int) {
    // Most calls pop nothing: answered from the head alone.
    guard queue.hasExpired(upTo: now) else { return }
    queue.popExpired(upTo: now) { k in
      if let slot = states.address(of: r, k) { MemoryHint.prefetch(slot) }
      hotMasks[space]._withUnsafeGuaranteedRef { $0.prefetch(k) }
    } expired: { k, event in
      states[r, k].hasQueuedStart = false
      hotSlotPool?._withUnsafeGuaranteedRef { $0.recycle(&event.slots) }
      hotMasks[space]._withUnsafeGuaranteedRef { $0.set(false, bit: bit, at: k) }
    }
  }

  /// Starts loading key `k`'s queued start's entry in rule `r`'s queue, if it has one (its slot
  /// should be cached: ``prefetchState(rule:key:)`` a release earlier).
  @inline(__always)
  func prefetchQueuedStart(rule r: Int, key k: Int, slot: UnsafeMutablePointer<PartialMatches>) {
    guard slot.pointee.hasQueuedStart, let queue = hotStartQueues[r] else { return }
    queue._withUnsafeGuaranteedRef { MemoryHint.prefetch($0.address(of: $0.number(low: slot.pointee.queuedStart))) }
  }

  /// The open partial matches in start queues.
  var startQueuedPartialMatches: Int {
    var total = 0
    for queued in startQueuedRules { total += queued.queue._withUnsafeGuaranteedRef { $0.live } }
    return total
  }

  // MARK: - Checkpoints

  /// Rule `r`'s queued starts in the general state's form, per key (in key order): the
  /// computation ``prepareStep(_:_:rule:key:keySpace:bit:unconcerned:)`` would take back, and
  /// the deadline of the timer the general state would give it, its own rounded as the rule's
  /// timers are (the snapshot takes the earlier of it and a timer still pending for the key in
  /// ``states``).
  func queuedStarts(_ queue: StartQueue, rule r: Int) -> [(key: Int, state: PartialMatches)] {
    var out: [(key: Int, state: PartialMatches)] = []
    queue.forEachLive { k, event in
      var state = PartialMatches()
      let start = EventPosition(event)
      let node = MatchNode(step: 0, event: event, previous: nil)
      state.partials.append(Computation(state: queue.waiting, bindings: node, start: start))
      state.scheduledDeadline = Self.roundedUp(start.time + queue.window, to: timerQuantum(rule: r, for: state))
      out.append((k, state))
    }
    return out.sorted { $0.key < $1.key }
  }
}
