import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The runtime core: events and the end of input go in, actions come out.
///
/// A pure state machine in the SwiftNIO sense — it performs no I/O and calls nothing upstream.
/// The caller (the `run` pipeline, the fixture runner, a test) performs the returned
/// ``EngineAction``s. The flow per event:
///
/// 1. Route: compute the event's key in every key space; an event with no key for any rule is
///    a `missingKey` action.
/// 2. Time-skew guard: the first events are held until their times agree (``TimeCalibration``);
///    later, an event far ahead of the newest accepted time is held as a suspect. Then
///    lateness: `time <= watermark` makes it a `late` action (or a drop, per policy).
/// 3. Buffer it; advance the watermark to `max seen − out-of-orderness − 1ns`.
/// 4. Release buffered events `<= watermark` in `(time, arrival)` order to every rule's matcher
///    for the event's key.
/// 5. Fire `within` timers whose deadline `<= watermark`, dropping timed-out partial matches.
///
/// ``finish(into:)`` is a final watermark of +∞: everything is released and every held match
/// emitted. Alerts emitted by the same watermark step outside event processing (timers, end of
/// input) are sorted by `(time, rule, key)` so output never depends on hash or arrival order.
public final class Engine {
  struct Buffered {
    var event: EventRecord
    var keys: KeyIDs
  }

  /// A rule's fixed parts, immutable after `init`; its per-key state is in ``states``. They hold
  /// the strong references; the hot path reaches the classes through ``hotRules`` instead, since
  /// reading a class reference out of an array retains and releases it (HotRule.swift).
  struct RuleState {
    let matcher: RuleMatcher
    let keySpace: Int
    /// This rule's bit in its key space's ``KeySpace/openRules(_:)`` masks.
    let bitInSpace: Int
    let context: EvalContext
    let scratch: MatcherScratch
    /// What the rule's alerts share.
    let alertRule: AlertRule
  }

  /// The compiled rules.
  public let programs: ProgramSet
  /// The options in force.
  public let options: EngineOptions
  /// Counters for the run summary: ``tallies`` with each rule's events without its key added
  /// from its key space's count. Computed (a copy with a loop over the rules): read it for
  /// summaries, metrics and snapshots, not per event.
  public var counters: EngineCounters {
    var folded = tallies
    for r in folded.missingKeyByRule.indices {
      folded.missingKeyByRule[r] += missingKeys.count(space: routes[r].keySpace)
    }
    return folded
  }
  /// The counters as kept: ``counters`` but for the events that lacked a key space's key, which
  /// are counted per space (``missingKeys``, in plain memory) and added to each rule of the space
  /// when the counters are read. Per rule, they were a uniqueness check and an increment of an
  /// array for each rule of the space (~2.6 per W1 event: three card rules and one keyed by a
  /// field no event has).
  var tallies = EngineCounters()
  /// Per key space: released events that lacked its key.
  let missingKeys: SpaceTallies
  /// Per key space: released events whose key was deferred, since the space's last review of
  /// its deferral (``reviewDeferral(space:)``), and how many of those the release needed (the
  /// space held the key, or a match started and interned it).
  let deferredReleased: SpaceTallies
  let deferredNeeded: SpaceTallies
  /// Per key space that stopped deferring: ``EngineCounters/eventsProcessed`` at which it defers
  /// again, to look at the stream anew.
  var deferralResumesAt: [Int]
  /// The current watermark.
  public internal(set) var watermark = Watermark()

  /// The key spaces, in plain memory (``PlainArray``): each event mutates every one.
  let keySpaces = PlainArray<KeySpace>()
  let rules: [RuleState]
  /// `rules` without reference counting, for the hot path (``withRule(_:_:)``).
  let hotRules: [HotRule]
  /// `states[r, k]`: rule `r`'s partial matches for key `k` of its key space (but for rules
  /// with a run queue).
  var states: StateStore
  /// Per rule, its run queue (Engine+RunQueues.swift), or `nil` when its partial matches are in
  /// ``states``. The strong references.
  let queues: [RunQueue?]
  /// ``queues`` unretained, for the release loop (reading a class reference out of an array
  /// retains and releases it).
  let hotQueues: [Unmanaged<RunQueue>?]
  /// The rules with a run queue, with what the per-event loops need of them.
  let queuedRules: [QueuedRule]
  /// Those of ``queuedRules`` whose queue is a shared run's (the keys of every event are
  /// prefetched for them: ``prefetchQueuedKeys(for:)``).
  let runQueuedRules: [QueuedRule]

  /// Per rule, its start queue (Engine+StartQueues.swift): where a partial match started for a
  /// key with nothing open waits, outside ``states``, until the key's next step; `nil` for a rule
  /// without one.
  let startQueues: [StartQueue?]
  /// ``startQueues`` unretained, for the release loop.
  let hotStartQueues: [Unmanaged<StartQueue>?]
  /// The rules with a start queue.
  let startQueuedRules: [StartQueuedRule]
  /// When each run, pair and start queue (``queuedRules``, then ``startQueuedRules``) may next
  /// time out an entry, and the earliest: a watermark step before a queue's time leaves it alone.
  let queueTimeOuts: TimeOutFloor
  /// The watermark at the last step (``watermarkAdvanced(into:)``), for how far ahead its timer
  /// hint looks.
  private var previousWatermark = EventTime.negativeInfinity

  /// A rule with a start queue.
  struct StartQueuedRule {
    let rule: Int
    let keySpace: Int
    /// Its bit in its key space's open masks.
    let bit: Int
    let queue: Unmanaged<StartQueue>
  }

  /// A rule with a run queue.
  struct QueuedRule {
    let rule: Int
    let keySpace: Int
    /// Its bit in its key space's open masks.
    let bit: Int
    let queue: Unmanaged<RunQueue>
  }
  /// The timers ``watermarkAdvanced(into:)`` collects, kept for their capacity.
  private var expiredTimers: [TimerQueue.Timer] = []
  /// Key lookups prepared ahead of arrival (``prepareArrival(of:)``).
  let prepared = PreparedArrivals()
  /// Where released events' slot buffers go when the engine (or a rule's match node) held their
  /// last reference: the pool the decoder takes new events' buffers from (``EventSlots/Pool``),
  /// when the decoder runs on the engine's thread.
  public var slotPool: EventSlots.Pool? {
    didSet {
      hotSlotPool = slotPool.map { .passUnretained($0) }
      for rule in rules { rule.matcher.nodes.slotPool = slotPool }
    }
  }
  /// ``slotPool`` for the release loop and the start queues' time-outs, without reference
  /// counting (reading the `var` retained and released the pool around each event's recycling);
  /// `slotPool` holds the reference.
  private(set) var hotSlotPool: Unmanaged<EventSlots.Pool>?
  /// ``SmallString/isAvailable``, read once (each read of the static is a `swift_once` check):
  /// whether a released event's identity can be seen to hold no reference by its bits.
  private let readsSmallStrings = SmallString.isAvailable
  /// Per key space, the indices of its rules: `rulesBySpace[s][b]` is the rule with bit `b`.
  let rulesBySpace: [[Int]]
  /// Per key space, when to sweep it for keys to reclaim (Engine+Keys.swift).
  var keySweeps: [KeySweeps] = []
  /// Per rule, the plain values the release loop reads for every event (no class references,
  /// so reading them costs no retain/release).
  private var routes: [Route] = []
  /// The rule masks ``route(_:keys:into:)`` builds its visits from (rules below 64).
  private(set) var routing = Routing()
  /// Each key space's open masks, unretained (the spaces hold them): read and written for
  /// nearly every event without reaching through `keySpaces`, whose element access retained
  /// or checked the space's storage.
  private(set) var hotMasks: [Unmanaged<OpenMasks>] = []
  /// Each key space's ``KeySpace/presence``, unretained, as ``hotMasks``.
  private(set) var hotPresence: [Unmanaged<KeyPresence>] = []

  /// Rules as bits (bit `r` for rule `r`, the first 64 rules only), for the release loop.
  struct Routing {
    /// Rules without a quick start check: visited for every event that has their key.
    var always: UInt64 = 0
    /// Rules with one: visited when open for the key or when their start guard admits the event.
    var quickStart: UInt64 = 0
    /// Per key space, its rules.
    var rulesOfSpace: [UInt64] = []
    /// `ruleAt[s · 64 + b]`: the rule with bit `b` in key space `s`'s open masks (`rulesBySpace`
    /// flattened, for the per-event loops: reading the nested arrays checked both bounds and
    /// loaded both buffers). As a bit, `1 << ruleAt[…]` is zero for a rule past the first 64.
    var ruleAt: [Int] = []
    /// Rules whose state for a key the release loop fetches ahead only when the key is open for
    /// them: all but those with a shared run's queue, whose key records the lookahead fetches
    /// for every event (``prefetchQueuedKeys(for:)``).
    var fetchedWhenVisited: UInt64 = 0
    /// The key spaces whose ids the release hints carry (the first four).
    var hintedSpaces = 0
    /// Key spaces among those with more rules than the open masks track (almost never any).
    var spacesPastTrackedRules: [Int] = []
    /// Key spaces (bits) whose keys are deferred on arrival now (``Engine`` "Deferred keys"): of
    /// ``deferrable``, those whose last review did not find most deferred keys needed.
    var deferring: UInt64 = 0
    /// Key spaces (bits) that may defer keys: their rules all have a quick start check.
    var deferrable: UInt64 = 0
  }

