import TocsinCore
import TocsinExpressions

/// Bookkeeping of the state limits (``StateLimits``), kept apart from the matching state.
///
/// Everything here is O(1) per event and (rule, key) except the drops themselves:
/// - the budget estimate is maintained incrementally from the counts of each touched key's
///   state before and after it changed (``Engine/measure(_:rule:)``), never by walking all keys;
/// - the eviction order is a FIFO of `(rule, key, oldest partial start)` entries appended when a
///   key's oldest partial match changes; an entry whose key has moved on is stale and skipped,
///   and the FIFO is compacted when stale entries outnumber live ones;
/// - idle keys are found by one TTL timer per open (rule, key), rescheduled lazily when it fires
///   early (the key saw events since).
struct LimitState {
  /// One (rule, key)'s idle-time bookkeeping (only with a TTL).
  struct KeyTTL {
    /// Time of the last event of this key the rule processed.
    var lastActivity = EventTime.negativeInfinity
    /// The deadline of the TTL timer in flight for this key, if any.
    var scheduled: EventTime?
  }

  /// A candidate for budget eviction.
  struct EvictionEntry: Equatable {
    var rule: Int
    var key: KeyID
    /// The key's oldest partial match's start when the entry was made; stale if it changed.
    var start: EventPosition
  }

  /// The size of one state's contribution to the estimate, and its oldest partial.
  struct Measure {
    var bytes = 0
    var oldest: EventPosition?
    var isEmpty = true
  }

  var isTracking = false
  var partialBytes = 0
  var openStates = 0
  var evictionQueue = EvictionQueue()
  var isEvicting = false
  /// Per rule, indexed by key id; only filled with a TTL.
  var ttl: [[KeyTTL]] = []
  let ttlTimers = TimerQueue()
  /// `state_limit` actions not yet handed to the caller.
  var pendingActions: [EngineAction] = []
  /// Estimated bytes per (rule, key) with state, per stored computation, per further bound
  /// node, per buffered event.
  var stateBytes = 0
  var computationBytes = 0
  var nodeBytes = 0
  var eventBytes = 0
  /// Per key space: estimated bytes per key id (ids are reused once reclaimed, never freed).
  var keyBytes: [Int] = []
}

extension Engine {
  /// Sets the per-item costs of the estimate from the rule set's shape and the sizes of the
  /// stored types. Each heap object is charged as glibc's malloc stores it (``mallocChunk``),
  /// and arrays that grow by doubling are charged twice their element size; the figures were
  /// checked against valgrind massif on the adversarial test (docs/operations.md, "State limits").
  func configureLimits() {
    let value = MemoryLayout<Value>.stride
    let slots = programs.projection.count + 2  // the time and id fields may add two
    // One event's slot buffer (object header, count, values), plus an allowance of 32 bytes for
    // string values too long to be stored inline.
    let slotBuffer = Self.mallocChunk(16 + 8 + value * slots) + 32
    let record = MemoryLayout<EventRecord>.stride
    limitState.eventBytes = 2 * (record + 32) + slotBuffer  // reorder slab entry and heap entry
    // A match-buffer node: object header, step, event record, previous, length; and its event.
    limitState.nodeBytes = Self.mallocChunk(16 + 8 + record + 8 + 8) + slotBuffer
    // A computation in its key's array (capacity up to twice the count) and its first node.
    limitState.computationBytes = 2 * MemoryLayout<Computation>.stride + limitState.nodeBytes
    // The array of partial matches itself (header and malloc overhead).
    limitState.stateBytes = Self.mallocChunk(32 + MemoryLayout<Computation>.stride)
    limitState.isTracking = options.limits.maxStateBytes != nil
    var rulesPerSpace = Array(repeating: 0, count: keySpaces.count)
    for rule in rules { rulesPerSpace[rule.keySpace] += 1 }
    let perRule = MemoryLayout<PartialMatches>.stride + (options.limits.keyTTL != nil ? MemoryLayout<LimitState.KeyTTL>.stride : 0)
    limitState.keyBytes = keySpaces.indices.map { i in
      // Arrays indexed by id (text, values, open mask, per rule state), charged twice for
      // doubling; the key table's 32-byte slots (id, hash, pin, inline key; at most half full,
      // doubling: up to 4).
      let perID = MemoryLayout<String>.stride + value * keySpaces[i].slots.count + 8 + perRule * rulesPerSpace[i]
      return 2 * perID + 4 * KeyTable.slotBytes
    }
    if options.limits.keyTTL != nil { limitState.ttl = Array(repeating: [], count: rules.count) }
  }

