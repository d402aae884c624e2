/// A path into an event object: `amount`, `geo.lat`.
public struct FieldPath: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The object keys, outermost first. Never empty.
  public var components: [String]

  /// Creates a path from its components.
  public init(_ components: [String]) {
    precondition(!components.isEmpty, "a field path has at least one component")
    self.components = components
  }

  /// Parses a dotted spelling (`"geo.lat"`). Empty components are kept as written.
  public init(dotted: String) {
    self.init(dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
  }

  /// The dotted spelling.
  public var description: String { components.joined(separator: ".") }

  public static func < (lhs: FieldPath, rhs: FieldPath) -> Bool {
    lhs.components.lexicographicallyPrecedes(rhs.components)
  }
}

/// The index of a projected field in an event's slot array.
///
/// The compiled rule set assigns one slot per distinct ``FieldPath`` it reads; ingestion fills
/// exactly those slots and skips the rest of each line.
public struct SlotIndex: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The largest number of slots a rule set may use.
  public static let limit = Int(UInt16.max)
  /// The position in ``EventRecord/slots``.
  public var rawValue: UInt16

  /// Creates a slot index; `index` must be below ``limit``.
  public init(_ index: Int) {
    precondition(index >= 0 && index < SlotIndex.limit, "slot index \(index) out of range")
    rawValue = UInt16(index)
  }

  /// The index as an `Int`.
  @inlinable public var index: Int { Int(rawValue) }
  public static func < (lhs: SlotIndex, rhs: SlotIndex) -> Bool { lhs.rawValue < rhs.rawValue }
  public var description: String { "$\(rawValue)" }
}
