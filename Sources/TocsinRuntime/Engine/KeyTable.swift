import TocsinCore

/// An open-addressing hash table from partition key values to dense ``KeyID``s.
///
/// It replaces `Dictionary<Value, KeyID>` on the hot path: every event looks up its key once per
/// key space, and a `Dictionary` lookup hashes with SipHash, probes a bucket array and a separate
/// key array (two to three cache misses on a table of 100k keys). Here a hit costs one cache line:
///
/// - the hash is a seeded multiply-xorshift over the value's bytes (``Value/keyHash(seed:)``),
///   a few nanoseconds for the typical 6–16-byte id;
/// - a slot is 32 bytes, 32-byte aligned (so it never straddles a 64-byte cache line): the id,
///   the 32-bit hash, the pin and the key itself when it packs into 16 bytes (``InlineKey``:
///   single-field strings up to 15 UTF-8 bytes, ints, bools, times, durations). Such a key is
///   found by comparing the slot's two key words, with no load of the stored value; any other key
///   is compared through the caller's `isKey` on a hash match, so correctness never rests on the
///   hash alone;
/// - the slot also holds the latest event time routed to the key on its way into the reorder
///   buffer (its *pin*, see Engine+Keys.swift): updating it costs a store into the cache line the
///   lookup just read, where a separate per-key array cost a cache miss per event;
/// - linear probing over a power-of-two capacity, kept at most half full.
///
/// The seed is random per table, so the layout (never the ids) differs between runs and a
/// producer cannot precompute keys that all collide. Removal (``remove(hash:id:)``) shifts the
/// following run of slots back instead of leaving tombstones, so probe sequences stay as short
/// as if the removed key had never been inserted.
///
/// The slots live in a block of their own (``Storage``, allocated with 64-byte alignment, which
/// an `Array`'s elements do not have); the table is a value type that copies the block on the
/// first write after a copy of the table was taken.
struct KeyTable {
  struct Slot {
    /// `UInt32.max` marks an empty slot.
    var id: UInt32 = .max
    var hash: UInt32 = 0
    /// The key's pin: the latest event time recorded by ``KeyTable/lookup(hash:pinningAt:isKey:)``.
    var pin = EventTime.negativeInfinity
    /// The key, when it packs inline; ``InlineKey/notInline`` otherwise and in an empty slot.
    var key = InlineKey.notInline
  }

  /// Bytes per slot (id, hash, pin, inline key): the key table's share of the state estimate.
  static var slotBytes: Int { MemoryLayout<Slot>.stride }

  /// The alignment of the slot block: a cache line, so no slot straddles two.
  static let blockAlignment = 64

  /// The slot block: `capacity` slots, initialised, freed with the last table that shares it.
  final class Storage {
    private(set) var slots: UnsafeMutablePointer<Slot>
    private(set) var capacity: Int

    /// `capacity` empty slots.
    init(capacity: Int) {
      slots = Self.allocate(capacity).initializeMemory(as: Slot.self, repeating: Slot(), count: capacity)
      self.capacity = capacity
    }

    /// A copy of `other`'s slots.
    init(copying other: Storage) {
      capacity = other.capacity
      slots = Self.allocate(capacity).bindMemory(to: Slot.self, capacity: capacity)
      slots.initialize(from: other.slots, count: capacity)
    }

    /// Doubles the block where it is (``HugePages/reallocate``: the kept half is neither copied
    /// nor cleared again), the added half empty. The kept slots stay where they are: the caller
    /// re-places them for the new capacity.
    func double() {
      let bytes = capacity * MemoryLayout<Slot>.stride
      slots = HugePages.reallocate(
        UnsafeMutableRawPointer(slots), from: bytes, to: 2 * bytes, alignment: KeyTable.blockAlignment
      ).bindMemory(to: Slot.self, capacity: 2 * capacity)
      (slots + capacity).initialize(repeating: Slot(), count: capacity)
      capacity *= 2
    }

    /// Uninitialised, cache-line-aligned memory for `capacity` slots.
    private static func allocate(_ capacity: Int) -> UnsafeMutableRawPointer {
      HugePages.allocate(byteCount: capacity * MemoryLayout<Slot>.stride, alignment: KeyTable.blockAlignment)
    }

    deinit {
      slots.deinitialize(count: capacity)
      HugePages.deallocate(UnsafeMutableRawPointer(slots), byteCount: capacity * MemoryLayout<Slot>.stride)
    }
  }

  private var storage: Storage
  private var mask: Int
  private(set) var count = 0
  /// The table's hash function: plain data, so a copy can hash keys on another thread
  /// (``Engine/ArrivalProber``).
  let hasher: KeyHasher