  /// The size glibc's malloc takes for a request of `bytes`: the request plus an 8-byte header,
  /// rounded up to 16, at least 32.
  static func mallocChunk(_ bytes: Int) -> Int { max(32, (bytes + 8 + 15) & ~15) }

  /// The estimated size of the engine's state in bytes: open and held matches (one computation
  /// and one match-buffer node each, plus every further node of each open chain), buffered and
  /// suspect events, and interned keys. An estimate from counts, not a measurement: a node shared
  /// by several partial matches is counted once per partial match (an upper bound).
  public var estimatedStateBytes: Int {
    var keys = 0
    for i in keySpaces.indices {
      keys += keySpaces[i].idCount * limitState.keyBytes[i] + keySpaces[i].textHeapBytes
    }
    return limitState.partialBytes + (buffer.count + suspects.count) * limitState.eventBytes + keys
  }

  /// The contribution of `state` to ``estimatedStateBytes``.
  @inline(__always)
  func measure(_ state: PartialMatches, rule r: Int) -> LimitState.Measure {
    let stored = state.partials.count + state.completed.count
    guard stored > 0 else { return LimitState.Measure() }
    // Every node of every open chain beyond its head: an upper bound (shared prefixes count
    // once per partial match), so the budget holds even when chains diverge (a hot key under
    // `followed_by_any` + `one_or_more`). O(partial matches), like the deadline scan next to it.
    // A shared run holds exactly one node per partial match, each its head.
    var chain = 0
    if !rules[r].matcher.sharesRuns {
      for partial in state.partials { chain += partial.bindings.length - 1 }
    }
    return LimitState.Measure(
      bytes: limitState.stateBytes + stored * limitState.computationBytes + chain * limitState.nodeBytes,
      oldest: state.partials.first?.start, isEmpty: false)
  }

  /// Updates the estimate and the eviction FIFO after a (rule, key)'s state changed.
  func stateChanged(rule r: Int, key: KeyID, from before: LimitState.Measure) {
    let after = measure(states[r, key.index], rule: r)
    limitState.partialBytes += after.bytes - before.bytes
    if before.isEmpty != after.isEmpty { limitState.openStates += after.isEmpty ? -1 : 1 }
    if let oldest = after.oldest, oldest != before.oldest {
      limitState.evictionQueue.append(LimitState.EvictionEntry(rule: r, key: key, start: oldest))
    }
  }

  /// Drops the oldest partial matches of a (rule, key) beyond the per-key cap, right after an
  /// event was processed; held matches they were holding back are emitted through `emit`.
  func capPartials(rule r: Int, key: KeyID, emit: RuleMatcher.Emit) {
    let cap = options.limits.maxPartialsPerKey
    let excess = states[r, key.index].partials.count - cap
    guard excess > 0 else { return }
    let oldest = states[r, key.index].partials[0].start.time
    let matcher = rules[r].matcher
    matcher.dropOldest(excess, from: &states[r, key.index])
    matcher.releaseHeld(&states[r, key.index], emit: emit)
    recordDrop(rule: r, key: key, limit: .partialsPerKey, dropped: excess, oldest: oldest)
  }

  /// Records a TTL activity of `key` for rule `r` at `time` (only called with a TTL).
  func touchForTTL(rule r: Int, key: KeyID, at time: EventTime) {
    if limitState.ttl[r].count <= key.index {
      limitState.ttl[r].append(
        contentsOf: repeatElement(LimitState.KeyTTL(), count: key.index + 1 - limitState.ttl[r].count))
    }
    limitState.ttl[r][key.index].lastActivity = time
  }

