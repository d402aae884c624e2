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
/// A checkpoint is taken between two input lines, after every sink was flushed, so the engine
/// state, the input position and the output lengths it records describe the same point. Sink
/// positions are handled in CheckpointSinks.swift.
final class Checkpointer {
  let store: CheckpointStore
  let interval: CheckpointInterval
  let router: SinkRouter
  /// Per stream sink position name: the bytes written before this process started (from the
  /// checkpoint resumed from), so positions count the whole run.
  let streamBases: [String: Int64]
  let options: RunPipeline.Options
  private var lines = 0
  private let clock = ContinuousClock()
  private var last: ContinuousClock.Instant
  /// Checkpoints written so far.
  private(set) var written = 0

  init(store: CheckpointStore, router: SinkRouter, streamBases: [String: Int64], options: RunPipeline.Options) {
    self.store = store
    interval = options.checkpoint?.interval ?? .lines(100_000)
    self.router = router
    self.streamBases = streamBases
    self.options = options
    last = clock.now
  }

  /// Opens the store and, with `--resume`, loads the newest usable checkpoint.
  static func start(_ options: RunPipeline.Options) throws -> (CheckpointStore?, Checkpoint?) {
    guard let settings = options.checkpoint else { return (nil, nil) }
    let store: CheckpointStore
    do {
      store = try CheckpointStore(directory: settings.directory, keep: settings.keep)
    } catch {
      throw RunPipeline.Failure.checkpoint(error.description)
    }
    guard settings.resume else { return (store, nil) }
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
      return (store, nil)
    }
    options.warn(
      "resuming from '\(path)': input line \(checkpoint.input.line), byte \(checkpoint.input.byteOffset)")
    if checkpoint.input.path != options.inputPath {
      options.warn(
        "warning: the checkpoint was taken reading '\(checkpoint.input.path ?? "standard input")', "
          + "this run reads '\(options.inputPath ?? "standard input")'")
    }
    return (store, checkpoint)
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

  /// The most lines the next batch may take (``ReplaySession/nextBatch(from:into:limit:)``) so
  /// that a checkpoint due every N lines falls between two batches on exactly its line.
  var batchLimit: Int {
    guard case .lines(let n) = interval else { return .max }
    return max(1, n - lines)
  }

  /// Whether a checkpoint is due after `count` more lines (one batch). The wall clock is read
  /// once per 256 lines.
  func isDue(afterLines count: Int) -> Bool {
    let before = lines
    lines += count
    switch interval {
    case .lines(let n):
      guard lines >= n else { return false }
    case .wallClock(let d):
      guard before >> 8 != lines >> 8, clock.now - last >= d else { return false }
    }
    return true
  }

  /// Flushes every sink and writes a checkpoint. A checkpoint that cannot be written is a
  /// warning (the run goes on and the previous checkpoints stay); a flush failure is an output
  /// error as always.
  func write(session: ReplaySession, reader: LineReader) throws {
    lines = 0
    last = clock.now
    let sinks = try router.checkpointPositions(streamBases: streamBases)
    var checkpoint = session.checkpoint(
      input: Checkpoint.InputPosition(path: options.inputPath, byteOffset: reader.bytesConsumed, line: reader.lineNumber),
      sinks: sinks)
    checkpoint.sinkRecords = router.undeliveredRecords()
    do {
      try store.write(checkpoint.encoded())
      written += 1
    } catch {
      options.warn("warning: checkpoint not written: \(error.description)")
    }
  }
}
