import Foundation
import TocsinIO

/// How often `tocsin run --checkpoint` writes a checkpoint.
public enum CheckpointInterval: Sendable, Equatable, CustomStringConvertible {
  /// After every this many input lines.
  case lines(Int)
  /// After this much wall-clock time (checked every 256 lines).
  case wallClock(Duration)

  /// Parses `100000` (lines) or a duration such as `30s`, `5m`.
  public init?(parsing text: String) {
    if let n = Int(text) {
      guard n > 0 else { return nil }
      self = .lines(n)
      return
    }
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    for (suffix, ms) in units where text.hasSuffix(suffix) {
      guard let n = Int64(text.dropLast(suffix.count)), n > 0 else { continue }
      self = .wallClock(.milliseconds(n * ms))
      return
    }
    return nil
  }

  public var description: String {
    switch self {
    case .lines(let n): return "\(n) lines"
    case .wallClock(let d): return "\(d)"
    }
  }
}

/// Settings of `tocsin run --checkpoint DIR`.
public struct CheckpointOptions: Sendable {
  /// The checkpoint directory (created if missing).
  public var directory: String
  /// How often to write one.
  public var interval: CheckpointInterval
  /// Whether to continue from the newest usable checkpoint in ``directory``.
  public var resume: Bool
  /// How many checkpoint files to keep.
  public var keep: Int

  /// Creates options; by default a checkpoint every 100 000 lines, the last 3 kept.
  public init(directory: String, interval: CheckpointInterval = .lines(100_000), resume: Bool = false, keep: Int = 3) {
    self.directory = directory
    self.interval = interval
    self.resume = resume
    self.keep = keep
  }
}

/// Writes checkpoints during a run and sets a run up to resume from one (RunPipeline's helper).
///
/// A checkpoint is taken between two input lines, after both writers were flushed, so the
/// engine state, the input position and the output lengths it records describe the same point.
struct Checkpointer {
  /// The sink names recorded in checkpoints.
  static let alertsFile = "alerts-file"
  static let alertsStdout = "alerts-stdout"
  static let deadLetterFile = "dead-letter-file"

  /// The run's writers and the file lengths they started from.
  struct Outputs {
    var alerts: BufferedWriter
    var deadLetters: BufferedWriter
    var alertsBase: Int64
    var deadLetterBase: Int64
  }

  let store: CheckpointStore
  let interval: CheckpointInterval
  private var lines = 0
  private let clock = ContinuousClock()
  private var last: ContinuousClock.Instant
  /// Checkpoints written so far.
  private(set) var written = 0

  /// Opens the store and, with `--resume`, loads the newest usable checkpoint.
  static func start(_ options: RunPipeline.Options) throws -> (Checkpointer?, Checkpoint?) {
    guard let settings = options.checkpoint else { return (nil, nil) }
    let store: CheckpointStore
    do {
      store = try CheckpointStore(directory: settings.directory, keep: settings.keep)
    } catch {
      throw RunPipeline.Failure.checkpoint(error.description)
    }
    let checkpointer = Checkpointer(store: store, interval: settings.interval, last: ContinuousClock().now)
    guard settings.resume else { return (checkpointer, nil) }
    let loaded: (checkpoint: Checkpoint?, path: String?, skipped: [(path: String, reason: String)])
    do {
      loaded = try store.loadLatest()
    } catch {
      throw RunPipeline.Failure.checkpoint(error.description)
    }
    for skipped in loaded.skipped {
      options.warn("warning: skipping checkpoint '\(skipped.path)': \(skipped.reason)")
    }
    guard let checkpoint = loaded.checkpoint, let path = loaded.path else {
      options.warn("note: no usable checkpoint in '\(settings.directory)'; starting from the beginning")
      return (checkpointer, nil)
    }
    options.warn(
      "resuming from '\(path)': input line \(checkpoint.input.line), byte \(checkpoint.input.byteOffset)")
    if checkpoint.input.path != options.inputPath {
      options.warn(
        "warning: the checkpoint was taken reading '\(checkpoint.input.path ?? "standard input")', "
          + "this run reads '\(options.inputPath ?? "standard input")'")
    }
    return (checkpointer, checkpoint)
  }

