import XCTest

@testable import TocsinCore
@testable import TocsinIO

/// The decoder tells each slot buffer whether a value it stored may hold a reference
/// (``EventScanner/scan(_:intoNulled:)`` through ``EventSlots/fillNulled(_:)``), so that buffers
/// without one are reset and freed without a look at each slot. The flag may be set needlessly,
/// never left clear over a reference: checked over generated lines whose projected values are
/// strings of every kind (short and long, ASCII and not, escaped, repeated so the string cache
/// serves them), numbers, literals, and objects and arrays (stored as `.null`), decoded into
/// pooled buffers as a replay does.
final class SlotReferencesTests: XCTestCase {
  private let fields = ["a", "b", "c", "d.e"]

  private static let strings: [String] = [
    "", "x", "short", "purchase", "u0123456789abcd", "exactly15bytes!", "sixteen-bytes-16", "a longer string value of 40 bytes......",
    "é", "Zürich", "São Paulo, Brasil", "日本語のテキスト",
    #"esc\"aped"#, #"back\\slash"#, #"line\nfeed"#, #"\u00e9t\u00e9"#, #"a much longer escaped \"value\" with \\ and more"#,
  ]

  /// A number in `0..<n`.
  private func pick(_ n: Int, _ random: inout SplitMix64) -> Int { Int(random.next(upTo: UInt64(n - 1))) }

  private func value(_ random: inout SplitMix64) -> String {
    switch pick(10, &random) {
    case 0...5: return "\"\(Self.strings[pick(Self.strings.count, &random)])\""
    case 6: return String(Int64(bitPattern: random.next()) % 100_000)
    case 7: return ["true", "false", "null"][pick(3, &random)]
    case 8: return "{\"x\":\"" + Self.strings[7] + "\"}"
    default: return "[\"" + Self.strings[7] + "\",1]"
    }
  }

  private func line(_ i: Int, _ random: inout SplitMix64) -> String {
    var members = ["\"ts\":\(1_700_000_000_000 + i)", "\"id\":\"e\(i)\""]
    for field in ["a", "b", "c"] where pick(4, &random) != 0 { members.append("\"\(field)\":\(value(&random))") }
    if pick(2, &random) == 0 { members.append("\"d\":{\"e\":\(value(&random))}") }
    members.shuffle(using: &random)
    return "{" + members.joined(separator: ",") + "}"
  }

  func testDecodedFlag_NeverClearOverAReference() throws {
    let small = SmallString.isAvailable
    var decoder = EventDecoder(ruleProjection: FieldProjection(fields.map { FieldPath(dotted: $0) }))
    let pool = EventSlots.Pool(limit: 8)
    decoder.slotPool = pool
    var random = SplitMix64(seed: 35)
    var (clear, set, withReference) = (0, 0, 0)
    for i in 0..<4_000 {
      let text = line(i, &random)
      var event = try decoder.decode(text, lineNumber: i + 1, sequence: UInt64(i))
      let flag = try XCTUnwrap(event.slots.storage).header.mayHoldReferences
      let holdsOne = (0..<event.slots.count).contains { i in
        event.slots.withUnsafeValue(at: i) { !Value.holdsNoReference(at: $0, smallStrings: small) }
      }
      if holdsOne {
        withReference += 1
        XCTAssertTrue(flag, "a reference under a clear flag: \(text)")
      }
      if flag { set += 1 } else { clear += 1 }
      // Given back as the release loop does, so the next line decodes into a reset buffer.
      pool.recycle(&event.slots)
    }
    // Both kinds occur, and the flag is clear for most lines without a reference: the
    // shortcut engages, it is not merely always off.
    XCTAssertGreaterThan(withReference, 500)
    if small { XCTAssertGreaterThan(clear, 500) }
    XCTAssertEqual(clear + set, 4_000)
  }

  /// A line of short ASCII values and numbers only (most of W1's) leaves the flag clear; one
  /// long, non-ASCII or escaped string sets it.
  func testDecodedFlag_ByTable() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not kept in place on this runtime")
    let cases: [(line: String, flag: Bool)] = [
      (#"{"ts":1,"a":"purchase","b":42,"c":"u0123"}"#, false),
      (#"{"ts":1,"a":"exactly15bytes!"}"#, false),
      (#"{"ts":1,"a":"sixteen-bytes-16"}"#, true),
      (#"{"ts":1,"b":"é"}"#, true),  // not built in place: counted as possibly holding one
      (#"{"ts":1,"c":"a\"b"}"#, true),  // escaped
      (#"{"ts":1,"d":{"e":"x"},"a":null,"b":true}"#, false),
      (#"{"ts":1,"a":{"nested":"a long string inside an object"}}"#, false),  // stored as null
    ]
    var decoder = EventDecoder(ruleProjection: FieldProjection(fields.map { FieldPath(dotted: $0) }))
    let pool = EventSlots.Pool(limit: 4)
    decoder.slotPool = pool
    for c in cases {
      var event = try decoder.decode(c.line)
      XCTAssertEqual(try XCTUnwrap(event.slots.storage).header.mayHoldReferences, c.flag, c.line)
      pool.recycle(&event.slots)
    }
  }
}
