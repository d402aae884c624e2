import TocsinCore

/// A dense integer id for one partition key value within a ``KeySpace``.
public struct KeyID: Hashable, Sendable, Comparable {
  /// The most keys one key space may hold.
  public static let limit = Int(UInt32.max)
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
/// looked up once however many rules use it.
public struct KeySpace {
  /// The slots of the key fields, in order.
  public let slots: [SlotIndex]
  private var ids: [String: KeyID] = [:]
  /// `texts[id]`: the key as text (values joined with `|`).
  public private(set) var texts: [String] = []
  /// `values[id]`: the key's field values.
  public private(set) var values: [[Value]] = []

  /// An empty key space over `slots`.
  public init(slots: [SlotIndex]) { self.slots = slots }

  /// The id of `event`'s key, interning it if new; `nil` if a key field is missing or null.
  public mutating func key(of event: EventRecord) -> KeyID? {
    if slots.isEmpty {
      if texts.isEmpty { intern(text: "", values: []) }
      return KeyID(0)
    }
    var text = ""
    for (i, slot) in slots.enumerated() {
      let value = event[slot]
      if value.isNull { return nil }
      if i > 0 { text += "|" }
      text += value.description
    }
    if let id = ids[text] { return id }
    return intern(text: text, values: slots.map { event[$0] })
  }

  @discardableResult
  private mutating func intern(text: String, values keyValues: [Value]) -> KeyID {
    let id = KeyID(texts.count)
    ids[text] = id
    texts.append(text)
    values.append(keyValues)
    return id
  }

  /// Number of distinct keys seen.
  public var count: Int { texts.count }
}
