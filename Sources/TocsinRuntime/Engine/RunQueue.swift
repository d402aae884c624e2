import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The partial matches of one shared-run rule (``SharedRun``) over all its keys, as one queue of
/// the events that started them, in release order, with per-key counts: no match node, list or
/// timer per partial match.
///
/// Why one queue serves every key. A shared run's partial matches are its matching events, one
/// each, and every one has the same window (`within`). Events are released in time order, so
/// the rule's partial matches over all keys, oldest first, *are* a FIFO: they time out from its
/// head. A key needs only counts: its partial matches are its newest `count` entries, linked
/// back from its newest (``Entry/previous``), and partial match `i` (oldest first) has
/// `count − i` events. So:
///
/// - a matching event appends one entry (sequential memory) and bumps its key's count;
/// - time-outs pop the head while it is past its window; each popped entry names its key, whose
///   counts the loop fetches entries ahead (the queue is read in order, so the misses are
///   independent rather than a chain of slot, list, node and event);
/// - a skip strategy or the per-key cap drops a key's oldest entries by raising its count of
///   removed entries; they stay queued, dead, until the head passes them (an entry is live when
///   its ordinal among its key's entries is at least the key's removed count);
/// - match nodes are built only when a match is emitted, by walking the key's entries back.
///
/// An entry keeps only what an alert reads of its event: the time, sequence, line and identity,
/// and the slots the rule's `emit` and `suppress … by` read (``keptSlots``), not the event's
/// slot buffer. The rule's condition reads only the event being tested, so nothing else of a
/// held event is ever read again, and the buffer goes back to the decoder at once.
///
/// **Pair queues.** The same layout holds a rule of the pair shape (``PairShape``: `begin a
/// followed_by_any b within W`, or `followed_by b`, perhaps after `not_followed_by n`), whose
/// partial matches are its `a` events of the last `W`, all waiting in one state (``pair``). An
/// `a` appends; a candidate event walks the key's live entries oldest first
/// (``walkLive(key:_:)``) and evaluates the later steps' conditions against each one's kept
/// values (compiled for them: ``Pair/Test``), with no match node. A `followed_by` match or the
/// negation ends its entry (``end(_:key:)``), which stays queued, dead, like a dropped one;
/// otherwise only time-outs, the per-key cap and the TTL remove entries. Entries then also keep
/// the slots of `a` that the conditions read.
///
/// Used only for rules whose time-outs nobody sees (``RuleMatcher/endsSilently``) and whose
/// skip strategy keeps the queue's shape (``Engine/runQueue(for:rule:bitInSpace:programs:options:)``).
/// Everything observable is what the rule's ``SharedRun`` or general walk gives; `RunQueueTests`,
/// `PairQueueTests` and `CheckpointReplayTests` replay the same streams with and without queues.
final class RunQueue {
  /// One partial match: the event that started it.
  struct Entry {
    /// The event's position: the partial match's start.
    var start: EventPosition
    var line: Int
    var identity: EventIdentity
    /// The number of the key's previous live entry (meaningful only while this one is live and
    /// not the key's oldest live entry): ended entries are taken out of the chain
    /// (``RunQueue/walkLive(key:_:)``).
    var previous: UInt64
    var key: UInt32
    /// Its position among its key's entries (wrapping).
    var ordinal: UInt32
  }

  /// A key's counts, 16 bytes: the first half of its record (``RunQueue/keyRecordBytes``), whose
  /// other half in a pair queue holds its ended count and recent entry numbers.
  struct KeyRun {
    /// The number of the key's newest (in a pair queue: newest live) entry; its top bit set when
    /// the last event the rule saw for the key was not taken (partial matches past the count
    /// wait in the loop's skip state).
    var newest: UInt64 = 0
    /// Entries appended for the key, and removed from its oldest end, ever (wrapping).
    var appended: UInt32 = 0
    var removed: UInt32 = 0

    /// Queued entries: the live ones, and in a pair queue also those ended early
    /// (``RunQueue/end(_:key:)``) that the key's oldest end has not passed yet.
    @inline(__always)
    var queued: Int { Int(appended &- removed) }

    static var skippedBit: UInt64 { 1 << 63 }
  }

