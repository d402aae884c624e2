import Foundation
@testable import TocsinApp
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

/// `--workers 2` (reading and decoding on a second thread) writes exactly what one thread
/// writes: the same alerts and the same dead letters, byte for byte.
final class WorkersTests: XCTestCase {
  /// The alerts and dead letters `workers` threads write for `events` under `rules`, and the
  /// run's summary.
  private func run(
    rules: String, events: String, workers: Int, maxLineBytes: Int? = nil, decodingThreadDecodes: Bool = true
  ) throws -> (alerts: String, deadLetters: String, summary: RunSummary) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ruleSet = try RuleSet.load([Repository.path(rules)], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    var configuration = ReplayConfiguration()
    if let maxLineBytes { configuration.maxLineBytes = maxLineBytes }
    var options = RunPipeline.Options(
      inputPath: events.hasPrefix("/") ? events : Repository.path(events), outputPath: dir.appendingPathComponent("alerts").path,
      deadLetterPath: dir.appendingPathComponent("dead").path, configuration: configuration)
    options.workers = workers
    options.decodingThreadDecodes = decodingThreadDecodes
    let summary = try RunPipeline.run(programs: programs, rules: ruleSet.checked.rules, options: options)
    return (
      try String(contentsOf: dir.appendingPathComponent("alerts"), encoding: .utf8),
      try String(contentsOf: dir.appendingPathComponent("dead"), encoding: .utf8),
      summary
    )
  }

  func testTwoWorkersWriteWhatOneWrites() throws {
    // (rules, events, max line bytes): the demo stream (alerts), the bad-input and hostile
    // streams (every dead-letter reason, over-long lines), and a poisoned first event (lines held
    // during time calibration are quoted from the batch copies).
    let cases: [(String, String, Int?)] = [
      ("rules", "fixtures/demo/events.ndjson", nil),
      ("rules", "fixtures/bad_input/events.ndjson", nil),
      ("rules/geo_impossible_purchase.tcs", "fixtures/hostile_input/events.ndjson", 1024),
      ("rules/geo_impossible_purchase.tcs", "fixtures/time_poisoning_first_event/events.ndjson", nil),
    ]
    for (rules, events, limit) in cases {
      try compare(rules: rules, events: events, maxLineBytes: limit)
    }
  }

  /// A stream of many batches (``DecodingStage/batchLines`` each): batches go back to the
  /// decoding thread and are refilled, and slot buffers travel back with them to its pool. The
  /// output must not notice.
  func testManyBatches_SameOutput() throws {
    let config = PaymentStreamConfig(
      seed: 11, events: 30_000, users: 3_000, geoPairs: 30, velocityBursts: 30, bruteForceCases: 15,
      cardTestingCases: 15)
    let path = try writeStream(config)
    defer { try? FileManager.default.removeItem(at: path) }
    XCTAssertGreaterThan(config.events, 20 * DecodingStage.batchLines)
    try compare(rules: "rules", events: path.path, maxLineBytes: nil)
  }

