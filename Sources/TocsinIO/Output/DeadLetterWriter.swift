import TocsinCore

/// Writes one NDJSON record per rejected input line or event.
///
/// Record shape, keys always in this order:
///
///     {"line":N,"offset":BYTES,"reason":"<id>","message":"<text>",<extra fields…>,"raw":"<line>"}
///
/// - `line`: 1-based input line; `offset`: byte offset of the line's start in the input.
/// - `reason`: a ``DeadLetterReason`` id; `message`: human-readable text (may change between
///   versions, unlike `reason`).
/// - extra fields: whatever the caller passes, in the given order (e.g. `"time"` and
///   `"watermark"` for `late`, `"key"` for `missing_key`).
/// - `raw`: the line, truncated to ``maxRawBytes`` (never inside a UTF-8 sequence), invalid
///   UTF-8 replaced by U+FFFD, JSON-escaped.
public final class DeadLetterWriter {
  /// The most bytes of the raw line a record keeps: 4 KiB.
  public static let maxRawBytes = 4096

  private let output: BufferedWriter
  private var json = JSONWriter(capacity: 8192)
  /// Records written so far.
  public private(set) var count = 0

  /// Writes records to `output`. The writer does not close it.
  public init(output: BufferedWriter) {
    self.output = output
  }

  /// Writes one record.
  /// - Throws: ``OutputError`` from the underlying writer.
  public func write(
    line: Int, offset: Int64, reason: DeadLetterReason, message: String, raw: UnsafeRawBufferPointer,
    extraFields: [(String, Value)] = []
  ) throws {
    json.reset()
    DeadLetterWriter.encode(
      into: &json, line: line, offset: offset, reason: reason, message: message, raw: raw,
      extraFields: extraFields)
    try output.write(json.bytes)
    count += 1
  }

  /// Writes the record for a line ``EventDecoder`` rejected.
  public func write(_ error: IngestError, line: InputLine) throws {
    try write(line: line.number, offset: line.offset, reason: error.reason, message: error.message, raw: line.bytes)
  }

  /// Writes the record for a line longer than the reader's limit (`line.bytes` is its prefix).
  public func writeTooLong(_ line: InputLine, limit: Int) throws {
    try write(
      line: line.number, offset: line.offset, reason: .lineTooLong,
      message: "line of \(line.length) bytes exceeds the limit of \(limit) bytes", raw: line.bytes)
  }

  /// Flushes the underlying writer.
  public func flush() throws { try output.flush() }

