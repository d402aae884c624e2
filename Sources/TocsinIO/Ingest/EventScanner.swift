import TocsinCore

/// Parses one NDJSON event line, keeping only the projected fields.
///
/// The scanner validates the whole line as JSON (RFC 8259) but materialises only the values of
/// the paths in its ``FieldProjection``; every other value is skipped byte by byte without being
/// decoded. It never uses Foundation.
///
/// Semantics:
/// - The line must be exactly one JSON object, optionally surrounded by JSON whitespace.
/// - Numbers: an integer literal (no fraction, no exponent) that fits `Int64` becomes `.int`;
///   every other number becomes `.float` (an integer beyond `Int64` loses precision). A
///   projected number too large for a double (`1e400`) is
///   ``ScanError/numberOutOfRange(offset:)``; one too small becomes `0.0`. `-0` is the
///   integer `0`.
/// - Strings: escapes are decoded (`\uXXXX` including surrogate pairs; lone surrogates are an
///   error); raw control characters are an error; invalid UTF-8 anywhere in a string (or key)
///   is ``ScanError/invalidUTF8(offset:)``.
/// - Nested paths (`geo.lat`) descend into objects. A projected path whose value is an object
///   or an array is stored as `.null` (the rule language has no object values).
/// - Duplicate keys: the last one wins, also for nested paths — a later `"geo"` replaces every
///   `geo.*` slot set by an earlier one.
/// - Nesting deeper than ``maxDepth`` objects/arrays (the event object is depth 1) is
///   ``ScanError/nestingTooDeep(offset:limit:)``.
///
/// Performance: no allocation per line except for projected string values longer than 15 UTF-8
/// bytes (shorter Swift strings are stored inline) and for escaped keys/strings beyond the
/// scratch buffer's capacity on first use. Strings run eight bytes at a time to their first
/// special byte; keys are found with one hash probe; short integers and plain decimals are
/// parsed in one pass; and a projected string value of up to 16 bytes that repeats (an event
/// type, a currency) is taken from a small per-slot ``StringValueCache`` instead of being
/// rebuilt. None of this changes a result.
///
///     var scanner = EventScanner(projection: FieldProjection([FieldPath(["type"])]))
///     var slots: [Value] = []
///     try scanner.scan(lineBytes, into: &slots)   // slots[0] == .string("purchase")
public struct EventScanner {
  /// The default nesting limit (objects and arrays, the event object counting as 1).
  public static let defaultMaxDepth = 64

  /// The paths this scanner extracts; slot `i` of the output is `projection.paths[i]`.
  public let projection: FieldProjection
  /// The deepest allowed nesting of objects and arrays.
  public let maxDepth: Int

  let trie: ProjectionTrie
  /// What the scanner learns and keeps between lines, copy-on-write as one object: a line
  /// checks one reference for uniqueness, not three.
  var caches: ScannerCaches
  /// Recent string values per slot (see ``StringValueCache``).
  var strings: StringValueCache { caches.strings }
  /// Key order seen so far (see ``KeyShapeCache``).
  var shapes: KeyShapeCache { caches.shapes }

  /// Creates a scanner for `projection`.
  /// - Parameters:
  ///   - projection: the fields to extract.
  ///   - maxDepth: the nesting limit; at least 1.
  public init(projection: FieldProjection, maxDepth: Int = EventScanner.defaultMaxDepth) {
    self.projection = projection
    self.maxDepth = max(1, maxDepth)
    self.trie = ProjectionTrie(projection)
    self.caches = ScannerCaches(
      strings: StringValueCache(slotCount: projection.count), shapes: KeyShapeCache(trie: trie), scratch: ScannerScratch())
  }

  /// Parses `line` and writes the projected values to `slots`.
  ///
  /// `slots` is resized to ``FieldProjection/count`` if needed (reuse one array across lines to
  /// avoid allocating), then every slot is set: the field's value, or `.null` when absent.
  /// After an error the contents of `slots` are unspecified.
  ///
  /// - Parameters:
  ///   - line: the line's bytes without its terminator.
  ///   - slots: the caller's slot buffer.
  /// - Throws: ``ScanError`` when the line is not a valid JSON object.
  public mutating func scan(_ line: UnsafeRawBufferPointer, into slots: inout [Value]) throws(ScanError) {
    let count = projection.count
    if slots.count != count {
      slots = [Value](repeating: .null, count: count)
    } else {
      for i in 0..<count { slots[i] = .null }
    }
    try slots.withUnsafeMutableBufferPointer { (buffer) throws(ScanError) in
      _ = try scan(line, intoNulled: buffer)
    }
  }

