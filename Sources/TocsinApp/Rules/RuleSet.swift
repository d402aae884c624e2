import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinLanguage

/// A loaded, checked and compiled set of rules: what `run`, `test` and `explain` start from.
public struct RuleSet {
  /// The checked front-end result (diagnostics included).
  public var checked: CheckedRuleSet
  /// The compiled programs; only present when there is no error.
  public var programs: ProgramSet?

  /// Loads `paths`, checks them and, when error-free, compiles them with the time and id fields
  /// projected first. With `sinkNames` (a sink configuration's), `to` clauses are checked too.
  /// - Throws: ``RuleSources/LoadError`` when a file cannot be read.
  public static func load(_ paths: [String], ingest: IngestOptions, sinkNames: [String]? = nil) throws -> RuleSet {
    let files = try RuleSources.load(paths)
    return build(files, ingest: ingest, sinkNames: sinkNames)
  }

  /// Checks and compiles already-read sources.
  public static func build(_ files: [SourceFile], ingest: IngestOptions, sinkNames: [String]? = nil) -> RuleSet {
    let checked = FrontEnd.check(files, sinkNames: sinkNames, loadSchema: { try? RuleSources.read($0) })
    guard !checked.hasErrors else { return RuleSet(checked: checked, programs: nil) }
    return RuleSet(checked: checked, programs: compile(checked.rules, ingest: ingest))
  }

  /// Compiles checked rules as a run does: against one projection, the time and id fields
  /// projected first.
  public static func compile(_ rules: [RuleSpec], ingest: IngestOptions) -> ProgramSet {
    NFACompiler.compile(rules, extraFields: [ingest.timeField, ingest.idField])
  }
}
