import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinApp

/// `tocsin run --metrics-addr`: a run reading a FIFO, scraped over loopback while it waits for
/// more input, then the progress line's text.
final class MetricsEndpointTests: XCTestCase {
  func testScrapeDuringRunMatchesTheInput() throws {
    let run = try startRun(publishInterval: .zero, linesPerCheck: 1)
    defer { try? FileManager.default.removeItem(at: run.dir) }
    let (writer, port, outcome, finished) = (run.writer, run.port, run.outcome, run.finished)
    let events = try String(contentsOfFile: Repository.path("fixtures/suppression/events.ndjson"), encoding: .utf8)
    writer.write(Data((events + "not json\n").utf8))

    // Poll until the run has consumed every line (it publishes after each line here).
    var metrics: [String: Double] = [:]
    var exposition = ""
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
      exposition = try scrape(port: port.value, path: "/metrics").body
      metrics = try parse(exposition)
      if metrics["tocsin_input_lines_total"] == 22 { break }
      Thread.sleep(forTimeInterval: 0.02)
    }
    XCTAssertEqual(try scrape(port: port.value, path: "/nope").status, 404)

    // Every family has HELP and TYPE; the figures are those of the input so far. The watermark
    // is 40:00 − 10 s − 1 ns, so e9 and e10 (40:00) still wait in the reorder buffer.
    let base = 1_767_225_600.0
    let expected: [String: Double] = [
      "tocsin_input_lines_total": 22, "tocsin_events_in_total": 21, "tocsin_events_processed_total": 19,
      "tocsin_dead_letters_total{reason=\"not_an_object\"}": 1, "tocsin_dead_letters_total{reason=\"late\"}": 0,
      "tocsin_late_events_total": 0, "tocsin_reorder_buffer_events": 2, "tocsin_partial_matches": 0,
      "tocsin_keys": 6, "tocsin_keys_reclaimed_total": 0,
      "tocsin_alerts_total{rule=\"large_purchase\",severity=\"low\"}": 5,
      "tocsin_alerts_total{rule=\"merchant_declines\",severity=\"medium\"}": 7,
      "tocsin_alerts_suppressed_total{rule=\"large_purchase\"}": 2,
      "tocsin_alerts_suppressed_total{rule=\"merchant_declines\"}": 4,
      "tocsin_processing_latency_seconds_bucket{le=\"+Inf\"}": 0,
      "tocsin_processing_latency_seconds_count": 0,
    ]
    for (name, value) in expected { XCTAssertEqual(metrics[name], value, name) }
    XCTAssertEqual(try XCTUnwrap(metrics["tocsin_watermark_seconds"]), base + 2390, accuracy: 0.001)
    XCTAssertGreaterThan(try XCTUnwrap(metrics["tocsin_watermark_lag_seconds"]), 0)

