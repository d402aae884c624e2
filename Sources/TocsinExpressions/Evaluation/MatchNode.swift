import TocsinCore

/// One event bound to one step of a partial match: a node of the shared match buffer.
///
/// A partial match is a pointer to its most recent node; `previous` links back to the first
/// event. Nodes are reference counted, so partial matches that branch from a common prefix (a
/// loop that both continues and proceeds, or several starts sharing history) share that prefix
/// instead of copying event lists — the SASE "stack" / Flink `SharedBuffer` idea with ARC doing
/// the reference counting. A node is immutable while anything refers to it; only a
/// ``MatchNodePool`` that holds the last reference clears it and hands it out again. An event
/// bound by several partial matches is stored once per node, and the node's `EventRecord` shares
/// its slot storage with every other node holding the same event.
///
/// Memory per node: one object header (16 bytes) + step (8) + event (48 inline, the slot
/// storage shared) + previous (8) + length (8): 88 bytes, a 96-byte heap block.
public final class MatchNode {
  /// The step (0-based, declaration order) the event was bound to.
  public internal(set) var step: Int
  /// The event; `nil` only while the node waits in a ``MatchNodePool`` for reuse.
  @usableFromInline internal var storedEvent: EventRecord?
  /// The node bound just before this one, or `nil` for the match's first event.
  public internal(set) var previous: MatchNode?
  /// Number of nodes in the chain ending here (1 for the first event).
  public internal(set) var length: Int

  /// The event.
  @inlinable public var event: EventRecord {
    _read { yield storedEvent.unsafelyUnwrapped }
  }

  /// Binds `event` to `step` after `previous`.
  public init(step: Int, event: EventRecord, previous: MatchNode?) {
    self.step = step
    self.storedEvent = event
    self.previous = previous
    self.length = (previous?.length ?? 0) + 1
  }

  /// Reuses a cleared node (``MatchNodePool``): nothing else refers to it.
  @usableFromInline
  func rebind(step: Int, event: EventRecord, previous: MatchNode?) {
    self.step = step
    self.storedEvent = event
    self.length = (previous?.length ?? 0) &+ 1
    self.previous = previous
  }

  /// A node's size in memory: the object header (16 bytes), `step` (8), `storedEvent` (an
  /// ``EventRecord``, 48; its spare bits mark `nil`), `previous` (8) and `length` (8).
  /// `LayoutTests` pins the parts; a wrong figure would only make a cache hint fetch a line too
  /// few or too many.
  public static let instanceBytes = 88

  /// Starts loading the node's own lines (the fields its release reads lie past the first).
  @inlinable @inline(__always)
  public static func prefetch(_ node: MatchNode) {
    MemoryHint.prefetch(UnsafeRawPointer(Unmanaged.passUnretained(node).toOpaque()), bytes: instanceBytes)
  }

  /// Starts loading what releasing this node reads after the node itself: its predecessor and
  /// its event's slot buffer. Reads only this node's own words, as bit patterns: binding the
  /// fields (`if let previous`) retained them, an atomic update on the very lines this is meant
  /// to fetch. A nil or stale word is harmless: a prefetch never faults.
  @usableFromInline
  @inline(__always)
  func prefetchForRelease() {
    withUnsafeMutablePointer(to: &previous) {
      if let address = UnsafeRawPointer(bitPattern: UnsafeRawPointer($0).load(as: UInt.self)) {
        MemoryHint.prefetch(address, bytes: Self.instanceBytes)
      }
    }
    withUnsafeMutablePointer(to: &storedEvent) { EventRecord.prefetchSlots(ofRecordAt: $0) }
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

  /// Calls `body` with each node of the chain, from `self` back to the first event, until it
  /// returns `false`. The chain is walked through unretained references: following `previous`
  /// retained each node, and a condition that reads an earlier step (`city != first.city`,
  /// `count(failures)`) paid a retain and a release per node per evaluation for it (`swift_retain`
  /// was 1.7% of a W2 replay's samples under step-field reads). The caller's chain keeps every
  /// node alive meanwhile.
  @inlinable @inline(__always)
  public func walk(_ body: (MatchNode) -> Bool) {
    var current = Unmanaged.passUnretained(self)
    while true {
      let (goOn, next) = current._withUnsafeGuaranteedRef { (body($0), $0.previousWord) }
      // A non-zero word of `previous` is a live node's address (the chain holds it).
      guard goOn, let address = UnsafeRawPointer(bitPattern: next) else { return }
      current = Unmanaged.fromOpaque(address)
    }
  }

  /// What `body` returns for the event of the most recent node bound to `step` (walking back
  /// from `self`, as ``walk(_:)``), or `none` when no node is; the event is read in place.
  @inlinable @inline(__always)
  public func withLatestEvent<R>(boundTo step: Int, none: R, _ body: (borrowing EventRecord) -> R) -> R {
    var result = none
    walk { node in
      guard node.step == step else { return true }
      result = body(node.event)
      return false
    }
    return result
  }

  /// The word of `previous` as a bit pattern (0 for `nil`), read without retaining the node.
  @usableFromInline
  var previousWord: UInt {
    @inline(__always) get {
      withUnsafeMutablePointer(to: &previous) { UnsafeRawPointer($0).load(as: UInt.self) }
    }
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
