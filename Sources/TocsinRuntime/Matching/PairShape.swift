import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The shape of a rule whose partial matches are single events waiting for a second one:
/// `begin a where A followed_by_any b where B within W`, `… followed_by b …` or `… next b …`,
/// without a skip strategy, or with `skip to_next` when `B` reads nothing of `a` ("any later
/// purchase of the card over twenty times an earlier one, within a day"; "a purchase, then one in
/// another currency within six hours"; "two logins in a row from different cities").
///
/// Every event that satisfies `A` starts a partial match, which waits for `b` in one state
/// until its window closes. `followed_by_any` lets it take a `b` (emitting the match `(a, b)`)
/// and still wait for the next one, so nothing but its time-out ends it; `followed_by` ends it
/// with its first match (``consumes``); `next` with the key's next event, whatever it is
/// (``strict``). A `not_followed_by n` step between the two
/// (``negation``: "a login, no logout, then a large purchase") ends it when an `n` comes first.
/// So a key's partial matches are its `a` events of the last `W` but those a match or an `n`
/// ended, oldest first, all in one state, and over all keys they are a FIFO by start with
/// holes: the layout of a run queue (`RunQueue`), with the later steps' conditions evaluated
/// against each live entry's kept values and ended entries marked.
///
/// Eligibility is decided on the compiled automaton, state by state, as ``SharedRun``'s is:
/// anything the compiler builds differently uses the general matcher.
struct PairShape {
  /// The state a partial match waits in for its second event.
  let waiting: StateID
  /// The second event's step: 1, or 2 after a `not_followed_by` step (``negation``).
  let second: Int
  /// Whether a match ends its partial match (`followed_by`, or `skip to_next`), rather than
  /// leaving it waiting (`followed_by_any`).
  let consumes: Bool
  /// The `not_followed_by` step between the two (`begin a not_followed_by n followed_by b`), if
  /// any: an event it takes ends every partial match it is tested against (after any match
  /// that partial match completes with the same event).
  let negation: Int?
  /// Whether the second step is `next` (strict contiguity): the key's next event either
  /// completes a partial match or ends it, so a key has at most one, its newest `a`, and only
  /// that one is tested (never with a negation between).
  let strict: Bool

  /// The pair shape of `program`, or `nil` when its partial matches are not single waiting
  /// events.
  static func detect(_ program: RuleProgram) -> PairShape? {
    let spec = program.spec
    guard spec.steps.count == 2 || spec.steps.count == 3, spec.groups.isEmpty, spec.withinBetweenSteps == nil,
      spec.within != nil, spec.onTimeout == nil
    else { return nil }
    let second = spec.steps.count - 1
    let negation = second == 2 ? 1 : nil
    let (a, b) = (spec.steps[0], spec.steps[second])
    // `skip to_next` drops the partial match each emitted match started from. When the second
    // step's condition reads nothing of `a`, an event it takes completes every partial match of
    // the key at once, oldest first, so none is ever held back behind an earlier one still open,
    // and the rule is a consuming pair. (Reading `a`, a later entry's match would wait for the
    // older entries to end: the general state's held matches.)
    let skipsToNext = spec.skip == .skipToNext && negation == nil && !(b.condition?.readsBindings ?? false)
    guard spec.skip == .noSkip || skipsToNext else { return nil }
    guard a.kind == .take, a.quantifier == .once, b.kind == .take, b.quantifier == .once,
      b.contiguity == .nonDeterministic || b.contiguity == .relaxed || (b.contiguity == .strict && negation == nil)
    else { return nil }
    if let n = negation {
      let step = spec.steps[n]
      guard step.kind == .notFollowedBy, step.quantifier == .once else { return nil }
      if let condition = step.condition, aggregates(condition) { return nil }
    }
    // The start reads only the event; the later steps read the first's fields and time but
    // never aggregate (an entry keeps values, not a run of events).
    if let condition = a.condition, condition.readsBindings { return nil }
    if let condition = b.condition, aggregates(condition) { return nil }

    let nfa = program.nfa
    let start = nfa.start
    guard let waiting = nfa[start].edges.first(where: { $0.action == .take })?.target,
      waiting != start, waiting != nfa.final, nfa[start].kind == .normal, nfa[waiting].kind == .normal,
      nfa[start].edges == [NFA.Edge(.take, to: waiting, when: .take(0)), NFA.Edge(.ignore, to: start, when: .not(.take(0)))]
    else { return nil }
    var edges = nfa[waiting].edges
    // The negation: a proceed edge into a stop state that its own event keeps.
    if let n = negation {
      guard let last = edges.last, last.action == .proceed, last.condition == .take(n), nfa[last.target].kind == .stop,
        nfa[last.target].edges == [NFA.Edge(.take, to: last.target, when: .take(n))]
      else { return nil }
      edges.removeLast()
    }
    guard edges.first == NFA.Edge(.take, to: nfa.final, when: .take(second)) else { return nil }
    // `followed_by_any` waits whatever the event; `followed_by` only when it takes nothing;
    // `next` never (an event it does not take ends the partial match).
    switch edges.dropFirst() {
    case [NFA.Edge(.ignore, to: waiting, when: .always)]:
      return PairShape(waiting: waiting, second: second, consumes: skipsToNext, negation: negation, strict: false)
    case [NFA.Edge(.ignore, to: waiting, when: .not(.take(second)))]:
      return PairShape(waiting: waiting, second: second, consumes: true, negation: negation, strict: false)
    case [] where b.contiguity == .strict:
      return PairShape(waiting: waiting, second: second, consumes: true, negation: nil, strict: true)
    default: return nil
    }
  }

  /// Whether `condition` aggregates a step.
  private static func aggregates(_ condition: Expr) -> Bool {
    var found = false
    condition.visit { if case .aggregate = $0 { found = true } }
    return found
  }

  /// The fields of step 0 that `condition` reads (`a.field`).
  static func firstStepFields(_ condition: Expr) -> [FieldPath] {
    var out: [FieldPath] = []
    condition.visit { if case .stepField(0, let path) = $0 { out.append(path) } }
    return out
  }

  /// Whether `condition` reads step 0's time (`time(a)`).
  static func readsFirstStepTime(_ condition: Expr) -> Bool {
    var found = false
    condition.visit { if case .stepTime(0) = $0 { found = true } }
    return found
  }
}
