import TocsinCore
import TocsinIO

/// Encodes one dead-letter record per bad input as an NDJSON line:
///
///     {"line":12,"offset":2048,"reason":"invalid_json","message":"…","raw":"…"}
///
/// `raw` is the input line truncated to 4 KiB, with invalid UTF-8 replaced by U+FFFD; extra
/// fields (a late event's `time` and `watermark`) follow `message`.
struct DeadLetterEncoder {
  static let rawLimit = 4096
  private var writer = JSONWriter(capacity: 512)

  mutating func encode(
    reason: DeadLetterReason, message: String, lineNumber: Int, offset: Int64,
    raw: UnsafeRawBufferPointer?, extra: [(String, String)]
  ) -> [UInt8] {
    writer.reset()
    writer.beginObject()
    writer.field("line", .int(Int64(lineNumber)))
    if offset >= 0 { writer.field("offset", .int(offset)) }
    writer.field("reason", .string(reason.id))
    writer.field("message", .string(message))
    for (key, value) in extra { writer.field(key, .string(value)) }
    if let raw {
      let kept = UnsafeRawBufferPointer(rebasing: raw[..<min(raw.count, Self.rawLimit)])
      writer.field("raw", .string(String(decoding: kept, as: UTF8.self)))
    }
    writer.endObject()
    writer.newline()
    return writer.bytes
  }
}
