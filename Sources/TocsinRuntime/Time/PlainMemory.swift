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
/// one owner, one thread, like the other plain-memory structures.
final class PlainArray<Element>: RandomAccessCollection {
  private var base: UnsafeMutablePointer<Element>
  private var capacity: Int
  /// The elements: `base[0..<count]`.
  private(set) var count = 0

  /// An empty array.
  init() {
    capacity = 4
    base = .allocate(capacity: capacity)
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
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
  func append(_ element: consuming Element) {
    if count == capacity {
      capacity *= 2
      base = base.moved(count: count, toCapacity: capacity)
    }
    (base + count).initialize(to: element)
    count += 1
  }

  /// Calls `body` with the elements' memory (valid only inside `body`, which must not append).
  func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) rethrows -> R {
    try body(UnsafeMutableBufferPointer(start: base, count: count))
  }
}
