import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime
import XCTest

/// The checkpoint file format: checksum, framing, unknown sections, damaged files, the store's
/// atomic writes and fallback to an older file.
final class CheckpointFileTests: XCTestCase {
  func testCRC32C_CheckValues() {
    XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    XCTAssertEqual(CRC32C.checksum(Array(repeating: UInt8(0), count: 32)), 0x8A91_36AA)
    // Continuing equals one pass, across the 8-byte stride.
    let bytes = Array("the quick brown fox jumps over the lazy dog".utf8)
    XCTAssertEqual(CRC32C.checksum(bytes[13...], continuing: CRC32C.checksum(bytes[..<13])), CRC32C.checksum(bytes))
  }

  func testBinaryValues_RoundTrip() throws {
    let values: [Value] = [
      .null, .bool(true), .bool(false), .int(-1), .int(.max), .int(.min), .float(-0.5), .float(.infinity),
      .string(""), .string("héllo"), .time(EventTime(nanosecondsSinceEpoch: -5)),
      .duration(EventDuration(nanoseconds: 7)), .list([.int(1), .list([.string("x")])]),
    ]
    var w = BinaryWriter()
    for v in values { w.value(v) }
    var r = BinaryReader(w.bytes)
    for v in values { XCTAssertEqual(try r.value(), v) }
    XCTAssertEqual(r.remaining, 0)
    var short = BinaryReader(Array(w.bytes.dropLast()))
    XCTAssertThrowsError(try { for _ in values { _ = try short.value() } }())
  }