  /// The engine's thread decodes the batches the decoding thread has not reached (out of input
  /// order with it) and numbers their events as it consumes them. Forced to decode every batch,
  /// on a stream of many batches whose events share their times (whole seconds: ties are
  /// ordered by sequence number), two workers write what one writes; and the summary counts
  /// the batches each thread decoded.
  func testEngineThreadDecodes_SameOutput() throws {
    let config = PaymentStreamConfig(
      seed: 5, events: 12_000, users: 1_500, geoPairs: 20, velocityBursts: 20, bruteForceCases: 10,
      cardTestingCases: 10)
    // `"ts":1767225600058,` → `"ts":1767225600000,`.
    let path = try writeStream(config) { line in
      var line = line
      if let key = line.range(of: "\"ts\":"), let comma = line[key.upperBound...].firstIndex(of: ",") {
        line.replaceSubrange(line.index(comma, offsetBy: -3)..<comma, with: "000")
      }
      return line
    }
    defer { try? FileManager.default.removeItem(at: path) }
    XCTAssertTrue(try String(contentsOf: path, encoding: .utf8).contains("000,\"type\""))
    XCTAssertGreaterThan(config.events, 10 * DecodingStage.batchLines)
    let one = try run(rules: "rules", events: path.path, workers: 1)
    XCTAssertFalse(one.alerts.isEmpty)
    for decodingThreadDecodes in [false, true] {
      let two = try run(rules: "rules", events: path.path, workers: 2, decodingThreadDecodes: decodingThreadDecodes)
      XCTAssertEqual(one.alerts, two.alerts, "decoding thread decodes: \(decodingThreadDecodes)")
      XCTAssertEqual(one.deadLetters, two.deadLetters)
      let times = try XCTUnwrap(two.summary.workerTimes)
      // Full batches, and those published as the reader's buffer ran dry (the last one too).
      XCTAssertGreaterThanOrEqual(times.batches, (config.events + DecodingStage.batchLines - 1) / DecodingStage.batchLines)
      if !decodingThreadDecodes { XCTAssertEqual(times.batchesDecodedByEngine, times.batches) }
      XCTAssertTrue(two.summary.text.contains("batches"), two.summary.text)
    }
  }

  /// The stage itself, driven as `RunPipeline` drives it, over a stream with failures and empty
  /// lines among its events: each event's probes and the event as the engine holds it carry the
  /// number of events before it in the input, whichever thread decoded its batch (the engine's
  /// every one, or each as it came).
  func testStage_NumbersEventsInLineOrder() throws {
    var lines = String(
      decoding: Benchmark.paymentStream(
        PaymentStreamConfig(events: 5_000, users: 300, geoPairs: 5, velocityBursts: 5, bruteForceCases: 2, cardTestingCases: 2)),
      as: UTF8.self
    ).split(separator: "\n").map(String.init)
    for at in stride(from: 3, to: lines.count, by: 700) { lines.insert(at % 2 == 0 ? "" : "not json", at: at) }
    let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
    // The number of events before each line that holds one (not empty, valid JSON).
    var eventNumber: [Int: UInt64] = [:]
    for (i, line) in lines.enumerated() where line.hasPrefix("{") { eventNumber[i + 1] = UInt64(eventNumber.count) }
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    for decodes in [false, true] {
      let session = ReplaySession(
        programs: try XCTUnwrap(ruleSet.programs), configuration: ReplayConfiguration(), alerts: { _ in }, deadLetters: { _ in })
      var position = 0
      let reader = LineReader(chunkSize: 4096) { target in
        let n = min(target.count, bytes.count - position)
        for i in 0..<n { target[i] = bytes[position + i] }
        position += n
        return n
      }
      let stage = DecodingStage(
        reader: reader, decoder: session.decoderForAnotherThread(), prober: session.arrivalProber, decodes: decodes)
      var decoder = session.decoderForEngineThread()
      var prepared: [UInt64] = []
      var consumed = 0
      while let batch = stage.next(decodingWith: &decoder, prober: session.arrivalProber) {
        try batch.forEachLine(
          lookahead: ReplaySession.batchLines, firstSequence: session.eventsTaken,
          prepare: { probes in
            session.prepare(probes)
            prepared.append(probes.pointee.sequence)
          }
        ) { line, decoded in
          var taken = ReplaySession.Decoded.notDecoded
          swap(&taken, &decoded)
          if case .event(let event) = taken { XCTAssertEqual(event.line, line.number) }
          try session.consume(line, decoded: taken)
          consumed += 1
        }
        stage.recycle(batch, slotsFrom: session.slotPool)
      }
      stage.join()
      XCTAssertEqual(consumed, lines.count)
      XCTAssertEqual(session.counters.events, eventNumber.count)
      // Every line's probes were prepared; those of events are numbered in input order (the
      // others are not read).
      XCTAssertEqual(prepared.count, lines.count)
      let eventLines = (1...lines.count).filter { eventNumber[$0] != nil }
      XCTAssertEqual(eventLines.map { prepared[$0 - 1] }, Array(0..<UInt64(eventNumber.count)))
      let held = session.engineState.snapshot().events
      XCTAssertFalse(held.isEmpty, "events still buffered to check")
      for event in held { XCTAssertEqual(event.sequence, eventNumber[event.line], "line \(event.line)") }
      if !decodes { XCTAssertEqual(stage.batchesDecodedByEngine, stage.batchesPublished) }
    }
  }