  /// What a pair queue needs of its rule's later steps (``PairShape``).
  /// A class, read through ``hotPair``: as a struct, reading it out of the queue for each event
  /// copied it, retaining and releasing every condition and filter it holds (~1.3% of a W2
  /// replay's samples in `swift_retain` and `swift_release` under the release loop).
  final class Pair {
    /// A condition compiled against an entry's kept values (``ExprCompiler/kept``).
    struct Test {
      /// `nil` when the step accepts every event.
      let condition: Condition?
      /// Whether it reads the first event (`a.field`, `time(a)`). One that does not holds or
      /// fails for every entry alike, and is evaluated once per event, as the general walk does.
      let readsFirst: Bool
      /// For one that does, what the event alone can tell of it (``PairFilter``): that it is
      /// false for every entry, so the walk can be left out.
      let filter: PairFilter?
    }

    /// The state a partial match waits in (checkpoints write it).
    let waiting: StateID
    /// The second event's step (alerts bind it there).
    let second: Int
    /// The second step's condition.
    let take: Test
    /// The condition of a `not_followed_by` step between the two, if any: an event it holds for
    /// ends the partial match.
    let negation: Test?
    /// Whether a condition reads the first event's time (set per entry, then).
    let readsStartTime: Bool
    /// Whether a match consumes its partial match (`followed_by`: it takes the first `b` and
    /// stops waiting) rather than leaving it open (`followed_by_any`).
    let consumes: Bool
    /// Whether the second step is `next`: the key's next event the rule sees ends its partial
    /// match whether or not it completes it, so a key has at most one, its newest entry.
    let strict: Bool

    init(
      waiting: StateID, second: Int, take: Test, negation: Test?, readsStartTime: Bool, consumes: Bool, strict: Bool
    ) {
      self.waiting = waiting
      self.second = second
      self.take = take
      self.negation = negation
      self.readsStartTime = readsStartTime
      self.consumes = consumes
      self.strict = strict
    }

    /// Whether either condition has a filter (``PairFilter``).
    var hasFilters: Bool { take.filter != nil || negation?.filter != nil }

    /// Whether entries can end before they time out (a consuming match, a negation, `next`): an
    /// ended entry is marked where its kept values lie, leaves its key's chain, and stays queued,
    /// dead, until the head or the key's oldest end passes it, so the queue stays a FIFO.
    var endsEntries: Bool { consumes || negation != nil || strict }
  }

  /// For a pair queue, its second step; `nil` for a shared run's queue.
  let pair: Pair?
  /// ``pair`` unretained, for the per-event path (``pair`` holds the reference).
  let hotPair: Unmanaged<Pair>?
  /// The rule's window.
  let within: EventDuration
  /// Events taken before a partial match completes (`N` of `times N+`).
  let needed: Int
  /// The slots an alert of the rule reads, kept with each entry.
  let keptSlots: [SlotIndex]
  /// Slots of a rebuilt event (the projection's width).
  let slotCount: Int
  /// The kept positions whose value kinds ``keptKinds(_:)`` tracks (those a pair filter's
  /// checked comparisons read: ``PairFilter/trackedPositions``).
  private let trackedPositions: [Int]
  /// Per kept position, the kinds of the values entries have kept there (``PairFilter/kind(of:)``
  /// bits), since the queue began: only ever more, so a kind is never missed.
  private let kinds: UnsafeMutablePointer<UInt8>

