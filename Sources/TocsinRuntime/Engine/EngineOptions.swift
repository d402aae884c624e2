import TocsinCore

/// What happens to an event that arrives at or before the watermark.
public enum LatePolicy: String, Sendable, CaseIterable {
  /// Write it to the dead-letter destination with its reason (default).
  case deadLetter = "dead-letter"
  /// Count it and drop it.
  case drop
}

/// Engine settings.
public struct EngineOptions: Sendable {
  /// How far behind the newest event time an event may arrive and still be ordered.
  /// The watermark is `max event time seen − outOfOrderness − 1ns` (Flink's bounded
  /// out-of-orderness convention), so an event stamped exactly `max − outOfOrderness` is on time.
  public var outOfOrderness: EventDuration
  /// What to do with late events.
  public var latePolicy: LatePolicy

  /// Creates options; defaults are 10 s out-of-orderness and dead-lettering late events.
  public init(outOfOrderness: EventDuration = .seconds(10), latePolicy: LatePolicy = .deadLetter) {
    self.outOfOrderness = outOfOrderness
    self.latePolicy = latePolicy
  }
}

/// Something the engine asks its caller to do.
public enum EngineAction {
  /// Write an alert to the sinks.
  case alert(Alert)
  /// Dead-letter a late event; `watermark` is the watermark it missed.
  case late(EventRecord, watermark: EventTime)
  /// Dead-letter an event that has none of the key fields any rule partitions by.
  case missingKey(EventRecord, fields: [FieldPath])
}

/// Counts kept by the engine; printed in the run summary.
public struct EngineCounters: Sendable {
  /// Events handed to ``Engine/eventArrived(_:into:)``.
  public var eventsIn = 0
  /// Events released from the reorder buffer to the rules.
  public var eventsProcessed = 0
  /// Late events (dead-lettered or dropped).
  public var late = 0
  /// Events dead-lettered for lacking every rule's key.
  public var missingKey = 0
  /// Per rule: events that reached the engine but lacked that rule's key fields.
  public var missingKeyByRule: [Int] = []
  /// Per rule: alerts emitted.
  public var alertsByRule: [Int] = []
  /// Largest number of events waiting in the reorder buffer at once.
  public var peakBuffered = 0

  /// Total alerts.
  public var alerts: Int { alertsByRule.reduce(0, +) }
}
