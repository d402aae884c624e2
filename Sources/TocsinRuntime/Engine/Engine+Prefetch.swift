import TocsinCore

/// Prefetching for the release loop (docs/performance.md, "Prefetching").
///
/// An event waits in the reorder buffer for the out-of-orderness bound (seconds of stream), so by
/// the time it is released its field values, its key's open mask, and every rule's state
/// for the key have left the cache; on a stream with 100k keys each is a miss of hundreds of
/// nanoseconds, and `perf` put most of the release loop's time on them. The buffer knows the next
/// event to leave one release ahead (``ReorderBuffer/release(upTo:ahead:_:)``), and processing
/// one event takes microseconds: long enough for the next one's lines to arrive.
extension Engine {
  /// What the release loop prefetches for a buffered event: where its field values lie and its
  /// key in the first four key spaces. Plain data, so reading it costs no reference counting.
  struct ReleaseHint {
    var slots: MemorySpan
    var keys: FourKeyIDs
  }

  /// Prepares `event`'s key lookups (its key's hash and inline form in each key space) and
  /// starts loading the key-table slot each will probe, for when the event arrives. A caller
  /// that decodes a few lines before handing them to the engine (``ReplaySession``) calls this as
  /// each event is decoded: the lookups at arrival, which have nothing else to overlap with, then
  /// find their lines in cache, and each key is hashed once. The engine keeps the preparation
  /// for the event's sequence number (``PreparedArrivals``); preparing changes nothing the engine
  /// does (debug builds check every prepared probe against a fresh one).
  @inline(__always)
  public func prepareArrival(of event: EventRecord) {
    let sequence = event.sequence
    // Read once, outside the closure (inside, each read was an exclusivity check of `routing`).
    let deferring = routing.deferring
    // One access to the array for all spaces (each `keySpaces[i]` access checks its uniqueness).
    keySpaces.withUnsafeMutableBufferPointer { spaces in
      // Two loops: with the prefetch a constant, the common one costs what it did before keys
      // were deferred (a test per space cost W2 ~30 instructions per event).
      if deferring == 0 {
        for space in 0..<min(spaces.count, PreparedArrivals.spaces) {
          prepared.record(spaces[space].probe(of: event, prefetching: true), space: space, sequence: sequence)
        }
      } else {
        for space in 0..<min(spaces.count, PreparedArrivals.spaces) {
          // A space that defers keys looks them up at release, which fetches the slot then.
          let probe = spaces[space].probe(of: event, prefetching: false)
          if deferring & (1 << UInt64(space)) == 0 { spaces[space].prefetch(for: probe) }
          prepared.record(probe, space: space, sequence: sequence)
        }
      }
    }
  }

  /// The key probes of one event in the first key spaces (up to ``PreparedArrivals/spaces``),
  /// computed where the event was decoded (``ArrivalProber``).
  /// Plain data (with where the event's field values lie and its sequence number), so handing
  /// it around costs no reference counting.
  public struct ArrivalProbes {
    fileprivate var probes: (KeySpace.Probe, KeySpace.Probe, KeySpace.Probe, KeySpace.Probe) =
      (.missing, .missing, .missing, .missing)
    fileprivate var slots: MemorySpan?
    /// The sequence number of the event they were computed for, which the engine matches them
    /// to on arrival: set by whoever numbers the events (`--workers 2` decodes batches out of
    /// order and numbers their events as it consumes them).
    public var sequence: UInt64 = 0

    /// Where the tuple of probes lies: they are homogeneous, so it is laid out as an array.
    /// Computed, not stored: a stored `static let` is read through `swift_once`, a call per event.
    fileprivate static var probesOffset: Int {
      // swift-format-ignore: NeverForceUnwrap
      // A stored property of a struct always has an offset.
      MemoryLayout<ArrivalProbes>.offset(of: \.probes)!
    }

    /// Nothing to prepare (for a line that is not an event).
    public init() {}
  }

