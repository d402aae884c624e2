import Foundation
import TocsinCore
import TocsinExpressions
import Yams

/// Reads a sink configuration file (YAML) strictly: unknown keys, wrong types, unknown sink
/// names and unusable URLs are errors with a line and column, never ignored.
///
///     sinks:
///       console: { type: stdout }
///       audit:
///         type: file
///         path: alerts/audit.ndjson
///         max_bytes: 10485760
///         keep: 5
///         fsync: interval
///         fsync_interval: 1s
///       pager:
///         type: webhook
///         url: http://127.0.0.1:8080/alerts
///         spill: alerts/pager.spill.ndjson
///     routes:
///       high: [pager, audit]
///       default: [console]
///     dead_letter: audit
///
/// The keys of every sink type and their defaults are in docs/operations.md.
public enum SinkConfigurationParser {
  /// Keys of the top level.
  static let topKeys = ["sinks", "routes", "dead_letter"]
  /// Keys every sink has.
  static let commonKeys = ["type"]
  /// Keys of a `file` sink.
  static let fileKeys = ["path", "max_bytes", "keep", "fsync", "fsync_interval"]
  /// Keys of a `webhook` sink.
  static let webhookKeys = [
    "url", "spill", "batch_size", "linger", "connect_timeout", "request_timeout", "retries",
    "backoff_initial", "backoff_max", "breaker_failures", "breaker_cooldown", "queue_capacity",
    "drain_timeout",
  ]
  /// The sink types.
  static let types = ["stdout", "stderr", "file", "webhook"]

  /// Reads and parses the file at `path`.
  public static func load(path: String) throws(SinkConfigurationError) -> SinkConfiguration {
    let read = readText(path)
    guard let text = read.text else { throw SinkConfigurationError(path: path, problem: .unreadable(read.reason)) }
    return try parse(text, path: path)
  }

