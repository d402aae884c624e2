/// One workload's benchmark figures: what `tocsin bench --json` prints per workload and what a
/// baseline file stores.
///
/// The raw measurements (every run's seconds, counts) are stored; the reported figures are
/// computed from them, so a baseline written today can be re-read by a later `tocsin` that
/// reports more.
public struct BenchResult: Codable, Equatable, Sendable {
  /// The workload's name (`W1` …).
  public var name: String
  /// What the workload measures.
  public var summary: String
  /// Rules in the workload's rule set.
  public var rules: Int
  /// Events decoded per pass.
  public var events: Int
  /// Size of the in-memory input.
  public var inputBytes: Int
  /// Alerts per full pass.
  public var alerts: Int
  /// The alert count the generator's ground truth requires, where it is known.
  public var expectedAlerts: Int?
  /// Wall-clock seconds of each parse-only run.
  public var parseSeconds: [Double] = []
  /// Wall-clock seconds of each full run.
  public var fullSeconds: [Double] = []
  /// CPU seconds in user mode of each parse-only run and each full run, and the full runs'
  /// seconds in the kernel (``ProcessStats/cpuSeconds()``); `nil` in reports written before they
  /// were measured. The wall clock counts the kernel's first touches of memory, which on a
  /// shared VM vary from one process to the next more than a change to the engine moves them;
  /// user time leaves them out.
  public var parseUserSeconds: [Double]?
  public var fullUserSeconds: [Double]?
  public var fullSystemSeconds: [Double]?
  /// Wall-clock seconds freeing each full run's session (its rule state, key tables and pooled
  /// buffers) after that run's clock stopped; `tocsin run` leaves this to the process exit.
  /// `nil` in reports written before it was measured.
  public var teardownSeconds: [Double]?
  /// Allocation calls during the count pass, when the executable counts them.
  public var allocations: UInt64?
  /// Partial matches open after the last input line, before the end-of-input flush.
  public var openPartialMatches: Int = 0
  /// Per-event processing latency from the latency pass.
  public var latency: Latency?
  /// Peak resident set size of the process measuring this workload alone, in bytes.
  public var peakRSSBytes: Int?
  /// Wall-clock seconds of each full run with `--workers 2`'s pipeline (decoding on a second
  /// thread); `nil` in reports written before it was measured.
  public var twoWorkerSeconds: [Double]?
  /// Per two-worker run, the CPU seconds of the engine's thread and of the decoding thread
  /// (``WorkerTimes``).
  public var twoWorkerEngineCPUSeconds: [Double]?
  public var twoWorkerDecodingCPUSeconds: [Double]?
  /// Per two-worker run, the share of the batches of lines the engine's thread decoded itself
  /// rather than wait for the decoding thread (``DecodingStage``); `nil` in older reports.
  public var twoWorkerEngineDecodedShares: [Double]?
  /// Peak resident set size during the two-worker runs alone (the window reset before them).
  public var twoWorkerPeakRSSBytes: Int?
  /// Alerts of the two-worker runs when any differed from the count pass's (the command then
  /// exits 1, as for an alert count off the ground truth); `nil` when they all agreed.
  public var twoWorkerAlertsDiffering: Int?
  /// The condition pass (see ``Benchmark/conditionPass(programs:input:configuration:probe:sampleEvents:)``),
  /// when the executable counts allocations.
  public var conditions: Benchmark.ConditionFigures?
  /// Each rule's cost, left out in turn (`--rule-costs`, ``Benchmark/ruleCosts(programs:ingest:input:runs:configuration:progress:)``),
  /// in rule order; `nil` when not measured.
  public var ruleCosts: [Benchmark.RuleCost]?

  /// Per-line `consume` latency percentiles, in nanoseconds.
  public struct Latency: Codable, Equatable, Sendable {
    /// Median.
    public var p50: UInt64
    /// 99th percentile.
    public var p99: UInt64
    /// 99.9th percentile.
    public var p999: UInt64
    /// The slowest line.
    public var max: UInt64

