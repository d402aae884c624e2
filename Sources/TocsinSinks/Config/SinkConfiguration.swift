import TocsinExpressions

/// The sinks of a run and how alerts are routed to them: the parsed `--sinks` file.
///
/// See ``SinkConfigurationParser`` for the file format and docs/operations.md for the
/// semantics. Relative paths are relative to the working directory.
public struct SinkConfiguration: Hashable, Sendable {
  /// One named sink.
  public struct Definition: Hashable, Sendable {
    /// The name rules use in `to` clauses and routes use in their lists.
    public var name: String
    /// What it is.
    public var kind: Kind
    /// 1-based line of its definition (0 when built in code), for messages.
    public var line: Int

    /// Creates a definition.
    public init(name: String, kind: Kind, line: Int = 0) {
      self.name = name
      self.kind = kind
      self.line = line
    }
  }

  /// Sink types and their settings.
  public enum Kind: Hashable, Sendable {
    /// `type: stdout`.
    case stdout
    /// `type: stderr`.
    case stderr
    /// `type: file`.
    case file(FileSettings)
    /// `type: webhook`.
    case webhook(WebhookConfiguration)

    /// The type name as written in the file.
    public var typeName: String {
      switch self {
      case .stdout: return "stdout"
      case .stderr: return "stderr"
      case .file: return "file"
      case .webhook: return "webhook"
      }
    }
  }

  /// Settings of a `file` sink.
  public struct FileSettings: Hashable, Sendable {
    /// The file.
    public var path: String
    /// Empty the file at start instead of appending (only the `-o` shorthand does this).
    public var truncate = false
    /// Rotate before the file would grow past this many bytes; `nil`: never.
    public var maxBytes: Int64?
    /// Rotated files to keep (`PATH.1` … `PATH.<keep>`).
    public var keep = 5
    /// When to `fsync`.
    public var fsync = FsyncPolicy.never

    /// Settings with the defaults.
    public init(path: String) {
      self.path = path
    }
  }

  /// The sinks in file order; names are unique.
  public var sinks: [Definition]
  /// Routes by severity: where alerts of rules without a `to` clause go.
  public var routes: [Severity: [String]]
  /// The route for severities not in ``routes``; `nil` when none was written.
  public var defaultRoute: [String]?
  /// The sink that receives dead letters; `nil`: standard error.
  public var deadLetter: String?

  /// Creates a configuration (no checks; ``SinkConfigurationParser`` checks files).
  public init(
    sinks: [Definition], routes: [Severity: [String]] = [:], defaultRoute: [String]? = nil,
    deadLetter: String? = nil
  ) {
    self.sinks = sinks
    self.routes = routes
    self.defaultRoute = defaultRoute
    self.deadLetter = deadLetter
  }

  /// The sink names in file order.
  public var sinkNames: [String] { sinks.map(\.name) }

  /// The definition called `name`.
  public func sink(named name: String) -> Definition? { sinks.first { $0.name == name } }

  /// The route for a rule without a `to` clause: its severity's, else the default.
  public func route(for severity: Severity) -> [String]? { routes[severity] ?? defaultRoute }

  /// What `tocsin run` uses without `--sinks`: alerts to standard output (or `outputPath`,
  /// truncated), dead letters to standard error (or `deadLetterPath`, appended).
  public static func shorthand(outputPath: String?, deadLetterPath: String?) -> SinkConfiguration {
    var sinks: [Definition] = []
    if let outputPath {
      var settings = FileSettings(path: outputPath)
      settings.truncate = true
      settings.keep = 0
      sinks.append(Definition(name: "output", kind: .file(settings)))
    } else {
      sinks.append(Definition(name: "stdout", kind: .stdout))
    }
    var deadLetter: String?
    if let deadLetterPath {
      var settings = FileSettings(path: deadLetterPath)
      settings.keep = 0
      sinks.append(Definition(name: "dead_letter", kind: .file(settings)))
      deadLetter = "dead_letter"
    }
    return SinkConfiguration(sinks: sinks, defaultRoute: [sinks[0].name], deadLetter: deadLetter)
  }
}
