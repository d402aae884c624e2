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
    let shapeBase = shapes.shapes
    let predicted = Int(shapeBase[previous].next)
    guard predicted >= 0 else { return nil }
    let shape = shapeBase + predicted
    let start = pos &+ 1
    let readable = end &- start
    let length = Int(shape.pointee.length)
    guard shape.pointee.node == Int32(truncatingIfNeeded: node) && length > 0 else { return nil }
    let raw = UnsafeRawPointer(base + start)
    if length <= 8 {
      guard readable >= 8 else { return nil }
      let w = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
      guard w & shape.pointee.mask0 == shape.pointee.word0 else { return nil }
    } else {
      guard readable >= 16 else { return nil }
      let w0 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
      let w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
      guard w0 == shape.pointee.word0 && w1 & shape.pointee.mask1 == shape.pointee.word1 else { return nil }
    }
    pos = start &+ length
    previous = predicted
    return Int(shape.pointee.entry)
  }

  /// Scans and looks up the key at `pos`, and records it as what follows `previous`.
  @inline(never)
  mutating func learnKey(node: Int, after previous: inout Int) throws(ScanError) -> Int {
    let (entry, shape) = try scanKeyShape(node: node)
    if previous >= 0 { shapes.shapes[previous].next = Int32(truncatingIfNeeded: shape) }
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