    writer.closeFile()
    XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
    let summary = try XCTUnwrap(outcome.value).get()
    XCTAssertEqual(summary.counters.suppressed, 7)
    XCTAssertEqual(summary.alertsWrittenByRule, [6, 7])
    XCTAssertTrue(summary.text.contains("alerts suppressed (not written): large_purchase 3, merchant_declines 4\n"))
    XCTAssertTrue(summary.text.contains("watermark before end of input: 2026-01-01T00:39:49.999999999Z"))
  }

  /// A burst of input shorter than the publish interval, then quiet: the figures are published
  /// while the run waits for more (one worker: its reader waits with `poll`; two: the engine's
  /// thread times its wait for batches), not left at the snapshot taken before the burst.
  func testQuietInput_FiguresStillPublished() throws {
    for workers in [1, 2] {
      // Ticks every 256 lines or when the input runs dry, published at most every 300 ms: the
      // 22 lines arrive well within the first interval.
      let run = try startRun(publishInterval: .milliseconds(300), linesPerCheck: 256, workers: workers)
      defer { try? FileManager.default.removeItem(at: run.dir) }
      let (writer, port, finished) = (run.writer, run.port, run.finished)
      let events = try String(contentsOfFile: Repository.path("fixtures/suppression/events.ndjson"), encoding: .utf8)
      writer.write(Data((events + "not json\n").utf8))
      var lines: Double?
      let deadline = Date().addingTimeInterval(5)
      while Date() < deadline {
        lines = try parse(try scrape(port: port.value, path: "/metrics").body)["tocsin_input_lines_total"]
        if lines == 22 { break }
        Thread.sleep(forTimeInterval: 0.05)
      }
      XCTAssertEqual(lines, 22, "\(workers) worker(s): the snapshot stayed the one before the burst")
      writer.closeFile()
      XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
    }
  }

  func testProgressLineText() {
    let cases: [(read: Int64, total: Int64, events: Int, elapsed: Double, text: String)] = [
      (0, 1000, 0, 0, "  0.0% 0 B / 1000 B, 0 events, 0 events/s, ETA --:--"),
      (512, 1024, 10, 1, " 50.0% 512 B / 1.0 KiB, 10 events, 10 events/s, ETA 0:01"),
      (100 << 20, 400 << 20, 1_500_000, 2, " 25.0% 100.0 MiB / 400.0 MiB, 1500000 events, 750.0k events/s, ETA 0:06"),
      (1 << 30, 3 << 30, 5_000_000, 2, " 33.3% 1.0 GiB / 3.0 GiB, 5000000 events, 2.5M events/s, ETA 0:04"),
      (1 << 20, 8000 << 20, 1, 1, "  0.0% 1.0 MiB / 7.8 GiB, 1 events, 1 events/s, ETA 2:13:19"),
      (10, 10, 3, 0.5, "100.0% 10 B / 10 B, 3 events, 6 events/s, ETA 0:00"),
      (20, 10, 3, 1, "100.0% 20 B / 10 B, 3 events, 3 events/s, ETA --:--"),  // the file grew
    ]
    for c in cases {
      XCTAssertEqual(
        ProgressLine.format(bytesRead: c.read, totalBytes: c.total, events: c.events, elapsed: c.elapsed), c.text)
    }
  }

  func testProgressLineRedrawsAtMostTwiceASecondAndClears() {
    var written: [String] = []
    let line = ProgressLine(totalBytes: 100) { written.append($0) }
    line.update(bytesRead: 1, events: 1)  // less than 0.5 s after start: nothing
    line.clear()  // nothing drawn, nothing to clear
    XCTAssertEqual(written, [])
    Thread.sleep(forTimeInterval: 0.55)
    line.update(bytesRead: 50, events: 5)
    line.update(bytesRead: 60, events: 6)
    line.clear()
    XCTAssertEqual(written.count, 2)
    XCTAssertTrue(written[0].hasPrefix("\r 50.0% 50 B / 100 B, 5 events, "))
    XCTAssertTrue(written[0].hasSuffix("\u{1B}[K"))
    XCTAssertEqual(written[1], "\r\u{1B}[K")
  }

  // MARK: - Helpers

  /// A run of the suppression fixture's rules reading a FIFO in a new directory, with metrics
  /// on a free loopback port, started on its own thread; the FIFO's writer is open (which waits
  /// for the run to open it for reading) and the server listens.
  private func startRun(publishInterval: Duration, linesPerCheck: Int, workers: Int = 1) throws -> (
    dir: URL, writer: FileHandle, port: LockedBox<UInt16>, outcome: LockedBox<Result<RunSummary, Error>?>,
    finished: DispatchSemaphore
  ) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tocsin-metrics-\(getpid())-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let fifo = dir.appendingPathComponent("events").path
    XCTAssertEqual(mkfifo(fifo, 0o600), 0)
    let ruleSet = try RuleSet.load([Repository.path("fixtures/suppression/rules.tcs")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let listening = DispatchSemaphore(value: 0)
    let port = LockedBox<UInt16>(0)
    let outcome = LockedBox<Result<RunSummary, Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    var options = RunPipeline.Options(
      inputPath: fifo, outputPath: dir.appendingPathComponent("alerts").path,
      deadLetterPath: dir.appendingPathComponent("dead").path,
      metrics: RunPipeline.MetricsOptions(
        address: MetricsAddress(host: "127.0.0.1", port: 0), publishInterval: publishInterval,
        linesPerCheck: linesPerCheck,
        onListening: { address in
          port.value = address.port
          listening.signal()
        }))
    options.workers = workers
    let runOptions = options
    Thread.detachNewThread {
      outcome.value = Result { try RunPipeline.run(programs: programs, rules: ruleSet.checked.rules, options: runOptions) }
      finished.signal()
    }
    let writer = try XCTUnwrap(FileHandle(forWritingAtPath: fifo))
    XCTAssertEqual(listening.wait(timeout: .now() + 5), .success)
    return (dir, writer, port, outcome, finished)
  }

  /// One HTTP/1.1 GET over a fresh loopback connection.
  private func scrape(port: UInt16, path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    XCTAssertGreaterThanOrEqual(fd, 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let parts = text.components(separatedBy: "\r\n\r\n")
    let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, parts.dropFirst().joined(separator: "\r\n\r\n"))
  }

  /// Sample lines by `name{labels}`; fails on a sample whose family has no HELP or TYPE line.
  private func parse(_ exposition: String) throws -> [String: Double] {
    var described: Set<String> = []
    var typed: [String: String] = [:]
    var samples: [String: Double] = [:]
    for line in exposition.split(separator: "\n") {
      let words = line.split(separator: " ", maxSplits: 3)
      if line.hasPrefix("# HELP ") {
        described.insert(String(words[2]))
      } else if line.hasPrefix("# TYPE ") {
        typed[String(words[2])] = String(words[3])
      } else {
        let series = String(line[..<(line.lastIndex(of: " ") ?? line.endIndex)])
        let value = try XCTUnwrap(Double(line[line.index(after: line.lastIndex(of: " ") ?? line.startIndex)...]))
        var family = String(series.prefix { $0 != "{" })
        if typed[family] == nil {
          for suffix in ["_bucket", "_sum", "_count"] where family.hasSuffix(suffix) { family.removeLast(suffix.count) }
        }
        XCTAssertTrue(described.contains(family), "no HELP for \(family)")
        XCTAssertNotNil(typed[family], "no TYPE for \(family)")
        if typed[family] == "counter" { XCTAssertTrue(family.hasSuffix("_total"), family) }
        samples[series] = value
      }
    }
    return samples
  }
}

/// A value shared with a background thread.
private final class LockedBox<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var _value: T
  init(_ value: T) { _value = value }
  var value: T {
    get { lock.lock(); defer { lock.unlock() }; return _value }
    set { lock.lock(); _value = newValue; lock.unlock() }
  }
}
