import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime

/// `--workers 2`: reading and decoding on a second thread, matching on the caller's, which
/// decodes too whenever it would otherwise wait.
///
/// The decoding thread reads lines into batches of ``batchLines`` lines and publishes each to
/// a bounded queue of ``queueBatches`` batches, so memory stays bounded and a slow engine
/// throttles the reader; then it decodes the oldest batch not yet claimed, keeping one read
/// batch ahead. A batch carries a copy of its lines' bytes (one buffer), because dead letters
/// and the calibration's held lines quote raw input after the reader's buffer has moved on.
///
/// The engine's thread takes batches in input order. When the next one is still being decoded
/// (or not yet claimed), it does not wait if a read batch is left: it claims the oldest one and
/// decodes it with a decoder of its own. On a stream where decoding is the busier thread's work
/// (W1: decoding ~90% of the wall time, the engine ~65%), the two threads then share it, where
/// the engine's thread used to sleep; where the engine is the busier (W2), every batch is
/// decoded before the engine reaches it and nothing changes. Batches are decoded out of order
/// that way, so the decoders leave events unnumbered and the engine's thread numbers them as it
/// consumes them (``ReplaySession/consume(_:decoded:)``, ``Batch/forEachLine``), in input order.
///
/// Batches go back once the engine is done with them (``recycle(_:slotsFrom:)``), carrying the
/// slot buffers of events the engine finished meanwhile, and the decoding thread reuses both:
/// no batch arrays or slot buffers are allocated in the steady state. Each thread wakes the
/// other only when it waits: the decoding thread for room in the queue, the engine's for a
/// decoded batch when none is left to decode.
///
/// Output is identical to the single-threaded run: lines are consumed in input order, and
/// events carry the same sequence numbers (the count of events consumed before them, as
/// ``ReplaySession/consume(_:)`` numbers them). The engine and every sink stay on one thread.
final class DecodingStage {
  static let batchLines = 1024
  static let queueBatches = 8

  /// One line; `start..<start + count` are its bytes in the batch's buffer.
  struct Item {
    var number: Int
    var offset: Int64
    var length: Int
    var isTooLong: Bool
    var start: Int
    var count: Int
    var decoded: ReplaySession.Decoded
    /// The event's key probes, computed as it is decoded while the event is in that core's
    /// cache.
    var probes: Engine.ArrivalProbes
  }

  /// A run of consecutive lines.
  final class Batch {
    /// Where a batch is between its reading and its consumption (changed under the stage's
    /// lock): read, claimed by one of the threads to decode, decoded.
    enum State { case read, decoding, decoded }

    /// The lines' bytes one after another (``append(_:)``): plain memory, where an array's
    /// `append(contentsOf:)` cost ~80 instructions a line besides the copy. (Not the runtime's
    /// `PlainArray`: internal to it, and generic across a module boundary it would copy byte by
    /// byte through unspecialised code.)
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var used = 0
    var items: [Item] = []
    fileprivate var state = State.read
    /// Whether the engine's thread decoded the batch (its slot buffers came from the engine's
    /// pool, so none go back to the decoding thread's with it).
    fileprivate var decodedByEngine = false
    /// Slot buffers on their way back to the decoding thread's pool.
    let returnedSlots = EventSlots.Pool(limit: DecodingStage.batchLines)
    /// The reader's resume position after the batch's last line.
    var bytesConsumed: Int64 = 0
    /// Set on the last batch when reading failed.
    var error: Error?
    /// Whether this is the last batch.
    var isLast = false

    init() {
      capacity = DecodingStage.batchLines * 256
      storage = .allocate(byteCount: capacity, alignment: 16)
      items.reserveCapacity(DecodingStage.batchLines)
    }

    deinit { storage.deallocate() }

