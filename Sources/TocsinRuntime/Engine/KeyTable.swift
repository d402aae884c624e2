import TocsinCore

/// An open-addressing hash table from partition key values to dense ``KeyID``s.
///
/// It replaces `Dictionary<Value, KeyID>` on the hot path: every event looks up its key once per
/// key space, and a `Dictionary` lookup hashes with SipHash, probes a bucket array and a separate
/// key array (two to three cache misses on a table of 100k keys). Here:
///
/// - the hash is a seeded multiply-xorshift over the value's bytes (``Value/keyHash(seed:)``),
///   a few nanoseconds for the typical 6–16-byte id;
/// - each slot holds the 32-bit hash and the id next to each other, so a probe that misses costs
///   no second load, and only a hash match compares the stored key;
/// - the slot also holds the latest event time routed to the key on its way into the reorder
///   buffer (its *pin*, see Engine+Keys.swift): updating it costs a store into the cache line the
///   lookup just read, where a separate per-key array cost a cache miss per event;
/// - linear probing over a power-of-two capacity, kept at most half full.
///
/// The seed is random per table, so the layout (never the ids) differs between runs and a
/// producer cannot precompute keys that all collide. Removal (``remove(hash:id:)``) shifts the
/// following run of slots back instead of leaving tombstones, so probe sequences stay as short
/// as if the removed key had never been inserted.
struct KeyTable {
  private struct Slot {
    /// `UInt32.max` marks an empty slot.
    var id: UInt32 = .max
    var hash: UInt32 = 0
    /// The key's pin: the latest event time recorded by ``KeyTable/lookup(hash:pinningAt:isKey:)``.
    var pin = EventTime.negativeInfinity
  }

  /// Bytes per slot (id, hash, pin): the key table's share of the state estimate.
  static var slotBytes: Int { MemoryLayout<Slot>.stride }

  private var slots: [Slot]
  private var mask: Int
  private(set) var count = 0
  private let seed: UInt64

  /// An empty table.
  init() {
    slots = Array(repeating: Slot(), count: 64)
    mask = 63
    seed = UInt64.random(in: 1...UInt64.max)
  }

  /// The hash `lookup` and `insert` expect for `keyValues`.
  @inline(__always)
  func hash(_ keyValues: UnsafeBufferPointer<Value>) -> UInt64 {
    var h = seed
    for value in keyValues { h = KeyHash.combine(h, value.keyHash(seed: seed)) }
    return h
  }

  /// The hash of a single-field key.
  @inline(__always)
  func hash(_ value: Value) -> UInt64 { KeyHash.combine(seed, value.keyHash(seed: seed)) }

  /// The id stored for a key with `hash` for which `isKey(id)` is true, or `nil`.
  /// - Complexity: O(1) expected; one cache line per probe.
  @inline(__always)
  func lookup(hash: UInt64, isKey: (UInt32) -> Bool) -> UInt32? {
    let h32 = Self.fold(hash)
    var i = Int(h32) & mask
    return slots.withUnsafeBufferPointer { table in
      while true {
        let slot = table[i]
        if slot.id == .max { return nil }
        if slot.hash == h32, isKey(slot.id) { return slot.id }
        i = (i + 1) & mask
      }
    }
  }

  /// ``lookup(hash:isKey:)`` that also raises the found key's pin to `time` (when given).
  @inline(__always)
  mutating func lookup(hash: UInt64, pinningAt time: EventTime?, isKey: (UInt32) -> Bool) -> UInt32? {
    let h32 = Self.fold(hash)
    var i = Int(h32) & mask
    let mask = self.mask
    return slots.withUnsafeMutableBufferPointer { table in
      while true {
        if table[i].id == .max { return nil }
        if table[i].hash == h32, isKey(table[i].id) {
          if let time, time > table[i].pin { table[i].pin = time }
          return table[i].id
        }
        i = (i + 1) & mask
      }
    }
  }

  /// Records `id` for a key with `hash` that is not in the table, pinned at `pin`.
  mutating func insert(hash: UInt64, id: UInt32, pin: EventTime = .negativeInfinity) {
    if (count + 1) * 2 > slots.count { grow() }
    place(Slot(id: id, hash: Self.fold(hash), pin: pin))
    count += 1
  }

  /// The pin of `id`, stored with `hash`; `-infinity` if it is not in the table.
  func pin(hash: UInt64, id: UInt32) -> EventTime {
    var i = Int(Self.fold(hash)) & mask
    while slots[i].id != id {
      if slots[i].id == .max { return .negativeInfinity }
      i = (i + 1) & mask
    }
    return slots[i].pin
  }

  /// Removes the slot of `id`, stored with `hash`; nothing if it is not there.
  /// - Complexity: O(1) expected: the probe to the slot, then the run of slots after it.
  mutating func remove(hash: UInt64, id: UInt32) {
    var hole = Int(Self.fold(hash)) & mask
    while slots[hole].id != id {
      if slots[hole].id == .max { return }
      hole = (hole + 1) & mask
    }
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
  private static func fold(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash ^ (hash >> 32)) }

  private mutating func place(_ slot: Slot) {
    var i = Int(slot.hash) & mask
    while slots[i].id != .max { i = (i + 1) & mask }
    slots[i] = slot
  }

  /// Doubles the capacity, re-placing every slot by its stored hash.
  private mutating func grow() {
    let old = slots
    slots = Array(repeating: Slot(), count: old.count * 2)
    mask = slots.count - 1
    for slot in old where slot.id != .max { place(slot) }
  }
}

/// The mixing steps of ``KeyTable``'s hash.
enum KeyHash {
  /// Folds `value` into `h` (a multiply-xorshift round; not cryptographic).
  @inline(__always)
  static func combine(_ h: UInt64, _ value: UInt64) -> UInt64 {
    mix((h ^ value) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// A 64-bit finaliser (Stafford's variant 13 of MurmurHash3's `fmix64`).
  @inline(__always)
  static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Hashes `bytes` eight at a time.
  @inline(__always)
  static func bytes(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
    var h = seed ^ UInt64(bytes.count)
    var i = 0
    let n = bytes.count
    while i + 8 <= n {
      h = combine(h, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      i += 8
    }
    if i < n {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < n {
        tail |= UInt64(bytes[i]) << shift
        shift += 8
        i += 1
      }
      h = combine(h, tail)
    }
    return mix(h)
  }
}

extension Value {
  /// A seeded hash consistent with `==`: equal values (same case, same payload) hash equally.
  @inline(__always)
  func keyHash(seed: UInt64) -> UInt64 {
    switch self {
    case .null: return KeyHash.mix(seed ^ 1)
    case .bool(let b): return KeyHash.mix(seed ^ (b ? 2 : 3))
    case .int(let i): return KeyHash.combine(seed ^ 4, UInt64(bitPattern: i))
    case .float(let d):
      // `==` on the payload: 0.0 == -0.0, so they must hash alike; NaN never equals itself and
      // hashes however it likes.
      return KeyHash.combine(seed ^ 5, d == 0 ? 0 : d.bitPattern)
    case .string(var s):
      return s.withUTF8 { KeyHash.bytes(UnsafeRawBufferPointer($0), seed: seed ^ 6) }
    case .time(let t): return KeyHash.combine(seed ^ 7, UInt64(bitPattern: t.nanosecondsSinceEpoch))
    case .duration(let d): return KeyHash.combine(seed ^ 8, UInt64(bitPattern: d.nanoseconds))
    case .list(let values):
      return values.reduce(KeyHash.mix(seed ^ 9)) { KeyHash.combine($0, $1.keyHash(seed: seed)) }
    }
  }
}