  private struct Route {
    var keySpace: Int
    var bitInSpace: Int
    var hasQuickStartCheck: Bool
    /// Its exact start guard leaves the rest of the start step's conjunction to check
    /// (``RuleMatcher/startResidual``).
    var checksStartResidual: Bool
    /// An event no step of the rule can use leaves its partial matches as they are (a step
    /// guard, transparent states): skipped when they are settled and no timeout is due.
    var skipsUnconcerned: Bool
    /// Its step guard is set (``RuleGuards/guardsSteps(rule:)``): a clear step bit means no
    /// step of the rule can take the event.
    var guardsSteps: Bool
    /// The rule's timers are rounded up to a multiple of this many nanoseconds (a power of
    /// two; 1: exact), always (``Engine/timerQuantum(for:options:)``) or only while the key
    /// holds no match back (``roundsOnlyWhileNothingHeld``). ``Engine/timerQuantum(_:_:)`` says
    /// which applies to a key's state.
    var timerQuantum: Int64
    /// The rule's time-outs are quiet only while its key holds no match back
    /// (``Engine/heldTimerQuantum(for:options:)``): a key that holds one gets exact timers.
    var roundsOnlyWhileNothingHeld: Bool
  }
  private let guards: RuleGuards
  let buffer: ReorderBuffer<Buffered, ReleaseHint>
  /// `within` timers that fire at their exact deadline, due batches sorted.
  let timers = TimerQueue()
  /// The rounded timers of rules whose time-outs nobody sees (``timerQuantum(for:options:)``):
  /// the order they fire in changes nothing, so their due batches (hundreds at once on W2's
  /// rules) are not sorted.
  let quietTimers = TimerQueue(sortsDue: false)
  var maxEventTime = EventTime.negativeInfinity
  var suspects: [Suspect] = []
  /// The first events, held until their times agree (see ``TimeCalibration``); `nil` once
  /// calibrated, or when the time-skew guard is off.
  var calibration: TimeCalibration<Buffered>?
  /// The time base calibration found: the guard's reference until an event is accepted.
  var calibratedBase = EventTime.negativeInfinity

  /// An event held by the time-skew guard.
  struct Suspect {
    var item: Buffered
    var confirmations = 0
    var contradictions = 0
  }
  var finished = false
  /// The released event's keys in the spaces past the fourth, looked up as it is routed
  /// (``keyPastFour(_:space:)``).
  private var pastFourKeys: [KeyID?] = []
  /// Bookkeeping of the state limits (Engine+Limits.swift).
  var limitState = LimitState()

  /// An engine for `programs`.
  public init(programs: ProgramSet, options: EngineOptions = EngineOptions()) {
    self.programs = programs
    self.options = options
    buffer = ReorderBuffer(span: options.outOfOrderness)
    var spaceBySlots: [[SlotIndex]: Int] = [:]
    var rulesPerSpace: [Int] = []
    var rules: [RuleState] = []
    let guards = RuleGuards(programs: programs)
    // Compiled against the rules' projection: the conjuncts read only fields their step reads.
    var residuals = ExprCompiler(projection: programs.projection)
    for (r, program) in programs.rules.enumerated() {
      let space: Int
      if let existing = spaceBySlots[program.keySlots] {
        space = existing
      } else {
        space = keySpaces.count
        keySpaces.append(KeySpace(slots: program.keySlots))
        spaceBySlots[program.keySlots] = space
        rulesPerSpace.append(0)
      }
      rules.append(
        RuleState(
          matcher: RuleMatcher(
            program: program,
            startResidual: r < guards.residuals.count
              ? guards.residuals[r].map { Condition(residuals.compileCondition($0)) } : nil),
          keySpace: space, bitInSpace: rulesPerSpace[space],
          context: EvalContext(), scratch: MatcherScratch(), alertRule: AlertRule(index: r, spec: program.spec)))
      rulesPerSpace[space] += 1
    }
    self.rules = rules
    let queues = rules.indices.map { r in
      Self.runQueue(
        for: rules[r].matcher, rule: r, bitInSpace: rules[r].bitInSpace, programs: programs, options: options)
    }
    self.queues = queues
    hotQueues = queues.map { $0.map { .passUnretained($0) } }
    // The queues of one key space keep their key records side by side, a block per key
    // (``KeyRecords``): an event reaches several of them for its key.
    for space in keySpaces.indices {
      let members = rules.indices.compactMap { r in rules[r].keySpace == space ? queues[r] : nil }
      guard members.count > 1 else { continue }
      let shared = KeyRecords(layout: members.map(\.keyRecordBytes))
      for (queue, offset) in zip(members, shared.offsets) { queue.useKeyRecords(shared, offset: offset) }
    }
    queuedRules = rules.indices.compactMap { r in
      queues[r].map {
        QueuedRule(rule: r, keySpace: rules[r].keySpace, bit: rules[r].bitInSpace, queue: .passUnretained($0))
      }
    }
    runQueuedRules = queuedRules.filter { queues[$0.rule]?.pair == nil }
    let startQueues = rules.indices.map { r in
      queues[r] == nil
        ? Self.startQueue(for: rules[r].matcher, rule: r, bitInSpace: rules[r].bitInSpace, options: options)
        : nil
    }
    self.startQueues = startQueues
    hotStartQueues = startQueues.map { $0.map { .passUnretained($0) } }
    startQueuedRules = rules.indices.compactMap { r in
      startQueues[r].map {
        StartQueuedRule(rule: r, keySpace: rules[r].keySpace, bit: rules[r].bitInSpace, queue: .passUnretained($0))
      }
    }
    queueTimeOuts = TimeOutFloor(queues: queuedRules.count + startQueuedRules.count)
    for (i, queued) in queuedRules.enumerated() {
      queued.queue.takeUnretainedValue().timeOutFloor = queueTimeOuts.cell(queue: i)
    }
    for (i, queued) in startQueuedRules.enumerated() {
      queued.queue.takeUnretainedValue().timeOutFloor = queueTimeOuts.cell(queue: queuedRules.count + i)
    }
    hotRules = rules.map {
      HotRule(matcher: .passUnretained($0.matcher), context: .passUnretained($0.context), scratch: .passUnretained($0.scratch))
    }
    states = StateStore(rules: rules.count)
    self.guards = guards
    rulesBySpace = keySpaces.indices.map { s in rules.indices.filter { rules[$0].keySpace == s } }
    for (s, spaceRules) in rulesBySpace.enumerated() {
      for (bit, r) in spaceRules.enumerated() { assert(rules[r].keySpace == s && rules[r].bitInSpace == bit) }
    }
    keySweeps = Array(repeating: KeySweeps(sweepAt: max(0, options.keySweepFloor)), count: keySpaces.count)
    routes = rules.indices.map { r in
      let heldQuantum = Self.heldTimerQuantum(for: rules[r].matcher, options: options)
      return Route(
        keySpace: rules[r].keySpace, bitInSpace: rules[r].bitInSpace,
        hasQuickStartCheck: rules[r].matcher.hasQuickStartCheck,
        checksStartResidual: r < guards.residuals.count && guards.residuals[r] != nil,
        skipsUnconcerned: guards.guardsSteps(rule: r) && rules[r].matcher.hasTransparentStates,
        guardsSteps: guards.guardsSteps(rule: r),
        // At most one of the two rounds (`TimerRoundingTests`).
        timerQuantum: max(Self.timerQuantum(for: rules[r].matcher, options: options), heldQuantum),
        roundsOnlyWhileNothingHeld: heldQuantum > 1)
    }
    for r in rules.indices { rules[r].matcher.tracksSettling = routes[r].skipsUnconcerned }
    hotMasks = keySpaces.map { .passUnretained($0.masks) }
    hotPresence = keySpaces.map { .passUnretained($0.presence) }
    routing.rulesOfSpace = Array(repeating: 0, count: keySpaces.count)
    routing.ruleAt = Array(repeating: 0, count: keySpaces.count * KeySpace.trackedRules)
    for (s, spaceRules) in rulesBySpace.enumerated() {
      for (bit, r) in spaceRules.prefix(KeySpace.trackedRules).enumerated() {
        routing.ruleAt[s * KeySpace.trackedRules + bit] = r
      }
    }
    let hinted = min(keySpaces.count, FourKeyIDs.spaces)
    pastFourKeys = Array(repeating: nil, count: keySpaces.count - hinted)
    routing.hintedSpaces = hinted
    routing.spacesPastTrackedRules = (0..<hinted).filter { [rulesBySpace] in rulesBySpace[$0].count > KeySpace.trackedRules }
    for r in rules.indices.prefix(RuleGuards.trackedRules) {
      let bit = UInt64(1) << UInt64(r)
      if routes[r].hasQuickStartCheck { routing.quickStart |= bit } else { routing.always |= bit }
      routing.rulesOfSpace[routes[r].keySpace] |= bit
      let fetchedAhead = runQueuedRules.contains { $0.rule == r && $0.keySpace < 4 }
      if !fetchedAhead { routing.fetchedWhenVisited |= bit }
    }
    if options.defersKeys {
      for s in keySpaces.indices.prefix(4) where !keySpaces[s].slots.isEmpty && !rulesBySpace[s].isEmpty {
        let defers = rulesBySpace[s].allSatisfy { [routes] r in
          r < RuleGuards.trackedRules && routes[r].bitInSpace < KeySpace.trackedRules && routes[r].hasQuickStartCheck
        }
        if defers { routing.deferrable |= 1 << UInt64(s) }
      }
      routing.deferring = routing.deferrable
    }
    // Only a space that may defer keeps a presence map (``KeySpace/tracksPresence``).
    for s in keySpaces.indices { keySpaces[s].tracksPresence = routing.deferrable & (1 << UInt64(s)) != 0 }
    assert(residuals.projection.count == programs.projection.count, "a start residual read a field no rule projects")
    missingKeys = SpaceTallies(spaces: keySpaces.count)
    deferredReleased = SpaceTallies(spaces: keySpaces.count)
    deferredNeeded = SpaceTallies(spaces: keySpaces.count)
    deferralResumesAt = Array(repeating: 0, count: keySpaces.count)
    tallies.missingKeyByRule = Array(repeating: 0, count: rules.count)
    tallies.alertsByRule = Array(repeating: 0, count: rules.count)
    if let skew = options.maxTimeSkew {
      calibration = TimeCalibration(
        skew: skew, confirmations: options.skewConfirmations, limit: options.skewContradictions)
    }
    configureLimits()
  }

