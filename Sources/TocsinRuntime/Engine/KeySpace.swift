import TocsinCore

/// A dense integer id for one partition key value within a ``KeySpace``.
public struct KeyID: Hashable, Sendable, Comparable {
  /// The most keys one key space may hold.
  public static let limit = Int(UInt32.max) - 1
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
/// fast hash and a slot array holding hash and id side by side) and compares the stored key
/// values only on a hash match. The key's text (values joined with `|`, used in alert ids and
/// by the `key` expression) is built only when a key is seen for the first time.
///
/// Next to each key the space keeps ``openRules(_:)``: one bit per rule of the space whose
/// state for that key is not empty. The engine reads it once per event and key space, so a rule
/// with nothing open for the key costs no load of its per-key state (DESIGN §4: an event that
/// cannot start or extend a match costs one lookup).
public struct KeySpace {
  /// The slots of the key fields, in order.
  public let slots: [SlotIndex]
  private var table = KeyTable()
  /// Key values, `slots.count` per key, in id order.
  private var flatValues: [Value] = []
  /// `texts[id]`: the key as text (values joined with `|`).
  public private(set) var texts: [String] = []
  /// `openMasks[id]`: bit `b` set when the space's rule number `b` has state for key `id`.
  private var openMasks: [UInt64] = []

  /// The most rules of one space that ``openRules(_:)`` tracks; rules beyond it are treated as
  /// possibly open and their state is read directly.
  public static let trackedRules = 64

  /// An empty key space over `slots`.
  public init(slots: [SlotIndex]) { self.slots = slots }

  /// The id of `event`'s key, interning it if new; `nil` if a key field is missing or null.
  /// - Complexity: one hash-table probe sequence; amortised O(1).
  public mutating func key(of event: EventRecord) -> KeyID? {
    switch slots.count {
    case 0:
      if texts.isEmpty { intern([], hash: 0) }
      return KeyID(0)
    case 1:
      let value = event[slots[0]]
      if value.isNull { return nil }
      let hash = table.hash(value)
      let found = flatValues.withUnsafeBufferPointer { stored in
        table.lookup(hash: hash) { stored[Int($0)] == value }
      }
      if let found { return KeyID(Int(found)) }
      return intern([value], hash: hash)
    default:
      var keyValues: [Value] = []
      keyValues.reserveCapacity(slots.count)
      for slot in slots {
        let value = event[slot]
        if value.isNull { return nil }
        keyValues.append(value)
      }
      let n = slots.count
      let hash = keyValues.withUnsafeBufferPointer { table.hash($0) }
      let found = flatValues.withUnsafeBufferPointer { stored in
        table.lookup(hash: hash) { id in
          let base = Int(id) * n
          for i in 0..<n where stored[base + i] != keyValues[i] { return false }
          return true
        }
      }
      if let found { return KeyID(Int(found)) }
      return intern(keyValues, hash: hash)
    }
  }

  @discardableResult
  private mutating func intern(_ keyValues: [Value], hash: UInt64) -> KeyID {
    let id = KeyID(texts.count)
    texts.append(keyValues.map(\.description).joined(separator: "|"))
    flatValues.append(contentsOf: keyValues)
    openMasks.append(0)
    if !slots.isEmpty { table.insert(hash: hash, id: id.rawValue) }
    return id
  }

  /// The field values of key `id`, in key-field order.
  public func values(of id: KeyID) -> ArraySlice<Value> {
    flatValues[id.index * slots.count..<(id.index + 1) * slots.count]
  }

  /// Bit `b` is set when the space's rule number `b` has open or held matches for `id`.
  @inline(__always)
  public func openRules(_ id: KeyID) -> UInt64 { openMasks[id.index] }

  /// Records whether the space's rule number `bit` has state for `id`.
  @inline(__always)
  public mutating func setOpen(_ isOpen: Bool, rule bit: Int, key id: KeyID) {
    guard bit < Self.trackedRules else { return }
    if isOpen {
      openMasks[id.index] |= 1 << UInt64(bit)
    } else {
      openMasks[id.index] &= ~(1 << UInt64(bit))
    }
  }

  /// Number of distinct keys seen.
  public var count: Int { texts.count }
}