  /// The entries: entry number `s` lies at `s & mask`; numbers `head..<tail` are queued.
  private var entries: UnsafeMutablePointer<Entry>
  /// Per entry, its kept slot values at `(s & mask) · width`: `keptSlots.count` of them, and
  /// in a pair queue whose entries can end early (``Pair/endsEntries``) one more, its end mark
  /// (`.bool(true)` once a match took it or the negation stopped it).
  private var values: UnsafeMutablePointer<Value>
  /// Values per entry.
  private let width: Int
  /// ``SmallString/isAvailable``, read once: kept values that hold no reference (numbers, short
  /// strings) are copied in and dropped as bits (``Value/initialize(_:copying:smallStrings:)``).
  private let smallStrings = SmallString.isAvailable
  /// Where an entry's end mark lies among its values (after its kept slots), in a pair queue
  /// whose entries can end early (``Pair/endsEntries``); `nil` otherwise.
  private let endMark: Int?
  private var mask: UInt64
  private(set) var head: UInt64 = 1
  private(set) var tail: UInt64 = 1
  /// This queue's time in the engine's ``TimeOutFloor``, lowered by an append into the empty
  /// queue; ``TimeOutFloor/Cell/none`` for a queue on its own.
  var timeOutFloor = TimeOutFloor.Cell.none
  /// Per key id, its record (``KeyRecords``): its counts (``KeyRun``), then in a pair queue four
  /// words: the number of its queued entries that ended early, and the low 32 bits of the
  /// numbers of its ``recentCount`` newest live entries, newest first. One record, not the counts
  /// in one array and the words in another: a pair step reads both for every key it reaches, and
  /// as two arrays that was two cache misses per rule and event (~37% of the pair step's samples
  /// on W2). A shared run's queue has the counts alone (16 bytes: at 32, W1's `card_velocity`
  /// ran 1.5% slower).
  ///
  /// The records of the queues of one key space lie side by side, a block per key
  /// (``useKeyRecords(_:offset:)``): an event of the key reaches the records of several of its
  /// space's queues, and each in an array of its own was a cache miss of its own.
  private var records: KeyRecords
  private var hotRecords: Unmanaged<KeyRecords>
  /// Where this queue's record lies in a key's block.
  private var recordOffset = 0
  /// Bytes per key record: 32 in a pair queue, 16 otherwise.
  let keyRecordBytes: Int
  /// Whether the queue is a pair queue's (its key records' four words in use). The recent
  /// numbers let the walk find a key's newest live entries without following links back: a
  /// chain of loads each waiting on the one before, which took most of the walk's time on W5.
  /// Older live entries are still found along the links. Three, not seven: seven ran W5 no
  /// faster (1,194 against 1,208 ms of task-clock, medians of 7 interleaved runs) and cost 12 MiB
  /// more of its peak RSS.
  private var isPair: Bool { hotPair != nil }
  static var recentCount: Int { 3 }
  /// Live entries over all keys (the rule's open partial matches).
  private(set) var live = 0
  /// Walks a pair filter left out (``Engine/pairWalksFiltered``).
  private(set) var filteredWalks = 0
  /// Entries walks gathered, over all walks (``Engine/pairEntriesWalked``).
  private(set) var walkedEntries = 0
  /// The filters' trial (``usesFilters()``): walks asked of them in the current trial, how many
  /// they left out, and how many walks are left before the next trial while they rest.
  private var filterTries = 0
  private var filterHits = 0
  private var filterRest = 0
  /// Walks per trial, and walks the filters rest after a trial in which they left out fewer than
  /// one in eight.
  static var filterTrial: Int { 4096 }
  static var filterRestLength: Int { 65536 }

  /// Whether a walk about to come asks its filters first. A filter whose free conjuncts the
  /// events keep passing (`type == "purchase"` where the step guard already lets only purchases
  /// through: W5's `w5_card_escalation`) costs its evaluation and saves nothing. So the
  /// filters are tried for ``filterTrial`` walks, and rest for ``filterRestLength`` walks when
  /// they left out fewer than one in eight, then are tried again. Either way the output is the
  /// same: a filter only ever leaves out a walk that would change nothing.
  @inline(__always)
  func usesFilters() -> Bool {
    guard filterRest == 0 else {
      filterRest -= 1
      return false
    }
    return true
  }

  /// Records whether the filters left out a walk they were asked about.
  @inline(__always)
  func recordFilterOutcome(ruledOut: Bool) {
    filterTries &+= 1
    if ruledOut {
      filterHits &+= 1
      filteredWalks &+= 1
    }
    guard filterTries == Self.filterTrial else { return }
    if filterHits &* 8 < filterTries { filterRest = Self.filterRestLength }
    filterTries = 0
    filterHits = 0
  }

  /// Room for a key's live entry numbers while a pair queue walks them (``walkLive(key:_:)``).
  private var walk: UnsafeMutablePointer<UInt64>
  private var walkCapacity = 16

