import Foundation

/// Where `--workers 2`'s time went: each thread's CPU time over the same stretch of wall time
/// (the input loop, from the first line to the last batch). The thread busy for nearly all of
/// it bounds the run; the other waited for it.
public struct WorkerTimes: Equatable {
  /// Wall-clock seconds of the input loop.
  public var wall: Double
  /// CPU seconds of the thread that reads and decodes lines.
  public var decoding: Double
  /// CPU seconds of the engine's thread (matching, the sinks, the run's bookkeeping).
  public var engine: Double
  /// Bytes of the engine's heap growth the decoding thread faulted in (``HeapReserve``); part of
  /// its CPU time.
  public var heapFaultedIn: Int
  /// Batches of lines the decoding thread read, and how many of them the engine's thread
  /// decoded itself rather than wait (``DecodingStage``).
  public var batches = 0
  public var batchesDecodedByEngine = 0

  /// The times of one run.
  public init(wall: Double, decoding: Double, engine: Double, heapFaultedIn: Int = 0) {
    self.wall = wall
    self.decoding = decoding
    self.engine = engine
    self.heapFaultedIn = heapFaultedIn
  }

  /// CPU time of the calling thread in seconds (`CLOCK_THREAD_CPUTIME_ID`: time it ran, not
  /// time it waited).
  public static func threadCPUSeconds() -> Double {
    var now = timespec()
    guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0 else { return 0 }
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
  }

  /// `decoding 0.52 s CPU (74% of 0.70 s; faulted in 190 MiB of the engine's heap), engine
  /// 0.69 s CPU (98%; decoded 12 of 977 batches): the engine's thread is the busier`.
  var text: String {
    func share(_ cpu: Double) -> String { wall > 0 ? String(format: "%.0f%%", 100 * cpu / wall) : "–" }
    let faulted = heapFaultedIn > 0 ? "; faulted in \((heapFaultedIn + (1 << 19)) >> 20) MiB of the engine's heap" : ""
    let decoded = batches > 0 ? "; decoded \(batchesDecodedByEngine) of \(batches) batches" : ""
    var out = String(
      format: "decoding %.2f s CPU (%@ of %.2f s%@), engine %.2f s CPU (%@%@)", decoding, share(decoding), wall, faulted,
      engine, share(engine), decoded)
    out += engine >= decoding ? ": the engine's thread is the busier" : ": the decoding thread is the busier"
    return out
  }
}
