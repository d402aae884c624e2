import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO

extension Benchmark {
  /// What the condition pass measured: every step condition of every rule evaluated on every
  /// event of a sample, with the allocation counter on.
  public struct ConditionFigures: Codable, Equatable, Sendable {
    /// Condition evaluations counted.
    public var evaluations: Int
    /// Allocation calls during them.
    public var allocations: UInt64

    /// Allocations per evaluation.
    public var perEvaluation: Double { evaluations == 0 ? 0 : Double(allocations) / Double(evaluations) }
  }

  /// The condition pass: decodes up to `sampleEvents` events (not counted), binds every step of
  /// each rule to the first event (so `step.field` reads and aggregates have something to read),
  /// then, with `probe` counting, evaluates every rule's compiled step and `until` conditions on
  /// every sampled event. The hot-path rule of DESIGN §4 is that this allocates nothing:
  /// numbers, comparisons, string equality, regexes (PCRE2 match data allocated once) and
  /// functions work on values in place.
  static func conditionPass(
    programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration, probe: AllocationProbe,
    sampleEvents: Int = 200_000
  ) throws -> ConditionFigures {
    var decoder = EventDecoder(ruleProjection: programs.projection, options: configuration.ingest)
    var events: [EventRecord] = []
    events.reserveCapacity(sampleEvents)
    let reader = Replay.memoryReader(input, maxLineBytes: configuration.maxLineBytes)
    var sequence: UInt64 = 0
    while events.count < sampleEvents, let line = try reader.nextLine() {
      if let event = try? decoder.decode(line.bytes, lineNumber: line.number, sequence: sequence) {
        events.append(event)
        sequence += 1
      }
    }
    guard let first = events.first else { return ConditionFigures(evaluations: 0, allocations: 0) }
    // Per rule: a chain binding every step to the first event, and the compiled conditions.
    let rules: [(bindings: MatchNode?, predicates: [Condition], context: EvalContext)] =
      programs.rules.map { program in
        var node: MatchNode? = nil
        for step in program.spec.steps.indices { node = MatchNode(step: step, event: first, previous: node) }
        let context = EvalContext()
        context.key = .string("k")
        return (node, (program.stepConditions + program.untilConditions).compactMap { $0 }, context)
      }
    var evaluations = 0
    var holds = 0
    probe.start()
    for event in events {
      for rule in rules {
        for predicate in rule.predicates {
          if predicate.holds(event, rule.bindings, rule.context) { holds += 1 }
          evaluations += 1
        }
      }
    }
    let allocations = probe.stop()
    // Keep `holds` observable so the evaluations are not optimized away.
    if holds < 0 { print(holds) }
    return ConditionFigures(evaluations: evaluations, allocations: allocations)
  }
}
