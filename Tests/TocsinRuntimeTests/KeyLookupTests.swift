import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// The key table and the start guards: the two lookups that let an event skip rules.
final class KeyLookupTests: XCTestCase {
  private func record(_ slots: [Value]) -> EventRecord {
    EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: slots)
  }

  func testKeySpaceAssignsDenseStableIDsAcrossGrowth() {
    var space = KeySpace(slots: [SlotIndex(0)])
    var ids: [KeyID] = []
    for i in 0..<10_000 {
      ids.append(space.key(of: record([.string("user-\(i)")]))!)
    }
    XCTAssertEqual(ids.map(\.index), Array(0..<10_000))
    // Every key is found again after the table grew many times.
    for i in stride(from: 0, to: 10_000, by: 7) {
      XCTAssertEqual(space.key(of: record([.string("user-\(i)")])), KeyID(i))
    }
    XCTAssertEqual(space.count, 10_000)
  }

  func testKeyEqualityFollowsValueEquality() {
    // (value, equal to the first interned key?) — int and float are different keys, as with `==`
    // on Value; 0.0 and -0.0 are the same key; long strings (heap-allocated) compare by content.
    let long = String(repeating: "x", count: 40)
    let cases: [(first: Value, second: Value, same: Bool)] = [
      (.int(1), .int(1), true),
      (.int(1), .float(1), false),
      (.float(0.0), .float(-0.0), true),
      (.string("a"), .string("b"), false),
      (.string(long), .string(String(repeating: "x", count: 40)), true),
      (.string(long), .string(long + "y"), false),
      (.bool(true), .string("true"), false),
    ]
    for c in cases {
      var space = KeySpace(slots: [SlotIndex(0)])
      let a = space.key(of: record([c.first]))
      let b = space.key(of: record([c.second]))
      XCTAssertEqual(a == b, c.same, "\(c.first) vs \(c.second)")
    }
  }

  func testProbesMadeAheadFindWhatLookupsFind() {
    // Probes are made for a whole batch before any of its keys is looked up (so some are made
    // before the table grows, or before their key is interned by an earlier event of the batch),
    // and must give the ids a plain lookup gives: one- and two-field keys, inline and heap
    // strings, ints, floats, missing fields.
    let long = String(repeating: "k", count: 30)
    let cases: [(name: String, slots: [SlotIndex], value: (Int) -> [Value])] = [
      ("short string", [SlotIndex(0)], { [.string("u\($0 % 700)")] }),
      ("heap string", [SlotIndex(0)], { [.string(long + "\($0 % 300)")] }),
      ("int", [SlotIndex(0)], { [.int(Int64($0 % 500))] }),
      ("float", [SlotIndex(0)], { [.float(Double($0 % 200) / 4)] }),
      ("missing every 3rd", [SlotIndex(0)], { $0 % 3 == 0 ? [.null] : [.string("m\($0 % 100)")] }),
      ("composite", [SlotIndex(0), SlotIndex(1)], { [.string("c\($0 % 40)"), .int(Int64($0 % 7))] }),
    ]
    for c in cases {
      var plain = KeySpace(slots: c.slots)
      var ahead = KeySpace(slots: c.slots)
      let events = (0..<3000).map { record(c.value($0)) }
      for batch in stride(from: 0, to: events.count, by: 16) {
        let range = batch..<min(batch + 16, events.count)
        let probes = range.map { ahead.probe(of: events[$0], prefetching: true) }
        for (i, probe) in zip(range, probes) {
          XCTAssertEqual(
            ahead.key(of: events[i], probe: probe), plain.key(of: events[i]), "\(c.name), event \(i)")
        }
      }
      XCTAssertEqual(ahead.count, plain.count, c.name)
    }
  }

  func testPreparedArrivalsAreTakenOnceAndOnlyByTheirEvent() {
    let arrivals = PreparedArrivals()
    let probe = KeySpace.Probe(hash: 7, inline: .notInline, isMissing: false)
    var taken: [UInt64] = []
    // (sequence prepared, sequence taken, found?): the same sequence; another one in the same
    // entry (32 apart); taken twice (the first take empties the entry).
    arrivals.record(probe, space: 0, sequence: 5)
    let other = arrivals.take(sequence: 37).map { _ in taken.append(37) } != nil
    let own = arrivals.take(sequence: 5).map { taken.append($0[0].hash + 5) } != nil
    let again = arrivals.take(sequence: 5).map { _ in taken.append(5) } != nil
    XCTAssertEqual([other, own, again], [false, true, false])
    // Preparing more than `capacity` events ahead overwrites the oldest: they are not found.
    for s in UInt64(100)..<UInt64(100 + PreparedArrivals.capacity + 8) {
      arrivals.record(KeySpace.Probe(hash: s, inline: .notInline, isMissing: false), space: 0, sequence: s)
    }
    for s in UInt64(100)..<UInt64(108) {
      let found = arrivals.take(sequence: s) != nil
      XCTAssertFalse(found, "\(s)")
    }
    for s in UInt64(108)..<UInt64(100 + PreparedArrivals.capacity + 8) {
      let probes = arrivals.take(sequence: s)
      XCTAssertEqual(probes?[0].hash, s, "\(s)")
    }
    XCTAssertEqual(taken, [12])
  }

  func testCompositeKeysAndMissingFields() {
    var space = KeySpace(slots: [SlotIndex(0), SlotIndex(1)])
    let ab = space.key(of: record([.string("a"), .int(1)]))
    XCTAssertEqual(space.key(of: record([.string("a"), .int(2)]))?.index, 1)
    XCTAssertEqual(space.key(of: record([.string("a"), .int(1)])), ab)
    XCTAssertNil(space.key(of: record([.string("a"), .null])))
    XCTAssertEqual(Array(space.values(of: KeyID(1))), [.string("a"), .int(2)])
    XCTAssertEqual([space.text(of: KeyID(0)), space.text(of: KeyID(1))], ["a|1", "a|2"])
  }

  /// A key of two short strings is probed from the strings' bits (hash and packed pair shifted
  /// together): for every split of lengths around the packed form's 14 bytes, ASCII or not, the
  /// key is interned once, found again, and reads back as its values (debug builds also compare
  /// each probe with the one made from the strings' UTF-8 bytes).
  func testPairsOfShortStringsProbedFromTheirBits() {
    var space = KeySpace(slots: [SlotIndex(0), SlotIndex(1)])
    var pairs: [(String, String)] = []
    for n in [0, 1, 5, 7, 8, 9, 13, 14, 15] {
      for m in [0, 1, 6, 7, 8, 14, 15] {
        pairs.append((String(repeating: "u", count: n), String(repeating: "c", count: m)))
      }
    }
    pairs += [("é", "AU"), ("Zürich", "CH"), ("u089695", "AU"), ("AU", "u089695"), ("ab", "c"), ("a", "bc")]
    var ids: [KeyID] = []
    for (a, b) in pairs {
      // swift-format-ignore: NeverForceUnwrap
      // Both fields are present.
      let id = space.key(of: record([.string(a), .string(b)]))!
      XCTAssertFalse(ids.contains(id), "\(a)|\(b): a new key")
      ids.append(id)
    }
    for ((a, b), id) in zip(pairs, ids) {
      XCTAssertEqual(space.key(of: record([.string(a), .string(b)])), id, "\(a)|\(b)")
      XCTAssertEqual(Array(space.values(of: id)), [.string(a), .string(b)])
      XCTAssertEqual(space.text(of: id), "\(a)|\(b)")
    }
    XCTAssertEqual(space.count, pairs.count)
  }

  /// A new composite key's values are copied from the event through a temporary buffer on the
  /// stack: values that own heap storage (strings past the inline length) must come out whole,
  /// be found again, and be released when the key is reclaimed.
  func testCompositeKeysWithHeapStrings() {
    var space = KeySpace(slots: [SlotIndex(0), SlotIndex(1)])
    let long = String(repeating: "user-", count: 8)
    let other = String(repeating: "country-", count: 4)
    let first = space.key(of: record([.string(long), .string(other)]))!
    let second = space.key(of: record([.string(long), .string("AU")]))!
    XCTAssertNotEqual(first, second)
    XCTAssertEqual(space.key(of: record([.string(long), .string(other)])), first)
    XCTAssertEqual(Array(space.values(of: first)), [.string(long), .string(other)])
    XCTAssertEqual(Array(space.values(of: second)), [.string(long), .string("AU")])
    // The texts' heap storage is charged as the keys are interned, made or not (the estimate
    // must not depend on which texts an alert asked for): the same after they are made.
    let charged = space.textHeapBytes
    XCTAssertGreaterThan(charged, 0)
    XCTAssertEqual([space.text(of: first), space.text(of: second)], ["\(long)|\(other)", "\(long)|AU"])
    XCTAssertEqual(space.textHeapBytes, charged)
    space.reclaim(first)
    space.reclaim(second)
    XCTAssertEqual(space.textHeapBytes, 0)
    XCTAssertEqual(space.key(of: record([.string(other), .string(long)]))?.index, second.index)
  }

  func testReclaimedKeysAreForgottenAndTheirIDsReused() {
    var space = KeySpace(slots: [SlotIndex(0)])
    for i in 0..<6 { _ = space.key(of: record([.string("u\(i)")])) }
    space.setOpen(true, rule: 0, key: KeyID(2))
    XCTAssertEqual(space.key(of: EventRecord(time: .milliseconds(5), sequence: 1, line: 1, identity: "p", slots: [.string("u2")]), pinning: true), KeyID(2))
    XCTAssertEqual(space.pin(KeyID(2)), .milliseconds(5))
    XCTAssertEqual(space.pin(KeyID(3)), .negativeInfinity)
    space.reclaim(KeyID(2))
    space.reclaim(KeyID(4))
    space.reclaim(KeyID(4))  // twice: no effect
    XCTAssertEqual(space.count, 4)
    XCTAssertEqual(space.idCount, 6)
    XCTAssertEqual(space.reclaimed, 2)
    XCTAssertTrue(space.isFree(KeyID(2)))
    XCTAssertEqual(space.text(of: KeyID(2)), "")
    // Every other key is still found under its id.
    for i in [0, 1, 3, 5] { XCTAssertEqual(space.key(of: record([.string("u\(i)")])), KeyID(i)) }
    // New keys take the freed ids, last freed first, with fresh bookkeeping.
    XCTAssertEqual(space.key(of: record([.string("new")])), KeyID(4))
    XCTAssertEqual(space.key(of: record([.string("u2")])), KeyID(2))
    XCTAssertEqual(space.openRules(KeyID(2)), 0)
    XCTAssertEqual(space.pin(KeyID(2)), .negativeInfinity)
    XCTAssertEqual(space.text(of: KeyID(4)), "new")
    XCTAssertEqual(space.key(of: record([.string("u6")])), KeyID(6))
    XCTAssertEqual(space.count, 7)
  }

  /// Property: any interleaving of interning and reclaiming agrees with a dictionary model, on a
  /// table small enough that probe runs wrap around and backward-shift deletion is exercised.
  func testInternAndReclaimAgreeWithAModel() {
    var rng = SplitMix64(seed: 42)
    for round in 0..<20 {
      var space = KeySpace(slots: [SlotIndex(0), SlotIndex(1)])
      var model: [String: KeyID] = [:]
      let universe = 8 + round * 10
      for _ in 0..<3000 {
        let n = Int(rng.next() % UInt64(universe))
        let key = [Value.string("k\(n % 7)"), .int(Int64(n))]
        let name = "k\(n % 7)|\(n)"
        if rng.next() % 3 == 0, let id = model[name] {
          space.reclaim(id)
          model[name] = nil
        } else {
          let id = space.key(of: record(key))
          if let known = model[name] {
            XCTAssertEqual(id, known, name)
          } else {
            model[name] = id
          }
        }
      }
      XCTAssertEqual(space.count, model.count)
      XCTAssertEqual(Set(model.values).count, model.count, "two live keys share an id")
      for (name, id) in model {
        XCTAssertEqual(space.text(of: id), name)
        XCTAssertFalse(space.isFree(id))
      }
    }
  }

  func testKeyTextHeapBytesFollowLongKeys() {
    var space = KeySpace(slots: [SlotIndex(0)])
    let short = space.key(of: record([.string("short")]))!
    XCTAssertEqual(space.textHeapBytes, 0)
    let long = space.key(of: record([.string(String(repeating: "x", count: 40))]))!
    XCTAssertGreaterThanOrEqual(space.textHeapBytes, 40)
    space.reclaim(long)
    space.reclaim(short)
    XCTAssertEqual(space.textHeapBytes, 0)
  }

  func testOpenMaskBits() {
    var space = KeySpace(slots: [SlotIndex(0)])
    let k = space.key(of: record([.string("u")]))!
    XCTAssertEqual(space.openRules(k), 0)
    space.setOpen(true, rule: 3, key: k)
    space.setOpen(true, rule: 0, key: k)
    space.setOpen(false, rule: 3, key: k)
    space.setOpen(true, rule: 200, key: k)  // beyond the tracked rules: ignored
    XCTAssertEqual(space.openRules(k), 1)
  }

  // MARK: - Start guards

  private let type = FieldPath(["type"])
  private let amount = FieldPath(["amount"])

  private func eq(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }
  private var big: Expr { .binary(.greater, .field(amount), .constant(.int(10))) }

  func testGuardExtractionByTable() {
    func s(_ name: String, _ q: Quantifier, _ c: Expr?) -> StepSpec {
      StepSpec(name: name, quantifier: q, condition: c)
    }
    let optional = Quantifier(min: 1, max: 1, isOptional: true)
    // (steps, guard constants or nil when the rule cannot be guarded)
    let cases: [(String, [StepSpec], [String]?)] = [
      ("equality first", [s("a", .once, .and(eq("purchase"), big)), s("b", .once, eq("login"))], ["purchase"]),
      ("equality second conjunct", [s("a", .once, .and(big, eq("purchase")))], ["purchase"]),
      ("in-list lowered to or", [s("a", .once, .or(eq("x"), eq("y")))], ["x", "y"]),
      ("no equality", [s("a", .once, big)], nil),
      ("no condition", [s("a", .once, nil)], nil),
      ("or with another field", [s("a", .once, .or(eq("x"), big))], nil),
      ("optional first step: both may start",
       [s("a", optional, eq("x")), s("b", .once, eq("y"))], ["x", "y"]),
      ("optional unguarded first step", [s("a", optional, big), s("b", .once, eq("y"))], nil),
    ]
    for (name, steps, expected) in cases {
      let spec = RuleSpec(name: "r", keyFields: [FieldPath(["user"])], steps: steps, within: .seconds(10))
      let programs = NFACompiler.compile([spec], extraFields: [type, amount])
      let found = RuleGuards.guardAlternatives(programs.rules[0], projection: programs.projection)
      XCTAssertEqual(found.map { $0.map(\.1).sorted() }, expected.map { $0.sorted() }, name)
    }
  }

  func testCandidatesPerEvent() {
    let specs = [
      RuleSpec(name: "p", keyFields: [FieldPath(["user"])], steps: [StepSpec(name: "a", condition: eq("purchase"))]),
      RuleSpec(name: "any", keyFields: [FieldPath(["user"])], steps: [StepSpec(name: "a", condition: big)]),
      RuleSpec(name: "l", keyFields: [FieldPath(["user"])], steps: [StepSpec(name: "a", condition: .or(eq("login"), eq("purchase")))]),
    ]
    let programs = NFACompiler.compile(specs, extraFields: [type, amount])
    let guards = RuleGuards(programs: programs)
    let typeSlot = programs.projection.existingSlot(for: type)!.index
    func slots(_ v: Value) -> [Value] {
      var s = Array(repeating: Value.null, count: programs.projection.count)
      s[typeSlot] = v
      return s
    }
    // (type value, candidate rules, rules the guard alone shows to start), as bit masks
    let cases: [(Value, UInt64, UInt64)] = [
      (.string("purchase"), 0b111, 0b101),
      (.string("login"), 0b110, 0b100),
      (.string("logout"), 0b010, 0),
      (.null, 0b010, 0),
      (.int(7), 0b111, 0),  // wrong type: the conditions run and count the type error
    ]
    for (value, mask, exact) in cases {
      let candidates = guards.candidates(for: record(slots(value)))
      XCTAssertEqual(candidates.start, mask, "\(value)")
      XCTAssertEqual(candidates.exactStart, exact, "\(value)")
    }
  }

  /// Guards look a short value up by its bits (``SmallString``) and any other value by its
  /// string: both must admit exactly the rules whose constant equals the value, for short and
  /// long constants, ASCII or not, and values made in every way (a literal, from bytes, from a
  /// substring, by concatenation).
  func testCandidatesPerEvent_ShortLongAndNonASCIIConstants() {
    let constants = ["purchase", "exactly_15_byte", "exactly_16_bytes", "password_reset_requested", "zahlung_ü", "é"]
    let specs = constants.enumerated().map { i, constant in
      RuleSpec(name: "r\(i)", keyFields: [FieldPath(["user"])], steps: [StepSpec(name: "a", condition: eq(constant))])
    }
    let programs = NFACompiler.compile(specs, extraFields: [type, amount])
    let guards = RuleGuards(programs: programs)
    let typeSlot = programs.projection.existingSlot(for: type)!.index
    var values: [String] = []
    for constant in constants {
      values.append(constant)
      values.append(String(decoding: Array(constant.utf8), as: UTF8.self))
      values.append(String(("x" + constant).dropFirst()))
      values.append(String(constant.prefix(2)) + String(constant.dropFirst(2)))
      values.append(String(constant.dropLast()))
      values.append(constant + "s")
      values.append(constant.uppercased())
    }
    values += ["", "logout", "ü"]
    for value in values {
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[typeSlot] = .string(value)
      let candidates = guards.candidates(for: record(slots))
      var expected: UInt64 = 0
      for (i, constant) in constants.enumerated() where constant == value { expected |= 1 << UInt64(i) }
      XCTAssertEqual(candidates.start, expected, value)
      XCTAssertEqual(candidates.exactStart, expected, value)
    }
  }

  func testExactStartGuardsByTable() {
    func s(_ name: String, _ q: Quantifier, _ c: Expr?) -> StepSpec {
      StepSpec(name: name, quantifier: q, condition: c)
    }
    let optional = Quantifier(min: 1, max: 1, isOptional: true)
    let loop = Quantifier(min: 5, max: nil)
    let until = Quantifier(min: 1, max: nil, until: eq("stop"))
    let small = Expr.binary(.less, .field(amount), .constant(.int(2)))
    // (steps, whether a matching guard constant alone shows the rule can start, and the rest of
    // the start step's conjunction that decides it with the constant)
    let cases: [(String, [StepSpec], Bool, Expr?)] = [
      ("equality alone", [s("a", .once, eq("purchase")), s("b", .once, big)], true, nil),
      ("in-list lowered to or", [s("a", .once, .or(eq("x"), eq("y")))], true, nil),
      ("loop of an equality", [s("a", loop, eq("failed")), s("b", .once, eq("login"))], true, nil),
      ("equality and more", [s("a", .once, .and(eq("purchase"), big))], false, big),
      ("more, then the equality", [s("a", .once, .and(big, eq("purchase")))], false, big),
      ("equality between two more", [s("a", .once, .and(.and(big, eq("purchase")), small))], false, .and(big, small)),
      ("loop of equality and more", [s("a", loop, .and(eq("purchase"), small)), s("b", .once, big)], false, small),
      ("loop with until", [s("a", until, eq("x")), s("b", .once, eq("y"))], false, nil),
      ("optional first step, both equalities", [s("a", optional, eq("x")), s("b", .once, eq("y"))], true, nil),
      ("optional first step, second not exact", [s("a", optional, eq("x")), s("b", .once, .and(eq("y"), big))], false, nil),
    ]
    for (name, steps, expected, residual) in cases {
      let spec = RuleSpec(name: "r", keyFields: [FieldPath(["user"])], steps: steps, within: .seconds(10))
      let programs = NFACompiler.compile([spec], extraFields: [type, amount])
      XCTAssertNotNil(RuleGuards.guardAlternatives(programs.rules[0], projection: programs.projection), name)
      XCTAssertEqual(RuleGuards.startGuardIsExact(programs.rules[0]), expected, name)
      XCTAssertEqual(RuleGuards.startResidual(programs.rules[0]), residual, name)
    }
  }

  /// Where the start guard matched, the rest of the start step's conjunction decides the quick
  /// check exactly as the automaton walk does: the same answer and the same type errors counted,
  /// whatever the other fields hold (missing, the wrong type).
  func testStartResidualDecidesLikeTheQuickCheck() {
    let small = Expr.binary(.less, .field(amount), .constant(.int(2)))
    let flag = Expr.binary(.equal, .field(FieldPath(["new_device"])), .constant(.bool(true)))
    let loop = Quantifier(min: 3, max: 3)
    let specs = [
      RuleSpec(
        name: "probes", keyFields: [FieldPath(["card"])],
        steps: [StepSpec(name: "a", quantifier: loop, condition: .and(eq("purchase"), small)),
                StepSpec(name: "b", condition: .and(eq("purchase"), big))], within: .seconds(10)),
      RuleSpec(
        name: "flagged", keyFields: [FieldPath(["card"])],
        steps: [StepSpec(name: "a", condition: .and(.and(flag, eq("login")), big))], within: .seconds(10)),
    ]
    let programs = NFACompiler.compile(specs, extraFields: [type, amount])
    let engine = Engine(programs: programs)
    let guards = RuleGuards(programs: programs)
    let slot = { (path: FieldPath) in programs.projection.existingSlot(for: path)!.index }
    // (type, amount, new_device)
    let events: [(String, Value, Value)] = [
      ("purchase", .int(1), .null), ("purchase", .int(2), .null), ("purchase", .float(1.5), .null),
      ("purchase", .int(50), .null), ("purchase", .null, .null), ("purchase", .string("1"), .null),
      ("login", .int(50), .bool(true)), ("login", .int(50), .bool(false)), ("login", .int(5), .bool(true)),
      ("login", .int(50), .null), ("login", .int(50), .string("yes")), ("login", .string("x"), .bool(true)),
    ]
    var decided = 0
    for (typeValue, amountValue, flagValue) in events {
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[slot(type)] = .string(typeValue)
      slots[slot(amount)] = amountValue
      slots[slot(FieldPath(["new_device"]))] = flagValue
      let event = record(slots)
      let candidates = guards.candidates(for: event)
      for r in specs.indices where candidates.exactStart & (1 << UInt64(r)) != 0 {
        let matcher = engine.rules[r].matcher
        XCTAssertNotNil(matcher.startResidual, specs[r].name)
        let (residualContext, walkContext) = (EvalContext(), EvalContext())
        let residual = matcher.startResidualHolds(event, context: residualContext)
        let walk = matcher.mayStart(event, context: walkContext, scratch: MatcherScratch())
        let label = "\(specs[r].name) \(typeValue) \(amountValue) \(flagValue)"
        XCTAssertEqual(residual, walk, label)
        XCTAssertEqual(residualContext.typeErrors, walkContext.typeErrors, label)
        decided += 1
      }
    }
    XCTAssertEqual(decided, events.count)  // each event matched one rule's guard
  }

  /// `find` answers what `key(of:)` would, without interning: the id of a held key, `nil` for
  /// any other (and for a missing field), with the space's count unchanged.
  func testFindLooksUpWithoutInterning() {
    let long = String(repeating: "k", count: 30)
    // (key value, interned first?)
    let cases: [(Value, Bool)] = [
      (.string("u1"), true), (.string("u2"), false), (.string(long + "1"), true), (.string(long + "2"), false),
      (.int(7), true), (.int(8), false), (.null, false),
    ]
    var space = KeySpace(slots: [SlotIndex(0)])
    var ids: [Int: KeyID] = [:]
    for (i, (value, interned)) in cases.enumerated() where interned { ids[i] = space.key(of: record([value])) }
    let count = space.count
    for (i, (value, _)) in cases.enumerated() {
      XCTAssertEqual(space.find(record([value])), ids[i], "\(value)")
    }
    XCTAssertEqual(space.count, count, "nothing interned")
  }

  /// The presence map (``KeyPresence``) has no false negatives: every held key reads as present
  /// while the map is rebuilt larger as 100k keys are interned, and after half of them are
  /// reclaimed and the map rebuilt; and few keys the space does not hold read as present (it
  /// keeps at least 16 bits per key: at most about one in 16, bounded here at one in 8).
  func testPresenceMapHoldsEveryKeyAndFewOthers() {
    var space = KeySpace(slots: [SlotIndex(0)])
    space.tracksPresence = true  // as the engine sets it for a space that may defer keys
    func bits(_ text: String) -> UInt32 {
      KeyPresence.bits(of: KeySpace.probe(of: record([.string(text)]), slots: [SlotIndex(0)], hasher: space.table.hasher).hash)
    }
    let n = 100_000
    for i in 0..<n {
      _ = space.key(of: record([.string("u\(i)")]))
      // Keys interned before the map's latest rebuild, and since.
      // Around the map's rebuilds (at 4096 keys, then at each doubling).
      if [4_095, 4_096, 8_192, 8_193, 40_000].contains(i) {
        XCTAssertTrue((0...i).allSatisfy { space.presence.mayHold(bits("u\($0)")) }, "after \(i + 1) keys")
      }
    }
    XCTAssertTrue((0..<n).allSatisfy { space.presence.mayHold(bits("u\($0)")) }, "every key")
    let strangers = (0..<n).filter { space.presence.mayHold(bits("v\($0)")) }.count
    XCTAssertLessThan(strangers, n / 8, "absent keys read as present")

    for i in stride(from: 0, to: n, by: 2) { space.reclaim(KeyID(i)) }
    space.rebuildPresence()
    XCTAssertTrue(stride(from: 1, to: n, by: 2).allSatisfy { space.presence.mayHold(bits("u\($0)")) }, "held keys")
    let gone = stride(from: 0, to: n, by: 2).filter { space.presence.mayHold(bits("u\($0)")) }.count
    XCTAssertLessThan(gone, n / 2 / 8, "reclaimed keys read as present after the rebuild")
  }
}
