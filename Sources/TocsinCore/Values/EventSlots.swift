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

  /// A buffer's count and whether a slot may hold a reference.
  @usableFromInline
  struct Header {
    @usableFromInline var count: Int
    /// `false` only when no slot holds a reference (``Value/holdsNoReference(at:smallStrings:)``
    /// for each): the buffer is then reset and freed without a look at its slots. Set by every
    /// write that may store one; cleared by a reset, or by ``EventSlots/fillNulled(_:)`` when
    /// its writer stored none.
    @usableFromInline var mayHoldReferences: Bool

    @inlinable
    init(count: Int, mayHoldReferences: Bool) {
      self.count = count
      self.mayHoldReferences = mayHoldReferences
    }
  }

  @usableFromInline
  final class Storage: ManagedBuffer<Header, Value> {
    deinit { releaseReferences() }

    /// Deinitialises the slots that hold a reference (strings and lists), leaving the others:
    /// their cases are trivial and need no destruction. An explicit loop: `deinitialize(count:)`
    /// would call the generic `swift_arrayDestroy`. Afterwards the reference slots' memory is
    /// uninitialised: the caller frees the buffer or initialises every slot again.
    ///
    /// A string in the small form holds no reference either (``SmallString``): most strings
    /// an event holds (ids, users, types) are, and each skipped is a release call saved.
    @usableFromInline
    func releaseReferences() {
      guard header.mayHoldReferences else { return }
      let smallStrings = SmallString.isAvailable
      withUnsafeMutablePointers { header, values in
        for i in 0..<header.pointee.count { Self.releaseReference(at: values + i, smallStrings: smallStrings) }
      }
    }

    /// Deinitialises the value at `value` if it holds a reference (a string not in the small
    /// form, a list); leaves any other as it is. Either way its memory may then be initialised
    /// over. `smallStrings`: ``SmallString/isAvailable``, read once by the caller.
    @inline(__always)
    static func releaseReference(at value: UnsafeMutablePointer<Value>, smallStrings: Bool) {
      if !Value.holdsNoReference(at: value, smallStrings: smallStrings) { value.deinitialize(count: 1) }
    }

    @usableFromInline
    static func make(
      count: Int, mayHoldReferences: Bool, _ initialize: (UnsafeMutablePointer<Value>) -> Void
    ) -> Storage {
      let buffer = Storage.create(minimumCapacity: count) { _ in
        Header(count: count, mayHoldReferences: mayHoldReferences)
      }
      // `create` returns the dynamic type it was called on.
      let storage = unsafeDowncast(buffer, to: Storage.self)
      storage.withUnsafeMutablePointerToElements { initialize($0) }
      return storage
    }
  }

  /// The buffer; `nil` once ``Pool/recycle(_:)`` has taken it, after which the slots read as
  /// empty (their holder is about to drop them), and in ``none``. Optional so that taking the
  /// buffer leaves no reference behind: a shared empty buffer put in its place cost an atomic
  /// retain, and dropping the event an atomic release, per released event.
  @usableFromInline var storage: Storage?

  /// No slots, and no buffer behind them: what a match node binds when nothing reads its step's
  /// fields. Reads as empty, like slots whose buffer ``Pool/recycle(_:)`` took; copying it and
  /// dropping it update no reference count. A shared empty buffer in its place (each rule
  /// matcher held one) was retained by every such binding and released when the binding went,
  /// a locked instruction each on x86 (W2: one retain per event, callgrind, session 39). Never
  /// read a slot of it, nor ask for its ``memorySpan`` or ``bufferAddress`` (there is no
  /// buffer); its ``count`` is 0.
  @inlinable
  public static var none: EventSlots { EventSlots(storage: nil) }

  /// `count` slots, all `.null`.
  @inlinable
  public init(nulls count: Int) {
    storage = Storage.make(count: count, mayHoldReferences: false) { $0.initialize(repeating: .null, count: count) }
  }

  /// The slots holding `values`.
  public init(_ values: [Value]) {
    let smallStrings = SmallString.isAvailable
    let references = values.withUnsafeBufferPointer { source in
      source.indices.contains { !Value.holdsNoReference(at: source.baseAddress.unsafelyUnwrapped + $0, smallStrings: smallStrings) }
    }
    storage = Storage.make(count: values.count, mayHoldReferences: references) { base in
      values.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress else { return }
        base.initialize(from: from, count: values.count)
      }
    }
  }

  public init(arrayLiteral elements: Value...) { self.init(elements) }

  @inlinable public var startIndex: Int { 0 }
  /// The number of slots; 0 once ``Pool/recycle(_:)`` took the buffer.
  @inlinable public var endIndex: Int { storage?.header.count ?? 0 }

  /// Whether a buffer stands behind the slots: not for ``none``, nor once ``Pool/recycle(_:)``
  /// took it.
  @inlinable public var holdsBuffer: Bool { storage != nil }

  /// The value of slot `i`.
  /// - Complexity: O(1); a write copies the buffer first if it is shared.
  @inlinable
  public subscript(i: Int) -> Value {
    // Lent, not copied: a reader that only looks (a comparison, a hash, a switch) takes no
    // retain and release of a string's storage (a runtime call each, even for small strings).
    _read {
      precondition(i >= 0 && i < storage.unsafelyUnwrapped.header.count, "slot index out of range")
      let values = storage.unsafelyUnwrapped.withUnsafeMutablePointerToElements { $0 }
      yield values[i]
      withExtendedLifetime(storage) {}
    }
    set {
      precondition(i >= 0 && i < storage.unsafelyUnwrapped.header.count, "slot index out of range")
      makeUnique()
      let (header, values) = storage.unsafelyUnwrapped.withUnsafeMutablePointers { ($0, $1) }
      values[i] = newValue
      if !header.pointee.mayHoldReferences {
        header.pointee.mayHoldReferences = !Value.holdsNoReference(at: values + i, smallStrings: SmallString.isAvailable)
      }
    }
  }

  /// Calls `body` with the address of slot `i`'s value: read in place, it is not copied (a
  /// value passed on as an argument from the subscript is, by the caller: a retain and a
  /// release of a string's storage, runtime calls even for a small string). `body` must not
  /// write the slots or keep the pointer.
  @inlinable
  public func withUnsafeValue<R>(at i: Int, _ body: (UnsafePointer<Value>) -> R) -> R {
    precondition(i >= 0 && i < storage.unsafelyUnwrapped.header.count, "slot index out of range")
    return storage.unsafelyUnwrapped.withUnsafeMutablePointerToElements { body(UnsafePointer($0 + i)) }
  }

  /// Calls `body` with the slots' memory, copying the buffer first if it is shared. `body` may
  /// store any value.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (UnsafeMutableBufferPointer<Value>) throws(E) -> R
  ) throws(E) -> R {
    makeUnique()
    // `self` is held (inout) for the call, and with it the buffer.
    let (header, base) = storage.unsafelyUnwrapped.withUnsafeMutablePointers { ($0, $1) }
    header.pointee.mayHoldReferences = true
    return try body(UnsafeMutableBufferPointer(start: base, count: header.pointee.count))
  }

  /// Calls `body` with the memory of slots that are all `.null` (fresh, or from
  /// ``Pool/slots(nulls:)``), for a writer that knows what it stores: `body` returns whether it
  /// stored a value holding a reference (``Value/holdsNoReference(at:smallStrings:)``), and
  /// `false` lets the buffer be reset and freed without a look at each slot. A throw counts as
  /// `true`. The decoder's path (``EventScanner/scan(_:intoNulled:)`` reports it).
  @inlinable
  package mutating func fillNulled<E: Error>(
    _ body: (UnsafeMutableBufferPointer<Value>) throws(E) -> Bool
  ) throws(E) {
    makeUnique()
    assert(
      storage.unsafelyUnwrapped.withUnsafeMutablePointers { header, values in
        (0..<header.pointee.count).allSatisfy { if case .null = values[$0] { true } else { false } }
      }, "fillNulled on slots that are not all null")
    // `self` is held (inout) for the call, and with it the buffer. Reached through the optional
    // in place, not through a copy of the reference (a retain and a release per event).
    let (header, base) = storage.unsafelyUnwrapped.withUnsafeMutablePointers { ($0, $1) }
    header.pointee.mayHoldReferences = true
    header.pointee.mayHoldReferences = try body(UnsafeMutableBufferPointer(start: base, count: header.pointee.count))
  }

  @inlinable
  mutating func makeUnique() {
    if isKnownUniquelyReferenced(&storage) { return }
    let old = storage.unsafelyUnwrapped
    let count = old.header.count
    storage = Storage.make(count: count, mayHoldReferences: old.header.mayHoldReferences) { base in
      old.withUnsafeMutablePointerToElements { base.initialize(from: $0, count: count) }
    }
  }

  /// The slots' buffer object, for cache hints only (never dereferenced through this); reads
  /// nothing of it, unlike ``memorySpan``.
  @inlinable
  public var bufferAddress: UnsafeRawPointer {
    UnsafeRawPointer(Unmanaged.passUnretained(storage.unsafelyUnwrapped).toOpaque())
  }

  /// Where the slots' buffer lies (object header, count and values), for cache hints: an
  /// event waiting in the reorder buffer has gone cold by the time it is released.
  @inlinable
  public var memorySpan: MemorySpan {
    MemorySpan(
      address: UInt(bitPattern: bufferAddress),
      bytes: UInt32(truncatingIfNeeded: Self.bufferBytes(slots: storage.unsafelyUnwrapped.header.count)))
  }

  /// The bytes of a buffer of `slots` slots: object header, ``Header`` and values.
  @inlinable
  static func bufferBytes(slots: Int) -> Int {
    MemoryLayout<Int>.stride * 2 + MemoryLayout<Header>.stride + slots * MemoryLayout<Value>.stride
  }

  public static func == (lhs: EventSlots, rhs: EventSlots) -> Bool {
    lhs.storage === rhs.storage || lhs.elementsEqual(rhs)
  }
}

