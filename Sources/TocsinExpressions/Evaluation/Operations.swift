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
  /// yields a float.
  @inlinable
  public static func arithmetic(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) -> ArithmeticResult
  {
    if lhs.isNull || rhs.isNull { return .value(.null) }
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

  /// Applies a built-in function. Null arguments yield null (except for `exists`).
  /// - Returns: `nil` on a type mismatch.
  public static func call(_ function: Builtin, _ args: [Value]) -> Value? {
    if function == .exists { return .bool(!(args.first ?? .null).isNull) }
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
    case .lower, .upper, .len:
      guard case .string(let s) = args[0] else { return nil }
      switch function {
      case .lower: return .string(s.lowercased())
      case .upper: return .string(s.uppercased())
      default: return .int(Int64(s.count))
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
    case .matches, .regexExtract:
      // Only reached when folding constants: compiled conditions use a regex compiled once.
      guard case .string(let subject) = args[0], case .string(let pattern) = args[1],
        let regex = try? CompiledRegex(pattern)
      else { return nil }
      return regexValue(function, regex, subject, group: args.count > 2 ? args[2] : nil)
    }
  }

  /// `matches` / `regex_extract` with an already compiled pattern; `nil` when the match limit
  /// was hit (the caller counts it) or the group is not an int.
  public static func regexValue(_ function: Builtin, _ regex: CompiledRegex, _ subject: String, group: Value?)
    -> Value?
  {
    if function == .matches {
      switch regex.match(subject) {
      case .matched: return .bool(true)
      case .noMatch: return .bool(false)
      case .limitExceeded: return nil
      }
    }
    guard case .int(let g)? = group else { return nil }
    switch regex.match(subject, group: Int(g)) {
    case .matched(let text): return text.map(Value.string) ?? .null
    case .noMatch: return .null
    case .limitExceeded: return nil
    }
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
