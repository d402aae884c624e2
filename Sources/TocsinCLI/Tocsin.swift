import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

/// The `tocsin` command. Each subcommand parses flags into a configuration, calls one
/// `TocsinApp` entry point, and maps the outcome to an exit code (see docs/cli.md).
@main
struct Tocsin: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tocsin",
    abstract: "A complex event processing rules engine: rule files in, alerts out.",
    version: "0.1.0",
    subcommands: [Run.self, Check.self, Test.self, Explain.self, Generate.self, Bench.self])
}

/// Named exit codes (docs/cli.md).
enum Exit {
  /// A check found errors, a fixture failed, rules did not compile.
  static let failure = ExitCode(1)
  /// Bad flags (sysexits EX_USAGE).
  static let usage = ExitCode(64)
  /// An input file could not be opened or read (EX_NOINPUT).
  static let noInput = ExitCode(66)
  /// An output could not be written (EX_IOERR).
  static let ioError = ExitCode(74)
}

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Flags shared by commands that read events.
struct IngestFlags: ParsableArguments {
  @Option(help: "Field holding the event time (dotted path).")
  var timeField = "ts"

  @Option(help: "Time format: auto (numbers are epoch ms, strings RFC 3339), epoch-seconds, epoch-millis, epoch-micros, epoch-nanos, rfc3339.")
  var timeFormat = "auto"

  @Option(help: "Field holding the event's stable id; events without one are identified by a hash of their line.")
  var idField = "id"

  @Option(help: "How late an event may arrive behind the newest one and still be ordered (e.g. 10s, 500ms).")
  var outOfOrderness = "10s"

  @Option(help: "What to do with late events: dead-letter or drop.")
  var late = "dead-letter"

  @Option(help: "Lines longer than this many bytes are dead-lettered.")
  var maxLineBytes = LineReader.defaultMaxLineBytes

  func configuration() throws -> ReplayConfiguration {
    guard let format = TimeFormat(rawValue: timeFormat) else {
      throw ValidationError(
        "unknown --time-format '\(timeFormat)'; expected one of "
          + TimeFormat.allCases.map(\.rawValue).joined(separator: ", "))
    }
    guard let ooo = EventDuration(parsing: outOfOrderness) else {
      throw ValidationError("invalid --out-of-orderness '\(outOfOrderness)'; expected a duration like 10s or 500ms")
    }
    guard let policy = LatePolicy(rawValue: late) else {
      throw ValidationError("invalid --late '\(late)'; expected dead-letter or drop")
    }
    guard maxLineBytes > 0 else { throw ValidationError("--max-line-bytes must be positive") }
    return ReplayConfiguration(
      ingest: IngestOptions(
        timeField: FieldPath(dotted: timeField), timeFormat: format, idField: FieldPath(dotted: idField)),
      engine: EngineOptions(outOfOrderness: ooo, latePolicy: policy),
      maxLineBytes: maxLineBytes)
  }
}

/// Loads and compiles rules, printing diagnostics; exits 1 on errors, 66 on unreadable files.
func loadPrograms(_ paths: [String], ingest: IngestOptions) throws -> RuleSet {
  do {
    let ruleSet = try RuleSet.load(paths, ingest: ingest)
    let diagnostics = ruleSet.checked.diagnostics
    if !diagnostics.isEmpty {
      printError(TocsinApp.renderDiagnostics(diagnostics, colored: isatty(STDERR_FILENO) == 1))
    }
    guard ruleSet.programs != nil else {
      printError("error: rules have errors; run 'tocsin check' for details")
      throw Exit.failure
    }
    return ruleSet
  } catch let error as RuleSources.LoadError {
    printError(error.description)
    throw Exit.noInput
  }
}

extension Tocsin {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stream NDJSON events through rules and write alerts as NDJSON.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(name: .shortAndLong, help: "Read events from this file instead of standard input.")
    var input: String?

    @Option(name: .shortAndLong, help: "Write alerts to this file (truncated) instead of standard output.")
    var output: String?

    @Option(help: "Append dead letters (bad lines, late events, events without a key) to this file; default: standard error.")
    var deadLetter: String?

    @Flag(name: .shortAndLong, help: "Do not print the summary on standard error.")
    var quiet = false

    @OptionGroup var ingest: IngestFlags