extension EventSlots {
  /// Slot buffers given back by their last holder, handed out again to the decoder.
  ///
  /// Most events' buffers live a few microseconds: decoded, buffered for the out-of-orderness,
  /// released to the rules, and freed when no partial match keeps the event. Freed through
  /// `malloc`, each went back to glibc's bins and was merged with its (cold) neighbours
  /// (`unlink_chunk`, `malloc_consolidate`), and the next event's buffer came from wherever the
  /// allocator found one. The pool keeps up to ``limit`` buffers, last in first out, so the next
  /// decoded event usually writes into the buffer released a moment before, still in the cache.
  ///
  /// A buffer is taken back only from the holder of its last reference
  /// (`isKnownUniquelyReferenced`), so an event an alert, a partial match or a trace still holds
  /// is never touched, and it is handed out again only while the pool holds its only reference.
  /// One pool per replay session, used from one thread.
  public final class Pool {
    /// The kept buffers, a stack (`free[0..<count]`, top last), each holding one reference the
    /// pool owns. Plain memory, not an array: taking, peeking at and pushing a buffer then cost
    /// no reference counting of their own (an array's `popLast` was not inlined, `last` retained
    /// the next buffer — a write on the line being prefetched — and `append` retained what it
    /// kept).
    @usableFromInline let free: UnsafeMutablePointer<Unmanaged<Storage>>
    /// Buffers waiting for reuse.
    public var count: Int { kept }
    @usableFromInline var kept = 0
    /// The most buffers kept; beyond it, given-back buffers are freed.
    public let limit: Int
    /// ``SmallString/isAvailable``, for resetting buffers.
    @usableFromInline let smallStrings = SmallString.isAvailable
    /// A pool keeping at most `limit` buffers.
    public init(limit: Int = 1024) {
      self.limit = Swift.max(0, limit)
      free = .allocate(capacity: Swift.max(1, self.limit))
    }

