import TocsinAutomaton
import TocsinCore
import TocsinExpressions

extension Engine {
  /// The engine's state as a value (see ``EngineSnapshot``), for a checkpoint.
  ///
  /// Take it between two calls of ``eventArrived(_:into:)``, never after ``finish(into:)``.
  /// - Complexity: O(state): every stored event, node, key and computation once.
  public func snapshot() -> EngineSnapshot {
    precondition(!finished, "snapshot after finish")
    var builder = SnapshotBuilder()
    var snap = EngineSnapshot()
    let counted = counters
    for r in rules.indices {
      let rule = rules[r]
      var keys: [EngineSnapshot.KeyState] = []
      // A rule with a run queue has no slots here: its partial matches are written last (below).
      for k in states.indices(of: r) where !states[r, k].isEmpty || states[r, k].scheduledDeadline != nil {
        let state = states[r, k]
        var stored = EngineSnapshot.KeyState(
          key: UInt32(k), partials: state.partials.map { builder.add($0) },
          completed: state.completed.map { builder.add($0) }, scheduledDeadline: state.scheduledDeadline)
        if r < limitState.ttl.count, k < limitState.ttl[r].count {
          stored.lastActivity = limitState.ttl[r][k].lastActivity
          stored.ttlDeadline = limitState.ttl[r][k].scheduled
        }
        keys.append(stored)
      }
      snap.rules.append(
        EngineSnapshot.RuleState(
          name: rule.matcher.program.name, keySpace: rule.keySpace, alerts: counted.alertsByRule[r],
          missingKey: counted.missingKeyByRule[r], typeErrors: rule.context.typeErrors,
          arithmeticErrors: rule.context.arithmeticErrors, regexLimitHits: rule.context.regexLimitHits,
          firstTypeError: rule.context.firstTypeError,
          firstRegexLimitPattern: rule.context.firstRegexLimitPattern, keys: keys))
    }
    for space in keySpaces {
      var state = EngineSnapshot.KeySpaceState(fields: fields(of: space), values: space.allValues, count: space.idCount)
      state.free = space.freeIDs
      state.reclaimed = space.reclaimed
      snap.keySpaces.append(state)
    }
    var buffered: [(position: EventPosition, event: EventRecord)] = []
    buffer.forEach { item, position in buffered.append((position, item.event)) }
    snap.buffered = buffered.sorted { $0.position < $1.position }.map { builder.add($0.event) }
    snap.suspects = suspects.map {
      EngineSnapshot.Suspect(
        event: builder.add($0.item.event), confirmations: $0.confirmations, contradictions: $0.contradictions)
    }
    if let calibration {
      snap.calibrating = true
      snap.calibrationHeld = calibration.items.map { builder.add($0.event) }
    }
    snap.calibratedBase = calibratedBase
    // Last: the builder keeps the first event it is given for a sequence number, and a queue
    // keeps only part of its events (the slots its rule's alerts read), where other rules and
    // the buffer hold the whole event.
    // All made before any is added: the builder knows nodes by identity, and a node freed
    // after one rule's turn could come back at the same address as another rule's new node.
    let queued = queuedRules.map { (rule: $0.rule, states: queuedStates($0.queue.takeUnretainedValue(), rule: $0.rule)) }
    let startQueued = startQueuedRules.map {
      (rule: $0.rule, states: queuedStarts($0.queue.takeUnretainedValue(), rule: $0.rule))
    }
    // Two queues may hold one event, each with the slots its rule reads: the checkpoint's copy
    // gets both.
    builder.mergesSlots = true
    for (r, states) in queued {
      snap.rules[r].keys = states.map { key, state in
        var stored = EngineSnapshot.KeyState(
          key: UInt32(key), partials: state.partials.map { builder.add($0) }, completed: [],
          scheduledDeadline: state.scheduledDeadline)
        if r < limitState.ttl.count, key < limitState.ttl[r].count {
          stored.lastActivity = limitState.ttl[r][key].lastActivity
          stored.ttlDeadline = limitState.ttl[r][key].scheduled
        }
        return stored
      }
    }
    // A rule with a start queue has general state too; a key with a queued start has at most a
    // timer still pending there, and the general state would keep the earlier of the two.
    for (r, states) in startQueued {
      var keys = Dictionary(uniqueKeysWithValues: snap.rules[r].keys.map { (Int($0.key), $0) })
      for (key, state) in states {
        assert(keys[key]?.partials.isEmpty ?? true, "a key with a queued start had general state")
        let pending = keys[key]?.scheduledDeadline
        // swift-format-ignore: NeverForceUnwrap
        // `queuedStarts` sets every deadline.
        let own = state.scheduledDeadline!
        var stored = EngineSnapshot.KeyState(
          key: UInt32(key), partials: state.partials.map { builder.add($0) }, completed: [],
          scheduledDeadline: pending.map { min($0, own) } ?? own)
        stored.lastActivity = keys[key]?.lastActivity
        stored.ttlDeadline = keys[key]?.ttlDeadline
        keys[key] = stored
      }
      snap.rules[r].keys = keys.values.sorted { $0.key < $1.key }
    }
    withExtendedLifetime(queued) {}
    withExtendedLifetime(startQueued) {}
    snap.evictionQueue = limitState.evictionQueue.compactMap { entry in
      guard entry.key.index < states.count(of: entry.rule),
        states[entry.rule, entry.key.index].partials.first?.start == entry.start
      else { return nil }
      return EngineSnapshot.EvictionEntry(rule: entry.rule, key: entry.key.rawValue, start: entry.start)
    }
    builder.finish(into: &snap)
    snap.watermark = watermark.time
    snap.maxEventTime = maxEventTime
    snap.counters = counted
    return snap
  }