  /// Parses `line` into `slots`, which must hold ``FieldProjection/count`` values, all `.null`
  /// (a fresh ``EventSlots``): absent fields stay `.null`.
  /// After an error the contents of `slots` are unspecified (but initialized).
  /// - Returns: Whether a value it stored may hold a reference (a string not certainly in the
  ///   small form, ``Value/holdsNoReference(at:smallStrings:)``); `false` means every slot is
  ///   plain bits (``EventSlots/fillNulled(_:)``).
  /// - Throws: ``ScanError`` when the line is not a valid JSON object.
  public mutating func scan(_ line: UnsafeRawBufferPointer, intoNulled slots: UnsafeMutableBufferPointer<Value>)
    throws(ScanError) -> Bool
  {
    precondition(slots.count == projection.count, "slot buffer does not match the projection")
    guard let base = line.baseAddress, line.count > 0 else { throw .emptyLine }
    // A copy of this scanner may hold the same caches: never mutate shared ones.
    if !isKnownUniquelyReferenced(&caches) { caches = caches.emptyCopy() }
    let caches = self.caches
    var parser = _JSONScanner(
      base: base.assumingMemoryBound(to: UInt8.self), end: line.count, trie: trie.view,
      strings: caches.strings.view, shapes: caches.shapes.view, maxDepth: maxDepth, scratch: caches.scratch.bytes)
    parser.strings.mayReference.pointee = false
    // swift-format-ignore: NeverForceUnwrap
    // A zero-count buffer may have no base address; the parser never writes when the
    // projection (and so every entry's slot) is empty, so any non-null pointer is fine.
    let slotBase = slots.baseAddress ?? UnsafeMutablePointer(bitPattern: 8).unsafelyUnwrapped
    // The parser reads the trie, caches and scratch through plain pointers: keep them alive
    // meanwhile.
    try withExtendedLifetime(trie) { () throws(ScanError) in
      try withExtendedLifetime(caches) { () throws(ScanError) in try parser.run(slots: slotBase) }
    }
    // The only values the parser stores that may hold a reference are strings not certainly in
    // the small form (objects and arrays are stored as `.null`), all of which pass the cache's
    // flag (cleared above).
    return parser.strings.mayReference.pointee
  }

  /// Convenience for tests and tools: scans the bytes of `line`.
  public mutating func scan(_ line: String, into slots: inout [Value]) throws(ScanError) {
    let bytes = Array(line.utf8)
    var failure: ScanError? = nil
    bytes.withUnsafeBytes { raw in
      do throws(ScanError) { try scan(raw, into: &slots) } catch { failure = error }
    }
    if let failure { throw failure }
  }
}

/// An ``EventScanner``'s caches and scratch bytes, owned by one scanner at a time: a copy that
/// finds them shared makes its own, empty (``EventScanner/scan(_:intoNulled:)``; the caches only
/// ever save work, so starting over is always correct).
final class ScannerCaches {
  let strings: StringValueCache
  let shapes: KeyShapeCache
  let scratch: ScannerScratch

  init(strings: StringValueCache, shapes: KeyShapeCache, scratch: ScannerScratch) {
    self.strings = strings
    self.shapes = shapes
    self.scratch = scratch
  }

  /// Caches for the same slots and keys with nothing learned, and fresh scratch bytes.
  func emptyCopy() -> ScannerCaches {
    ScannerCaches(strings: strings.emptyCopy(), shapes: shapes.emptyCopy(), scratch: ScannerScratch())
  }
}

/// The bytes of escaped strings an ``EventScanner`` decodes, in memory of its own: the parser
/// holds a plain pointer to them, where an array it owned was swapped in and out of the scanner
/// on every line (a retain and a release each). Held in ``ScannerCaches``.
final class ScannerScratch {
  let bytes: UnsafeMutablePointer<[UInt8]>

  init() {
    bytes = .allocate(capacity: 1)
    var empty: [UInt8] = []
    empty.reserveCapacity(256)
    bytes.initialize(to: empty)
  }

  deinit {
    bytes.deinitialize(count: 1)
    bytes.deallocate()
  }
}
