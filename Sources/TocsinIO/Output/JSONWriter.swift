import TocsinCore

/// Appends JSON text to a byte buffer, byte-for-byte deterministically.
///
/// The writer inserts commas itself; callers open and close containers and write keys and
/// values in order. It does not check that calls form a valid document beyond that (a key must
/// be followed by exactly one value): it is a formatter for trusted code, not a validator.
///
/// Formatting rules:
/// - No whitespace anywhere.
/// - Strings: `"` and `\` are escaped with a backslash, every control character U+0000–U+001F
///   as `\u00xx` (lower-case hex), everything else (including non-ASCII) passes through as UTF-8.
/// - Integers in decimal; doubles in the shortest text that round-trips (Swift's
///   `description`), integral values keep `.0` (`1.0`, `1e+20`); NaN and ±infinity are `null`.
///
///     var json = JSONWriter()
///     json.beginObject()
///     json.key("rule"); json.string("geo")
///     json.key("km"); json.value(.float(512.0))
///     json.endObject()          // {"rule":"geo","km":512.0}
public struct JSONWriter {
  /// The text written so far.
  public var bytes: [UInt8]
  /// One bit per open container: whether the next element needs a leading comma.
  private var needsComma: [Bool] = []
  /// Set after a key, so the following value gets no comma.
  private var afterKey = false

  /// Creates an empty writer with room for `capacity` bytes.
  public init(capacity: Int = 256) {
    bytes = []
    bytes.reserveCapacity(capacity)
    needsComma.reserveCapacity(8)
  }

  /// Empties the buffer, keeping its capacity.
  public mutating func reset() {
    bytes.removeAll(keepingCapacity: true)
    // Guarded: emptying an empty array still goes through the generic `replaceSubrange`
    // (records written as fragments, `state_limit` dead letters, open no object here).
    if !needsComma.isEmpty { needsComma.removeAll(keepingCapacity: true) }
    afterKey = false
  }

  // MARK: - Structure

  /// Writes `{`.
  public mutating func beginObject() {
    separate()
    bytes.append(UInt8(ascii: "{"))
    needsComma.append(false)
  }

  /// Writes `}`.
  public mutating func endObject() {
    bytes.append(UInt8(ascii: "}"))
    _ = needsComma.popLast()
  }

  /// Writes `[`.
  public mutating func beginArray() {
    separate()
    bytes.append(UInt8(ascii: "["))
    needsComma.append(false)
  }

  /// Writes `]`.
  public mutating func endArray() {
    bytes.append(UInt8(ascii: "]"))
    _ = needsComma.popLast()
  }

  /// Writes an object key and the `:`; the next call must write its value.
  public mutating func key(_ name: String) {
    separate()
    appendQuoted(name)
    bytes.append(UInt8(ascii: ":"))
    afterKey = true
  }

  // MARK: - Values

  /// Writes `value` (strings quoted and escaped), as ``Cursor/put(value:)`` spells it.
  public mutating func value(_ value: Value) {
    separate()
    fragment(upTo: Cursor.bound(of: value)) { $0.put(value: value) }
  }

  /// Writes a quoted, escaped string.
  public mutating func string(_ text: String) {
    separate()
    appendQuoted(text)
  }

  /// Writes arbitrary bytes as a quoted string; invalid UTF-8 becomes U+FFFD.
  public mutating func string(bytes raw: UnsafeRawBufferPointer) {
    separate()
    Self.withValidUTF8(of: raw) { utf8 in
      bytes.append(UInt8(ascii: "\""))
      appendEscaped(utf8: utf8)
      bytes.append(UInt8(ascii: "\""))
    }
  }

  /// Calls `body` with `raw` as valid UTF-8: ASCII bytes as they are (checked eight at a time);
  /// otherwise decoded into a string first, each invalid sequence replaced by U+FFFD.
  static func withValidUTF8<R>(of raw: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if JSONEscapes.isASCII(raw) { return body(raw.assumingMemoryBound(to: UInt8.self)) }
    var text = String(decoding: raw, as: UTF8.self)
    return text.withUTF8(body)
  }

  /// Appends `text` escaped, without quotes: the inside of a string value.
  public mutating func stringContent(_ text: String) {
    Self.withUTF8(of: text) { appendEscaped(utf8: $0) }
  }

  /// Calls `body` with `text`'s UTF-8: a native string lends its bytes as they are; another is
  /// copied into a native one first.
  @inline(__always)
  static func withUTF8(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
    if let done: Void = text.utf8.withContiguousStorageIfAvailable(body) { return done }
    var native = text
    native.withUTF8(body)
  }