  /// The key fields of a key space (those of any rule using it).
  private func fields(of space: KeySpace) -> [FieldPath] {
    programs.rules.first { $0.keySlots == space.slots }?.spec.keyFields ?? []
  }

  /// An engine for `programs` holding the state in `snapshot`.
  ///
  /// - Parameter ruleMapping: for each rule of the snapshot, the index of the same rule
  ///   (unchanged compiled form) in `programs`, or `nil` when it changed or is gone; its state
  ///   is then dropped. Rules of `programs` no snapshot rule maps to start empty.
  /// - Throws: ``EngineSnapshot/Invalid`` when the snapshot is inconsistent with itself or the
  ///   programs (a wrong mapping), never a trap.
  public convenience init(
    restoring snapshot: EngineSnapshot, programs: ProgramSet, options: EngineOptions,
    ruleMapping: [Int?]
  ) throws(EngineSnapshot.Invalid) {
    self.init(programs: programs, options: options)
    try snapshot.validate()
    guard ruleMapping.count == snapshot.rules.count else {
      throw EngineSnapshot.Invalid(description: "rule mapping has \(ruleMapping.count) entries for \(snapshot.rules.count) rules")
    }
    // Key spaces with the same fields keep their ids: keys are re-interned in id order.
    var keyMaps: [[KeyID]?] = Array(repeating: nil, count: snapshot.keySpaces.count)
    for i in keySpaces.indices {
      let spaceFields = fields(of: keySpaces[i])
      guard let j = snapshot.keySpaces.firstIndex(where: { $0.fields == spaceFields }) else { continue }
      let old = snapshot.keySpaces[j]
      let slots = keySpaces[i].slots
      let width = (slots.map(\.index).max() ?? -1) + 1
      var map: [KeyID] = []
      map.reserveCapacity(old.count)
      for id in 0..<old.count {
        // A free id (reclaimed, not reused) has null values: it is re-created free, so every
        // id keeps its number.
        if !slots.isEmpty, old.values[id * slots.count].isNull {
          map.append(keySpaces[i].appendFreeID())
          continue
        }
        var values = Array(repeating: Value.null, count: width)
        for (f, slot) in slots.enumerated() { values[slot.index] = old.values[id * slots.count + f] }
        let probe = EventRecord(time: .negativeInfinity, sequence: 0, line: 0, identity: "", slots: values)
        guard let key = keySpaces[i].key(of: probe) else {
          throw EngineSnapshot.Invalid(description: "inconsistent snapshot: null key value")
        }
        map.append(key)
      }
      guard keySpaces[i].restoreFreeOrder(old.free, reclaimed: old.reclaimed) else {
        throw EngineSnapshot.Invalid(description: "inconsistent snapshot: free key ids")
      }
      keyMaps[j] = map
    }
    let nodes = Self.rebuildNodes(snapshot)
    var queued: [QueuedPartial] = []
    for (old, mapped) in zip(snapshot.rules, ruleMapping) {
      guard let r = mapped else { continue }
      guard r >= 0, r < rules.count, let keyMap = keyMaps[old.keySpace] else {
        throw EngineSnapshot.Invalid(description: "rule '\(old.name)' does not map to a rule with the same key")
      }
      try restoreRule(old, into: r, keyMap: keyMap, nodes: nodes, queued: &queued)
    }
    restoreQueues(queued)
    for index in snapshot.buffered {
      let event = snapshot.events[index]
      let item = Buffered(event: event, keys: keys(of: event))
      buffer.insert(item, hint: releaseHint(for: item), at: EventPosition(event))
    }
    suspects = snapshot.suspects.map {
      let event = snapshot.events[$0.event]
      return Suspect(
        item: Buffered(event: event, keys: keys(of: event)), confirmations: $0.confirmations,
        contradictions: $0.contradictions)
    }
    restoreCalibration(snapshot)
    watermark = Watermark(snapshot.watermark)
    maxEventTime = snapshot.maxEventTime
    let perRuleAlerts = tallies.alertsByRule
    let perRuleMissing = tallies.missingKeyByRule
    tallies = snapshot.counters
    tallies.alertsByRule = perRuleAlerts
    tallies.missingKeyByRule = perRuleMissing
    // The per-rule counts restored above are whole: nothing is pending per space.
    missingKeys.reset()
    restoreLimitState(snapshot, ruleMapping: ruleMapping)
  }

