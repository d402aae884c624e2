import TocsinCore

/// A dense integer id for one partition key value within a ``KeySpace``.
public struct KeyID: Hashable, Sendable, Comparable {
  /// The most keys one key space may hold.
  public static let limit = Int(Int32.max)
  /// Position in ``KeySpace``'s tables.
  public var rawValue: UInt32

  /// Creates a key id.
  public init(_ index: Int) { rawValue = UInt32(index) }
  /// The index as an `Int`.
  public var index: Int { Int(rawValue) }
  public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Interns the key values of rules that share the same key fields.
///
/// Rules keyed by the same fields share one key space, so an event's key is computed and
/// looked up once however many rules use it. The lookup goes through a ``KeyTable`` (a seeded
/// fast hash and a slot array holding hash, id and pin side by side). A single-field key that
/// packs into 16 bytes (a string of at most 15 UTF-8 bytes, an int, …: ``InlineKey``), or a
/// two-field key of two strings of at most 14 bytes together (`key user, geo.country`), is kept
/// in its slot and compared there, so a hit costs one cache line; any other key is compared
/// with the stored key values on a hash match. The key's text (values joined with `|`, used in alert
/// ids and by the `key` expression) is built only when a key is interned.
///
/// Next to each key the space keeps ``openRules(_:)``: one bit per rule of the space whose
/// state for that key is not empty. The engine reads it once per event and key space, so a rule
/// with nothing open for the key costs no load of its per-key state (DESIGN §4: an event that
/// cannot start or extend a match costs one lookup). The key table's slot holds the latest event
/// time routed to the key on its way into the reorder buffer (``key(of:pinning:)``, read back by
/// ``pin(_:)``), which tells when no buffered event can still refer to the id.
///
/// Keys with no state can be reclaimed (``reclaim(_:)``): the id leaves the table, its text and
/// values are released, and the id is reused by the next new key. Ids are therefore stable only
/// while a key has state or buffered events; the engine decides when that is (Engine+Keys.swift).
public struct KeySpace {

  /// The slots of the key fields, in order.
  public let slots: [SlotIndex]
  private(set) var table = KeyTable()
  /// Key values, `slots.count` per id, in id order (nulls for a free id), in a block that grows
  /// where it lies once past a huge page (``PlainArray``): as a Swift array, each doubling copied
  /// every key's values into a new buffer, faulted whole (W2: 30 bytes copied per event,
  /// callgrind on 300k events). Shared by copies of the space, as ``masks``.
  let flatValues = PlainArray<Value>()
  /// `texts[id]`: the key as text once ``text(of:)`` has made it (values joined with `|`), else
  /// empty (and for a free id); ids past its end have none. Made when first asked for (an alert,
  /// a rule that reads `key`), not as the key is interned: a composite key's text was a string
  /// built by interpolation for every new key (~180 instructions per event of W2's
  /// `country_velocity` at 100k events), most of them never shown. Nor is the array grown as
  /// keys are interned, only as far as the highest id with a text: an empty text per key was
  /// 16 bytes per key, and the array's doublings copied them (W2: 21 bytes per event, session 46).
  private var texts: [String] = []
  /// Ids handed out, free ones included: the length of every per-key table.
  public private(set) var idCount = 0
  /// `masks[id]`: bit `b` set when the space's rule number `b` has state for key `id`. Shared
  /// by copies of the space (it is written in place, never copied on write); the engine never
  /// copies its spaces.
  let masks = OpenMasks()
  /// Which keys the space may hold, by bits of their hashes: tested before an event's deferred
  /// key is looked up (``Engine`` "Deferred keys"). Shared by copies of the space, as ``masks``.
  let presence = KeyPresence()
  /// Whether ``presence`` is kept as keys are interned: only in a space that may defer keys
  /// (set by the engine before the first key; elsewhere the map's inserts and rebuilds cost
  /// ~40 instructions per new key for nothing).
  var tracksPresence = false
  /// Whether ``presence`` is rebuilt larger as it fills. The engine turns it off while the space
  /// has paused deferring (bits are still set, so events deferred before the pause find their
  /// keys; the map just fills up), and rebuilds the map when deferral resumes.
  var rebuildsPresence = true
  /// Ids reclaimed and not yet reused; the last one is reused first.
  public private(set) var freeIDs: [UInt32] = []
  /// Keys reclaimed over the space's lifetime.
  public private(set) var reclaimed = 0
  /// Live keys with state in at least one tracked rule (open mask not zero); the rest, up to
  /// ``count``, are candidates for reclaiming.
  public var openKeys: Int { masks.openKeys }
  /// Keys interned over the space's lifetime (a reused id counts again).
  public private(set) var interned = 0
  /// Heap bytes of the live keys' texts too long to be stored inline (over 15 bytes), as glibc's
  /// malloc stores them; part of the engine's state estimate. Charged from the texts' lengths
  /// as keys are interned, whether ``text(of:)`` has made a text yet or not, so the estimate is
  /// the same on every run of the same input (and after a resume).
  public private(set) var textHeapBytes = 0

