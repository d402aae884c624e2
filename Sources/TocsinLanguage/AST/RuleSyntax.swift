import TocsinCore

/// The syntax tree of one rule file.
public struct RuleFileSyntax: Sendable {
  /// The file it was parsed from.
  public var file: SourceFile
  /// The `schema` declarations before the first rule, in written order.
  public var schemas: [SchemaSyntax] = []
  /// The rules in written order (including ones with errors).
  public var rules: [RuleSyntax]
  /// Every `#` comment's range, for the formatter.
  public var comments: [SourceRange]
}

/// `schema { FIELD: TYPE, … }` or `schema "FILE"`: the declared fields of the events the file's
/// rules read. Written before the first rule.
public struct SchemaSyntax: Sendable {
  /// What the declaration holds.
  public enum Kind: Sendable {
    /// The fields, written inline.
    case fields([SchemaFieldSyntax])
    /// A schema file (holding `schema { … }` blocks), relative to this file's directory.
    case file(Located<String>)
  }

  /// The `schema` word.
  public var keyword: SourceRange
  /// The fields or the file.
  public var kind: Kind
  /// The whole declaration.
  public var range: SourceRange
}

/// `path: type` inside `schema { … }`.
public struct SchemaFieldSyntax: Sendable {
  /// The field (nested fields as dotted paths: `geo.lat`).
  public var path: PathSyntax
  /// The type name, checked by the semantic pass (`string`, `int`, `float`, `number`, `bool`,
  /// `time`, `any`).
  public var type: Located<String>
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

  /// The clause forms. New clauses (`to SINK`) are new cases.
  public enum Kind: Sendable {
    /// `severity LEVEL`; the level is checked by the semantic pass.
    case severity(Located<String>)
    /// `description "text"`.
    case description(Located<String>)
    /// `key path, path`.
    case key([PathSyntax])
    /// A step or a parenthesised group of steps.
    case step(StepSyntax)
    /// `within DURATION`.
    case within(Located<EventDuration>)
    /// `within DURATION between steps`.
    case withinBetweenSteps(Located<EventDuration>)
    /// `no_skip` or `skip STRATEGY [STEP]`; `step` is the target of `to_first` / `to_last`.
    case skip(Located<SkipStrategyName>, step: Located<String>?)
    /// `emit { name: expr, … }`.
    case emit([EmitFieldSyntax])
    /// `on timeout emit { name: expr, … }`.
    case onTimeout([EmitFieldSyntax])
    /// `to SINK, SINK`: the sinks the rule's alerts go to (instead of the severity route).
    case to([Located<String>])
    /// `suppress DURATION [by expr]`: alert throttling per suppression key.
    case suppress(Located<EventDuration>, by: ExprSyntax?)
  }
}

/// The after-match skip strategies the language knows, by spelling.
///
/// `no_skip` is a keyword of its own; the others follow `skip` and are looked up here, so adding
/// a strategy is a new case plus its arguments.
public enum SkipStrategyName: String, Hashable, Sendable, CaseIterable {
  /// `no_skip`.
  case noSkip = "no_skip"
  /// `skip to_next`.
  case toNext = "to_next"
  /// `skip past_last_event`.
  case pastLastEvent = "past_last_event"
  /// `skip to_first STEP`.
  case toFirst = "to_first"
  /// `skip to_last STEP`.
  case toLast = "to_last"

  /// The strategies written after `skip`.
  static var afterSkip: [SkipStrategyName] { allCases.filter { $0 != .noSkip } }
  /// Whether the strategy names a step after it.
  var takesStep: Bool { self == .toFirst || self == .toLast }
}

/// How a step relates to the one before it, by its introducing keyword.
///
/// (Named for the keyword, not the IR's `StepKind`, which says whether a step takes or forbids
/// events.)
public enum StepIntro: String, Hashable, Sendable, CaseIterable {
  /// `begin`: the first step of a pattern or a group.
  case begin
  /// `next`: strict contiguity.
  case next
  /// `followed_by`: relaxed contiguity.
  case followedBy = "followed_by"
  /// `followed_by_any`: non-deterministic relaxed contiguity.
  case followedByAny = "followed_by_any"
  /// `not_next`: the very next event must not match.
  case notNext = "not_next"
  /// `not_followed_by`: no later event (before the next step) may match.
  case notFollowedBy = "not_followed_by"

  /// The keyword that introduces this kind of step.
  public var keyword: Keyword {
    switch self {
    case .begin: return .begin
    case .next: return .next
    case .followedBy: return .followedBy
    case .followedByAny: return .followedByAny
    case .notNext: return .notNext
    case .notFollowedBy: return .notFollowedBy
    }
  }

  /// Whether the step forbids events instead of taking them.
  public var isNegation: Bool { self == .notNext || self == .notFollowedBy }

  /// The step kind a keyword introduces, if any.
  public init?(keyword: Keyword) {
    guard let kind = StepIntro.allCases.first(where: { $0.keyword == keyword }) else { return nil }
    self = kind
  }
}

/// `INTRO NAME { modifier }` or `INTRO ( step { step } ) { modifier }`.
public struct StepSyntax: Sendable {
  /// The introducing keyword (`begin`, `next`, …), at its keyword.
  public var kind: Located<StepIntro>
  /// The step's name, or `nil` when it was missing (already reported) or this is a group.
  public var name: Located<String>?
  /// The group's steps, when the step is a parenthesised group.
  public var group: GroupSyntax?
  /// The modifiers in written order.
  public var modifiers: [StepModifierSyntax]
  /// The whole step.
  public var range: SourceRange
}

/// `( step { step } )`.
public struct GroupSyntax: Sendable {
  /// The inner steps in order (nested groups included).
  public var steps: [StepSyntax]
  /// The `(`.
  public var open: SourceRange
}

/// Something written after a step's name.
public struct StepModifierSyntax: Sendable {
  /// What it says.
  public var kind: Kind
  /// From the modifier's keyword to its last token.
  public var range: SourceRange

  /// The modifier forms.
  public enum Kind: Sendable {
    /// `where expr`; AND-ed with the conditions before it.
    case `where`(ExprSyntax)
    /// `or where expr`; OR-ed with the conditions before it.
    case orWhere(ExprSyntax)
    /// `times N` or `times N+`.
    case times(count: Located<Int64>, orMore: Bool)
    /// `times N..M`.
    case timesRange(min: Located<Int64>, max: Located<Int64>)
    /// `one_or_more`.
    case oneOrMore
    /// `optional`.
    case optional
    /// `greedy`.
    case greedy
    /// `consecutive`.
    case consecutive
    /// `allow_combinations`.
    case allowCombinations
    /// `until expr`.
    case until(ExprSyntax)
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
