import TocsinCore

/// A stable identifier of a kind of diagnostic, e.g. `sema.unknownFunction`.
///
/// Tests and `docs/diagnostics.md` key on it; the English text may change, the ID may not.
public struct DiagnosticID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The stage that reports it: `lex`, `parse` or `sema`.
  public var domain: String
  /// The name within the domain, in lowerCamelCase (`unknownFunction`).
  public var name: String

  /// Creates an ID.
  public init(domain: String, name: String) {
    self.domain = domain
    self.name = name
  }

  /// `domain.name`.
  public var description: String { "\(domain).\(name)" }

  public static func < (lhs: DiagnosticID, rhs: DiagnosticID) -> Bool {
    (lhs.domain, lhs.name) < (rhs.domain, rhs.name)
  }
}

/// How serious a diagnostic is.
public enum DiagnosticSeverity: String, Hashable, Sendable, Comparable {
  /// The rule cannot be used; it is left out of ``CheckedRuleSet/rules``.
  case error
  /// The rule works but probably not as intended.
  case warning
  /// Extra information attached to another diagnostic.
  case note

  private var rank: Int {
    switch self {
    case .error: return 2
    case .warning: return 1
    case .note: return 0
    }
  }

  public static func < (lhs: DiagnosticSeverity, rhs: DiagnosticSeverity) -> Bool {
    lhs.rank < rhs.rank
  }
}

/// A secondary location attached to a diagnostic ("step 'first' is declared here").
public struct Note: Sendable {
  /// What the location shows, in the catalogue's style.
  public var message: String
  /// The file the location is in (may differ from the diagnostic's, e.g. duplicate rules).
  public var file: SourceFile
  /// The location.
  public var range: SourceRange

  /// Creates a note.
  public init(message: String, file: SourceFile, range: SourceRange) {
    self.message = message
    self.file = file
    self.range = range
  }
}

/// A problem found in a rule file, as a value.
///
/// Produced by the lexer, parser and checker, which never throw; rendered by
/// ``DiagnosticRenderer``. The text comes from the message catalogue
/// (`LexMessage`, `ParseMessage`, `SemaMessage`).
public struct Diagnostic: Sendable, CustomStringConvertible {
  /// The stable kind.
  public var id: DiagnosticID
  /// Error or warning (notes live in ``notes``).
  public var severity: DiagnosticSeverity
  /// One line, lower-case, no final period, user text in single quotes.
  public var message: String
  /// The file the primary range is in.
  public var file: SourceFile
  /// The primary range: the caret goes under its first character.
  public var range: SourceRange
  /// Secondary locations.
  public var notes: [Note]
  /// A suggestion shown as `= hint: …`, e.g. `did you mean 'distance_km'?`.
  public var hint: String?

  /// Creates a diagnostic.
  public init(
    id: DiagnosticID, severity: DiagnosticSeverity, message: String, file: SourceFile,
    range: SourceRange, notes: [Note] = [], hint: String? = nil
  ) {
    self.id = id
    self.severity = severity
    self.message = message
    self.file = file
    self.range = range
    self.notes = notes
    self.hint = hint
  }

  /// The 1-based line and column of the primary range's start.
  public var location: SourceLocation { file.location(of: range.start) }

  /// `path:line:col: severity: message`, the renderer's header line.
  public var description: String {
    "\(file.path):\(location): \(severity.rawValue): \(message)"
  }
}

extension Diagnostic {
  /// Builds a diagnostic from a catalogue entry.
  init<M: DiagnosticMessage>(
    _ message: M, file: SourceFile, range: SourceRange, notes: [Note] = [], hint: String? = nil
  ) {
    self.init(
      id: message.id, severity: message.severity, message: message.text, file: file, range: range,
      notes: notes, hint: hint ?? message.hint)
  }
}

/// A catalogue entry: one enum per domain, one case per diagnostic kind.
///
/// The ID's name is derived from the case name, so the catalogue cannot drift from the IDs.
protocol DiagnosticMessage {
  /// `lex`, `parse` or `sema`.
  static var domain: String { get }
  /// Error or warning.
  var severity: DiagnosticSeverity { get }
  /// The message text.
  var text: String { get }
  /// A default hint, if the message always has one.
  var hint: String? { get }
}

extension DiagnosticMessage {
  /// `domain.caseName`, derived from the enum case's name.
  var id: DiagnosticID {
    // A case with a payload reflects as one child labelled with the case name; a case without
    // one describes itself as its name.
    let name = Mirror(reflecting: self).children.first?.label ?? String(describing: self)
    return DiagnosticID(domain: Self.domain, name: name)
  }

  var severity: DiagnosticSeverity { .error }
  var hint: String? { nil }
}
