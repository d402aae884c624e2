import TocsinCore
import TocsinRuntime

/// The checkpoint sections holding an ``EngineSnapshot`` (ids 4–9, 12 and 14 of ``Checkpoint/Section``).
enum EngineSnapshotCoding {
  typealias SectionWriter = (UInt32, (inout BinaryWriter) -> Void) -> Void

  static func encode(_ snap: EngineSnapshot, section: SectionWriter) {
    section(Checkpoint.Section.events.rawValue) { w in
      w.count(snap.events.count)
      for event in snap.events {
        w.time(event.time)
        w.varint(event.sequence)
        w.count(event.line)
        w.string(event.identity)
        w.count(event.slots.count)
        for value in event.slots { w.value(value) }
      }
    }
    section(Checkpoint.Section.nodes.rawValue) { w in
      w.count(snap.nodes.count)
      for node in snap.nodes {
        w.count(node.step)
        w.count(node.event)
        w.count(node.previous + 1)
      }
    }
    section(Checkpoint.Section.keySpaces.rawValue) { w in
      w.count(snap.keySpaces.count)
      for space in snap.keySpaces {
        w.count(space.fields.count)
        for field in space.fields { w.fieldPath(field) }
        w.count(space.count)
        for value in space.values { w.value(value) }
      }
    }
    section(Checkpoint.Section.ruleStates.rawValue) { w in
      w.count(snap.rules.count)
      for rule in snap.rules {
        w.string(rule.name)
        w.count(rule.keySpace)
        for n in [rule.alerts, rule.missingKey, rule.typeErrors, rule.arithmeticErrors, rule.regexLimitHits] {
          w.count(n)
        }
        w.optionalString(rule.firstTypeError)
        w.optionalString(rule.firstRegexLimitPattern)
        w.count(rule.keys.count)
        for key in rule.keys {
          w.varint(UInt64(key.key))
          for list in [key.partials, key.completed] {
            w.count(list.count)
            for c in list {
              w.varint(UInt64(c.state))
              w.count(c.node)
              position(c.start, &w)
              w.optionalTime(c.absenceDeadline)
            }
          }
          w.optionalTime(key.scheduledDeadline)
          w.optionalTime(key.lastActivity)
          w.optionalTime(key.ttlDeadline)
        }
      }
    }
    section(Checkpoint.Section.buffers.rawValue) { w in
      w.count(snap.buffered.count)
      for index in snap.buffered { w.count(index) }
      w.count(snap.suspects.count)
      for suspect in snap.suspects {
        w.count(suspect.event)
        w.count(suspect.confirmations)
        w.count(suspect.contradictions)
      }
      w.count(snap.evictionQueue.count)
      for entry in snap.evictionQueue {
        w.count(entry.rule)
        w.varint(UInt64(entry.key))
        position(entry.start, &w)
      }
    }
    section(Checkpoint.Section.engine.rawValue) { w in
      w.time(snap.watermark)
      w.time(snap.maxEventTime)
      let c = snap.counters
      for n in [
        c.eventsIn, c.eventsProcessed, c.late, c.missingKey, c.timeSkewed, c.timeJumpsAccepted,
        c.peakBuffered, c.limits.droppedByKeyCap, c.limits.droppedByKeyTTL, c.limits.droppedByBudget,
        c.limits.budgetUnreclaimable, c.limits.peakStateBytes,
      ] {
        w.count(n)
      }
    }
    section(Checkpoint.Section.freeKeys.rawValue) { w in
      w.count(snap.keySpaces.count)
      for space in snap.keySpaces {
        w.count(space.reclaimed)
        w.count(space.free.count)
        for id in space.free { w.varint(UInt64(id)) }
      }
    }
    section(Checkpoint.Section.calibration.rawValue) { w in
      w.count(snap.calibrating ? 1 : 0)
      w.count(snap.calibrationHeld.count)
      for index in snap.calibrationHeld { w.count(index) }
      w.time(snap.calibratedBase)
    }
  }

  private static func position(_ p: EventPosition, _ w: inout BinaryWriter) {
    w.time(p.time)
    w.varint(p.sequence)
  }

  private static func position(_ r: inout BinaryReader) throws -> EventPosition {
    let time = try r.time()
    return EventPosition(time: time, sequence: try r.varint())
  }

