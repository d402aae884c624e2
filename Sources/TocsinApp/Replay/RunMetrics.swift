import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime

/// The figures `tocsin run` exposes on `/metrics` (every name is listed in
/// docs/operations.md, "Metrics").
///
/// The engine thread builds a snapshot with ``families(session:bytesRead:latency:)`` and
/// publishes it into a ``MetricsRegistry`` every second of wall-clock time (checked every few
/// hundred lines), so the hot loop never locks. Processing latency is sampled: one input line in
/// ``sampleEvery`` is timed (`consume` of the line: decoding, matching and writing its alerts), which
/// keeps the cost of reading the clock off the other 63.
public enum RunMetrics {
  /// One line in this many is timed for the latency histogram.
  public static let sampleEvery = 64
  /// Latency bucket upper bounds in seconds (1 µs … 1 s).
  public static let latencyBounds: [Double] = [
    0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5,
    0.001, 0.002_5, 0.01, 0.1, 1,
  ]

  /// A snapshot of the run's figures.
  ///
  /// - Parameters:
  ///   - watermark: the last finite watermark in seconds (the end of input makes it +∞, which
  ///     says nothing), `nil` before the first event.
  public static func families(
    session: ReplaySession, bytesRead: Int64, latency: Histogram, watermark: Double?
  ) -> [MetricFamily] {
    let engine = session.engineState
    let counters = session.counters
    let ec = engine.counters
    let specs = engine.programs.rules.map(\.spec)
    var out: [MetricFamily] = [
      .single("tocsin_input_lines_total", "Input lines read, empty ones included.", .counter, Double(counters.lines)),
      .single("tocsin_input_bytes_total", "Input bytes consumed.", .counter, Double(bytesRead)),
      .single("tocsin_events_in_total", "Lines decoded into events and handed to the engine.", .counter, Double(counters.events)),
      .single("tocsin_events_processed_total", "Events released from the reorder buffer to the rules.", .counter, Double(ec.eventsProcessed)),
    ]
    let reasons = DeadLetterReason.allCases.sorted { $0.rawValue < $1.rawValue }
    out.append(
      MetricFamily(
        name: "tocsin_dead_letters_total",
        help: "Inputs written to the dead-letter destination, by reason (bad lines, late, missing key, time skew).",
        type: .counter,
        samples: reasons.map { .init(labels: [("reason", $0.rawValue)], value: Double(counters.badLines[$0])) }))
    out.append(
      .single("tocsin_late_events_total", "Events at or before the watermark (dead-lettered or dropped per --late).", .counter, Double(ec.late)))
    // `suppressedByRule` has one entry per rule (ReplaySession sizes it).
    let written = zip(ec.alertsByRule, counters.suppressedByRule).map { $0 - $1 }
    out.append(
      MetricFamily(
        name: "tocsin_alerts_total", help: "Alerts written, by rule and severity.", type: .counter,
        samples: zip(specs, written).map {
          .init(labels: [("rule", $0.name), ("severity", $0.severity.rawValue)], value: Double($1))
        }))
    out.append(
      MetricFamily(
        name: "tocsin_alerts_suppressed_total", help: "Alerts held back by a rule's suppress clause.", type: .counter,
        samples: zip(specs, counters.suppressedByRule).compactMap { spec, n in
          spec.suppression == nil ? nil : .init(labels: [("rule", spec.name)], value: Double(n))
        }))
    out.append(
      MetricFamily(
        name: "tocsin_type_errors_total", help: "Conditions made false by a run-time type error, by rule.", type: .counter,
        samples: engine.typeErrors.map { .init(labels: [("rule", $0.rule)], value: Double($0.count)) }))
    out.append(.single("tocsin_partial_matches", "Open partial matches over all rules and keys.", .gauge, Double(engine.openPartialMatches)))
    out.append(.single("tocsin_keys", "Keys held (interned, not reclaimed), summed over key spaces.", .gauge, Double(engine.distinctKeys)))
    out.append(
      .single(
        "tocsin_keys_reclaimed_total", "Keys reclaimed: no state and no buffered event, id reused.", .counter,
        Double(engine.keysReclaimed)))
    out.append(.single("tocsin_reorder_buffer_events", "Events waiting in the reorder buffer.", .gauge, Double(engine.bufferedEvents)))
    out.append(
      MetricFamily(
        name: "tocsin_watermark_seconds", help: "The event-time watermark, in seconds since the epoch.", type: .gauge,
        samples: watermark.map { [.init(value: $0)] } ?? []))
    out.append(
      MetricFamily(
        name: "tocsin_processing_latency_seconds",
        help: "Wall-clock time to process one input line (decode, match, write alerts); one line in 64 is timed.",
        histogram: latency))
    return out
  }

  /// `time` unless it is ±∞ (before the first event, after the end of input).
  static func finite(_ time: EventTime) -> EventTime? {
    time == .negativeInfinity || time == .infinity ? nil : time
  }

  /// Seconds since the epoch.
  static func seconds(_ time: EventTime) -> Double { Double(time.nanosecondsSinceEpoch) / 1e9 }
}

