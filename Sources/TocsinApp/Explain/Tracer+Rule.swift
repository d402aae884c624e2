import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinRuntime

/// One rule's traced state: a matcher, one ``PartialMatches`` per key, and stable numbers for
/// partial matches (by the node holding their last bound event, so branches that bound the same
/// events share a number).
struct TracedRule {
  let program: RuleProgram
  let matcher: RuleMatcher
  private var keySpace: KeySpace
  private var states: [String: PartialMatches] = [:]
  private var keyOrder: [String] = []
  private let context = EvalContext()
  private let scratch = MatcherScratch()
  private var numbers: [ObjectIdentifier: (node: MatchNode, number: Int)] = [:]
  private var nextNumber = 1

  init(program: RuleProgram) {
    self.program = program
    // The general walk: a trace shows each partial match's own chain being extended, which a
    // shared run (an optimisation with the same matches) does not build.
    matcher = RuleMatcher(program: program, sharingRuns: false)
    keySpace = KeySpace(slots: program.keySlots)
  }

  /// The event's key text for this rule, `nil` when it lacks a key field.
  mutating func keyText(of event: EventRecord) -> String? {
    guard let id = keySpace.key(of: event) else { return nil }
    return keySpace.text(of: id)
  }

  /// Keys with open or held partial matches, in first-seen order.
  func openKeys() -> [String] { keyOrder.filter { !(states[$0]?.isEmpty ?? true) } }

  // MARK: - Steps

  /// Feeds `event` and describes what happened, one line per fact.
  mutating func process(_ event: EventRecord, keyText: String, conditions: inout TracedConditions) -> [String] {
    var state = states[keyText] ?? PartialMatches()
    if states[keyText] == nil { keyOrder.append(keyText) }
    context.key = .string(keyText)
    var lines: [String] = []

    // 1) Timeouts by the event's time (the matcher does this first too).
    let before = state.partials
    var emitted: [(MatchNode, MatchOutcome)] = []
    matcher.advanceTime(to: event.time, &state) { emitted.append(($0, $1)) }
    lines += expired(before, remaining: state.partials, at: event.time)
    lines += emitted.map { completion($0.0, $0.1, keyText: keyText) }
    emitted.removeAll()

    // 2) The conditions each partial match and the start are tested against.
    let open = state.partials
    var shown = Set<ObjectIdentifier>()
    for computation in open where shown.insert(ObjectIdentifier(computation.bindings)).inserted {
      let states = open.filter { $0.bindings === computation.bindings }.map { "\(program.nfa[$0.state].id) \(program.nfa[$0.state].name)" }
      lines.append("\(label(computation.bindings)) at \(states.joined(separator: ", "))")
      for s in open where s.bindings === computation.bindings {
        lines += conditions.describe(rule: program, from: s.state, event: event, bindings: s.bindings, context: context)
          .map { "  " + $0 }
      }
    }
    lines.append("start \(program.nfa.start) \(program.nfa[program.nfa.start].name)")
    lines += conditions.describe(rule: program, from: program.nfa.start, event: event, bindings: nil, context: context)
      .map { "  " + $0 }

    // 3) Process, then compare.
    let heldBefore = state.completed.count
    matcher.process(event, &state, context: context, scratch: scratch) { emitted.append(($0, $1)) }
    lines += changes(from: open, to: state.partials, event: event, completed: emitted.map(\.0), conditions: &conditions)
    if state.completed.count > heldBefore {
      lines.append("held: \(state.completed.count) complete match(es) wait for earlier-starting partial matches (\(program.spec.skip))")
    }
    lines += emitted.map { completion($0.0, $0.1, keyText: keyText) }
    if state.partials.isEmpty && emitted.isEmpty && open.isEmpty { lines.append("nothing started") }
    states[keyText] = state
    return lines
  }

  /// End of input: everything open times out, held matches are released.
  mutating func finish(keyText: String, conditions: inout TracedConditions) -> [String] {
    guard var state = states[keyText] else { return [] }
    context.key = .string(keyText)
    let before = state.partials
    var emitted: [(MatchNode, MatchOutcome)] = []
    matcher.finish(&state) { emitted.append(($0, $1)) }
    var lines = expired(before, remaining: [], at: .infinity)
    lines += emitted.map { completion($0.0, $0.1, keyText: keyText) }
    states[keyText] = state
    return lines
  }

  // MARK: - Describing changes

