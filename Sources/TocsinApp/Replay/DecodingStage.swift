import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime

/// `--workers 2`: reading and decoding on a second thread, matching on the caller's.
///
/// The decoding thread reads lines, decodes each into an event (or the reason it is not one)
/// and hands them over in batches of ``batchLines`` lines through a bounded queue of
/// ``queueBatches`` batches, so memory stays bounded and a slow engine throttles the reader.
/// A batch carries a copy of its lines' bytes (one buffer), because dead letters and the
/// calibration's held lines quote raw input after the reader's buffer has moved on.
///
/// Batches go back once the engine is done with them (``recycle(_:slotsFrom:)``), carrying the
/// slot buffers of events the engine finished meanwhile, and the decoding thread reuses both:
/// no batch arrays or slot buffers are allocated in the steady state, and no buffer allocated
/// by one thread is freed by the other (in glibc, such a free takes the other arena's lock).
/// Each thread wakes the other only when needed: the decoding thread when the queue falls to
/// half full, the engine's when the queue was empty.
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
    /// The event's key probes, computed here while the event is in this core's cache.
    var probes: Engine.ArrivalProbes
  }

  /// A run of consecutive lines.
  final class Batch {
    var bytes: [UInt8] = []
    var items: [Item] = []
    /// Slot buffers on their way back to the decoding thread's pool.
    let returnedSlots = EventSlots.Pool(limit: DecodingStage.batchLines)
    /// The reader's resume position after the batch's last line.
    var bytesConsumed: Int64 = 0
    /// Set on the last batch when reading failed.
    var error: Error?
    /// Whether this is the last batch.
    var isLast = false

    /// Calls `body` with each line of the batch; before line `i`, calls `prepare` with the key
    /// probes of line `i + lookahead`'s event (and first with those of lines `0..<lookahead`), so
    /// the engine can fetch what that event will need (``ReplaySession/prepare(_:)``). Each
    /// decoded line is taken out of the batch before `body` gets it (`inout`, for `body` to
    /// move on), so the engine holds the event's only reference and can give its slot buffer
    /// back when done. Through the buffer,
    /// not `items[i]`: copying an item out retained its event, a miss on the other core's line.
    func forEachLine(
      lookahead: Int, prepare: (UnsafePointer<Engine.ArrivalProbes>) -> Void,
      _ body: (InputLine, inout ReplaySession.Decoded) throws -> Void
    ) rethrows {
      try bytes.withUnsafeBytes { raw in
        try items.withUnsafeMutableBufferPointer { items in
          // The probes by address: copied out, each was a ~190-byte `memmove`.
          let base = items.baseAddress.unsafelyUnwrapped
          for i in 0..<min(lookahead, items.count) { withUnsafePointer(to: &base[i].probes) { prepare($0) } }
          for i in items.indices {
            if i + lookahead < items.count { withUnsafePointer(to: &base[i + lookahead].probes) { prepare($0) } }
            var decoded = ReplaySession.Decoded.notDecoded
            swap(&decoded, &items[i].decoded)
            let start = items[i].start
            let line = InputLine(
              bytes: UnsafeRawBufferPointer(rebasing: raw[start..<start + items[i].count]),
              number: items[i].number, offset: items[i].offset, length: items[i].length,
              isTooLong: items[i].isTooLong)
            try body(line, &decoded)
          }
        }
      }
    }

    /// Empties the batch for reuse, keeping its arrays' capacity.
    fileprivate func reset() {
      bytes.removeAll(keepingCapacity: true)
      items.removeAll(keepingCapacity: true)
      bytesConsumed = 0
      error = nil
      isLast = false
    }
  }

  private let condition = NSCondition()
  private var queue: [Batch] = []
  /// Batches the engine is done with, for the decoding thread to refill.
  private var spare: [Batch] = []
  private var cancelled = false
  private var finished = false
  private let done = DispatchSemaphore(value: 0)
  /// The decoding thread's CPU seconds, set as it ends (read after ``join()`` or ``stop()``).
  private(set) var cpuSeconds = 0.0
  /// Bytes of the engine's heap the decoding thread faulted in (``HeapReserve``), set as it ends.
  private(set) var heapBytesFaultedIn = 0

  /// Starts the decoding thread over `reader` with `decoder`, numbering events from `sequence`
  /// and computing their key probes with `prober`.
  ///
  /// Call on the engine's thread: the main heap is tuned for ``HeapReserve`` here, and the
  /// decoding thread faults in its growth after each batch it publishes.
  init(reader: LineReader, decoder: EventDecoder, sequence: UInt64, prober: Engine.ArrivalProber) {
    let reserve = HeapReserve()
    let thread = Thread { [self] in
      let started = WorkerTimes.threadCPUSeconds()
      var reserve = reserve
      produce(reader: reader, decoder: decoder, sequence: sequence, prober: prober, reserve: &reserve)
      heapBytesFaultedIn = reserve.bytesFaultedIn
      cpuSeconds = WorkerTimes.threadCPUSeconds() - started
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
    // The decoding thread waits only on a full queue: wake it when there is room for a run of
    // batches, not for every one (each wake is a futex call and a reschedule).
    if queue.count == Self.queueBatches / 2 { condition.signal() }
    return batch
  }

  /// Hands `batch` back for reuse once every line of it has been consumed, with up to a
  /// batch's worth of the slot buffers `pool` (the engine's) has collected since.
  func recycle(_ batch: Batch, slotsFrom pool: EventSlots.Pool?) {
    pool?.give(upTo: Self.batchLines, to: batch.returnedSlots)
    condition.lock()
    spare.append(batch)
    condition.unlock()
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

  private func produce(
    reader: LineReader, decoder: EventDecoder, sequence: UInt64, prober: Engine.ArrivalProber,
    reserve: inout HeapReserve
  ) {
    var decoder = decoder
    var sequence = sequence
    /// A batch the engine gave back (its slot buffers go to the decoder's pool), or a new one.
    func emptyBatch() -> Batch {
      condition.lock()
      let reused = spare.popLast()
      condition.unlock()
      guard let reused else {
        let batch = Batch()
        batch.bytes.reserveCapacity(Self.batchLines * 256)
        batch.items.reserveCapacity(Self.batchLines)
        return batch
      }
      reused.reset()
      if let pool = decoder.slotPool { reused.returnedSlots.give(upTo: .max, to: pool) }
      return reused
    }
    var batch = emptyBatch()
    func publish(_ b: Batch) -> Bool {
      condition.lock()
      defer { condition.unlock() }
      while queue.count >= Self.queueBatches && !cancelled { condition.wait() }
      if cancelled { return false }
      queue.append(b)
      if b.isLast { finished = true }
      // The engine's thread waits only on an empty queue.
      if queue.count == 1 || b.isLast { condition.signal() }
      return true
    }
    do {
      while let line = try reader.nextLine() {
        let start = batch.bytes.count
        batch.bytes.append(contentsOf: line.bytes)
        batch.items.append(
          Item(
            number: line.number, offset: line.offset, length: line.length, isTooLong: line.isTooLong,
            start: start, count: line.bytes.count, decoded: .notDecoded, probes: Engine.ArrivalProbes()))
        // The probes go into the item in place (they are ~190 bytes), from the event lent as it
        // is decoded; the event then moves into the item.
        let last = batch.items.count - 1
        let decoded = ReplaySession.decode(line, with: &decoder, sequence: sequence) { event in
          prober.fill(&batch.items[last].probes, of: event)
        }
        if case .event = decoded { sequence += 1 }
        batch.items[last].decoded = consume decoded
        // A full batch, or the reader's buffer ran dry (the next read may block on a quiet
        // pipe): hand over what there is.
        if batch.items.count >= Self.batchLines || reader.bytesConsumed == reader.bytesRead {
          batch.bytesConsumed = reader.bytesConsumed
          guard publish(batch) else { return }
          // While the engine works on what was published: its heap's new pages.
          reserve.faultIn()
          batch = emptyBatch()
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
