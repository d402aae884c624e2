import TocsinCore

/// The syntax tree of one rule file.
public struct RuleFileSyntax: Sendable {
  /// The file it was parsed from.
  public var file: SourceFile
  /// The rules in written order (including ones with errors).
  public var rules: [RuleSyntax]
  /// Every `#` comment's range, for the formatter.
  public var comments: [SourceRange]
}

/// `rule NAME { clause }`. A rule runs until the next `rule` keyword or the end of the file.
public struct RuleSyntax: Sendable {
  /// The `rule` keyword.
  public var ruleKeyword: SourceRange
  /// The name, or `nil` when it was missing (already reported).
  public var name: Located<String>?
  /// The clauses in written order.
  public var clauses: [ClauseSyntax]
  /// From `rule` to the end of the last token of the rule.
  public var range: SourceRange
  /// Whether the lexer or parser reported an error inside ``range``.
  public var hasSyntaxErrors: Bool
}

/// One clause of a rule, with the range from its keyword to its last token.
public struct ClauseSyntax: Sendable {
  /// What the clause says.
  public var kind: Kind
  /// The clause's keyword (for "duplicate clause" messages).
  public var keyword: SourceRange
  /// The whole clause.
  public var range: SourceRange

  /// The clause forms. New clauses (`on timeout emit`, `to SINK`, `suppress`) are new cases.
  public enum Kind: Sendable {
    /// `severity LEVEL`; the level is checked by the semantic pass.
    case severity(Located<String>)
    /// `description "text"`.
    case description(Located<String>)
    /// `key path, path`.
    case key([PathSyntax])
    /// `begin` / `next` / `followed_by` step.
    case step(StepSyntax)
    /// `within DURATION`.
    case within(Located<EventDuration>)
    /// `no_skip` or `skip STRATEGY`.
    case skip(Located<SkipStrategyName>)
    /// `emit { name: expr, … }`.
    case emit([EmitFieldSyntax])
  }
}

/// The after-match skip strategies the language knows, by spelling.
///
/// `no_skip` is a keyword of its own; the others follow `skip` and are looked up here, so adding
/// `to_next` or `to_first NAME` is a new case plus its arguments.
public enum SkipStrategyName: String, Hashable, Sendable, CaseIterable {
  /// `no_skip`.
  case noSkip = "no_skip"
  /// `skip past_last_event`.
  case pastLastEvent = "past_last_event"

  /// The strategies written after `skip`.
  static var afterSkip: [SkipStrategyName] { allCases.filter { $0 != .noSkip } }
}

/// How a step relates to the one before it, by its introducing keyword.
public enum StepKind: String, Hashable, Sendable, CaseIterable {
  /// `begin`: the first step.
  case begin
  /// `next`: strict contiguity.
  case next
  /// `followed_by`: relaxed contiguity.
  case followedBy = "followed_by"

  /// The keyword that introduces this kind of step.
  public var keyword: Keyword {
    switch self {
    case .begin: return .begin
    case .next: return .next
    case .followedBy: return .followedBy
    }
  }

  /// The step kind a keyword introduces, if any.
  public init?(keyword: Keyword) {
    guard let kind = StepKind.allCases.first(where: { $0.keyword == keyword }) else { return nil }
    self = kind
  }
}

/// `KIND NAME { modifier }`.
public struct StepSyntax: Sendable {
  /// `begin`, `next` or `followed_by`, at its keyword.
  public var kind: Located<StepKind>
  /// The step's name, or `nil` when it was missing (already reported).
  public var name: Located<String>?
  /// `where` and `times` in written order.
  public var modifiers: [StepModifierSyntax]
  /// The whole step.
  public var range: SourceRange
}

/// Something written after a step's name.
public struct StepModifierSyntax: Sendable {
  /// What it says. New quantifiers (`optional`, `until`, `times N..M`) are new cases.
  public var kind: Kind
  /// From the modifier's keyword to its last token.
  public var range: SourceRange

  /// The modifier forms.
  public enum Kind: Sendable {
    /// `where expr`; several are AND-ed.
    case `where`(ExprSyntax)
    /// `times N` or `times N+`.
    case times(count: Located<Int64>, orMore: Bool)
  }
}

/// `name: expr` inside `emit { … }`.
public struct EmitFieldSyntax: Sendable {
  /// The output name.
  public var name: Located<String>
  /// The value.
  public var value: ExprSyntax
  /// From the name to the end of the value.
  public var range: SourceRange
}

/// A dotted name `a.b.c` (a field path, or a step name followed by a field path).
public struct PathSyntax: Sendable {
  /// The components, never empty.
  public var components: [Located<String>]
  /// From the first to the last component.
  public var range: SourceRange

  /// The dotted spelling.
  public var dotted: String { components.map(\.value).joined(separator: ".") }
}