  init(within: EventDuration, needed: Int, keptSlots: [SlotIndex], slotCount: Int, pair: Pair? = nil) {
    // The sizes docs/architecture.md and docs/operations.md give.
    assert(MemoryLayout<Entry>.stride == 56 && MemoryLayout<KeyRun>.stride == 16, "run queue layout changed: update the docs")
    self.within = within
    self.needed = needed
    self.keptSlots = keptSlots
    self.slotCount = slotCount
    self.pair = pair
    hotPair = pair.map { .passUnretained($0) }
    let filters = [pair?.take.filter, pair?.negation?.filter].compactMap { $0 }
    trackedPositions = Array(Set(filters.flatMap(\.trackedPositions))).sorted()
    kinds = .allocate(capacity: max(1, keptSlots.count))
    kinds.initialize(repeating: 0, count: max(1, keptSlots.count))
    endMark = pair?.endsEntries == true ? keptSlots.count : nil
    width = keptSlots.count + (endMark == nil ? 0 : 1)
    walk = .allocate(capacity: 16)
    mask = 255
    (entries, values) = Self.allocateRing(capacity: 256, width: width)
    keyRecordBytes = pair != nil ? 32 : 16
    records = KeyRecords(layout: [keyRecordBytes])
    hotRecords = .passUnretained(records)
  }

  /// Keeps this queue's key records at `offset` in each key's block of `shared` (the records of
  /// its key space's queues: ``KeyRecords/init(layout:)``), before any key is used.
  func useKeyRecords(_ shared: KeyRecords, offset: Int) {
    precondition(tail == 1 && offset % keyRecordBytes == 0 && offset + keyRecordBytes <= shared.stride)
    records = shared
    hotRecords = .passUnretained(shared)
    recordOffset = offset
  }

  deinit {
    while head < tail { discardHead() }
    Self.deallocateRing(entries, values, capacity: Int(mask + 1), width: width)
    walk.deallocate()
    kinds.deallocate()
  }

  // MARK: - Keys

  /// Gives key ids up to `k` their counts (and every other queue sharing the records theirs).
  @inline(__always)
  func ensureKey(_ k: Int) {
    hotRecords._withUnsafeGuaranteedRef { if k >= $0.capacity { $0.grow(toHold: k) } }
  }

  /// Room for a ring of `capacity` entries and their kept values (`width` per entry), from
  /// ``HugePages`` (a ring a long window holds is read at random by a pair queue's walks).
  private static func allocateRing(
    capacity: Int, width: Int
  ) -> (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<Value>) {
    let entries = HugePages.allocate(byteCount: capacity * MemoryLayout<Entry>.stride, alignment: 64)
      .bindMemory(to: Entry.self, capacity: capacity)
    let values = HugePages.allocate(byteCount: valueBytes(capacity: capacity, width: width), alignment: 64)
      .bindMemory(to: Value.self, capacity: capacity * width)
    return (entries, values)
  }

  /// Frees a ring from ``allocateRing(capacity:width:)`` (its entries and values already
  /// deinitialised or moved out).
  private static func deallocateRing(
    _ entries: UnsafeMutablePointer<Entry>, _ values: UnsafeMutablePointer<Value>, capacity: Int, width: Int
  ) {
    HugePages.deallocate(UnsafeMutableRawPointer(entries), byteCount: capacity * MemoryLayout<Entry>.stride)
    HugePages.deallocate(UnsafeMutableRawPointer(values), byteCount: valueBytes(capacity: capacity, width: width))
  }

  /// The bytes of a ring's kept values (at least one, for a queue that keeps none).
  private static func valueBytes(capacity: Int, width: Int) -> Int {
    max(1, capacity * width) * MemoryLayout<Value>.stride
  }

  /// Key `k`'s record (`k` below the records' capacity).
  @inline(__always)
  private func record(_ k: Int) -> UnsafeMutableRawPointer {
    hotRecords._withUnsafeGuaranteedRef { $0.base + (k &* $0.stride &+ recordOffset) }
  }

  /// Key `k`'s counts (`k` below the records' capacity).
  @inline(__always)
  private func run(_ k: Int) -> UnsafeMutablePointer<KeyRun> {
    record(k).assumingMemoryBound(to: KeyRun.self)
  }

  /// Whether key `k` has a record (an id below the records' capacity).
  @inline(__always)
  private func hasRecord(_ k: Int) -> Bool {
    hotRecords._withUnsafeGuaranteedRef { k < $0.capacity }
  }

  /// Where key `k`'s counts lie, `nil` for an id never seen (for cache hints).
  @inline(__always)
  func address(ofKey k: Int) -> UnsafeMutablePointer<KeyRun>? { hasRecord(k) ? run(k) : nil }

