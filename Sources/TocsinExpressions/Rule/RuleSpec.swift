import TocsinCore

/// A checked rule: the pattern, its conditions as ``Expr`` IR, and its output.
///
/// This is the contract between the front end (`TocsinLanguage`, which builds it from text and
/// guarantees every name resolves) and the compiler (`TocsinCompiler`, which builds the NFA).
public struct RuleSpec: Sendable {
  /// The rule's name, unique in a rule set.
  public var name: String
  /// Alert severity; `.medium` when not written.
  public var severity: Severity
  /// Free text copied into alerts, if written.
  public var description: String?
  /// Fields whose values partition the stream. Empty = one global partition.
  public var keyFields: [FieldPath]
  /// The pattern's steps in order; `steps[0]` is the `begin` step.
  public var steps: [StepSpec]
  /// `within`: the largest span from the first to the last event of a match (exclusive).
  public var within: EventDuration?
  /// `within D between steps`: the largest gap between two consecutive events of a match
  /// (exclusive), Flink's `WithinType.PREVIOUS_AND_CURRENT`.
  public var withinBetweenSteps: EventDuration?
  /// Parenthesised groups of steps with their own quantifier and contiguity, outermost first.
  /// Steps stay flat in ``steps`` (so step indices are stable); a group covers a contiguous
  /// range of them, and groups nest by range inclusion.
  public var groups: [GroupSpec]
  /// What happens to other partial matches after a match is emitted.
  public var skip: SkipStrategy
  /// `emit { name: expr, … }` in written order.
  public var emit: [EmitField]
  /// `on timeout emit { … }`: when present, partial matches that got past their first step and
  /// expire (by `within`) become alerts marked as timeouts, with these fields.
  public var onTimeout: [EmitField]?
  /// `to SINK, …`: the sinks this rule's alerts go to, in written order, duplicates removed.
  /// Empty: the sink configuration's route for the rule's severity decides.
  public var sinks: [String]
  /// `suppress DURATION [by expr]`: alert throttling, applied to the rule's alerts in output
  /// order (see `Suppressor` in TocsinRuntime); `nil` when every alert is written.
  public var suppression: SuppressionSpec?
  /// Where the rule was written (path), for messages.
  public var sourcePath: String
  /// 1-based line of the `rule` keyword.
  public var sourceLine: Int

  /// Creates a rule spec.
  public init(
    name: String, severity: Severity = .medium, description: String? = nil,
    keyFields: [FieldPath] = [], steps: [StepSpec], within: EventDuration? = nil,
    withinBetweenSteps: EventDuration? = nil, groups: [GroupSpec] = [],
    skip: SkipStrategy = .noSkip, emit: [EmitField] = [], onTimeout: [EmitField]? = nil,
    sinks: [String] = [], suppression: SuppressionSpec? = nil, sourcePath: String = "", sourceLine: Int = 0
  ) {
    self.name = name
    self.severity = severity
    self.description = description
    self.keyFields = keyFields
    self.steps = steps
    self.within = within
    self.withinBetweenSteps = withinBetweenSteps
    self.groups = groups
    self.skip = skip
    self.emit = emit
    self.onTimeout = onTimeout
    self.sinks = sinks
    self.suppression = suppression
    self.sourcePath = sourcePath
    self.sourceLine = sourceLine
  }
}

/// One step of a pattern.
public struct StepSpec: Hashable, Sendable {
  /// The step's name (`first`, `burst`).
  public var name: String
  /// Whether the step takes events or forbids them.
  public var kind: StepKind
  /// How this step relates to the previous one. Ignored for the first step.
  public var contiguity: Contiguity
  /// How many events the step takes.
  public var quantifier: Quantifier
  /// The conjunction of the step's `where` clauses; `nil` accepts every event.
  public var condition: Expr?

