import Foundation
import TocsinIO
import TocsinSinks

/// Sink positions in checkpoints (docs/operations.md, "Checkpoints and resume"):
///
/// - a `file` sink records its file's length under `file:PATH`; a resume cuts the file back to
///   it and appends, so the final file is byte-identical to an uninterrupted run;
/// - a `stdout` sink records the bytes written so far (across resumes) under `stdout:NAME`;
///   what it wrote after the checkpoint is written again after a resume;
/// - a `webhook` sink records the records it holds undelivered (queue and batch in flight); a
///   resume queues them again, and alerts after the checkpoint are sent again: nothing is lost,
///   and the receiver recognises repeats by their deterministic `id`.
///
/// Rotating file sinks (`max_bytes`) are refused with `--checkpoint`: after a rotation the
/// recorded length no longer describes one file, and cutting back would have to undo renames.
extension Checkpointer {
  /// The position name of a file sink writing `path`.
  static func filePosition(_ path: String) -> String { "file:" + path }
  /// The position name of the standard-output sink called `name`.
  static func streamPosition(_ name: String) -> String { "stdout:" + name }

  /// Checks the sinks for `--checkpoint` and, when resuming, cuts each file sink's file back to
  /// the length the checkpoint recorded and makes it append (the `-o` shorthand would empty it).
  ///
  /// - Returns: per standard-output sink, the bytes written before the checkpoint (the base of
  ///   the positions this run records).
  /// - Throws: ``RunPipeline/Failure/checkpoint(_:)`` for a rotating file sink, a file shorter
  ///   than recorded, or a file the shorthand would empty that the checkpoint knows nothing of.
  static func prepareSinks(
    _ configuration: inout SinkConfiguration, options: RunPipeline.Options, resumingFrom checkpoint: Checkpoint?
  ) throws -> [String: Int64] {
    guard options.checkpoint != nil else { return [:] }
    var bases: [String: Int64] = [:]
    for index in configuration.sinks.indices {
      let definition = configuration.sinks[index]
      switch definition.kind {
      case .file(var settings):
        if settings.maxBytes != nil {
          throw RunPipeline.Failure.checkpoint(
            "sink '\(definition.name)' rotates its file (max_bytes); --checkpoint cannot cut a rotated "
              + "file back to a checkpoint: remove max_bytes from that sink or run without --checkpoint")
        }
        guard let checkpoint else { continue }
        let isDeadLetter = definition.name == configuration.deadLetter
        if let recorded = checkpoint.sinkPosition(filePosition(settings.path)) {
          try cut(settings.path, to: recorded, mustHave: !isDeadLetter)
        } else if settings.truncate {
          throw RunPipeline.Failure.checkpoint(
            "the checkpoint recorded no position for '\(settings.path)' (it was taken writing alerts "
              + "elsewhere); cannot resume into it")
        } else {
          options.warn(
            "note: sink '\(definition.name)': the checkpoint recorded no position for '\(settings.path)'; appending to it")
        }
        settings.truncate = false
        configuration.sinks[index].kind = .file(settings)
      case .stdout:
        let name = streamPosition(definition.name)
        bases[name] = checkpoint?.sinkPosition(name) ?? 0
      case .stderr, .webhook:
        continue
      }
    }
    return bases
  }

  /// Truncates `path` to `length`; a file shorter than that is an error when `mustHave`.
  private static func cut(_ path: String, to length: Int64, mustHave: Bool) throws {
    var info = stat()
    let size: Int64? = stat(path, &info) == 0 ? Int64(info.st_size) : nil
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
}

extension SinkRouter {
  /// Flushes every sink (the dead-letter sink too) and returns the positions a checkpoint
  /// records: each file sink's length and each standard-output sink's bytes (plus `streamBases`,
  /// what earlier processes of the run wrote).
  /// - Throws: ``OutputError`` when a flush fails.
  func checkpointPositions(streamBases: [String: Int64]) throws -> [Checkpoint.SinkPosition] {
    var positions: [Checkpoint.SinkPosition] = []
    for sink in distinctSinks {
      try sink.flush()
      if let file = sink as? FileSink {
        let name = Checkpointer.filePosition(file.path)
        if !positions.contains(where: { $0.name == name }) {
          positions.append(Checkpoint.SinkPosition(name: name, position: file.length))
        }
      } else if let stream = sink as? StreamSink, stream.isStandardOutput {
        let name = Checkpointer.streamPosition(stream.name)
        positions.append(Checkpoint.SinkPosition(name: name, position: (streamBases[name] ?? 0) + stream.bytesWritten))
      }
    }
    return positions
  }
}

extension SinkRouter {
  /// Per webhook sink, the records it holds undelivered (for the checkpoint).
  func undeliveredRecords() -> [(sink: String, records: [[UInt8]])] {
    var out: [(sink: String, records: [[UInt8]])] = []
    for case let webhook as WebhookSink in distinctSinks {
      let records = webhook.undelivered()
      if !records.isEmpty { out.append((webhook.name, records.map(\.bytes))) }
    }
    return out
  }

  /// Queues again the records a checkpoint stored for each webhook sink; records of a sink no
  /// longer configured as a webhook are reported through `warn` (they cannot be delivered).
  func requeue(_ stored: [(sink: String, records: [[UInt8]])], warn: (String) -> Void) {
    for (name, records) in stored {
      guard let webhook = distinctSinks.lazy.compactMap({ $0 as? WebhookSink }).first(where: { $0.name == name })
      else {
        warn(
          "warning: the checkpoint holds \(records.count) undelivered records for webhook sink '\(name)', "
            + "which is no longer configured; they are not sent")
        continue
      }
      webhook.requeue(records.map { SinkRecord(bytes: $0) })
    }
  }
}
