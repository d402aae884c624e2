import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Replay fixture cases and compare their alerts with the golden files.")

    @Argument(help: "A fixtures directory, one case folder or one *.cases conformance file.")
    var directory = "fixtures"

    @Option(help: "Only run cases whose name contains this text.")
    var filter: String?

    @Flag(help: "Write expected.ndjson (and expected-dead-letters.ndjson) from the current output. Exits 1 so a recording is always reviewed.")
    var record = false

    func run() throws {
      let report: FixtureRunner.Report
      do {
        report = try FixtureRunner.run(root: directory, filter: filter, record: record) { result in
          switch result.outcome {
          case .passed: print("PASS \(result.name)")
          case .recorded: print("REC  \(result.name)")
          case .failed(let diff): print("FAIL \(result.name)\n" + diff.indentedLines())
          case .broken(let message): print("ERR  \(result.name)\n" + message.indentedLines())
          case .pending(let note): print("PEND \(result.name) (\(note))")
          }
        }
      } catch {
        printError(String(describing: error))
        throw Exit.noInput
      }
      print(
        "\(report.passed) passed, \(report.failed) failed"
          + (report.pending > 0 ? ", \(report.pending) pending" : ""))
      if record {
        print("recorded \(report.results.count) case(s); review the changes (git diff fixtures/) and re-run without --record")
      }
      if !report.allPassed { throw Exit.failure }
    }
  }
}