  /// The most rules of one space that ``openRules(_:)`` tracks; rules beyond it are treated as
  /// possibly open and their state is read directly.
  public static let trackedRules = 64

  /// An empty key space over `slots`.
  public init(slots: [SlotIndex]) { self.slots = slots }

  /// What a lookup of an event's key computes before it touches the table: the key's hash and
  /// its inline form (``probe(of:prefetching:)``). Computed ahead, while the event is decoded, it
  /// lets the table's line be fetched before the lookup needs it (``Engine/prepareArrival(of:)``).
  /// Valid only for the space that made it: the hash is seeded per table.
  public struct Probe {
    var hash: UInt64
    var inline: InlineKey
    /// A key field is missing or null: the event has no key here.
    var isMissing: Bool

    static let missing = Probe(hash: 0, inline: .notInline, isMissing: true)

    /// Whether both describe the same lookup (for debug checks of probes made ahead).
    func isSame(as other: Probe) -> Bool {
      hash == other.hash && inline.isSame(as: other.inline) && isMissing == other.isMissing
    }
  }

  /// The ``Probe`` of `event`'s key; with `prefetching`, also starts loading the table slot the
  /// lookup will probe first (a table of 100k keys is megabytes, and that slot was a cache miss
  /// on nearly every event). `mutating` only so that a caller's `keySpaces[i].probe` is an
  /// in-place access: a non-mutating call copied the space out of the array, retaining and
  /// releasing its arrays.
  @inline(__always)
  public mutating func probe(of event: EventRecord, prefetching: Bool) -> Probe {
    let probe = Self.probe(of: event, slots: slots, hasher: table.hasher)
    if prefetching { prefetch(for: probe) }
    return probe
  }

  /// The ``Probe`` of `event`'s key in a space over `slots` whose table hashes with `hasher`;
  /// touches nothing of the space, so it may run on another thread (``Engine/ArrivalProber``).
  @inline(__always)
  static func probe(of event: EventRecord, slots: [SlotIndex], hasher: KeyHasher) -> Probe {
    switch slots.count {
    case 0:
      return Probe(hash: 0, inline: .notInline, isMissing: false)
    case 1:
      return probe(of: event, slot: slots[0], hasher: hasher)
    default:
      return compositeProbe(of: event, slots: slots, hasher: hasher)
    }
  }

  /// ``probe(of:slots:hasher:)`` for a key of several fields, each hashed where it lies (a
  /// `Value` handed out of its slot is copied, a string's retain and release). Not inlined: in
  /// line, its loop made the single-field probe of every event ~17 instructions dearer (W1).
  @inline(never)
  static func compositeProbe(of event: EventRecord, slots: [SlotIndex], hasher: KeyHasher) -> Probe {
    for slot in slots where event.slots.withUnsafeValue(at: slot.index, { $0.pointee.isNull }) { return .missing }
    if slots.count == 2, hasher.readsSmallStrings, let probe = smallPairProbe(of: event, slots[0], slots[1], hasher: hasher) {
      assert(probe.isSame(as: generalProbe(of: event, slots: slots, hasher: hasher)), "a pair of short strings probed from its bits")
      return probe
    }
    return generalProbe(of: event, slots: slots, hasher: hasher)
  }