  // MARK: - Inputs

  /// Handles one arriving event, appending the resulting actions.
  public func eventArrived(_ event: consuming EventRecord, into actions: inout [EngineAction]) {
    precondition(!finished, "eventArrived after finish")
    tallies.eventsIn += 1

    // 1) Route. An event bound for the reorder buffer pins its keys (Engine+Keys.swift); one
    // held by calibration or as a suspect does not, and is routed again when admitted.
    let pins = calibration == nil && !isSuspect(event.time)
    var keys = KeyIDs()
    var hasAnyKey = keySpaces.isEmpty
    let probes = prepared.take(sequence: event.sequence)
    let deferring = routing.deferring
    // The first four spaces, whose ids the event carries (the prepared probes cover them).
    for i in keySpaces.indices.prefix(FourKeyIDs.spaces) {
      let key: KeyID?
      if let probes {
        assert(
          probes[i].isSame(as: keySpaces[i].probe(of: event, prefetching: false)),
          "key space \(i): a probe prepared for another event")
        // An absent key needs no call: most events lack some space's field (W1's sessions).
        if probes[i].isMissing {
          key = nil
        } else if deferring & (1 << UInt64(i)) != 0 {
          keys.markDeferred(space: i, probe: probes[i])
          hasAnyKey = true
          continue
        } else {
          key = keySpaces[i].key(of: event, probe: probes[i], pinning: pins)
        }
      } else if deferring & (1 << UInt64(i)) != 0 {
        if deferKey(of: event, space: i, in: &keys) { hasAnyKey = true }
        continue
      } else {
        key = keySpaces[i].key(of: event, pinning: pins)
      }
      // `keys` starts with every space missing: only a found key is written.
      if let key {
        hasAnyKey = true
        keys[i] = key
      }
    }
    // Later spaces are looked up as the event is released (``keyPastFour(_:space:)``); here only
    // whether the event has a key at all.
    if !hasAnyKey && keySpaces.count > FourKeyIDs.spaces {
      for i in FourKeyIDs.spaces..<keySpaces.count where !hasAnyKey {
        hasAnyKey = !keySpaces[i].probe(of: event, prefetching: false).isMissing
      }
    }
    guard hasAnyKey else {
      tallies.missingKey += 1
      actions.append(.missingKey(event, fields: missingKeyFields))
      return
    }

    // 2) Time-skew guard: the first events calibrate the time base; afterwards a far jump
    // ahead waits for confirmation before it moves time.
    // `consume event`: without it the event was copied into the item (a retain of its slot
    // buffer, and a release when the parameter went), though this is its last use. (The key
    // ids are plain data.)
    if calibration != nil {
      calibrate(Buffered(event: consume event, keys: keys), into: &actions)
      return
    }
    admit(Buffered(event: consume event, keys: keys), into: &actions)
  }

  /// Steps 2–4 for a routed event. Consumed, as the rest of the way to the reorder buffer: the
  /// event moves into the buffer, with no copy of its references (each an atomic update).
  private func admit(_ item: consuming Buffered, into actions: inout [EngineAction]) {
    let time = item.event.time
    if let skew = options.maxTimeSkew, isSuspect(time) {
      holdSuspect(item, skew: skew, into: &actions)
      return
    }
    if !suspects.isEmpty { contradictSuspects(into: &actions) }

    // 3) Lateness.
    if watermark.isLate(time) {
      tallies.late += 1
      if options.latePolicy == .deadLetter { actions.append(.late(item.event, watermark: watermark.time)) }
      return
    }

    // 4) Buffer and advance.
    accept(item, into: &actions)
  }

  /// Whether an event at `time` jumps more than the time-skew bound ahead of the newest
  /// accepted time (or the calibrated base before any), and is held as a suspect.
  @inline(__always)
  private func isSuspect(_ time: EventTime) -> Bool {
    guard let skew = options.maxTimeSkew else { return false }
    let newest = maxEventTime == .negativeInfinity ? calibratedBase : maxEventTime
    return newest != .negativeInfinity && time > newest + skew
  }

  /// Buffers a routed event whose keys are pinned (routed with `pinning`, or ``rerouted(_:)``).
  private func accept(_ item: consuming Buffered, into actions: inout [EngineAction]) {
    let hint = releaseHint(for: item)
    // From the two fields: `EventPosition(item.event)` copied the whole item first (retaining its
    // references, then releasing them).
    let position = EventPosition(time: item.event.time, sequence: item.event.sequence)
    buffer.insert(item, hint: hint, at: position)
    tallies.peakBuffered = max(tallies.peakBuffered, buffer.count)
    if position.time > maxEventTime { maxEventTime = position.time }
    let candidate = maxEventTime - options.outOfOrderness - EventDuration(nanoseconds: 1)
    if watermark.advance(to: candidate) { watermarkAdvanced(into: &actions) }
  }

  // MARK: - Time-skew guard

  /// Holds `item` until the first events agree on a time base, then replays them.
  private func calibrate(_ item: Buffered, into actions: inout [EngineAction]) {
    guard var pending = calibration else { return }
    calibration = nil  // keep the held events uniquely referenced while appending
    if let base = pending.add(item, at: item.event.time) {
      finishCalibration(pending, base: base, into: &actions)
    } else {
      calibration = pending
    }
  }

  /// Ends calibration (early at the end of input or an idle advance: with what arrived so far)
  /// and replays the held events in arrival order through the normal path.
  private func finishCalibration(
    _ pending: TimeCalibration<Buffered>, base: EventTime, into actions: inout [EngineAction]
  ) {
    calibration = nil
    calibratedBase = base
    for item in pending.items { admit(rerouted(item), into: &actions) }
  }

  private func finishCalibrationEarly(into actions: inout [EngineAction]) {
    guard let pending = calibration else { return }
    finishCalibration(pending, base: pending.fallbackBase, into: &actions)
  }

  /// Whether the engine is still holding the first events to calibrate its time base.
  public var isCalibrating: Bool { calibration != nil }

  /// Holds `item`, counting it and the held events within `skew` of it as confirming each other;
  /// once one has enough confirmations, its whole cluster is accepted in time order.
  private func holdSuspect(_ item: Buffered, skew: EventDuration, into actions: inout [EngineAction]) {
    var suspect = Suspect(item: item)
    for i in suspects.indices where Self.isNear(suspects[i].item.event.time, item.event.time, skew) {
      suspects[i].confirmations += 1
      suspect.confirmations += 1
    }
    suspects.append(suspect)
    // Bounded memory: a stream of nothing but jumps (a sparse stream, events hours apart, or an
    // attacker) would otherwise hold every event. Past the bound, the earliest suspect is taken
    // as the stream's next step, as if confirmed.
    let overflow = suspects.count > max(1, options.skewContradictions)
    guard
      let confirmed = overflow
        ? suspects.min(by: { $0.item.event.precedes($1.item.event) })
        : suspects.first(where: { $0.confirmations >= options.skewConfirmations })
    else { return }
    let anchor = confirmed.item.event.time
    var cluster: [Buffered] = []
    suspects.removeAll { s in
      guard Self.isNear(s.item.event.time, anchor, skew) else { return false }
      cluster.append(s.item)
      return true
    }
    tallies.timeJumpsAccepted += 1
    for accepted in cluster.sorted(by: { $0.event.precedes($1.event) }) {
      if watermark.isLate(accepted.event.time) {
        tallies.late += 1
        if options.latePolicy == .deadLetter {
          actions.append(.late(accepted.event, watermark: watermark.time))
        }
        continue
      }
      accept(rerouted(accepted), into: &actions)
    }
  }

