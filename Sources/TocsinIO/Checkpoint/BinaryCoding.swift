import TocsinCore

/// Appends little-endian fixed-width integers, LEB128 varints, strings and ``Value``s to a byte
/// array: the checkpoint format's primitive layer (no Codable or JSON on this path: state can
/// be hundreds of megabytes).
public struct BinaryWriter {
  /// The bytes written so far.
  public private(set) var bytes: [UInt8] = []

  /// An empty writer.
  public init() {}

  /// Appends `value` as 4 little-endian bytes.
  public mutating func fixed32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
  }

  /// Appends `value` as 8 little-endian bytes.
  public mutating func fixed64(_ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
  }

  /// Appends an unsigned LEB128 varint.
  public mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  /// Appends a non-negative `Int` as a varint.
  public mutating func count(_ value: Int) { varint(UInt64(max(0, value))) }

  /// Appends a signed integer, zigzag-encoded.
  public mutating func signed(_ value: Int64) {
    varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
  }

  /// Appends an event time (nanoseconds, zigzag).
  public mutating func time(_ value: EventTime) { signed(value.nanosecondsSinceEpoch) }

  /// Appends an optional time: a presence byte, then the time.
  public mutating func optionalTime(_ value: EventTime?) {
    if let value {
      bytes.append(1)
      time(value)
    } else {
      bytes.append(0)
    }
  }

  /// Appends a length-prefixed UTF-8 string.
  public mutating func string(_ value: String) {
    count(value.utf8.count)
    bytes.append(contentsOf: value.utf8)
  }

  /// Appends a length-prefixed run of bytes.
  public mutating func blob(_ value: [UInt8]) {
    count(value.count)
    bytes.append(contentsOf: value)
  }

  /// Appends an optional string: a presence byte, then the string.
  public mutating func optionalString(_ value: String?) {
    if let value {
      bytes.append(1)
      string(value)
    } else {
      bytes.append(0)
    }
  }

  /// Appends a field path as its components.
  public mutating func fieldPath(_ path: FieldPath) {
    count(path.components.count)
    for component in path.components { string(component) }
  }

  /// Appends a value: a tag byte, then its payload.
  public mutating func value(_ value: Value) {
    switch value {
    case .null: bytes.append(0)
    case .bool(let b): bytes.append(b ? 2 : 1)
    case .int(let i):
      bytes.append(3)
      signed(i)
    case .float(let d):
      bytes.append(4)
      fixed64(d.bitPattern)
    case .string(let s):
      bytes.append(5)
      string(s)
    case .time(let t):
      bytes.append(6)
      time(t)
    case .duration(let d):
      bytes.append(7)
      signed(d.nanoseconds)
    case .list(let items):
      bytes.append(8)
      count(items.count)
      for item in items { self.value(item) }
    }
  }

  /// Appends raw bytes.
  public mutating func raw<S: Sequence>(_ other: S) where S.Element == UInt8 { bytes.append(contentsOf: other) }

  /// Reserves room for `n` more bytes.
  public mutating func reserve(_ n: Int) { bytes.reserveCapacity(bytes.count + n) }
}

/// Why bytes could not be decoded.
public struct BinaryDecodingError: Error, CustomStringConvertible, Equatable {
  /// What was expected, and where.
  public var description: String
}

/// Reads what ``BinaryWriter`` wrote, bounds-checked: a short or malformed input throws
/// ``BinaryDecodingError``, never traps or allocates more than the input could hold.
public struct BinaryReader {
  private let bytes: [UInt8]
  /// The read position.
  public private(set) var position: Int
  private let end: Int

  /// A reader over `bytes[range]`.
  public init(_ bytes: [UInt8], range: Range<Int>? = nil) {
    self.bytes = bytes
    self.position = range?.lowerBound ?? 0
    self.end = range?.upperBound ?? bytes.count
  }

  /// Bytes left to read.
  public var remaining: Int { end - position }

  private func fail(_ what: String) -> BinaryDecodingError {
    BinaryDecodingError(description: "\(what) at byte \(position)")
  }

