import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinRuntime

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

    /// Creates options.
    public init(
      inputPath: String? = nil, outputPath: String? = nil, deadLetterPath: String? = nil,
      configuration: ReplayConfiguration = ReplayConfiguration()
    ) {
      self.inputPath = inputPath
      self.outputPath = outputPath
      self.deadLetterPath = deadLetterPath
      self.configuration = configuration
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
  public static func run(programs: ProgramSet, options: Options) throws -> RunSummary {
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

    let alerts: BufferedWriter
    let deadLetters: BufferedWriter
    do {
      alerts = try options.outputPath.map { try BufferedWriter(path: $0, mode: .truncate) }
        ?? .standardOutput()
      deadLetters = try options.deadLetterPath.map { try BufferedWriter(path: $0, mode: .append) }
        ?? .standardError()
    } catch let error as OutputError {
      throw Failure.output(error.message)
    }

    let reader = LineReader(fileDescriptor: inputFD, maxLineBytes: options.configuration.maxLineBytes)
    let session = ReplaySession(
      programs: programs, configuration: options.configuration,
      alerts: { try alerts.write($0) }, deadLetters: { try deadLetters.write($0) })
    do {
      while let line = try reader.nextLine() { try session.consume(line) }
      try session.finish()
      try alerts.close()
      try deadLetters.flush()
      if options.deadLetterPath != nil { try deadLetters.close() }
    } catch let error as LineReaderError {
      throw Failure.input(error.message)
    } catch let error as OutputError {
      if error.isBrokenPipe && options.outputPath == nil { throw Failure.outputClosed }
      throw Failure.output(error.message)
    }
    let elapsed = clock.now - started
    return RunSummary(
      counters: session.counters, engine: session.engineState, bytesRead: reader.bytesConsumed,
      elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
      peakRSSBytes: ProcessStats.peakResidentBytes(),
      deadLetterDestination: options.deadLetterPath ?? "stderr")
  }
}
