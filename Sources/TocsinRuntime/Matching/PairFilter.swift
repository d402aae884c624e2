import TocsinCore
import TocsinExpressions

/// What a pair queue can learn from an event alone about a later step's condition that reads the
/// first event (`b where type == "purchase" and currency != a.currency and amount > 2000`): that
/// it is false for every waiting partial match of the key, with no error counted, so the walk
/// over them (``RunQueue/walkLive(key:_:)``: a cache miss per entry, written a window ago) can be
/// left out.
///
/// The condition is read as its conjuncts (`c1 and c2 and …`, evaluated left to right, each
/// false at the first that is not `true`). Those that read nothing of the first event (*free*
/// conjuncts) have the same value for every partial match, so they are evaluated once, before
/// the walk, without recording errors (``EvalContext/withoutRecording(_:)``). When one is false
/// without an error, every partial match's evaluation stops at it or earlier; the walk changes
/// nothing, unless a conjunct before it that reads the first event would record an error for
/// some partial match, which the general walk counts (type errors are counted per evaluation).
/// So a free conjunct rules the walk out only when every conjunct before it is free or a
/// *checked* comparison: `x == a.f` or `x != a.f` (either order), with `x` a field of the event or
/// a constant. Such a comparison errs only when both values are not null and of different kinds
/// (a string against a number, say), which the queue answers for all its entries at once: it
/// keeps, per kept slot, the kinds of the values it has held (``RunQueue/keptKinds(_:)``). A
/// conjunct of any other form that reads the first event ends the list of usable free conjuncts.
///
/// Exact: the walk is left out only when the general walk would evaluate the condition to false
/// for every partial match and count nothing; `PairQueueTests` compares both, type errors too.
///
/// A class with constant properties, read unretained by the walk (as ``Condition`` is): a struct
/// of two arrays copied out of the queue's pair retained and released both on every event.
final class PairFilter {
  /// A comparison conjunct that reads the first event and cannot err when the kinds agree.
  struct Check {
    /// The event's side: a slot of the event, or a constant.
    let slot: Int?
    let constant: Value
    /// The first event's side: a position among the queue's kept values.
    let kept: Int
  }

  /// The free conjuncts usable as filters, in the condition's order, each with the number of
  /// ``checks`` that come before it in the condition. Unretained, for the per-event test
  /// (``rulesOut(_:context:kinds:)``): reading a condition out of the array retained and released
  /// it per conjunct and event; ``conditions`` holds the references.
  let conjuncts: [(condition: Unmanaged<Condition>, checksBefore: Int)]
  /// The conjuncts' conditions.
  private let conditions: [Condition]
  /// The checked comparisons before the last usable free conjunct, in the condition's order.
  let checks: [Check]

  private init(conjuncts: [(condition: Condition, checksBefore: Int)], checks: [Check]) {
    self.conditions = conjuncts.map(\.condition)
    self.conjuncts = conjuncts.map { (.passUnretained($0.condition), $0.checksBefore) }
    self.checks = checks
  }

  /// The kept positions whose value kinds the queue must track (those ``checks`` read).
  var trackedPositions: [Int] { Array(Set(checks.map(\.kept))).sorted() }

  /// The filter of `condition`, a condition that reads the first event, for a queue keeping
  /// `kept` slots of it; `nil` when no conjunct can be used. `compile` compiles a free conjunct.
  static func make(
    _ condition: Expr, kept: [SlotIndex], projection: FieldProjection, compile: (Expr) -> Condition
  ) -> PairFilter? {
    let (usable, checks) = plan(condition) { check($0, kept: kept, projection: projection) }
    guard !usable.isEmpty else { return nil }
    return PairFilter(conjuncts: usable.map { (compile($0.conjunct), $0.checksBefore) }, checks: checks)
  }

  /// The free conjuncts of `condition` a filter may use, in order, each with the number of
  /// checked comparisons before it, and those comparisons (as `check` makes them; `nil` for a
  /// conjunct that reads the first event and cannot be checked, which ends the list).
  static func plan<C>(_ condition: Expr, check: (Expr) -> C?) -> (
    usable: [(conjunct: Expr, checksBefore: Int)], checks: [C]
  ) {
    var usable: [(conjunct: Expr, checksBefore: Int)] = []
    var checks: [C] = []
    var pending: [C] = []
    for conjunct in conjuncts(of: condition) {
      if !conjunct.readsBindings {
        checks += pending
        pending = []
        usable.append((conjunct, checks.count))
      } else if let made = check(conjunct) {
        pending.append(made)
      } else {
        break
      }
    }
    return (usable, checks)
  }

