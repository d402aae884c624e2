import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime
import TocsinSinks

/// The `tocsin` command. Each subcommand parses flags into a configuration, calls one
/// `TocsinApp` entry point, and maps the outcome to an exit code (see docs/cli.md).
@main
struct Tocsin: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tocsin",
    abstract: "A complex event processing rules engine: rule files in, alerts out.",
    version: "0.1.0",
    subcommands: [Run.self, Check.self, Test.self, Explain.self, Generate.self, Bench.self])

  /// The commands whose speed depends on the heap: with `TOCSIN_HEAP_HUGE_PAGES=1` they run with
  /// malloc's heap on transparent huge pages (``HeapHugePages``), re-executing themselves once to
  /// turn it on.
  static let heapHungry: Set<String> = ["run", "bench"]

  static func main() {
    let arguments = CommandLine.arguments
    if arguments.count > 1, heapHungry.contains(arguments[1]) {
      HeapHugePages.reexecIfNeeded(arguments: CommandLine.unsafeArgv)
    }
    main(nil)
  }
}

/// Named exit codes (docs/cli.md).
enum Exit {
  /// A check found errors, a fixture failed, rules did not compile.
  static let failure = ExitCode(1)
  /// Bad flags (sysexits EX_USAGE).
  static let usage = ExitCode(64)
  /// An input file could not be opened or read (EX_NOINPUT).
  static let noInput = ExitCode(66)
  /// A service could not start, e.g. the metrics port is taken (EX_UNAVAILABLE).
  static let unavailable = ExitCode(69)
  /// An output could not be written (EX_IOERR).
  static let ioError = ExitCode(74)
  /// The sink configuration is invalid (EX_CONFIG).
  static let config = ExitCode(78)
  /// A resume is impossible: unusable checkpoint directory, or outputs shorter than the
  /// checkpoint recorded (EX_DATAERR).
  static let checkpoint = ExitCode(65)
}

/// Loads `--sinks FILE`, printing the problem and exiting 78 (EX_CONFIG) when it is invalid.
func loadSinkConfiguration(_ path: String?) throws -> SinkConfiguration? {
  guard let path else { return nil }
  do {
    return try SinkConfigurationParser.load(path: path)
  } catch {
    printError(error.description)
    throw Exit.config
  }
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

  @Option(help: "Hold events stamped more than this ahead of the stream until other events confirm the jump (a duration, or 'off').")
  var maxTimeSkew = "1h"

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
    var skew: EventDuration?
    if maxTimeSkew != "off" {
      guard let parsed = EventDuration(parsing: maxTimeSkew) else {
        throw ValidationError("invalid --max-time-skew '\(maxTimeSkew)'; expected a duration like 1h, or off")
      }
      skew = parsed
    }
    return ReplayConfiguration(
      ingest: IngestOptions(
        timeField: FieldPath(dotted: timeField), timeFormat: format, idField: FieldPath(dotted: idField)),
      engine: EngineOptions(outOfOrderness: ooo, latePolicy: policy, maxTimeSkew: skew),
      maxLineBytes: maxLineBytes)
  }
}

/// Loads and compiles rules, printing diagnostics; exits 1 on errors, 66 on unreadable files.
/// With `sinkNames`, `to` clauses must name those sinks.
func loadPrograms(_ paths: [String], ingest: IngestOptions, sinkNames: [String]? = nil) throws -> RuleSet {
  do {
    let ruleSet = try RuleSet.load(paths, ingest: ingest, sinkNames: sinkNames)
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

extension String {
  func indentedLines() -> String {
    split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
  }
}