  /// Key `k`'s live entries (its open partial matches).
  @inline(__always)
  func count(ofKey k: Int) -> Int {
    guard hasRecord(k) else { return 0 }
    guard isPair else { return run(k).pointee.queued }
    return run(k).pointee.queued &- Int(endedCount(ofKey: k).pointee)
  }

  /// Whether the last event the rule saw for key `k` was not taken.
  func skippedLast(key k: Int) -> Bool { run(k).pointee.newest & KeyRun.skippedBit != 0 }

  /// Records that the rule saw an event for key `k` it did not take.
  @inline(__always)
  func markSkipped(key k: Int) { run(k).pointee.newest |= KeyRun.skippedBit }

  // MARK: - Entries

  /// Appends `event` as key `k`'s newest partial match (`ensureKey(k)` first).
  @inline(__always)
  func append(_ event: EventRecord, key k: Int) {
    if tail - head > mask { grow() }
    let s = tail
    let run = run(k)
    let slot = Int(s & mask)
    // The lines 8 appends on, for the stores then (as `StartQueue.push(_:key:)`'s).
    MemoryHint.prefetch(entries + Int((s &+ 8) & mask))
    if width > 0 { MemoryHint.prefetch(values + Int((s &+ 8) & mask) &* width) }
    // A short identity (W1's event ids) is copied as its bits, and left as it is when the entry
    // goes (``discardHead()``): no reference count call for a string that holds no reference.
    // In line, not through a helper returning the string: that cost 3.6 instructions per W1
    // event here.
    let bits = SmallString.bits(of: event.identity)
    let identity = smallStrings && SmallString.isSmall(bits) ? SmallString.string(bits: bits) : event.identity
    (entries + slot).initialize(
      to: Entry(
        start: EventPosition(event), line: event.line, identity: identity,
        previous: run.pointee.newest & ~KeyRun.skippedBit, key: UInt32(truncatingIfNeeded: k),
        ordinal: run.pointee.appended))
    if width > 0 {
      let kept = values + slot &* width
      for (i, index) in keptSlots.enumerated() {
        event.slots.withUnsafeValue(at: index.index) { Value.initialize(kept + i, copying: $0, smallStrings: smallStrings) }
      }
      if let endMark { (kept + endMark).initialize(to: .null) }
      for i in 0..<trackedPositions.count {
        let p = trackedPositions[i]
        kinds[p] |= PairFilter.kind(of: kept[p])
      }
    }
    if isPair {
      // Newest first: the key's newest live entries move down a place.
      let recent = recentNumbers(ofKey: k)
      for j in stride(from: Self.recentCount - 1, to: 0, by: -1) { recent[j] = recent[j - 1] }
      recent[0] = UInt32(truncatingIfNeeded: s)
    }
    tail = s &+ 1
    // The head's time-out is the queue's earliest (entries come in time order): only a first
    // entry can lower the floor.
    if s == head { timeOutFloor.lower(to: event.time + within) }
    run.pointee.newest = s
    run.pointee.appended &+= 1
    live += 1
  }

  /// Doubles the room, keeping every entry's number.
  @inline(never)
  private func grow() {
    // Both blocks grow where they are, keeping every entry's number
    // (``HugePages/doubleRing(_:capacity:width:queued:)``); `valueBytes` sizes them the same way.
    let capacity = Int(mask + 1)
    entries = HugePages.doubleRing(entries, capacity: capacity, queued: head..<tail)
    values = HugePages.doubleRing(values, capacity: capacity, width: width, queued: head..<tail)
    mask = mask << 1 | 1
  }

  /// Entry number `s` (queued).
  @inline(__always)
  func entry(_ s: UInt64) -> UnsafeMutablePointer<Entry> { entries + Int(s & mask) }

  /// Key `k`'s live entries, oldest first, following the links back from its newest (the live
  /// ones only: see ``walkLive(key:_:)``).
  func liveEntries(key k: Int) -> [UInt64] {
    var numbers = Array(repeating: UInt64(0), count: count(ofKey: k))
    var s = run(k).pointee.newest & ~KeyRun.skippedBit
    for i in stride(from: numbers.count - 1, through: 0, by: -1) {
      numbers[i] = s
      if i > 0 { s = entry(s).pointee.previous }
    }
    return numbers
  }