  /// Creates a step.
  public init(
    name: String, kind: StepKind = .take, contiguity: Contiguity = .relaxed,
    quantifier: Quantifier = .once, condition: Expr? = nil
  ) {
    self.name = name
    self.kind = kind
    self.contiguity = contiguity
    self.quantifier = quantifier
    self.condition = condition
  }
}

/// What a step does with the events that satisfy its condition.
public enum StepKind: String, Hashable, Sendable {
  /// `begin`, `next`, `followed_by`, `followed_by_any`: the step binds matching events.
  case take
  /// `not_next`: the partial match dies if the very next event satisfies the condition.
  /// (Its ``StepSpec/contiguity`` is `.strict`.)
  case notNext
  /// `not_followed_by`: the partial match dies if any later event (before the next step
  /// matches) satisfies the condition. As the last step, together with `within`, it is absence
  /// detection: the match completes when the window closes with no such event.
  /// (Its ``StepSpec/contiguity`` is `.relaxed`.)
  case notFollowedBy
}

/// A parenthesised group of steps repeated or made optional as a whole (Flink's `GroupPattern`).
public struct GroupSpec: Hashable, Sendable {
  /// The steps the group covers: `steps[range]`, at least one.
  public var range: Range<Int>
  /// How the group relates to what comes before it (ignored when it starts the pattern).
  public var contiguity: Contiguity
  /// How many times the whole group repeats; `inner` is the contiguity between repetitions.
  public var quantifier: Quantifier

  /// Creates a group.
  public init(range: Range<Int>, contiguity: Contiguity = .relaxed, quantifier: Quantifier = .once) {
    self.range = range
    self.contiguity = contiguity
    self.quantifier = quantifier
  }
}

/// Alert severities, lowest first.
public enum Severity: String, Hashable, Sendable, CaseIterable, Comparable {
  case info, low, medium, high, critical

  /// Position in the order `info < low < medium < high < critical`.
  public var rank: Int {
    switch self {
    case .info: return 0
    case .low: return 1
    case .medium: return 2
    case .high: return 3
    case .critical: return 4
    }
  }

  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// Contiguity between a step and the one before it (Flink CEP's consuming strategies).
public enum Contiguity: String, Hashable, Sendable {
  /// `next`: the very next event of the key must match, or the partial match dies.
  case strict
  /// `followed_by`: non-matching events in between are skipped ("skip till next match").
  case relaxed
  /// `followed_by_any`: any event may be skipped, even a matching one ("skip till any match").
  case nonDeterministic
}

/// How many events a step takes.
public struct Quantifier: Hashable, Sendable, CustomStringConvertible {
  /// The least number of events (≥ 1).
  public var min: Int
  /// The most, or `nil` for unbounded (`times N+`).
  public var max: Int?
  /// Contiguity between the events of a looping step: relaxed by default, as in Flink;
  /// `consecutive` makes it strict, `allow_combinations` non-deterministic.
  public var inner: Contiguity
  /// `optional`: the step may also match no event at all.
  public var isOptional: Bool
  /// `greedy`: a looping step keeps taking events while they match instead of also proceeding
  /// to the next step with each count.
  public var isGreedy: Bool
  /// `until COND`: a looping step stops taking events at the first event satisfying `COND`
  /// (which is not taken).
  public var until: Expr?

  /// Creates a quantifier.
  public init(
    min: Int, max: Int?, inner: Contiguity = .relaxed, isOptional: Bool = false,
    isGreedy: Bool = false, until: Expr? = nil
  ) {
    self.min = min
    self.max = max
    self.inner = inner
    self.isOptional = isOptional
    self.isGreedy = isGreedy
    self.until = until
  }

  /// Exactly one event (no quantifier written).
  public static let once = Quantifier(min: 1, max: 1)
  /// `times n`.
  public static func times(_ n: Int) -> Quantifier { Quantifier(min: n, max: n) }
  /// `times n+`.
  public static func timesOrMore(_ n: Int) -> Quantifier { Quantifier(min: n, max: nil) }

  /// Whether the step can take more than one event.
  public var isLooping: Bool { max != 1 }

