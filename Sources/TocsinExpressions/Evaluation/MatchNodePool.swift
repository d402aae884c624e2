import TocsinCore

/// Match nodes taken back when their partial match ends, handed out again for the next events.
///
/// Without it every node is a `malloc` when an event is bound and a `free` when the partial match
/// times out or is dropped — often an hour of event time later, when the block is cold and glibc
/// has to merge it with its neighbours (`malloc_consolidate` walks every such block again). The
/// pool keeps up to ``limit`` cleared nodes, last in first out, so a new binding usually reuses
/// the node freed a moment before, still in the cache, and the allocator is not involved.
///
/// A node is taken back only when the pool's caller holds the last reference to it
/// (`isKnownUniquelyReferenced`): a node shared by another partial match, a held match, an alert
/// being built or a trace stays as it is. Taking a node back also takes back its predecessors
/// that it alone kept alive. One pool per rule matcher; not shared between threads.
public final class MatchNodePool {
  /// Cleared nodes ready for reuse (their event and predecessor released).
  @usableFromInline var free: [MatchNode] = []
  /// The most nodes kept; beyond it, released nodes go back to the allocator.
  public let limit: Int
  /// Where a cleared node's event goes when the node held its last reference (set by the
  /// engine when the decoder reuses slot buffers).
  public var slotPool: EventSlots.Pool? {
    didSet { hotSlotPool = slotPool.map { .passUnretained($0) } }
  }
  /// ``slotPool`` without reference counting, for clearing nodes (reading the `var` retained
  /// and released the pool per node); `slotPool` holds the reference.
  private var hotSlotPool: Unmanaged<EventSlots.Pool>?

  /// How many time-outs a retired node waits before it is taken back (``retire(_:)``).
  public static let retireDelay = 8
  /// Nodes retired by the last ``retireDelay`` time-outs, oldest at ``retireIndex`` (a ring;
  /// ``placeholder`` where there is none).
  @usableFromInline var retired: [MatchNode]
  @usableFromInline var retireIndex = 0
  /// Stands in for a retired node in the array element it left and in empty ring entries: it
  /// is never unique (the pool holds it), so it is never taken back.
  @usableFromInline let placeholder: MatchNode

  /// A pool keeping at most `limit` nodes (96 bytes each).
  public init(limit: Int = 4096) {
    self.limit = limit
    free.reserveCapacity(min(limit, 256))
    placeholder = MatchNode(
      step: -1,
      event: EventRecord(time: EventTime(nanosecondsSinceEpoch: 0), sequence: 0, line: 0, identity: "", slots: EventSlots([])),
      previous: nil)
    retired = Array(repeating: placeholder, count: Self.retireDelay)
  }

  /// Nodes waiting for reuse.
  public var count: Int { free.count }

  /// A node binding `event` to `step` after `previous`: a reused one when the pool has one.
  @inlinable
  public func make(step: Int, event: EventRecord, previous: MatchNode?) -> MatchNode {
    guard let node = free.popLast() else { return MatchNode(step: step, event: event, previous: previous) }
    node.rebind(step: step, event: event, previous: previous)
    return node
  }

  /// Takes back the node `reference` points to if `reference` is its last reference, and then
  /// the predecessors that node alone kept alive. `reference` itself is left as it is: the caller
  /// drops it right after (removing the array element holding it), which leaves the pool's
  /// reference the only one.
  @inline(__always)
  public func recycle(ifLast reference: inout MatchNode) {
    guard isKnownUniquelyReferenced(&reference), free.count < limit else { return }
    free.append(reference)
    clear(reference, reserving: 0)
  }

  /// Takes `reference`'s node back like ``recycle(ifLast:)``, but only ``retireDelay`` retirements
  /// later, and leaves a placeholder in `reference` (drop it as usual). For time-outs: a partial
  /// match that times out was bound long ago, so its node is out of the cache, and taking it back
  /// at once waited on that line (the reference-count check was 8% of a W1 run's samples). Here
  /// the reference moves into a small ring without its count being touched, the node's line is
  /// fetched, and the node retired `retireDelay` time-outs ago, now in the cache, is taken back;
  /// halfway through the wait, the nodes and event buffer that taking it back will read next are
  /// fetched too. Taking back later changes nothing but which free node is handed out next.
  @inline(__always)
  public func retire(_ reference: inout MatchNode) {
    var node = placeholder
    swap(&node, &reference)
    MatchNode.prefetch(node)
    let mask = Self.retireDelay - 1
    retired.withUnsafeMutableBufferPointer { ring in
      swap(&node, &ring[retireIndex])
      // Retired half a delay ago: its own line has arrived, so reading its fields waits for
      // nothing; fetch the event buffer and the predecessor taking it back will touch.
      Unmanaged.passUnretained(ring[(retireIndex &+ (mask + 1) / 2) & mask])._withUnsafeGuaranteedRef {
        $0.prefetchForRelease()
      }
    }
    retireIndex = (retireIndex &+ 1) & mask
    recycle(consume node)
  }

  /// Takes back `node` if the caller's reference, given up here, was its last one, and then the
  /// predecessors it alone kept alive.
  @inline(__always)
  public func recycle(_ node: consuming MatchNode) {
    var node = node
    guard isKnownUniquelyReferenced(&node), free.count < limit else { return }
    clear(node, reserving: 1)
    free.append(node)
  }

  /// Releases `node`'s event and walks back through the predecessors it held the last reference
  /// to, keeping them while the pool has room (less `reserved` places).
  @usableFromInline
  func clear(_ node: MatchNode, reserving reserved: Int) {
    dropEvent(of: node)
    var next = node.previous.take()
    while var n = next.take() {
      guard isKnownUniquelyReferenced(&n), free.count + reserved < limit else { return }
      dropEvent(of: n)
      next = n.previous.take()
      free.append(n)
    }
  }

  /// Releases `node`'s event, giving its slot buffer to ``slotPool`` when the node held it last.
  @inline(__always)
  private func dropEvent(of node: MatchNode) {
    guard let pool = hotSlotPool, var event = node.storedEvent.take() else {
      node.storedEvent = nil
      return
    }
    pool._withUnsafeGuaranteedRef { $0.recycle(&event.slots) }
  }
}
