import TocsinCore
import TocsinExpressions
import XCTest

/// Times, durations, calendar functions with zones, `speed_kmh`, `split` and `in` on lists, and
/// shared regex results. Expected values are worked out by hand in the comments.
final class TimeAndListTests: XCTestCase {
  private let a = Expr.field(FieldPath(["a"]))
  private let b = Expr.field(FieldPath(["b"]))

  private func time(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Value {
    guard let t = RFC3339.parse(text) else {
      XCTFail("bad time \(text)", file: file, line: line)
      return .null
    }
    return .time(t)
  }

  private func minutes(_ n: Int64) -> Value { .duration(.minutes(n)) }

  /// Evaluates `expr` on one event with fields `a`, `b` (time 2026-01-01T00:00:00Z) and
  /// returns the value and the number of type / arithmetic errors.
  private func evaluate(_ expr: Expr, _ fields: [String: Value]) -> (Value, Int) {
    var compiler = ExprCompiler()
    let evaluator = compiler.compileValue(expr)
    var slots = Array(repeating: Value.null, count: compiler.projection.count)
    for (i, path) in compiler.projection.paths.enumerated() { slots[i] = fields[path.description] ?? .null }
    let event = EventRecord(time: .milliseconds(1_767_225_600_000), sequence: 0, line: 1, identity: "e", slots: slots)
    let context = EvalContext()
    let value = evaluator(event, nil, context)
    return (value, context.typeErrors + context.arithmeticErrors)
  }

  // MARK: - Arithmetic and comparison

  func testTemporalArithmetic() {
    let t0 = time("2026-01-01T00:00:00Z")
    let t5 = time("2026-01-01T00:05:00Z")
    let rows: [(Value, BinaryOperator, Value, Value, errors: Int)] = [
      (t5, .subtract, t0, minutes(5), 0),  // time − time = duration
      (t0, .subtract, t5, minutes(-5), 0),
      (t0, .add, minutes(5), t5, 0),  // time ± duration = time
      (minutes(5), .add, t0, t5, 0),
      (t5, .subtract, minutes(5), t0, 0),
      (minutes(90), .subtract, minutes(30), .duration(.hours(1)), 0),
      (minutes(10), .multiply, .int(3), minutes(30), 0),  // duration × number
      (.int(3), .multiply, minutes(10), minutes(30), 0),
      (minutes(10), .multiply, .float(1.5), minutes(15), 0),
      (minutes(10), .divide, .int(4), .duration(.seconds(150)), 0),
      (minutes(10), .divide, .float(0.5), minutes(20), 0),
      (minutes(10), .divide, minutes(4), .float(2.5), 0),  // duration ÷ duration = ratio
      (minutes(10), .divide, .int(0), .null, 1),  // division by zero
      (minutes(10), .divide, minutes(0), .null, 1),
      (.duration(EventDuration(nanoseconds: .max)), .add, minutes(1), .null, 1),  // overflow
      (t0, .add, t5, .null, 1),  // time + time: type error
      (t0, .multiply, .int(2), .null, 1),
      (minutes(5), .add, .int(1), .null, 1),
      (t0, .subtract, .int(1), .null, 1),
      (.null, .subtract, t0, .null, 0),  // null propagates without an error
    ]
    for (lhs, op, rhs, expected, errors) in rows {
      let expr = Expr.binary(op, a, b)
      let (value, count) = evaluate(expr, ["a": lhs, "b": rhs])
      XCTAssertEqual(value, expected, "\(lhs) \(op.rawValue) \(rhs)")
      XCTAssertEqual(count, errors, "\(lhs) \(op.rawValue) \(rhs): errors")
    }
  }

  func testTemporalComparison() {
    let t0 = time("2026-01-01T00:00:00Z")
    let t1 = time("2026-01-01T00:00:00.001Z")
    let rows: [(Value, BinaryOperator, Value, Bool?)] = [
      (t0, .less, t1, true), (t1, .lessOrEqual, t0, false), (t0, .equal, t0, true),
      (minutes(5), .less, .duration(.seconds(301)), true), (minutes(5), .equal, .duration(.seconds(300)), true),
      (minutes(5), .greater, .int(3), nil),  // duration vs int: a type error at run time
      (t0, .equal, minutes(5), nil), (t0, .less, .int(0), nil),
      (t0, .less, .null, false),
    ]
    for (lhs, op, rhs, expected) in rows {
      XCTAssertEqual(Operations.compare(op, lhs, rhs), expected, "\(lhs) \(op.rawValue) \(rhs)")
    }
  }

  func testEventTimes() {
    // `time()` is the event's own time; `-5m` (a negated duration) folds to a constant.
    let (now, _) = evaluate(.eventTime, [:])
    XCTAssertEqual(now, time("2026-01-01T00:00:00Z"))
    let (earlier, errors) = evaluate(.binary(.add, .eventTime, .negate(.constant(minutes(5)))), [:])
    XCTAssertEqual(earlier, time("2025-12-31T23:55:00Z"))
    XCTAssertEqual(errors, 0)
    XCTAssertNil(ExprCompiler.constantValue(of: .eventTime))
    XCTAssertEqual(ExprCompiler.constantValue(of: .binary(.multiply, .constant(minutes(5)), .constant(.int(2)))), minutes(10))
  }

  // MARK: - Calendar and zones

  func testCalendarFunctionsInZones() {
    let rows: [(Builtin, String, String?, Value)] = [
      // UTC, and the same instant in other zones.
      (.hourOfDay, "2026-06-30T22:30:00Z", nil, .int(22)),
      (.date, "2026-06-30T22:30:00Z", nil, .string("2026-06-30")),
      (.dayOfWeek, "2026-06-30T22:30:00Z", nil, .int(2)),  // a Tuesday
      (.hourOfDay, "2026-06-30T22:30:00Z", "Europe/Berlin", .int(0)),  // CEST, +2: 00:30 next day
      (.date, "2026-06-30T22:30:00Z", "Europe/Berlin", .string("2026-07-01")),
      (.dayOfWeek, "2026-06-30T22:30:00Z", "Europe/Berlin", .int(3)),  // a Wednesday
      (.hourOfDay, "2026-01-01T00:00:00Z", "Asia/Kolkata", .int(5)),  // +5:30
      (.date, "2026-01-01T03:00:00Z", "America/Los_Angeles", .string("2025-12-31")),  // PST, −8
      // Berlin's spring switch at 2026-03-29T01:00:00Z: 01:59:59 CET, then 03:00:00 CEST.
      (.hourOfDay, "2026-03-29T00:59:59Z", "Europe/Berlin", .int(1)),
      (.hourOfDay, "2026-03-29T01:00:00Z", "Europe/Berlin", .int(3)),
      // Autumn switch at 2026-10-25T01:00:00Z: 02:59:59 CEST, then 02:00:00 CET again.
      (.hourOfDay, "2026-10-25T00:59:59Z", "Europe/Berlin", .int(2)),
      (.hourOfDay, "2026-10-25T01:00:00Z", "Europe/Berlin", .int(2)),
      (.hourOfDay, "2026-10-25T02:00:00Z", "Europe/Berlin", .int(3)),
      // New York's spring switch at 2026-03-08T07:00:00Z: 01:59:59 EST, then 03:00:00 EDT.
      (.hourOfDay, "2026-03-08T06:59:59Z", "America/New_York", .int(1)),
      (.hourOfDay, "2026-03-08T07:00:00Z", "America/New_York", .int(3)),
      // Before the table (1970): Foundation directly; Germany had no DST in 1960, so CET.
      (.hourOfDay, "1960-07-01T12:00:00Z", "Europe/Berlin", .int(13)),
      (.dayOfWeek, "1969-12-31T23:00:00Z", nil, .int(3)),  // a Wednesday, before the epoch
    ]
    for (function, instant, zone, expected) in rows {
      let args: [Expr] = [a] + (zone.map { [.constant(.string($0))] } ?? [])
      let (compiled, errors) = evaluate(.call(function, args), ["a": time(instant)])
      XCTAssertEqual(compiled, expected, "\(function.name)(\(instant), \(zone ?? "UTC"))")
      XCTAssertEqual(errors, 0)
      // The generic path (constant folding) agrees with the compiled one.
      let generic = Operations.call(function, [time(instant)] + (zone.map { [.string($0)] } ?? []))
      XCTAssertEqual(generic, expected, "generic \(function.name)(\(instant), \(zone ?? "UTC"))")
    }
  }

  func testCalendarInputs() {
    // Epoch milliseconds and RFC 3339 text still work; other types are type errors.
    XCTAssertEqual(evaluate(.call(.hourOfDay, [a]), ["a": .int(1_767_229_200_000)]).0, .int(1))
    XCTAssertEqual(evaluate(.call(.date, [a]), ["a": .string("2026-01-01T23:00:00-02:00")]).0, .string("2026-01-02"))
    XCTAssertEqual(evaluate(.call(.date, [a]), ["a": .bool(true)]).1, 1)
    XCTAssertEqual(evaluate(.call(.date, [a]), [:]).0, .null)
    XCTAssertEqual(evaluate(.call(.toTime, [a]), ["a": .int(0)]).0, time("1970-01-01T00:00:00Z"))
    XCTAssertEqual(evaluate(.call(.toTime, [a]), ["a": .string("yesterday")]).1, 1)
    XCTAssertTrue(TimeZoneRules.isKnown("Europe/Berlin"))
    XCTAssertFalse(TimeZoneRules.isKnown("Europe/Berln"))
    XCTAssertFalse(TimeZoneRules.isKnown(""))
  }

  // MARK: - speed_kmh

  func testSpeed() {
    let t0 = time("2026-01-01T00:00:00Z")
    let rows: [(lat2: Double, lon2: Double, Value, expected: Double?)] = [
      (0, 1, time("2026-01-01T00:30:00Z"), 222.39),  // 1° of the equator (111.195 km) in 30 min
      (0, 1, time("2025-12-31T23:30:00Z"), 222.39),  // the order of the times does not matter
      (0, 0, time("2026-01-01T01:00:00Z"), 0),  // no movement
      (0, 1, t0, nil),  // equal times: no finite speed, null (the condition is false)
      (0, 0, t0, nil),
    ]
    for (lat2, lon2, t2, expected) in rows {
      let expr = Expr.call(
        .speedKmh, [.constant(.int(0)), .constant(.int(0)), a, .constant(.float(lat2)), .constant(.float(lon2)), b])
      let (value, errors) = evaluate(expr, ["a": t0, "b": t2])
      XCTAssertEqual(errors, 0)
      guard let expected else {
        XCTAssertEqual(value, .null)
        continue
      }
      XCTAssertEqual(value.doubleValue ?? -1, expected, accuracy: 0.01, "to (\(lat2), \(lon2)) at \(t2)")
    }
    // Epoch milliseconds work as times; a string position is a type error.
    let ms = Expr.call(.speedKmh, [.constant(.int(0)), .constant(.int(0)), .constant(.int(0)), .constant(.int(0)), .constant(.int(1)), .constant(.int(1_800_000))])
    XCTAssertEqual(ExprCompiler.constantValue(of: ms)?.doubleValue ?? -1, 222.39, accuracy: 0.01)
    XCTAssertEqual(evaluate(.call(.speedKmh, [a, a, b, a, a, b]), ["a": .string("x"), "b": t0]).1, 1)
  }

  // MARK: - Lists

  func testSplitLenAndMembership() {
    let list = Expr.call(.split, [a, .constant(.string(","))])
    let rows: [(Value?, Value, lenth: Value, hasVIP: Value)] = [
      (.string("vip,new"), .list([.string("vip"), .string("new")]), .int(2), .bool(true)),
      (.string("a,,b"), .list([.string("a"), .string(""), .string("b")]), .int(3), .bool(false)),
      (.string(""), .list([.string("")]), .int(1), .bool(false)),
      (nil, .null, .null, .null),  // a missing field: null list, null membership
    ]
    for (input, expected, length, hasVIP) in rows {
      let fields = input.map { ["a": $0] } ?? [:]
      XCTAssertEqual(evaluate(list, fields).0, expected)
      XCTAssertEqual(evaluate(.call(.len, [list]), fields).0, length)
      XCTAssertEqual(evaluate(.member(.constant(.string("vip")), list: list), fields).0, hasVIP)
    }
    // A null element is not in any list; a number equals a number of the other kind.
    XCTAssertEqual(evaluate(.member(b, list: list), ["a": .string("x")]).0, .bool(false))
    XCTAssertTrue(Operations.listContains([.int(1)], .float(1)))
    XCTAssertEqual(Operations.split("abc", separator: ""), [.string("abc")])
    XCTAssertEqual(Operations.split("a::b", separator: "::"), [.string("a"), .string("b")])
    // `in` on something that is not a list is a type error.
    XCTAssertEqual(evaluate(.member(b, list: a), ["a": .string("x"), "b": .string("x")]).1, 1)
  }

  // MARK: - Shared regex results

  func testRepeatedRegexOnOneFieldRunsOncePerEvaluation() throws {
    let pattern = "(b+)"
    let shared = Expr.and(
      .call(.matches, [a, .constant(.string(pattern))]),
      .binary(.equal, .call(.regexExtract, [a, .constant(.string(pattern)), .constant(.int(1))]), .constant(.string("bb"))))
    // Subjects longer than 15 bytes: a short one's result would come from the regex's own
    // table after its first run (``RegexResultCache``), hiding the memo's work.
    let pad = String(repeating: "-", count: 16)
    let rows: [(Expr, String, Bool, runs: Int)] = [
      (shared, pad + "abbc", true, 1),  // one run serves both calls
      (shared, pad + "abc", false, 1),
      (shared, pad + "xyz", false, 1),  // `and` stops after the failed match anyway
      // Different fields: no sharing, two runs.
      (.and(.call(.matches, [a, .constant(.string(pattern))]), .call(.matches, [b, .constant(.string(pattern))])), pad + "b", true, 2),
    ]
    for (condition, subject, expected, runs) in rows {
      var compiler = ExprCompiler()
      let predicate = compiler.compileCondition(condition)
      guard case .regex(let regex)? = compiler.literalPattern(.matches, pattern) else {
        return XCTFail("pattern not compiled")
      }
      var slots = Array(repeating: Value.null, count: compiler.projection.count)
      for (i, path) in compiler.projection.paths.enumerated() {
        slots[i] = path.description == "a" ? .string(subject) : .string(pad + "b")
      }
      let event = EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: slots)
      let before = regex.runCount
      XCTAssertEqual(predicate(event, nil, EvalContext()), expected, "\(subject)")
      XCTAssertEqual(regex.runCount - before, runs, "\(subject): runs in the first evaluation")
      // A second evaluation (another event, or another partial match) runs it again.
      XCTAssertEqual(predicate(event, nil, EvalContext()), expected)
      XCTAssertEqual(regex.runCount - before, 2 * runs, "\(subject): runs after two evaluations")
    }
  }
}
