import TocsinCore

private let quote: UInt8 = 0x22  // "

extension _JSONScanner {
  // MARK: - Keys

  /// Reads the key at `pos` (its opening quote) in `node` and returns its trie entry, or -1
  /// for an unprojected key.
  ///
  /// `previous` is the shape of the key before it in this object (the node's start shape for
  /// the first key), or -1: the shape it predicts is tried first (see ``KeyShapeCache``);
  /// otherwise the key is scanned and looked up, and the prediction relearned. On return
  /// `previous` is this key's shape.
  @inline(__always)
  mutating func objectKey(node: Int, after previous: inout Int) throws(ScanError) -> Int {
    if let entry = predictedKey(node: node, after: &previous) { return entry }
    return try learnKey(node: node, after: &previous)
  }

  /// The entry of the key at `pos` when it is the one `previous` predicts (then `pos` moves
  /// past the key and `previous` becomes its shape); otherwise `nil` and nothing changes.
  @inline(__always)
  mutating func predictedKey(node: Int, after previous: inout Int) -> Int? {
    guard previous >= 0 else { return nil }
    let predicted = Int(shapes.shapes[previous].next)
    guard predicted >= 0 && keyMatches(shape: predicted, node: node) else { return nil }
    return takeKey(shape: predicted, after: &previous)
  }

  /// Whether the key at `pos` is exactly shape `shape`'s key (bytes and closing quote) in `node`.
  @inline(__always)
  func keyMatches(shape id: Int, node: Int) -> Bool {
    let shape = shapes.shapes + id
    let start = pos &+ 1
    let readable = end &- start
    let length = Int(shape.pointee.length)
    guard shape.pointee.node == Int32(truncatingIfNeeded: node) && length > 0 else { return false }
    let raw = UnsafeRawPointer(base + start)
    if length <= 8 {
      guard readable >= 8 else { return false }
      let w = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
      return w & shape.pointee.mask0 == shape.pointee.word0
    }
    guard readable >= 16 else { return false }
    let w0 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
    let w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    return w0 == shape.pointee.word0 && w1 & shape.pointee.mask1 == shape.pointee.word1
  }

  /// Moves past the key at `pos`, which matches shape `id`, and returns its entry.
  @inline(__always)
  mutating func takeKey(shape id: Int, after previous: inout Int) -> Int {
    let shape = shapes.shapes + id
    pos = pos &+ 1 &+ Int(shape.pointee.length)
    previous = id
    return Int(shape.pointee.entry)
  }

  /// The key at `pos` when `previous` did not predict it: the key that followed `previous`
  /// the time before (which then becomes the prediction), or else the scanned and looked-up
  /// key, recorded as the new prediction.
  @inline(never)
  mutating func learnKey(node: Int, after previous: inout Int) throws(ScanError) -> Int {
    guard previous >= 0 else {
      let (entry, shape) = try scanKeyShape(node: node)
      previous = shape
      return entry
    }
    let before = shapes.shapes + previous
    let alternative = Int(before.pointee.other)
    if alternative >= 0 && keyMatches(shape: alternative, node: node) {
      before.pointee.other = before.pointee.next
      before.pointee.next = Int32(truncatingIfNeeded: alternative)
      return takeKey(shape: alternative, after: &previous)
    }
    let (entry, shape) = try scanKeyShape(node: node)
    if Int(before.pointee.next) != shape {
      before.pointee.other = before.pointee.next
      before.pointee.next = Int32(truncatingIfNeeded: shape)
    }
    previous = shape
    return entry
  }

  /// Scans the key at `pos` and returns its trie entry (or -1) and its shape (or -1 for a key
  /// no prediction can confirm: escaped, non-ASCII, or long and unprojected).
  @inline(__always)
  mutating func scanKeyShape(node: Int) throws(ScanError) -> (entry: Int, shape: Int) {
    let start = pos &+ 1
    let stop = nextSpecialByte(from: start)
    guard stop < end && base[stop] == quote else {
      let entry = try scanKeySlow(node: node)
      return (entry, entry)
    }
    pos = stop &+ 1
    let count = stop &- start
    let readable = end &- start
    let entry = trie.lookup(node: node, base + start, count: count, readable: readable)
    if entry >= 0 { return (entry, entry) }
    guard count <= KeyShapeCache.maxKeyBytes else { return (-1, -1) }
    return (-1, shapes.unprojectedShape(node: node, base + start, length: count &+ 1, readable: readable))
  }

  /// The entry of a key with escapes or non-ASCII bytes (and the errors of a bad key).
  @inline(never)
  mutating func scanKeySlow(node: Int) throws(ScanError) -> Int {
    let start = pos + 1
    let hasEscapes = try skipString()
    if !hasEscapes {
      return trie.lookup(node: node, base + start, count: pos - 1 - start, readable: end - start)
    }
    decodeEscapedString(from: start, to: pos - 1)
    let count = scratch.count
    return scratch.withUnsafeBufferPointer { decoded in
      // swift-format-ignore: NeverForceUnwrap
      // An escaped string decodes to at least one byte, so the buffer has a base address.
      trie.lookup(node: node, decoded.baseAddress.unsafelyUnwrapped, count: count, readable: count)
    }
  }
}