  /// A partial match restored for a rule with a run queue: queued once every rule is read, in
  /// start order over all keys (``restoreQueues(_:)``).
  private struct QueuedPartial {
    var rule: Int
    var key: KeyID
    var event: EventRecord
    /// Whether the key's last event was not taken (its partial matches past the count wait in
    /// the loop's skip state).
    var skippedLast: Bool
  }

  private func restoreRule(
    _ old: EngineSnapshot.RuleState, into r: Int, keyMap: [KeyID], nodes: [MatchNode], queued: inout [QueuedPartial]
  ) throws(EngineSnapshot.Invalid) {
    tallies.alertsByRule[r] = old.alerts
    tallies.missingKeyByRule[r] = old.missingKey
    rules[r].context.restoreCounts(
      typeErrors: old.typeErrors, arithmeticErrors: old.arithmeticErrors,
      regexLimitHits: old.regexLimitHits, firstTypeError: old.firstTypeError,
      firstRegexLimitPattern: old.firstRegexLimitPattern)
    let program = rules[r].matcher.program
    func computation(_ c: EngineSnapshot.StoredComputation) throws(EngineSnapshot.Invalid) -> Computation {
      guard Int(c.state) < program.nfa.states.count, nodes[c.node].step < program.spec.steps.count else {
        throw EngineSnapshot.Invalid(description: "rule '\(old.name)': state or step out of range")
      }
      var out = Computation(state: StateID(Int(c.state)), bindings: nodes[c.node], start: c.start)
      out.absenceDeadline = c.absenceDeadline
      return out
    }
    for stored in old.keys {
      let key = keyMap[Int(stored.key)]
      guard !keySpaces[rules[r].keySpace].isFree(key) else {
        throw EngineSnapshot.Invalid(description: "rule '\(old.name)' has state for a free key id")
      }
      var state = PartialMatches()
      for c in stored.partials { state.partials.append(try computation(c)) }
      for c in stored.completed { state.completed.append(try computation(c)) }
      guard rules[r].matcher.adopt(&state) else {
        throw EngineSnapshot.Invalid(description: "rule '\(old.name)': partial matches that no run of events can hold")
      }
      if queues[r] == nil { states.ensure(rule: r, count: key.index + 1) }
      if options.limits.keyTTL != nil, !state.isEmpty {
        touchForTTL(rule: r, key: key, at: stored.lastActivity ?? watermark.time)
        if let deadline = stored.ttlDeadline {
          limitState.ttl[r][key.index].scheduled = deadline
          limitState.ttlTimers.schedule(TimerQueue.Timer(deadline: deadline, rule: r, key: key))
        }
      }
      if queues[r] != nil {
        try queue(state, rule: r, key: key, name: old.name, into: &queued)
        continue
      }
      state.scheduledDeadline = stored.scheduledDeadline
      state.isSettled = rules[r].matcher.isSettled(state)
      states[r, key.index] = state
      keySpaces[rules[r].keySpace].setOpen(!state.isEmpty, rule: rules[r].bitInSpace, key: key)
      if let deadline = stored.scheduledDeadline {
        // The queue the timer waited in is not stored: the state picks it, as when it is
        // scheduled. Where the two differ (a rule that rounds while nothing is held, whose key's
        // held matches came or went since), the timer still fires at its deadline, in the same
        // watermark step.
        schedule(TimerQueue.Timer(deadline: deadline, rule: r, key: key), rounded: timerQuantum(rule: r, for: state) > 1)
      }
    }
  }