    func run() throws {
      let configuration = try ingest.configuration()
      let ruleSet = try loadPrograms(rules, ingest: configuration.ingest)
      guard let programs = ruleSet.programs else { throw Exit.failure }
      do {
        let summary = try RunPipeline.run(
          programs: programs,
          options: RunPipeline.Options(
            inputPath: input, outputPath: output, deadLetterPath: deadLetter,
            configuration: configuration))
        if !quiet { printError(summary.text) }
      } catch let failure as RunPipeline.Failure {
        printError(failure.description)
        switch failure {
        case .input: throw Exit.noInput
        case .output: throw Exit.ioError
        }
      }
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check rule files and report every error and warning with its location.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Option(help: "Colour: auto, always or never.")
    var color = "auto"

    func run() throws {
      let colored: Bool
      switch color {
      case "auto": colored = isatty(STDOUT_FILENO) == 1
      case "always": colored = true
      case "never": colored = false
      default: throw ValidationError("invalid --color '\(color)'; expected auto, always or never")
      }
      let files: [SourceFile]
      do {
        files = try RuleSources.load(rules)
      } catch let error as RuleSources.LoadError {
        printError(error.description)
        throw Exit.noInput
      }
      let report = Checker.check(files, colored: colored, strict: strict)
      print(report.text, terminator: "")
      if report.failed { throw Exit.failure }
    }
  }

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

  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the compiled automaton of each rule.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(help: "Only this rule.")
    var rule: String?

    @Flag(help: "Print Graphviz DOT instead of text.")
    var dot = false

    func run() throws {
      let ruleSet = try loadPrograms(rules, ingest: IngestOptions())
      guard let programs = ruleSet.programs else { throw Exit.failure }
      do {
        print(try Explainer.explain(programs, rule: rule, format: dot ? .dot : .text), terminator: "")
      } catch let failure as Explainer.Failure {
        printError(failure.description)
        throw Exit.failure
      }
    }
  }
}

extension Tocsin {
  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a seeded synthetic payment stream with injected fraud cases.")

    @Option(help: "Number of events.") var events = 1_000_000
    @Option(help: "Number of users.") var users = 100_000
    @Option(help: "Seed for the events.") var seed: UInt64 = 42
    @Option(help: "Seed for the arrival order (default: the event seed).") var arrivalSeed: UInt64?
    @Option(help: "Largest arrival disorder (a duration).") var maxDisorder = "5s"
    @Option(help: "Injected geo-impossible purchase pairs.") var geoPairs = 300
    @Option(help: "Injected velocity bursts (12 purchases of one card in under 20 minutes).") var velocityBursts = 300
    @Option(help: "Injected brute-force login cases.") var bruteForce = 100
    @Option(help: "Injected card-testing cases.") var cardTesting = 100
    @Option(name: .shortAndLong, help: "Write events here instead of standard output.") var output: String?
    @Option(help: "Write the injected cases as NDJSON to this file.") var manifest: String?

    func validate() throws {
      guard events > 0, users > 0 else { throw ValidationError("--events and --users must be positive") }
      guard EventDuration(parsing: maxDisorder) != nil else {
        throw ValidationError("invalid --max-disorder '\(maxDisorder)'; expected a duration like 5s")
      }
    }

    func run() throws {
      let config = PaymentStreamConfig(
        seed: seed, events: events, users: users,
        maxDisorder: EventDuration(parsing: maxDisorder) ?? .seconds(5), geoPairs: geoPairs,
        velocityBursts: velocityBursts, bruteForceCases: bruteForce, cardTestingCases: cardTesting)
      guard config.injectedEventCount <= events else {
        throw ValidationError(
          "the injected cases need \(config.injectedEventCount) events; raise --events or lower the case counts")
      }
      do {
        let out = try output.map { try BufferedWriter(path: $0, mode: .truncate) } ?? .standardOutput()
        var failure: Error?
        let cases = PaymentStream.generate(config, arrivalSeed: arrivalSeed) { line in
          guard failure == nil else { return }
          do { try out.write(line + "\n") } catch { failure = error }
        }
        if let failure { throw failure }
        try out.close()
        if let manifest {
          let file = try BufferedWriter(path: manifest, mode: .truncate)
          var json = JSONWriter()
          for c in cases {
            json.reset()
            json.beginObject()
            json.field("rule", .string(c.kind.ruleName))
            json.field("key", .string(c.key))
            json.key("events")
            json.beginArray()
            for id in c.eventIDs { json.string(id) }
            json.endArray()
            json.endObject()
            json.newline()
            try file.write(json.bytes)
          }
          try file.close()
        }
      } catch let error as OutputError {
        printError("error: " + error.message)
        throw Exit.ioError
      }
    }
  }
}

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
      let scale = max(1, events / 1_000_000)
      let config = PaymentStreamConfig(
        seed: seed, events: events, users: users,
        geoPairs: min(300 * scale, events / 100), velocityBursts: min(300 * scale, events / 100),
        bruteForceCases: min(100 * scale, events / 300), cardTestingCases: min(100 * scale, events / 300))
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

extension String {
  func indentedLines() -> String {
    split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
  }
}
