import TocsinCore
import TocsinExpressions
import XCTest

/// Table tests of compiled expressions: each row is an expression, field values for the current
/// event, and the expected value (or condition outcome).
final class EvaluationTests: XCTestCase {
  private let amount = Expr.field(FieldPath(["amount"]))
  private let city = Expr.field(FieldPath(["city"]))
  private func int(_ i: Int64) -> Expr { .constant(.int(i)) }
  private func float(_ d: Double) -> Expr { .constant(.float(d)) }
  private func str(_ s: String) -> Expr { .constant(.string(s)) }

  /// Evaluates `expr` on an event whose fields are `fields`; returns the value and the number of
  /// type errors recorded.
  private func evaluate(_ expr: Expr, _ fields: [String: Value], bindings: MatchNode? = nil)
    -> (Value, Int)
  {
    var compiler = ExprCompiler()
    let evaluator = compiler.compileValue(expr)
    var slots = Array(repeating: Value.null, count: compiler.projection.count)
    for (i, path) in compiler.projection.paths.enumerated() {
      slots[i] = fields[path.description] ?? .null
    }
    let event = EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: slots)
    let context = EvalContext()
    return (evaluator(event, bindings, context), context.typeErrors)
  }

  private func valueTest(
    _ expr: Expr, _ fields: [String: Value], _ expected: Value, typeErrors: Int = 0,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let (value, errors) = evaluate(expr, fields)
    XCTAssertEqual(value, expected, "\(expr.rendered(stepNames: []))", file: file, line: line)
    XCTAssertEqual(errors, typeErrors, "type errors of \(expr.rendered(stepNames: []))", file: file, line: line)
  }

  private func conditionTest(
    _ expr: Expr, _ fields: [String: Value], _ expected: Bool, typeErrors: Int = 0,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    var compiler = ExprCompiler()
    let predicate = compiler.compileCondition(expr)
    var slots = Array(repeating: Value.null, count: compiler.projection.count)
    for (i, path) in compiler.projection.paths.enumerated() { slots[i] = fields[path.description] ?? .null }
    let event = EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: slots)
    let context = EvalContext()
    XCTAssertEqual(predicate(event, nil, context), expected, "\(expr.rendered(stepNames: []))", file: file, line: line)
    XCTAssertEqual(context.typeErrors, typeErrors, file: file, line: line)
  }

  func testComparisons() {
    conditionTest(.binary(.greater, amount, int(10)), ["amount": .int(11)], true)
    conditionTest(.binary(.greater, amount, int(10)), ["amount": .int(10)], false)
    conditionTest(.binary(.greater, amount, int(10)), ["amount": .float(10.5)], true)
    conditionTest(.binary(.greater, amount, int(10)), [:], false)  // missing → null → false
    conditionTest(.binary(.greater, amount, int(10)), ["amount": .string("11")], false, typeErrors: 1)
    conditionTest(.binary(.less, int(10), amount), ["amount": .int(11)], true)  // mirrored fast path
    conditionTest(.binary(.equal, city, str("Berlin")), ["city": .string("Berlin")], true)
    conditionTest(.binary(.equal, city, str("Berlin")), ["city": .string("berlin")], false)
    conditionTest(.binary(.equal, city, str("Berlin")), ["city": .int(1)], false, typeErrors: 1)
    conditionTest(.binary(.notEqual, city, str("Berlin")), [:], false)  // null compares false, even !=
    conditionTest(.binary(.less, city, str("M")), ["city": .string("Berlin")], true)
    conditionTest(.binary(.equal, amount, float(2.0)), ["amount": .int(2)], true)
    conditionTest(
      .binary(.greaterOrEqual, .field(FieldPath(["flag"])), .constant(.bool(true))),
      ["flag": .bool(true)], false, typeErrors: 1)
  }

  func testLogic_ShortCircuitsAndNull() {
    let big = Expr.binary(.greater, amount, int(10))
    let berlin = Expr.binary(.equal, city, str("Berlin"))
    conditionTest(.and(big, berlin), ["amount": .int(11), "city": .string("Berlin")], true)
    conditionTest(.and(big, berlin), ["amount": .int(1), "city": .int(3)], false)  // rhs not evaluated
    conditionTest(.or(big, berlin), ["amount": .int(11), "city": .int(3)], true)
    conditionTest(.not(big), ["amount": .int(1)], true)
    conditionTest(.not(big), [:], true)  // `amount > 10` is false when missing
    valueTest(.not(.field(FieldPath(["flag"]))), [:], .null)
    valueTest(.not(.field(FieldPath(["flag"]))), ["flag": .int(1)], .null, typeErrors: 1)
  }

  func testArithmetic() {
    valueTest(.binary(.add, amount, int(1)), ["amount": .int(41)], .int(42))
    valueTest(.binary(.add, amount, float(0.5)), ["amount": .int(1)], .float(1.5))
    valueTest(.binary(.divide, amount, int(4)), ["amount": .int(10)], .float(2.5))
    valueTest(.binary(.divide, amount, int(0)), ["amount": .int(10)], .null)
    valueTest(.binary(.multiply, amount, int(2)), ["amount": .int(.max)], .float(Double(Int64.max) * 2))
    valueTest(.binary(.subtract, amount, int(1)), [:], .null)
    valueTest(.binary(.add, city, int(1)), ["city": .string("x")], .null, typeErrors: 1)
    valueTest(.negate(amount), ["amount": .int(5)], .int(-5))
    valueTest(.binary(.add, int(1), .binary(.multiply, int(2), int(3))), [:], .int(7))  // folded
  }

  func testBuiltins() {
    let berlin: [Expr] = [float(52.52), float(13.405)]
    let madrid: [Expr] = [float(40.4168), float(-3.7038)]
    let (km, _) = evaluate(.call(.distanceKm, berlin + madrid), [:])
    XCTAssertEqual(km.doubleValue ?? 0, 1869, accuracy: 2)
    valueTest(.call(.distanceKm, berlin + berlin), [:], .float(0))
    valueTest(.call(.distanceKm, [amount] + berlin.dropFirst() + madrid), [:], .null)
    valueTest(.call(.abs, [amount]), ["amount": .int(-3)], .int(3))
    valueTest(.call(.abs, [amount]), ["amount": .float(-2.5)], .float(2.5))
    valueTest(.call(.round, [amount]), ["amount": .float(2.5)], .int(3))
    valueTest(.call(.round, [amount]), ["amount": .float(-2.5)], .int(-3))
    valueTest(.call(.round, [amount]), ["amount": .float(.nan)], .null)
    valueTest(.call(.round, [amount]), ["amount": .string("2")], .null, typeErrors: 1)
    valueTest(.call(.lower, [city]), ["city": .string("BeRLin")], .string("berlin"))
    valueTest(.call(.upper, [city]), ["city": .string("é")], .string("É"))
    valueTest(.call(.len, [city]), ["city": .string("Zürich")], .int(6))
    valueTest(.call(.contains, [city, str("rli")]), ["city": .string("Berlin")], .bool(true))
    valueTest(.call(.contains, [city, str("")]), ["city": .string("")], .bool(true))
    valueTest(.call(.startsWith, [city, str("Be")]), ["city": .string("Berlin")], .bool(true))
    valueTest(.call(.endsWith, [city, str("x")]), ["city": .string("Berlin")], .bool(false))
    valueTest(.call(.min, [amount, int(3)]), ["amount": .float(2.5)], .float(2.5))
    valueTest(.call(.max, [amount, int(3)]), ["amount": .float(2.5)], .int(3))
    valueTest(.call(.exists, [amount]), [:], .bool(false))
    valueTest(.call(.exists, [amount]), ["amount": .int(0)], .bool(true))
  }

  func testStepFieldsAndAggregates() {
    func event(_ amount: Value, _ id: String, at ms: Int64 = 0) -> EventRecord {
      EventRecord(time: .milliseconds(ms), sequence: 0, line: 1, identity: id, slots: [amount])
    }
    // Slot 0 is `amount` for every expression below (first use).
    let n1 = MatchNode(step: 0, event: event(.int(5), "a", at: 10), previous: nil)
    let n2 = MatchNode(step: 1, event: event(.int(7), "b", at: 20), previous: n1)
    let n3 = MatchNode(step: 1, event: event(.float(0.5), "c", at: 30), previous: n2)
    let cases: [(Expr, Value)] = [
      // The latest node bound to the step, walking back from the newest: the first node of the
      // chain, the newest itself, none.
      (.stepField(step: 0, FieldPath(["amount"])), .int(5)),
      (.stepField(step: 1, FieldPath(["amount"])), .float(0.5)),
      (.stepField(step: 2, FieldPath(["amount"])), .null),
      (.stepTime(step: 0), .time(.milliseconds(10))),
      (.stepTime(step: 1), .time(.milliseconds(30))),
      (.stepTime(step: 2), .null),
      (.aggregate(.count, step: 1, field: nil), .int(2)),
      (.aggregate(.count, step: 2, field: nil), .int(0)),
      (.aggregate(.sum, step: 1, field: FieldPath(["amount"])), .float(7.5)),
      (.aggregate(.sum, step: 0, field: FieldPath(["amount"])), .int(5)),
      (.aggregate(.avg, step: 1, field: FieldPath(["amount"])), .float(3.75)),
      (.aggregate(.avg, step: 2, field: FieldPath(["amount"])), .null),
    ]
    for (expr, expected) in cases {
      var compiler = ExprCompiler(projection: FieldProjection([FieldPath(["amount"])]))
      let evaluator = compiler.compileValue(expr)
      XCTAssertEqual(evaluator(event(.null, "x"), n3, EvalContext()), expected, "\(expr)")
    }
    // Without a chain (the start computation) every step reads as unbound.
    for expr in [Expr.stepField(step: 0, FieldPath(["amount"])), .stepTime(step: 0)] {
      var compiler = ExprCompiler(projection: FieldProjection([FieldPath(["amount"])]))
      XCTAssertEqual(compiler.compileValue(expr)(event(.int(1), "x"), nil, EvalContext()), .null, "\(expr)")
    }
  }

  /// The in-place walk step fields use finds the node `latest(boundTo:)` finds, on random chains.
  func testWithLatestEvent_FindsWhatLatestFinds() {
    var rng = SplitMix64(seed: 11)
    for round in 0..<200 {
      var node: MatchNode? = nil
      for i in 0..<Int.random(in: 1...20, using: &rng) {
        let event = EventRecord(time: .milliseconds(Int64(i)), sequence: UInt64(i), line: 1, identity: "e", slots: [])
        node = MatchNode(step: Int.random(in: 0...3, using: &rng), event: event, previous: node)
      }
      // swift-format-ignore: NeverForceUnwrap
      let chain = node!
      for step in 0...4 {
        let found = chain.withLatestEvent(boundTo: step, none: UInt64.max) { $0.sequence }
        XCTAssertEqual(found, chain.latest(boundTo: step)?.event.sequence ?? .max, "round \(round), step \(step)")
      }
    }
  }

  func testProjection_SharesSlotsAcrossExpressions() {
    var compiler = ExprCompiler()
    _ = compiler.compileCondition(.binary(.greater, amount, int(1)))
    _ = compiler.compileValue(.binary(.add, amount, .field(FieldPath(["geo", "lat"]))))
    XCTAssertEqual(compiler.projection.paths, [FieldPath(["amount"]), FieldPath(["geo", "lat"])])
  }
}