    deinit {
      for i in 0..<kept { free[i].release() }
      free.deallocate()
    }

    /// The buffer on top of the stack (the next to be handed out), for tests.
    var top: Storage? { kept > 0 ? free[kept - 1].takeUnretainedValue() : nil }

    /// `count` slots, all `.null`: a given-back buffer of that size when the pool has one, its
    /// old values released and every slot nulled here.
    ///
    /// Taking a buffer starts loading the one that will be taken next (the new top of the
    /// stack) whole: a buffer comes back cold when the event it held was bound for long or
    /// was released on the other thread (`--workers 2`), and its reset reads every slot. The
    /// decoder takes buffers in runs (a batch of lines at a time), so the next one's lines
    /// arrive while this event is decoded.
    @inlinable
    public func slots(nulls count: Int) -> EventSlots {
      guard kept > 0 else { return EventSlots(nulls: count) }
      kept -= 1
      // The pool's reference moves to `storage`: no reference count update.
      var storage = free[kept].takeRetainedValue()
      guard storage.header.count == count, isKnownUniquelyReferenced(&storage) else { return EventSlots(nulls: count) }
      if kept > 0 {
        MemoryHint.prefetch(
          UnsafeRawPointer(free[kept - 1].toOpaque()), bytes: EventSlots.bufferBytes(slots: count))
      }
      storage.resetToNulls(smallStrings: smallStrings)
      return EventSlots(storage: consume storage)
    }

