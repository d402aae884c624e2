import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinSinks

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `tocsin bench`'s measuring passes over one workload's bytes, already in memory.
///
/// For one workload, in this order:
///
/// 1. **Count pass** (also the warm-up): the full pipeline once with the allocation counter on.
///    It gives the alert count, the allocations per event and the partial matches still open
///    when the input ends (before the final +∞ watermark flushes them).
/// 2. **Timed runs**, `runs` times: a *parse-only* pass (line reader + event decoder, no rules)
///    then the *full* pass (decoder, reorder buffer, every rule, alert encoding into a discarded
///    buffer, the end-of-input flush). The figures are medians; the min–max spread shows how
///    noisy the machine was. The full pass's clock stops when the flush is done; freeing the
///    session's state (which `tocsin run` leaves to the process exit) is timed on its own
///    (``BenchResult/teardownSeconds``).
/// 3. **Latency pass**: the full pipeline once more, reading a monotonic clock around every
///    `ReplaySession.consume` (one input line, and whatever events the watermark releases with
///    it) into a ``LatencyHistogram``. The two clock reads add ~40 ns per event, so this pass is
///    *not* the throughput pass and its time is not reported as one.
public enum Benchmark {
  /// The allocation counter the executable provides (the `CAllocCounter` target); library and
  /// test builds have none, and then no allocation figures are reported.
  public struct AllocationProbe {
    /// Resets the counter and starts counting.
    public var start: () -> Void
    /// Stops counting and returns the allocation calls counted since ``start``.
    public var stop: () -> UInt64
    /// Hands freed heap memory back to the system, before the peak-RSS window opens.
    public var trim: () -> Void

    /// A probe from the three operations.
    public init(start: @escaping () -> Void, stop: @escaping () -> UInt64, trim: @escaping () -> Void) {
      self.start = start
      self.stop = stop
      self.trim = trim
    }
  }

  /// Runs the three passes (see ``Benchmark``) of `programs` over `input` (NDJSON bytes).
  ///
  /// - Parameters:
  ///   - workload: Names the result and gives its expected alert count.
  ///   - runs: Timed runs (at least 1).
  ///   - probe: Counts allocations during the count pass, when given.
  ///   - progress: Receives one line per pass, for a human watching standard error.
  /// - Returns: The result, without peak RSS (the caller owns the process-wide figure).
  /// - Throws: What the in-memory reader throws (nothing in practice).
  public static func measure(
    workload: BenchWorkload, programs: ProgramSet, input: [UInt8], runs: Int,
    configuration: ReplayConfiguration = ReplayConfiguration(), probe: AllocationProbe? = nil,
    progress: (String) -> Void = { _ in }
  ) throws -> BenchResult {
    var result = BenchResult(
      name: workload.name, summary: workload.summary, rules: programs.rules.count, events: 0,
      inputBytes: input.count, alerts: 0, expectedAlerts: workload.expectedAlerts)

    // 1) Count pass.
    progress("\(workload.name): count pass (alerts, allocations, open partial matches)")
    probe?.start()
    let counted = try fullPass(programs: programs, input: input, configuration: configuration).counts
    let allocations = probe?.stop()
    result.alerts = counted.alerts
    result.events = counted.events
    result.openPartialMatches = counted.openAtEnd
    result.allocations = allocations
    if let probe {
      progress("\(workload.name): condition pass (allocations per condition evaluation)")
      result.conditions = try conditionPass(
        programs: programs, input: input, configuration: configuration, probe: probe)
      // The condition pass holds its 200k decoded events at once (~60 MB of heap for W1), then
      // frees them; whether the allocator hands that back by itself depends on where its last
      // live blocks landed, which any change to the engine's allocations moves (W1's peak RSS
      // read 270 or 303 MiB by that alone). Handed back here, off the clock, the timed runs'
      // peak is their own on every build.
      probe.trim()
    }

    // 2) Timed runs.
    let clock = ContinuousClock()
    for run in 1...max(1, runs) {
      progress("\(workload.name): timed run \(run) of \(runs)")
      let parseCPU = ProcessStats.cpuSeconds()
      let parse = try clock.measure { _ = try parsePass(programs: programs, input: input, configuration: configuration) }
      let fullCPU = ProcessStats.cpuSeconds()
      result.parseSeconds.append(parse.inSeconds)
      result.parseUserSeconds = (result.parseUserSeconds ?? []) + [fullCPU.user - parseCPU.user]
      // The finished session is kept past the full pass's clock and freed on its own.
      var finished: [ReplaySession] = []
      let full = try clock.measure {
        finished.append(try fullPass(programs: programs, input: input, configuration: configuration).session)
      }
      let doneCPU = ProcessStats.cpuSeconds()
      result.fullSeconds.append(full.inSeconds)
      result.fullUserSeconds = (result.fullUserSeconds ?? []) + [doneCPU.user - fullCPU.user]
      result.fullSystemSeconds = (result.fullSystemSeconds ?? []) + [doneCPU.system - fullCPU.system]
      let teardown = clock.measure { finished.removeAll() }
      result.teardownSeconds = (result.teardownSeconds ?? []) + [teardown.inSeconds]
    }

    // 3) Latency pass.
    progress("\(workload.name): latency pass")
    let histogram = try latencyPass(programs: programs, input: input, configuration: configuration)
    result.latency = BenchResult.Latency(histogram)
    return result
  }

