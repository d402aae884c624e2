import Foundation
import TocsinCore
import TocsinIO

/// `--workers 2`: reading and decoding on a second thread, matching on the caller's.
///
/// The decoding thread reads lines, decodes each into an event (or the reason it is not one)
/// and hands them over in batches of ``batchLines`` lines through a bounded queue of
/// ``queueBatches`` batches, so memory stays bounded and a slow engine throttles the reader.
/// A batch carries a copy of its lines' bytes (one buffer), because dead letters and the
/// calibration's held lines quote raw input after the reader's buffer has moved on.
///
/// Output is identical to the single-threaded run: lines are consumed in input order, and
/// events carry the same sequence numbers (the decoding thread counts decoded events exactly
/// as ``ReplaySession/consume(_:)`` does). The engine and every sink stay on one thread.
final class DecodingStage {
  static let batchLines = 1024
  static let queueBatches = 8

  /// One decoded line; `start..<start + count` are its bytes in the batch's buffer.
  struct Item {
    var number: Int
    var offset: Int64
    var length: Int
    var isTooLong: Bool
    var start: Int
    var count: Int
    var decoded: ReplaySession.Decoded
  }

  /// A run of consecutive lines.
  final class Batch {
    var bytes: [UInt8] = []
    var items: [Item] = []
    /// The reader's resume position after the batch's last line.
    var bytesConsumed: Int64 = 0
    /// Set on the last batch when reading failed.
    var error: Error?
    /// Whether this is the last batch.
    var isLast = false

    /// Calls `body` with each line of the batch; before line `i`, calls `prepare` with the
    /// decoded form of line `i + lookahead` (and first with those of lines `0..<lookahead`), so
    /// the engine can fetch what that line's event will need (``ReplaySession/prepare(_:)``).
    func forEachLine(
      lookahead: Int, prepare: (ReplaySession.Decoded) -> Void,
      _ body: (InputLine, ReplaySession.Decoded) throws -> Void
    ) rethrows {
      for i in 0..<min(lookahead, items.count) { prepare(items[i].decoded) }
      try bytes.withUnsafeBytes { raw in
        for (i, item) in items.enumerated() {
          if i + lookahead < items.count { prepare(items[i + lookahead].decoded) }
          let slice = UnsafeRawBufferPointer(rebasing: raw[item.start..<item.start + item.count])
          let line = InputLine(
            bytes: slice, number: item.number, offset: item.offset, length: item.length,
            isTooLong: item.isTooLong)
          try body(line, item.decoded)
        }
      }
    }
  }

  private let condition = NSCondition()
  private var queue: [Batch] = []
  private var cancelled = false
  private var finished = false
  private let done = DispatchSemaphore(value: 0)

  /// Starts the decoding thread over `reader` with `decoder`, numbering events from `sequence`.
  init(reader: LineReader, decoder: EventDecoder, sequence: UInt64) {
    let thread = Thread { [self] in
      produce(reader: reader, decoder: decoder, sequence: sequence)
      done.signal()
    }
    thread.name = "tocsin-decode"
    thread.start()
  }

  /// The next batch, waiting for it; `nil` after the last one.
  func next() -> Batch? {
    condition.lock()
    defer { condition.unlock() }
    while queue.isEmpty && !finished { condition.wait() }
    if queue.isEmpty { return nil }
    let batch = queue.removeFirst()
    condition.signal()
    return batch
  }

  /// Whether a batch is ready without waiting.
  var hasReadyBatch: Bool {
    condition.lock()
    defer { condition.unlock() }
    return !queue.isEmpty
  }

  /// Stops the decoding thread (after an output error) and waits for it.
  func stop() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    condition.unlock()
    done.wait()
  }

  /// Waits for the decoding thread after the last batch was taken.
  func join() { done.wait() }

  private func produce(reader: LineReader, decoder: EventDecoder, sequence: UInt64) {
    var decoder = decoder
    var sequence = sequence
    var batch = Batch()
    batch.bytes.reserveCapacity(Self.batchLines * 256)
    batch.items.reserveCapacity(Self.batchLines)
    func publish(_ b: Batch) -> Bool {
      condition.lock()
      defer { condition.unlock() }
      while queue.count >= Self.queueBatches && !cancelled { condition.wait() }
      if cancelled { return false }
      queue.append(b)
      if b.isLast { finished = true }
      condition.broadcast()
      return true
    }
    do {
      while let line = try reader.nextLine() {
        let decoded = ReplaySession.decode(line, with: &decoder, sequence: sequence)
        if case .event = decoded { sequence += 1 }
        let start = batch.bytes.count
        batch.bytes.append(contentsOf: line.bytes)
        batch.items.append(
          Item(
            number: line.number, offset: line.offset, length: line.length, isTooLong: line.isTooLong,
            start: start, count: line.bytes.count, decoded: decoded))
        // A full batch, or the reader's buffer ran dry (the next read may block on a quiet
        // pipe): hand over what there is.
        if batch.items.count >= Self.batchLines || reader.bytesConsumed == reader.bytesRead {
          batch.bytesConsumed = reader.bytesConsumed
          guard publish(batch) else { return }
          batch = Batch()
          batch.bytes.reserveCapacity(Self.batchLines * 256)
          batch.items.reserveCapacity(Self.batchLines)
        }
      }
    } catch {
      batch.error = error
    }
    batch.bytesConsumed = reader.bytesConsumed
    batch.isLast = true
    _ = publish(batch)
  }
}
