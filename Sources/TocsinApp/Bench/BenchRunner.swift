import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO

/// Runs `tocsin bench`: each selected workload, normally in a child process of its own.
///
/// Peak RSS is a process-wide high-water mark, so measuring five workloads in one process would
/// report the largest so far for every later one. The parent therefore re-invokes the running
/// executable once per workload (`tocsin bench --one W3 …`), the child measures that workload
/// alone and prints its ``BenchResult`` as JSON on standard output, and the parent collects the
/// results. Inside the child the peak is reset (`/proc/self/clear_refs`) after the input has been
/// generated and the generator's memory handed back, so the figure covers the measuring passes
/// and the input they read, not the generator.
public enum BenchRunner {
  /// What to run.
  public struct Options: Sendable {
    /// Workload names, in order.
    public var workloads: [String]
    /// Events per workload.
    public var events: Int
    /// Users per workload (`nil`: one per ten events).
    public var users: Int?
    /// Timed runs per workload.
    public var runs: Int
    /// Stream seed.
    public var seed: UInt64
    /// Rule paths replacing every workload's own (their expected alert counts are then dropped).
    public var rulesOverride: [String]?
    /// The repository root the workloads' rule folders are relative to.
    public var root: String
    /// Whether each rule's cost is measured too (``Benchmark/ruleCosts(programs:ingest:input:runs:configuration:progress:)``).
    public var ruleCosts: Bool
    /// The largest arrival disorder of every workload's stream (`nil`: each workload's own,
    /// 5 s); zero gives streams in time order, where the watermark moves with nearly every event.
    public var maxDisorder: EventDuration?

    /// Creates options.
    public init(
      workloads: [String], events: Int, users: Int?, runs: Int, seed: UInt64,
      rulesOverride: [String]?, root: String, ruleCosts: Bool = false, maxDisorder: EventDuration? = nil
    ) {
      self.ruleCosts = ruleCosts
      self.maxDisorder = maxDisorder
      self.workloads = workloads
      self.events = events
      self.users = users
      self.runs = runs
      self.seed = seed
      self.rulesOverride = rulesOverride
      self.root = root
    }

    /// The arguments that make a child measure `workload` with these options.
    func childArguments(for workload: String) -> [String] {
      var arguments = [
        "bench", "--one", workload, "--events", String(events), "--runs", String(runs),
        "--seed", String(seed), "--root", root,
      ]
      if let users { arguments += ["--users", String(users)] }
      if let maxDisorder { arguments += ["--max-disorder", maxDisorder.description] }
      if ruleCosts { arguments.append("--rule-costs") }
      arguments += rulesOverride ?? []
      return arguments
    }
  }

  /// Why a workload could not be measured.
  public enum Failure: Error, CustomStringConvertible {
    /// The name is not a workload.
    case unknownWorkload(String)
    /// The rules have errors (rendered diagnostics).
    case rules(workload: String, diagnostics: String)
    /// The child process failed or printed no result.
    case child(workload: String, reason: String)

    public var description: String {
      switch self {
      case .unknownWorkload(let name):
        return "unknown workload '\(name)'; expected one of \(BenchWorkload.names.joined(separator: ", "))"
      case .rules(let workload, let diagnostics):
        return "\(workload): the rules have errors\n\(diagnostics)"
      case .child(let workload, let reason):
        return "\(workload): the measuring process failed: \(reason)"
      }
    }
  }

  /// The workload `name` resolved against `options`: sizes, and rule paths under the root.
  public static func workload(_ name: String, options: Options) throws -> BenchWorkload {
    guard
      var workload = BenchWorkload.named(
        name, events: options.events, users: options.users, seed: options.seed)
    else { throw Failure.unknownWorkload(name) }
    if let maxDisorder = options.maxDisorder { workload.stream.maxDisorder = maxDisorder }
    if let rules = options.rulesOverride {
      workload.rulePaths = rules
      workload.expectedAlerts = nil
    } else {
      workload.rulePaths = workload.rulePaths.map {
        URL(fileURLWithPath: options.root).appendingPathComponent($0).path
      }
    }
    return workload
  }