    /// Percentiles from explicit values.
    public init(p50: UInt64, p99: UInt64, p999: UInt64, max: UInt64) {
      self.p50 = p50
      self.p99 = p99
      self.p999 = p999
      self.max = max
    }

    /// The percentiles of `histogram` (zeros when it is empty).
    public init(_ histogram: LatencyHistogram) {
      self.init(
        p50: histogram.percentile(0.5) ?? 0, p99: histogram.percentile(0.99) ?? 0,
        p999: histogram.percentile(0.999) ?? 0, max: histogram.maximum)
    }
  }

  /// A result with no runs yet.
  public init(
    name: String, summary: String, rules: Int, events: Int, inputBytes: Int, alerts: Int,
    expectedAlerts: Int?
  ) {
    self.name = name
    self.summary = summary
    self.rules = rules
    self.events = events
    self.inputBytes = inputBytes
    self.alerts = alerts
    self.expectedAlerts = expectedAlerts
  }

  // MARK: - Figures

  /// Median of `values` (0 when empty).
  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }

  /// Median events/s of the full pipeline.
  public var eventsPerSecond: Double { rate(fullSeconds) }
  /// Median events/s of the parse-only pass.
  public var parseEventsPerSecond: Double { rate(parseSeconds) }
  /// Median nanoseconds per event of the full pipeline.
  public var nanosecondsPerEvent: Double {
    events > 0 ? Self.median(fullSeconds) / Double(events) * 1e9 : 0
  }
  /// Median user-mode CPU nanoseconds per event of the full pipeline, when measured.
  public var userNanosecondsPerEvent: Double? {
    guard let fullUserSeconds, !fullUserSeconds.isEmpty, events > 0 else { return nil }
    return Self.median(fullUserSeconds) / Double(events) * 1e9
  }
  /// ``fullToParseRatio`` from the passes' user-mode CPU time, when measured.
  public var userFullToParseRatio: Double? {
    guard let full = fullUserSeconds, let parse = parseUserSeconds, Self.median(full) > 0 else { return nil }
    return Self.median(parse) / Self.median(full)
  }
  /// Median seconds in the kernel of a full run, when measured.
  public var fullSystemSecondsMedian: Double? { fullSystemSeconds.map { Self.median($0) } }
  /// Full-pipeline throughput as a share of parse-only throughput.
  public var fullToParseRatio: Double {
    parseEventsPerSecond > 0 ? eventsPerSecond / parseEventsPerSecond : 0
  }
  /// Allocation calls per event in the full pipeline, when counted.
  public var allocationsPerEvent: Double? {
    guard let allocations, events > 0 else { return nil }
    return Double(allocations) / Double(events)
  }
  /// Median events/s of the full pipeline with two workers, when measured.
  public var twoWorkerEventsPerSecond: Double? { twoWorkerSeconds.map { rate($0) } }
  /// The engine thread's median CPU seconds with two workers over the median wall time: near 1
  /// when the engine's thread bounds the two-worker run.
  public var twoWorkerEngineBusy: Double? { twoWorkerShare(twoWorkerEngineCPUSeconds) }
  /// The decoding thread's share, as ``twoWorkerEngineBusy``.
  public var twoWorkerDecodingBusy: Double? { twoWorkerShare(twoWorkerDecodingCPUSeconds) }
  /// Whether the alert count is the known one (true when none is known), and the two-worker
  /// runs wrote as many as one worker.
  public var alertsAsExpected: Bool {
    (expectedAlerts.map { $0 == alerts } ?? true) && twoWorkerAlertsDiffering == nil
  }

  /// The median of a thread's CPU seconds over the median two-worker wall time.
  private func twoWorkerShare(_ cpu: [Double]?) -> Double? {
    guard let wall = twoWorkerSeconds, let cpu, Self.median(wall) > 0 else { return nil }
    return Self.median(cpu) / Self.median(wall)
  }

  private func rate(_ seconds: [Double]) -> Double {
    let m = Self.median(seconds)
    return m > 0 ? Double(events) / m : 0
  }
}