  private func sample() -> Checkpoint {
    var engine = EngineSnapshot()
    engine.events = [
      EventRecord(time: .milliseconds(1_000), sequence: 3, line: 4, identity: "e3", slots: [.string("a"), .int(5)])
    ]
    engine.nodes = [EngineSnapshot.Node(step: 0, event: 0, previous: -1)]
    var space = EngineSnapshot.KeySpaceState(fields: [FieldPath(["user"])], values: [.string("u"), .null, .null], count: 3)
    space.free = [2, 1]
    space.reclaimed = 7
    engine.keySpaces = [space]
    engine.rules = [
      EngineSnapshot.RuleState(
        name: "r", keySpace: 0, alerts: 2, missingKey: 1, typeErrors: 0, arithmeticErrors: 0,
        regexLimitHits: 0, firstTypeError: nil, firstRegexLimitPattern: nil,
        keys: [
          EngineSnapshot.KeyState(
            key: 0,
            partials: [
              EngineSnapshot.StoredComputation(
                state: 1, node: 0, start: EventPosition(time: .milliseconds(1_000), sequence: 3), absenceDeadline: nil)
            ], completed: [], scheduledDeadline: .milliseconds(61_000))
        ])
    ]
    engine.buffered = [0]
    engine.watermark = .milliseconds(500)
    engine.maxEventTime = .milliseconds(1_000)
    engine.calibrating = true
    engine.calibrationHeld = [0]
    engine.calibratedBase = .milliseconds(900)
    let suppressionKey = Suppressor.Key(rule: 0, isTimeout: true, value: .string("u"))
    var checkpoint = Checkpoint(
      rules: [.init(name: "r", fingerprint: "abc")], projection: [FieldPath(["type"]), FieldPath(["n"])],
      input: .init(path: "in.ndjson", byteOffset: 1234, line: 10),
      sinks: [.init(name: "alerts-file", position: 99)],
      session: .init(sequence: 4, counters: [.init(name: "lines", value: 10)]), engine: engine,
      suppression: .init(
        clocks: [.milliseconds(800)], suppressedByRule: [6],
        entries: [
          Suppressor.Entry(key: suppressionKey, written: .milliseconds(700), lastSeen: .milliseconds(800), suppressed: 2)
        ]),
      heldLines: [.init(line: 4, offset: 88, bytes: Array(#"{"type":"a"}"#.utf8))],
      extraSections: [(id: 70, payload: [1, 2, 3]), (id: 77, payload: [])])
    checkpoint.sinkRecords = [("pager", [Array("{\"id\":\"a\"}\n".utf8), []]), ("audit", [[0, 255]])]
    return checkpoint
  }

  func testCheckpoint_RoundTripsAndKeepsUnknownSections() throws {
    let original = sample()
    let bytes = original.encoded()
    XCTAssertEqual(Array(bytes.prefix(8)), Array("TOCSINCK".utf8))
    let decoded = try Checkpoint(decoding: bytes)
    XCTAssertEqual(decoded.rules, original.rules)
    XCTAssertEqual(decoded.projection, original.projection)
    XCTAssertEqual(decoded.input, original.input)
    XCTAssertEqual(decoded.sinks, original.sinks)
    XCTAssertEqual(decoded.session, original.session)
    XCTAssertEqual(decoded.engine.nodes, original.engine.nodes)
    XCTAssertEqual(decoded.engine.rules[0].keys[0].partials, original.engine.rules[0].keys[0].partials)
    XCTAssertEqual(decoded.engine.events[0].slots, original.engine.events[0].slots)
    XCTAssertEqual(decoded.suppression, original.suppression)
    XCTAssertEqual(decoded.heldLines, original.heldLines)
    XCTAssertEqual(decoded.engine.keySpaces[0].free, [2, 1])
    XCTAssertEqual(decoded.engine.keySpaces[0].reclaimed, 7)
    XCTAssertEqual(decoded.sinkRecords.map(\.sink), ["pager", "audit"])
    XCTAssertEqual(decoded.sinkRecords.map(\.records), original.sinkRecords.map(\.records))
    XCTAssertEqual(decoded.engine.calibrating, true)
    XCTAssertEqual(decoded.engine.calibrationHeld, [0])
    XCTAssertEqual(decoded.engine.calibratedBase, .milliseconds(900))
    XCTAssertEqual(decoded.extraSections.map(\.id), [70, 77])
    XCTAssertEqual(decoded.extraSections[0].payload, [1, 2, 3])
    XCTAssertEqual(decoded.encoded(), bytes, "encoding is deterministic")
  }

  func testDamagedFiles_AreRejectedNotDecoded() {
    let bytes = sample().encoded()
    func error(_ b: [UInt8]) -> CheckpointError? {
      do {
        _ = try Checkpoint(decoding: b)
        return nil
      } catch { return error }
    }
    XCTAssertEqual(error([]), .notACheckpoint)
    XCTAssertEqual(error(Array("NOTACKPT".utf8) + bytes.dropFirst(8)), .notACheckpoint)
    for cut in [12, bytes.count / 2, bytes.count - 1] {
      XCTAssertEqual(error(Array(bytes.prefix(cut))), cut < 16 ? .notACheckpoint : .checksumMismatch, "torn at \(cut)")
    }
    for position in stride(from: 8, to: bytes.count, by: 7) {
      var flipped = bytes
      flipped[position] ^= 0x10
      XCTAssertEqual(error(flipped), .checksumMismatch, "bit flip at \(position)")
    }
  }

  func testStore_KeepsTheLastThreeAndFallsBackPastADamagedOne() throws {
    let directory = NSTemporaryDirectory() + "tocsin-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(directory: directory)
    var checkpoint = sample()
    for line in 1...5 {
      checkpoint.input.line = line
      try store.write(checkpoint.encoded())
    }
    XCTAssertEqual(try store.files().map(\.number), [3, 4, 5])
    let newest = try XCTUnwrap(try store.files().last?.path)
    // A torn newest file: the one before it is used, and the skip is reported.
    let torn = Array(try XCTUnwrap(FileManager.default.contents(atPath: newest)).prefix(40))
    XCTAssertTrue(FileManager.default.createFile(atPath: newest, contents: Data(torn)))
    let loaded = try store.loadLatest()
    XCTAssertEqual(loaded.checkpoint?.input.line, 4)
    XCTAssertEqual(loaded.skipped.map(\.path), [newest])
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }, [],
      "no temporary files left")
  }
}