  public var description: String {
    var text: String
    switch max {
    case 1 where min == 1: text = "once"
    case let m? where m == min: text = "times \(min)"
    case let m?: text = "times \(min)..\(m)"
    case nil: text = "times \(min)+"
    }
    if inner == .strict && isLooping { text += " consecutive" }
    if inner == .nonDeterministic && isLooping { text += " allow_combinations" }
    if isOptional { text += " optional" }
    if isGreedy { text += " greedy" }
    if until != nil { text += " until …" }
    return text
  }
}

/// What happens after a match is emitted (Flink CEP's after-match skip strategies).
public enum SkipStrategy: Hashable, Sendable, CustomStringConvertible {
  /// Every match is emitted; nothing is discarded.
  case noSkip
  /// Partial matches that started with the match's first event are discarded.
  case skipToNext
  /// Partial matches that started at or before the match's last event are discarded.
  case skipPastLastEvent
  /// Partial matches that started before the first event bound to step `step` are discarded.
  case skipToFirst(step: Int, name: String)
  /// Partial matches that started before the last event bound to step `step` are discarded.
  case skipToLast(step: Int, name: String)

  public var description: String {
    switch self {
    case .noSkip: return "no_skip"
    case .skipToNext: return "skip to_next"
    case .skipPastLastEvent: return "skip past_last_event"
    case .skipToFirst(_, let name): return "skip to_first \(name)"
    case .skipToLast(_, let name): return "skip to_last \(name)"
    }
  }
}

/// One `name: expr` of an `emit` block.
public struct EmitField: Hashable, Sendable {
  /// The output field name.
  public var name: String
  /// Its value, evaluated once per match with the match's last event as the current event.
  public var value: Expr

  /// Creates an emitted field.
  public init(name: String, value: Expr) {
    self.name = name
    self.value = value
  }
}

/// `suppress DURATION [by expr]`: after an alert is written, equal alerts (same rule, same
/// suppression key) within `duration` of it are counted instead of written.
public struct SuppressionSpec: Hashable, Sendable {
  /// How long after a written alert equal alerts are held back (positive).
  public var duration: EventDuration
  /// The suppression key, evaluated on the match like an `emit` value; `nil` means the
  /// partition key.
  public var key: Expr?

  /// Creates a suppression clause.
  public init(duration: EventDuration, key: Expr? = nil) {
    self.duration = duration
    self.key = key
  }
}

extension RuleSpec {
  /// Per step, whether any expression of the rule reads one of its fields through the match
  /// (`step.field`, or an aggregate of a field: `sum(step.amount)`) — in a condition, an `until`,
  /// `emit`, `on timeout emit` or `suppress … by` — or may read it as the match's last event:
  /// `emit`, `on timeout emit` and `suppress … by` evaluate a bare field on the match's last
  /// bound event, which can be any step's, so one such read marks every step. A step whose
  /// fields nothing reads (`count(step)` and `time(step)` read none) needs its events'
  /// identities and times only: its match-buffer nodes keep no field values (``RuleMatcher``).
  public var stepFieldsRead: [Bool] {
    var read = Array(repeating: false, count: steps.count)
    func mark(_ expression: Expr, readsLastEvent: Bool) {
      expression.visit { expr in
        switch expr {
        case .stepField(let step, _), .aggregate(_, let step, _?):
          if read.indices.contains(step) { read[step] = true }
        case .field where readsLastEvent:
          read = Array(repeating: true, count: steps.count)
        default: break
        }
      }
    }
    for step in steps {
      if let condition = step.condition { mark(condition, readsLastEvent: false) }
      if let until = step.quantifier.until { mark(until, readsLastEvent: false) }
    }
    for group in groups { if let until = group.quantifier.until { mark(until, readsLastEvent: false) } }
    for field in emit + (onTimeout ?? []) { mark(field.value, readsLastEvent: true) }
    if let key = suppression?.key { mark(key, readsLastEvent: true) }
    return read
  }
}