  /// An ordinary event arrived: every held suspect loses a vote; those out of votes are
  /// dead-lettered.
  private func contradictSuspects(into actions: inout [EngineAction]) {
    for i in suspects.indices { suspects[i].contradictions += 1 }
    let limit = options.skewContradictions
    for s in suspects where s.contradictions >= limit {
      tallies.timeSkewed += 1
      let newest = maxEventTime == .negativeInfinity ? calibratedBase : maxEventTime
      actions.append(.timeSkew(s.item.event, newest: newest))
    }
    suspects.removeAll { $0.contradictions >= limit }
  }

  /// A held event (a suspect, or one held by calibration) with its key ids looked up again:
  /// events outside the reorder buffer do not pin their keys, so while it was held (or while the
  /// events admitted before it moved the watermark) its keys may have been reclaimed and their
  /// ids reused (Engine+Keys.swift).
  private func rerouted(_ item: Buffered) -> Buffered {
    Buffered(event: item.event, keys: keys(of: item.event))
  }

  /// The key ids of `event` in the first four key spaces (interning new keys; later spaces are
  /// looked up at release, ``keyPastFour(_:space:)``), pinned: the event is bound
  /// for the reorder buffer (held events admitted, events restored from a checkpoint). In a space
  /// that defers keys, the key's presence bits instead, as on arrival.
  func keys(of event: EventRecord) -> KeyIDs {
    var ids = KeyIDs()
    // The spaces past the fourth are looked up as the event is released (``keyPastFour(_:space:)``).
    for i in keySpaces.indices.prefix(FourKeyIDs.spaces) {
      if routing.deferring & (1 << UInt64(i)) != 0 {
        deferKey(of: event, space: i, in: &ids)
      } else {
        ids[i] = keySpaces[i].key(of: event, pinning: true)
      }
    }
    return ids
  }

  /// Marks `event`'s key in deferring space `i` deferred in `keys`, with its presence bits, when
  /// the event has it (for an event whose probes were not prepared ahead); returns whether it has.
  @discardableResult
  private func deferKey(of event: EventRecord, space i: Int, in keys: inout KeyIDs) -> Bool {
    let probe = keySpaces[i].probe(of: event, prefetching: false)
    if probe.isMissing { return false }
    keys.markDeferred(space: i, probe: probe)
    return true
  }

  // MARK: - Deferred keys
  //
  // A key space whose rules all have a quick start check (``Routing/deferrable``: all rules but
  // one whose start condition reads `key`) does not look an event's key up on arrival: the
  // event carries the key's presence bits instead of an id (``KeyIDs/markDeferred(space:probe:)``),
  // and the release (``route(_:keys:into:)``) asks the space's presence map (``KeyPresence``)
  // whether it may hold the key, and looks it up only then (``resolveDeferredKeys(_:_:)``). A
  // key found is routed as if looked up on arrival; a key not held has nothing open, so only
  // the rules whose start guard admits the event are visited (``routeUnheld(_:rule:space:_:_:)``),
  // and the key is interned once a match starts. So a key is interned only when a match starts.
  //
  // Why it is exact: which rules an event may start depends on the event alone, and whether a
  // key is held is asked at release, in event-time order, so every event sees the state that
  // interning on arrival would have given it. A deferred event holds no id while it waits (no
  // pin: the release's lookup or interning is the only use of the id), so reclaiming is
  // unchanged; a key interned at release is not pinned, as no buffered event refers to it.
  // W1: the user space interns ~11k keys instead of ~100k (docs/performance.md, session 40).

  /// Deferred keys a space releases between reviews of its deferral (a property, not a
  /// constant, for tests).
  var deferralWindow = 1 << 10
  /// Events processed before a space that stopped deferring tries again (as above).
  var deferralPause = 1 << 20

  /// Reviews key space `s`'s deferral after ``deferralWindow`` deferred keys: when the release
  /// needed more than a fifth of them (the space held them, or a match started), the space
  /// stops deferring for ``deferralPause`` events. A needed key costs the release a second hash
  /// and a lookup whose open mask and rule state were not fetched ahead, far more than an
  /// unneeded one saves: W1's card space, where every purchase starts `card_velocity`, ran
  /// ~2.5% slower deferred, and W5's user space, needing ~30% of its keys, ~3% (session 40).
  /// Per review of a 1M-event run, W1's user space needs 1–14% (median 7%), W5's user space
  /// 27–97%, W2's spaces 48% and more.
  @inline(never)
  private func reviewDeferral(space s: Int) {
    let needed = deferredNeeded.count(space: s)
    let released = deferredReleased.count(space: s)
    deferredNeeded.reset(space: s)
    deferredReleased.reset(space: s)
    guard 5 * needed > released else { return }
    routing.deferring &= ~(1 << UInt64(s))
    deferralResumesAt[s] = tallies.eventsProcessed + deferralPause
    keySpaces[s].rebuildsPresence = false
  }

  /// After a watermark step: spaces whose pause is over defer again.
  @inline(__always)
  private func resumeDeferral() {
    guard routing.deferring != routing.deferrable else { return }
    var paused = routing.deferrable & ~routing.deferring
    while paused != 0 {
      let s = paused.trailingZeroBitCount
      paused &= paused &- 1
      guard tallies.eventsProcessed >= deferralResumesAt[s] else { continue }
      routing.deferring |= 1 << UInt64(s)
      keySpaces[s].rebuildsPresence = true
      keySpaces[s].rebuildPresence()
    }
  }

  /// Key spaces that may defer keys (``Routing/deferrable``).
  public var deferrableKeySpaces: Int { routing.deferrable.nonzeroBitCount }
  /// Key spaces that defer keys now (``Routing/deferring``).
  public var deferringKeySpaces: Int { routing.deferring.nonzeroBitCount }

  private static func isNear(_ a: EventTime, _ b: EventTime, _ skew: EventDuration) -> Bool {
    (a > b ? a - b : b - a) <= skew
  }

  /// Moves the watermark forward by processing time (for `--idle-advance`); never backwards.
  public func advanceWatermark(to time: EventTime, into actions: inout [EngineAction]) {
    finishCalibrationEarly(into: &actions)
    if watermark.advance(to: time) { watermarkAdvanced(into: &actions) }
  }

  /// End of input: a final watermark of +∞. Releases every buffered event, then every held match.
  public func finish(into actions: inout [EngineAction]) {
    guard !finished else { return }
    finishCalibrationEarly(into: &actions)
    // Suspects nobody contradicted enough are accepted: at the end of input they can no longer
    // make later events late.
    for held in suspects.sorted(by: { $0.item.event.precedes($1.item.event) }) {
      accept(rerouted(held.item), into: &actions)
    }
    suspects.removeAll()
    watermark.advance(to: .infinity)
    releaseBuffered(into: &actions)
    var pending: [Alert] = []
    for r in rules.indices {
      // A rule that emits nothing when its partial matches end (no `on timeout emit`, no
      // trailing absence) has nothing to do for a key that holds no complete match back: its
      // partial matches just end. They are left as they are, for the engine's teardown to free
      // (or the process's exit): taking each back through the time-out path cost ~13% of a
      // 300k-event replay of `rules/` and ~15% of a 100k-event one of W2's, for nothing anyone
      // sees.
      // Nothing reads the states after this (no event, no snapshot: both check `finished`), and
      // ``openPartialMatches`` reads 0 from here on.
      let silent = rules[r].matcher.endsSilently
      // Without a skip strategy that holds matches back, no key of a silent rule needs a visit:
      // not even the scan over its states (20 rules × 200k keys of W2 read 128 MB for it).
      if silent && !rules[r].matcher.holdsCompleted { continue }
      for k in states.indices(of: r) where !states[r, k].isEmpty {
        if silent && states[r, k].completed.isEmpty { continue }
        withKey(rule: r, key: KeyID(k)) { matcher, _, _, state, emit in matcher.finish(&state, emit: emit) }
          collect: { pending.append($0) }
      }
    }
    appendSorted(pending, into: &actions)
    flushLimitActions(into: &actions)
    finished = true
  }

  // MARK: - Watermark steps

