/// The set of fields a compiled rule set reads, each with its slot.
///
/// Ingestion parses only these paths out of each event line and skips every other value; the
/// compiled conditions read `slots[i]` directly. Slots are assigned in first-use order while
/// rules compile, so the layout is deterministic for a given rule set.
public struct FieldProjection: Sendable, Equatable {
  /// `paths[i]` is stored in slot `i`.
  public private(set) var paths: [FieldPath] = []
  private var slotByPath: [FieldPath: SlotIndex] = [:]

  /// An empty projection.
  public init() {}

  /// A projection of `paths` in order (duplicates collapse to their first slot).
  public init(_ paths: [FieldPath]) {
    for path in paths { _ = slot(for: path) }
  }

  /// The slot of `path`, adding it if new.
  public mutating func slot(for path: FieldPath) -> SlotIndex {
    if let existing = slotByPath[path] { return existing }
    let slot = SlotIndex(paths.count)
    paths.append(path)
    slotByPath[path] = slot
    return slot
  }

  /// The slot of `path` if it is projected.
  public func existingSlot(for path: FieldPath) -> SlotIndex? { slotByPath[path] }

  /// Number of slots an event needs.
  @inlinable public var count: Int { paths.count }
}