  /// Seeks a file input to the checkpoint's offset. Standard input is not seeked: the producer
  /// replays from the first line after the checkpoint (docs/operations.md).
  static func seekInput(_ fd: Int32, to position: Checkpoint.InputPosition, options: RunPipeline.Options) throws {
    guard let path = options.inputPath else { return }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw RunPipeline.Failure.input("\(path): \(String(cString: strerror(errno)))") }
    guard Int64(info.st_size) >= position.byteOffset else {
      throw RunPipeline.Failure.checkpoint(
        "'\(path)' has \(info.st_size) bytes, fewer than the checkpoint's input offset \(position.byteOffset)")
    }
    guard lseek(fd, off_t(position.byteOffset), SEEK_SET) >= 0 else {
      throw RunPipeline.Failure.input("\(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Opens the alerts and dead-letter writers; when resuming, files are cut back to the lengths
  /// the checkpoint recorded and appended to.
  static func openOutputs(_ options: RunPipeline.Options, resumingFrom checkpoint: Checkpoint?) throws -> Outputs {
    do {
      var alertsBase: Int64 = 0
      let alerts: BufferedWriter
      if let path = options.outputPath {
        if let checkpoint {
          guard let recorded = checkpoint.sinkPosition(alertsFile) else {
            throw RunPipeline.Failure.checkpoint(
              "the checkpoint was taken writing alerts to standard output; cannot resume into '\(path)'")
          }
          try cut(path, to: recorded, mustHave: true)
          alertsBase = recorded
          alerts = try BufferedWriter(path: path, mode: .append)
        } else {
          alerts = try BufferedWriter(path: path, mode: .truncate)
        }
      } else {
        alertsBase = checkpoint?.sinkPosition(alertsStdout) ?? 0
        alerts = .standardOutput()
      }
      var deadLetterBase: Int64 = 0
      let deadLetters: BufferedWriter
      if let path = options.deadLetterPath {
        if let recorded = checkpoint?.sinkPosition(deadLetterFile) { try cut(path, to: recorded, mustHave: false) }
        deadLetterBase = fileSize(path) ?? 0
        deadLetters = try BufferedWriter(path: path, mode: .append)
      } else {
        deadLetters = .standardError()
      }
      return Outputs(alerts: alerts, deadLetters: deadLetters, alertsBase: alertsBase, deadLetterBase: deadLetterBase)
    } catch let error as OutputError {
      throw RunPipeline.Failure.output(error.message)
    }
  }

  /// Truncates `path` to `length`; a file shorter than that is an error when `mustHave`.
  private static func cut(_ path: String, to length: Int64, mustHave: Bool) throws {
    let size = fileSize(path)
    if mustHave {
      guard let size, size >= length else {
        throw RunPipeline.Failure.checkpoint(
          "'\(path)' has \(size.map(String.init) ?? "no") bytes, fewer than the \(length) the checkpoint recorded")
      }
    }
    guard let size, size > length else { return }
    guard truncate(path, off_t(length)) == 0 else {
      throw RunPipeline.Failure.output("cannot truncate '\(path)': \(String(cString: strerror(errno)))")
    }
  }

  private static func fileSize(_ path: String) -> Int64? {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : nil
  }

  /// Restores the session and the reader's numbering from `checkpoint`, reporting rule changes.
  static func resume(
    _ session: ReplaySession, reader: LineReader, from checkpoint: Checkpoint, options: RunPipeline.Options
  ) throws {
    let changes: RuleChanges
    do {
      changes = try session.restore(from: checkpoint)
    } catch {
      throw RunPipeline.Failure.checkpoint(error.description)
    }
    for line in changes.warnings { options.warn(line) }
    reader.continueNumbering(fromOffset: checkpoint.input.byteOffset, line: checkpoint.input.line)
  }

  /// Whether a checkpoint is due after one more line.
  mutating func isDue() -> Bool {
    lines += 1
    switch interval {
    case .lines(let n):
      guard lines >= n else { return false }
    case .wallClock(let d):
      guard lines & 255 == 0, clock.now - last >= d else { return false }
    }
    return true
  }

  /// Flushes the writers and writes a checkpoint. A checkpoint that cannot be written is a
  /// warning (the run goes on and the previous checkpoints stay); a flush failure is an output
  /// error as always.
  mutating func write(
    session: ReplaySession, reader: LineReader, outputs: Outputs, options: RunPipeline.Options
  ) throws {
    lines = 0
    last = clock.now
    try outputs.alerts.flush()
    try outputs.deadLetters.flush()
    var sinks = [
      Checkpoint.SinkPosition(
        name: options.outputPath == nil ? Self.alertsStdout : Self.alertsFile,
        position: outputs.alertsBase + outputs.alerts.bytesWritten)
    ]
    if options.deadLetterPath != nil {
      sinks.append(
        Checkpoint.SinkPosition(
          name: Self.deadLetterFile, position: outputs.deadLetterBase + outputs.deadLetters.bytesWritten))
    }
    let checkpoint = session.checkpoint(
      input: Checkpoint.InputPosition(path: options.inputPath, byteOffset: reader.bytesConsumed, line: reader.lineNumber),
      sinks: sinks)
    do {
      try store.write(checkpoint.encoded())
      written += 1
    } catch {
      options.warn("warning: checkpoint not written: \(error.description)")
    }
  }
}

extension Checkpointer {
  fileprivate init(store: CheckpointStore, interval: CheckpointInterval, last: ContinuousClock.Instant) {
    self.store = store
    self.interval = interval
    self.last = last
  }
}
