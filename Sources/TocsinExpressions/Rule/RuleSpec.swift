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
  /// What happens to other partial matches after a match is emitted.
  public var skip: SkipStrategy
  /// `emit { name: expr, … }` in written order.
  public var emit: [EmitField]
  /// Where the rule was written (path), for messages.
  public var sourcePath: String
  /// 1-based line of the `rule` keyword.
  public var sourceLine: Int

  /// Creates a rule spec.
  public init(
    name: String, severity: Severity = .medium, description: String? = nil,
    keyFields: [FieldPath] = [], steps: [StepSpec], within: EventDuration? = nil,
    skip: SkipStrategy = .noSkip, emit: [EmitField] = [], sourcePath: String = "",
    sourceLine: Int = 0
  ) {
    self.name = name
    self.severity = severity
    self.description = description
    self.keyFields = keyFields
    self.steps = steps
    self.within = within
    self.skip = skip
    self.emit = emit
    self.sourcePath = sourcePath
    self.sourceLine = sourceLine
  }
}

/// One step of a pattern.
public struct StepSpec: Hashable, Sendable {
  /// The step's name (`first`, `burst`).
  public var name: String
  /// How this step relates to the previous one. Ignored for the first step.
  public var contiguity: Contiguity
  /// How many events the step takes.
  public var quantifier: Quantifier
  /// The conjunction of the step's `where` clauses; `nil` accepts every event.
  public var condition: Expr?

  /// Creates a step.
  public init(
    name: String, contiguity: Contiguity = .relaxed, quantifier: Quantifier = .once,
    condition: Expr? = nil
  ) {
    self.name = name
    self.contiguity = contiguity
    self.quantifier = quantifier
    self.condition = condition
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
  /// Contiguity between the events of a looping step: relaxed by default, as in Flink.
  public var inner: Contiguity

  /// Creates a quantifier.
  public init(min: Int, max: Int?, inner: Contiguity = .relaxed) {
    self.min = min
    self.max = max
    self.inner = inner
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
    switch max {
    case 1 where min == 1: return "once"
    case let m? where m == min: return "times \(min)"
    case let m?: return "times \(min)..\(m)"
    case nil: return "times \(min)+"
    }
  }
}

/// What happens after a match is emitted (Flink CEP's after-match skip strategies).
public enum SkipStrategy: Hashable, Sendable, CustomStringConvertible {
  /// Every match is emitted; nothing is discarded.
  case noSkip
  /// Partial matches that started at or before the match's last event are discarded.
  case skipPastLastEvent

  public var description: String {
    switch self {
    case .noSkip: return "no_skip"
    case .skipPastLastEvent: return "skip past_last_event"
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