  /// The number of key `k`'s live entry `back` places behind its newest (it has more than
  /// `back`), along the links.
  private func liveEntry(key k: Int, back: Int) -> UInt64 {
    var s = run(k).pointee.newest & ~KeyRun.skippedBit
    for _ in 0..<back { s = entry(s).pointee.previous }
    return s
  }

  /// The number of key `k`'s oldest live entry (it has one). (No array: the per-key cap asks
  /// for it on every event of a key at its cap.)
  func oldestEntry(key k: Int) -> UInt64 { liveEntry(key: k, back: count(ofKey: k) - 1) }

  /// Whether queued entry `s` ended early (only in a pair queue whose entries can:
  /// ``Pair/endsEntries``).
  @inline(__always)
  func isEnded(_ s: UInt64) -> Bool {
    guard let endMark else { return false }
    return values[Int(s & mask) &* width &+ endMark].isTrue
  }

  /// Marks key `k`'s live entry `s` ended (taken by a match under `followed_by`, or stopped by
  /// the negation): it is no longer live, and stays queued until the head or the key's oldest
  /// end passes it.
  @inline(__always)
  func end(_ s: UInt64, key k: Int) {
    assert(!isEnded(s))
    // swift-format-ignore: NeverForceUnwrap
    // Only a queue whose entries can end is asked to end one.
    values[Int(s & mask) &* width &+ endMark!] = .bool(true)
    endedCount(ofKey: k).pointee &+= 1
    live -= 1
  }

  /// The kinds of the values entries have kept at position `position` since the queue began,
  /// for a tracked position (``trackedPositions``).
  @inline(__always)
  func keptKinds(_ position: Int) -> UInt8 { kinds[position] }

  /// Entry `s`'s kept values, in ``keptSlots``' order.
  @inline(__always)
  func keptValues(_ s: UInt64) -> UnsafePointer<Value> { UnsafePointer(values + Int(s & mask) &* width) }

  /// Calls `body` with the number of each of key `k`'s live entries, oldest first (a pair
  /// queue's walk); `body` may end the entry it is given. The numbers are gathered first (the
  /// three newest from its recent numbers, any older along the links back) and their kept values
  /// fetched together, so the body's loads do not wait on one another.
  ///
  /// The links join live entries only. An entry that ends is taken out of its key's chain once
  /// the walk that ended it is over (the newer live entry's link is pointed past it, the recent
  /// numbers rewritten), so no later walk passes over it: a key whose partial matches keep ending
  /// (a user logging in and out all day under "a login, no logout, then a large purchase") would
  /// otherwise walk every ended entry of its window on every event. The ended entry stays
  /// queued, dead, until the head passes it, counted among the key's ended entries.
  @inline(__always)
  func walkLive(key k: Int, _ body: (UInt64) -> Void) {
    // Only a pair queue walks.
    let recent = recentNumbers(ofKey: k)
    let count = count(ofKey: k)
    guard count > 0 else { return }
    walkedEntries &+= count
    if count > walkCapacity { growWalk(to: count) }
    let inline = min(count, Self.recentCount)
    let low = UInt32(truncatingIfNeeded: tail)
    for j in 0..<inline {
      // The entry's number from its low bits: queued numbers lie within 2³² below the tail.
      let s = tail &- UInt64(low &- recent[j])
      walk[count - 1 - j] = s
      if width > 0 { MemoryHint.prefetch(values + Int(s & mask) &* width) }
    }
    if count > inline {
      var s = walk[count - inline]
      for i in stride(from: count - inline - 1, through: 0, by: -1) {
        s = entries[Int(s & mask)].previous
        walk[i] = s
        if width > 0 { MemoryHint.prefetch(values + Int(s & mask) &* width) }
      }
    }
    guard endMark != nil else {
      for i in 0..<count { body(walk[i]) }
      return
    }
    let ended = endedCount(ofKey: k).pointee
    for i in 0..<count { body(walk[i]) }
    if endedCount(ofKey: k).pointee != ended { unlinkEnded(key: k, walked: count) }
  }

  /// Where a pair queue keeps key `k`'s count of queued entries that ended early
  /// (``end(_:key:)``) and the head has not passed: the first word after its counts in its record.
  @inline(__always)
  private func endedCount(ofKey k: Int) -> UnsafeMutablePointer<UInt32> {
    (record(k) + MemoryLayout<KeyRun>.stride).assumingMemoryBound(to: UInt32.self)
  }

