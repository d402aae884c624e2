import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime

/// One replay case: a folder with `events.ndjson`, `expected.ndjson`, the rules it uses and
/// optional settings.
///
/// Layout:
///
///     fixtures/geo_positive/
///       case.conf                      # optional: `key = value` lines, `#` comments
///       *.tcs                          # rules in the folder (optional)
///       events.ndjson                  # input, replayed in file order
///       expected.ndjson                # the exact alerts
///       expected-dead-letters.ndjson   # optional: the exact dead-letter records
///
/// `case.conf` keys: `rules` (a rule file or directory relative to the case folder; repeatable),
/// `out_of_orderness` (a duration, default `10s`), `late` (`dead-letter` or `drop`),
/// `max_time_skew` (a duration or `off`), `max_line_bytes` (the line limit, default 1 MiB),
/// `time_field`, `time_format`, `id_field`.
public struct FixtureCase {
  /// The case folder.
  public var directory: String
  /// The case name (folder path relative to the fixtures root).
  public var name: String
  /// Rule files and directories to load.
  public var rulePaths: [String]
  /// Replay settings.
  public var configuration: ReplayConfiguration

  /// The input file.
  public var eventsPath: String { RuleSources.join(directory, "events.ndjson") }
  /// The golden alerts.
  public var expectedPath: String { RuleSources.join(directory, "expected.ndjson") }
  /// The golden dead letters (compared only when the file exists, or when recording produced any).
  public var expectedDeadLettersPath: String {
    RuleSources.join(directory, "expected-dead-letters.ndjson")
  }

  /// Why a case folder is malformed.
  public struct ConfigurationError: Error, CustomStringConvertible {
    /// The file and line.
    public var location: String
    /// What is wrong.
    public var message: String
    public var description: String { "\(location): error: \(message)" }
  }

  /// Reads a case folder.
  public static func load(directory: String, name: String) throws -> FixtureCase {
    var rulePaths = try RuleSources.ruleFiles(in: directory).filter {
      // Only files directly in the case folder; sub-folders are cases of their own.
      !$0.dropFirst(directory.count + 1).contains("/")
    }
    var configuration = ReplayConfiguration()
    let confPath = RuleSources.join(directory, "case.conf")
    if let data = FileManager.default.contents(atPath: confPath) {
      let text = String(decoding: data, as: UTF8.self)
      for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
          .trimmingCharacters(in: .whitespaces)
        if line.isEmpty { continue }
        let location = "\(confPath):\(index + 1)"
        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[1].isEmpty else {
          throw ConfigurationError(location: location, message: "expected 'key = value'")
        }
        let (key, value) = (parts[0], parts[1])
        switch key {
        case "rules":
          rulePaths.append(value.hasPrefix("/") ? value : RuleSources.join(directory, value))
        case "out_of_orderness":
          guard let d = EventDuration(parsing: value) else {
            throw ConfigurationError(location: location, message: "invalid duration '\(value)'")
          }
          configuration.engine.outOfOrderness = d
        case "late":
          guard let policy = LatePolicy(rawValue: value) else {
            throw ConfigurationError(
              location: location, message: "late must be 'dead-letter' or 'drop', not '\(value)'")
          }
          configuration.engine.latePolicy = policy
        case "max_time_skew":
          if value == "off" {
            configuration.engine.maxTimeSkew = nil
          } else if let d = EventDuration(parsing: value) {
            configuration.engine.maxTimeSkew = d
          } else {
            throw ConfigurationError(location: location, message: "invalid duration '\(value)'")
          }
        case "max_line_bytes":
          guard let n = Int(value), n >= 1 else {
            throw ConfigurationError(location: location, message: "invalid line limit '\(value)'")
          }
          configuration.maxLineBytes = n
        case "time_field": configuration.ingest.timeField = FieldPath(dotted: value)
        case "id_field": configuration.ingest.idField = FieldPath(dotted: value)
        case "time_format":
          guard let format = TimeFormat(rawValue: value) else {
            throw ConfigurationError(location: location, message: "unknown time format '\(value)'")
          }
          configuration.ingest.timeFormat = format
        default:
          throw ConfigurationError(
            location: location,
            message: "unknown key '\(key)'; expected rules, out_of_orderness, late, max_time_skew, max_line_bytes, time_field, time_format or id_field")
        }
      }
    }
    if rulePaths.isEmpty {
      throw ConfigurationError(
        location: directory, message: "no rules: add a '*.tcs' file or a 'rules = …' line to case.conf")
    }
    return FixtureCase(directory: directory, name: name, rulePaths: rulePaths, configuration: configuration)
  }
}