  /// Measures one workload in this process: generates its input, resets the peak-RSS window,
  /// runs ``Benchmark/measure(workload:programs:input:runs:configuration:probe:progress:)`` and
  /// reads the peak; then the same for the two-worker runs
  /// (``Benchmark/measureTwoWorkers(into:programs:input:runs:configuration:progress:)``).
  /// - Throws: ``Failure`` when the rules have errors; ``RuleSources/LoadError`` when a rule file
  ///   cannot be read.
  public static func measureHere(
    _ name: String, options: Options, probe: Benchmark.AllocationProbe?,
    progress: (String) -> Void
  ) throws -> BenchResult {
    let workload = try workload(name, options: options)
    let ingest = IngestOptions()
    let ruleSet = try RuleSet.load(workload.rulePaths, ingest: ingest)
    guard let programs = ruleSet.programs else {
      throw Failure.rules(
        workload: name, diagnostics: renderDiagnostics(ruleSet.checked.diagnostics, colored: false))
    }
    progress("\(workload.name): generating \(workload.stream.events) events (\(workload.summary))")
    let input = Benchmark.paymentStream(workload.stream)
    probe?.trim()
    MachineInfo.resetPeakResident()
    var result = try Benchmark.measure(
      workload: workload, programs: programs, input: input, runs: options.runs, probe: probe,
      progress: progress)
    result.peakRSSBytes = ProcessStats.peakResidentBytes()
    MachineInfo.resetPeakResident()
    try Benchmark.measureTwoWorkers(
      into: &result, programs: programs, input: input, runs: options.runs, progress: progress)
    result.twoWorkerPeakRSSBytes = ProcessStats.peakResidentBytes()
    if options.ruleCosts {
      result.ruleCosts = try Benchmark.ruleCosts(
        programs: programs, ingest: ingest, input: input, runs: options.runs,
        progress: { progress("\(workload.name): \($0)") })
    }
    return result
  }

