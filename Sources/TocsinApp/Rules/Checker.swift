import TocsinCore
import TocsinLanguage

/// `tocsin check`: every diagnostic of every rule file, rendered for a terminal.
public enum Checker {
  /// What `check` found.
  public struct Report {
    /// The rendered diagnostics followed by a one-line summary.
    public var text: String
    /// Number of errors (warnings count as errors with `strict`).
    public var errors: Int
    /// Number of warnings.
    public var warnings: Int
    /// Number of rules checked without error.
    public var rules: Int
    /// Whether `check` should fail.
    public var failed: Bool { errors > 0 }
  }

  /// Checks `files`. With `strict`, warnings fail the check too. With `sinkNames` (from a sink
  /// configuration), `to` clauses must name those sinks.
  public static func check(_ files: [SourceFile], colored: Bool, strict: Bool, sinkNames: [String]? = nil) -> Report {
    let checked = FrontEnd.check(files, sinkNames: sinkNames, loadSchema: { try? RuleSources.read($0) })
    var text = DiagnosticRenderer(colored: colored).render(checked.diagnostics)
    let errors = checked.errorCount + (strict ? checked.warningCount : 0)
    let fileWord = files.count == 1 ? "file" : "files"
    let ruleWord = checked.rules.count == 1 ? "rule" : "rules"
    text += "checked \(files.count) \(fileWord), \(checked.rules.count) \(ruleWord) ok: "
    text += "\(checked.errorCount) error\(checked.errorCount == 1 ? "" : "s"), "
    text += "\(checked.warningCount) warning\(checked.warningCount == 1 ? "" : "s")"
    text += strict && checked.warningCount > 0 ? " (--strict: warnings are errors)\n" : "\n"
    return Report(text: text, errors: errors, warnings: checked.warningCount, rules: checked.rules.count)
  }
}

/// Renders diagnostics for a terminal (used by commands that load rules before doing work).
public func renderDiagnostics(_ diagnostics: [Diagnostic], colored: Bool) -> String {
  DiagnosticRenderer(colored: colored).render(diagnostics)
}