  /// Computes events' key probes away from the engine: on `--workers 2`'s decoding thread, while
  /// the event is still in that core's cache. Holds copies of the key spaces' slots and hash
  /// seeds (plain data: the engine's tables stay on the engine's thread). Hand the probes to
  /// ``prepareArrival(_:)``.
  public struct ArrivalProber: Sendable {
    fileprivate let spaces: [(slots: [SlotIndex], hasher: KeyHasher)]
    /// Per key space, its one key field when it has one (most do): probed without passing the
    /// field list on, which retained and released it per event.
    fileprivate let singleSlots: [SlotIndex?]

    fileprivate init(spaces: [(slots: [SlotIndex], hasher: KeyHasher)]) {
      self.spaces = spaces
      singleSlots = spaces.map { $0.slots.count == 1 ? $0.slots[0] : nil }
    }

    /// Sets `probes` to those of `event`'s keys, in place (they are ~190 bytes: returned by
    /// value, they were copied once more into the batch).
    public func fill(_ probes: inout ArrivalProbes, of event: EventRecord) {
      probes.slots = event.slots.memorySpan
      probes.sequence = event.sequence
      withUnsafeMutableBytes(of: &probes.probes) { raw in
        let out = raw.bindMemory(to: KeySpace.Probe.self)
        // Through the buffer: `for space in spaces` copied each entry (a retain and a release
        // of its slot list per event and key space).
        spaces.withUnsafeBufferPointer { spaces in
          for i in spaces.indices {
            if let slot = singleSlots[i] {
              out[i] = KeySpace.probe(of: event, slot: slot, hasher: spaces[i].hasher)
            } else {
              out[i] = KeySpace.probe(of: event, slots: spaces[i].slots, hasher: spaces[i].hasher)
            }
          }
        }
      }
    }
  }

  /// A prober for this engine's key spaces (valid while they keep their tables, i.e. for the
  /// engine's lifetime: a checkpoint restore makes a new engine).
  public func arrivalProber() -> ArrivalProber {
    ArrivalProber(
      spaces: keySpaces.prefix(PreparedArrivals.spaces).map { ($0.slots, $0.table.hasher) })
  }

  /// ``prepareArrival(of:)`` with the probes computed elsewhere (``ArrivalProber``): records
  /// them for the event they were made for, and starts loading the key-table slots they will
  /// probe and the event's field values. Nothing of the event is read here, so an event fresh
  /// from the decoding thread's core costs no wait. Does nothing for empty probes (not an event).
  ///
  /// Through a pointer: the probes are ~190 bytes, and passing them by value copied them out of
  /// the decoded batch for every line (a `memmove`, ~2% of a `--workers 2` run's samples).
  @inline(__always)
  public func prepareArrival(_ probes: UnsafePointer<ArrivalProbes>) {
    guard let slots = probes.pointee.slots else { return }
    slots.prefetch()
    let sequence = probes.pointee.sequence
    let given = (UnsafeRawPointer(probes) + ArrivalProbes.probesOffset).assumingMemoryBound(to: KeySpace.Probe.self)
    let deferring = routing.deferring
    keySpaces.withUnsafeMutableBufferPointer { spaces in
      for space in 0..<min(spaces.count, PreparedArrivals.spaces) {
        if deferring & (1 << UInt64(space)) == 0 { spaces[space].prefetch(for: given[space]) }
        prepared.record(given[space], space: space, sequence: sequence)
      }
    }
  }

  /// The hint stored with `item` when it enters the buffer.
  @inline(__always)
  func releaseHint(for item: Buffered) -> ReleaseHint {
    ReleaseHint(slots: item.event.slots.memorySpan, keys: item.keys.firstFour)
  }

  /// One link of the chain of loads the event behind `hint` will need, each reading only what
  /// the previous link asked for a release earlier (``ReorderBuffer/Lookahead``):
  /// - `.second`: its field values, and its keys' open masks;
  /// - `.next`: the state slot of each rule the masks say is open for its key.
  ///
  /// The partial matches those slots point to are not fetched ahead: a third link for them,
  /// after the current event's processing, cost ~120 instructions per W1 event and bought
  /// nothing measurable on W1, W2 or W5 (docs/performance.md, session 37). The walk fetches a
  /// key's partial matches' nodes all at once instead (`prefetchNodes()`).
  @inline(__always)
  func prefetch(for hint: ReleaseHint, _ distance: ReorderBuffer<Buffered, ReleaseHint>.Lookahead) {
    switch distance {
    case .second:
      hint.slots.prefetch()
      for space in 0..<routing.hintedSpaces {
        if let key = hint.keys[space] {
          hotMasks[space]._withUnsafeGuaranteedRef { $0.prefetch(key.index) }
        } else if let bits = hint.keys.deferredBits(space) {
          // A deferred key: the release looks it up if the space may hold it, or interns it if a
          // match starts; both read this slot first.
          keySpaces[space].prefetch(presenceBits: bits)
        }
      }
    case .next:
      forEachOpenRule(hint) { prefetchState(rule: $0, key: $1) }
      if !runQueuedRules.isEmpty { prefetchQueuedKeys(for: hint) }
    }
  }

