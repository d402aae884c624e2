import TocsinCore
import TocsinExpressions
import XCTest

/// A pattern call (`like`, `matches`, `in_cidr` with a literal pattern) on a field of the event
/// reads the field in place; on anything else (here a field of a bound step) it evaluates its
/// subject into a value first. Both must give the same value, the same error counts and the same
/// first message, for every kind of subject.
final class PatternCallFormTests: XCTestCase {
  private let field = FieldPath(["note"])

  /// `function(subject, literal)` evaluated with the subject in the event (the in-place form) and
  /// in the bound step (the value form); returns the in-place form's value and first message.
  private func evaluate(
    _ function: Builtin, _ literal: String, _ subject: Value, file: StaticString = #filePath, line: UInt = #line
  ) -> (Value, String?) {
    var compiler = ExprCompiler()
    let inPlace = compiler.compileValue(.call(function, [.field(field), .constant(.string(literal))]))
    let viaValue = compiler.compileValue(.call(function, [.stepField(step: 0, field), .constant(.string(literal))]))
    var slots = Array(repeating: Value.null, count: compiler.projection.count)
    slots[compiler.slot(for: field).index] = subject
    let event = EventRecord(time: .milliseconds(1), sequence: 1, line: 1, identity: "e", slots: EventSlots(slots))
    let bindings = MatchNode(step: 0, event: event, previous: nil)
    let (a, b) = (EvalContext(), EvalContext())
    let value = inPlace(event, nil, a)
    XCTAssertEqual(value, viaValue(event, bindings, b), "\(function.name)(\(subject), \(literal))", file: file, line: line)
    XCTAssertEqual(a.typeErrors, b.typeErrors, "\(function.name)(\(subject))", file: file, line: line)
    XCTAssertEqual(a.regexLimitHits, b.regexLimitHits, "\(function.name)(\(subject))", file: file, line: line)
    XCTAssertEqual(a.firstTypeError, b.firstTypeError, "\(function.name)(\(subject))", file: file, line: line)
    return (value, a.firstTypeError)
  }

  func testBothFormsAgree_TableOfCases() {
    struct Case {
      var function: Builtin
      var literal: String
      var subject: Value
      var value: Value
      var message: String?
      var line: UInt
    }
    let long = String(repeating: "m1", count: 20)  // not a small string: held by reference
    let cases = [
      Case(function: .like, literal: "m1*", subject: .string("m123"), value: .bool(true), line: #line),
      Case(function: .like, literal: "m1*", subject: .string("m2"), value: .bool(false), line: #line),
      Case(function: .like, literal: "m1*", subject: .string(long), value: .bool(true), line: #line),
      Case(function: .like, literal: "m1*", subject: .null, value: .null, line: #line),
      Case(function: .like, literal: "m1*", subject: .int(12), value: .null, message: "like() got int", line: #line),
      Case(function: .matches, literal: "^a.c$", subject: .string("abc"), value: .bool(true), line: #line),
      Case(function: .matches, literal: "^a.c$", subject: .string("abcd"), value: .bool(false), line: #line),
      Case(function: .matches, literal: "^a.c$", subject: .bool(true), value: .null, message: "matches() got bool", line: #line),
      Case(function: .matches, literal: "^a.c$", subject: .null, value: .null, line: #line),
      Case(function: .inCidr, literal: "10.0.0.0/8", subject: .string("10.1.2.3"), value: .bool(true), line: #line),
      Case(function: .inCidr, literal: "10.0.0.0/8", subject: .string("11.1.2.3"), value: .bool(false), line: #line),
      Case(
        function: .inCidr, literal: "10.0.0.0/8", subject: .string("not an address"), value: .null,
        message: "in_cidr() got a string that is not an IP address", line: #line),
      Case(function: .inCidr, literal: "10.0.0.0/8", subject: .float(1.5), value: .null, message: "in_cidr() got float", line: #line),
    ]
    for c in cases {
      let (value, message) = evaluate(c.function, c.literal, c.subject, line: c.line)
      XCTAssertEqual(value, c.value, "\(c.function.name)(\(c.subject), \(c.literal))", line: c.line)
      XCTAssertEqual(message, c.message, line: c.line)
    }
  }
}