  /// Times `runs` full passes through `tocsin run --workers 2`'s pipeline
  /// (``fullPassTwoWorkers(programs:input:configuration:)``) into `result`, each session freed
  /// off the clock, and checks each pass's alerts against `result.alerts` (the count pass's).
  /// Apart from ``measure(workload:programs:input:runs:configuration:probe:progress:)``, so that
  /// the caller can read the peak RSS of the one-worker passes first: the decoding thread's
  /// slot buffers come from its own allocator arena, which the one-worker passes never touch.
  public static func measureTwoWorkers(
    into result: inout BenchResult, programs: ProgramSet, input: [UInt8], runs: Int,
    configuration: ReplayConfiguration = ReplayConfiguration(), progress: (String) -> Void = { _ in }
  ) throws {
    let clock = ContinuousClock()
    result.twoWorkerSeconds = []
    result.twoWorkerEngineCPUSeconds = []
    result.twoWorkerDecodingCPUSeconds = []
    result.twoWorkerEngineDecodedShares = []
    for run in 1...max(1, runs) {
      progress("\(result.name): two-worker run \(run) of \(runs)")
      var pass: (counts: PassCounts, session: ReplaySession, times: WorkerTimes)?
      let elapsed = try clock.measure {
        pass = try fullPassTwoWorkers(programs: programs, input: input, configuration: configuration)
      }
      guard let done = pass else { continue }
      result.twoWorkerSeconds?.append(elapsed.inSeconds)
      result.twoWorkerEngineCPUSeconds?.append(done.times.engine)
      result.twoWorkerDecodingCPUSeconds?.append(done.times.decoding)
      if done.times.batches > 0 {
        result.twoWorkerEngineDecodedShares?.append(Double(done.times.batchesDecodedByEngine) / Double(done.times.batches))
      }
      if done.counts.alerts != result.alerts { result.twoWorkerAlertsDiffering = done.counts.alerts }
      pass = nil
    }
  }

  /// What one full pass saw.
  struct PassCounts {
    var events: Int
    var alerts: Int
    /// Partial matches open after the last line, before the end-of-input flush.
    var openAtEnd: Int
  }

  /// Line reader and decoder only; returns the events decoded.
  ///
  /// The decoder is configured as a session's is, with a slot pool, and each event's buffer goes
  /// back to it once decoded (as the engine gives back an event's buffer when it is done with
  /// it), so the pass measures what decoding costs the pipeline. Without the pool every event
  /// allocated its buffer and freed it again (~5% of this pass's samples on W1, session 39),
  /// work the pipeline does not do, and the pass read slower than the limit it stands for.
  /// `pool`: the decoder's (a new one when not given; a test passes its own to look at it).
  static func parsePass(
    programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration, pool: EventSlots.Pool = EventSlots.Pool()
  ) throws -> Int {
    var decoder = EventDecoder(ruleProjection: programs.projection, options: configuration.ingest)
    decoder.slotPool = pool
    var events = 0
    let reader = Replay.memoryReader(input, maxLineBytes: configuration.maxLineBytes)
    var sequence: UInt64 = 0
    while let line = try reader.nextLine() {
      if var event = try? decoder.decode(line.bytes, lineNumber: line.number, sequence: sequence) {
        events += 1
        pool.recycle(&event.slots)
      }
      sequence += 1
    }
    return events
  }

