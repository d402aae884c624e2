/// The projected field values of one event: a fixed-size, copy-on-write buffer of ``Value``s.
///
/// Why not `[Value]`: an event's slots are allocated once per event and freed when the last
/// partial match holding the event lets go. Freeing an `Array<Value>` goes through the runtime's
/// generic `swift_arrayDestroy`, which calls the value witness of `Value` for every element —
/// about 1,100 instructions per event for 15 slots, more than matching the event against a rule.
/// This buffer's `deinit` is specialized for `Value` (a tag test per element, a release only for
/// heap strings), and it is created nulled in one pass without the generic `repeating:` path.
///
/// Index `i` is the value of the i-th projected field (``SlotIndex/index``).
public struct EventSlots: RandomAccessCollection, Equatable, ExpressibleByArrayLiteral, @unchecked Sendable {
  // @unchecked: the storage is only written while uniquely referenced (copy on write).

  @usableFromInline
  final class Storage: ManagedBuffer<Int, Value> {
    deinit {
      // An explicit loop: `deinitialize(count:)` would call the generic `swift_arrayDestroy`.
      // Only strings and lists hold a reference; the other cases are trivial and need no
      // destruction.
      withUnsafeMutablePointers { count, values in
        for i in 0..<count.pointee {
          switch values[i] {
          case .null, .bool, .int, .float, .time, .duration: continue
          case .string, .list: _ = (values + i).move()
          }
        }
      }
    }

    @usableFromInline
    static func make(count: Int, _ initialize: (UnsafeMutablePointer<Value>) -> Void) -> Storage {
      let buffer = Storage.create(minimumCapacity: count) { _ in count }
      // `create` returns the dynamic type it was called on.
      let storage = unsafeDowncast(buffer, to: Storage.self)
      storage.withUnsafeMutablePointerToElements { initialize($0) }
      return storage
    }
  }

  @usableFromInline var storage: Storage

  /// `count` slots, all `.null`.
  @inlinable
  public init(nulls count: Int) {
    storage = Storage.make(count: count) { $0.initialize(repeating: .null, count: count) }
  }

  /// The slots holding `values`.
  public init(_ values: [Value]) {
    storage = Storage.make(count: values.count) { base in
      values.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress else { return }
        base.initialize(from: from, count: values.count)
      }
    }
  }

  public init(arrayLiteral elements: Value...) { self.init(elements) }

  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { storage.header }

  /// The value of slot `i`.
  /// - Complexity: O(1); a write copies the buffer first if it is shared.
  @inlinable
  public subscript(i: Int) -> Value {
    get {
      precondition(i >= 0 && i < storage.header, "slot index out of range")
      return storage.withUnsafeMutablePointerToElements { $0[i] }
    }
    set {
      precondition(i >= 0 && i < storage.header, "slot index out of range")
      makeUnique()
      storage.withUnsafeMutablePointerToElements { $0[i] = newValue }
    }
  }

  /// Calls `body` with the slots' memory, copying the buffer first if it is shared.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (UnsafeMutableBufferPointer<Value>) throws(E) -> R
  ) throws(E) -> R {
    makeUnique()
    let held = storage
    defer { withExtendedLifetime(held) {} }
    let base = held.withUnsafeMutablePointerToElements { $0 }
    return try body(UnsafeMutableBufferPointer(start: base, count: held.header))
  }

  @inlinable
  mutating func makeUnique() {
    if isKnownUniquelyReferenced(&storage) { return }
    let old = storage
    let count = old.header
    storage = Storage.make(count: count) { base in
      old.withUnsafeMutablePointerToElements { base.initialize(from: $0, count: count) }
    }
  }

  /// Where the slots' buffer lies (object header, count and values), for cache hints: an
  /// event waiting in the reorder buffer has gone cold by the time it is released.
  @inlinable
  public var memorySpan: MemorySpan {
    let object = Unmanaged.passUnretained(storage).toOpaque()
    let bytes = MemoryLayout<Int>.stride * 3 + storage.header * MemoryLayout<Value>.stride
    return MemorySpan(address: UInt(bitPattern: object), bytes: UInt32(truncatingIfNeeded: bytes))
  }

  public static func == (lhs: EventSlots, rhs: EventSlots) -> Bool {
    lhs.storage === rhs.storage || lhs.elementsEqual(rhs)
  }
}