  /// ``compositeProbe(of:slots:hasher:)`` for any fields: each hashed from its value, and a pair
  /// of strings packed from their UTF-8 bytes.
  private static func generalProbe(of event: EventRecord, slots: [SlotIndex], hasher: KeyHasher) -> Probe {
    let hash = hasher.hash(count: slots.count) { i, seed in
      event.slots.withUnsafeValue(at: slots[i].index) { Value.keyHash(at: $0, seed: seed) }
    }
    let inline = slots.count == 2 ? pairInlineForm(event, slots[0], slots[1]) : .notInline
    return Probe(hash: hash, inline: inline, isMissing: false)
  }

  /// The probe of a key of two short strings (a user and a country: ``SmallString``), from their
  /// bits: each field's hash is ``Value/smallStringKey(_:seed:)``'s, the hash of its bytes, and
  /// the packed pair is shifted together from the two zero-padded words. `nil` when a field is
  /// not such a string. Through the strings' UTF-8 views, a W2 event with a composite key
  /// paid ~150 instructions for its probe.
  @inline(__always)
  private static func smallPairProbe(of event: EventRecord, _ first: SlotIndex, _ second: SlotIndex, hasher: KeyHasher)
    -> Probe?
  {
    guard let a = event.slots.withUnsafeValue(at: first.index, { Value.smallStringBits(at: $0) }),
      let b = event.slots.withUnsafeValue(at: second.index, { Value.smallStringBits(at: $0) })
    else { return nil }
    let hash = hasher.hash(count: 2) { i, seed in Value.smallStringKey(i == 0 ? a : b, seed: seed).hash }
    return Probe(hash: hash, inline: InlineKey(smallPair: a, b), isMissing: false)
  }

  /// The packed form of a key of two strings (``InlineKey/init(firstOf:second:)``), or
  /// ``InlineKey/notInline`` when they are not both strings or do not fit. Read in place.
  @inline(__always)
  static func pairInlineForm(_ event: EventRecord, _ first: SlotIndex, _ second: SlotIndex) -> InlineKey {
    event.slots.withUnsafeValue(at: first.index) { a in
      event.slots.withUnsafeValue(at: second.index) { b in
        guard case .string(let s) = a.pointee, case .string(let t) = b.pointee else { return .notInline }
        // Not packed: a string without contiguous UTF-8 (a bridged one), or too long.
        guard
          let outer = s.utf8.withContiguousStorageIfAvailable({ x in
            t.utf8.withContiguousStorageIfAvailable { y in InlineKey(firstOf: x, second: y) }
          }),
          let inner = outer, let key = inner
        else { return .notInline }
        return key
      }
    }
  }

  /// ``probe(of:slots:hasher:)`` for a space keyed by the one field in `slot`.
  @inline(__always)
  static func probe(of event: EventRecord, slot: SlotIndex, hasher: KeyHasher) -> Probe {
    // An absent field first, in line: the hashing closure below is a call (it is not inlined),
    // and most events lack some space's field (W1: every event its session; 53 instructions
    // per W1 event, callgrind).
    if event.slots.withUnsafeValue(at: slot.index, { $0.pointee.isNull }) { return .missing }
    // Read in place, not copied out (a copy of a string is a retain and a release).
    return event.slots.withUnsafeValue(at: slot.index) { value in
      let (hash, inline) = hasher.hashAndInlineForm(at: value)
      return Probe(hash: hash, inline: inline, isMissing: false)
    }
  }

  /// Starts loading the table slot a probe of this space made elsewhere will look at first
  /// (``Engine/prepareArrival(_:)``).
  @inline(__always)
  func prefetch(for probe: Probe) {
    if !probe.isMissing { table.prefetch(hash: probe.hash) }
  }

