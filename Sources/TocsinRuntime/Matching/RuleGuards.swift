import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// Which rules an event could start a match of, and which it could take part in at all, decided
/// by one table lookup per guarded field.
///
/// Most conditions test the event's type with a string equality (`where type == "purchase" and
/// …`). For every rule, the *start guard* collects those equalities from the steps a match can
/// begin with; an event whose field holds none of the constants cannot start a match of that
/// rule, so for a key with nothing open the rule is skipped without evaluating a condition
/// (DESIGN §4's index of rules by the constant tests of their first step). Rules with no such
/// equality are always candidates and keep the quick check
/// (``RuleMatcher/mayStart(_:context:scratch:)``).
///
/// The *step guard* asks the wider question: could the event satisfy any take condition or
/// `until` of the rule, in any state? For a key whose partial matches all wait in transparent
/// states (``RuleMatcher/isTransparent``), an event that cannot changes nothing and is skipped.
/// Both masks come out of the same lookup of the field's value.
///
/// Soundness: a rule gets a start guard only when *every* take edge reachable from the start
/// state through proceed edges (whatever their conditions) implies the condition of a step that
/// has one, so "no constant matches" implies "no take edge holds", which is exactly a negative
/// quick check; a step guard only when every take and `until` atom of every edge is guarded. A
/// guarded field holding a non-string value (a type error in the condition) makes the rule a
/// candidate, so the condition itself runs and the mismatch is counted.
struct RuleGuards {
  /// The two masks of an event: bit `r` set when rule `r` may start a match at it (`start`), or
  /// may use it in any step (`step`). Rules from 64 on are never cleared: callers treat them as
  /// candidates.
  struct Candidates {
    var start: UInt64
    var step: UInt64
    /// Bit `r` set when the lookup shows the event starts a match of rule `r`, alone or with
    /// the rule's residual conjuncts (``residuals``): its start guard is exact
    /// (``startGuardIsExact(_:)``, or ``startResidual(_:)``) and a string value matched it, so
    /// the quick check would only repeat the test.
    var exactStart: UInt64 = 0
  }

  /// One field that guards test, with the rules each of its constants admits, as it is
  /// collected (``Test`` is the frozen form the per-event loop reads).
  private struct TestBuilder {
    let slot: Int
    var constants: [String] = []
    var table = KeyTable()
    var admitted: [Candidates] = []
    var rules = Candidates(start: 0, step: 0)

    init(slot: Int) { self.slot = slot }

    mutating func admit(_ constant: String, start: UInt64, step: UInt64) {
      let hash = table.hash(.string(constant))
      let i: Int
      if let found = constants.withUnsafeBufferPointer({ stored in
        table.lookup(hash: hash) { stored[Int($0)] == constant }
      }) {
        i = Int(found)
      } else {
        table.insert(hash: hash, id: UInt32(constants.count))
        constants.append(constant)
        admitted.append(Candidates(start: 0, step: 0))
        i = admitted.count - 1
      }
      admitted[i].start |= start
      admitted[i].step |= step
      rules.start |= start
      rules.step |= step
    }
  }

  /// One field that guards test, with the rules each of its constants admits. A class with
  /// constant properties, read through an unretained reference (``hotTests``): the per-event
  /// loop then does no reference counting (a copied `Test` struct, or a class with `var`
  /// properties, retained and released its arrays and table on every event).
  private final class Test {
    let slot: Int
    /// The constants, looked up through `table` (a `Dictionary<String, _>` lookup costs ~350
    /// instructions per event; this ~40).
    let constants: [String]
    let table: KeyTable
    /// `admitted[i]`: the rules `constants[i]` admits.
    let admitted: [Candidates]
    /// Every rule guarded through this field: candidates when the field is not a string.
    let rules: Candidates
    /// The constants that fit the small string form, by their bits (``SmallString``), in an
    /// open-addressing table of `smallMask + 1` entries; `nil` where the runtime's layout is
    /// not the expected one. A short value is looked up here by its bits: equal short strings
    /// have equal bits, and a short value equals no longer constant. A table of its own rather
    /// than `table` looked up by the bits' key hash: that hash is three mixing rounds, and the
    /// lookup through `table` cost W1 ~60 instructions per event more (cachegrind, +0.8%).
    let small: UnsafeMutablePointer<SmallEntry>?
    let smallMask: Int