  /// An empty table.
  init() {
    storage = Storage(capacity: 64)
    mask = 63
    hasher = KeyHasher(seed: UInt64.random(in: 1...UInt64.max))
  }

  /// Slots allocated (a power of two).
  var capacity: Int { storage.capacity }

  /// The hash `lookup` and `insert` expect for `keyValues` (a multi-field key), each field read
  /// where it lies, as the arrival probes read an event's (``KeySpace/compositeProbe(of:slots:hasher:)``).
  @inline(__always)
  func hash(_ keyValues: UnsafeBufferPointer<Value>) -> UInt64 {
    hasher.hash(count: keyValues.count) { i, seed in
      Value.keyHash(at: keyValues.baseAddress.unsafelyUnwrapped + i, seed: seed)
    }
  }

  /// The hash of a single-field key.
  @inline(__always)
  func hash(_ value: Value) -> UInt64 { hasher.hashAndInlineForm(value).hash }

  /// The hash of a single-field key and its ``InlineKey`` form, in one pass over its bytes.
  @inline(__always)
  func hashAndInlineForm(_ value: Value) -> (hash: UInt64, inline: InlineKey) {
    hasher.hashAndInlineForm(value)
  }

  /// The id stored for a key with `hash`, not inserted inline, for which `isKey(id)` is true,
  /// or `nil`.
  /// - Complexity: O(1) expected; one cache line per probe.
  @inline(__always)
  func lookup(hash: UInt64, isKey: (UInt32) -> Bool) -> UInt32? {
    probe(hash: hash, isKey: isKey).map { storage.slots[$0].id }
  }

  /// ``lookup(hash:isKey:)`` that also raises the found key's pin to `time` (when given).
  @inline(__always)
  mutating func lookup(hash: UInt64, pinningAt time: EventTime?, isKey: (UInt32) -> Bool) -> UInt32? {
    guard let i = probe(hash: hash, isKey: isKey) else { return nil }
    if let time, time > storage.slots[i].pin { setPin(time, at: i) }
    return storage.slots[i].id
  }

  /// Starts loading the two slots a lookup of a key with `hash` probes first. A hint only: it
  /// reads no slot, so it is correct whatever the table holds.
  ///
  /// Two slots, not one: a line holds two, so a probe that goes on from the second slot of a
  /// line (a collision, or a new key's search for an empty slot) reads the next line. With only
  /// the first slot fetched, the lookup's slot load took 57% of `KeySpace.key`'s `perf` samples
  /// on W1 whatever the prefetch distance; with both, 33–38%, and W1 ran 1–4% faster (W2 and W5
  /// within the noise; docs/performance.md, session 37). When the first slot is a line's first,
  /// both hints name the same line, and the second costs an instruction.
  @inline(__always)
  func prefetch(hash: UInt64) { prefetch(folded: Self.fold(hash)) }

  /// ``prefetch(hash:)`` from the folded hash, or its low bits (a deferred key's presence bits,
  /// ``KeyPresence/bits(of:)``: the same slot in a table of up to 2³⁰ slots).
  @inline(__always)
  func prefetch(folded: UInt32) {
    let i = Int(folded) & mask
    // One call for both lines: with two, `--workers 2`'s prefetch through a key space borrowed
    // in place (`Engine.prepareArrival(_:)`) copied the space out to keep it alive across the
    // first, retaining and releasing its six references per space and event (13% of the run).
    // `MemoryHint.prefetch(_:bytes:)`, a loop of such calls, brings the six retains back, and
    // its line count (one or two) is a branch mispredicted about half the time.
    MemoryHint.prefetch(storage.slots + i, storage.slots + ((i + 1) & mask))
  }

  /// The slot of the key with `hash`, not inserted inline, for which `isKey(id)` is true.
  @inline(__always)
  private func probe(hash: UInt64, isKey: (UInt32) -> Bool) -> Int? {
    let h32 = Self.fold(hash)
    let slots = storage.slots
    var i = Int(h32) & mask
    while true {
      let slot = slots[i]
      if slot.id == .max { return nil }
      if slot.hash == h32, !slot.key.isInline, isKey(slot.id) { return i }
      i = (i + 1) & mask
    }
  }