  /// Starts loading the table slot a lookup of a deferred key with presence bits `bits` reads
  /// first (the release loop's lookahead, ``Engine/prefetch(for:_:)``).
  @inline(__always)
  func prefetch(presenceBits bits: UInt32) { table.prefetch(folded: bits) }

  /// The id of `event`'s key, interning it if new; `nil` if a key field is missing or null.
  /// With `pinning`, raises the key's pin to the event's time (the event will wait in the
  /// reorder buffer, so the id must not be reclaimed before the watermark passes it).
  /// - Complexity: one hash-table probe sequence; amortised O(1).
  public mutating func key(of event: EventRecord, pinning: Bool = false) -> KeyID? {
    key(of: event, probe: probe(of: event, prefetching: false), pinning: pinning)
  }

  /// The id of `event`'s key, interned if new (not pinned), and whether it was new; `nil` if a
  /// key field is missing. For a deferred key that a starting match needs (``Engine`` "Deferred
  /// keys"): the engine counts the keys it had to intern.
  mutating func internedKey(of event: EventRecord) -> (key: KeyID, isNew: Bool)? {
    let before = interned
    guard let key = key(of: event, pinning: false) else { return nil }
    return (key, interned != before)
  }

  /// ``key(of:pinning:)`` with the key's ``Probe`` already computed by this space.
  public mutating func key(of event: EventRecord, probe: Probe, pinning: Bool = false) -> KeyID? {
    key(of: event, probe: probe, pinning: pinning, interning: true)
  }

  /// The id of `event`'s key if the space holds it, `nil` if it does not (or a key field is
  /// missing): nothing is interned and no pin raised. For an event whose key was deferred on
  /// arrival (``Engine`` "Deferred keys"), looked up as it is released.
  /// Not inlined: it is the rare path of the release loop (a presence bit set), and in line its
  /// hashing and probing kept the loop from being inlined itself.
  @inline(never)
  public mutating func find(_ event: EventRecord) -> KeyID? {
    key(of: event, probe: probe(of: event, prefetching: false), pinning: false, interning: false)
  }

  @inline(__always)
  private mutating func key(of event: EventRecord, probe: Probe, pinning: Bool, interning: Bool) -> KeyID? {
    if probe.isMissing { return nil }
    let pin: EventTime? = pinning ? event.time : nil
    let hash = probe.hash
    switch slots.count {
    case 0:
      if idCount == 0 {
        guard interning else { return nil }
        intern(EmptyCollection<Value>(), hash: 0, inline: .notInline, pin: nil)
      }
      return KeyID(0)
    case 1:
      let found: UInt32?
      if probe.inline.isInline {
        // The slot holds the key: a hit reads one cache line, never `flatValues`.
        found = table.lookup(hash: hash, inline: probe.inline, pinningAt: pin)
      } else {
        let value = event[slots[0]]
        found = flatValues.withElements(from: 0, count: flatValues.count) { stored in
          table.lookup(hash: hash, pinningAt: pin) { stored[Int($0)] == value }
        }
      }
      if let found { return KeyID(Int(found)) }
      guard interning else { return nil }
      return intern(CollectionOfOne(event[slots[0]]), hash: hash, inline: probe.inline, pin: pin)
    default:
      let found: UInt32?
      if probe.inline.isInline {
        // Two short strings (a user and a country) are compared in the table's slot, as a
        // single-field key is: comparing the stored values was a miss per event.
        found = table.lookup(hash: hash, inline: probe.inline, pinningAt: pin)
      } else {
        // Hashed and compared in place in the event's slots: an array of the values is built
        // only for a new key (it was one allocation per event for every composite key).
        let n = slots.count
        found = flatValues.withElements(from: 0, count: flatValues.count) { stored in
          table.lookup(hash: hash, pinningAt: pin) { id in
            let base = Int(id) * n
            for i in 0..<n where stored[base + i] != event[slots[i]] { return false }
            return true
          }
        }
      }
      if let found { return KeyID(Int(found)) }
      guard interning else { return nil }
      // The values on the stack, not in an array: a new composite key was an allocation (W2's
      // `(user, geo.country)` space: 0.26 per event, a seventh of the run's).
      let n = slots.count
      return withUnsafeTemporaryAllocation(of: Value.self, capacity: n) { buffer in
        // swift-format-ignore: NeverForceUnwrap
        // A temporary allocation of at least one element has a base address.
        let base = buffer.baseAddress!
        for i in 0..<n { (base + i).initialize(to: event[slots[i]]) }
        defer { base.deinitialize(count: n) }
        return intern(UnsafeBufferPointer(buffer), hash: hash, inline: probe.inline, pin: pin)
      }
    }
  }

