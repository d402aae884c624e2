import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinLanguage
import TocsinTestSupport
import XCTest

/// Replays the fuzz corpora and every crasher the fuzzers found (`Fuzz/crashers/TARGET/`)
/// through the same code the libFuzzer targets drive (`Fuzz/Fuzz*.swift`), plus the whole
/// pipeline, so a fixed crash stays fixed without a fuzzing toolchain. Nothing may crash;
/// every event line must come out as an event, a skipped empty line or a dead letter.
final class FuzzRegressionTests: XCTestCase {
  private func inputs(_ folder: String) throws -> [(name: String, bytes: [UInt8])] {
    let directory = Repository.path(folder)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return try names.sorted().filter { !$0.hasPrefix(".") }.map { name in
      let data = try XCTUnwrap(FileManager.default.contents(atPath: directory + "/" + name), name)
      return (name, [UInt8](data))
    }
  }

  func testRuleInputs_NeverCrash() throws {
    let all = try inputs("Fuzz/crashers/rules") + inputs("Fuzz/corpus/rules")
    XCTAssertGreaterThanOrEqual(all.count, 9, "the seed corpus holds rules/*.tcs and twenty-mistakes")
    for (name, bytes) in all {
      let file = SourceFile(path: name, text: String(decoding: bytes, as: UTF8.self))
      let ruleSet = RuleSet.build([file], ingest: IngestOptions())
      _ = DiagnosticRenderer(colored: false).render(ruleSet.checked.diagnostics)
      XCTAssertEqual(ruleSet.programs == nil, ruleSet.checked.hasErrors, name)
    }
  }

  func testEventInputs_EveryLineHasAnOutcome() throws {
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let all = try inputs("Fuzz/crashers/events") + inputs("Fuzz/corpus/events")
    XCTAssertGreaterThanOrEqual(all.count, 20)
    for (name, bytes) in all {
      // A small line limit, as in the fuzz target, so over-long lines occur too.
      let configuration = ReplayConfiguration(maxLineBytes: 512)
      var position = 0
      let reader = LineReader(chunkSize: 7, maxLineBytes: configuration.maxLineBytes) { target in
        let n = min(target.count, bytes.count - position)
        for i in 0..<n { target[i] = bytes[position + i] }
        position += n
        return n
      }
      let output = try Replay.run(programs: programs, configuration: configuration, reader: reader)
      let c = output.counters
      let lineLevel = c.badLines.nonZero.filter { $0.reason.isLineLevel }.map(\.count).reduce(0, +)
      XCTAssertEqual(c.lines, c.emptyLines + c.events + lineLevel, name)
    }
  }
}

extension DeadLetterReason {
  /// Whether the reason rejects a line before it becomes an event (the others are events the
  /// engine rejected, already counted as events).
  fileprivate var isLineLevel: Bool {
    switch self {
    case .missingKey, .late, .timeSkew: return false
    default: return true
    }
  }
}
