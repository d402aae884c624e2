import TocsinCore
import TocsinExpressions

/// The index of a state in an ``NFA``.
public struct StateID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The most states one rule's automaton may have.
  public static let limit = 1 << 20
  /// Position in ``NFA/states``.
  public var rawValue: UInt32

  /// Creates a state id; `index` must be below ``limit``.
  public init(_ index: Int) {
    precondition(index >= 0 && index < StateID.limit, "state index \(index) out of range")
    rawValue = UInt32(index)
  }

  /// The index as an `Int`.
  @inlinable public var index: Int { Int(rawValue) }
  public static func < (lhs: StateID, rhs: StateID) -> Bool { lhs.rawValue < rhs.rawValue }
  public var description: String { "[\(rawValue)]" }
}

/// An immutable automaton for one rule, with Apache Flink CEP's transition model.
///
/// Every state has a list of edges, each with an action:
/// - **take**: consume the event into the state's step and move to `target`;
/// - **ignore**: skip the event (relaxed contiguity) and move to `target`;
/// - **proceed**: an ε-move to `target`, evaluated against the *same* event.
///
/// A *computation* (partial match) sits in one state. For each event the runtime follows every
/// proceed edge whose condition holds, then performs every take and ignore edge whose condition
/// holds, so one partial match can branch. After a take, if the target can reach ``final`` by
/// proceed edges alone, the match is complete. The start state is special: a computation there
/// that has not taken an event never dies and never ignores, so every event may start a match.
///
/// The automaton is shared by every key; per-key state lives in the runtime
/// (`PartialMatches`), the way regex-automata separates an NFA from its `Cache`.
public struct NFA: Sendable {
  /// All states; `states[i].id == StateID(i)`.
  public var states: [State]
  /// Where every match begins.
  public var start: StateID
  /// The accepting state. It has no edges.
  public var final: StateID

  /// Creates an automaton. Use `NFACompiler` rather than building one by hand.
  public init(states: [State], start: StateID, final: StateID) {
    self.states = states
    self.start = start
    self.final = final
  }

  /// The state with id `id`.
  @inlinable public subscript(id: StateID) -> State { states[id.index] }

  /// One state.
  public struct State: Sendable, Hashable {
    /// This state's id.
    public var id: StateID
    /// A readable name: the step name, with `#k` for the k-th copy of a `times` step and
    /// `*` for a loop (e.g. `burst#3`, `burst*`, `burst*ignored`); `$final` for the final state.
    public var name: String
    /// The step whose events this state takes; `nil` for states without take edges.
    public var step: Int?
    /// What reaching the state means.
    public var kind: StateKind
    /// Outgoing edges, in the order the runtime evaluates them.
    public var edges: [Edge]

    /// Creates a state.
    public init(id: StateID, name: String, step: Int?, kind: StateKind = .normal, edges: [Edge] = []) {
      self.id = id
      self.name = name
      self.step = step
      self.kind = kind
      self.edges = edges
    }
  }

  /// The role of a state (Flink's `State.StateType`).
  public enum StateKind: String, Sendable, Hashable {
    /// An ordinary state.
    case normal
    /// The accepting state: a computation that reaches it is a complete match.
    case final
    /// A `not_next`/`not_followed_by` event was seen: a computation that takes an event into
    /// this state is discarded together with every branch it produced for the same event.
    case stop
    /// Absence detection (`not_followed_by` last, with `within`): a computation waiting here
    /// becomes a complete match when its window closes.
    case pending
  }

  /// A transition.
  public struct Edge: Sendable, Hashable {
    /// What happens to the event.
    public var action: Action
    /// Where the computation goes.
    public var target: StateID
    /// When the edge applies.
    public var condition: EdgeCondition

    /// Creates an edge.
    public init(_ action: Action, to target: StateID, when condition: EdgeCondition) {
      self.action = action
      self.target = target
      self.condition = condition
    }
  }

  /// The three kinds of transition.
  public enum Action: String, Sendable, Hashable {
    /// Consume the event into the source state's step.
    case take
    /// Skip the event.
    case ignore
    /// ε-move: evaluate the target's edges against the same event.
    case proceed
  }

  /// The condition guarding an edge, built from references to steps' compiled conditions so
  /// that each condition is compiled once and `tocsin explain` can print it.
  public enum EdgeCondition: Sendable, Hashable {
    /// Always applies.
    case always
    /// The step's `where` condition holds (a step with no `where` accepts everything).
    case take(Int)
    /// The step's `until` condition holds (false when the step has none).
    case until(Int)
    /// The inner condition does not hold.
    indirect case not(EdgeCondition)
    /// Both hold (the right side is evaluated only if the left holds).
    indirect case and(EdgeCondition, EdgeCondition)

    /// `lhs and rhs`, simplifying `always`.
    public static func both(_ lhs: EdgeCondition, _ rhs: EdgeCondition) -> EdgeCondition {
      if lhs == .always { return rhs }
      if rhs == .always { return lhs }
      return .and(lhs, rhs)
    }

    /// `not c`, simplifying double negation.
    public static func negation(_ c: EdgeCondition) -> EdgeCondition {
      if case .not(let inner) = c { return inner }
      return .not(c)
    }
  }
}