  /// Reads one byte.
  public mutating func byte() throws(BinaryDecodingError) -> UInt8 {
    guard position < end else { throw fail("unexpected end of data") }
    defer { position += 1 }
    return bytes[position]
  }

  /// Reads 4 little-endian bytes.
  public mutating func fixed32() throws(BinaryDecodingError) -> UInt32 {
    guard remaining >= 4 else { throw fail("unexpected end of data") }
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
    position += 4
    return v
  }

  /// Reads 8 little-endian bytes.
  public mutating func fixed64() throws(BinaryDecodingError) -> UInt64 {
    guard remaining >= 8 else { throw fail("unexpected end of data") }
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(bytes[position + i]) << UInt64(8 * i) }
    position += 8
    return v
  }

  /// Reads an unsigned LEB128 varint.
  public mutating func varint() throws(BinaryDecodingError) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try byte()
      guard shift < 64 else { throw fail("varint too long") }
      result |= UInt64(b & 0x7F) << shift
      if b < 0x80 { return result }
      shift += 7
    }
  }

  /// Reads a count or index, which must not exceed `limit` (default: the bytes left, since every
  /// counted item takes at least one byte).
  public mutating func count(limit: Int? = nil) throws(BinaryDecodingError) -> Int {
    let v = try varint()
    let bound = limit ?? remaining
    guard v <= UInt64(bound) else { throw fail("count \(v) exceeds \(bound)") }
    return Int(v)
  }

  /// Reads a zigzag-encoded signed integer.
  public mutating func signed() throws(BinaryDecodingError) -> Int64 {
    let v = try varint()
    return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
  }

  /// Reads an event time.
  public mutating func time() throws(BinaryDecodingError) -> EventTime {
    EventTime(nanosecondsSinceEpoch: try signed())
  }

  /// Reads an optional time.
  public mutating func optionalTime() throws(BinaryDecodingError) -> EventTime? {
    switch try byte() {
    case 0: return nil
    case 1: return try time()
    default: throw fail("bad presence byte")
    }
  }

  /// Reads a string.
  public mutating func string() throws(BinaryDecodingError) -> String {
    let n = try count()
    defer { position += n }
    return String(decoding: bytes[position..<position + n], as: UTF8.self)
  }

  /// Reads a length-prefixed run of bytes.
  public mutating func blob() throws(BinaryDecodingError) -> [UInt8] {
    let n = try count()
    defer { position += n }
    return Array(bytes[position..<position + n])
  }

  /// Reads an optional string.
  public mutating func optionalString() throws(BinaryDecodingError) -> String? {
    switch try byte() {
    case 0: return nil
    case 1: return try string()
    default: throw fail("bad presence byte")
    }
  }

  /// Reads a field path.
  public mutating func fieldPath() throws(BinaryDecodingError) -> FieldPath {
    let n = try count()
    guard n > 0 else { throw fail("empty field path") }
    var components: [String] = []
    for _ in 0..<n { components.append(try string()) }
    return FieldPath(components)
  }

  /// Reads a value; lists may nest at most `depth` levels.
  public mutating func value(depth: Int = 64) throws(BinaryDecodingError) -> Value {
    switch try byte() {
    case 0: return .null
    case 1: return .bool(false)
    case 2: return .bool(true)
    case 3: return .int(try signed())
    case 4: return .float(Double(bitPattern: try fixed64()))
    case 5: return .string(try string())
    case 6: return .time(try time())
    case 7: return .duration(EventDuration(nanoseconds: try signed()))
    case 8:
      guard depth > 0 else { throw fail("lists nest too deep") }
      let n = try count()
      var items: [Value] = []
      items.reserveCapacity(n)
      for _ in 0..<n { items.append(try value(depth: depth - 1)) }
      return .list(items)
    default: throw fail("unknown value tag")
    }
  }

  /// Skips `n` bytes.
  public mutating func skip(_ n: Int) throws(BinaryDecodingError) {
    guard n >= 0, n <= remaining else { throw fail("unexpected end of data") }
    position += n
  }
}