  /// Measures `name` in a child process running `executable` with `options`' arguments. The
  /// child's standard error (progress) passes through, or with `quiet` goes to a temporary file
  /// whose last lines become the failure's reason if the child fails.
  /// - Throws: ``Failure/child(workload:reason:)`` when the child fails or prints no result.
  /// `environment`: the child's, when not this process's.
  public static func measureInChild(
    _ name: String, options: Options, executable: String, quiet: Bool = false, environment: [String: String]? = nil
  ) throws -> BenchResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = options.childArguments(for: name)
    if let environment { process.environment = environment }
    let output = Pipe()
    process.standardOutput = output
    // A file, not a pipe: reading two pipes to their ends one after the other could block the
    // child on the one not being read.
    let errorLog = quiet ? FileManager.default.temporaryDirectory
      .appendingPathComponent("tocsin-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).log") : nil
    if let errorLog {
      _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
      process.standardError = try? FileHandle(forWritingTo: errorLog)
    }
    defer { if let errorLog { try? FileManager.default.removeItem(at: errorLog) } }
    do { try process.run() } catch {
      throw Failure.child(workload: name, reason: "cannot start \(executable): \(error)")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    /// The child's last lines of standard error, when they were kept.
    func errorTail() -> String {
      guard let errorLog, let text = try? String(contentsOf: errorLog, encoding: .utf8) else { return "" }
      let lines = text.split(separator: "\n").suffix(5)
      return lines.isEmpty ? "" : "; its last output:\n" + lines.joined(separator: "\n")
    }
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      let how = process.terminationReason == .exit ? "exit status" : "signal"
      throw Failure.child(workload: name, reason: "\(executable): \(how) \(process.terminationStatus)" + errorTail())
    }
    do {
      return try JSONDecoder().decode(BenchResult.self, from: data)
    } catch {
      throw Failure.child(workload: name, reason: "\(executable): no result on standard output (\(error))" + errorTail())
    }
  }

  /// Measures every workload of `options` with this build and an older one (``BenchComparison``):
  /// `rounds` rounds per workload, each running both builds, in ``BenchComparison/order(round:)``.
  /// `measure(workload, side)` takes one measurement (``measureInChild(_:options:executable:quiet:)``
  /// with the side's executable, or a stand-in in tests).
  /// - Throws: what `measure` throws.
  public static func compare(
    _ options: Options, rounds: Int, progress: (String) -> Void,
    measure: (String, BenchComparison.Side) throws -> BenchResult
  ) throws -> [BenchComparison.Workload] {
    var workloads: [BenchComparison.Workload] = []
    for name in options.workloads {
      var old: [BenchResult] = []
      var new: [BenchResult] = []
      for round in 0..<rounds {
        for side in BenchComparison.order(round: round) {
          progress("\(name): round \(round + 1) of \(rounds): \(side == .old ? "the older build" : "this build")")
          let result = try measure(name, side)
          if side == .old { old.append(result) } else { new.append(result) }
        }
      }
      workloads.append(BenchComparison.Workload(name: name, old: old, new: new))
    }
    return workloads
  }

  /// ``compare(_:rounds:progress:measure:)`` with each measurement in a child process: this
  /// executable for the new side, `against` for the old. Both must understand the child
  /// arguments (`bench --one W …`, every build since the benchmark ran workloads in children).
  /// Each side runs as it would on its own: the old build's children get the environment this
  /// command was started with, without the heap tunable this build added when it re-executed
  /// itself (``HeapHugePages/environmentAsLaunched(_:)``); an old build that adds it itself does.
  public static func compare(
    _ options: Options, rounds: Int, executable: String, against: String, build: String,
    progress: (String) -> Void
  ) throws -> BenchComparison {
    let launched = HeapHugePages.environmentAsLaunched(ProcessInfo.processInfo.environment)
    let workloads = try compare(options, rounds: rounds, progress: progress) { name, side in
      try measureInChild(
        name, options: options, executable: side == .old ? against : executable, quiet: true,
        environment: side == .old ? launched : nil)
    }
    return BenchComparison(
      commit: MachineInfo.commit(in: options.root), binary: MachineInfo.fingerprint(ofFile: executable),
      againstPath: against, againstBinary: MachineInfo.fingerprint(ofFile: against), date: MachineInfo.timestamp(),
      machine: MachineInfo.current(),
      settings: .init(
        events: options.events, runs: options.runs, seed: options.seed, isolated: true, build: build,
        maxDisorder: options.maxDisorder),
      rounds: rounds, workloads: workloads)
  }

  /// Measures every workload of `options`, each in a child process running `executable` when
  /// `isolated` (see ``BenchRunner``), else in this process, and returns the report.
  ///
  /// - Parameters:
  ///   - probe: The allocation counter for in-process measurement (children use their own).
  ///   - build: The build configuration of the measuring executable, for the report.
  /// - Throws: ``Failure`` when a workload cannot be measured; ``RuleSources/LoadError`` when a
  ///   rule file cannot be read.
  public static func run(
    _ options: Options, isolated: Bool, executable: String, probe: Benchmark.AllocationProbe?,
    build: String, progress: (String) -> Void
  ) throws -> BenchReport {
    var results: [BenchResult] = []
    for name in options.workloads {
      results.append(
        isolated
          ? try measureInChild(name, options: options, executable: executable)
          : try measureHere(name, options: options, probe: probe, progress: progress))
    }
    return BenchReport(
      commit: MachineInfo.commit(in: options.root),
      binary: MachineInfo.fingerprint(ofFile: Self.currentExecutable()), date: MachineInfo.timestamp(),
      machine: MachineInfo.current(),
      settings: .init(
        events: options.events, runs: options.runs, seed: options.seed, isolated: isolated,
        build: build, maxDisorder: options.maxDisorder),
      results: results)
  }

  /// The path of the running executable, for re-invoking it: `/proc/self/exe` resolved where it
  /// exists, else the first command-line argument.
  public static func currentExecutable() -> String {
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return resolved
    }
    return CommandLine.arguments.first ?? "tocsin"
  }
}
