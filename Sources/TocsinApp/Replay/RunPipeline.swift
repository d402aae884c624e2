import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinRuntime
import TocsinSinks

/// `tocsin run`: stream NDJSON from a file or stdin through the rules into sinks.
public enum RunPipeline {
  /// Where `run` reads and writes.
  public struct Options {
    /// The input file; `nil` reads standard input.
    public var inputPath: String?
    /// The alerts file (truncated); `nil` writes standard output.
    public var outputPath: String?
    /// The dead-letter file (appended); `nil` writes dead letters to standard error.
    public var deadLetterPath: String?
    /// Replay settings.
    public var configuration: ReplayConfiguration
    /// The `--sinks` configuration; `nil` uses ``outputPath`` and ``deadLetterPath`` (the
    /// shorthand). With it, ``outputPath`` must be `nil` and ``deadLetterPath``, when set,
    /// replaces the configuration's dead-letter sink.
    public var sinks: SinkConfiguration?

    /// Creates options.
    public init(
      inputPath: String? = nil, outputPath: String? = nil, deadLetterPath: String? = nil,
      configuration: ReplayConfiguration = ReplayConfiguration(), sinks: SinkConfiguration? = nil
    ) {
      self.inputPath = inputPath
      self.outputPath = outputPath
      self.deadLetterPath = deadLetterPath
      self.configuration = configuration
      self.sinks = sinks
    }

    /// The sink configuration this run uses: `--sinks` (with `--dead-letter` applied) or the
    /// shorthand.
    public var effectiveSinks: SinkConfiguration {
      guard var sinks else { return .shorthand(outputPath: outputPath, deadLetterPath: deadLetterPath) }
      if let deadLetterPath {
        var settings = SinkConfiguration.FileSettings(path: deadLetterPath)
        settings.keep = 0
        let name = "dead_letter_file"
        sinks.sinks.append(SinkConfiguration.Definition(name: name, kind: .file(settings)))
        sinks.deadLetter = name
      }
      return sinks
    }
  }

  /// Why `run` stopped early.
  public enum Failure: Error, CustomStringConvertible {
    /// The input could not be opened or read.
    case input(String)
    /// An output could not be opened or written.
    case output(String)
    /// Standard output was closed by its reader (`tocsin run … | head`): not an error.
    case outputClosed

    public var description: String {
      switch self {
      case .input(let message), .output(let message): return "error: " + message
      case .outputClosed: return "standard output was closed"
      }
    }
  }

  /// Runs `programs` over the input; returns the summary.
  /// - Parameters:
  ///   - rules: the checked rules of `programs`, in the same order (their `to` clauses and
  ///     severities route alerts).
  ///   - report: receives sink state changes (from sink threads) and notes, one line each.
  public static func run(
    programs: ProgramSet, rules: [RuleSpec], options: Options,
    report: @escaping @Sendable (String) -> Void = { _ in }
  ) throws -> RunSummary {
    IgnoreSIGPIPE.install()
    let clock = ContinuousClock()
    let started = clock.now
    let inputFD: Int32
    if let path = options.inputPath {
      inputFD = open(path, O_RDONLY)
      guard inputFD >= 0 else { throw Failure.input("\(path): \(String(cString: strerror(errno)))") }
    } else {
      inputFD = STDIN_FILENO
    }
    defer { if options.inputPath != nil { close(inputFD) } }

    let router: SinkRouter
    do {
      let honorRuleSinks = options.sinks != nil
      router = try SinkRouter(
        configuration: options.effectiveSinks, rules: rules, honorRuleSinks: honorRuleSinks, report: report)
      if !honorRuleSinks {
        let named = Array(Set(rules.flatMap { $0.sinks })).sorted()
        if !named.isEmpty {
          report(
            "note: rules name sinks (\(named.joined(separator: ", "))) but no --sinks configuration was given; "
              + "every alert goes to \(options.outputPath ?? "standard output")")
        }
      }
    } catch let failure as SinkRouter.Failure {
      throw Failure.output(failure.message)
    }

    let reader = LineReader(fileDescriptor: inputFD, maxLineBytes: options.configuration.maxLineBytes)
    let session = ReplaySession(
      programs: programs, configuration: options.configuration,
      routedAlerts: { try router.deliver($0, bytes: $1) }, deadLetters: { try router.deadLetter($0) })
    do {
      while let line = try reader.nextLine() { try session.consume(line) }
      try session.finish()
      try router.close()
    } catch let error as LineReaderError {
      try? router.close()
      throw Failure.input(error.message)
    } catch let error as OutputError {
      try? router.close()
      if error.isBrokenPipe && options.outputPath == nil { throw Failure.outputClosed }
      throw Failure.output(error.message)
    }
    let elapsed = clock.now - started
    return RunSummary(
      counters: session.counters, engine: session.engineState, bytesRead: reader.bytesConsumed,
      elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
      peakRSSBytes: ProcessStats.peakResidentBytes(),
      deadLetterDestination: options.deadLetterPath ?? router.deadLetterDestination,
      sinks: options.sinks == nil ? [] : router.statistics)
  }
}