  /// The conjuncts of a pair's condition that the event alone is tested on before a walk, for
  /// `tocsin explain` (the checked comparisons judged by their shape, without a queue's slots).
  static func usableConjuncts(of condition: Expr) -> [Expr] {
    guard condition.readsBindings else { return [] }
    return plan(condition) { checkedSides($0).map { _ in () } }.usable.map(\.conjunct)
  }

  /// The two sides of a checked comparison (`x == a.f` or `x != a.f`, either way round): the
  /// first event's field and the event's side, a field or a constant; `nil` for any other
  /// conjunct.
  private static func checkedSides(_ conjunct: Expr) -> (first: FieldPath, event: Expr)? {
    guard case .binary(let op, let l, let r) = conjunct, op == .equal || op == .notEqual else { return nil }
    switch (l, r) {
    case (.field, .stepField(0, let path)), (.constant, .stepField(0, let path)): return (path, l)
    case (.stepField(0, let path), .field), (.stepField(0, let path), .constant): return (path, r)
    default: return nil
    }
  }

  /// `condition`'s conjuncts, left to right (`and` is evaluated left to right, so
  /// `(c1 and c2) and c3` and `c1 and (c2 and c3)` are both `c1, c2, c3`).
  static func conjuncts(of condition: Expr) -> [Expr] {
    if case .and(let l, let r) = condition { return conjuncts(of: l) + conjuncts(of: r) }
    return [condition]
  }

  /// `conjunct` as a checked comparison, or `nil` when it is not one.
  private static func check(_ conjunct: Expr, kept: [SlotIndex], projection: FieldProjection) -> Check? {
    guard let (path, side) = checkedSides(conjunct), let slot = projection.existingSlot(for: path),
      let position = kept.firstIndex(of: slot)
    else { return nil }
    switch side {
    case .field(let field):
      guard let eventSlot = projection.existingSlot(for: field) else { return nil }
      return Check(slot: eventSlot.index, constant: .null, kept: position)
    case .constant(let value): return Check(slot: nil, constant: value, kept: position)
    default: return nil
    }
  }

  /// Whether the condition is false for every partial match of a queue whose kept values have
  /// had the kinds `kinds` gives (per kept position), and no evaluation would count an error.
  /// Evaluates the free conjuncts in order until one is not `true`; records nothing in
  /// `context`.
  func rulesOut(_ event: EventRecord, context: EvalContext, kinds: (Int) -> UInt8) -> Bool {
    for i in conjuncts.indices {
      let (condition, checksBefore) = (conjuncts[i].condition, conjuncts[i].checksBefore)
      let holds = context.withoutRecording {
        condition._withUnsafeGuaranteedRef { $0.holds(event, nil, context) }
      }
      // An error: the general walk would count it (once per partial match that reaches it).
      guard let holds else { return false }
      if holds { continue }
      for c in 0..<checksBefore {
        let check = checks[c]
        let value = check.slot.map { event.slots[$0] } ?? check.constant
        if !Self.cannotErr(value, against: kinds(check.kept)) { return false }
      }
      return true
    }
    return false
  }

  // MARK: - Kinds of values

  /// The kind of `value` as `==` and `!=` see it, one bit per kind (none for null: a comparison
  /// with null is false, never an error). Numbers are one kind; a list compares with nothing.
  @inline(__always)
  static func kind(of value: Value) -> UInt8 {
    switch value {
    case .null: return 0
    case .bool: return 1
    case .int, .float: return 2
    case .string: return 4
    case .time: return 8
    case .duration: return 16
    case .list: return listKind
    }
  }

  /// The kind of a list, which `==` compares with nothing (an error against any value).
  private static var listKind: UInt8 { 32 }

  /// Whether `value` compared by `==`/`!=` with any value of the kinds `kinds` errs never.
  static func cannotErr(_ value: Value, against kinds: UInt8) -> Bool {
    let k = kind(of: value)
    return k == 0 || kinds == 0 || (kinds == k && k != listKind)
  }
}