  /// The whole pipeline, alerts encoded and counted, then dropped. Returns the counts and the
  /// finished session (for the caller to free when it chooses).
  static func fullPass(programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration)
    throws -> (counts: PassCounts, session: ReplaySession)
  {
    let pass = try countedPass(programs: programs, input: input, configuration: configuration) {
      try $0.consumeAll(from: $1)
    }
    return (pass.counts, pass.session)
  }

  /// ``fullPass(programs:input:configuration:)`` through `tocsin run --workers 2`'s pipeline:
  /// lines read and decoded on a second thread, the engine on this one, with the run's
  /// observer (its sampled latency clock) but no metrics or progress. Also returns each
  /// thread's CPU time.
  static func fullPassTwoWorkers(programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration)
    throws -> (counts: PassCounts, session: ReplaySession, times: WorkerTimes)
  {
    let observer = RunObserver(registry: nil, publishInterval: .seconds(1), progress: nil)
    let pass = try countedPass(programs: programs, input: input, configuration: configuration) {
      try RunPipeline.observePipelined($0, $1, observer, linesPerCheck: 256)
    }
    return (pass.counts, pass.session, pass.result)
  }

  /// A session over `input` whose alerts are counted and dropped, fed by `feed`, then
  /// finished: the counts, the session, and what `feed` returned.
  private static func countedPass<Result>(
    programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration,
    _ feed: (ReplaySession, LineReader) throws -> Result
  ) throws -> (counts: PassCounts, session: ReplaySession, result: Result) {
    var alerts = 0
    let session = ReplaySession(
      programs: programs, configuration: configuration,
      alerts: { _ in alerts += 1 }, deadLetters: { _ in })
    let reader = Replay.memoryReader(input, maxLineBytes: configuration.maxLineBytes)
    let result = try feed(session, reader)
    let open = session.engineState.openPartialMatches
    try session.finish()
    return (PassCounts(events: session.counters.events, alerts: alerts, openAtEnd: open), session, result)
  }

  /// The full pipeline with each `consume` timed into a histogram (nanoseconds).
  static func latencyPass(programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration)
    throws -> LatencyHistogram
  {
    var histogram = LatencyHistogram()
    let session = ReplaySession(
      programs: programs, configuration: configuration, alerts: { _ in }, deadLetters: { _ in })
    let reader = Replay.memoryReader(input, maxLineBytes: configuration.maxLineBytes)
    var lines: [InputLine] = []
    // Lines are decoded in batches, as in `run` (ReplaySession.decodeAhead): a line's time is
    // its own `consume` plus its batch's decoding time divided by the batch's lines.
    while try ReplaySession.nextBatch(from: reader, into: &lines) {
      let start = MonotonicTime.now().nanoseconds
      session.decodeAhead(lines)
      let decodeShare = (MonotonicTime.now().nanoseconds - start) / UInt64(lines.count)
      for i in lines.indices {
        let before = MonotonicTime.now()
        try session.consumeAhead(lines[i], at: i)
        histogram.record(MonotonicTime.now().nanoseconds - before.nanoseconds + decodeShare)
      }
    }
    try session.finish()
    return histogram
  }

  /// The payment stream of `config` as NDJSON bytes.
  public static func paymentStream(_ config: PaymentStreamConfig) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(config.events * 170)
    PaymentStream.generate(config) { line in
      bytes.append(contentsOf: line.utf8)
      bytes.append(UInt8(ascii: "\n"))
    }
    return bytes
  }
}
