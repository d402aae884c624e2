import TocsinCore
import TocsinExpressions
import XCTest

/// Conditions are compiled as tests (`ExprCompiler.compileCondition`: a `Bool` through `and`,
/// `or`, `not` and comparisons, and short ASCII strings compared by their bits). Each case
/// compares the compiled condition with a reference evaluation that follows the definitions
/// (docs/language.md §6 and §8) directly: the answer, the errors counted and the first error's
/// message.
final class ConditionTestFormTests: XCTestCase {
  private let fields = ["type", "city", "amount", "flag", "note"].map { FieldPath([$0]) }

  /// `expr` evaluated by definition: a constant subtree is folded (as the compiler folds it,
  /// counting nothing at run time); `and` and `or` go by their operands' truth, left to right,
  /// stopping early; `not` negates a bool, gives null for null, and null with a type error for
  /// anything else; a comparison is `Operations.compare` of its operands' values, false with a
  /// type error when they do not compare; anything else is its compiled value.
  private func reference(_ expr: Expr, _ value: (Expr) -> Value, _ context: EvalContext) -> Value {
    if let constant = ExprCompiler.constantValue(of: expr) { return constant }
    switch expr {
    case .and(let l, let r):
      return .bool(reference(l, value, context).isTrue && reference(r, value, context).isTrue)
    case .or(let l, let r):
      return .bool(reference(l, value, context).isTrue || reference(r, value, context).isTrue)
    case .not(let inner):
      switch reference(inner, value, context) {
      case .bool(let b): return .bool(!b)
      case .null: return .null
      case let other:
        context.recordTypeError("'not' needs a bool, got \(other.typeName)")
        return .null
      }
    case .binary(let op, let l, let r) where op.isComparison:
      // A comparison written constant first is quoted field first in its type error, as the
      // engine tests it (`5 < amount` as `amount > 5`).
      let mirrored: Bool
      if case .field = r, ExprCompiler.constantValue(of: l) != nil, !isField(l) { mirrored = true } else { mirrored = false }
      let (a, b) = (value(l), value(r))
      if let result = Operations.compare(op, a, b) { return .bool(result) }
      let (first, second, quoted) = mirrored ? (b, a, op.mirrored) : (a, b, op)
      context.recordTypeError("cannot compare \(first.typeName) with \(second.typeName) using '\(quoted.rawValue)'")
      return .bool(false)
    default:
      return value(expr)
    }
  }

  private func isField(_ expr: Expr) -> Bool {
    if case .field = expr { return true }
    return false
  }

  /// The compiled condition and the reference on an event whose fields are `values` (by name;
  /// absent = null), bound after `previous` when given (for `first.…`).
  private func compare(
    _ expr: Expr, _ values: [String: Value], previous: [String: Value]? = nil,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    var compiler = ExprCompiler()
    let test = compiler.compileCondition(expr)
    var operands = compiler
    func event(_ values: [String: Value], sequence: UInt64) -> EventRecord {
      var slots = Array(repeating: Value.null, count: compiler.projection.count)
      for (i, path) in compiler.projection.paths.enumerated() { slots[i] = values[path.description] ?? .null }
      return EventRecord(
        time: .milliseconds(Int64(sequence)), sequence: sequence, line: 1, identity: "e", slots: EventSlots(slots))
    }
    let bindings = previous.map { MatchNode(step: 0, event: event($0, sequence: 0), previous: nil) }
    let current = event(values, sequence: 1)
    let (testContext, referenceContext) = (EvalContext(), EvalContext())
    let holds = test(current, bindings, testContext)
    let expected = reference(expr, { operands.compileValue($0)(current, bindings, referenceContext) }, referenceContext)
    let rendered = expr.rendered(stepNames: ["first", "second"])
    XCTAssertEqual(holds, expected.isTrue, "\(rendered) on \(values)", file: file, line: line)
    XCTAssertEqual(
      testContext.typeErrors, referenceContext.typeErrors, "type errors of \(rendered) on \(values)", file: file, line: line)
    XCTAssertEqual(testContext.firstTypeError, referenceContext.firstTypeError, "\(rendered) on \(values)", file: file, line: line)
    XCTAssertEqual(
      testContext.arithmeticErrors, referenceContext.arithmeticErrors, "\(rendered) on \(values)", file: file, line: line)
  }

  private func field(_ name: String) -> Expr { .field(FieldPath([name])) }
  private func str(_ s: String) -> Expr { .constant(.string(s)) }