  private func watermarkAdvanced(into actions: inout [EngineAction]) {
    let now = watermark.time
    // The first link of the timer chain (``fireTimers(upTo:collect:)``'s), while the release loop
    // runs: only when a timer is due by `now` (on a stream in time order the watermark moves
    // with nearly every event, and finding the next timer each step cost ~40 instructions).
    if timerMayBeDue(by: now), let next = nextTimer { prefetchPartials(rule: next.rule, key: next.key) }
    releaseBuffered(into: &actions)
    var pending: [Alert] = []
    // Asked again: the release may have scheduled timers already due (a window shorter than the
    // out-of-orderness bound).
    if timerMayBeDue(by: now) { fireTimers(upTo: now) { pending.append($0) } }
    if now >= queueTimeOuts.earliest { timeOutQueues(upTo: now) }
    // The next timer's state slot, for the step that will fire it: only when one may be due
    // within another step as long as this one.
    if timerMayBeDue(by: now + (now - previousWatermark)), let next = nextTimer {
      prefetchState(rule: next.rule, key: next.key)
    }
    previousWatermark = now
    expireIdleKeys(now: now) { pending.append($0) }
    resumeDeferral()
    if limitState.isTracking { enforceBudget { pending.append($0) } }
    if !pending.isEmpty { appendSorted(pending, into: &actions) }
    flushLimitActions(into: &actions)
    sweepGrownKeySpaces()
  }

  /// Whether a timer, exact or quiet, may be due by `time` (``TimerQueue/mayHaveDue(upTo:)``).
  @inline(__always)
  private func timerMayBeDue(by time: EventTime) -> Bool {
    timers.mayHaveDue(upTo: time) || quietTimers.mayHaveDue(upTo: time)
  }

  /// A timer among the next to fire, exact ones first, for cache hints (``TimerQueue/next``).
  @inline(__always)
  private var nextTimer: TimerQueue.Timer? { timers.next ?? quietTimers.next }

  /// Pops the entries that have timed out by `now` from each queue whose time (``queueTimeOuts``)
  /// has come, setting its time to its new head's, and the earliest to the earliest of them. Only
  /// called once `now` reaches the earliest: until then no queue has an entry to pop.
  private func timeOutQueues(upTo now: EventTime) {
    let times = queueTimeOuts
    var earliest = EventTime.infinity
    // Queue `i` when its time has come: `pop` times it out and gives its new head's time-out.
    func visit(_ i: Int, _ pop: () -> EventTime) {
      if times[i] <= now { times[i] = pop() }
      earliest = min(earliest, times[i])
    }
    for (i, queued) in queuedRules.enumerated() {
      visit(i) {
        queued.queue._withUnsafeGuaranteedRef {
          popExpired($0, upTo: now, keySpace: queued.keySpace, bit: queued.bit)
          return $0.headTimeOut
        }
      }
    }
    for (j, queued) in startQueuedRules.enumerated() {
      visit(queuedRules.count + j) {
        queued.queue._withUnsafeGuaranteedRef {
          popExpired($0, rule: queued.rule, upTo: now, keySpace: queued.keySpace, bit: queued.bit)
          return $0.headTimeOut
        }
      }
    }
    times.earliest = earliest
  }

  /// Times out the partial matches of every (rule, key) whose timer is due by `now`.
  private func fireTimers(upTo now: EventTime, collect: (Alert) -> Void) {
    // Collect first: handling a timer may schedule new ones (always later than `now`). Into a
    // buffer kept between calls: a new array per call grew past 1 KiB whenever many timers fell
    // due together, and each such `malloc` made glibc consolidate its fast bins (a walk over
    // cold freed chunks: `malloc_consolidate` and `unlink_chunk` were 7% of W2's samples).
    var expired: [TimerQueue.Timer] = []
    swap(&expired, &expiredTimers)
    defer {
      // Guarded: emptying an empty array still goes through the generic `replaceSubrange`.
      if !expired.isEmpty { expired.removeAll(keepingCapacity: true) }
      swap(&expired, &expiredTimers)
    }
    // The exact timers first (they may emit); the quiet ones only free memory.
    timers.popExpired(upTo: now, into: &expired)
    quietTimers.popExpired(upTo: now, into: &expired)
    for (i, timer) in expired.enumerated() {
      prefetchAhead(in: expired, after: i)
      guard states[timer.rule, timer.key.index].scheduledDeadline == timer.deadline else { continue }
      states[timer.rule, timer.key.index].scheduledDeadline = nil
      withKey(
        rule: timer.rule, key: timer.key,
        { matcher, _, _, state, emit in matcher.advanceTime(to: now, &state, emit: emit) },
        collect: collect)
    }
  }

  private func releaseBuffered(into actions: inout [EngineAction]) {
    // `ahead` as a closure, not the method reference `prefetch(for:_:)`: the reference went
    // through a partial application and a thunk per call, three calls per event.
    let smallStrings = readsSmallStrings
    buffer.releaseInPlace(upTo: watermark.time, ahead: { prefetch(for: $0, $1) }) { (item: inout Buffered) -> Bool in
      // The event is lent to the rules (`route`), not copied: the closures inside capture a
      // parameter, where reading `item` (`inout`) copied the event for each rule it reached.
      let deferred = item.keys.firstFour.deferredSpaces
      if deferred != 0 { resolveDeferredKeys(item.event, &item.keys, spaces: deferred) }
      route(item.event, keys: item.keys, into: &actions)
      flushLimitActions(into: &actions)
      // No partial match, alert or action kept the event: its slot buffer goes to the decoder.
      hotSlotPool?._withUnsafeGuaranteedRef { $0.recycle(&item.event.slots) }
      // Its other reference is its identity, a short string as a rule (an event id): then
      // nothing is left to release, and the buffer skips the event's deinitialisation.
      return !item.event.slots.holdsBuffer && smallStrings && SmallString.isSmall(item.event.identity)
    }
    // After the release loop: the budget estimate reads the buffer, which the loop holds.
    if limitState.isTracking {
      enforceBudget { actions.append(.alert($0)) }
      flushLimitActions(into: &actions)
    }
  }

  /// Hands a released event to each rule its keys reach (`releaseBuffered`'s loop body).
  ///
  /// Among the first 64 rules only those the event can concern are visited, found as bits:
  /// the rules open for the event's keys (each key space's open mask, one load), the rules whose
  /// start guard admits it, and the rules without a quick start check. Visiting every rule to
  /// find them cost ~60 instructions per rule and event (~0.6k per W1 event, ~1.3k on W2's 20
  /// rules). Visited in rule order, as the loop over all rules did, so actions come out the same.
  @inline(__always)
  private func route(_ event: EventRecord, keys: KeyIDs, into actions: inout [EngineAction]) {
    tallies.eventsProcessed += 1
    let candidates = guards.candidates(for: event)
    var visit = routing.always | (candidates.start & routing.quickStart)
    var open: UInt64 = 0
    for space in keySpaces.indices {
      guard let key = space < FourKeyIDs.spaces ? keys[space] : keyPastFour(event, space: space) else {
        // A deferred key the space does not hold (``resolveDeferredKeys(_:_:spaces:)``) has
        // nothing open: its rules are visited only as the event's start guards admit them.
        if keys.deferredBits(space) == nil {
          visit &= ~routing.rulesOfSpace[space]
          missingKeys.add(space: space)
        }
        continue
      }
      var bits = openRules(space: space, key: key)
      while bits != 0 {
        // A smart shift: a rule past the first 64 gives no bit.
        open |= 1 << UInt64(routing.ruleAt[space &* KeySpace.trackedRules &+ bits.trailingZeroBitCount])
        bits &= bits &- 1
      }
    }
    visit |= open
    // The state of a rule the event may start but that is not open for its key was not fetched
    // ahead (the lookahead follows the open masks): its slot, or its queue's key record, is
    // asked for here, all at once, so that those misses overlap each other and the rules visited
    // before them, instead of each waiting in turn (W2: ~4% of its time).
    var cold = visit & ~open & routing.fetchedWhenVisited
    while cold != 0 {
      let r = cold.trailingZeroBitCount
      cold &= cold &- 1
      if let key = key(keys, space: routes[r].keySpace) { prefetchState(rule: r, key: key) }
    }
    while visit != 0 {
      let r = visit.trailingZeroBitCount
      visit &= visit &- 1
      // Rules of a space without a key were taken out of `visit` above; a deferred key the space
      // does not hold is interned if the rule starts a match.
      if let key = key(keys, space: routes[r].keySpace) {
        route(event, rule: r, key: key, isOpen: open & (1 << UInt64(r)) != 0, candidates, &actions)
      } else {
        routeUnheld(event, rule: r, space: routes[r].keySpace, candidates, &actions)
      }
    }
    for r in routes.indices.dropFirst(RuleGuards.trackedRules) {
      // Without the key, counted above with the rule's space.
      guard let key = key(keys, space: routes[r].keySpace) else { continue }
      route(event, rule: r, key: key, isOpen: isOpen(routes[r], rule: r, key: key), candidates, &actions)
    }
  }

  /// The released event's key in `space`: from `keys` in the first four spaces, else as
  /// ``route(_:keys:into:)`` looked it up (``keyPastFour(_:space:)``).
  @inline(__always)
  private func key(_ keys: KeyIDs, space: Int) -> KeyID? {
    space < FourKeyIDs.spaces ? keys[space] : pastFourKeys[space &- FourKeyIDs.spaces]
  }