  @discardableResult
  private mutating func intern<Values: Collection<Value>>(
    _ keyValues: Values, hash: UInt64, inline: InlineKey, pin: EventTime?
  ) -> KeyID {
    textHeapBytes += Self.textHeapBytes(of: keyValues)
    let id: KeyID
    if let free = freeIDs.popLast() {
      id = KeyID(Int(free))
      assert(id.index >= texts.count || texts[id.index].isEmpty, "a free id keeps no text")
      let base = id.index * slots.count
      for (i, value) in keyValues.enumerated() { flatValues[base + i] = value }
      masks.clear(id.index)
    } else {
      precondition(idCount < KeyID.limit, "a key space holds at most \(KeyID.limit) keys")
      id = KeyID(idCount)
      idCount += 1
      // Element by element: `append(contentsOf:)` of a `CollectionOfOne` (most keys) went
      // through the generic sequence path, ~90 instructions.
      for value in keyValues { flatValues.append(value) }
      masks.appendZero()
    }
    if !slots.isEmpty { table.insert(hash: hash, id: id.rawValue, inline: inline, pin: pin ?? .negativeInfinity) }
    interned += 1
    if tracksPresence {
      presence.insert(KeyPresence.bits(of: hash))
      if rebuildsPresence, presence.isCrowded(live: count) { rebuildPresence() }
    }
    return id
  }

  /// Sets ``presence`` afresh from the live keys (dropping the bits of reclaimed ones), sized
  /// for four times their count, so that it is rebuilt again (reading every slot of the key
  /// table) only once the interned keys have quadrupled: sized for twice, the rebuilds cost W5
  /// ~23 instructions per event (session 40).
  mutating func rebuildPresence() {
    presence.reset(forKeys: 4 * count)
    guard !slots.isEmpty else { return }
    table.forEachStoredHash { presence.insert(KeyPresence.bits(folded: $0)) }
  }

  /// Forgets key `id`: it is no longer found by ``key(of:)``, its text and values are released,
  /// and the id is handed to the next new key. The caller guarantees nothing refers to it.
  public mutating func reclaim(_ id: KeyID) {
    // Unconditional: every pin is at or before +infinity.
    _ = reclaimIfIdle(id, at: .infinity)
  }

  /// Reclaims live key `id` if its pin (``pin(_:)``: the latest event time routed to it on its
  /// way into the reorder buffer) is at or before `watermark`, so no buffered event still
  /// refers to the id (the key space's half of ``Engine/reclaimIfIdle(space:key:)``); returns
  /// whether it did. The key's hash is computed and the table probed once for the check and the
  /// removal: a pin check and then a removal did each twice, for every key a state limit
  /// emptied (on the adversarial test, a million budget drops).
  mutating func reclaimIfIdle(_ id: KeyID, at watermark: EventTime) -> Bool {
    guard !slots.isEmpty, id.index < idCount, !isFree(id),
      table.remove(hash: hash(of: id), id: id.rawValue, ifPinnedAtOrBefore: watermark)
    else { return false }
    textHeapBytes -= withValues(of: id) { Self.textHeapBytes(of: $0) }
    if id.index < texts.count { texts[id.index] = "" }
    for i in id.index * slots.count..<(id.index + 1) * slots.count { flatValues[i] = .null }
    masks.clear(id.index)
    freeIDs.append(id.rawValue)
    reclaimed += 1
    return true
  }