  /// Calls `body` with each rule that has state for the hint's key in the rule's space: the set
  /// bits of each space's open mask, then any rules past the tracked ones.
  ///
  /// The spaces' count and those with untracked rules are read from ``Routing``, computed once:
  /// reading them from `keySpaces` and `rulesBySpace` for each space, in each of the two calls
  /// per event, cost ~18 instructions per W1 event (callgrind).
  @inline(__always)
  private func forEachOpenRule(_ hint: ReleaseHint, _ body: (Int, KeyID) -> Void) {
    for space in 0..<routing.hintedSpaces {
      guard let key = hint.keys[space] else { continue }
      var open = openRules(space: space, key: key)
      while open != 0 {
        body(routing.ruleAt[space &* KeySpace.trackedRules &+ open.trailingZeroBitCount], key)
        open &= open &- 1
      }
    }
    for space in routing.spacesPastTrackedRules {
      guard let key = hint.keys[space] else { continue }
      for r in rulesBySpace[space][KeySpace.trackedRules...] { body(r, key) }
    }
  }

  /// The same chain through a batch of timers due together, handled in order: while timer `i`
  /// is handled, timer `i + 2`'s state slot and timer `i + 1`'s partial matches are fetched.
  @inline(__always)
  func prefetchAhead(in timers: [TimerQueue.Timer], after i: Int) {
    if i + 2 < timers.count { prefetchState(rule: timers[i + 2].rule, key: timers[i + 2].key) }
    if i + 1 < timers.count { prefetchPartials(rule: timers[i + 1].rule, key: timers[i + 1].key) }
  }

  /// Starts loading rule `r`'s state slot for `key` (``PartialMatches``, in the rule's buffer),
  /// or for a rule with a pair queue the key's counts and recent entry numbers there.
  @inline(__always)
  func prefetchState(rule r: Int, key: KeyID) {
    if let slot = states.address(of: r, key.index) {
      MemoryHint.prefetch(slot)
    } else if let queue = hotQueues[r] {
      queue._withUnsafeGuaranteedRef { queue in
        if let run = queue.address(ofKey: key.index) { MemoryHint.prefetch(run) }
      }
    }
  }

  /// Starts loading the first lines of rule `r`'s partial matches for `key`: the buffer its state
  /// slot points to. Reads the slot, so it should be cached (``prefetchState(rule:key:)`` a few
  /// microseconds earlier). The buffer's address is read as a bit pattern — no reference is
  /// copied, so no reference count is touched — and used only as a hint.
  @inline(__always)
  func prefetchPartials(rule r: Int, key: KeyID) {
    guard let slot = states.address(of: r, key.index) else { return }
    prefetchQueuedStart(rule: r, key: key.index, slot: slot)
    let buffer = UnsafeRawPointer(slot).load(fromByteOffset: Self.partialsOffset, as: UInt.self)
    guard let start = UnsafeRawPointer(bitPattern: buffer) else { return }
    MemoryHint.prefetch(start, bytes: 2 * MemoryHint.lineBytes)
  }

  /// Where ``PartialMatches/partials`` (an array: one reference to its buffer) lies in the state.
  /// Computed, not stored: a stored `static let` is read through `swift_once`, a call per use.
  private static var partialsOffset: Int {
    // swift-format-ignore: NeverForceUnwrap
    // A stored property of a struct always has an offset.
    MemoryLayout<PartialMatches>.offset(of: \PartialMatches.partials)!
  }
}
