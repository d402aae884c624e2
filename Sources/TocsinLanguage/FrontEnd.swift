import TocsinCore
import TocsinExpressions

/// The language front end's entry point: text in, checked rules and diagnostics out.
///
///     let result = FrontEnd.check([SourceFile(path: "rules/geo.tcs", text: text)])
///     print(DiagnosticRenderer(colored: false).render(result.diagnostics), terminator: "")
///     let rules = result.rules   // only the rules without errors
public enum FrontEnd {
  /// Lexes, parses and checks every file; rule names must be unique across all of them.
  ///
  /// Never throws: every problem is a ``Diagnostic``. A rule with any error is left out of
  /// ``CheckedRuleSet/rules``; the others are still returned.
  ///
  /// - Parameters:
  ///   - sinkNames: the sinks of the sink configuration, when there is one: a `to` clause naming
  ///     any other sink is an error (`sema.unknownSink`, with a did-you-mean hint). `nil` leaves
  ///     `to` names unchecked.
  ///   - loadSchema: reads a schema file named by `schema "PATH"` (the path already resolved
  ///     against the naming file's directory), or returns `nil` when it cannot. The front end
  ///     does no I/O itself; without a loader every schema file is reported as unreadable.
  public static func check(
    _ files: [SourceFile], sinkNames: [String]? = nil, loadSchema: ((String) -> SourceFile?)? = nil
  ) -> CheckedRuleSet {
    var syntax: [RuleFileSyntax] = []
    var diagnostics: [Diagnostic] = []
    for file in files {
      let parsed = Parser.parse(file)
      syntax.append(parsed.syntax)
      diagnostics += parsed.diagnostics
    }
    var checker = RuleSetChecker(knownSinks: sinkNames)
    let rules = checker.check(syntax, loadSchema: loadSchema)
    diagnostics += checker.diagnostics
    return CheckedRuleSet(rules: rules, diagnostics: sorted(diagnostics, fileOrder: files), syntax: syntax)
  }

  /// Sorts by file (in the order given), then offset; ties keep the order they were reported in.
  static func sorted(_ diagnostics: [Diagnostic], fileOrder files: [SourceFile]) -> [Diagnostic] {
    var order: [ObjectIdentifier: Int] = [:]
    for (i, file) in files.enumerated() where order[ObjectIdentifier(file)] == nil {
      order[ObjectIdentifier(file)] = i
    }
    return diagnostics.enumerated().sorted { a, b in
      let fa = order[ObjectIdentifier(a.element.file)] ?? Int.max
      let fb = order[ObjectIdentifier(b.element.file)] ?? Int.max
      return (fa, a.element.range.start, a.offset) < (fb, b.element.range.start, b.offset)
    }.map(\.element)
  }
}

/// The result of ``FrontEnd/check(_:)``.
public struct CheckedRuleSet: Sendable {
  /// Only rules without errors, in file order then rule order.
  public var rules: [RuleSpec]
  /// Sorted by file order, then offset.
  public var diagnostics: [Diagnostic]
  /// The ASTs, one per file, in the order given.
  public var syntax: [RuleFileSyntax]

  /// Creates a result.
  public init(rules: [RuleSpec], diagnostics: [Diagnostic], syntax: [RuleFileSyntax]) {
    self.rules = rules
    self.diagnostics = diagnostics
    self.syntax = syntax
  }

  /// Whether any diagnostic is an error.
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  /// The number of errors.
  public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
  /// The number of warnings.
  public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
}