    /// One constant of ``small``: its bits and its index in ``constants`` (-1: empty).
    struct SmallEntry {
      var word0: UInt64 = 0
      var word1: UInt64 = 0
      var index = -1
    }

    init(_ built: TestBuilder, smallStrings: Bool) {
      slot = built.slot
      constants = built.constants
      table = built.table
      admitted = built.admitted
      rules = built.rules
      var capacity = 4
      while capacity < 2 * constants.count { capacity *= 2 }
      smallMask = capacity - 1
      guard smallStrings else {
        small = nil
        return
      }
      let entries = UnsafeMutablePointer<SmallEntry>.allocate(capacity: capacity)
      entries.initialize(repeating: SmallEntry(), count: capacity)
      for (i, constant) in constants.enumerated() {
        // Made afresh from its bytes, so that a constant that fits is in the small form.
        let bits = SmallString.bits(of: String(decoding: Array(constant.utf8), as: UTF8.self))
        guard SmallString.isSmall(bits) else { continue }
        var j = Test.bucket(bits) & smallMask
        while entries[j].index >= 0 { j = (j + 1) & smallMask }
        entries[j] = SmallEntry(word0: bits.0, word1: bits.1, index: i)
      }
      small = entries
    }

    deinit { small?.deallocate() }

    @inline(__always)
    static func bucket(_ bits: (UInt64, UInt64)) -> Int {
      Int(truncatingIfNeeded: ((bits.0 ^ (bits.1 &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9) &>> 40)
    }

    /// The rules the short string whose bits are `bits` admits (``small``, which is not `nil`).
    @inline(__always)
    func rules(admittedBySmall bits: (UInt64, UInt64), in entries: UnsafeMutablePointer<SmallEntry>) -> Candidates {
      var j = Test.bucket(bits) & smallMask
      while true {
        let entry = entries[j]
        if entry.index < 0 { return Candidates(start: 0, step: 0) }
        if entry.word0 == bits.0 && entry.word1 == bits.1 {
          return admitted.withUnsafeBufferPointer { $0[entry.index] }
        }
        j = (j + 1) & smallMask
      }
    }

    @inline(__always)
    func lookup(_ value: String, hash: UInt64) -> UInt32? {
      constants.withUnsafeBufferPointer { stored in table.lookup(hash: hash) { stored[Int($0)] == value } }
    }

    @inline(__always)
    func rules(admittedBy value: String) -> Candidates {
      guard let i = lookup(value, hash: table.hash(.string(value))) else { return Candidates(start: 0, step: 0) }
      return admitted[Int(i)]
    }
  }

  /// The tests; they hold the references ``hotTests`` reads through.
  private let tests: [Test]
  /// `tests`, unretained, for the per-event loop.
  private let hotTests: [Unmanaged<Test>]
  /// Rules without a start guard or without a step guard (always candidates).
  private var unguarded = Candidates(start: 0, step: 0)
  /// Rules whose start guard is exact (``startGuardIsExact(_:)``), or exact but for the rest of
  /// their start step's conjunction (``startResidual(_:)``).
  private var exact: UInt64 = 0
  /// Per rule: the conjuncts of its start step's `where` besides the guard's equality, when a
  /// matching guard constant decides the quick check together with them (``startResidual(_:)``).
  private(set) var residuals: [Expr?] = []

  /// The most rules guards track; the rest are always candidates.
  static let trackedRules = 64

  /// Guards for `programs`, resolving fields through their shared projection.
  init(programs: ProgramSet) {
    var builders: [TestBuilder] = []
    var testIndexBySlot: [Int: Int] = [:]
    func admit(_ alternatives: [(Int, String)], start: UInt64, step: UInt64) {
      for (slot, constant) in alternatives {
        let t: Int
        if let existing = testIndexBySlot[slot] {
          t = existing
        } else {
          t = builders.count
          builders.append(TestBuilder(slot: slot))
          testIndexBySlot[slot] = t
        }
        builders[t].admit(constant, start: start, step: step)
      }
    }
    for (r, program) in programs.rules.enumerated() where r < Self.trackedRules {
      let bit = UInt64(1) << UInt64(r)
      residuals.append(nil)
      if let alternatives = Self.guardAlternatives(program, projection: programs.projection) {
        admit(alternatives, start: bit, step: 0)
        if Self.startGuardIsExact(program) {
          exact |= bit
        } else if let residual = Self.startResidual(program) {
          exact |= bit
          residuals[r] = residual
        }
      } else {
        unguarded.start |= bit
      }
      if let alternatives = Self.stepAlternatives(program, projection: programs.projection) {
        admit(alternatives, start: 0, step: bit)
      } else {
        unguarded.step |= bit
      }
    }
    let smallStrings = SmallString.isAvailable
    tests = builders.map { Test($0, smallStrings: smallStrings) }
    hotTests = tests.map { Unmanaged.passUnretained($0) }
  }

  /// Whether rule `r` has a step guard (its bit of ``Candidates/step`` can be clear).
  func guardsSteps(rule r: Int) -> Bool { r < Self.trackedRules && unguarded.step & (1 << UInt64(r)) == 0 }

  /// The rules `event` may start a match of, and those it may take part in at all.
  @inline(__always)
  func candidates(for event: EventRecord) -> Candidates {
    var mask = unguarded
    for hot in hotTests {
      hot._withUnsafeGuaranteedRef { test in
        let admitted: Candidates
        // A short string (nearly every value a guard sees: an event type) is looked up by its
        // bits where it lies: no copy of the value, no key hash, no string comparison.
        if let entries = test.small,
          let bits = event.slots.withUnsafeValue(at: test.slot, { Value.smallStringBits(at: $0) })
        {
          admitted = test.rules(admittedBySmall: bits, in: entries)
          mask.exactStart |= admitted.start & exact
          mask.start |= admitted.start
          mask.step |= admitted.step
          _assertSmallLookupAgrees(test, event, admitted)
          return
        }
        switch event[SlotIndex(test.slot)] {
        case .string(let value):
          admitted = test.rules(admittedBy: value)
          mask.exactStart |= admitted.start & exact
        case .null: return
        default: admitted = test.rules  // a type error the conditions must see and count
        }
        mask.start |= admitted.start
        mask.step |= admitted.step
      }
    }
    return mask
  }

  /// In debug builds, the lookup by bits must admit what the lookup by string admits.
  @inline(__always)
  private func _assertSmallLookupAgrees(_ test: Test, _ event: EventRecord, _ admitted: Candidates) {
    #if DEBUG
      if case .string(let value) = event[SlotIndex(test.slot)] {
        let expected = test.rules(admittedBy: value)
        assert(expected.start == admitted.start && expected.step == admitted.step, "guard lookup by bits")
      }
    #endif
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

  /// The `(slot, constant)` pairs one of which an event must match to satisfy any take condition
  /// or `until` of any state of `program`, or `nil` when one of them is not guarded by a string
  /// equality.
  static func stepAlternatives(_ program: RuleProgram, projection: FieldProjection) -> [(Int, String)]? {
    var out: [(Int, String)] = []
    var seen = Set<Int>()  // step × 2 (+1 for an until)
    func add(_ expr: Expr?, id: Int) -> Bool {
      guard let expr, let (path, constants) = equalityGuard(expr), let slot = projection.existingSlot(for: path) else {
        return false
      }
      if seen.insert(id).inserted { out.append(contentsOf: constants.map { (slot.index, $0) }) }
      return true
    }
    func atoms(_ condition: NFA.EdgeCondition) -> Bool {
      switch condition {
      case .always: return true
      case .take(let step): return add(program.spec.steps[step].condition, id: 2 * step)
      case .until(let step): return add(program.spec.steps[step].quantifier.until, id: 2 * step + 1)
      case .not(let inner): return atoms(inner)
      case .and(let l, let r): return atoms(l) && atoms(r)
      }
    }
    for state in program.nfa.states {
      for edge in state.edges where !atoms(edge.condition) { return nil }
    }
    return out
  }

  /// Whether `program`'s start guard decides the quick check on its own: its starts are plain
  /// (``plainStartSteps(_:)``) and each start step's `where` is nothing but string equalities on one field (`type ==
  /// "login"`, `type in [...]`). Then an event whose field holds one of the guard's constants
  /// satisfies a take edge from the start, which is all ``RuleMatcher/mayStart(_:context:scratch:)``
  /// looks for.
  static func startGuardIsExact(_ program: RuleProgram) -> Bool {
    guard let steps = plainStartSteps(program.nfa) else { return false }
    return steps.allSatisfy { step in program.spec.steps[step].condition.map { stringEqualities($0) != nil } ?? false }
  }

  /// The steps of the take edges reachable from the start state, when every one is `take(step)`
  /// alone and is reached through unconditional proceed edges (the shape in which a start is
  /// decided by the step's `where` alone); `nil` otherwise.
  static func plainStartSteps(_ nfa: NFA) -> Set<Int>? {
    var steps = Set<Int>()
    var plain = true
    forEachStartEdge(nfa) { edge in
      switch edge.action {
      case .take:
        if case .take(let step) = edge.condition { steps.insert(step) } else { plain = false }
      case .proceed:
        if case .always = edge.condition { return }
        plain = false
      case .ignore:
        return
      }
    }
    return plain ? steps : nil
  }

  /// For a rule that can start in one way only, by one step whose `where` is a conjunction of the
  /// guard's equality (``equalityGuard(_:)``) and more (`type == "purchase" and amount < 2`):
  /// the other conjuncts, in their order. Its starts are plain (``plainStartSteps(_:)``), all by
  /// that one step. Then, for an event whose field holds the guard's constant, the
  /// quick check (``RuleMatcher/mayStart(_:context:scratch:)``) is exactly whether these
  /// conjuncts hold: the equality is true, and `and` evaluates its operands left to right and
  /// stops at the first false one, so the rest evaluate alike (type errors counted alike).
  /// `nil` otherwise, and for a step that is nothing but equalities (exact on its own).
  static func startResidual(_ program: RuleProgram) -> Expr? {
    guard let steps = plainStartSteps(program.nfa), steps.count == 1, let step = steps.first,
      let condition = program.spec.steps[step].condition, stringEqualities(condition) == nil
    else { return nil }
    let (found, rest) = removingEqualityGuard(condition)
    return found ? rest : nil
  }

  /// `condition` without the conjunct ``equalityGuard(_:)`` finds (searched in the same order):
  /// whether there was one, and what is left (`nil` when nothing).
  static func removingEqualityGuard(_ condition: Expr) -> (found: Bool, rest: Expr?) {
    switch condition {
    case .and(let l, let r):
      let left = removingEqualityGuard(l)
      if left.found { return (true, left.rest.map { .and($0, r) } ?? r) }
      let right = removingEqualityGuard(r)
      if right.found { return (true, right.rest.map { .and(l, $0) } ?? l) }
      return (false, condition)
    default:
      return stringEqualities(condition) == nil ? (false, condition) : (true, nil)
    }
  }

  /// The conditions of every take edge reachable from the start state through proceed edges.
  static func startTakeConditions(_ nfa: NFA) -> [NFA.EdgeCondition] {
    var conditions: [NFA.EdgeCondition] = []
    forEachStartEdge(nfa) { edge in
      if edge.action == .take { conditions.append(edge.condition) }
    }
    return conditions
  }

  /// Calls `body` with every edge of the states reachable from the start state through proceed
  /// edges (whatever their conditions), the start state's own included.
  private static func forEachStartEdge(_ nfa: NFA, _ body: (NFA.Edge) -> Void) {
    var frontier = [nfa.start]
    var visited = Set([nfa.start])
    var i = 0
    while i < frontier.count {
      let state = nfa.states[frontier[i].index]
      i += 1
      for edge in state.edges {
        body(edge)
        if edge.action == .proceed, visited.insert(edge.target).inserted { frontier.append(edge.target) }
      }
    }
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
