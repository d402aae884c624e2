/// A problem in a sink configuration file, with where it is.
public struct SinkConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The configuration file.
  public var path: String
  /// 1-based line (0 when unknown).
  public var line: Int
  /// 1-based column (0 when unknown).
  public var column: Int
  /// What is wrong.
  public var problem: Problem

  /// The problems, as data; ``description`` renders them.
  public enum Problem: Hashable, Sendable {
    /// The file could not be read.
    case unreadable(String)
    /// Not valid YAML (the message is libyaml's).
    case syntax(String)
    /// A value of the wrong shape: `what` names what was expected.
    case expected(what: String, key: String)
    /// A key that means nothing in `section`; `known` lists what does.
    case unknownKey(String, section: String, known: [String])
    /// A required key is missing.
    case missingKey(String, section: String)
    /// A value outside its allowed set or range.
    case invalidValue(key: String, value: String, expected: String)
    /// A sink name that is not an identifier (rules could not name it).
    case invalidSinkName(String)
    /// A route or `dead_letter` names a sink that is not defined.
    case unknownSink(String, usedIn: String, known: [String])
    /// `dead_letter` names a webhook sink (dead letters go to streams or files only).
    case deadLetterSinkType(name: String, type: String)
    /// Two sinks write the same file (or spill file).
    case sharedPath(String, first: String, second: String)
    /// A webhook URL that cannot be used (https included).
    case invalidURL(HTTPEndpoint.ParseError)
  }

  /// Creates an error.
  public init(path: String, line: Int = 0, column: Int = 0, problem: Problem) {
    self.path = path
    self.line = line
    self.column = column
    self.problem = problem
  }

  /// `sinks.yaml:4:11: error: unknown key 'retires' in sink 'pager'; expected one of …`.
  public var description: String {
    let location = line > 0 ? "\(path):\(line):\(column)" : path
    return "\(location): error: \(message)"
  }

  /// The message without location.
  public var message: String {
    switch problem {
    case .unreadable(let reason): return "cannot read the sink configuration: \(reason)"
    case .syntax(let message): return "invalid YAML: \(message)"
    case .expected(let what, let key): return "expected \(what) for '\(key)'"
    case .unknownKey(let key, let section, let known):
      return "unknown key '\(key)' in \(section); expected one of \(known.map { "'\($0)'" }.joined(separator: ", "))"
    case .missingKey(let key, let section): return "missing '\(key)' in \(section)"
    case .invalidValue(let key, let value, let expected): return "invalid \(key) '\(value)'; expected \(expected)"
    case .invalidSinkName(let name):
      return "invalid sink name '\(name)'; use letters, digits and '_', starting with a letter or '_'"
    case .unknownSink(let name, let usedIn, let known):
      let list = known.isEmpty ? "no sinks are defined" : "defined sinks: \(known.joined(separator: ", "))"
      return "unknown sink '\(name)' in \(usedIn); \(list)"
    case .deadLetterSinkType(let name, let type):
      return "dead_letter sink '\(name)' is a \(type) sink; dead letters go to a stdout, stderr or file sink"
    case .sharedPath(let path, let first, let second):
      return "sinks '\(first)' and '\(second)' both write '\(path)'"
    case .invalidURL(let error): return error.description
    }
  }
}