  /// The released `event`'s key in `space`, past the first four (whose ids the event carries),
  /// interned if new, and kept for the rest of its routing (``key(_:space:)``); `nil` if the event
  /// lacks it. Looked up here rather than on arrival, as a deferred key is, so that a buffered
  /// event holds no reference for them (``KeyIDs``); not pinned, as it is not held. Not inlined:
  /// rule sets with more than four key spaces are rare.
  @inline(never)
  private func keyPastFour(_ event: EventRecord, space: Int) -> KeyID? {
    let key = keySpaces[space].key(of: event, pinning: false)
    pastFourKeys[space - FourKeyIDs.spaces] = key
    return key
  }

  /// Looks up `event`'s deferred keys, those of the key spaces in `spaces`
  /// (``FourKeyIDs/deferredSpaces``), as it is released: a key
  /// the space's presence map may hold is looked up, and replaces the bits in `keys` when found;
  /// one the space does not hold stays deferred, and ``route(_:keys:into:)`` visits only the
  /// rules of the space whose start guard admits the event. Counts the space's deferred and
  /// needed keys for its review (``reviewDeferral(space:)``). Not inlined: in line, it kept the
  /// release loop's calls from being inlined (the optimiser stops inlining into a function past
  /// a size), and it runs only for an event with a deferred key.
  @inline(never)
  private func resolveDeferredKeys(_ event: EventRecord, _ keys: inout KeyIDs, spaces: UInt64) {
    var spaces = spaces
    while spaces != 0 {
      let space = spaces.trailingZeroBitCount
      spaces &= spaces &- 1
      let bits = keys.firstFour.presenceBits(ofDeferred: space)
      deferredReleased.add(space: space)
      if deferredReleased.count(space: space) >= deferralWindow { reviewDeferral(space: space) }
      guard hotPresence[space]._withUnsafeGuaranteedRef({ $0.mayHold(bits) }),
        let found = keySpaces[space].find(event)
      else { continue }
      deferredNeeded.add(space: space)
      keys.resolveDeferred(space: space, to: found)
    }
  }

  /// Hands a released event to rule `r` for `key` (``route(_:keys:into:)``): skipped when the key
  /// has nothing open and the event cannot start a match (first the guard bit, no condition
  /// evaluated, then the quick check), or when no step can use it and nothing is due.
  @inline(__always)
  private func route(
    _ event: EventRecord, rule r: Int, key: KeyID, isOpen: Bool, _ candidates: RuleGuards.Candidates,
    _ actions: inout [EngineAction]
  ) {
    if routes[r].hasQuickStartCheck, !isOpen {
      switch closedStart(event, rule: r, candidates) {
      case .none: return
      case .queued:
        queueStart(event, rule: r, key: key)
        return
      case .walk: break
      }
    }
    step(event, rule: r, key: key, candidates, &actions)
  }

  /// ``route(_:rule:key:isOpen:_:_:)`` for a rule of a space that defers keys and does not hold
  /// the event's: nothing is open, and the key is interned only if a match starts. Not inlined:
  /// it is the deferring spaces' path, and in line it kept the release loop's common path (a
  /// held key) from being inlined (docs/performance.md, session 40).
  @inline(never)
  private func routeUnheld(
    _ event: EventRecord, rule r: Int, space: Int, _ candidates: RuleGuards.Candidates,
    _ actions: inout [EngineAction]
  ) {
    assert(routes[r].hasQuickStartCheck, "a space with a rule without a quick start check does not defer keys")
    let start = closedStart(event, rule: r, candidates)
    if start == .none { return }
    // Two rules of the space that start at the same event both come here; the second finds the key.
    // swift-format-ignore: NeverForceUnwrap
    // A deferred key's fields are present: it was marked for that.
    let (key, isNew) = keySpaces[space].internedKey(of: event)!
    // Once per event: a second rule that starts finds the key.
    if isNew { deferredNeeded.add(space: space) }
    if start == .queued {
      queueStart(event, rule: r, key: key)
    } else {
      step(event, rule: r, key: key, candidates, &actions)
    }
  }

  /// What a rule with a quick start check does with an event for a key with nothing open.
  private enum ClosedStart {
    /// The event starts no match.
    case none
    /// The start goes into the rule's start queue (Engine+StartQueues.swift).
    case queued
    /// The rule's walk takes the event (``step(_:rule:key:_:_:)``).
    case walk
  }

  /// Whether `event` starts a match of rule `r` (which has a quick start check) for a key with
  /// nothing open, and how: first the guard bit (no condition evaluated), then the exact guard's
  /// residual or the quick check.
  ///
  /// Errors are counted once per event and condition, whatever the key's state: a check that
  /// admits the start leaves the errors it met to the walk, which evaluates the start step again
  /// and records them (for a key with partial matches open, the walk is the only evaluation).
  /// Counted by both, they were counted twice for a closed key and once for an open one, and a
  /// start queue, which closes a key as its lone start times out, moved events from one count
  /// to the other.
  @inline(__always)
  private func closedStart(_ event: EventRecord, rule r: Int, _ candidates: RuleGuards.Candidates) -> ClosedStart {
    if r < RuleGuards.trackedRules, candidates.start & (1 << UInt64(r)) == 0 {
      _assertQuickCheckAgrees(rule: r, event: event)
      return .none
    }
    let mark = withRule(r) { _, context, _ in context.errorMark }
    // An exact start guard that matched answers the quick check already, or with the rest
    // of the start step's conjunction.
    if candidates.exactStart & (1 << UInt64(r)) != 0 {
      guard
        !routes[r].checksStartResidual
          || withRule(r, { m, context, _ in m.startResidualHolds(event, context: context) })
      else {
        _assertQuickCheckAgrees(rule: r, event: event)
        return .none
      }
      _assertExactGuardAgrees(rule: r, event: event)
    } else if !withRule(r, { $0.mayStart(event, context: $1, scratch: $2) }) {
      _assertQuickCheckAgrees(rule: r, event: event)
      return .none
    }
    // A rule with a start queue takes a start for a key with nothing open straight into it
    // (Engine+StartQueues.swift) when the check met no error; one that met an error goes to the
    // walk, which records it.
    let erred = withRule(r) { _, context, _ in
      guard context.recordedErrors != mark.recordedErrors else { return false }
      context.forgetErrors(since: mark)
      return true
    }
    return !erred && hotStartQueues[r] != nil ? .queued : .walk
  }

  /// Takes `event`'s start of rule `r` for `key` into the rule's start queue.
  @inline(__always)
  private func queueStart(_ event: EventRecord, rule r: Int, key: KeyID) {
    let route = routes[r]
    // swift-format-ignore: NeverForceUnwrap
    // Only a rule with a start queue answers `.queued`.
    hotStartQueues[r]!._withUnsafeGuaranteedRef {
      queueStart($0, event, rule: r, key: key, keySpace: route.keySpace, bit: route.bitInSpace)
    }
  }

  /// Steps rule `r` for `key` with `event`, once the event starts a match or the key has one
  /// open: its run queue, its start queue, or the walk over the key's partial matches.
  @inline(__always)
  private func step(
    _ event: EventRecord, rule r: Int, key: KeyID, _ candidates: RuleGuards.Candidates, _ actions: inout [EngineAction]
  ) {
    let route = routes[r]
    // A rule with a run queue steps there (Engine+RunQueues.swift): it has no per-key state,
    // timer or TTL here, and its condition reads the event alone.
    if let queue = hotQueues[r] {
      queue._withUnsafeGuaranteedRef {
        processQueued(
          $0, event, rule: r, key: key, keySpace: route.keySpace, bit: route.bitInSpace,
          hasQuickStartCheck: route.hasQuickStartCheck,
          mayTake: !route.guardsSteps || candidates.step & (1 << UInt64(r)) != 0,
          takesByGuard: !route.checksStartResidual && candidates.exactStart & (1 << UInt64(r)) != 0, &actions)
      }
      return
    }
    if options.limits.keyTTL != nil { touchForTTL(rule: r, key: key, at: event.time) }
    let unconcerned = route.skipsUnconcerned && candidates.step & (1 << UInt64(r)) == 0
    // A rule with a start queue (Engine+StartQueues.swift): a queued start of the key stays
    // there for an event that cannot change it, or comes back to the general state for the step.
    if let startQueue = hotStartQueues[r],
      startQueue._withUnsafeGuaranteedRef({
        prepareStep(
          $0, event, rule: r, key: key, keySpace: route.keySpace, bit: route.bitInSpace, unconcerned: unconcerned)
      })
    {
      return
    }
    // An event no step can use changes no partial match; only a timeout due by its time
    // would (and must be emitted here, in event order, as processing would).
    if unconcerned, isUnchanged(rule: r, key: key, byUnconcernedEventAt: event.time) {
      _assertSkipAgrees(rule: r, key: key, event: event)
      return
    }
    withKey(rule: r, key: key) { matcher, context, scratch, state, emit in
      matcher.process(event, &state, context: context, scratch: scratch, emit: emit)
    } collect: { actions.append(.alert($0)) }
  }

