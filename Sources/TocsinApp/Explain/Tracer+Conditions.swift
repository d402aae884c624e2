import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Every conjunct of every step condition, compiled separately for tracing (the engine compiles
/// each condition as one closure), with the field values it reads.
struct TracedConditions {
  /// One `and`-operand of a step's `where` (or its `until`).
  struct Conjunct {
    var text: String
    var evaluate: Evaluator
    /// The fields, step fields and aggregates it reads, to show their values.
    var reads: [(text: String, evaluate: Evaluator)]
  }

  private var compiler: ExprCompiler
  /// By rule name, then step: the `where` conjuncts and the `until` conjuncts.
  private var cache: [String: [(conditions: [Conjunct], until: [Conjunct])]] = [:]

  init(programs: ProgramSet) {
    compiler = ExprCompiler(projection: programs.projection)
  }

  /// The steps whose conditions the edges of `state`, and of the states its proceed edges
  /// reach, refer to — the conditions an event is tested against there — in step order.
  static func steps(reachableFrom state: StateID, in nfa: NFA) -> [Int] {
    var frontier = [state]
    var steps = Set<Int>()
    var i = 0
    func collect(_ c: NFA.EdgeCondition) {
      switch c {
      case .always: break
      case .take(let s), .until(let s): steps.insert(s)
      case .not(let inner): collect(inner)
      case .and(let l, let r):
        collect(l)
        collect(r)
      }
    }
    while i < frontier.count {
      for edge in nfa[frontier[i]].edges {
        collect(edge.condition)
        if edge.action == .proceed && !frontier.contains(edge.target) { frontier.append(edge.target) }
      }
      i += 1
    }
    return steps.sorted()
  }

  /// Lines such as `where amount > 10000 → true (amount = 12000)` for every step reachable from
  /// `state`.
  mutating func describe(
    rule program: RuleProgram, from state: StateID, event: EventRecord, bindings: MatchNode?,
    context: EvalContext
  ) -> [String] {
    var lines: [String] = []
    for step in Self.steps(reachableFrom: state, in: program.nfa) {
      let spec = program.spec.steps[step]
      let kind = spec.kind == .take ? "step" : spec.kind == .notNext ? "not_next" : "not_followed_by"
      let compiled = conjuncts(program)[step]
      if compiled.conditions.isEmpty && compiled.until.isEmpty {
        lines.append("\(kind) \(spec.name): no condition → true")
        continue
      }
      lines.append("\(kind) \(spec.name):")
      for (word, list) in [("where", compiled.conditions), ("until", compiled.until)] {
        for c in list { lines.append("  \(word) " + line(c, event: event, bindings: bindings, context: context)) }
      }
    }
    return lines
  }

  /// Whether step `step`'s whole condition holds (for naming the negation that stopped a
  /// partial match).
  mutating func holds(
    rule program: RuleProgram, step: Int, event: EventRecord, bindings: MatchNode?, context: EvalContext
  ) -> Bool {
    conjuncts(program)[step].conditions.allSatisfy { $0.evaluate(event, bindings, context).isTrue }
  }

  private func line(_ c: Conjunct, event: EventRecord, bindings: MatchNode?, context: EvalContext) -> String {
    let value = c.evaluate(event, bindings, context)
    var text = "\(c.text) → \(Self.show(value))"
    if !c.reads.isEmpty {
      text += "  (" + c.reads.map { "\($0.text) = \(Self.show($0.evaluate(event, bindings, context)))" }
        .joined(separator: ", ") + ")"
    }
    return text
  }

  private mutating func conjuncts(_ program: RuleProgram) -> [(conditions: [Conjunct], until: [Conjunct])] {
    if let cached = cache[program.name] { return cached }
    let names = program.spec.steps.map(\.name)
    let compiled = program.spec.steps.map { step in
      (conditions: step.condition.map { split($0) }.map { $0.map { compile($0, names) } } ?? [],
       until: step.quantifier.until.map { split($0) }.map { $0.map { compile($0, names) } } ?? [])
    }
    cache[program.name] = compiled
    return compiled
  }

  private mutating func compile(_ expr: Expr, _ names: [String]) -> Conjunct {
    var reads: [Expr] = []
    expr.visit { e in
      switch e {
      case .field, .stepField, .aggregate, .key:
        if !reads.contains(e) { reads.append(e) }
      default: break
      }
    }
    return Conjunct(
      text: expr.rendered(stepNames: names), evaluate: compiler.compileValue(expr),
      reads: reads.map { ($0.rendered(stepNames: names), compiler.compileValue($0)) })
  }

  /// `a and b and c` as `[a, b, c]`.
  private func split(_ expr: Expr) -> [Expr] {
    if case .and(let l, let r) = expr { return split(l) + split(r) }
    return [expr]
  }

  /// Strings quoted, everything else as the language writes it.
  static func show(_ value: Value) -> String {
    if case .string(let s) = value { return Expr.quoted(s) }
    return value.description
  }
}
