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
  public var slotPool: EventSlots.Pool?

  /// A pool keeping at most `limit` nodes (96 bytes each).
  public init(limit: Int = 4096) {
    self.limit = limit
    free.reserveCapacity(min(limit, 256))
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
    guard let slotPool, var event = node.storedEvent.take() else {
      node.storedEvent = nil
      return
    }
    slotPool.recycle(&event.slots)
  }
}
