import TocsinCore

/// The projected field paths of a ``FieldProjection`` as a tree of object keys, laid out flat for
/// the scanner's inner loop.
///
/// Node 0 is the event object. Each node owns a contiguous run of entries, one per distinct key
/// at that level, in first-use order. An entry may have a slot (the path ends here), a child node
/// (longer paths continue inside), or both (`geo` and `geo.lat` both projected).
///
/// Immutable after construction and stored in manually allocated memory so the scanner reads it
/// through raw pointers without bounds checks or copy-on-write checks.
final class ProjectionTrie: @unchecked Sendable {
  /// One key at one level.
  struct Entry {
    /// Offset of the key's UTF-8 bytes in ``keyBytes``.
    var keyStart: Int32
    /// Length of the key in bytes.
    var keyLength: Int32
    /// The slot the value goes to, or -1 when only longer paths continue here.
    var slot: Int32
    /// The node for keys inside this key's object value, or -1.
    var child: Int32
    /// Range in ``clearSlots`` of the slots below ``child``: reset to `.null` whenever the key
    /// occurs, so a duplicate key replaces the earlier object as a whole (last one wins).
    var clearStart: Int32
    var clearEnd: Int32
  }

  let entries: UnsafeMutableBufferPointer<Entry>
  let keyBytes: UnsafeMutableBufferPointer<UInt8>
  /// `nodes[i]` is the entry range `(start, end)` of node `i`.
  let nodes: UnsafeMutableBufferPointer<(Int32, Int32)>
  let clearSlots: UnsafeMutableBufferPointer<Int32>

  init(_ projection: FieldProjection) {
    var entries: [Entry] = []
    var keyBytes: [UInt8] = []
    var nodes: [(Int32, Int32)] = []
    var clearSlots: [Int32] = []

    // Builds the node for `paths` (suffixes paired with their slot) and returns its index and
    // every slot at or below it.
    func build(_ paths: [(ArraySlice<String>, Int)]) -> (node: Int, slots: [Int32]) {
      var keys: [String] = []
      var groups: [String: [(ArraySlice<String>, Int)]] = [:]
      for (suffix, slot) in paths {
        // swift-format-ignore: NeverForceUnwrap
        // `FieldPath` guarantees at least one component and callers only pass non-empty suffixes.
        let key = suffix.first!
        if groups[key] == nil { keys.append(key) }  // first-use order, never hash order
        groups[key, default: []].append((suffix.dropFirst(), slot))
      }
      let node = nodes.count
      let first = entries.count
      nodes.append((Int32(first), Int32(first + keys.count)))
      for key in keys {
        entries.append(
          Entry(
            keyStart: Int32(keyBytes.count), keyLength: Int32(key.utf8.count), slot: -1,
            child: -1, clearStart: 0, clearEnd: 0))
        keyBytes.append(contentsOf: key.utf8)
      }
      var all: [Int32] = []
      for (i, key) in keys.enumerated() {
        let group = groups[key] ?? []
        var deeper: [(ArraySlice<String>, Int)] = []
        for (suffix, slot) in group {
          if suffix.isEmpty {
            entries[first + i].slot = Int32(slot)
            all.append(Int32(slot))
          } else {
            deeper.append((suffix, slot))
          }
        }
        if !deeper.isEmpty {
          let (child, below) = build(deeper)
          entries[first + i].child = Int32(child)
          entries[first + i].clearStart = Int32(clearSlots.count)
          clearSlots.append(contentsOf: below)
          entries[first + i].clearEnd = Int32(clearSlots.count)
          all.append(contentsOf: below)
        }
      }
      return (node, all)
    }

    let paths = projection.paths.enumerated().map { (ArraySlice($0.element.components), $0.offset) }
    _ = build(paths)

    self.entries = .allocate(capacity: max(entries.count, 1))
    _ = self.entries.initialize(from: entries)
    self.keyBytes = .allocate(capacity: max(keyBytes.count, 1))
    _ = self.keyBytes.initialize(from: keyBytes)
    self.nodes = .allocate(capacity: max(nodes.count, 1))
    _ = self.nodes.initialize(from: nodes)
    self.clearSlots = .allocate(capacity: max(clearSlots.count, 1))
    _ = self.clearSlots.initialize(from: clearSlots)
  }

  deinit {
    entries.deallocate()
    keyBytes.deallocate()
    nodes.deallocate()
    clearSlots.deallocate()
  }

  /// The entry index of the key `bytes[0..<count]` in `node`, or -1.
  ///
  /// - Complexity: O(entries in the node); nodes are small (the fields rules read), and the
  ///   length check rejects most keys before any byte is compared.
  @inline(__always)
  func lookup(node: Int, _ bytes: UnsafePointer<UInt8>, count: Int) -> Int {
    let (start, end) = nodes[node]
    var i = Int(start)
    let keys = keyBytes.baseAddress.unsafelyUnwrapped
    while i < Int(end) {
      let entry = entries[i]
      if Int(entry.keyLength) == count {
        let key = keys + Int(entry.keyStart)
        var j = 0
        while j < count && key[j] == bytes[j] { j += 1 }
        if j == count { return i }
      }
      i += 1
    }
    return -1
  }
}