  /// The id stored for the inline key `key` (whose hash is `hash`), or `nil`; raises its pin to
  /// `time` when given. No load beyond the probed slots.
  /// - Complexity: O(1) expected; one cache line per probe.
  @inline(__always)
  mutating func lookup(hash: UInt64, inline key: InlineKey, pinningAt time: EventTime?) -> UInt32? {
    assert(key.isInline)
    let slots = storage.slots
    var i = Int(Self.fold(hash)) & mask
    while true {
      let slot = slots[i]
      // An empty slot holds `notInline`, which no inline key equals.
      if slot.key.isSame(as: key) {
        if let time, time > slot.pin { setPin(time, at: i) }
        return slot.id
      }
      if slot.id == .max { return nil }
      i = (i + 1) & mask
    }
  }

  @inline(__always)
  private mutating func setPin(_ time: EventTime, at i: Int) {
    makeUnique()
    storage.slots[i].pin = time
  }

  /// Records `id` for a key with `hash` that is not in the table, pinned at `pin`; `key` is its
  /// inline form, or ``InlineKey/notInline`` (then lookups compare it through `isKey`).
  mutating func insert(
    hash: UInt64, id: UInt32, inline key: InlineKey = .notInline, pin: EventTime = .negativeInfinity
  ) {
    if (count + 1) * 2 > capacity {
      grow()
    } else {
      makeUnique()
    }
    place(Slot(id: id, hash: Self.fold(hash), pin: pin, key: key), in: storage)
    count += 1
  }

  /// The pin of `id`, stored with `hash`; `-infinity` if it is not in the table.
  func pin(hash: UInt64, id: UInt32) -> EventTime {
    guard let i = index(hash: hash, id: id) else { return .negativeInfinity }
    return storage.slots[i].pin
  }

  /// The inline key stored for `id` with `hash` (``InlineKey/notInline`` if there is none, or
  /// `nil` if `id` is not in the table).
  func inlineKey(hash: UInt64, id: UInt32) -> InlineKey? {
    index(hash: hash, id: id).map { storage.slots[$0].key }
  }

  private func index(hash: UInt64, id: UInt32) -> Int? {
    let slots = storage.slots
    var i = Int(Self.fold(hash)) & mask
    while slots[i].id != id {
      if slots[i].id == .max { return nil }
      i = (i + 1) & mask
    }
    return i
  }

  /// Removes the slot of `id`, stored with `hash`; nothing if it is not there.
  /// - Complexity: O(1) expected: the probe to the slot, then the run of slots after it.
  mutating func remove(hash: UInt64, id: UInt32) {
    guard let slot = index(hash: hash, id: id) else { return }
    remove(at: slot)
  }

  /// Removes the slot of `id`, stored with `hash`, if its pin is at or before `time`; returns
  /// whether it did. One probe for both: ``pin(hash:id:)`` and then ``remove(hash:id:)`` probed
  /// the table twice.
  mutating func remove(hash: UInt64, id: UInt32, ifPinnedAtOrBefore time: EventTime) -> Bool {
    guard let slot = index(hash: hash, id: id), storage.slots[slot].pin <= time else { return false }
    remove(at: slot)
    return true
  }

  /// Removes the occupied slot `hole` (backward-shift deletion).
  private mutating func remove(at slot: Int) {
    var hole = slot
    makeUnique()
    let slots = storage.slots
    // Backward-shift deletion: each later slot of the run moves into the hole unless its home
    // slot lies cyclically after the hole (then the hole is not on its probe path).
    var next = hole
    while true {
      next = (next + 1) & mask
      let slot = slots[next]
      if slot.id == .max { break }
      let home = Int(slot.hash) & mask
      let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
      if !staysPut {
        slots[hole] = slot
        hole = next
      }
    }
    slots[hole] = Slot()
    count -= 1
  }