  /// After a (rule, key) was processed: makes sure an open state has a TTL timer in flight.
  func scheduleTTL(rule r: Int, key: KeyID) {
    guard let ttl = options.limits.keyTTL, key.index < limitState.ttl[r].count,
      limitState.ttl[r][key.index].scheduled == nil, holdsState(rule: r, key: key)
    else { return }
    let deadline = limitState.ttl[r][key.index].lastActivity + ttl
    limitState.ttl[r][key.index].scheduled = deadline
    limitState.ttlTimers.schedule(TimerQueue.Timer(deadline: deadline, rule: r, key: key))
  }

  /// Drops the open partial matches of (rule, key)s idle since `now − ttl`.
  func expireIdleKeys(now: EventTime, collect: (Alert) -> Void) {
    guard let ttl = options.limits.keyTTL else { return }
    var due: [TimerQueue.Timer] = []
    limitState.ttlTimers.popExpired(upTo: now, into: &due)
    for timer in due {
      let r = timer.rule
      let k = timer.key.index
      guard limitState.ttl[r][k].scheduled == timer.deadline else { continue }
      limitState.ttl[r][k].scheduled = nil
      let open = openPartials(rule: r, key: timer.key)
      guard open > 0 else { continue }
      if limitState.ttl[r][k].lastActivity + ttl <= now {
        dropOldest(rule: r, key: timer.key, count: open, limit: .keyTTL, collect: collect)
      } else {
        scheduleTTL(rule: r, key: timer.key)
      }
    }
  }

  /// Brings the estimate back to 90% of the budget by dropping oldest partial matches.
  func enforceBudget(collect: (Alert) -> Void) {
    guard let budget = options.limits.maxStateBytes, !limitState.isEvicting else { return }
    let total = estimatedStateBytes
    if total > tallies.limits.peakStateBytes { tallies.limits.peakStateBytes = total }
    guard total > budget else { return }
    limitState.isEvicting = true
    defer { limitState.isEvicting = false }
    let target = budget / 10 * 9
    // Keys with no state go first: reclaiming them loses nothing. (Their ids are reused, so the
    // estimate, which counts ids, stops growing rather than falling.)
    sweepForBudget()
    while estimatedStateBytes > target {
      guard let entry = limitState.evictionQueue.popFirst() else {
        tallies.limits.budgetUnreclaimable += 1
        break
      }
      guard entry.key.index < states.count(of: entry.rule),
        states[entry.rule, entry.key.index].partials.first?.start == entry.start
      else { continue }
      dropOldest(rule: entry.rule, key: entry.key, count: 1, limit: .stateBudget, collect: collect)
    }
    compactEvictionQueue()
  }

  /// Drops stale FIFO entries once they outnumber twice the open states (each check reads the
  /// entry's state slot, cold since the oldest keys come first, so it runs only then).
  func compactEvictionQueue() {
    guard limitState.evictionQueue.count > 2 * limitState.openStates + 1024 else { return }
    limitState.evictionQueue.removeAll { entry in
      entry.key.index >= states.count(of: entry.rule)
        || states[entry.rule, entry.key.index].partials.first?.start != entry.start
    }
  }

  /// Drops the `count` oldest partial matches of (rule, key) through ``withKey``, so timers,
  /// open masks, the estimate and held matches are all updated the usual way.
  func dropOldest(rule r: Int, key: KeyID, count: Int, limit: StateLimitKind, collect: (Alert) -> Void) {
    if let queue = queues[r] {
      dropQueued(queue, rule: r, key: key, count: count, limit: limit)
      return
    }
    let n = min(count, states[r, key.index].partials.count)
    guard n > 0 else { return }
    let oldest = states[r, key.index].partials[0].start.time
    withKey(rule: r, key: key) { matcher, _, _, state, emit in
      matcher.dropOldest(n, from: &state)
      matcher.releaseHeld(&state, emit: emit)
    } collect: { collect($0) }
    recordDrop(rule: r, key: key, limit: limit, dropped: n, oldest: oldest)
    reclaimIfIdle(space: rules[r].keySpace, key: key)
  }