    /// Takes `slots`' buffer back if `slots` holds its last reference, leaving `slots` without
    /// one (they read as empty); otherwise `slots` is unchanged (the other holders keep the
    /// buffer). The buffer keeps its values until it is handed out again (``slots(nulls:)``):
    /// with `--workers 2` the engine's thread gives buffers back and the decoding thread takes
    /// them, so the loop over every slot and the release of the strings, which that thread
    /// allocated, run there.
    @inlinable @inline(__always)
    public func recycle(_ slots: inout EventSlots) {
      guard kept < limit, isKnownUniquelyReferenced(&slots.storage) else { return }
      // Taken out, and its reference moved here: no reference count update of the buffer
      // (copying it out retained it, and replacing it released it again).
      free[kept] = Unmanaged.passRetained(slots.storage.take().unsafelyUnwrapped)
      kept += 1
    }

    /// Moves up to `count` kept buffers into `other` (as many as its limit allows; the rest
    /// stay here). For handing buffers to a pool another thread uses: the caller orders the two
    /// threads' accesses (both pools are unsynchronised), e.g. by passing `other` through a lock.
    ///
    /// Moved, not copied: a copy retained each buffer (an atomic update of its header, a line
    /// the other thread wrote last) only to release it again here.
    public func give(upTo count: Int, to other: Pool) {
      let n = Swift.min(count, kept, other.limit - other.kept)
      guard n > 0 else { return }
      for _ in 0..<n {
        kept -= 1
        other.free[other.kept] = free[kept]
        other.kept += 1
      }
    }
  }

  @inlinable
  init(storage: Storage?) { self.storage = storage }
}

extension EventSlots.Storage {
  /// Releases every value and sets every slot to `.null`. `smallStrings`:
  /// ``SmallString/isAvailable``, read once by the caller (read here, the global's lazy
  /// initialisation was checked through `swift_once` for every event).
  @usableFromInline
  func resetToNulls(smallStrings: Bool) {
    withUnsafeMutablePointers { header, values in
      let count = header.pointee.count
      guard header.pointee.mayHoldReferences else {
        // Every slot is plain bits: written over without a look (~200 instructions per W1
        // event for its 16 slots when each was tested).
        values.initialize(repeating: .null, count: count)
        return
      }
      // One pass: each slot's reference, if it holds one, released, then `.null` written over
      // it (``releaseReferences()`` and then a second pass to write the nulls cost ~270
      // instructions per W1 event).
      for i in 0..<count {
        Self.releaseReference(at: values + i, smallStrings: smallStrings)
        // Trivial or deinitialised: initialising over either is sound.
        (values + i).initialize(to: .null)
      }
      header.pointee.mayHoldReferences = false
    }
  }
}
