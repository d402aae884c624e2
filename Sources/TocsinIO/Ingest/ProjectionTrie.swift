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
    /// The key's first (up to) 8 bytes as a little-endian word, zero-padded: most keys are
    /// compared with one integer comparison.
    var prefixWord: UInt64 = 0
  }

  /// The little-endian word of `bytes[0..<min(count, 8)]`, zero-padded.
  @inline(__always)
  static func prefixWord(_ bytes: UnsafePointer<UInt8>, count: Int, readable: Int) -> UInt64 {
    let n = min(count, 8)
    if readable >= 8 {
      let word = UInt64(littleEndian: UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self))
      return n == 8 ? word : word & ((1 &<< UInt64(truncatingIfNeeded: n &* 8)) &- 1)
    }
    var word: UInt64 = 0
    var i = 0
    while i < n {
      word |= UInt64(bytes[i]) &<< UInt64(truncatingIfNeeded: i &* 8)
      i &+= 1
    }
    return word
  }

  let entries: UnsafeMutableBufferPointer<Entry>
  let keyBytes: UnsafeMutableBufferPointer<UInt8>
  /// `nodes[i]` is the entry range `(start, end)` of node `i`.
  let nodes: UnsafeMutableBufferPointer<(Int32, Int32)>
  /// `tables[i]` is node `i`'s hash table: `(offset in slotTable, bit count)`.
  let tables: UnsafeMutableBufferPointer<(Int32, Int32)>
  /// Open-addressed tables (linear probing, load ≤ 1/2) of entry index + 1; 0 is empty.
  let slotTable: UnsafeMutableBufferPointer<Int32>
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
        let utf8 = Array(key.utf8)
        entries[entries.count - 1].prefixWord = utf8.withUnsafeBufferPointer {
          $0.baseAddress.map { ProjectionTrie.prefixWord($0, count: utf8.count, readable: 0) } ?? 0
        }
        keyBytes.append(contentsOf: utf8)
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

    // One hash table per node, sized to a power of two at least twice its entry count.
    var tables: [(Int32, Int32)] = []
    var slotTable: [Int32] = []
    for (start, end) in nodes {
      var bits = 2
      while (1 << bits) < 2 * Int(end - start) { bits += 1 }
      let offset = slotTable.count
      slotTable.append(contentsOf: repeatElement(0, count: 1 << bits))
      for i in Int(start)..<Int(end) {
        var h = ProjectionTrie.hash(entries[i].prefixWord, count: Int(entries[i].keyLength), bits: bits)
        while slotTable[offset + h] != 0 { h = (h + 1) & ((1 << bits) - 1) }
        slotTable[offset + h] = Int32(i + 1)
      }
      tables.append((Int32(offset), Int32(bits)))
    }

    self.entries = .allocate(capacity: max(entries.count, 1))
    _ = self.entries.initialize(from: entries)
    self.keyBytes = .allocate(capacity: max(keyBytes.count, 1))
    _ = self.keyBytes.initialize(from: keyBytes)
    self.nodes = .allocate(capacity: max(nodes.count, 1))
    _ = self.nodes.initialize(from: nodes)
    self.clearSlots = .allocate(capacity: max(clearSlots.count, 1))
    _ = self.clearSlots.initialize(from: clearSlots)
    self.tables = .allocate(capacity: max(tables.count, 1))
    _ = self.tables.initialize(from: tables)
    self.slotTable = .allocate(capacity: max(slotTable.count, 1))
    _ = self.slotTable.initialize(from: slotTable)
  }

  /// The home bucket of a key with prefix word `word` and length `count` in a `bits`-bit table
  /// (Fibonacci hashing).
  @inline(__always)
  static func hash(_ word: UInt64, count: Int, bits: Int) -> Int {
    Int(truncatingIfNeeded: ((word ^ UInt64(count) << 56) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
  }

  deinit {
    entries.deallocate()
    keyBytes.deallocate()
    nodes.deallocate()
    clearSlots.deallocate()
    tables.deallocate()
    slotTable.deallocate()
  }

  /// The entry index of the key `bytes[0..<count]` in `node`, or -1 (see ``View/lookup(node:_:count:readable:)``).
  func lookup(node: Int, _ bytes: UnsafePointer<UInt8>, count: Int, readable: Int) -> Int {
    view.lookup(node: node, bytes, count: count, readable: readable)
  }

  /// The trie's tables as plain pointers, for the scanner's inner loop: no reference counting.
  /// Valid while the trie lives.
  var view: View {
    View(entries: entries, keyBytes: keyBytes, tables: tables, slotTable: slotTable, clearSlots: clearSlots)
  }

  /// See ``view``.
  struct View {
    let entries: UnsafeMutableBufferPointer<Entry>
    let keyBytes: UnsafeMutableBufferPointer<UInt8>
    let tables: UnsafeMutableBufferPointer<(Int32, Int32)>
    let slotTable: UnsafeMutableBufferPointer<Int32>
    let clearSlots: UnsafeMutableBufferPointer<Int32>

    /// The entry index of the key `bytes[0..<count]` in `node`, or -1; `readable` is how many
    /// bytes may be read at `bytes` (at least `count`).
    ///
    /// - Complexity: O(1) expected: one hash probe, and the length and prefix-word checks settle
    ///   most keys without a byte loop.
    @inline(__always)
    func lookup(node: Int, _ bytes: UnsafePointer<UInt8>, count: Int, readable: Int) -> Int {
      let (offset, bits) = tables[node]
      let table = slotTable.baseAddress.unsafelyUnwrapped + Int(offset)
      let mask = (1 &<< Int(bits)) &- 1
      let entries = self.entries.baseAddress.unsafelyUnwrapped
      let word = ProjectionTrie.prefixWord(bytes, count: count, readable: readable)
      var h = ProjectionTrie.hash(word, count: count, bits: Int(bits))
      while true {
        let candidate = Int(table[h]) &- 1
        if candidate < 0 { return -1 }
        let entry = entries + candidate
        if Int(entry.pointee.keyLength) == count && entry.pointee.prefixWord == word {
          if count <= 8 { return candidate }
          let key = keyBytes.baseAddress.unsafelyUnwrapped + Int(entry.pointee.keyStart)
          var j = 8
          while j < count && key[j] == bytes[j] { j &+= 1 }
          if j == count { return candidate }
        }
        h = (h &+ 1) & mask
      }
    }
  }
}