  /// Decodes the snapshot; `openOptional` gives sections a file may lack (written before they
  /// existed), which then keep their defaults.
  static func decode(
    _ open: (Checkpoint.Section) throws -> BinaryReader, openOptional: (Checkpoint.Section) -> BinaryReader?
  ) throws -> EngineSnapshot {
    var snap = EngineSnapshot()
    var r = try open(.events)
    let eventCount = try r.count()
    snap.events.reserveCapacity(eventCount)
    for _ in 0..<eventCount {
      let time = try r.time()
      let sequence = try r.varint()
      let line = try r.count(limit: Int.max)
      let identity = try r.string()
      var slots: [Value] = []
      for _ in 0..<(try r.count()) { slots.append(try r.value()) }
      snap.events.append(
        EventRecord(time: time, sequence: sequence, line: line, identity: identity, slots: EventSlots(slots)))
    }
    r = try open(.nodes)
    let nodeCount = try r.count()
    snap.nodes.reserveCapacity(nodeCount)
    for _ in 0..<nodeCount {
      let step = try r.count(limit: Int(Int32.max))
      let event = try r.count(limit: Int.max)
      let previous = try r.count(limit: Int.max) - 1
      snap.nodes.append(EngineSnapshot.Node(step: step, event: event, previous: previous))
    }
    r = try open(.keySpaces)
    for _ in 0..<(try r.count()) {
      var fields: [FieldPath] = []
      for _ in 0..<(try r.count()) { fields.append(try r.fieldPath()) }
      let count = try r.count(limit: Int.max)
      let valueCount = fields.count * count
      guard valueCount <= r.remaining else { throw BinaryDecodingError(description: "key space too large") }
      var values: [Value] = []
      values.reserveCapacity(valueCount)
      for _ in 0..<valueCount { values.append(try r.value()) }
      snap.keySpaces.append(EngineSnapshot.KeySpaceState(fields: fields, values: values, count: count))
    }
    r = try open(.ruleStates)
    for _ in 0..<(try r.count()) {
      let name = try r.string()
      let keySpace = try r.count()
      var numbers: [Int] = []
      for _ in 0..<5 { numbers.append(try r.count(limit: Int.max)) }
      let firstTypeError = try r.optionalString()
      let firstRegex = try r.optionalString()
      var keys: [EngineSnapshot.KeyState] = []
      for _ in 0..<(try r.count()) {
        let key = try r.varint()
        guard key <= UInt64(UInt32.max) else { throw BinaryDecodingError(description: "key id out of range") }
        var lists: [[EngineSnapshot.StoredComputation]] = []
        for _ in 0..<2 {
          var list: [EngineSnapshot.StoredComputation] = []
          for _ in 0..<(try r.count()) {
            let state = try r.varint()
            guard state <= UInt64(UInt32.max) else { throw BinaryDecodingError(description: "state id out of range") }
            let node = try r.count(limit: Int.max)
            let start = try position(&r)
            list.append(
              EngineSnapshot.StoredComputation(
                state: UInt32(state), node: node, start: start, absenceDeadline: try r.optionalTime()))
          }
          lists.append(list)
        }
        keys.append(
          EngineSnapshot.KeyState(
            key: UInt32(key), partials: lists[0], completed: lists[1],
            scheduledDeadline: try r.optionalTime(), lastActivity: try r.optionalTime(),
            ttlDeadline: try r.optionalTime()))
      }
      snap.rules.append(
        EngineSnapshot.RuleState(
          name: name, keySpace: keySpace, alerts: numbers[0], missingKey: numbers[1],
          typeErrors: numbers[2], arithmeticErrors: numbers[3], regexLimitHits: numbers[4],
          firstTypeError: firstTypeError, firstRegexLimitPattern: firstRegex, keys: keys))
    }
    r = try open(.buffers)
    for _ in 0..<(try r.count()) { snap.buffered.append(try r.count(limit: Int.max)) }
    for _ in 0..<(try r.count()) {
      snap.suspects.append(
        EngineSnapshot.Suspect(
          event: try r.count(limit: Int.max), confirmations: try r.count(limit: Int.max),
          contradictions: try r.count(limit: Int.max)))
    }
    for _ in 0..<(try r.count()) {
      let rule = try r.count(limit: Int.max)
      let key = try r.varint()
      guard key <= UInt64(UInt32.max) else { throw BinaryDecodingError(description: "key id out of range") }
      snap.evictionQueue.append(EngineSnapshot.EvictionEntry(rule: rule, key: UInt32(key), start: try position(&r)))
    }
    r = try open(.engine)
    snap.watermark = try r.time()
    snap.maxEventTime = try r.time()
    var n: [Int] = []
    for _ in 0..<12 { n.append(try r.count(limit: Int.max)) }
    var c = snap.counters
    (c.eventsIn, c.eventsProcessed, c.late, c.missingKey, c.timeSkewed, c.timeJumpsAccepted) = (n[0], n[1], n[2], n[3], n[4], n[5])
    c.peakBuffered = n[6]
    c.limits.droppedByKeyCap = n[7]
    c.limits.droppedByKeyTTL = n[8]
    c.limits.droppedByBudget = n[9]
    c.limits.budgetUnreclaimable = n[10]
    c.limits.peakStateBytes = n[11]
    snap.counters = c
    if var r = openOptional(.freeKeys) {
      guard try r.count() == snap.keySpaces.count else {
        throw BinaryDecodingError(description: "free key ids for a different number of key spaces")
      }
      for i in snap.keySpaces.indices {
        snap.keySpaces[i].reclaimed = try r.count(limit: Int.max)
        for _ in 0..<(try r.count()) {
          let id = try r.varint()
          guard id < UInt64(snap.keySpaces[i].count) else { throw BinaryDecodingError(description: "free key id out of range") }
          snap.keySpaces[i].free.append(UInt32(id))
        }
      }
    }
    if var r = openOptional(.calibration) {
      snap.calibrating = try r.count(limit: 1) == 1
      for _ in 0..<(try r.count()) { snap.calibrationHeld.append(try r.count(limit: Int.max)) }
      snap.calibratedBase = try r.time()
    }
    return snap
  }
}