  /// Checks that `state` (a shared run's, as ``RuleMatcher/adopt(_:)`` leaves it, or a pair
  /// rule's) is what a run queue can hold, and adds its partial matches to `queued`.
  private func queue(
    _ state: PartialMatches, rule r: Int, key: KeyID, name: String, into queued: inout [QueuedPartial]
  ) throws(EngineSnapshot.Invalid) {
    guard state.completed.isEmpty else {
      throw EngineSnapshot.Invalid(description: "rule '\(name)': a match held back by a rule whose time-outs are silent")
    }
    // swift-format-ignore: NeverForceUnwrap
    // Only rules with a shared run or of the pair shape get a queue.
    let queue = queues[r]!
    guard let run = rules[r].matcher.run else {
      // A pair rule's partial matches each wait with their first event alone.
      // swift-format-ignore: NeverForceUnwrap
      // A queue without a shared run is a pair queue.
      let waiting = queue.pair!.waiting
      for partial in state.partials {
        let node = partial.bindings
        guard partial.state == waiting, node.step == 0, node.previous == nil, EventPosition(node.event) == partial.start
        else {
          throw EngineSnapshot.Invalid(description: "rule '\(name)': a partial match in a state its pairs cannot give it")
        }
        queued.append(QueuedPartial(rule: r, key: key, event: node.event, skippedLast: false))
      }
      return
    }
    let n = state.partials.count
    var skipped: Bool? = nil
    for (i, partial) in state.partials.enumerated() {
      let taken = n - i
      let fits: Bool
      if taken < run.counting.count {
        fits = partial.state == run.counting[taken]
      } else {
        let waits = partial.state == run.loopIgnored
        fits = (waits || partial.state == run.loop) && (skipped ?? waits) == waits
        skipped = waits
      }
      guard fits else {
        throw EngineSnapshot.Invalid(description: "rule '\(name)': a partial match in a state its run cannot give it")
      }
    }
    for partial in state.partials {
      queued.append(QueuedPartial(rule: r, key: key, event: partial.bindings.event, skippedLast: skipped ?? false))
    }
  }

  /// Queues the restored partial matches of rules with run queues, oldest first over all keys
  /// (the order the queue's time-outs take them in).
  private func restoreQueues(_ queued: [QueuedPartial]) {
    let ordered = queued.sorted { EventPosition($0.event) < EventPosition($1.event) }
    for partial in ordered {
      // swift-format-ignore: NeverForceUnwrap
      // Only rules with a queue add partial matches here.
      let queue = queues[partial.rule]!
      queue.ensureKey(partial.key.index)
      var event = partial.event
      // Bound by a step whose fields nothing reads (`RuleMatcher.keepsSlots`), the event came
      // without its field values; the queue keeps nulls for them, which nothing reads either.
      if event.slots.count < programs.projection.count { event.slots = EventSlots(nulls: programs.projection.count) }
      queue.append(event, key: partial.key.index)
    }
    for partial in queued {
      // swift-format-ignore: NeverForceUnwrap
      // As above.
      let queue = queues[partial.rule]!
      if partial.skippedLast { queue.markSkipped(key: partial.key.index) }
      keySpaces[rules[partial.rule].keySpace].setOpen(true, rule: rules[partial.rule].bitInSpace, key: partial.key)
      // A key whose TTL timer was not in flight gets one, as ``restoreLimitState(_:ruleMapping:)``
      // gives the general state's keys.
      if options.limits.keyTTL != nil { scheduleTTL(rule: partial.rule, key: partial.key) }
    }
  }

  /// Restores time calibration: the held events are added again in arrival order, which
  /// rebuilds its votes exactly. When this run has the time-skew guard off but the checkpoint
  /// still held events, they stay held and are admitted, in order, with the next event (or at
  /// the end of input): a calibration that trusts its first event does exactly that.
  private func restoreCalibration(_ snapshot: EngineSnapshot) {
    calibratedBase = snapshot.calibratedBase
    guard snapshot.calibrating else {
      calibration = nil
      return
    }
    guard var pending = calibration ?? (snapshot.calibrationHeld.isEmpty ? nil : TimeCalibration(skew: .zero, confirmations: 0, limit: 1))
    else { return }
    for index in snapshot.calibrationHeld {
      let event = snapshot.events[index]
      // A base returned here (options changed since the checkpoint) is found again by the next
      // `add` or by the end of input: the held events are never lost.
      _ = pending.add(Buffered(event: event, keys: keys(of: event)), at: event.time)
    }
    calibration = pending
  }