  /// Key space `space`'s open mask for `key` (``KeySpace/openRules(_:)``).
  @inline(__always)
  func openRules(space: Int, key: KeyID) -> UInt64 {
    hotMasks[space]._withUnsafeGuaranteedRef { $0[key.index] }
  }

  /// Whether rule `r` has open or held matches for `key`: one bit of the key space's mask (a
  /// load shared by every rule of the space), or the state itself past the tracked rules.
  @inline(__always)
  private func isOpen(_ route: Route, rule r: Int, key: KeyID) -> Bool {
    let bit = route.bitInSpace
    if bit < KeySpace.trackedRules {
      return openRules(space: route.keySpace, key: key) & (1 << UInt64(bit)) != 0
    }
    return holdsState(rule: r, key: key)
  }

  /// Whether an event at `time` that no step of rule `r` can use leaves (rule, key) unchanged:
  /// every partial match waits in a transparent state and none times out by `time`.
  @inline(__always)
  private func isUnchanged(rule r: Int, key: KeyID, byUnconcernedEventAt time: EventTime) -> Bool {
    guard key.index < states.count(of: r) else { return true }
    guard states[r, key.index].isSettled else { return false }
    guard let earliest = withRule(r, { m, _, _ in m.earliestDeadline(in: &states[r, key.index]) }) else { return true }
    return time < earliest
  }

  /// In debug builds, processing a skipped event must change nothing: no match, and every
  /// partial and held match still in place with the same state and bindings.
  @inline(__always)
  private func _assertSkipAgrees(rule r: Int, key: KeyID, event: EventRecord) {
    #if DEBUG
      _verifySkip(rule: r, key: key, event: event)
    #endif
  }

  @inline(never)
  private func _verifySkip(rule r: Int, key: KeyID, event: EventRecord) {
    let state = key.index < states.count(of: r) ? states[r, key.index] : PartialMatches()
    let (probe, emitted) = _probe(rule: r, state, event, key: .string(keySpaces[rules[r].keySpace].text(of: key)))
    func same(_ a: [Computation], _ b: [Computation]) -> Bool {
      a.count == b.count
        && zip(a, b).allSatisfy { $0.state == $1.state && $0.bindings === $1.bindings && $0.start == $1.start }
    }
    assert(
      emitted == 0 && same(probe.partials, state.partials) && same(probe.completed, state.completed),
      "rule '\(rules[r].matcher.program.name)' skipped event \(event.identity) but processing it changes its state")
  }

  /// Full processing of `event` on a copy of `state`, for the debug checks: the resulting state
  /// and the number of matches emitted. A private context and scratch, so the re-evaluation
  /// counts no type error a second time and disturbs nothing.
  private func _probe(rule r: Int, _ state: PartialMatches, _ event: EventRecord, key: Value) -> (PartialMatches, Int) {
    var probe = state
    var emitted = 0
    let context = EvalContext()
    context.key = key
    rules[r].matcher.process(event, &probe, context: context, scratch: MatcherScratch(), emit: { _, _ in emitted += 1 })
    return (probe, emitted)
  }

  /// In debug builds, the thorough path must agree with a negative quick check: processing the
  /// event on an empty state produces no partial match and no match.
  @inline(__always)
  private func _assertQuickCheckAgrees(rule r: Int, event: EventRecord) {
    #if DEBUG
      _verifyQuickCheck(rule: r, event: event)
    #endif
  }

  /// In debug builds, an exact start guard's admission must be what the quick check says.
  @inline(__always)
  private func _assertExactGuardAgrees(rule r: Int, event: EventRecord) {
    #if DEBUG
      let context = EvalContext()
      assert(
        rules[r].matcher.mayStart(event, context: context, scratch: MatcherScratch()),
        "exact start guard admitted event \(event.identity) for rule '\(rules[r].matcher.program.name)' but the quick check says it cannot start")
    #endif
  }

  @inline(never)
  private func _verifyQuickCheck(rule r: Int, event: EventRecord) {
    let (probe, emitted) = _probe(rule: r, PartialMatches(), event, key: rules[r].context.key)
    assert(
      probe.isEmpty && emitted == 0,
      "quick check said rule '\(rules[r].matcher.program.name)' cannot start at event \(event.identity)")
  }

  /// Runs `body` on one key's state of one rule, turns emitted matches into alerts, and keeps
  /// the key's `within` timer scheduled at its earliest partial match's deadline.
  func withKey(
    rule r: Int, key: KeyID,
    _ body: (RuleMatcher, EvalContext, MatcherScratch, inout PartialMatches, RuleMatcher.Emit) -> Void,
    collect: (Alert) -> Void
  ) {
    assert(!keySpaces[rules[r].keySpace].isFree(key), "key id \(key.index) used after it was reclaimed")
    states.ensure(rule: r, count: key.index + 1)
    // The slot's address, once: each `states[r, key.index]` reads the store's arrays again.
    // Nothing below grows rule `r`'s buffer, so it stays valid.
    // swift-format-ignore: NeverForceUnwrap
    // `ensure` gave the key a slot.
    let state = states.address(of: r, key.index)!
    let route = routes[r]
    var matches: [(MatchNode, MatchOutcome)] = []
    let before = limitState.isTracking ? measure(state.pointee, rule: r) : LimitState.Measure()
    withRule(r) { matcher, context, scratch in
      // Only a rule whose conditions read `key` needs its text here (a load from a cold array
      // per rule and event otherwise); alerts set it themselves (`makeAlert`).
      if !route.hasQuickStartCheck { context.key = .string(keySpaces[route.keySpace].text(of: key)) }
      body(matcher, context, scratch, &state.pointee) { matches.append(($0, $1)) }
    }
    if state.pointee.partials.count > options.limits.maxPartialsPerKey {
      capPartials(rule: r, key: key) { matches.append(($0, $1)) }
    }
    for (match, outcome) in matches {
      tallies.alertsByRule[r] += 1
      collect(makeAlert(rule: r, key: key, match: match, outcome: outcome))
    }
    // Open while anything is held: general state, or a start queued (Engine+StartQueues.swift).
    let isOpen = !state.pointee.isEmpty || state.pointee.hasQueuedStart
    hotMasks[route.keySpace]._withUnsafeGuaranteedRef { $0.set(isOpen, bit: route.bitInSpace, at: key.index) }
    let earliest = withRule(r) { matcher, _, _ in matcher.earliestDeadline(in: &state.pointee) }
    // Rounded (quiet) while a time-out can emit nothing: always for a rule whose time-outs are
    // quiet, and while its key holds no match back for one whose time-outs are quiet until it
    // does. A key that holds one gets a timer at the exact deadline when its rounded one is later
    // (the time-out that releases the match is taken in its place in the stream); one already
    // due at that deadline fires in the same watermark step, where the alerts of every timer due
    // are sorted (``watermarkAdvanced(into:)``), so which queue it waits in changes nothing.
    let quantum = timerQuantum(route, state.pointee)
    if let exact = earliest, case let deadline = Self.roundedUp(exact, to: quantum),
      state.pointee.scheduledDeadline.map({ deadline < $0 }) ?? true
    {
      state.pointee.scheduledDeadline = deadline
      schedule(TimerQueue.Timer(deadline: deadline, rule: r, key: key), rounded: quantum > 1)
    }
    if limitState.isTracking { stateChanged(rule: r, key: key, from: before) }
    if options.limits.keyTTL != nil { scheduleTTL(rule: r, key: key) }
    assert(states.address(of: r, key.index) == state, "rule \(r)'s state buffer moved during withKey")
  }

  /// Schedules a `within` timer in its rule's queue: ``quietTimers`` for a `rounded` one (its
  /// quantum above 1: ``timerQuantum(_:_:)``), ``timers`` for the others.
  @inline(__always)
  func schedule(_ timer: TimerQueue.Timer, rounded: Bool) {
    // Branched, not `(… ? quietTimers : timers).schedule`: the chosen reference was retained.
    if rounded {
      quietTimers.schedule(timer)
    } else {
      timers.schedule(timer)
    }
  }

  /// The quantum rule `r`'s timer for a key in `state` is rounded up to (1: exact), as
  /// ``withKey(rule:key:_:collect:)`` schedules it; for code outside this file (checkpoints).
  func timerQuantum(rule r: Int, for state: PartialMatches) -> Int64 { timerQuantum(routes[r], state) }

  /// The quantum in effect for a key in `state`: the rule's, unless it rounds only while
  /// nothing is held and the key holds a match back.
  @inline(__always)
  private func timerQuantum(_ route: Route, _ state: PartialMatches) -> Int64 {
    route.roundsOnlyWhileNothingHeld && !state.completed.isEmpty ? 1 : route.timerQuantum
  }