  // MARK: - Fragments

  /// Appends a record written whole by `write` (see ``Cursor``), which writes at most `bound`
  /// bytes: JSON the caller spells out, for a record at the top level, where the comma
  /// bookkeeping has nothing to do. The writer neither checks nor tracks what it opens or
  /// closes. The record is built in memory on the stack and appended at once: one append where
  /// a record of many pieces made one per piece (a call and a uniqueness check each).
  public mutating func fragment(upTo bound: Int, _ write: (inout Cursor) -> Void) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
      var cursor = Cursor(buffer)
      write(&cursor)
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<cursor.count]))
    }
  }

  /// Writes JSON text into memory the caller provides: the one place each piece of the
  /// writer's formatting (digits, times, escapes) is spelled out; the writer's own methods
  /// write through it too. Traps rather than write past its memory.
  public struct Cursor {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// Bytes written so far.
    public private(set) var count = 0

    /// A cursor at the start of `buffer`.
    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
      base = buffer.baseAddress.unsafelyUnwrapped
      capacity = buffer.count
    }

    @inline(__always)
    private mutating func room(_ n: Int) {
      precondition(count + n <= capacity, "JSON fragment larger than its buffer")
    }

    /// `text` as it is.
    public mutating func put(_ text: StaticString) {
      let n = text.utf8CodeUnitCount
      room(n)
      (base + count).update(from: text.utf8Start, count: n)
      count += n
    }

    /// `bytes` as they are (JSON text the caller encoded).
    @inline(__always)
    public mutating func put(bytes: UnsafeBufferPointer<UInt8>) {
      room(bytes.count)
      if let source = bytes.baseAddress { (base + count).update(from: source, count: bytes.count) }
      count += bytes.count
    }

    /// `value` as 16 lower-case hex digits (``StableHash/hex(_:)``).
    public mutating func put(hex value: UInt64) {
      room(16)
      StableHash.writeHex(value, to: base + count)
      count += 16
    }

    /// The decimal digits of `i` (at most 20 bytes).
    public mutating func put(int i: Int64) {
      room(20)
      // The magnitude as UInt64: `Int64.min` has no positive Int64.
      if i < 0 {
        base[count] = UInt8(ascii: "-")
        count += 1
      }
      let width = DecimalDigits.count(i.magnitude)
      DecimalDigits.write(i.magnitude, width: width, to: base + count)
      count += width
    }

    /// `t` as a quoted RFC 3339 string (``EventTime/rfc3339``): its bytes (digits, `-`, `:`,
    /// `.`, `T`, `Z`, `+inf`) need no escaping.
    public mutating func put(time t: EventTime) {
      var days = RFC3339Days()
      put(time: t, days: &days)
    }

    /// `t` as ``put(time:)`` writes it, through `days` (which keeps the last date's text).
    public mutating func put(time t: EventTime, days: inout RFC3339Days) {
      room(EventTime.rfc3339MaxBytes + 2)
      base[count] = UInt8(ascii: "\"")
      count += 1 + days.write(t, into: base + count + 1)
      base[count] = UInt8(ascii: "\"")
      count += 1
    }

    /// `utf8` as the inside of a JSON string (at most 6 bytes per byte): a quote and a backslash
    /// escaped with a backslash, control bytes as `u00xx` escapes, everything else as it is.
    /// Needs room for ``escapedCount(_:)`` bytes; traps rather than write past the cursor's
    /// memory.
    ///
    /// Eight bytes at a time (``JSONEscapes``): each word is stored whole, and where its mask
    /// finds escapes, each is written in turn with the rest of the word stored again after it,
    /// so a run between escapes costs a few instructions per word, not per byte, and an escape
    /// about fifteen. A raw JSON line in a dead letter has a quote every few bytes: byte by byte
    /// with a copy call per run it cost ~17 instructions a byte (now ~8). A word is stored only
    /// where the cursor has room for all of it escaped and a last whole-word store; the bytes
    /// past what it wrote are overwritten by what follows or lie past ``count``.
    public mutating func put(escaped utf8: UnsafeBufferPointer<UInt8>) {
      guard let source = utf8.baseAddress else { return }
      let n = utf8.count
      var i = 0
      // In locals: the stores through `base` might alias `self` for all the compiler knows, so
      // it wrote `count` back and read it again around each of them.
      let (out, capacity) = (base, capacity)
      var count = count
      defer { self.count = count }
      while i &+ 8 <= n, count &+ 8 <= capacity {
        let word = JSONEscapes.load(source + i)
        JSONEscapes.store(word, out + count)
        var mask = JSONEscapes.mask(word)
        guard mask != 0 else {
          i &+= 8
          count &+= 8
          continue
        }
        // Every escape of the word from its mask, without loading it again: the bytes after
        // each escape are stored again, shifted to where they now go. Needs room for the word
        // escaped (at most 2 bytes a byte, 6 with control bytes) and a last whole-word store;
        // without it, the tail's byte path takes over from here.
        let most = JSONEscapes.controlMask(word) == 0 ? 24 : 56
        guard count &+ most <= capacity else { break }
        var done = 0
        repeat {
          let at = mask.trailingZeroBitCount &>> 3
          count &+= at &- done
          count &+= Self.writeEscape(source[i &+ at], to: out + count)
          done = at &+ 1
          mask &= mask &- 1
          JSONEscapes.store(word &>> UInt64(8 &* done & 63), out + count)
        } while mask != 0
        count &+= 8 &- done
        i &+= 8
      }
      // The tail (under eight bytes, or where the cursor has no room for a whole word).
      var run = i
      while i < n {
        if Self.needsEscape(source[i]) {
          let escape = source[i] < 0x20 ? 6 : 2
          precondition(count + (i - run) + escape <= capacity, "JSON fragment larger than its buffer")
          (out + count).update(from: source + run, count: i - run)
          count += i - run
          count += Self.writeEscape(source[i], to: out + count)
          run = i + 1
        }
        i += 1
      }
      precondition(count + (n - run) <= capacity, "JSON fragment larger than its buffer")
      (out + count).update(from: source + run, count: n - run)
      count += n - run
    }

    /// How many bytes ``put(escaped:)`` writes for `utf8`: eight bytes at a time, each escape
    /// one byte more, a control byte's five more (``JSONEscapes``).
    public static func escapedCount(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
      guard let source = utf8.baseAddress else { return 0 }
      let n = utf8.count
      var extra = 0
      var i = 0
      while i &+ 8 <= n {
        let word = JSONEscapes.load(source + i)
        let controls = JSONEscapes.controlMask(word)
        extra &+= (controls | JSONEscapes.quoteMask(word)).nonzeroBitCount &+ 4 &* controls.nonzeroBitCount
        i &+= 8
      }
      while i < n {
        let byte = source[i]
        if needsEscape(byte) { extra &+= byte < 0x20 ? 5 : 1 }
        i &+= 1
      }
      return n &+ extra
    }

    /// Whether `byte` is written as an escape inside a string: a quote, a backslash or a
    /// control byte.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
      byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// `text` quoted and escaped (``put(escaped:)``); needs room for ``bound(quoted:)`` bytes.
    public mutating func put(quoted text: String) {
      put(byte: UInt8(ascii: "\""))
      putContent(text)
      put(byte: UInt8(ascii: "\""))
    }

    /// One byte as it is.
    @inline(__always)
    public mutating func put(byte: UInt8) {
      room(1)
      base[count] = byte
      count += 1
    }

    /// An object member `"name":value`, after a comma unless it is the object's first (`index`
    /// 0); `name` writes the quoted name.
    @inline(__always)
    public mutating func put(member index: Int, value: Value, name: (inout Cursor) -> Void) {
      if index > 0 { put(byte: UInt8(ascii: ",")) }
      name(&self)
      put(byte: UInt8(ascii: ":"))
      put(value: value)
    }

    /// `text` escaped, without quotes.
    private mutating func putContent(_ text: String) {
      JSONWriter.withUTF8(of: text) { put(escaped: $0) }
    }

    /// `path`'s dotted spelling (``FieldPath/description``), quoted and escaped, without
    /// joining it into a string first.
    public mutating func put(quotedPath path: FieldPath) {
      put(byte: UInt8(ascii: "\""))
      for (i, component) in path.components.enumerated() {
        if i > 0 { put(byte: UInt8(ascii: ".")) }
        putContent(component)
      }
      put(byte: UInt8(ascii: "\""))
    }

    /// `value` as ``JSONWriter/value(_:)`` writes it; needs room for ``bound(of:)`` bytes.
    public mutating func put(value: Value) {
      switch value {
      case .null: put("null")
      case .bool(let b): put(b ? "true" : "false")
      case .int(let i): put(int: i)
      case .float(let d): putContent(Value.formatDouble(d))
      case .string(let s): put(quoted: s)
      // A time as RFC 3339 UTC text, a duration in the rule language's spelling (`90s`, `1h30m`):
      // the same text `tocsin` shows everywhere else, exact and unambiguous about its unit.
      case .time(let t): put(time: t)
      case .duration(let d): put(quoted: d.description)
      case .list(let items):
        put("[")
        for (i, item) in items.enumerated() {
          if i > 0 { put(",") }
          put(value: item)
        }
        put("]")
      }
    }

    /// The most bytes ``put(quoted:)`` writes for `text`: every byte a six-byte escape, and the
    /// quotes.
    public static func bound(quoted text: String) -> Int { 6 &* text.utf8.count &+ 2 }

    /// The most bytes ``put(value:)`` writes for `value`.
    public static func bound(of value: Value) -> Int {
      switch value {
      case .null, .bool: return 5
      case .int: return 20
      // Shortest round-trip text: at most 24 bytes (`-2.2250738585072014e-308`).
      case .float: return 32
      case .string(let s): return bound(quoted: s)
      case .time: return EventTime.rfc3339MaxBytes + 2
      case .duration(let d): return bound(quoted: d.description)
      case .list(let items): return items.reduce(2) { $0 &+ 1 &+ bound(of: $1) }
      }
    }

    /// Writes the escape of `byte` (one that needs one) at `target`, which has room for it, and
    /// returns its length: 2, or 6 for a control byte (`\u00xx`).
    @inline(__always)
    private static func writeEscape(_ byte: UInt8, to target: UnsafeMutablePointer<UInt8>) -> Int {
      target[0] = UInt8(ascii: "\\")
      guard byte < 0x20 else {
        target[1] = byte
        return 2
      }
      @inline(__always) func hex(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x57 + n }
      target[1] = UInt8(ascii: "u")
      target[2] = UInt8(ascii: "0")
      target[3] = UInt8(ascii: "0")
      target[4] = hex(byte >> 4)
      target[5] = hex(byte & 0xF)
      return 6
    }
  }

  /// Writes a time as a quoted RFC 3339 string (``EventTime/rfc3339``), formatted straight into
  /// the buffer: its bytes (digits, `-`, `:`, `.`, `T`, `Z`, `+inf`) need no escaping.
  public mutating func time(_ t: EventTime) {
    separate()
    fragment(upTo: EventTime.rfc3339MaxBytes + 2) { $0.put(time: t) }
  }

  /// Writes an integer (its digits formatted on the stack: `String(i)` cost ~500 instructions).
  public mutating func int(_ i: Int64) {
    separate()
    fragment(upTo: 20) { $0.put(int: i) }
  }

  /// Writes a double: shortest round-trip text, `.0` kept, non-finite as `null`.
  public mutating func double(_ d: Double) {
    separate()
    bytes.append(contentsOf: Value.formatDouble(d).utf8)
  }

  /// Writes `true` or `false`.
  public mutating func bool(_ b: Bool) {
    separate()
    bytes.append(contentsOf: b ? "true".utf8 : "false".utf8)
  }

  /// Writes `null`.
  public mutating func null() {
    separate()
    bytes.append(contentsOf: "null".utf8)
  }

  /// Writes `key` and `value`.
  public mutating func field(_ key: String, _ value: Value) {
    self.key(key)
    self.value(value)
  }

  /// Appends a raw newline (for NDJSON); only valid between top-level values.
  public mutating func newline() {
    bytes.append(0x0A)
  }

  // MARK: - Helpers

  @inline(__always)
  private mutating func separate() {
    if afterKey {
      afterKey = false
      return
    }
    if let last = needsComma.indices.last {
      if needsComma[last] { bytes.append(UInt8(ascii: ",")) }
      needsComma[last] = true
    }
  }

  /// Appends `text` as a JSON string: runs of bytes that need no escape are copied whole
  /// (alert and dead-letter lines are mostly such runs), `"`, `\\` and control bytes escaped.
  private mutating func appendQuoted(_ text: String) {
    bytes.append(UInt8(ascii: "\""))
    stringContent(text)
    bytes.append(UInt8(ascii: "\""))
  }

  /// Appends `utf8` as the inside of a JSON string, in one append: its escaped size counted
  /// first, then written through a cursor (``Cursor/put(escaped:)``). Run by run, each run and
  /// each escape was an append of its own (a call and a uniqueness check each): a dead letter's
  /// raw JSON line, a quote every few bytes, cost ~13k instructions.
  private mutating func appendEscaped(utf8: UnsafeBufferPointer<UInt8>) {
    let size = Cursor.escapedCount(utf8)
    // Nothing to escape (most strings): the bytes as they are.
    guard size > utf8.count else {
      bytes.append(contentsOf: utf8)
      return
    }
    // Eight bytes more than it writes: the cursor then stores whole words up to the end.
    fragment(upTo: size &+ 8) { $0.put(escaped: utf8) }
  }
}