  /// The summary of a two-worker run says what each thread's CPU time was over the input loop;
  /// a one-worker run has no such line.
  func testSummary_ThreadTimesWithTwoWorkers() throws {
    for workers in [1, 2] {
      let summary = try run(rules: "rules", events: "fixtures/demo/events.ndjson", workers: workers).summary
      guard workers == 2 else {
        XCTAssertNil(summary.workerTimes)
        XCTAssertFalse(summary.text.contains("threads:"))
        continue
      }
      let times = try XCTUnwrap(summary.workerTimes)
      XCTAssertGreaterThan(times.wall, 0)
      XCTAssertLessThanOrEqual(times.wall, summary.elapsed)
      // Each thread ran for some of the loop and no longer than it (a little slack for the
      // clocks' granularity).
      for cpu in [times.decoding, times.engine] {
        XCTAssertGreaterThan(cpu, 0)
        XCTAssertLessThanOrEqual(cpu, times.wall + 0.01)
      }
      XCTAssertTrue(summary.text.contains("  threads: decoding "), summary.text)
    }
  }

  func testWorkerTimesText() {
    let cases: [(WorkerTimes, String)] = [
      (
        WorkerTimes(wall: 2, decoding: 1, engine: 1.9),
        "decoding 1.00 s CPU (50% of 2.00 s), engine 1.90 s CPU (95%): the engine's thread is the busier"
      ),
      (
        WorkerTimes(wall: 0.5, decoding: 0.49, engine: 0.2),
        "decoding 0.49 s CPU (98% of 0.50 s), engine 0.20 s CPU (40%): the decoding thread is the busier"
      ),
      (WorkerTimes(wall: 0, decoding: 0, engine: 0), "decoding 0.00 s CPU (– of 0.00 s), engine 0.00 s CPU (–): the engine's thread is the busier"),
      (
        WorkerTimes(wall: 0.7, decoding: 0.52, engine: 0.69, heapFaultedIn: 190 << 20 | 123),
        "decoding 0.52 s CPU (74% of 0.70 s; faulted in 190 MiB of the engine's heap), engine 0.69 s CPU (99%): the engine's thread is the busier"
      ),
      (
        {
          var times = WorkerTimes(wall: 0.4, decoding: 0.39, engine: 0.38)
          times.batches = 977
          times.batchesDecodedByEngine = 160
          return times
        }(),
        "decoding 0.39 s CPU (98% of 0.40 s), engine 0.38 s CPU (95%; decoded 160 of 977 batches): the decoding thread is the busier"
      ),
    ]
    for (times, expected) in cases { XCTAssertEqual(times.text, expected) }
  }

  /// The payment stream of `config`, each line passed through `transform`, in a temporary file.
  private func writeStream(_ config: PaymentStreamConfig, transform: (String) -> String = { $0 }) throws -> URL {
    var text = ""
    text.reserveCapacity(config.events * 200)
    PaymentStream.generate(config) { text += transform($0) + "\n" }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString).ndjson")
    try text.write(to: path, atomically: false, encoding: .utf8)
    return path
  }

  private func compare(rules: String, events: String, maxLineBytes limit: Int?) throws {
    do {
      let one = try run(rules: rules, events: events, workers: 1, maxLineBytes: limit)
      let two = try run(rules: rules, events: events, workers: 2, maxLineBytes: limit)
      XCTAssertFalse(one.alerts.isEmpty && one.deadLetters.isEmpty, "\(events): the case must produce output")
      XCTAssertEqual(one.alerts, two.alerts, "\(events): alerts differ")
      XCTAssertEqual(one.deadLetters, two.deadLetters, "\(events): dead letters differ")
    }
  }
}