  /// The quantum rule `matcher`'s timers are rounded up to: for a rule whose time-outs are
  /// quiet (``RuleMatcher/timeOutsAreQuiet``), the largest power of two of nanoseconds at most
  /// 1/256 of its shortest window and at most 2^30 (~1.07 s); 1 (exact) for every other rule,
  /// and for all under a state budget, which counts the state a late time-out would hold, or
  /// an idle-key TTL, which could find (and report as evicted) partial matches that expired
  /// less than a quantum before it.
  ///
  /// Why: timers fire when the watermark passes their deadline, and deadlines are spread over
  /// time like the events that opened them, so about one fires per watermark step (W1), each
  /// reaching a state slot, a list, a node and an event buffer left cold an hour ago, with
  /// nothing ahead to fetch them for. Rounded up, the timers of one quantum fire together (from
  /// ``quietTimers``), and the time-out loop fetches the next ones' lines while it handles the
  /// current one (``prefetchAhead(in:after:)``). A quiet time-out taken up to one quantum late
  /// changes no alert: the key's next event drops what has expired before it steps
  /// (``RuleMatcher``'s `advanceTime`), and in between the expired partial matches only hold
  /// memory (and count among the open ones in metrics) a little longer.
  static func timerQuantum(for matcher: RuleMatcher, options: EngineOptions) -> Int64 {
    guard matcher.timeOutsAreQuiet else { return 1 }
    return quietQuantum(for: matcher, options: options)
  }

  /// The quantum a rule's timers are rounded up to while its key holds no match back, for a
  /// rule whose time-outs are quiet only then: one that ends silently
  /// (``RuleMatcher/endsSilently``) but whose skip strategy can hold a match back until an
  /// older partial match times out (W2's `merchant_hopping` and `browsing_until_logout`, under
  /// `skip past_last_event`). While nothing is held, its time-outs only free memory, as a quiet
  /// rule's do; while something is, its timer is exact (``withKey(rule:key:_:collect:)``).
  /// 1 for every other rule (``timerQuantum(for:options:)`` rounds the always-quiet ones), and
  /// where rounding is off or cannot apply (a state budget, an idle-key TTL, no window).
  static func heldTimerQuantum(for matcher: RuleMatcher, options: EngineOptions) -> Int64 {
    guard matcher.endsSilently, !matcher.timeOutsAreQuiet else { return 1 }
    return quietQuantum(for: matcher, options: options)
  }

  /// The largest power of two of nanoseconds at most 1/256 of `matcher`'s shortest window and
  /// at most 2^30, or 1 when rounding is off, under a state budget or TTL, or without a window.
  private static func quietQuantum(for matcher: RuleMatcher, options: EngineOptions) -> Int64 {
    guard options.roundsQuietTimers, options.limits.maxStateBytes == nil, options.limits.keyTTL == nil,
      let window = matcher.shortestWindow, window.nanoseconds >= 512
    else { return 1 }
    let bound = min(window.nanoseconds / 256, 1 << 30)
    return 1 << (63 - Int64(bound.leadingZeroBitCount))
  }

  /// `time` rounded up to a multiple of `quantum` (a power of two), +∞ past the largest.
  @inline(__always)
  static func roundedUp(_ time: EventTime, to quantum: Int64) -> EventTime {
    let ns = time.nanosecondsSinceEpoch
    let below = ns & (quantum &- 1)
    guard below != 0 else { return time }
    let (up, overflow) = ns.addingReportingOverflow(quantum &- below)
    return overflow ? .infinity : EventTime(nanosecondsSinceEpoch: up)
  }

  private func appendSorted(_ alerts: [Alert], into actions: inout [EngineAction]) {
    let sorted = alerts.sorted { a, b in
      if a.time != b.time { return a.time < b.time }
      if a.ruleIndex != b.ruleIndex { return a.ruleIndex < b.ruleIndex }
      return a.idHash < b.idHash  // the order of the ids' texts: fixed-width hex
    }
    for alert in sorted { actions.append(.alert(alert)) }
  }

  // MARK: - Alerts

  func makeAlert(rule r: Int, key: KeyID, match: MatchNode, outcome: MatchOutcome) -> Alert {
    // Through the matcher (a class), field by field: `let program = …` or `let spec = …` copied
    // the whole struct, retaining and releasing every array in it, once per alert.
    let matcher = rules[r].matcher
    let source = rules[r].alertRule
    let space = rules[r].keySpace
    let context = rules[r].context
    let keyText = keySpaces[space].text(of: key)
    context.key = .string(keyText)  // emitted values may read `key`
    let last = match.event
    var time = last.time
    var isTimeout = false
    switch outcome {
    case .complete: break
    case .absence(let deadline): time = deadline
    case .timeout(let deadline):
      time = deadline
      isTimeout = true
    }
    let bound = Self.boundEvents(of: match)
    let fieldValues =
      isTimeout
      ? Self.values(matcher.program.timeoutValues ?? [], count: source.timeoutNames.count, last, match, context)
      : Self.values(matcher.program.emitValues, count: source.emitNames.count, last, match, context)
    let suppressionKey: Value =
      matcher.program.spec.suppression == nil
      ? .null : matcher.program.suppressionKey.map { $0(last, match, context) } ?? .string(keyText)
    // Made whole in one initialiser call: a `var` set after it was copied and destroyed once more.
    return Alert(
      source: source, keyValues: keySpaces[space].values(of: key),
      idHash: Alert.makeIDHash(
        source: source, isTimeout: isTimeout, keyText: keyText, identities: bound.lazy.map(\.identity)),
      isTimeout: isTimeout, time: time, start: match.first.event.time, boundEvents: bound,
      fieldValues: fieldValues, suppressionKey: suppressionKey)
  }

  /// `match`'s events in match order with the steps they were bound to: one walk of the chain,
  /// newest first, then the array reversed in place. (Filled from the back through
  /// `Array(unsafeUninitializedCapacity:)`, the allocation went through the runtime's generic
  /// path: ~700 instructions an alert.)
  private static func boundEvents(of match: MatchNode) -> [Alert.BoundEvent] {
    var bound: [Alert.BoundEvent] = []
    bound.reserveCapacity(match.length)
    // Through `walk`, which reads the chain without retaining each node on the way.
    match.walk { node in
      bound.append(Alert.BoundEvent(step: node.step, identity: node.event.identity))
      return true
    }
    bound.reverse()
    return bound
  }

  /// The first `count` of the values `values` (an `emit` or `on timeout emit` list) compute for
  /// a match ending in `last`.
  private static func values(
    _ values: [Evaluator], count: Int, _ last: EventRecord, _ match: MatchNode, _ context: EvalContext
  ) -> [Value] {
    let count = min(count, values.count)
    var out: [Value] = []
    out.reserveCapacity(count)
    for i in 0..<count { out.append(values[i](last, match, context)) }
    return out
  }

  // MARK: - Introspection

  /// The key fields a `missing_key` dead letter names, worked out once: a rule set keyed by a
  /// field only some events carry (`card`) dead-letters every other event, and building the
  /// list each time (a set of field paths, each hashed) cost ~3,100 instructions per such event.
  private lazy var missingKeyFields: [FieldPath] = {
    var seen = Set<FieldPath>()
    var out: [FieldPath] = []
    for program in programs.rules {
      for f in program.spec.keyFields where seen.insert(f).inserted { out.append(f) }
    }
    return out
  }()

  /// Number of open partial matches over all rules and keys (0 once the input has ended: every
  /// partial match ended with it, whether or not ``finish(into:)`` walked it).
  public var openPartialMatches: Int {
    finished ? 0 : states.openPartialMatches + queuedPartialMatches + startQueuedPartialMatches
  }

  /// Number of keys held per key space (interned and not reclaimed), summed.
  public var distinctKeys: Int { keySpaces.reduce(0) { $0 + $1.count } }

  /// Events waiting for the watermark: in the reorder buffer, or held while the engine
  /// calibrates its time base.
  public var bufferedEvents: Int { buffer.count + (calibration?.items.count ?? 0) }

  /// Per rule: the number of run-time type errors and the first one's description.
  public var typeErrors: [(rule: String, count: Int, first: String?)] {
    rules.map { ($0.matcher.program.name, $0.context.typeErrors, $0.context.firstTypeError) }
  }

  /// Per rule: the number of regex matches that ran out of PCRE2's match limit (each made its
  /// condition false) and the first such pattern.
  public var regexLimitHits: [(rule: String, count: Int, pattern: String?)] {
    rules.map { ($0.matcher.program.name, $0.context.regexLimitHits, $0.context.firstRegexLimitPattern) }
  }
}

/// Counts per key space in plain memory the engine owns: an increment is a load and a store,
/// with no uniqueness check.
final class SpaceTallies {
  private let counts: UnsafeMutablePointer<Int>
  private let spaces: Int

  init(spaces: Int) {
    self.spaces = spaces
    counts = .allocate(capacity: max(1, spaces))
    counts.initialize(repeating: 0, count: max(1, spaces))
  }

  deinit { counts.deallocate() }

  @inline(__always)
  func add(space: Int) { counts[space] &+= 1 }

  @inline(__always)
  func count(space: Int) -> Int { counts[space] }

  /// One space's count back to zero.
  func reset(space: Int) { counts[space] = 0 }

  /// Every count back to zero.
  func reset() { counts.update(repeating: 0, count: max(1, spaces)) }
}
