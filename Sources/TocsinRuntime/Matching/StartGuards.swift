import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The rules an event could start a match of, decided by one table lookup per guarded field.
///
/// Most conditions that start a match test the event's type with a string equality
/// (`where type == "purchase" and …`). For every rule, the guard collects those equalities from
/// the steps a match can begin with; an event whose field holds none of the constants cannot
/// start a match of that rule, so for a key with nothing open the rule is skipped without
/// evaluating a condition (DESIGN §4's index of rules by the constant tests of their first
/// step). Rules with no such equality are always candidates and keep the quick check
/// (``RuleMatcher/mayStart(_:context:scratch:)``).
///
/// Soundness: a rule gets a guard only when *every* take edge reachable from the start state
/// through proceed edges (whatever their conditions) implies the condition of a step that has
/// one, so "no constant matches" implies "no take edge holds", which is exactly a negative quick
/// check. A guarded field holding a non-string value (a type error in the condition) makes the
/// rule a candidate, so the condition itself runs and the mismatch is counted.
struct StartGuards {
  /// One field that guards test, with the rules each of its constants admits.
  private struct Test {
    var slot: Int
    /// The constants, looked up through `table` (a `Dictionary<String, _>` lookup costs ~350
    /// instructions per event; this ~40).
    var constants: [String] = []
    var table = KeyTable()
    /// `rulesByConstant[i]`: the rules `constants[i]` admits.
    var rulesByConstant: [UInt64] = []
    /// Every rule guarded through this field: candidates when the field is not a string.
    var rules: UInt64 = 0

    init(slot: Int) { self.slot = slot }

    mutating func admit(_ constant: String, rule bit: UInt64) {
      let hash = table.hash(.string(constant))
      if let i = lookup(constant, hash: hash) {
        rulesByConstant[Int(i)] |= bit
      } else {
        table.insert(hash: hash, id: UInt32(constants.count))
        constants.append(constant)
        rulesByConstant.append(bit)
      }
      rules |= bit
    }

    @inline(__always)
    func lookup(_ value: String, hash: UInt64) -> UInt32? {
      constants.withUnsafeBufferPointer { stored in table.lookup(hash: hash) { stored[Int($0)] == value } }
    }

    @inline(__always)
    func rules(admittedBy value: String) -> UInt64 {
      guard let i = lookup(value, hash: table.hash(.string(value))) else { return 0 }
      return rulesByConstant[Int(i)]
    }
  }

  private var tests: [Test] = []
  /// Rules without a guard (always candidates).
  private var unguarded: UInt64 = 0

  /// The most rules guards track; the rest are always candidates.
  static let trackedRules = 64

  /// Guards for `programs`, resolving fields through their shared projection.
  init(programs: ProgramSet) {
    var testIndexBySlot: [Int: Int] = [:]
    for (r, program) in programs.rules.enumerated() where r < Self.trackedRules {
      let bit = UInt64(1) << UInt64(r)
      guard let alternatives = Self.guardAlternatives(program, projection: programs.projection) else {
        unguarded |= bit
        continue
      }
      for (slot, constant) in alternatives {
        let t: Int
        if let existing = testIndexBySlot[slot] {
          t = existing
        } else {
          t = tests.count
          tests.append(Test(slot: slot))
          testIndexBySlot[slot] = t
        }
        tests[t].admit(constant, rule: bit)
      }
    }
  }

  /// Bit `r` is set when rule `r` may start a match at `event` (always set for `r >= 64`'s
  /// callers to ignore: they must treat such rules as candidates).
  @inline(__always)
  func candidates(for event: EventRecord) -> UInt64 {
    var mask = unguarded
    for test in tests {
      switch event[SlotIndex(test.slot)] {
      case .string(let value): mask |= test.rules(admittedBy: value)
      case .null: break
      default: mask |= test.rules
      }
    }
    return mask
  }

  // MARK: - Extraction

  /// The `(slot, constant)` pairs one of which an event must match to start a match of
  /// `program`, or `nil` when some way to start is not guarded by a string equality.
  static func guardAlternatives(_ program: RuleProgram, projection: FieldProjection) -> [(Int, String)]? {
    var out: [(Int, String)] = []
    var seenSteps = Set<Int>()
    for condition in startTakeConditions(program.nfa) {
      var guarded = false
      for step in impliedSteps(condition) {
        guard let condition = program.spec.steps[step].condition,
          let (path, constants) = equalityGuard(condition),
          let slot = projection.existingSlot(for: path)
        else { continue }
        if seenSteps.insert(step).inserted {
          out.append(contentsOf: constants.map { (slot.index, $0) })
        }
        guarded = true
        break
      }
      if !guarded { return nil }
    }
    return out
  }

  /// The conditions of every take edge reachable from the start state through proceed edges.
  static func startTakeConditions(_ nfa: NFA) -> [NFA.EdgeCondition] {
    var frontier = [nfa.start]
    var visited = Set([nfa.start])
    var conditions: [NFA.EdgeCondition] = []
    var i = 0
    while i < frontier.count {
      let state = nfa.states[frontier[i].index]
      i += 1
      for edge in state.edges {
        switch edge.action {
        case .take: conditions.append(edge.condition)
        case .proceed:
          if visited.insert(edge.target).inserted { frontier.append(edge.target) }
        case .ignore: break
        }
      }
    }
    return conditions
  }

  /// Steps whose `where` must hold for `condition` to hold (its `take` conjuncts).
  static func impliedSteps(_ condition: NFA.EdgeCondition) -> [Int] {
    switch condition {
    case .take(let step): return [step]
    case .and(let l, let r): return impliedSteps(l) + impliedSteps(r)
    case .always, .until, .not: return []
    }
  }

  /// A top-level conjunct of `condition` of the form `field == "constant"` (or an `or` of such
  /// equalities on one field, as `field in ["a", "b"]` lowers to): the field and the constants.
  static func equalityGuard(_ condition: Expr) -> (FieldPath, [String])? {
    switch condition {
    case .and(let l, let r): return equalityGuard(l) ?? equalityGuard(r)
    default: return stringEqualities(condition)
    }
  }

  private static func stringEqualities(_ expr: Expr) -> (FieldPath, [String])? {
    switch expr {
    case .binary(.equal, .field(let path), .constant(.string(let s))),
      .binary(.equal, .constant(.string(let s)), .field(let path)):
      return (path, [s])
    case .or(let l, let r):
      guard let (a, x) = stringEqualities(l), let (b, y) = stringEqualities(r), a == b else { return nil }
      return (a, x + y)
    default:
      return nil
    }
  }
}