  /// A key's text: its values' texts joined by `|` (a single value's text as it is, with no
  /// joined copy).
  private static func joinedText<Values: Collection<Value>>(of values: Values) -> String {
    if values.count == 1, let only = values.first { return only.description }
    var text = ""
    for (i, value) in values.enumerated() {
      if i > 0 { text += "|" }
      text += value.description
    }
    return text
  }

  /// Key `id` as text: its values' texts joined by `|` (a single value's text as it is), made
  /// the first time it is asked for and kept until the key is reclaimed.
  public mutating func text(of id: KeyID) -> String {
    // A single string field is its own text: handed out as it is, nothing kept (a state limit
    // asks for the text of every key it drops: ~100 instructions per drop through the cache).
    if slots.count == 1, case .string(let string) = flatValues[id.index] { return string }
    if id.index < texts.count, !texts[id.index].isEmpty { return texts[id.index] }
    if slots.isEmpty || isFree(id) { return "" }
    let text = withValues(of: id) { Self.joinedText(of: $0) }
    if texts.count <= id.index { texts.append(contentsOf: repeatElement("", count: id.index + 1 - texts.count)) }
    texts[id.index] = text
    return text
  }

  /// Heap bytes of the text of a key with `values` (``joinedText(of:)``): from its length,
  /// without making it.
  @inline(__always)
  private static func textHeapBytes<Values: Collection<Value>>(of values: Values) -> Int {
    if values.count == 1, let only = values.first, case .string(let string) = only {
      return heapBytes(ofLength: string.utf8.count)
    }
    var n = max(0, values.count - 1)  // the `|`s
    for value in values {
      if case .string(let string) = value { n += string.utf8.count } else { n += value.description.utf8.count }
    }
    return heapBytes(ofLength: n)
  }

  /// Heap bytes of a string of `n` UTF-8 bytes: none when stored inline, else its storage object.
  private static func heapBytes(ofLength n: Int) -> Int {
    n <= 15 ? 0 : max(32, (32 + n + 1 + 8 + 15) & ~15)
  }

  /// Appends a free id (restoring a checkpoint: ids are re-created in order, free ones too).
  /// It is not reused until ``restoreFreeOrder(_:reclaimed:)`` hands over the free list.
  mutating func appendFreeID() -> KeyID {
    let id = KeyID(idCount)
    idCount += 1
    for _ in 0..<slots.count { flatValues.append(.null) }
    masks.appendZero()
    return id
  }

  /// Restores the free list (reuse order) and the reclaimed count of a checkpointed run;
  /// `false` unless `order` names every free id exactly once.
  mutating func restoreFreeOrder(_ order: [UInt32], reclaimed: Int) -> Bool {
    var free = 0
    for id in 0..<idCount where isFree(KeyID(id)) { free += 1 }
    guard order.count == free, Set(order).count == order.count else { return false }
    for raw in order where Int(raw) >= idCount || !isFree(KeyID(Int(raw))) { return false }
    freeIDs = order
    self.reclaimed = reclaimed
    return true
  }

  /// Whether `id` is free (reclaimed and not reused). A space without key fields has one key,
  /// never free.
  public func isFree(_ id: KeyID) -> Bool {
    !slots.isEmpty && flatValues[id.index * slots.count].isNull
  }

  /// The field values of key `id`, in key-field order (an alert's key values). A key of one
  /// field, most keys, is put in an array of one: through the generic collection copy it was
  /// ~280 instructions an alert. Inlined: called on an element of the engine's array of spaces,
  /// a call copied the whole space.
  @inline(__always)
  public func values(of id: KeyID) -> [Value] {
    if slots.count == 1 { return [flatValues[id.index]] }
    return withValues(of: id) { Array($0) }
  }

  /// Calls `body` with key `id`'s values in place (valid only inside `body`).
  @inline(__always)
  private func withValues<R>(of id: KeyID, _ body: (UnsafeBufferPointer<Value>) throws -> R) rethrows -> R {
    try flatValues.withElements(from: id.index * slots.count, count: slots.count, body)
  }