  /// Reports `dropped` partial matches of (rule, key) dropped by `limit`, the oldest started at
  /// `oldest`: counted in the run's counters, and a `state_limit` action for the caller.
  func recordDrop(rule r: Int, key: KeyID, limit: StateLimitKind, dropped: Int, oldest: EventTime) {
    switch limit {
    case .partialsPerKey: tallies.limits.droppedByKeyCap += dropped
    case .keyTTL: tallies.limits.droppedByKeyTTL += dropped
    case .stateBudget: tallies.limits.droppedByBudget += dropped
    }
    limitState.pendingActions.append(
      .stateLimit(
        StateLimitDrop(
          ruleIndex: r, rule: rules[r].matcher.program.name,
          key: keySpaces[rules[r].keySpace].text(of: key), limit: limit, dropped: dropped,
          oldestStart: oldest, watermark: watermark.time)))
  }

  /// Hands pending `state_limit` actions to the caller.
  @inline(__always)
  func flushLimitActions(into actions: inout [EngineAction]) {
    guard !limitState.pendingActions.isEmpty else { return }
    actions.append(contentsOf: limitState.pendingActions)
    limitState.pendingActions.removeAll(keepingCapacity: true)
  }
}

/// The eviction FIFO of ``LimitState``: a ring, so an entry taken from the front gives its room
/// back at once. As an array whose consumed prefix was dropped now and then, it held up to
/// twice the open states and regrew by doubling: on the adversarial test (~1M open keys) 64 MB,
/// and ~5% of the run's samples in the page faults and copies of its growth and compaction.
struct EvictionQueue: Sequence {
  typealias Entry = LimitState.EvictionEntry
  /// The ring: `count` entries from `head`, wrapping; its length a power of two (or zero).
  private var ring: [Entry] = []
  private var head = 0
  /// Entries queued.
  private(set) var count = 0

  /// What fills the ring's unused room.
  private static let vacant = Entry(rule: 0, key: KeyID(0), start: EventPosition(time: .negativeInfinity, sequence: 0))

  /// Queues `entry` at the back.
  mutating func append(_ entry: Entry) {
    if count == ring.count { resize(to: Swift.max(16, 2 * ring.count)) }
    ring[(head + count) & (ring.count - 1)] = entry
    count += 1
  }

  /// Takes the front entry.
  mutating func popFirst() -> Entry? {
    guard count > 0 else { return nil }
    let entry = ring[head]
    head = (head + 1) & (ring.count - 1)
    count -= 1
    return entry
  }

  /// Drops the entries `shouldRemove` picks, keeping the order of the others; the ring shrinks
  /// to twice what is left (at least 16).
  mutating func removeAll(where shouldRemove: (Entry) -> Bool) {
    let kept = filter { !shouldRemove($0) }
    var capacity = 16
    while capacity < 2 * kept.count { capacity *= 2 }
    ring = kept + repeatElement(Self.vacant, count: capacity - kept.count)
    head = 0
    count = kept.count
  }

  /// The entries in order, front first.
  struct Iterator: IteratorProtocol {
    fileprivate let ring: [Entry]
    fileprivate let head: Int
    fileprivate let count: Int
    fileprivate var i = 0

    mutating func next() -> Entry? {
      guard i < count else { return nil }
      defer { i += 1 }
      return ring[(head + i) & (ring.count - 1)]
    }
  }

  func makeIterator() -> Iterator { Iterator(ring: ring, head: head, count: count) }

  var underestimatedCount: Int { count }

  /// Moves the entries, in order, to a ring of `capacity` (a power of two, at least `count`).
  private mutating func resize(to capacity: Int) {
    var bigger: [Entry] = []
    bigger.reserveCapacity(capacity)
    bigger.append(contentsOf: self)
    bigger.append(contentsOf: repeatElement(Self.vacant, count: capacity - count))
    ring = bigger
    head = 0
  }
}