  /// Recomputes the incremental estimate and restores the eviction order.
  private func restoreLimitState(_ snapshot: EngineSnapshot, ruleMapping: [Int?]) {
    for r in rules.indices {
      for k in states.indices(of: r) where !states[r, k].isEmpty {
        let m = measure(states[r, k], rule: r)
        limitState.partialBytes += m.bytes
        limitState.openStates += 1
        if options.limits.keyTTL != nil { scheduleTTL(rule: r, key: KeyID(k)) }
      }
    }
    guard limitState.isTracking else { return }
    for entry in snapshot.evictionQueue where entry.rule < ruleMapping.count {
      guard let r = ruleMapping[entry.rule] else { continue }
      limitState.evictionQueue.append(LimitState.EvictionEntry(rule: r, key: KeyID(Int(entry.key)), start: entry.start))
    }
    // Open states the old run did not track (no budget then) are queued oldest first.
    var queued = Set(limitState.evictionQueue.map { UInt64($0.rule) << 32 | UInt64($0.key.rawValue) })
    var missing: [LimitState.EvictionEntry] = []
    for r in rules.indices {
      for k in states.indices(of: r) {
        guard let start = states[r, k].partials.first?.start, queued.insert(UInt64(r) << 32 | UInt64(k)).inserted else { continue }
        missing.append(LimitState.EvictionEntry(rule: r, key: KeyID(k), start: start))
      }
    }
    for entry in missing.sorted(by: { $0.start < $1.start }) { limitState.evictionQueue.append(entry) }
  }


  private static func rebuildNodes(_ snapshot: EngineSnapshot) -> [MatchNode] {
    var nodes: [MatchNode] = []
    nodes.reserveCapacity(snapshot.nodes.count)
    for node in snapshot.nodes {
      let previous = node.previous >= 0 ? nodes[node.previous] : nil
      nodes.append(MatchNode(step: node.step, event: snapshot.events[node.event], previous: previous))
    }
    return nodes
  }
}

/// Collects events and match-buffer nodes once each while a snapshot is taken.
private struct SnapshotBuilder {
  var events: [EventRecord] = []
  var eventIndex: [UInt64: Int] = [:]
  var nodes: [EngineSnapshot.Node] = []
  var nodeIndex: [ObjectIdentifier: Int] = [:]
  /// Whether an event given again fills the slots the stored copy lacks (for the partial copies
  /// of events that run queues keep, added last: an event held whole by anything else is
  /// stored whole first).
  var mergesSlots = false

  mutating func add(_ event: EventRecord) -> Int {
    if let i = eventIndex[event.sequence] {
      // A node of a step whose fields nothing reads binds the event without them
      // (`RuleMatcher.keepsSlots`): a copy with them, from another holder, replaces it.
      if events[i].slots.count < event.slots.count {
        events[i] = event
        return i
      }
      if mergesSlots {
        for slot in event.slots.indices where events[i].slots[slot].isNull && !event.slots[slot].isNull {
          events[i].slots[slot] = event.slots[slot]
        }
      }
      return i
    }
    events.append(event)
    eventIndex[event.sequence] = events.count - 1
    return events.count - 1
  }

  /// The node's index, adding it and every not-yet-added node before it (oldest first, without
  /// recursion: chains can be millions long).
  mutating func add(_ node: MatchNode) -> Int {
    var pending: [MatchNode] = []
    var cursor: MatchNode? = node
    var previous = -1
    while let n = cursor {
      if let known = nodeIndex[ObjectIdentifier(n)] {
        previous = known
        break
      }
      pending.append(n)
      cursor = n.previous
    }
    for n in pending.reversed() {
      nodes.append(EngineSnapshot.Node(step: n.step, event: add(n.event), previous: previous))
      previous = nodes.count - 1
      nodeIndex[ObjectIdentifier(n)] = previous
    }
    return previous
  }

  mutating func add(_ computation: Computation) -> EngineSnapshot.StoredComputation {
    EngineSnapshot.StoredComputation(
      state: computation.state.rawValue, node: add(computation.bindings), start: computation.start,
      absenceDeadline: computation.absenceDeadline)
  }

  /// Stores events in sequence order, renumbering the references.
  func finish(into snap: inout EngineSnapshot) {
    let order = events.indices.sorted { events[$0].sequence < events[$1].sequence }
    var renumbered = Array(repeating: 0, count: events.count)
    for (new, old) in order.enumerated() { renumbered[old] = new }
    snap.events = order.map { events[$0] }
    snap.nodes = nodes.map { EngineSnapshot.Node(step: $0.step, event: renumbered[$0.event], previous: $0.previous) }
    snap.buffered = snap.buffered.map { renumbered[$0] }
    for i in snap.suspects.indices { snap.suspects[i].event = renumbered[snap.suspects[i].event] }
    snap.calibrationHeld = snap.calibrationHeld.map { renumbered[$0] }
  }
}