  /// Every id's values (``values(of:)``) one after another, in id order (a checkpoint's).
  public var allValues: [Value] { flatValues.withElements(from: 0, count: flatValues.count) { Array($0) } }

  /// Bit `b` is set when the space's rule number `b` has open or held matches for `id`.
  @inline(__always)
  public func openRules(_ id: KeyID) -> UInt64 { masks[id.index] }

  /// Records whether the space's rule number `bit` has state for `id`.
  @inline(__always)
  public func setOpen(_ isOpen: Bool, rule bit: Int, key id: KeyID) { masks.set(isOpen, bit: bit, at: id.index) }

  /// The pin of live key `id`: the latest event time routed to it with `pinning` since it was
  /// interned (`-infinity` for none; a space without key fields has no pins).
  public func pin(_ id: KeyID) -> EventTime {
    guard !slots.isEmpty, !isFree(id) else { return .negativeInfinity }
    return table.pin(hash: hash(of: id), id: id.rawValue)
  }

  /// The table hash of live key `id`'s values.
  func hash(of id: KeyID) -> UInt64 {
    if slots.count == 1 { return table.hash(flatValues[id.index]) }
    return withValues(of: id) { table.hash($0) }
  }

  /// Number of keys interned and not reclaimed.
  public var count: Int { idCount - freeIDs.count }
}

/// The open masks of a key space's ids (``KeySpace/openRules(_:)``): one word per id, in plain
/// memory the mask column owns.
///
/// Read and written for nearly every event (the release loop's bit tests and prefetch hints, the
/// bit set when a rule opens or closes a key). As an `Array` inside the space, itself an element
/// of the engine's array of spaces, each write and each prefetch hint went through a mutating
/// access that checked both arrays for uniqueness (two runtime calls); here a write is a store.
/// The engine reads it through an unretained reference (``Engine``'s `hotMasks`).
public final class OpenMasks {
  /// `base[0..<count]`: the masks, room for `capacity`.
  private(set) var base: UnsafeMutablePointer<UInt64>
  private(set) var count = 0
  private var capacity = 16
  /// Ids whose mask is not zero.
  private(set) var openKeys = 0

  init() {
    base = HugePages.allocate(UInt64.self, count: capacity)
  }

  deinit { HugePages.deallocate(base, count: capacity) }

  /// The mask of id `i`.
  @inline(__always)
  subscript(i: Int) -> UInt64 {
    precondition(i >= 0 && i < count, "key id out of range")
    return base[i]
  }

  /// A new id's mask: zero.
  func appendZero() {
    if count == capacity { grow() }
    base[count] = 0
    count += 1
  }

  /// Doubles the room, where it lies once past a huge page (``HugePages/reallocate``), not
  /// copied into a new block.
  @inline(never)
  private func grow() {
    base = HugePages.reallocate(base, from: capacity, to: 2 * capacity)
    capacity *= 2
  }

  /// Zeroes a reused or reclaimed id's mask (it has no state: the count of open keys stays).
  func clear(_ i: Int) {
    precondition(i >= 0 && i < count, "key id out of range")
    base[i] = 0
  }

  /// Sets or clears bit `bit` of id `i`'s mask (bits past ``KeySpace/trackedRules`` are not
  /// tracked and ignored), counting the ids whose mask turns zero or not zero.
  @inline(__always)
  func set(_ isOpen: Bool, bit: Int, at i: Int) {
    guard bit < KeySpace.trackedRules else { return }
    precondition(i >= 0 && i < count, "key id out of range")
    let before = base[i]
    let after = isOpen ? before | 1 << UInt64(bit) : before & ~(1 << UInt64(bit))
    guard after != before else { return }
    base[i] = after
    if before == 0 {
      openKeys += 1
    } else if after == 0 {
      openKeys -= 1
    }
  }