  /// Appends one record and its newline to `json`.
  ///
  /// Spelled out into one buffer, then appended at once (``JSONWriter/fragment(upTo:_:)``), the
  /// raw line escaped eight bytes at a time and, where it is ASCII, without decoding it into a
  /// string first: a bad-input flood (or a stream whose events mostly lack every rule's key)
  /// writes one record per line, and through the general writer's calls, one per piece, a
  /// record of a 180-byte line cost ~9,500 instructions (now ~3,500).
  /// `testRecord_SameBytesAsTheGeneralWriter` holds it to the general writer byte for byte.
  public static func encode(
    into json: inout JSONWriter, line: Int, offset: Int64, reason: DeadLetterReason, message: String,
    raw: UnsafeRawBufferPointer, extraFields: [(String, Value)] = []
  ) {
    var (id, message) = (reason.id, message)
    JSONWriter.withValidUTF8(of: truncated(raw)) { raw in
      id.withUTF8 { id in
        message.withUTF8 { message in
          // Fixed text (40 bytes), two numbers (20 bytes each), each text at most 6 bytes per
          // byte, and 8 more for the cursor's last whole-word store. Over 1 KiB (a line of ~150
          // bytes or more) the buffer is allocated rather than on the stack, ~550 instructions
          // with its release; counting the texts' escapes to size it exactly cost more (~600,
          // and ~500 counting only their control bytes).
          var bound = 96 &+ 6 &* (raw.count &+ id.count &+ message.count)
          for (key, value) in extraFields {
            bound &+= 2 &+ JSONWriter.Cursor.bound(quoted: key) &+ JSONWriter.Cursor.bound(of: value)
          }
          json.fragment(upTo: bound) { out in
            out.put(#"{"line":"#)
            out.put(int: Int64(line))
            out.put(#","offset":"#)
            out.put(int: offset)
            out.put(#","reason":""#)
            out.put(escaped: id)
            out.put(#"","message":""#)
            out.put(escaped: message)
            out.put(byte: UInt8(ascii: "\""))
            for (key, value) in extraFields {
              out.put(byte: UInt8(ascii: ","))
              out.put(quoted: key)
              out.put(byte: UInt8(ascii: ":"))
              out.put(value: value)
            }
            out.put(#","raw":""#)
            out.put(escaped: raw)
            out.put(#""}"#)
          }
        }
      }
    }
    json.newline()
  }

  /// A `state_limit` dead letter: the same record ``encode(into:line:offset:reason:message:raw:extraFields:)``
  /// writes for line 0, offset −1, no raw line and the fields `rule`, `key`, `limit`, `dropped`,
  /// `oldest_start` and `watermark`, with the message `"<dropped> partial matches of rule
  /// '<rule>' for key '<key>' dropped by <limit>"`.
  ///
  /// A state limit under attack writes one per event (the adversarial test: ~1.2M of them, a
  /// sixth of its run), so the record is spelled out here, fixed text between the escaped rule,
  /// key and limit, the digits and the times, and built on the stack to be appended at once
  /// (``JSONWriter/fragment(upTo:_:)``). Through the general writer it cost ~9,000
  /// instructions; as 21 appends to the writer's array, ~3,900.
  /// `testStateLimit_SameBytesAsTheGeneralRecord` holds it to the general record byte for byte.
  public static func encodeStateLimit(
    into json: inout JSONWriter, rule: String, key: String, limit: String, dropped: Int,
    oldestStart: EventTime, watermark: EventTime
  ) {
    var (rule, key, limit) = (rule, key, limit)
    rule.withUTF8 { rule in
      key.withUTF8 { key in
        limit.withUTF8 { limit in
          // Fixed text (186 bytes), two numbers (20 bytes each), two quoted times, and the rule,
          // key and limit twice each, escaped (at most 6 bytes per byte).
          let bound = 256 + 2 * (EventTime.rfc3339MaxBytes + 2) + 12 * (rule.count + key.count + limit.count)
          json.fragment(upTo: bound) { out in
            out.put(#"{"line":0,"offset":-1,"reason":"state_limit","message":""#)
            out.put(int: Int64(dropped))
            out.put(" partial matches of rule '")
            out.put(escaped: rule)
            out.put("' for key '")
            out.put(escaped: key)
            out.put("' dropped by ")
            out.put(escaped: limit)
            out.put(#"","rule":""#)
            out.put(escaped: rule)
            out.put(#"","key":""#)
            out.put(escaped: key)
            out.put(#"","limit":""#)
            out.put(escaped: limit)
            out.put(#"","dropped":"#)
            out.put(int: Int64(dropped))
            out.put(#","oldest_start":"#)
            out.put(time: oldestStart)
            out.put(#","watermark":"#)
            out.put(time: watermark)
            out.put(#","raw":""}"#)
          }
        }
      }
    }
    json.newline()
  }

  /// The first ``maxRawBytes`` of `raw`, shortened further so it does not end inside a UTF-8
  /// sequence that would be complete without the cut.
  static func truncated(_ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    guard raw.count > maxRawBytes else { return raw }
    var cut = maxRawBytes
    // Back up over continuation bytes (at most 3) to the lead byte, and drop the partial
    // sequence if the cut splits it.
    var back = 0
    while back < 3 && cut - back > 0 && raw[cut - back - 1] & 0xC0 == 0x80 { back += 1 }
    let leadIndex = cut - back - 1
    if leadIndex >= 0 {
      let lead = raw[leadIndex]
      let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
      if length > back + 1 { cut = leadIndex }
    }
    return UnsafeRawBufferPointer(rebasing: raw[0..<cut])
  }
}
