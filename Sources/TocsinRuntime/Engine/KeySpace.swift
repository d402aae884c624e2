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
/// looked up once however many rules use it. The lookup hashes the field values themselves
/// (one `Value` for a single key field, the array of values for a composite key); the key's
/// text (values joined with `|`, used in alert ids and by the `key` expression) is built only
/// when a key is seen for the first time.
public struct KeySpace {
  /// The slots of the key fields, in order.
  public let slots: [SlotIndex]
  private var singleIDs: [Value: KeyID] = [:]
  private var compositeIDs: [[Value]: KeyID] = [:]
  /// `texts[id]`: the key as text (values joined with `|`).
  public private(set) var texts: [String] = []
  /// `values[id]`: the key's field values.
  public private(set) var values: [[Value]] = []

  /// An empty key space over `slots`.
  public init(slots: [SlotIndex]) { self.slots = slots }

  /// The id of `event`'s key, interning it if new; `nil` if a key field is missing or null.
  /// - Complexity: one hash lookup; amortised O(1).
  public mutating func key(of event: EventRecord) -> KeyID? {
    switch slots.count {
    case 0:
      if texts.isEmpty { intern([]) }
      return KeyID(0)
    case 1:
      let value = event[slots[0]]
      if value.isNull { return nil }
      if let id = singleIDs[value] { return id }
      let id = intern([value])
      singleIDs[value] = id
      return id
    default:
      var keyValues: [Value] = []
      keyValues.reserveCapacity(slots.count)
      for slot in slots {
        let value = event[slot]
        if value.isNull { return nil }
        keyValues.append(value)
      }
      if let id = compositeIDs[keyValues] { return id }
      let id = intern(keyValues)
      compositeIDs[keyValues] = id
      return id
    }
  }

  @discardableResult
  private mutating func intern(_ keyValues: [Value]) -> KeyID {
    let id = KeyID(texts.count)
    texts.append(keyValues.map(\.description).joined(separator: "|"))
    values.append(keyValues)
    return id
  }

  /// Number of distinct keys seen.
  public var count: Int { texts.count }
}
