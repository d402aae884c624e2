import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinRuntime
import TocsinSinks

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
    /// The `--sinks` configuration; `nil` uses ``outputPath`` and ``deadLetterPath`` (the
    /// shorthand). With it, ``outputPath`` must be `nil` and ``deadLetterPath``, when set,
    /// replaces the configuration's dead-letter sink.
    public var sinks: SinkConfiguration?
    /// Serve live metrics, when set.
    public var metrics: MetricsOptions?
    /// Threads: 1 (everything on the caller's), or 2 (reading and decoding on a second thread,
    /// see ``DecodingStage``). The output is the same.
    public var workers: Int = 1
    /// With two workers, whether the decoding thread decodes as well as reads; `false` leaves
    /// every batch to the engine's thread (tests: the path it takes when it would wait).
    var decodingThreadDecodes = true
    /// The process ends right after the run (the `tocsin run` command): the session — rule
    /// state, key tables, pooled buffers — is not torn down but left to go with the process,
    /// as compilers do with their ASTs. Freeing the state of a 1M-event replay object by object
    /// is work nobody sees. Off by default: a caller that goes on needs the memory back.
    public var leavesStateToExit = false
    /// Draw a progress line on standard error (only if it is a terminal and the input a
    /// regular file).
    public var showsProgress: Bool
    /// Periodic checkpoints and resuming; `nil` for none.
    public var checkpoint: CheckpointOptions?
    /// Receives warnings and notes (state limits, rule changes on resume, skipped checkpoints).
    public var warn: (String) -> Void

    /// Creates options.
    public init(
      inputPath: String? = nil, outputPath: String? = nil, deadLetterPath: String? = nil,
      configuration: ReplayConfiguration = ReplayConfiguration(), sinks: SinkConfiguration? = nil,
      metrics: MetricsOptions? = nil, showsProgress: Bool = false, checkpoint: CheckpointOptions? = nil,
      warn: @escaping (String) -> Void = { _ in }
    ) {
      self.inputPath = inputPath
      self.outputPath = outputPath
      self.deadLetterPath = deadLetterPath
      self.configuration = configuration
      self.sinks = sinks
      self.metrics = metrics
      self.showsProgress = showsProgress
      self.checkpoint = checkpoint
      self.warn = warn
    }

    /// The sink configuration this run uses: `--sinks` (with `--dead-letter` applied) or the
    /// shorthand.
    public var effectiveSinks: SinkConfiguration {
      guard var sinks else { return .shorthand(outputPath: outputPath, deadLetterPath: deadLetterPath) }
      if let deadLetterPath {
        var settings = SinkConfiguration.FileSettings(path: deadLetterPath)
        settings.keep = 0
        let name = "dead_letter_file"
        sinks.sinks.append(SinkConfiguration.Definition(name: name, kind: .file(settings)))
        sinks.deadLetter = name
      }
      return sinks
    }
  }
  /// `--metrics-addr`: where and how often.
  public struct MetricsOptions {
    /// The listening address.
    public var address: MetricsAddress
    /// How often the engine thread publishes a snapshot (checked every ``linesPerCheck`` lines).
    public var publishInterval: Duration
    /// Lines between two looks at the clock.
    public var linesPerCheck: Int
    /// Called once the server listens (with the real port when 0 was asked for).
    public var onListening: (MetricsAddress) -> Void

    /// Creates metrics options; defaults publish every second, looking every 256 lines.
    public init(
      address: MetricsAddress, publishInterval: Duration = .seconds(1), linesPerCheck: Int = 256,
      onListening: @escaping (MetricsAddress) -> Void = { _ in }
    ) {
      self.address = address
      self.publishInterval = publishInterval
      self.linesPerCheck = max(1, linesPerCheck)
      self.onListening = onListening
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
    /// The metrics server could not listen.
    case metrics(String)
    /// The checkpoint directory is unusable, or a resume is impossible (e.g. the alerts file is
    /// shorter than the checkpoint recorded), or a sink cannot be checkpointed (it rotates).
    case checkpoint(String)

    public var description: String {
      switch self {
      case .input(let message), .output(let message), .metrics(let message), .checkpoint(let message):
        return "error: " + message
      case .outputClosed: return "standard output was closed"
      }
    }
  }

  /// The read loop with metrics and progress: one line in ``RunMetrics/sampleEvery`` is timed,
  /// and every `linesPerCheck` lines, or when the input buffer runs dry, the observer may
  /// publish and redraw. With `--checkpoint`, a checkpoint is written between lines when due.
  private static func observe(
    _ session: ReplaySession, _ reader: LineReader, _ observer: RunObserver, linesPerCheck: Int,
    checkpointer: Checkpointer?
  ) throws {
    var sinceCheck = 0
    observer.tick(session: session, bytesRead: 0, force: true)
    var lines: [InputLine] = []
    lines.reserveCapacity(ReplaySession.batchLines)
    // Lines go in batches (those already read, up to 16) decoded ahead of the engine
    // (ReplaySession.decodeAhead); checkpoints and ticks fall between batches, where the
    // session has taken every line the reader has handed out, and a batch ends on the line a
    // checkpoint every N lines is due.
    while try ReplaySession.nextBatch(from: reader, into: &lines, limit: checkpointer?.batchLimit ?? .max) {
      try observer.sampledBatch(lines.count, decode: { session.decodeAhead(lines) }) { i in
        try session.consumeAhead(lines[i], at: i)
      }
      if let checkpointer, checkpointer.isDue(afterLines: lines.count) {
        try checkpointer.write(session: session, reader: reader)
      }
      sinceCheck += lines.count
      // Also when the reader's buffer is drained: the next read may block on a quiet pipe, so
      // publish what was processed before waiting.
      if sinceCheck >= linesPerCheck || reader.bytesConsumed == reader.bytesRead {
        sinceCheck = 0
        observer.tick(session: session, bytesRead: reader.bytesConsumed)
      }
    }
  }

  /// ``observe(_:_:_:linesPerCheck:)`` with reading and decoding on a second thread: lines
  /// arrive decoded, in batches, in input order.
  static func observePipelined(
    _ session: ReplaySession, _ reader: LineReader, _ observer: RunObserver, linesPerCheck: Int,
    decodingThreadDecodes: Bool = true
  ) throws -> WorkerTimes {
    let clock = ContinuousClock()
    let started = clock.now
    let engineStarted = WorkerTimes.threadCPUSeconds()
    let stage = DecodingStage(
      reader: reader, decoder: session.decoderForAnotherThread(), prober: session.arrivalProber,
      decodes: decodingThreadDecodes)
    // For the batches this thread decodes rather than wait (``DecodingStage``).
    var decoder = session.decoderForEngineThread()
    let prober = session.arrivalProber
    var sinceCheck = 0
    var bytesConsumed: Int64 = 0
    let hotSession = Unmanaged.passUnretained(session)
    observer.tick(session: session, bytesRead: 0, force: true)
    do {
      while true {
        // Publish what was processed before possibly waiting on a quiet input.
        if !stage.hasReadyBatch { observer.tick(session: session, bytesRead: bytesConsumed) }
        guard
          let batch = stage.next(
            decodingWith: &decoder, prober: prober, idleEvery: observer.idleInterval,
            idle: { observer.idle(session: session) })
        else { break }
        // Each event's key lookups are prepared a few lines ahead, as `decodeAhead` does for
        // one thread; the events are numbered on from those the session has taken.
        try batch.forEachLine(
          lookahead: ReplaySession.batchLines, firstSequence: session.eventsTaken, prepare: session.prepare(_:)
        ) { line, decoded in
          // The session unretained (the closure's capture was retained and released per line),
          // and the event moved on, not copied (a copy retained it, and the original released it).
          try observer.sampled {
            try hotSession._withUnsafeGuaranteedRef { session in
              var taken = ReplaySession.Decoded.notDecoded
              swap(&taken, &decoded)
              try session.consume(line, decoded: taken)
            }
          }
          sinceCheck += 1
          if sinceCheck >= linesPerCheck {
            sinceCheck = 0
            observer.tick(session: session, bytesRead: bytesConsumed)
          }
        }
        bytesConsumed = batch.bytesConsumed
        if let error = batch.error { throw error }
        stage.recycle(batch, slotsFrom: session.slotPool)
      }
    } catch {
      stage.stop()
      throw error
    }
    stage.join()
    let wall = clock.now - started
    var times = WorkerTimes(
      wall: wall.inSeconds,
      decoding: stage.cpuSeconds, engine: WorkerTimes.threadCPUSeconds() - engineStarted,
      heapFaultedIn: stage.heapBytesFaultedIn)
    times.batches = stage.batchesPublished
    times.batchesDecodedByEngine = stage.batchesDecodedByEngine
    return times
  }

  /// Runs `programs` over the input; returns the summary.
  /// - Parameters:
  ///   - rules: the checked rules of `programs`, in the same order (their `to` clauses and
  ///     severities route alerts).
  ///   - report: receives sink state changes (from sink threads) and notes, one line each.
  public static func run(
    programs: ProgramSet, rules: [RuleSpec], options: Options,
    report: @escaping @Sendable (String) -> Void = { _ in }
  ) throws -> RunSummary {
    IgnoreSIGPIPE.install()
    var checkpointsWritten = 0
    var workerTimes: WorkerTimes?
    let clock = ContinuousClock()
    let started = clock.now
    let (checkpointStore, resumePoint) = try Checkpointer.start(options)
    let inputFD: Int32
    if let path = options.inputPath {
      inputFD = open(path, O_RDONLY)
      guard inputFD >= 0 else { throw Failure.input("\(path): \(String(cString: strerror(errno)))") }
    } else {
      inputFD = STDIN_FILENO
    }
    defer { if options.inputPath != nil { close(inputFD) } }
    if let resumePoint { try Checkpointer.seekInput(inputFD, to: resumePoint.input, options: options) }

    var sinkConfiguration = options.effectiveSinks
    let sinkBases = try Checkpointer.prepareSinks(&sinkConfiguration, options: options, resumingFrom: resumePoint)
    let router: SinkRouter
    do {
      let honorRuleSinks = options.sinks != nil
      router = try SinkRouter(
        configuration: sinkConfiguration, rules: rules, honorRuleSinks: honorRuleSinks, report: report)
      if !honorRuleSinks {
        let named = Array(Set(rules.flatMap { $0.sinks })).sorted()
        if !named.isEmpty {
          report(
            "note: rules name sinks (\(named.joined(separator: ", "))) but no --sinks configuration was given; "
              + "every alert goes to \(options.outputPath ?? "standard output")")
        }
      }
    } catch let failure as SinkRouter.Failure {
      throw Failure.output(failure.message)
    }

    let session = ReplaySession(
      programs: programs, configuration: options.configuration,
      routedAlerts: { try router.deliver($0, bytes: $1) }, deadLetters: { try router.deadLetter($0) })
    var server: MetricsServer?
    defer { server?.stop() }
    let registry = options.metrics.map { _ in MetricsRegistry() }
    if let metrics = options.metrics, let registry {
      do {
        server = try MetricsServer(address: metrics.address, registry: registry)
      } catch let error as MetricsServer.StartError {
        throw Failure.metrics(error.message)
      }
      if let server { metrics.onListening(server.address) }
    }
    let progress = ProgressLine.make(inputPath: options.inputPath, enabled: options.showsProgress)
    // Always observed: latency sampling costs two clock reads per 64 lines, and the summary
    // reports it.
    let observer = RunObserver(
      registry: registry, publishInterval: options.metrics?.publishInterval ?? .seconds(1), progress: progress)
    observer.extraFamilies = { router.metricFamilies }
    // With `/metrics`, a quiet pipe must not leave the last snapshot stale: with one worker the
    // reader is the engine's thread's, and publishes at each interval it waits for input (with
    // two, the engine's thread times its wait for batches instead: `observePipelined`).
    var publishesWhileQuiet = false
    let reader = LineReader(
      fileDescriptor: inputFD, maxLineBytes: options.configuration.maxLineBytes,
      whileQuiet: observer.idleInterval.map { interval in
        (interval, { if publishesWhileQuiet { observer.idle(session: session) } })
      })
    session.warn = options.warn
    if let resumePoint {
      router.requeue(resumePoint.sinkRecords, warn: options.warn)
      do {
        try Checkpointer.resume(session, reader: reader, from: resumePoint, options: options)
      } catch {
        try? router.close()
        throw error
      }
    }
    let checkpointer = checkpointStore.map {
      Checkpointer(store: $0, router: router, streamBases: sinkBases, options: options)
    }
    do {
      // A fresh run checkpoints before the first line, so a resume always finds the output
      // lengths it started from (a file sink configured to append is not emptied).
      if let checkpointer, resumePoint == nil { try checkpointer.write(session: session, reader: reader) }
      if options.workers > 1 && checkpointer == nil {
        workerTimes = try observePipelined(
          session, reader, observer, linesPerCheck: options.metrics?.linesPerCheck ?? 256,
          decodingThreadDecodes: options.decodingThreadDecodes)
      } else {
        publishesWhileQuiet = true
        defer { publishesWhileQuiet = false }
        try observe(
          session, reader, observer, linesPerCheck: options.metrics?.linesPerCheck ?? 256,
          checkpointer: checkpointer)
      }
      checkpointsWritten = checkpointer?.written ?? 0
      observer.tick(session: session, bytesRead: reader.bytesConsumed, force: true)
      try session.finish()
      progress?.clear()
      observer.tick(session: session, bytesRead: reader.bytesConsumed, force: true)
      try router.close()
    } catch let error as LineReaderError {
      try? router.close()
      throw Failure.input(error.message)
    } catch let error as OutputError {
      try? router.close()
      if error.isBrokenPipe && options.outputPath == nil { throw Failure.outputClosed }
      throw Failure.output(error.message)
    }
    let elapsed = clock.now - started
    var summary = RunSummary(
      counters: session.counters, engine: session.engineState, bytesRead: reader.bytesConsumed,
      elapsed: elapsed.inSeconds,
      peakRSSBytes: ProcessStats.peakResidentBytes(),
      deadLetterDestination: options.deadLetterPath ?? router.deadLetterDestination,
      sinks: options.sinks == nil ? [] : router.statistics, latency: observer.latency,
      watermark: observer.lastWatermark)
    summary.checkpointsWritten = checkpointsWritten
    summary.workerTimes = workerTimes
    if options.leavesStateToExit { _ = Unmanaged.passRetained(session) }
    return summary
  }
}