  /// Where a pair queue keeps key `k`'s recent live entry numbers, newest first: the words after
  /// its ended count.
  @inline(__always)
  private func recentNumbers(ofKey k: Int) -> UnsafeMutablePointer<UInt32> {
    endedCount(ofKey: k) + 1
  }

  /// Takes the entries a walk over key `k`'s `walked` live entries (``walk``, oldest first) ended
  /// out of the key's chain: each live one linked to the live one before it, the key's newest
  /// and recent numbers set to the live ones.
  @inline(never)
  private func unlinkEnded(key k: Int, walked: Int) {
    var n = 0
    for i in 0..<walked where !isEnded(walk[i]) {
      walk[n] = walk[i]
      n += 1
    }
    for i in stride(from: 1, to: n, by: 1) { entries[Int(walk[i] & mask)].previous = walk[i - 1] }
    guard n > 0 else { return }
    run(k).pointee.newest = walk[n - 1]
    let recent = recentNumbers(ofKey: k)
    for j in 0..<min(n, Self.recentCount) { recent[j] = UInt32(truncatingIfNeeded: walk[n - 1 - j]) }
  }

  @inline(never)
  private func growWalk(to count: Int) {
    walk.deallocate()
    walkCapacity = max(count, 2 * walkCapacity)
    walk = .allocate(capacity: walkCapacity)
  }

  /// Entry `s`'s event as alerts see it: its time, sequence, line and identity, and its kept
  /// slots (the others null).
  func event(_ s: UInt64) -> EventRecord {
    let e = entry(s)
    // Written into the slot buffer itself: an array of nulls first, then the buffer made from
    // it, cost a second allocation and a copy of every slot (~1,000 instructions an alert).
    var slots = EventSlots(nulls: slotCount)
    let kept = values + Int(s & mask) &* width
    for (i, index) in keptSlots.enumerated() { slots[index.index] = kept[i] }
    return EventRecord(
      time: e.pointee.start.time, sequence: e.pointee.start.sequence, line: e.pointee.line, identity: e.pointee.identity,
      slots: slots)
  }

  /// Drops key `k`'s `n` oldest live entries (at most all); they stay queued, dead.
  @inline(__always)
  func dropOldest(_ n: Int, key k: Int) {
    let n = min(n, count(ofKey: k))
    guard endMark != nil else {
      run(k).pointee.removed &+= UInt32(truncatingIfNeeded: n)
      live -= n
      return
    }
    guard n > 0 else { return }
    // The oldest end moves past the `n`-th oldest live entry, and past the ended entries queued
    // before it, which then no longer count as ended: every ordinal from the key's removed count
    // up to that entry's is queued, live or ended, so the ended ones are the rest.
    let through = entry(liveEntry(key: k, back: count(ofKey: k) - n)).pointee.ordinal &+ 1
    let passed = Int(through &- run(k).pointee.removed)
    endedCount(ofKey: k).pointee &-= UInt32(truncatingIfNeeded: passed - n)
    run(k).pointee.removed = through
    live -= n
  }

  // MARK: - Time-outs

  /// When the head entry times out (``popExpired(upTo:ahead:emptied:)`` pops it once the
  /// watermark reaches it); ``EventTime/infinity`` when the queue is empty.
  var headTimeOut: EventTime {
    head < tail ? entries[Int(head & mask)].start.time + within : .infinity
  }

  /// Pops every entry whose window has closed by `now` (`start + within <= now`: a shared run's
  /// time-out), calling `emptied` with each key left without live entries. Each pop first hands
  /// `ahead` the key of the entry 8 places on, for a cache hint (what `emptied` will touch).
  @inline(__always)
  func popExpired(upTo now: EventTime, ahead: (Int) -> Void = { _ in }, emptied: (Int) -> Void) {
    while head < tail {
      let e = entries + Int(head & mask)
      guard e.pointee.start.time + within <= now else { return }
      popHead(ahead: ahead, emptied: emptied)
    }
  }

