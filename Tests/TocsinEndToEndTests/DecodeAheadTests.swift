import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime
import TocsinSinks
import TocsinTestSupport
import XCTest

@testable import TocsinApp

/// Decoding lines in batches ahead of the engine (`ReplaySession.decodeAhead`, with each event's
/// key lookups prepared as it is decoded) writes exactly what handing the engine one line at a
/// time writes: the same alerts, the same dead letters, the same counters.
final class DecodeAheadTests: XCTestCase {
  private struct Output: Equatable {
    var alerts: String
    var deadLetters: String
    var lines: Int
    var events: Int
    var alertCount: Int
    var badLines: [String: Int]
  }

  private func reader(_ bytes: [UInt8], chunk: Int, maxLineBytes: Int) -> LineReader {
    var position = 0
    return LineReader(chunkSize: chunk, maxLineBytes: maxLineBytes) { target in
      let n = min(target.count, bytes.count - position)
      for i in 0..<n { target[i] = bytes[position + i] }
      position += n
      return n
    }
  }

  /// Replays `bytes` through a fresh session, a line at a time or in batches.
  private func replay(
    _ bytes: [UInt8], rules: String, batched: Bool, chunk: Int, maxLineBytes: Int
  ) throws -> Output {
    let ruleSet = try RuleSet.load([Repository.path(rules)], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    var configuration = ReplayConfiguration()
    configuration.maxLineBytes = maxLineBytes
    var alerts: [UInt8] = []
    var deadLetters: [UInt8] = []
    let session = ReplaySession(
      programs: programs, configuration: configuration,
      alerts: { alerts += $0 }, deadLetters: { deadLetters += $0 })
    let input = reader(bytes, chunk: chunk, maxLineBytes: maxLineBytes)
    if batched {
      try session.consumeAll(from: input)
    } else {
      while let line = try input.nextLine() { try session.consume(line) }
    }
    try session.finish()
    let counters = session.counters
    return Output(
      alerts: String(decoding: alerts, as: UTF8.self), deadLetters: String(decoding: deadLetters, as: UTF8.self),
      lines: counters.lines, events: counters.events, alertCount: counters.alerts,
      badLines: Dictionary(uniqueKeysWithValues: counters.badLines.nonZero.map { ("\($0.reason)", $0.count) }))
  }

  func testBatchesWriteWhatSingleLinesWrite() throws {
    // (rules, events, max line bytes): the demo stream (alerts), the bad-input and hostile
    // streams (every dead-letter reason, over-long lines, empty lines), a poisoned first event
    // (lines held during time calibration), and 12k events of the benchmark's payment stream
    // (100k-user key tables, late and reordered events).
    let generated = Benchmark.paymentStream(PaymentStreamConfig(events: 12_000, users: 1_000, geoPairs: 30, velocityBursts: 30, bruteForceCases: 10, cardTestingCases: 10))
    let cases: [(String, [UInt8], Int)] = [
      ("rules", try fixture("fixtures/demo/events.ndjson"), LineReader.defaultMaxLineBytes),
      ("rules", try fixture("fixtures/bad_input/events.ndjson"), LineReader.defaultMaxLineBytes),
      ("rules/geo_impossible_purchase.tcs", try fixture("fixtures/hostile_input/events.ndjson"), 1024),
      (
        "rules/geo_impossible_purchase.tcs", try fixture("fixtures/time_poisoning_first_event/events.ndjson"),
        LineReader.defaultMaxLineBytes
      ),
      ("rules", generated, LineReader.defaultMaxLineBytes),
    ]
    for (rules, bytes, limit) in cases {
      let expected = try replay(bytes, rules: rules, batched: false, chunk: LineReader.defaultChunkSize, maxLineBytes: limit)
      XCTAssertFalse(expected.alerts.isEmpty && expected.deadLetters.isEmpty, "\(rules): the case must produce output")
      // Small chunks give batches of one or two lines, large ones full batches of 16.
      for chunk in [97, 1000, LineReader.defaultChunkSize] {
        let batched = try replay(bytes, rules: rules, batched: true, chunk: chunk, maxLineBytes: limit)
        XCTAssertEqual(batched, expected, "\(rules), \(bytes.count) bytes, chunk \(chunk)")
      }
    }
  }

  func testABatchGivenUpHalfWayAndALongBatchWriteWhatSingleLinesWrite() throws {
    // A caller may stop consuming a batch (a write error) and decode its remaining lines again
    // in the next, which here is longer than any before (room grows). The entries left behind —
    // events and a failure among them — are emptied, and the output is a line-at-a-time run's.
    var text = String(decoding: Benchmark.paymentStream(PaymentStreamConfig(events: 3_000, users: 200, geoPairs: 10, velocityBursts: 10, bruteForceCases: 5, cardTestingCases: 5)), as: UTF8.self)
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    text.insert("not json", at: 7)
    text.insert("", at: 9)
    text.insert("{\"type\":\"purchase\"}", at: 11)
    let bytes = Array(text.joined(separator: "\n").utf8)
    let expected = try replay(bytes, rules: "rules", batched: false, chunk: LineReader.defaultChunkSize, maxLineBytes: LineReader.defaultMaxLineBytes)

    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    var alerts: [UInt8] = []
    var deadLetters: [UInt8] = []
    let session = ReplaySession(
      programs: try XCTUnwrap(ruleSet.programs), configuration: ReplayConfiguration(),
      alerts: { alerts += $0 }, deadLetters: { deadLetters += $0 })
    // Each line as the reader would give it, over one buffer that outlives them all.
    var lines: [InputLine] = []
    try bytes.withUnsafeBytes { whole in
      var start = 0
      var offset: Int64 = 0
      for (n, line) in text.enumerated() {
        let length = line.utf8.count
        if n == text.count - 1 && length == 0 { break }
        lines.append(
          InputLine(
            bytes: UnsafeRawBufferPointer(rebasing: whole[start..<(start + length)]), number: n + 1, offset: offset,
            length: length, isTooLong: false))
        start += length + 1
        offset += Int64(length + 1)
      }
      session.decodeAhead(Array(lines[0..<16]))
      for i in 0..<5 { try session.consumeAhead(lines[i], at: i) }
      let long = Array(lines[5..<45])
      session.decodeAhead(long)
      for i in long.indices { try session.consumeAhead(long[i], at: i) }
      var next = 45
      while next < lines.count {
        let batch = Array(lines[next..<min(next + 16, lines.count)])
        session.decodeAhead(batch)
        for i in batch.indices { try session.consumeAhead(batch[i], at: i) }
        next += batch.count
      }
      try session.finish()
    }
    let counters = session.counters
    let batched = Output(
      alerts: String(decoding: alerts, as: UTF8.self), deadLetters: String(decoding: deadLetters, as: UTF8.self),
      lines: counters.lines, events: counters.events, alertCount: counters.alerts,
      badLines: Dictionary(uniqueKeysWithValues: counters.badLines.nonZero.map { ("\($0.reason)", $0.count) }))
    XCTAssertGreaterThan(expected.alertCount, 0)
    XCTAssertGreaterThanOrEqual(expected.badLines.values.reduce(0, +), 2, "the bad lines are dead-lettered")
    XCTAssertEqual(batched, expected)
  }

  func testBatchesTakeOnlyBufferedLines() throws {
    // 40 lines in one chunk: batches of 16, 16 and 8, the first line of each from `nextLine()`.
    let text = (1...40).map { "{\"n\":\($0)}" }.joined(separator: "\n") + "\n"
    let input = reader(Array(text.utf8), chunk: 1 << 16, maxLineBytes: 64)
    var lines: [InputLine] = []
    var sizes: [Int] = []
    var numbers: [Int] = []
    while try ReplaySession.nextBatch(from: input, into: &lines) {
      sizes.append(lines.count)
      numbers += lines.map(\.number)
    }
    XCTAssertEqual(sizes, [16, 16, 8])
    XCTAssertEqual(numbers, Array(1...40))
  }

  /// A run's ticks start the engine's huge-page advice once the run has gone on for the warm-up,
  /// where the policy waits for one (``HugePages/Policy/Advice/afterWarmUp``), and not before;
  /// under the other policies ticks change nothing.
  func testTicksStartHugePageAdviceAfterTheWarmUp() throws {
    let programs = try XCTUnwrap(RuleSet.load([Repository.path("rules")], ingest: IngestOptions()).programs)
    let session = ReplaySession(
      programs: programs, configuration: ReplayConfiguration(), alerts: { _ in }, deadLetters: { _ in })
    let before = HugePages.isAdvising
    let waiting = RunObserver(registry: nil, publishInterval: .seconds(1), progress: nil, hugePagesWarmUp: .seconds(3600))
    for _ in 0..<3 { waiting.tick(session: session, bytesRead: 0) }
    XCTAssertEqual(HugePages.isAdvising, before, "before the warm-up has passed")
    let warm = RunObserver(registry: nil, publishInterval: .seconds(1), progress: nil, hugePagesWarmUp: .zero)
    warm.tick(session: session, bytesRead: 0)
    let expected = HugePages.policy.advice == .afterWarmUp ? true : before
    XCTAssertEqual(HugePages.isAdvising, expected, "after the warm-up; policy \(HugePages.policy)")
  }

  func testBatchesSampleOneLineInSixtyFour() {
    // (batch sizes, in order) → which lines (1-based, over the whole run) are timed: the 64th,
    // 128th, … whatever the batches, and a batch's decoding runs once whether or not it holds
    // the sampled line.
    let cases: [[Int]] = [
      Array(repeating: 1, count: 200),
      Array(repeating: 16, count: 13),
      [63, 1, 64, 2, 62, 16],
      [5, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 3],
    ]
    for sizes in cases {
      let observer = RunObserver(registry: nil, publishInterval: .seconds(1), progress: nil)
      var line = 0
      var decodes = 0
      var consumed: [Int] = []
      for size in sizes {
        observer.sampledBatch(size, decode: { decodes += 1 }) { i in consumed.append(line + i + 1) }
        line += size
      }
      XCTAssertEqual(consumed, Array(1...line), "\(sizes)")
      XCTAssertEqual(decodes, sizes.count, "\(sizes)")
      XCTAssertEqual(observer.latency.count, UInt64(line / RunMetrics.sampleEvery), "\(sizes)")
    }
  }

  func testCheckpointsEveryNLinesFallOnTheirLine() throws {
    // `--checkpoint-interval N` (lines): batches end where a checkpoint is due, so checkpoints
    // record exactly lines 0, N, 2N, … (the input position after that many lines), as they did
    // when lines went to the engine one at a time.
    let directory = NSTemporaryDirectory() + "tocsin-batch-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // The demo stream's first 100 lines (a checkpoint every line writes a file per line).
    let demo = try String(contentsOfFile: Repository.path("fixtures/demo/events.ndjson"), encoding: .utf8)
    let lineCount = 100
    let input = directory + "/events.ndjson"
    try (demo.split(separator: "\n").prefix(lineCount).joined(separator: "\n") + "\n")
      .write(toFile: input, atomically: true, encoding: .utf8)
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    for n in [1, 3, 16, 17, 40] {
      let checkpoints = directory + "/\(n)"
      let options = RunPipeline.Options(
        inputPath: input, outputPath: directory + "/alerts-\(n)",
        checkpoint: CheckpointOptions(directory: checkpoints, interval: .lines(n), keep: 10_000))
      _ = try RunPipeline.run(programs: try XCTUnwrap(ruleSet.programs), rules: ruleSet.checked.rules, options: options)
      let store = try CheckpointStore(directory: checkpoints, keep: 10_000)
      let lines = try store.files().map { file in
        try Checkpoint(decoding: Array(try XCTUnwrap(FileManager.default.contents(atPath: file.path)))).input.line
      }
      XCTAssertEqual(lines, Array(stride(from: 0, through: lineCount, by: n)), "every \(n) lines")
    }
  }

  private func fixture(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: Repository.path(path))))
  }
}
