import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinRuntime
import TocsinSinks

/// Sends each alert to the sinks its rule chooses, and dead letters to the dead-letter sink.
///
/// A rule's sinks are its `to` clause, or else the configuration's route for its severity, or
/// else the `default` route; the table is built once, per rule index, so routing an alert is
/// an array lookup. Each alert is encoded once and the same bytes go to every sink.
///
/// All sinks are created (files opened, webhook threads started) when the router is made, so a
/// bad path fails the run before any event is read.
public final class SinkRouter {
  /// Why the router could not be built.
  public enum Failure: Error, Hashable, CustomStringConvertible {
    /// A sink's file (or spill file) could not be opened.
    case open(sink: String, OutputError)
    /// A rule names a sink the configuration does not define.
    case unknownSink(rule: String, sink: String)
    /// A rule without `to` whose severity has no route, and there is no default route.
    case noRoute(rule: String, severity: Severity)

    public var description: String { "error: " + message }

    /// The message without the `error: ` prefix.
    public var message: String {
      switch self {
      case .open(let sink, let error): return "sink '\(sink)': \(error.message)"
      case .unknownSink(let rule, let sink): return "rule '\(rule)' sends to unknown sink '\(sink)'"
      case .noRoute(let rule, let severity):
        return "rule '\(rule)' (severity \(severity.rawValue)) has no sink: add a 'to' clause, "
          + "a '\(severity.rawValue)' route or a 'default' route to the sink configuration"
      }
    }
  }

  /// The configured sinks, in configuration order.
  let sinks: [AlertSink]
  private let routes: [[Int]]
  /// Where dead letters go (one of ``sinks``, or standard error).
  let deadLetterSink: AlertSink
  /// Every sink once: the configured ones, then the dead-letter sink unless it is one of them.
  var distinctSinks: [AlertSink] { sinks.contains { $0 === deadLetterSink } ? sinks : sinks + [deadLetterSink] }
  /// Where dead letters go, for the summary (`stderr`, or the dead-letter sink's name).
  public let deadLetterDestination: String

  /// Opens every sink of `configuration` and routes `rules` (in program order).
  /// - Throws: ``Failure``.
  /// - Parameters:
  ///   - honorRuleSinks: `false` for the `-o` shorthand: every alert takes the default route and
  ///     `to` clauses are ignored (the caller says so on standard error).
  ///   - report: receives one-line state changes of remote sinks (from their threads).
  public init(
    configuration: SinkConfiguration, rules: [RuleSpec], honorRuleSinks: Bool = true,
    report: @escaping @Sendable (String) -> Void
  ) throws {
    var opened: [AlertSink] = []
    do {
      for definition in configuration.sinks {
        opened.append(try SinkRouter.makeSink(definition, report: report))
      }
    } catch {
      for sink in opened { try? sink.close() }
      throw error
    }
    let names = configuration.sinkNames
    var routes: [[Int]] = []
    for rule in rules {
      let chosen = honorRuleSinks && !rule.sinks.isEmpty ? rule.sinks : configuration.route(for: rule.severity)
      guard let chosen else {
        for sink in opened { try? sink.close() }
        throw Failure.noRoute(rule: rule.name, severity: rule.severity)
      }
      var indices: [Int] = []
      for name in chosen {
        guard let index = names.firstIndex(of: name) else {
          for sink in opened { try? sink.close() }
          throw Failure.unknownSink(rule: rule.name, sink: name)
        }
        if !indices.contains(index) { indices.append(index) }
      }
      routes.append(indices)
    }
    sinks = opened
    self.routes = routes
    if let name = configuration.deadLetter, let index = names.firstIndex(of: name) {
      deadLetterSink = opened[index]
      deadLetterDestination = name
    } else {
      deadLetterSink = StreamSink(name: "stderr", stream: .stderr)
      deadLetterDestination = "stderr"
    }
  }

  /// Sends one encoded alert to its rule's sinks.
  /// - Throws: ``OutputError`` from a local sink (stdout, a file).
  public func deliver(_ alert: Alert, bytes: [UInt8]) throws {
    let record = SinkRecord(bytes: bytes, alertIDHash: alert.idHash, rule: alert.rule, severity: alert.severity)
    for index in routes[alert.ruleIndex] { try sinks[index].write(record) }
  }

  /// Writes one dead-letter record.
  public func deadLetter(_ bytes: [UInt8]) throws {
    try deadLetterSink.write(SinkRecord(bytes: bytes))
  }

  /// Flushes and closes every sink (webhooks drain first). Every sink is closed even when one
  /// fails; the first failure is thrown.
  public func close() throws {
    var firstError: Error?
    for sink in distinctSinks {
      do {
        // The standard streams are only flushed: they stay open for the summary.
        try sink.close()
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    if let firstError { throw firstError }
  }

  /// Each sink's counters, in configuration order.
  public var statistics: [(name: String, statistics: SinkStatistics)] {
    sinks.map { ($0.name, $0.statistics) }
  }

  private static func makeSink(
    _ definition: SinkConfiguration.Definition, report: @escaping @Sendable (String) -> Void
  ) throws -> AlertSink {
    let name = definition.name
    do {
      switch definition.kind {
      case .stdout: return StreamSink(name: name, stream: .stdout)
      case .stderr: return StreamSink(name: name, stream: .stderr)
      case .file(let settings):
        return try FileSink(
          name: name, path: settings.path, truncate: settings.truncate, maxBytes: settings.maxBytes,
          keep: settings.keep, fsync: settings.fsync)
      case .webhook(let settings):
        return try WebhookSink(name: name, configuration: settings) { event in report("sink '\(name)': \(event)") }
      }
    } catch let error as OutputError {
      throw Failure.open(sink: name, error)
    }
  }
}