  /// Starts loading id `i`'s mask (a cache hint; ids past the column are ignored).
  @inline(__always)
  func prefetch(_ i: Int) {
    guard i < count else { return }
    MemoryHint.prefetch(base + i)
  }
}

/// Which keys a ``KeySpace`` may hold: one bit per 30-bit fragment of a key's hash
/// (``bits(of:)``) in a bitmap of a power-of-two size, set when a key is interned. No false
/// negatives: a clear bit means the space does not hold the key, so the event of a deferred key
/// (``Engine`` "Deferred keys") is done with the space after one load of a bitmap that stays in
/// cache, where a lookup hashed the key again and read a line of the key table. Bits of
/// reclaimed keys stay until the next rebuild (``KeySpace/rebuildPresence()``), as false
/// positives; the map is rebuilt larger when it holds more than one key per 16 bits (about one
/// false positive in 16).
final class KeyPresence {
  /// The map's scalars in plain memory: read and written per event and per new key without the
  /// exclusivity checks a class's `var` properties get.
  private struct State {
    var words: UnsafeMutablePointer<UInt64>
    var wordCount: Int
    /// `bits - 1`.
    var mask: UInt32
    /// Bits set since the last reset (one per interned key, duplicates counted).
    var inserted = 0
  }
  private let state: UnsafeMutablePointer<State>

  /// An empty map of 2¹⁶ bits (8 KiB).
  init() {
    let wordCount = 1 << 10
    let words = UnsafeMutablePointer<UInt64>.allocate(capacity: wordCount)
    words.initialize(repeating: 0, count: wordCount)
    state = .allocate(capacity: 1)
    state.initialize(to: State(words: words, wordCount: wordCount, mask: UInt32(wordCount * 64 - 1)))
  }

  deinit {
    state.pointee.words.deallocate()
    state.deallocate()
  }

  /// The 30 bits of a key's hash the map (and a deferred key's half-word, ``FourKeyIDs``) uses:
  /// the low bits of the key table's folded hash, which its slots keep (so a rebuild reads them,
  /// hashing nothing) and which pick the key's first slot in a table of up to 2³⁰ slots (so the
  /// release loop can fetch it ahead: ``KeySpace/prefetch(presenceBits:)``).
  @inline(__always)
  static func bits(of hash: UInt64) -> UInt32 { bits(folded: KeyTable.fold(hash)) }

  /// ``bits(of:)`` of a key table's folded hash.
  @inline(__always)
  static func bits(folded: UInt32) -> UInt32 { folded & (1 << 30 - 1) }

  /// Whether a key with presence bits `bits` may be in the space.
  @inline(__always)
  func mayHold(_ bits: UInt32) -> Bool {
    let i = bits & state.pointee.mask
    return state.pointee.words[Int(i &>> 6)] & (1 &<< UInt64(i & 63)) != 0
  }

  @inline(__always)
  func insert(_ bits: UInt32) {
    let i = bits & state.pointee.mask
    state.pointee.words[Int(i &>> 6)] |= 1 &<< UInt64(i & 63)
    state.pointee.inserted &+= 1
  }

  /// Whether the map holds more than one insertion per 16 bits, or twice the `live` keys'
  /// (reclaimed keys' bits piling up): time for ``KeySpace/rebuildPresence()``.
  @inline(__always)
  func isCrowded(live: Int) -> Bool {
    let bits = state.pointee.wordCount &* 64
    let inserted = state.pointee.inserted
    return inserted &* 16 > bits && (bits < 1 << 30 || inserted > 2 &* live)
  }

  /// Clears the map, sized for `keys` keys at 16 bits each (at least 2¹⁶ bits, at most 2³⁰).
  func reset(forKeys keys: Int) {
    var bits = 1 << 16
    while bits < 16 * keys && bits < 1 << 30 { bits *= 2 }
    if bits / 64 != state.pointee.wordCount {
      state.pointee.words.deallocate()
      state.pointee.wordCount = bits / 64
      state.pointee.words = .allocate(capacity: bits / 64)
    }
    state.pointee.words.initialize(repeating: 0, count: bits / 64)
    state.pointee.mask = UInt32(bits - 1)
    state.pointee.inserted = 0
  }
}