  /// Pops the head: a live entry is its key's oldest, so the key's removed count passes it.
  @inline(__always)
  private func popHead(ahead aheadKey: (Int) -> Void, emptied: (Int) -> Void) {
    // The entries are read in order but were written a window ago: their lines are fetched 16
    // entries ahead (with their kept values), and the key counts they name 8 ahead, from
    // entries fetched 8 pops earlier.
    let far = head &+ 16
    if far < tail {
      MemoryHint.prefetch(entries + Int(far & mask))
      if width > 0 { MemoryHint.prefetch(values + Int(far & mask) &* width) }
    }
    let ahead = head &+ 8
    if ahead < tail {
      let k = Int(entries[Int(ahead & mask)].key)
      MemoryHint.prefetch(run(k))
      aheadKey(k)
    }
    let e = entries + Int(head & mask)
    let run = run(Int(e.pointee.key))
    // Live: its ordinal is at or past the key's removed count (wrapping arithmetic).
    if e.pointee.ordinal &- run.pointee.removed < 1 << 31 {
      run.pointee.removed = e.pointee.ordinal &+ 1
      if isEnded(head) {
        // Not live: only its count of ended entries goes.
        endedCount(ofKey: Int(e.pointee.key)).pointee &-= 1
      } else {
        live -= 1
        if count(ofKey: Int(e.pointee.key)) == 0 { emptied(Int(e.pointee.key)) }
      }
    }
    discardHead()
  }

  /// Deinitialises the head entry and moves past it.
  @inline(__always)
  private func discardHead() {
    let slot = Int(head & mask)
    // An entry's one reference is its identity: a short string holds none, and the entry's
    // memory is then left as it is, no `swift_bridgeObjectRelease` call.
    if !(smallStrings && SmallString.isSmall(entries[slot].identity)) {
      (entries + slot).deinitialize(count: 1)
    }
    if width > 0 { Value.deinitialize(values + slot &* width, count: width, smallStrings: smallStrings) }
    head &+= 1
  }
}

/// The key records of the run and pair queues of one key space (``RunQueue``), a block per key
/// id: each queue's record at its offset in the block (its layout), every block zero bytes
/// until a queue writes its record (a key with no entries). Grown for all its queues at once,
/// where it lies (``HugePages/reallocate``: the added blocks read as zeros).
///
/// A record of 32 bytes lies at an offset that is a multiple of 32 and one of 16 at a multiple
/// of 16, and the block's size is a multiple of 32 (or 16 for a lone shared run's queue), so no
/// record straddles two cache lines of the line-aligned memory.
final class KeyRecords {
  private(set) var base: UnsafeMutableRawPointer
  /// Key ids with a block.
  private(set) var capacity: Int
  /// Bytes per key's block.
  let stride: Int
  /// Each queue's offset in a block, in the order of the layout given.
  let offsets: [Int]

  /// Blocks for records of the given sizes (16 or 32 bytes each), the 32-byte ones first.
  init(layout recordBytes: [Int]) {
    precondition(recordBytes.allSatisfy { $0 == 16 || $0 == 32 })
    var offsets = Array(repeating: 0, count: recordBytes.count)
    var next = 0
    for size in [32, 16] {
      for (i, bytes) in recordBytes.enumerated() where bytes == size {
        offsets[i] = next
        next += bytes
      }
    }
    self.offsets = offsets
    stride = next <= 16 ? max(next, 16) : (next + 31) & ~31
    capacity = 256
    base = HugePages.allocate(byteCount: capacity * stride, alignment: 64)
    // Each record's counts bound as a ``RunQueue/KeyRun``, its pair words (in a 32-byte record)
    // as `UInt32`s, all zero: a key with no entries. Blocks added by growing read as zeros.
    for k in 0..<capacity {
      for (offset, bytes) in zip(offsets, recordBytes) {
        let record = base + (k * stride + offset)
        record.initializeMemory(as: RunQueue.KeyRun.self, repeating: RunQueue.KeyRun(), count: 1)
        if bytes == 32 { (record + 16).initializeMemory(as: UInt32.self, repeating: 0, count: 4) }
      }
    }
  }

  deinit { HugePages.deallocate(base, byteCount: capacity * stride) }

  /// Gives key ids up to `k` their blocks.
  @inline(never)
  func grow(toHold k: Int) {
    var grown = capacity
    while grown <= k { grown *= 2 }
    base = HugePages.reallocate(base, from: capacity * stride, to: grown * stride, alignment: 64)
    capacity = grown
  }
}
