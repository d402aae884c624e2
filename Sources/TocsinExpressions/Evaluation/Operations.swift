import TocsinCore

/// The run-time meaning of operators and built-in functions on ``Value``s.
///
/// Every function is total: a type mismatch returns `nil` (the caller records a type error and
/// treats the condition as false); a null operand propagates as null without an error, since a
/// missing field is not a mistake in the rule.
public enum Operations {
  // MARK: - Comparison

  /// `lhs op rhs` for a comparison operator. Any null operand gives `false`.
  /// - Returns: `nil` on a type mismatch (string vs number, ordering booleans…).
  @inlinable
  public static func compare(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) -> Bool? {
    switch (lhs, rhs) {
    case (.null, _), (_, .null):
      return false
    case (.int(let a), .int(let b)):
      return ordered(op, a, b)
    case (.int, .float), (.float, .int), (.float, .float):
      // swift-format-ignore: NeverForceUnwrap — both cases are numeric, so doubleValue exists.
      return ordered(op, lhs.doubleValue!, rhs.doubleValue!)
    case (.string(let a), .string(let b)):
      return ordered(op, a, b)
    case (.time(let a), .time(let b)):
      return ordered(op, a, b)
    case (.duration(let a), .duration(let b)):
      return ordered(op, a, b)
    case (.bool(let a), .bool(let b)):
      switch op {
      case .equal: return a == b
      case .notEqual: return a != b
      default: return nil
      }
    default:
      return nil
    }
  }

  @inlinable
  static func ordered<T: Comparable>(_ op: BinaryOperator, _ a: T, _ b: T) -> Bool? {
    switch op {
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return a < b
    case .lessOrEqual: return a <= b
    case .greater: return a > b
    case .greaterOrEqual: return a >= b
    case .add, .subtract, .multiply, .divide: return nil
    }
  }

  // MARK: - Arithmetic

  /// The outcome of an arithmetic operation.
  public enum ArithmeticResult {
    /// A value (possibly null when an operand was null).
    case value(Value)
    /// The operands' types do not support the operator.
    case typeError
    /// Division by zero or a non-finite result.
    case arithmeticError
  }

  /// `lhs op rhs` for `+ - * /`. Ints stay ints unless they overflow (then float); `/` always
  /// yields a float. Times and durations follow ``temporalArithmetic(_:_:_:)``.
  @inlinable
  public static func arithmetic(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) -> ArithmeticResult
  {
    if lhs.isNull || rhs.isNull { return .value(.null) }
    switch (lhs, rhs) {
    case (.time, _), (_, .time), (.duration, _), (_, .duration): return temporalArithmetic(op, lhs, rhs)
    default: break
    }
    if case .int(let a) = lhs, case .int(let b) = rhs, op != .divide {
      let (r, overflow): (Int64, Bool)
      switch op {
      case .add: (r, overflow) = a.addingReportingOverflow(b)
      case .subtract: (r, overflow) = a.subtractingReportingOverflow(b)
      case .multiply: (r, overflow) = a.multipliedReportingOverflow(by: b)
      default: return .typeError
      }
      if !overflow { return .value(.int(r)) }
    }
    guard let a = lhs.doubleValue, let b = rhs.doubleValue else { return .typeError }
    let r: Double
    switch op {
    case .add: r = a + b
    case .subtract: r = a - b
    case .multiply: r = a * b
    case .divide:
      if b == 0 { return .arithmeticError }
      r = a / b
    default: return .typeError
    }
    return r.isFinite ? .value(.float(r)) : .arithmeticError
  }

  // MARK: - Built-in functions

  /// Mean Earth radius in kilometres (IUGG).
  public static let earthRadiusKm = 6371.0088

  /// Great-circle distance between two points given in degrees (haversine formula).
  public static func distanceKm(lat1: Double, lon1: Double, lat2: Double, lon2: Double) -> Double {
    let rad = Double.pi / 180
    let dLat = (lat2 - lat1) * rad
    let dLon = (lon2 - lon1) * rad
    let s1 = sin(dLat / 2)
    let s2 = sin(dLon / 2)
    let h = s1 * s1 + cos(lat1 * rad) * cos(lat2 * rad) * s2 * s2
    return 2 * earthRadiusKm * asin(Swift.min(1, h.squareRoot()))
  }

  /// Applies a built-in function. Null arguments yield null (except for `exists` and
  /// `coalesce`). A literal pattern argument (regex, glob, CIDR) is compiled on every call here;
  /// ``ExprCompiler`` compiles it once and calls ``call(_:_:pattern:)`` instead.
  /// - Returns: `nil` on a type mismatch.
  public static func call(_ function: Builtin, _ args: [Value]) -> Value? {
    args.withUnsafeBufferPointer { call(function, $0) }
  }