  /// Parses configuration text; `path` is used in messages.
  public static func parse(_ text: String, path: String) throws(SinkConfigurationError) -> SinkConfiguration {
    var reader = NodeReader(path: path)
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw SinkConfigurationError(path: path, problem: .syntax(String(describing: error)))
    }
    guard let root else { throw SinkConfigurationError(path: path, problem: .missingKey("sinks", section: "the file")) }
    let top = try reader.mapping(root, key: "the file", known: topKeys, section: "the top level")
    guard let sinksNode = top["sinks"] else {
      throw SinkConfigurationError(path: path, line: 1, column: 1, problem: .missingKey("sinks", section: "the top level"))
    }
    var configuration = SinkConfiguration(sinks: [])
    for (nameNode, body) in try reader.orderedMapping(sinksNode, key: "sinks") {
      let name = nameNode.string ?? ""
      guard isIdentifier(name) else { throw reader.error(at: nameNode, .invalidSinkName(name)) }
      let definition = try parseSink(name: name, body, reader: &reader)
      configuration.sinks.append(definition)
    }
    let names = configuration.sinkNames
    if let routesNode = top["routes"] {
      let known = Severity.allCases.map(\.rawValue) + ["default"]
      for (keyNode, listNode) in try reader.orderedMapping(routesNode, key: "routes") {
        let key = keyNode.string ?? ""
        guard known.contains(key) else { throw reader.error(at: keyNode, .unknownKey(key, section: "routes", known: known)) }
        let list = try reader.stringList(listNode, key: key)
        for (sinkName, node) in list where !names.contains(sinkName) {
          throw reader.error(at: node, .unknownSink(sinkName, usedIn: "route '\(key)'", known: names))
        }
        let route = list.map(\.value)
        if let severity = Severity(rawValue: key) { configuration.routes[severity] = route } else { configuration.defaultRoute = route }
      }
    }
    if let deadLetterNode = top["dead_letter"] {
      let name = try reader.string(deadLetterNode, key: "dead_letter")
      guard let definition = configuration.sink(named: name) else {
        throw reader.error(at: deadLetterNode, .unknownSink(name, usedIn: "dead_letter", known: names))
      }
      if case .webhook = definition.kind {
        throw reader.error(at: deadLetterNode, .deadLetterSinkType(name: name, type: "webhook"))
      }
      configuration.deadLetter = name
    }
    try checkDistinctPaths(configuration, path: path)
    return configuration
  }

  private static func parseSink(name: String, _ node: Node, reader: inout NodeReader) throws(SinkConfigurationError) -> SinkConfiguration.Definition {
    let section = "sink '\(name)'"
    let line = node.mark?.line ?? 0
    let fields = try reader.mapping(node, key: name, known: commonKeys + fileKeys + webhookKeys, section: section)
    guard let typeNode = fields["type"] else { throw reader.error(at: node, .missingKey("type", section: section)) }
    let type = try reader.string(typeNode, key: "type")
    let allowed: [String]
    switch type {
    case "stdout", "stderr": allowed = commonKeys
    case "file": allowed = commonKeys + fileKeys
    case "webhook": allowed = commonKeys + webhookKeys
    default:
      throw reader.error(at: typeNode, .invalidValue(key: "type", value: type, expected: types.joined(separator: ", ")))
    }
    for (key, keyNode) in fields.keyNodes where !allowed.contains(key) {
      throw reader.error(at: keyNode, .unknownKey(key, section: "\(section) (type \(type))", known: allowed))
    }
    func required(_ key: String) throws(SinkConfigurationError) -> String {
      guard let value = fields[key] else { throw reader.error(at: node, .missingKey(key, section: section)) }
      return try reader.string(value, key: key)
    }
    switch type {
    case "stdout": return .init(name: name, kind: .stdout, line: line)
    case "stderr": return .init(name: name, kind: .stderr, line: line)
    case "file":
      var settings = SinkConfiguration.FileSettings(path: try required("path"))
      if let value = fields["max_bytes"] { settings.maxBytes = Int64(try reader.integer(value, key: "max_bytes", minimum: 1)) }
      if let value = fields["keep"] { settings.keep = try reader.integer(value, key: "keep", minimum: 0) }
      let policy = try fields["fsync"].map { (n: Node) throws(SinkConfigurationError) in try reader.string(n, key: "fsync") } ?? "never"
      switch policy {
      case "never": settings.fsync = .never
      case "every_batch": settings.fsync = .everyBatch
      case "interval":
        settings.fsync = .interval(try fields["fsync_interval"].map { (n: Node) throws(SinkConfigurationError) in try reader.duration(n, key: "fsync_interval") } ?? .seconds(1))
      default:
        throw reader.error(at: fields["fsync"] ?? node, .invalidValue(key: "fsync", value: policy, expected: "never, interval or every_batch"))
      }
      return .init(name: name, kind: .file(settings), line: line)
    default:
      let urlText = try required("url")
      let endpoint: HTTPEndpoint
      do {
        endpoint = try HTTPEndpoint(parsing: urlText)
      } catch {
        throw reader.error(at: fields["url"] ?? node, .invalidURL(error))
      }
      var settings = WebhookConfiguration(endpoint: endpoint, spillPath: try required("spill"))
      for (key, value) in fields.pairs {
        switch key {
        case "batch_size": settings.batchSize = try reader.integer(value, key: key, minimum: 1)
        case "linger": settings.linger = try reader.duration(value, key: key)
        case "connect_timeout": settings.connectTimeout = try reader.duration(value, key: key, positive: true)
        case "request_timeout": settings.requestTimeout = try reader.duration(value, key: key, positive: true)
        case "retries": settings.retries = try reader.integer(value, key: key, minimum: 0)
        case "backoff_initial": settings.backoff.initial = try reader.duration(value, key: key)
        case "backoff_max": settings.backoff.maximum = try reader.duration(value, key: key)
        case "breaker_failures": settings.breaker.failureThreshold = try reader.integer(value, key: key, minimum: 1)
        case "breaker_cooldown": settings.breaker.cooldown = try reader.duration(value, key: key)
        case "queue_capacity": settings.queueCapacity = try reader.integer(value, key: key, minimum: 1)
        case "drain_timeout": settings.drainTimeout = try reader.duration(value, key: key)
        default: break
        }
      }
      settings.backoff = Backoff(initial: settings.backoff.initial, maximum: settings.backoff.maximum)
      return .init(name: name, kind: .webhook(settings), line: line)
    }
  }

  /// Two sinks appending to one file would interleave and rotate each other's files.
  private static func checkDistinctPaths(_ configuration: SinkConfiguration, path: String) throws(SinkConfigurationError) {
    var owner: [String: String] = [:]
    for sink in configuration.sinks {
      let paths: [String]
      switch sink.kind {
      case .file(let settings): paths = [settings.path]
      case .webhook(let settings): paths = [settings.spillPath]
      case .stdout, .stderr: paths = []
      }
      for file in paths {
        if let first = owner[file] {
          throw SinkConfigurationError(path: path, line: sink.line, column: 1, problem: .sharedPath(file, first: first, second: sink.name))
        }
        owner[file] = sink.name
      }
    }
  }

  /// Whether `name` is `[A-Za-z_][A-Za-z0-9_]*`.
  static func isIdentifier(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
    return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
  }

  /// The file's text, or why it cannot be read.
  private static func readText(_ path: String) -> (text: String?, reason: String) {
    guard let data = FileManager.default.contents(atPath: path) else {
      return (nil, FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
    }
    return (String(decoding: data, as: UTF8.self), "")
  }

}
