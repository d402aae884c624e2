extension UnsafeMutablePointer {
  /// A new block of room for `capacity` elements holding this block's first `count`, moved
  /// bitwise; this block is freed. For the structures that keep their elements in plain memory
  /// they own (``ReorderBuffer``, ``TimerQueue``) and grow it by doubling.
  func moved(count: Int, toCapacity capacity: Int) -> UnsafeMutablePointer<Pointee> {
    let block = UnsafeMutablePointer<Pointee>.allocate(capacity: capacity)
    block.moveInitialize(from: self, count: count)
    deallocate()
    return block
  }
}

/// A growable array in plain memory its owner holds by a constant reference: an element is
/// read and mutated in place through the subscript's addresses, with no uniqueness check of a
/// buffer (an `Array` in a class's `var` property checked it on every mutating access, a
/// runtime call each; the engine mutates a key space three times per event). Not copy-on-write:
/// one owner, one thread, like the other plain-memory structures. Its block grows where it lies
/// once past a huge page (``HugePages/reallocate``), not copied into a new one (a key space's
/// values: megabytes in a run of many keys).
final class PlainArray<Element>: RandomAccessCollection {
  private var base: UnsafeMutablePointer<Element>
  private var capacity: Int
  /// The elements: `base[0..<count]`.
  private(set) var count = 0

  /// An empty array.
  init() {
    capacity = 16
    base = HugePages.allocate(Element.self, count: capacity)
  }

  deinit {
    base.deinitialize(count: count)
    HugePages.deallocate(base, count: capacity)
  }

  var startIndex: Int { 0 }
  var endIndex: Int { count }

  /// Element `i`, read and written in place.
  subscript(i: Int) -> Element {
    unsafeAddress {
      precondition(i >= 0 && i < count, "index out of range")
      return UnsafePointer(base + i)
    }
    unsafeMutableAddress {
      precondition(i >= 0 && i < count, "index out of range")
      return base + i
    }
  }

  /// Adds `element` at the end.
  @inline(__always)
  func append(_ element: consuming Element) {
    if count == capacity { grow() }
    (base + count).initialize(to: element)
    count += 1
  }

  /// Doubles the room. Elements are bitwise movable: the block's bytes move (or stay) as they are.
  @inline(never)
  private func grow() {
    base = HugePages.reallocate(base, from: capacity, to: 2 * capacity)
    capacity *= 2
  }

  /// Calls `body` with elements `start..<start + n` (valid only inside `body`, which must not
  /// append).
  @inline(__always)
  func withElements<R>(from start: Int, count n: Int, _ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
    precondition(start >= 0 && n >= 0 && start + n <= count, "elements out of range")
    return try body(UnsafeBufferPointer(start: base + start, count: n))
  }

  /// Calls `body` with the elements' memory (valid only inside `body`, which must not append).
  func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) rethrows -> R {
    try body(UnsafeMutableBufferPointer(start: base, count: count))
  }
}
