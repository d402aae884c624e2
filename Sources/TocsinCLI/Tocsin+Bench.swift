import ArgumentParser
import CAllocCounter
import Foundation
import TocsinApp
import TocsinCore

extension Tocsin {
  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Time the pipeline on seeded in-memory workloads W1–W5 (build with -c release).",
      discussion: """
        W1 payment stream + rules/; W2 the same stream + 20 mixed rules (bench/rules/w2); \
        W3 every event a new key; W4 10% of events on one key; W5 24h windows with \
        followed_by_any (bench/rules/w5). Each workload runs in its own process. Exits 1 when a \
        workload's alert count differs from the generator's ground truth. See docs/performance.md.
        """)

    @Argument(help: "Rule files or directories replacing every workload's own rules (default: each workload's).")
    var rules: [String] = []

    @Option(help: "Workloads to run, comma-separated (W1,W2,W3,W4,W5).") var workload = "W1,W2,W3,W4,W5"
    @Option(help: "Events per workload.") var events = 1_000_000
    @Option(help: "Users per workload (default: one per ten events; W3 has one per event).") var users: Int?
    @Option(help: "Timed runs per workload (the median is reported).") var runs = 5
    @Option(help: "Seed of the generated streams.") var seed: UInt64 = 42
    @Option(
      help: ArgumentHelp(
        "Largest arrival disorder of every workload's stream (a duration; default: the workloads' own, 5s). "
          + "0s gives streams in time order, where the watermark moves with nearly every event."))
    var maxDisorder: String?
    @Option(help: "Repository root the workloads' rule folders are relative to.") var root = "."
    @Flag(help: "Print the report as JSON instead of the table.") var json = false
    @Option(help: "Write the report as JSON to this file, for a later --baseline.") var saveBaseline: String?
    @Option(help: "Compare with a report saved by --save-baseline: each figure gets its ratio new/old.") var baseline: String?
    @Flag(help: "Measure every workload in this process instead of one child process each.") var inProcess = false
    @Option(
      help: ArgumentHelp(
        "Compare with an older build's executable in the same run: --rounds rounds per workload, each "
          + "running both builds (alternately first); each figure's ratio is the median of the rounds' new/old.",
        valueName: "tocsin-binary"))
    var against: String?
    @Option(help: "Rounds of --against per workload.") var rounds = 5
    @Flag(
      help: ArgumentHelp(
        "Also measure what each rule costs: per rule, --runs pairs of full passes with and without it "
          + "(slow: 2 × rules × runs passes per workload)."))
    var ruleCosts = false
    @Option(help: .hidden) var one: String?

    func validate() throws {
      guard runs > 0, events > 0 else { throw ValidationError("--runs and --events must be positive") }
      if let users, users <= 0 { throw ValidationError("--users must be positive") }
      if let maxDisorder, EventDuration(parsing: maxDisorder) == nil {
        throw ValidationError("invalid --max-disorder '\(maxDisorder)'; expected a duration like 5s or 0s")
      }
      guard let against else {
        if rounds != 5 { throw ValidationError("--rounds applies only with --against") }
        return
      }
      guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
      guard FileManager.default.isExecutableFile(atPath: against) else {
        throw ValidationError("--against \(against): not an executable file (give the older build's tocsin binary)")
      }
      for (flag, set) in [
        ("--in-process", inProcess), ("--baseline", baseline != nil), ("--save-baseline", saveBaseline != nil),
        ("--rule-costs", ruleCosts),
      ] where set {
        throw ValidationError("--against measures in child processes with its own pairing; it does not combine with \(flag)")
      }
    }

    func run() throws {
      let options = BenchRunner.Options(
        workloads: workload.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() },
        events: events, users: users, runs: runs, seed: seed,
        rulesOverride: rules.isEmpty ? nil : rules, root: root, ruleCosts: ruleCosts,
        maxDisorder: maxDisorder.flatMap { EventDuration(parsing: $0) })
      for name in options.workloads where BenchWorkload.named(name, events: 1, seed: 0) == nil {
        throw ValidationError(BenchRunner.Failure.unknownWorkload(name).description)
      }
      let probe = tocsin_alloc_counter_is_active() != 0 ? Self.probe : nil
      if let one {
        // Child mode: one workload, its result as JSON on standard output.
        let result = try reportingErrors { try BenchRunner.measureHere(one, options: options, probe: probe, progress: printError) }
        let encoder = JSONEncoder()
        FileHandle.standardOutput.write(try encoder.encode(result))
        return
      }
      if let against {
        try compare(with: against, options: options)
        return
      }
      let old = try baseline.map { path in try reportingErrors { try BenchReport.load(path: path) } }
      let report = try reportingErrors {
        try BenchRunner.run(
          options, isolated: !inProcess, executable: BenchRunner.currentExecutable(), probe: probe,
          build: Self.build, progress: printError)
      }
      let results = report.results
      if json {
        FileHandle.standardOutput.write(try report.jsonData())
      } else {
        print(BenchTable.render(results, baseline: old), terminator: "")
        print(BenchTable.footer(report, baseline: old), terminator: "")
      }
      if let saveBaseline {
        do {
          try report.jsonData().write(to: URL(fileURLWithPath: saveBaseline))
        } catch {
          printError("\(saveBaseline): error: cannot write the baseline: \(error.localizedDescription)")
          throw Exit.ioError
        }
      }
      let wrong = results.filter { !$0.alertsAsExpected }
      for r in wrong { reportWrongAlerts(r, as: r.name) }
      if !wrong.isEmpty { throw Exit.failure }
    }

    /// Prints why `r`'s alerts are not as expected (``BenchResult/alertsAsExpected``), naming
    /// the measurement `label`.
    private func reportWrongAlerts(_ r: BenchResult, as label: String) {
      if let expected = r.expectedAlerts, expected != r.alerts {
        printError("error: \(label): \(r.alerts) alerts, but the generator injected \(expected) cases")
      }
      if let differing = r.twoWorkerAlertsDiffering {
        printError("error: \(label): \(differing) alerts with two workers, but \(r.alerts) with one")
      }
    }

    /// `--against`: both builds measured round by round (``BenchComparison``). Exits 1, as a
    /// plain run does, when this build's alerts differ from the generator's ground truth or its
    /// two-worker count from its one-worker count; alerts that differ between the builds are
    /// shown in the table and warned about, since a change may mean to alter them.
    private func compare(with against: String, options: BenchRunner.Options) throws {
      let comparison = try reportingErrors {
        try BenchRunner.compare(
          options, rounds: rounds, executable: BenchRunner.currentExecutable(), against: against, build: Self.build,
          progress: printError)
      }
      if json {
        FileHandle.standardOutput.write(try comparison.jsonData())
      } else {
        print(BenchTable.renderComparison(comparison), terminator: "")
        print(BenchTable.comparisonFooter(comparison), terminator: "")
      }
      var failed = false
      for workload in comparison.workloads {
        if !workload.roundsWithDifferentAlerts.isEmpty {
          printError("warning: \(workload.name): the two builds wrote different numbers of alerts")
        }
        for (round, r) in workload.new.enumerated() where !r.alertsAsExpected {
          failed = true
          reportWrongAlerts(r, as: "\(r.name) round \(round + 1)")
        }
      }
      if failed { throw Exit.failure }
    }

    /// Runs `body`, turning the bench's errors into a message and exit code.
    private func reportingErrors<T>(_ body: () throws -> T) throws -> T {
      do {
        return try body()
      } catch let error as BenchRunner.Failure {
        printError("error: \(error)")
        throw Exit.failure
      } catch let error as BenchReport.BaselineError {
        printError(error.description)
        throw Exit.noInput
      } catch let error as RuleSources.LoadError {
        printError(error.description)
        throw Exit.noInput
      }
    }

    /// The `CAllocCounter` interposer, as the benchmark's allocation probe.
    static let probe = Benchmark.AllocationProbe(
      start: { tocsin_alloc_counter_start() },
      stop: {
        tocsin_alloc_counter_stop()
        return tocsin_alloc_counter_allocations()
      },
      trim: { tocsin_alloc_counter_trim() })

    /// The build configuration of this executable.
    static var build: String {
      #if DEBUG
        return "debug"
      #else
        return "release"
      #endif
    }
  }
}
