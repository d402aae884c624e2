import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Time the pipeline on a seeded in-memory payment stream (build with -c release).")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(help: "Events in the generated stream.") var events = 1_000_000
    @Option(help: "Users in the generated stream.") var users = 100_000
    @Option(help: "Timed runs per workload (the median is reported).") var runs = 5
    @Option(help: "Seed of the generated stream.") var seed: UInt64 = 42

    func run() throws {
      guard runs > 0, events > 0 else { throw ValidationError("--runs and --events must be positive") }
      let ruleSet = try loadPrograms(rules, ingest: IngestOptions())
      guard let programs = ruleSet.programs else { throw Exit.failure }
      let config = Benchmark.paymentWorkload(events: events, users: users, seed: seed)
      printError("generating \(events) events…")
      let input = Benchmark.paymentStream(config)
      printError("\(input.count) bytes; \(runs) runs of parse-only and full pipeline, \(programs.rules.count) rules")
      let result = try Benchmark.measure(name: "W1", programs: programs, input: input, runs: runs)
      print(Benchmark.Result.header)
      print(result.row)
      if let rss = ProcessStats.peakResidentBytes() {
        print("peak RSS \(rss / (1 << 20)) MiB (includes the \(input.count / (1 << 20)) MiB input held in memory)")
      }
    }
  }
}