  /// ``call(_:_:)-([Value])`` over arguments the caller keeps (on the stack, for the compiled
  /// evaluators: no array per call).
  public static func call(_ function: Builtin, _ args: UnsafeBufferPointer<Value>) -> Value? {
    if function == .exists { return .bool(!(args.first ?? .null).isNull) }
    if function == .coalesce {
      guard args.count == 2 else { return nil }
      return args[0].isNull ? args[1] : args[0]
    }
    if args.contains(where: \.isNull) { return .null }
    switch function {
    case .distanceKm:
      guard args.count == 4, let a = args[0].doubleValue, let b = args[1].doubleValue,
        let c = args[2].doubleValue, let d = args[3].doubleValue
      else { return nil }
      let km = distanceKm(lat1: a, lon1: b, lat2: c, lon2: d)
      return km.isFinite ? .float(km) : .null
    case .abs:
      switch args[0] {
      case .int(let i): return i == .min ? .float(-Double(i)) : .int(Swift.abs(i))
      case .float(let d): return .float(Swift.abs(d))
      default: return nil
      }
    case .round:
      switch args[0] {
      case .int: return args[0]
      case .float(let d):
        let r = d.rounded(.toNearestOrAwayFromZero)
        if let i = Int64(exactly: r) { return .int(i) }
        return r.isFinite ? .float(r) : .null
      default: return nil
      }
    case .len:
      switch args[0] {
      case .string(let s): return .int(Int64(s.count))
      case .list(let items): return .int(Int64(items.count))
      default: return nil
      }
    case .lower, .upper:
      guard case .string(let s) = args[0] else { return nil }
      switch function {
      case .lower: return .string(s.lowercased())
      default: return .string(s.uppercased())
      }
    case .contains, .startsWith, .endsWith:
      guard case .string(let s) = args[0], case .string(let part) = args[1] else { return nil }
      switch function {
      case .contains: return .bool(part.isEmpty || s.contains(part))
      case .startsWith: return .bool(s.hasPrefix(part))
      default: return .bool(s.hasSuffix(part))
      }
    case .min, .max:
      guard args.count == 2, let a = args[0].doubleValue, let b = args[1].doubleValue else {
        return nil
      }
      let pickFirst = function == .min ? a <= b : a >= b
      return pickFirst ? args[0] : args[1]
    case .exists:
      return .bool(!args[0].isNull)
    case .coalesce:
      return args[0].isNull ? args[1] : args[0]
    case .trim:
      guard case .string(let s) = args[0] else { return nil }
      return .string(trimmed(s))
    case .floor, .ceil:
      switch args[0] {
      case .int: return args[0]
      case .float(let d):
        let r = d.rounded(function == .floor ? .down : .up)
        if let i = Int64(exactly: r) { return .int(i) }
        return r.isFinite ? .float(r) : .null
      default: return nil
      }
    case .hourOfDay, .dayOfWeek, .date:
      guard let time = instant(args[0]) else { return nil }
      var zone = TimeZoneRules.utc
      if args.count > 1 {
        // The compiled path resolves the zone once; this one (folding, tests) does it per call.
        guard case .string(let name) = args[1], let rules = TimeZoneRules(identifier: name) else { return nil }
        zone = rules
      }
      return calendar(function, time, in: zone)
    case .toTime:
      return instant(args[0]).map(Value.time)
    case .speedKmh:
      guard args.count == 6, let lat1 = args[0].doubleValue, let lon1 = args[1].doubleValue,
        let t1 = instant(args[2]), let lat2 = args[3].doubleValue, let lon2 = args[4].doubleValue,
        let t2 = instant(args[5])
      else { return nil }
      return speedKmh(lat1: lat1, lon1: lon1, at: t1, lat2: lat2, lon2: lon2, at: t2).map(Value.float) ?? .null
    case .split:
      guard case .string(let s) = args[0], case .string(let separator) = args[1] else { return nil }
      return .list(split(s, separator: separator))
    case .matches, .regexExtract, .like, .inCidr:
      guard case .string(let literal) = args[1], case .success(let pattern) = LiteralPattern.compile(function, literal)
      else { return nil }
      return call(function, args[0], group: args.count > 2 ? args[2] : .null, pattern: pattern).value
    }
  }

  /// The outcome of a function with a compiled literal pattern.
  public enum PatternCallResult {
    case value(Value)
    case typeError
    /// The regex ran out of its match limit: the call is null (so a condition is false) and the
    /// caller counts it.
    case limitExceeded

    /// The value, null for a limit, `nil` for a type error.
    public var value: Value? {
      switch self {
      case .value(let v): return v
      case .typeError: return nil
      case .limitExceeded: return .null
      }
    }
  }

  /// `matches`, `regex_extract`, `like` or `in_cidr` with its literal argument already compiled.
  /// `group` is `regex_extract`'s third argument (ignored by the others).
  public static func call(_ function: Builtin, _ subjectValue: Value, group groupValue: Value, pattern: LiteralPattern)
    -> PatternCallResult
  {
    if subjectValue.isNull || (function == .regexExtract && groupValue.isNull) { return .value(.null) }
    guard case .string(let subject) = subjectValue else { return .typeError }
    switch (function, pattern) {
    case (.matches, .regex(let regex)), (.like, .regex(let regex)):
      switch regex.matches(subject) {
      case .matched: return .value(.bool(true))
      case .notMatched: return .value(.bool(false))
      case .limitExceeded: return .limitExceeded
      }
    case (.like, .glob(let glob)):
      return .value(.bool(glob.matches(subject)))
    case (.regexExtract, .regex(let regex)):
      guard case .int(let group) = groupValue else { return .typeError }
      switch regex.extract(subject, group: Int(clamping: group)) {
      case .matched(let text): return .value(text.map(Value.string) ?? .null)
      case .notMatched: return .value(.null)
      case .limitExceeded: return .limitExceeded
      }
    case (.inCidr, .cidr(let block)):
      guard let inside = block.contains(subject) else { return .typeError }
      return .value(.bool(inside))
    default:
      return .typeError
    }
  }

  /// `s` without leading and trailing white space.
  static func trimmed(_ s: String) -> String {
    guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return "" }
    // swift-format-ignore: NeverForceUnwrap — a non-white character exists.
    let last = s.lastIndex(where: { !$0.isWhitespace })!
    return String(s[first...last])
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
