import TocsinCore

/// One event bound to one step of a partial match: a node of the shared match buffer.
///
/// A partial match is a pointer to its most recent node; `previous` links back to the first
/// event. Nodes are immutable and reference counted, so partial matches that branch from a common
/// prefix (a loop that both continues and proceeds, or several starts sharing history) share that
/// prefix instead of copying event lists — the SASE "stack" / Flink `SharedBuffer` idea with ARC
/// doing the reference counting. An event bound by several partial matches is stored once per
/// node, and the node's `EventRecord` shares its slot array storage (copy-on-write) with every
/// other node holding the same event.
///
/// Memory per node: one object header (16 bytes) + step (8) + event (~72 bytes inline plus the
/// shared slot array) + previous (8).
public final class MatchNode {
  /// The step (0-based, declaration order) the event was bound to.
  public let step: Int
  /// The event.
  public let event: EventRecord
  /// The node bound just before this one, or `nil` for the match's first event.
  public let previous: MatchNode?
  /// Number of nodes in the chain ending here (1 for the first event).
  public let length: Int

  /// Binds `event` to `step` after `previous`.
  public init(step: Int, event: EventRecord, previous: MatchNode?) {
    self.step = step
    self.event = event
    self.previous = previous
    self.length = (previous?.length ?? 0) + 1
  }

  /// The most recent node bound to `step`, walking back from `self`.
  /// - Complexity: O(length).
  @inlinable public func latest(boundTo step: Int) -> MatchNode? {
    var node: MatchNode? = self
    while let n = node {
      if n.step == step { return n }
      node = n.previous
    }
    return nil
  }

  /// The chain in match order (first event first).
  public var nodesInOrder: [MatchNode] {
    var out: [MatchNode] = []
    out.reserveCapacity(length)
    var node: MatchNode? = self
    while let n = node {
      out.append(n)
      node = n.previous
    }
    out.reverse()  // in place: `reversed()` made a second array
    return out
  }

  /// The first node of the chain.
  public var first: MatchNode {
    var node = self
    while let p = node.previous { node = p }
    return node
  }
}
