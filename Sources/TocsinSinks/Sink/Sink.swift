import TocsinCore
import TocsinExpressions

/// One NDJSON record on its way to a sink: an encoded alert or a dead letter.
public struct SinkRecord: Sendable {
  /// The record as one JSON line, trailing newline included.
  public var bytes: [UInt8]
  /// The alert's deterministic id as a number (``alertID`` is its text); `nil` for dead
  /// letters.
  public var alertIDHash: UInt64?
  /// The rule that fired; `nil` for dead letters.
  public var rule: String?
  /// The rule's severity; `nil` for dead letters.
  public var severity: Severity?

  /// Creates a record.
  public init(bytes: [UInt8], alertIDHash: UInt64? = nil, rule: String? = nil, severity: Severity? = nil) {
    self.bytes = bytes
    self.alertIDHash = alertIDHash
    self.rule = rule
    self.severity = severity
  }

  /// The alert's deterministic id (receivers dedup by it), as written in the line; `nil` for
  /// dead letters. Made when asked for: an alert's id as text is an allocation.
  public var alertID: String? { alertIDHash.map(StableHash.hex) }
}

/// A destination for alerts or dead letters.
///
/// Sinks are called from the engine's thread only. ``write(_:)`` never blocks beyond a bounded
/// time: a sink that talks to something slow (the webhook) queues records in a bounded queue and
/// delivers them on its own thread, and when that queue is full it spills instead of waiting.
/// Every record ends up counted in exactly one of ``SinkStatistics/sent``,
/// ``SinkStatistics/spilled`` or ``SinkStatistics/dropped`` by the time ``close()`` returns.
public protocol AlertSink: AnyObject {
  /// The sink's name in the configuration.
  var name: String { get }
  /// Accepts one record.
  /// - Throws: ``OutputError`` when a local output (stdout, a file) cannot be written; the run
  ///   stops, as it would for any failed output. Remote failures are never thrown: they are
  ///   retried, spilled and counted.
  func write(_ record: SinkRecord) throws
  /// Writes out what is buffered (end of a burst of input, end of the run).
  func flush() throws
  /// Delivers or spills everything still queued, then releases the sink's resources.
  func close() throws
  /// What the sink did so far. Safe to read from the engine's thread at any time.
  var statistics: SinkStatistics { get }
}

/// Counters one sink reports in the run summary.
public struct SinkStatistics: Sendable, Hashable {
  /// The sink's type, as written in the configuration (`stdout`, `file`, `webhook`…).
  public var kind: String
  /// Records delivered (written out, or acknowledged with a 2xx by the webhook endpoint).
  public var sent = 0
  /// Webhook requests that were repeated after a failure (one per retry, not per record).
  public var retried = 0
  /// Records written to the spill file instead of the endpoint.
  public var spilled = 0
  /// Records lost: not delivered and the spill file could not be written either. Each loss is
  /// also reported on standard error.
  public var dropped = 0
  /// The webhook's circuit breaker state at the time of reading; `nil` for other sinks.
  public var breaker: CircuitBreaker.StateName?
  /// Records waiting in the webhook's queue at the time of reading (0 for other sinks).
  public var queued = 0

  /// Counters at zero.
  public init(kind: String) {
    self.kind = kind
  }

  /// One summary line: `sent 10, retried 2, spilled 1, dropped 0, breaker closed`.
  public var summary: String {
    var parts = ["sent \(sent)"]
    if kind == "webhook" {
      parts += ["retried \(retried)", "spilled \(spilled)", "dropped \(dropped)"]
    }
    if let breaker { parts.append("breaker \(breaker.rawValue)") }
    return parts.joined(separator: ", ")
  }
}