  /// The string comparisons the bits decide, and those they must leave to `==`.
  func testStringEquality_Table() {
    let decomposed = "Zu\u{308}rich"  // canonically equivalent to "Zürich"
    let kelvin = "\u{212A}"  // KELVIN SIGN: canonically equivalent to "K"
    let long = "a-merchant-name-of-more-than-fifteen-bytes"
    let rows: [(constant: String, subject: Value)] = [
      ("purchase", .string("purchase")),
      ("purchase", .string("login")),
      ("purchase", .string("purchases")),
      ("purchase", .string("purchas")),
      ("", .string("")),
      ("", .string("x")),
      ("abcdefghijklmno", .string("abcdefghijklmno")),  // 15 bytes: the longest short string
      ("abcdefghijklmno", .string("abcdefghijklmnp")),
      ("abcdefghijklmnop", .string("abcdefghijklmnop")),  // 16 bytes: not short
      (long, .string(long)),
      (long, .string("purchase")),
      ("purchase", .string(long)),
      ("Zürich", .string("Zürich")),
      ("Zürich", .string(decomposed)),
      (decomposed, .string("Zürich")),
      ("K", .string(kelvin)),
      (kelvin, .string("K")),
      ("K", .string("k")),
      ("purchase", .null),
      ("purchase", .int(1)),
      ("purchase", .float(1.5)),
      ("purchase", .bool(true)),
      ("1", .int(1)),
      ("purchase", .list([.string("purchase")])),
    ]
    for (constant, subject) in rows {
      for op in [BinaryOperator.equal, .notEqual, .less, .greaterOrEqual] {
        compare(.binary(op, field("type"), str(constant)), ["type": subject])
        compare(.binary(op, str(constant), field("type")), ["type": subject])  // mirrored
        compare(.not(.binary(op, field("type"), str(constant))), ["type": subject])
      }
    }
    // Strings the decoder makes are built at run time; these are too, from bytes, so they are
    // not the literals' own storage.
    let runTime = String(decoding: Array("purchase".utf8), as: UTF8.self)
    compare(.binary(.equal, field("type"), str("purchase")), ["type": .string(runTime)])
    compare(.binary(.notEqual, field("type"), str(runTime)), ["type": .string("purchase")])
  }

  /// Numbers, nulls and mismatched types against constants of each kind.
  func testOtherComparisons_Table() {
    let subjects: [Value] = [.null, .int(10), .int(11), .float(10.5), .string("11"), .bool(true), .time(.milliseconds(5))]
    let constants: [Value] = [.int(10), .float(10.0), .string("11"), .bool(true), .time(.milliseconds(5)), .duration(.seconds(1))]
    for subject in subjects {
      for constant in constants {
        for op in BinaryOperator.allCases where op.isComparison {
          compare(.binary(op, field("amount"), .constant(constant)), ["amount": subject])
        }
      }
    }
  }

  /// `not` of what is always a bool is negated in the test form; of anything else it goes
  /// through the value form (null stays null, a non-bool is an error).
  func testNot_Table() {
    let big = Expr.binary(.greater, field("amount"), .constant(.int(10)))
    for amount: Value in [.null, .int(1), .int(11), .string("x")] {
      for flag: Value in [.null, .bool(true), .bool(false), .int(1)] {
        let values = ["amount": amount, "flag": flag]
        compare(.not(big), values)
        compare(.not(.not(big)), values)
        compare(.not(field("flag")), values)
        compare(.not(.not(field("flag"))), values)
        compare(.not(.and(big, field("flag"))), values)
        compare(.not(.or(field("flag"), big)), values)
        compare(.and(.not(field("flag")), big), values)
      }
    }
  }

  /// A comparison with a bound step's field goes through the general comparison.
  func testStepFields() {
    let other = Expr.binary(.notEqual, field("city"), .stepField(step: 0, FieldPath(["city"])))
    compare(other, ["city": .string("Berlin")], previous: ["city": .string("Berlin")])
    compare(other, ["city": .string("Berlin")], previous: ["city": .string("Paris")])
    compare(other, ["city": .string("Berlin")], previous: [:])
    compare(other, ["city": .int(1)], previous: ["city": .string("Paris")])
    compare(other, ["city": .string("Berlin")])  // no bindings at all
  }

  /// Random trees of `and`, `or`, `not`, comparisons and calls over fields of random values:
  /// every tree on every event answers and counts errors as the value form does.
  func testRandomConditions_AgreeWithValueForm() {
    var rng = SplitMix64(seed: 0x7E57_F0A4)
    /// A number in `0..<n`.
    func pick(_ n: Int) -> Int { Int(rng.next(upTo: UInt64(n - 1))) }
    let strings = ["purchase", "login", "", "Zürich", "Zu\u{308}rich", "K", "\u{212A}", "m1", "m1000",
                   "a-string-of-more-than-fifteen-bytes", "abcdefghijklmno"]
    func randomValue() -> Value {
      switch pick(8) {
      case 0: return .null
      case 1: return .int(Int64(pick(21)) - 10)
      case 2: return .float(Double(pick(41)) / 4 - 5)
      case 3: return .bool(pick(2) == 0)
      default: return .string(strings[pick(strings.count)])
      }
    }
    func randomOperand() -> Expr {
      if pick(2) == 0 { return .field(fields[pick(fields.count)]) }
      return .constant(randomValue())
    }
    func randomCondition(depth: Int) -> Expr {
      let choice = depth == 0 ? 3 + pick(4) : pick(7)
      switch choice {
      case 0: return .and(randomCondition(depth: depth - 1), randomCondition(depth: depth - 1))
      case 1: return .or(randomCondition(depth: depth - 1), randomCondition(depth: depth - 1))
      case 2: return .not(randomCondition(depth: depth - 1))
      case 3, 4:
        let comparisons = BinaryOperator.allCases.filter(\.isComparison)
        let op = comparisons[pick(comparisons.count)]
        return .binary(op, randomOperand(), randomOperand())
      case 5: return .call(.like, [randomOperand(), str(["m1*", "*", "K"][pick(3)])])
      default: return randomOperand()
      }
    }
    for _ in 0..<3_000 {
      let expr = randomCondition(depth: 3)
      var values: [String: Value] = [:]
      for path in fields where pick(5) != 0 { values[path.description] = randomValue() }
      compare(expr, values)
    }
  }
}