  /// The 32 bits of the hash a slot keeps; they pick the slot too, so growing needs no rehash.
  @inline(__always)
  static func fold(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash ^ (hash >> 32)) }

  /// Calls `body` with the stored (folded) hash of every key in the table, in slot order.
  func forEachStoredHash(_ body: (UInt32) -> Void) {
    let slots = storage.slots
    for i in 0...mask where slots[i].id != .max { body(slots[i].hash) }
  }

  /// Gives this table a block of its own before a write, if a copy of it shares the block.
  @inline(__always)
  private mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
  }

  private func place(_ slot: Slot, in block: Storage) {
    let mask = block.capacity - 1
    var i = Int(slot.hash) & mask
    while block.slots[i].id != .max { i = (i + 1) & mask }
    block.slots[i] = slot
  }

  /// Doubles the capacity, re-placing every slot by its stored hash: in the same block when no
  /// copy of the table shares it (``growInPlace()``), else in a new one, which the copy does not
  /// see.
  private mutating func grow() {
    guard isKnownUniquelyReferenced(&storage) else {
      let old = storage
      let new = Storage(capacity: old.capacity * 2)
      for i in 0..<old.capacity where old.slots[i].id != .max { place(old.slots[i], in: new) }
      storage = new
      mask = new.capacity - 1
      return
    }
    growInPlace()
  }

  /// Doubles the block where it is and re-places its slots within it.
  ///
  /// A slot whose home was `h` has its home at `h` or `h + c` now (`c` the old capacity). Every
  /// slot is taken out and placed again in one pass over the old half, upwards; a placement's
  /// probe then only crosses slots already placed (below the one being emptied, or in the added
  /// half, which holds placed slots alone), so no later removal opens a gap on its path. Slots
  /// that had wrapped past the old end to the first positions would break that (their probe
  /// starts near the old end, above the pass), so they are taken out first and placed last, into
  /// the finished table.
  private mutating func growInPlace() {
    let oldCapacity = storage.capacity
    let oldMask = mask
    storage.double()
    mask = storage.capacity - 1
    let slots = storage.slots
    var wrapped: [Slot] = []
    var i = 0
    while i < oldCapacity, slots[i].id != .max {
      if Int(slots[i].hash) & oldMask > i {
        wrapped.append(slots[i])
        slots[i] = Slot()
      }
      i += 1
    }
    for i in 0..<oldCapacity where slots[i].id != .max {
      let slot = slots[i]
      slots[i] = Slot()
      place(slot, in: storage)
    }
    for slot in wrapped { place(slot, in: storage) }
  }

  /// Verifies the table's invariants (for tests): `count` occupied slots, unique ids, every
  /// slot reachable from its home slot without crossing an empty one, the block aligned.
  func checkInvariants() {
    let slots = storage.slots
    precondition(UInt(bitPattern: slots) % UInt(Self.blockAlignment) == 0, "slot block not aligned")
    var ids = Set<UInt32>()
    for i in 0..<capacity where slots[i].id != .max {
      precondition(ids.insert(slots[i].id).inserted, "id \(slots[i].id) stored twice")
      var j = Int(slots[i].hash) & mask
      while j != i {
        precondition(slots[j].id != .max, "slot \(i) unreachable from its home slot")
        j = (j + 1) & mask
      }
    }
    precondition(ids.count == count, "count \(count), occupied \(ids.count)")
  }
}

/// A ``KeyTable``'s seeded hash function (the seed is random per table).
struct KeyHasher: Sendable {
  let seed: UInt64
  /// Whether a short string is hashed from its bits in place (``SmallString/isAvailable``).
  let readsSmallStrings: Bool

  init(seed: UInt64) {
    self.seed = seed
    readsSmallStrings = SmallString.isAvailable
  }

  /// The hash of a key of `count` fields, the `i`th field's own hash being `fieldHash(i, seed)`
  /// (its ``Value/keyHash(seed:)``): for fields read where they lie (``Value/keyHash(at:seed:)``),
  /// since a `Value` handed out of its slot is copied, a string's retain and release (W2's
  /// composite keys: ~0.9 copies per event).
  @inline(__always)
  func hash(count: Int, fieldHash: (Int, UInt64) -> UInt64) -> UInt64 {
    var h = seed
    for i in 0..<count { h = KeyHash.combine(h, fieldHash(i, seed)) }
    return h
  }

  /// The hash of a single-field key and its ``InlineKey`` form, in one pass over its bytes.
  @inline(__always)
  func hashAndInlineForm(_ value: Value) -> (hash: UInt64, inline: InlineKey) {
    let (h, inline) = value.keyHashAndInlineForm(seed: seed)
    return (KeyHash.combine(seed, h), inline)
  }

  /// ``hashAndInlineForm(_:)`` of the short string whose bits are `bits` (``SmallString``).
  @inline(__always)
  func hashAndInlineForm(smallStringBits bits: (UInt64, UInt64)) -> (hash: UInt64, inline: InlineKey) {
    let (h, inline) = Value.smallStringKey(bits, seed: seed)
    return (KeyHash.combine(seed, h), inline)
  }

  /// ``hashAndInlineForm(_:)`` of the value at `value`, read in place (no copy of a string).
  @inline(__always)
  func hashAndInlineForm(at value: UnsafePointer<Value>) -> (hash: UInt64, inline: InlineKey) {
    // A short string (most keys: a user, a card) is its bits: the bytes, zero-padded, are the
    // words its inline form and hash are made of.
    if readsSmallStrings, let bits = Value.smallStringBits(at: value) { return hashAndInlineForm(smallStringBits: bits) }
    let (h, inline) = Value.keyHashAndInlineForm(at: value, seed: seed)
    return (KeyHash.combine(seed, h), inline)
  }
}