  private mutating func expired(_ before: [Computation], remaining: [Computation], at time: EventTime) -> [String] {
    var lines: [String] = []
    var seen = Set<ObjectIdentifier>()
    for c in before where !remaining.contains(where: { $0.bindings === c.bindings && $0.state == c.state }) {
      guard seen.insert(ObjectIdentifier(c.bindings)).inserted else { continue }
      let deadline = matcher.deadline(of: c).map { " (deadline \($0.rfc3339))" } ?? ""
      let why = program.nfa[c.state].kind == .pending ? "window closed with no forbidden event" : "timed out"
      lines.append("\(label(c.bindings)) \(why)\(deadline)")
    }
    return lines
  }

  private mutating func changes(
    from open: [Computation], to after: [Computation], event: EventRecord, completed: [MatchNode],
    conditions: inout TracedConditions
  ) -> [String] {
    var lines: [String] = []
    var seen = Set<ObjectIdentifier>()
    for c in open where seen.insert(ObjectIdentifier(c.bindings)).inserted {
      let b = c.bindings
      let waiting = after.filter { $0.bindings === b }
      let extended = after.filter { $0.bindings.previous === b && $0.bindings.event.identity == event.identity }
      let completes = completed.contains { $0 === b || $0.previous === b }
      for w in waiting { lines.append("\(label(b)) skips the event, waits at \(name(w.state))") }
      for x in extended { lines.append("\(label(b)) extended by \(stepName(x.bindings.step)) → \(label(x.bindings)) at \(name(x.state))") }
      if waiting.isEmpty && extended.isEmpty && !completes {
        lines.append("\(label(b)) discarded: \(discardReason(c, event: event, completed: completed, conditions: &conditions))")
      }
    }
    for x in after where x.bindings.previous == nil && x.bindings.event.identity == event.identity {
      lines.append("started \(label(x.bindings)) at \(name(x.state))")
    }
    return lines
  }

  private func discardReason(
    _ c: Computation, event: EventRecord, completed: [MatchNode], conditions: inout TracedConditions
  ) -> String {
    for step in TracedConditions.steps(reachableFrom: c.state, in: program.nfa)
    where program.spec.steps[step].kind != .take {
      if conditions.holds(rule: program, step: step, event: event, bindings: c.bindings, context: context) {
        let kind = program.spec.steps[step].kind == .notNext ? "not_next" : "not_followed_by"
        return "stopped by \(kind) \(program.spec.steps[step].name)"
      }
    }
    if !completed.isEmpty && program.spec.skip != .noSkip {
      return "pruned by \(program.spec.skip) after the match completed"
    }
    return "no edge applies: the event did not satisfy the next step and strict contiguity (next / consecutive) allows no event in between"
  }

  private func completion(_ node: MatchNode, _ outcome: MatchOutcome, keyText: String) -> String {
    let ids = node.nodesInOrder.map(\.event.identity)
    let isTimeout: Bool
    let kind: String
    switch outcome {
    case .complete: (isTimeout, kind) = (false, "completed")
    case .absence(let deadline): (isTimeout, kind) = (false, "completed by absence at \(deadline.rfc3339)")
    case .timeout(let deadline): (isTimeout, kind) = (true, "timed out at \(deadline.rfc3339) (on timeout emit)")
    }
    let id = Alert.makeID(rule: program.name, isTimeout: isTimeout, keyText: keyText, identities: ids)
    return "\(kind): \(bound(node)) → alert \(id)"
  }

  // MARK: - Names

  private mutating func label(_ node: MatchNode) -> String {
    let id = ObjectIdentifier(node)
    if numbers[id] == nil {
      numbers[id] = (node, nextNumber)
      nextNumber += 1
    }
    return "#\(numbers[id]?.number ?? 0) \(bound(node))"
  }

  /// `[first: p1, burst: p2 p3]`.
  private func bound(_ node: MatchNode) -> String {
    var groups: [(step: Int, ids: [String])] = []
    for n in node.nodesInOrder {
      if let last = groups.last, last.step == n.step {
        groups[groups.count - 1].ids.append(n.event.identity)
      } else {
        groups.append((n.step, [n.event.identity]))
      }
    }
    return "[" + groups.map { "\(stepName($0.step)): \($0.ids.joined(separator: " "))" }.joined(separator: ", ") + "]"
  }

  private func stepName(_ step: Int) -> String {
    step >= 0 && step < program.spec.steps.count ? program.spec.steps[step].name : "?"
  }

  private func name(_ state: StateID) -> String { "\(state) \(program.nfa[state].name)" }
}