/// The engine thread's side of `/metrics` and the progress line: samples latency, publishes
/// snapshots at most once per `publishInterval`, and keeps the last watermark for the lag
/// gauge, which a collector computes at scrape time (it keeps growing while input is idle).
final class RunObserver {
  let registry: MetricsRegistry?
  let publishInterval: Duration
  var latency = Histogram(bounds: RunMetrics.latencyBounds)
  let progress: ProgressLine?
  private let clock = ContinuousClock()
  private var lastPublish: ContinuousClock.Instant
  /// The last finite watermark seen at a tick.
  private(set) var lastWatermark: EventTime?
  /// The same in seconds, for the scrape-time lag collector.
  private let watermark = LockedWatermark()
  /// More families published with every snapshot, computed on the engine thread (the sinks').
  var extraFamilies: (() -> [MetricFamily])?
  /// When the run started, for ``hugePagesWarmUp``.
  private let started: ContinuousClock.Instant
  /// How long the run goes on before the engine's blocks are advised huge pages, where the
  /// policy waits (``HugePages/warmUp``; tests shorten it).
  let hugePagesWarmUp: Duration
  /// Whether the engine's blocks are left to be advised huge pages once the run has gone on for
  /// ``hugePagesWarmUp`` (``HugePages/Policy/Advice/afterWarmUp``), checked at each tick.
  private var hugePagesDue = HugePages.policy.advice == .afterWarmUp

  init(
    registry: MetricsRegistry?, publishInterval: Duration, progress: ProgressLine?,
    hugePagesWarmUp: Duration = HugePages.warmUp
  ) {
    self.registry = registry
    self.publishInterval = publishInterval
    self.progress = progress
    self.hugePagesWarmUp = hugePagesWarmUp
    lastPublish = clock.now
    started = lastPublish
    if let registry {
      let watermark = self.watermark
      registry.register {
        let lag = watermark.seconds.map { Date().timeIntervalSince1970 - $0 }
        return [
          MetricFamily(
            name: "tocsin_watermark_lag_seconds",
            help: "Wall clock minus the watermark, computed at scrape time.", type: .gauge,
            samples: lag.map { [.init(value: $0)] } ?? [])
        ]
      }
    }
  }

  private var sinceSample = 0

  /// Runs `body` (one input line's processing), timing one call in ``RunMetrics/sampleEvery``
  /// into the latency histogram.
  func sampled(_ body: () throws -> Void) rethrows {
    sinceSample += 1
    if sinceSample == RunMetrics.sampleEvery {
      sinceSample = 0
      try timed(body)
    } else {
      try body()
    }
  }

  /// ``sampled(_:)`` for a batch of `count` lines decoded together (``ReplaySession/decodeAhead(_:)``)
  /// then consumed one by one (`consume(i)`). The batch's decoding is timed only when one of its
  /// lines is the sampled one, and that line's time is its own `consume` plus the batch's
  /// decoding time divided by `count` (decoding costs about the same per line).
  func sampledBatch(_ count: Int, decode: () -> Void, consume: (Int) throws -> Void) rethrows {
    precondition(count <= RunMetrics.sampleEvery, "a batch holds at most one sampled line")
    let sampled = RunMetrics.sampleEvery - 1 - sinceSample
    guard sampled < count else {
      sinceSample += count
      decode()
      for i in 0..<count { try consume(i) }
      return
    }
    sinceSample = count - 1 - sampled
    let start = clock.now
    decode()
    let decodeShare = (clock.now - start) / count
    for i in 0..<count {
      if i == sampled {
        try timed({ try consume(i) }, plus: decodeShare)
      } else {
        try consume(i)
      }
    }
  }

  /// Times `body` into the latency histogram.
  @inline(never)
  func timed(_ body: () throws -> Void, plus extra: Duration = .zero) rethrows {
    let start = clock.now
    try body()
    let elapsed = clock.now - start + extra
    latency.observe(elapsed.inSeconds)
  }

  /// The input position of the last tick.
  private var lastBytesRead: Int64 = 0

  /// How long the engine's thread waits for input before it publishes anyway (``idle(session:)``):
  /// the publish interval, at least 50 ms; `nil` without `/metrics`.
  var idleInterval: Duration? { registry.map { _ in max(publishInterval, .milliseconds(50)) } }

  /// Publishes what the session has done so far, called while the input is quiet: the ticks
  /// come with lines, and a snapshot rate-limited at the last of a burst would otherwise stay
  /// the one served until more input came (`tocsin_input_lines_total` 0 after a burst that
  /// took less than the interval).
  func idle(session: ReplaySession) {
    tick(session: session, bytesRead: lastBytesRead, force: true)
  }

  /// Called every few hundred lines: publishes when the interval has passed, redraws progress.
  func tick(session: ReplaySession, bytesRead: Int64, force: Bool = false) {
    lastBytesRead = bytesRead
    progress?.update(bytesRead: bytesRead, events: session.counters.events)
    if force { lastWatermark = RunMetrics.finite(session.engineState.watermark.time) ?? lastWatermark }
    if hugePagesDue && clock.now - started >= hugePagesWarmUp {
      hugePagesDue = false
      HugePages.startAdvising()
    }
    guard let registry else { return }
    let now = clock.now
    guard force || now - lastPublish >= publishInterval else { return }
    lastPublish = now
    lastWatermark = RunMetrics.finite(session.engineState.watermark.time) ?? lastWatermark
    watermark.seconds = lastWatermark.map(RunMetrics.seconds)
    registry.publish(
      RunMetrics.families(session: session, bytesRead: bytesRead, latency: latency, watermark: watermark.seconds)
        + (extraFamilies?() ?? []))
  }
}

/// The watermark shared between the engine thread and the scrape-time collector.
final class LockedWatermark: @unchecked Sendable {
  // @unchecked: `_seconds` is only touched under `lock`.
  private let lock = NSLock()
  private var _seconds: Double?

  var seconds: Double? {
    get {
      lock.lock()
      defer { lock.unlock() }
      return _seconds
    }
    set {
      lock.lock()
      _seconds = newValue
      lock.unlock()
    }
  }
}