    /// The bytes of every line appended.
    private var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: used) }

    /// Appends `line`: its bytes after those of the lines before it, and its item.
    fileprivate func append(_ line: InputLine) {
      let count = line.bytes.count
      if used + count > capacity { grow(toHold: used + count) }
      if let source = line.bytes.baseAddress { (storage + used).copyMemory(from: source, byteCount: count) }
      items.append(
        Item(
          number: line.number, offset: line.offset, length: line.length, isTooLong: line.isTooLong,
          start: used, count: count, decoded: .notDecoded, probes: Engine.ArrivalProbes()))
      used += count
    }

    /// Doubles the byte buffer until `count` bytes fit (a batch of long lines).
    @inline(never)
    private func grow(toHold count: Int) {
      var newCapacity = 2 * capacity
      while newCapacity < count { newCapacity *= 2 }
      let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
      grown.copyMemory(from: storage, byteCount: used)
      storage.deallocate()
      storage = grown
      capacity = newCapacity
    }

    /// The line of `item`, its bytes in `raw` (``bytes``).
    @inline(__always)
    private static func line(_ item: UnsafePointer<Item>, in raw: UnsafeRawBufferPointer) -> InputLine {
      let start = item.pointee.start
      return InputLine(
        bytes: UnsafeRawBufferPointer(rebasing: raw[start..<start + item.pointee.count]),
        number: item.pointee.number, offset: item.pointee.offset, length: item.pointee.length,
        isTooLong: item.pointee.isTooLong)
    }

    /// Decodes every line of the batch with `decoder`, each event's probes computed by
    /// `prober` as it is decoded (in place: they are ~190 bytes). The events are left unnumbered
    /// (sequence 0): ``forEachLine`` and the session number them as they are consumed.
    fileprivate func decode(with decoder: inout EventDecoder, prober: Engine.ArrivalProber) {
      let raw = bytes
      items.withUnsafeMutableBufferPointer { items in
        let base = items.baseAddress.unsafelyUnwrapped
        for i in items.indices {
          let decoded = ReplaySession.decode(Self.line(base + i, in: raw), with: &decoder, sequence: 0) { event in
            prober.fill(&base[i].probes, of: event)
          }
          base[i].decoded = consume decoded
        }
      }
    }

    /// Calls `body` with each line of the batch; before line `i`, calls `prepare` with the key
    /// probes of line `i + lookahead`'s event (and first with those of lines `0..<lookahead`), so
    /// the engine can fetch what that event will need (``ReplaySession/prepare(_:)``). The
    /// batch's events are numbered from `firstSequence` on, in line order, as the probes are
    /// prepared (the session numbers the events themselves as it consumes them). Each
    /// decoded line is taken out of the batch before `body` gets it (`inout`, for `body` to
    /// move on), so the engine holds the event's only reference and can give its slot buffer
    /// back when done. Through the buffer,
    /// not `items[i]`: copying an item out retained its event, a miss on the other core's line.
    func forEachLine(
      lookahead: Int, firstSequence: UInt64, prepare: (UnsafePointer<Engine.ArrivalProbes>) -> Void,
      _ body: (InputLine, inout ReplaySession.Decoded) throws -> Void
    ) rethrows {
      let raw = bytes
      try items.withUnsafeMutableBufferPointer { items in
        // The probes by address: copied out, each was a ~190-byte `memmove`.
        let base = items.baseAddress.unsafelyUnwrapped
        var sequence = firstSequence
        @inline(__always) func prepareItem(_ j: Int) {
          if case .event = base[j].decoded {
            base[j].probes.sequence = sequence
            sequence &+= 1
          }
          withUnsafePointer(to: &base[j].probes) { prepare($0) }
        }
        for i in 0..<min(lookahead, items.count) { prepareItem(i) }
        for i in items.indices {
          if i + lookahead < items.count { prepareItem(i + lookahead) }
          var decoded = ReplaySession.Decoded.notDecoded
          swap(&decoded, &items[i].decoded)
          try body(Self.line(base + i, in: raw), &decoded)
        }
      }
    }

    /// Empties the batch for reuse, keeping its arrays' capacity.
    fileprivate func reset() {
      used = 0
      items.removeAll(keepingCapacity: true)
      state = .read
      decodedByEngine = false
      bytesConsumed = 0
      error = nil
      isLast = false
    }
  }

  private let condition = NSCondition()
  /// Published batches in input order: read, being decoded or decoded.
  private var queue: [Batch] = []
  /// Batches the engine is done with, for the decoding thread to refill.
  private var spare: [Batch] = []
  private var cancelled = false
  /// Whether the last batch is in the queue.
  private var finished = false
  /// Whether the engine's thread waits for a decoded batch, and whether the decoding thread
  /// waits for room in the queue: a thread signals the other only then (each wake is a futex
  /// call and a reschedule).
  private var engineWaits = false
  private var decoderWaits = false
  private let done = DispatchSemaphore(value: 0)
  /// The decoding thread's CPU seconds, set as it ends (read after ``join()`` or ``stop()``).
  private(set) var cpuSeconds = 0.0
  /// Bytes of the engine's heap the decoding thread faulted in (``HeapReserve``), set as it ends.
  private(set) var heapBytesFaultedIn = 0
  /// Batches the engine's thread decoded itself (``next(decodingWith:prober:)``), and all
  /// batches published; read after ``join()``.
  private(set) var batchesDecodedByEngine = 0
  private(set) var batchesPublished = 0

  /// Whether the decoding thread decodes as well as reads (`false`: tests of the engine's
  /// thread decoding every batch).
  private let decodes: Bool

  /// Starts the decoding thread over `reader` with `decoder`, computing events' key probes with
  /// `prober`; with `decodes` false, it only reads, and the engine's thread decodes every batch.
  ///
  /// Call on the engine's thread: the main heap is tuned for ``HeapReserve`` here, and the
  /// decoding thread faults in its growth after each batch it publishes.
  init(reader: LineReader, decoder: EventDecoder, prober: Engine.ArrivalProber, decodes: Bool = true) {
    self.decodes = decodes
    let reserve = HeapReserve()
    let thread = Thread { [self] in
      let started = WorkerTimes.threadCPUSeconds()
      var reserve = reserve
      produce(reader: reader, decoder: decoder, prober: prober, reserve: &reserve)
      heapBytesFaultedIn = reserve.bytesFaultedIn
      cpuSeconds = WorkerTimes.threadCPUSeconds() - started
      done.signal()
    }
    thread.name = "tocsin-decode"
    thread.start()
  }

  /// The oldest published batch no thread has claimed, claimed for the caller, when more than
  /// `ahead` are unclaimed (under the lock).
  private func claimRead(leaving ahead: Int = 0) -> Batch? {
    var oldest: Batch?
    var unclaimed = 0
    for batch in queue where batch.state == .read {
      if oldest == nil { oldest = batch }
      unclaimed += 1
    }
    guard unclaimed > ahead, let oldest else { return nil }
    oldest.state = .decoding
    return oldest
  }

  /// Decodes `batch` (claimed by the caller) outside the lock, then marks it decoded and wakes
  /// the engine's thread if it waits for it. Called and returns with the lock held.
  private func decodeClaimed(_ batch: Batch, with decoder: inout EventDecoder, prober: Engine.ArrivalProber) {
    condition.unlock()
    batch.decode(with: &decoder, prober: prober)
    condition.lock()
    batch.state = .decoded
    if engineWaits { condition.signal() }
  }

  /// The next batch in input order, decoded; `nil` after the last one. While the next batch is
  /// not decoded yet, the calling (engine's) thread decodes the oldest batch no thread has
  /// claimed with `decoder` and `prober`, and waits only when there is none; with `idleEvery`,
  /// it calls `idle` (without the lock) each time it has waited that long.
  func next(
    decodingWith decoder: inout EventDecoder, prober: Engine.ArrivalProber, idleEvery: Duration? = nil,
    idle: () -> Void = {}
  ) -> Batch? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let head = queue.first, head.state == .decoded {
        queue.removeFirst()
        // Room for a run of batches, not for each one, before the decoding thread wakes.
        if decoderWaits && queue.count <= Self.queueBatches / 2 { condition.signal() }
        return head
      }
      if let batch = claimRead() {
        batch.decodedByEngine = true
        decodeClaimed(batch, with: &decoder, prober: prober)
        batchesDecodedByEngine += 1
        continue
      }
      if queue.isEmpty && finished { return nil }
      engineWaits = true
      if let idleEvery {
        if !condition.wait(until: Date(timeIntervalSinceNow: idleEvery.inSeconds)) {
          engineWaits = false
          condition.unlock()
          idle()
          condition.lock()
        }
      } else {
        condition.wait()
      }
      engineWaits = false
    }
  }

  /// Hands `batch` back for reuse once every line of it has been consumed, with up to a
  /// batch's worth of the slot buffers `pool` (the engine's) has collected since when the
  /// decoding thread decoded it (the buffers of a batch the engine's thread decoded came from
  /// `pool`, and stay there for its next one: each thread's buffers go back to its own pool,
  /// and neither thread frees what the other allocated).
  func recycle(_ batch: Batch, slotsFrom pool: EventSlots.Pool?) {
    if !batch.decodedByEngine { pool?.give(upTo: Self.batchLines, to: batch.returnedSlots) }
    condition.lock()
    spare.append(batch)
    condition.unlock()
  }

  /// Whether a batch can be taken without waiting: the next one is decoded, or some batch is
  /// left for the caller to decode.
  var hasReadyBatch: Bool {
    condition.lock()
    defer { condition.unlock() }
    return queue.first?.state == .decoded || queue.contains { $0.state == .read }
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
    reader: LineReader, decoder: EventDecoder, prober: Engine.ArrivalProber, reserve: inout HeapReserve
  ) {
    var decoder = decoder
    /// A batch the engine gave back (its slot buffers go to the decoder's pool), or a new one.
    func emptyBatch() -> Batch {
      condition.lock()
      let reused = spare.popLast()
      condition.unlock()
      guard let reused else { return Batch() }
      reused.reset()
      if let pool = decoder.slotPool { reused.returnedSlots.give(upTo: .max, to: pool) }
      return reused
    }
    /// Appends `b` to the queue, first waiting for room (and decoding what is left to decode
    /// meanwhile, rather than leave it to the engine's thread); `false` when cancelled.
    func publish(_ b: Batch) -> Bool {
      condition.lock()
      defer { condition.unlock() }
      while queue.count >= Self.queueBatches && !cancelled {
        if decodes, let read = claimRead() {
          decodeClaimed(read, with: &decoder, prober: prober)
          continue
        }
        decoderWaits = true
        condition.wait()
        decoderWaits = false
      }
      if cancelled { return false }
      queue.append(b)
      batchesPublished += 1
      if b.isLast { finished = true }
      if engineWaits { condition.signal() }
      return true
    }
    /// Decodes the oldest unclaimed batches until at most `ahead` are left (one read ahead lets
    /// the engine's thread decode it instead of waiting); `false` when cancelled.
    func decodeRead(leaving ahead: Int) -> Bool {
      condition.lock()
      defer { condition.unlock() }
      while decodes && !cancelled {
        guard let batch = claimRead(leaving: ahead) else { return true }
        decodeClaimed(batch, with: &decoder, prober: prober)
      }
      return !cancelled
    }
    var batch = emptyBatch()
    do {
      while let line = try reader.nextLine() {
        batch.append(line)
        // A full batch, or the reader's buffer ran dry (the next read may block on a quiet
        // pipe): hand over what there is, decoded before the read that may block.
        let dry = reader.bytesConsumed == reader.bytesRead
        if batch.items.count >= Self.batchLines || dry {
          batch.bytesConsumed = reader.bytesConsumed
          guard publish(batch) else { return }
          // While the engine works on what was published: its heap's new pages.
          reserve.faultIn()
          guard decodeRead(leaving: dry ? 0 : 1) else { return }
          batch = emptyBatch()
        }
      }
    } catch {
      batch.error = error
    }
    batch.bytesConsumed = reader.bytesConsumed
    batch.isLast = true
    guard publish(batch) else { return }
    _ = decodeRead(leaving: 0)
  }
}
