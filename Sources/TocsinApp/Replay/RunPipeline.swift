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
    /// Periodic checkpoints and resuming; `nil` for none.
    public var checkpoint: CheckpointOptions?
    /// Receives warnings and notes (state limits, rule changes on resume, skipped checkpoints).
    public var warn: (String) -> Void

    /// Creates options.
    public init(
      inputPath: String? = nil, outputPath: String? = nil, deadLetterPath: String? = nil,
      configuration: ReplayConfiguration = ReplayConfiguration(), checkpoint: CheckpointOptions? = nil,
      warn: @escaping (String) -> Void = { _ in }
    ) {
      self.inputPath = inputPath
      self.outputPath = outputPath
      self.deadLetterPath = deadLetterPath
      self.configuration = configuration
      self.checkpoint = checkpoint
      self.warn = warn
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
    /// The checkpoint directory is unusable, or a resume is impossible (e.g. the alerts file is
    /// shorter than the checkpoint recorded).
    case checkpoint(String)

    public var description: String {
      switch self {
      case .input(let message), .output(let message), .checkpoint(let message): return "error: " + message
      case .outputClosed: return "standard output was closed"
      }
    }
  }

  /// Runs `programs` over the input; returns the summary.
  public static func run(programs: ProgramSet, options: Options) throws -> RunSummary {
    IgnoreSIGPIPE.install()
    var checkpointsWritten = 0
    let clock = ContinuousClock()
    let started = clock.now
    let (checkpointer, resumePoint) = try Checkpointer.start(options)
    let inputFD: Int32
    if let path = options.inputPath {
      inputFD = open(path, O_RDONLY)
      guard inputFD >= 0 else { throw Failure.input("\(path): \(String(cString: strerror(errno)))") }
    } else {
      inputFD = STDIN_FILENO
    }
    defer { if options.inputPath != nil { close(inputFD) } }
    if let resumePoint { try Checkpointer.seekInput(inputFD, to: resumePoint.input, options: options) }

    let outputs = try Checkpointer.openOutputs(options, resumingFrom: resumePoint)
    let alerts = outputs.alerts
    let deadLetters = outputs.deadLetters

    let reader = LineReader(fileDescriptor: inputFD, maxLineBytes: options.configuration.maxLineBytes)
    let session = ReplaySession(
      programs: programs, configuration: options.configuration,
      alerts: { try alerts.write($0) }, deadLetters: { try deadLetters.write($0) })
    session.warn = options.warn
    if let resumePoint {
      try Checkpointer.resume(session, reader: reader, from: resumePoint, options: options)
    }
    do {
      if var checkpointer {
        // A fresh run checkpoints before the first line, so a resume always finds the output
        // lengths it started from (the dead-letter file is appended to, not truncated).
        if resumePoint == nil {
          try checkpointer.write(session: session, reader: reader, outputs: outputs, options: options)
        }
        while let line = try reader.nextLine() {
          try session.consume(line)
          if checkpointer.isDue() {
            try checkpointer.write(session: session, reader: reader, outputs: outputs, options: options)
          }
        }
        checkpointsWritten = checkpointer.written
      } else {
        while let line = try reader.nextLine() { try session.consume(line) }
      }
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
    var summary = RunSummary(
      counters: session.counters, engine: session.engineState, bytesRead: reader.bytesConsumed,
      elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
      peakRSSBytes: ProcessStats.peakResidentBytes(),
      deadLetterDestination: options.deadLetterPath ?? "stderr")
    summary.checkpointsWritten = checkpointsWritten
    return summary
  }
}
