/// Predicts each object key from the key before it, so the scanner confirms a key with one or
/// two masked word comparisons instead of scanning it and probing the ``ProjectionTrie``.
///
/// NDJSON from one producer repeats its key order: after `"card"` comes `"amount"`, after
/// `"amount"` comes `"currency"`. Every key the scanner meets has a *shape*: its raw bytes plus
/// the closing quote (at most ``maxKeyBytes`` key bytes, held as two little-endian words with
/// masks), the trie node it occurs in and its trie entry (-1 when unprojected). Each shape
/// remembers the shape that followed it last time (`next`) and the one before that (`other`,
/// tried second, so two alternating key orders — two event types — both predict); each node
/// has a start shape whose `next` is the object's first key.
///
/// Shape identities: shape `i < projectedCount` is trie entry `i` (filled in at creation); then
/// ``unprojectedBuckets`` direct-mapped shapes for unprojected keys, hashed by bytes and node;
/// then one start shape per node.
///
/// A prediction is used only when the shape's node is the current one and the line's bytes at
/// the key equal the shape's key bytes *and* closing quote. A shape's bytes contain no quote,
/// backslash or control byte (unprojected shapes are learned from keys scanned without any
/// special byte; projected keys containing one are never predicted) and are valid UTF-8, so
/// the match proves the key is exactly those bytes — the same entry the trie would give. Any mismatch
/// falls back to the full scan and relearns the prediction. The cache never changes a result.
///
/// Owned by one ``EventScanner``, copy-on-write like ``StringValueCache``.
final class KeyShapeCache: @unchecked Sendable {
  /// One key as seen in the input.
  struct Shape {
    var word0: UInt64 = 0
    var word1: UInt64 = 0
    var mask0: UInt64 = 0
    var mask1: UInt64 = 0
    /// Key bytes plus the closing quote; 0: never confirmed (a long key, or an empty bucket).
    var length: Int32 = 0
    /// The trie node the key belongs to.
    var node: Int32 = -1
    /// The trie entry, or -1 for an unprojected key.
    var entry: Int32 = -1
    /// The shape that followed this one last time, or -1.
    var next: Int32 = -1
    /// The shape that followed this one before `next` did, or -1: tried when `next` fails
    /// (two alternating key orders, e.g. two event types, both predict).
    var other: Int32 = -1
  }

  /// The longest key (in bytes, without quotes) that can be confirmed by prediction.
  static let maxKeyBytes = 15
  /// Shapes for unprojected keys (a power of two).
  static let unprojectedBuckets = 64
  static let unprojectedBits = 6

  let projectedCount: Int
  let nodeCount: Int
  let shapes: UnsafeMutablePointer<Shape>
  private let capacity: Int
  private let trie: ProjectionTrie

  /// A cache for `trie`'s keys, nothing learned yet.
  init(trie: ProjectionTrie) {
    self.trie = trie
    projectedCount = trie.entries.count
    nodeCount = trie.nodes.count
    capacity = projectedCount + KeyShapeCache.unprojectedBuckets + nodeCount
    shapes = .allocate(capacity: capacity)
    shapes.initialize(repeating: Shape(), count: capacity)
    let keyBytes = trie.keyBytes.baseAddress.unsafelyUnwrapped
    for node in 0..<nodeCount {
      let (first, stop) = trie.nodes[node]
      for i in Int(first)..<Int(stop) {
        let entry = trie.entries[i]
        shapes[i].node = Int32(node)
        shapes[i].entry = Int32(i)
        let count = Int(entry.keyLength)
        var bytes = [UInt8](UnsafeBufferPointer(start: keyBytes + Int(entry.keyStart), count: count))
        // Only keys JSON writes without escapes can be confirmed from raw bytes: in a key with
        // a quote, backslash or control character, matching bytes would not mean that key
        // (`{"a"b":1}` is not the key `a"b`).
        guard count <= KeyShapeCache.maxKeyBytes, !bytes.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 })
        else { continue }
        bytes.append(0x22)  // the closing quote
        bytes.withUnsafeBufferPointer { KeyShapeCache.setKey(&shapes[i], $0.baseAddress.unsafelyUnwrapped, length: count + 1, readable: 0) }
      }
      shapes[projectedCount + KeyShapeCache.unprojectedBuckets + node].node = Int32(node)
    }
  }

  deinit {
    shapes.deinitialize(count: capacity)
    shapes.deallocate()
  }

  /// A cache for the same trie with nothing learned (what a copy needs: starting over is
  /// always correct).
  func emptyCopy() -> KeyShapeCache {
    KeyShapeCache(trie: trie)
  }

  /// The cache's shapes as plain pointers, for the scanner's inner loop: no reference
  /// counting. Valid while the cache lives.
  var view: View { View(shapes: shapes, projectedCount: projectedCount) }

  /// See ``view``.
  struct View {
    let shapes: UnsafeMutablePointer<Shape>
    let projectedCount: Int

    /// The start shape of `node`: its `next` predicts the object's first key.
    @inline(__always)
    func startShape(node: Int) -> Int {
      projectedCount &+ KeyShapeCache.unprojectedBuckets &+ node
    }

    /// Records the unprojected key `bytes[0..<length]` (key bytes and closing quote, `length` at
    /// most ``maxKeyBytes`` + 1) in `node` and returns its shape. A different key in the same
    /// bucket is replaced, and with it what followed it.
    @inline(__always)
    func unprojectedShape(node: Int, _ bytes: UnsafePointer<UInt8>, length: Int, readable: Int) -> Int {
      var key = Shape()
      KeyShapeCache.setKey(&key, bytes, length: length, readable: readable)
      let mixed = (key.word0 ^ (key.word1 &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(truncatingIfNeeded: node &<< 8 | length))
        &* 0x9E37_79B9_7F4A_7C15
      let id = projectedCount &+ Int(truncatingIfNeeded: mixed &>> UInt64(64 - KeyShapeCache.unprojectedBits))
      let shape = shapes + id
      if shape.pointee.length != key.length || shape.pointee.node != Int32(node)
        || shape.pointee.word0 != key.word0 || shape.pointee.word1 != key.word1
      {
        key.node = Int32(node)
        shape.pointee = key
      }
      return id
    }
  }

  /// Sets the words, masks and length of `shape` to the key `bytes[0..<length]`.
  @inline(__always)
  static func setKey(_ shape: inout Shape, _ bytes: UnsafePointer<UInt8>, length: Int, readable: Int) {
    shape.length = Int32(length)
    shape.word0 = ProjectionTrie.prefixWord(bytes, count: length, readable: readable)
    shape.mask0 = length >= 8 ? ~0 : StringValueCache.mask(length)
    if length > 8 {
      shape.word1 = ProjectionTrie.prefixWord(bytes + 8, count: length &- 8, readable: readable &- 8)
      shape.mask1 = length >= 16 ? ~0 : StringValueCache.mask(length &- 8)
    } else {
      shape.word1 = 0
      shape.mask1 = 0
    }
  }
}
