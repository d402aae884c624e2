import TocsinCore
import TocsinExpressions

/// An expression lowered to IR, with its static type.
struct TypedExpr {
  var expr: Expr
  var type: ValueType
}

/// Name resolution and type checks for `where` conditions and `emit` values.
///
/// A path `a.b.c` in a `where` of step S means, in this order: a field of earlier step `a`
/// (`.stepField`), a field of the current event if `a` is S itself, an error if `a` is a later
/// step, and otherwise the current event's field `a.b.c`. In `emit` and `on timeout emit`, `a` may
/// be any singleton step (one that may not have matched reads as null) and a bare field is read
/// from the match's last event. A step that loops or sits in a repeated group needs an aggregate;
/// a negation step binds no event and cannot be read (except by its own condition).
extension RuleChecker {
  /// Resolves `syntax`; `nil` when an error was reported inside it.
  mutating func resolve(_ syntax: ExprSyntax, in context: Context) -> TypedExpr? {
    switch syntax.kind {
    case .integer(let n): return TypedExpr(expr: .constant(.int(n)), type: .int)
    case .float(let x): return TypedExpr(expr: .constant(.float(x)), type: .float)
    case .duration(let d): return TypedExpr(expr: .constant(.duration(d)), type: .duration)
    case .string(let s): return TypedExpr(expr: .constant(.string(s)), type: .string)
    case .bool(let b): return TypedExpr(expr: .constant(.bool(b)), type: .bool)
    case .null: return TypedExpr(expr: .constant(.null), type: .null)
    case .key: return TypedExpr(expr: .key, type: .string)
    case .parenthesized(let inner): return resolve(inner, in: context)
    case .inList(let lhsSyntax, let keyword, let elements):
      return resolveInList(lhsSyntax, keyword: keyword, elements, in: context)
    case .inValue(let elementSyntax, _, let listSyntax):
      let element = resolve(elementSyntax, in: context)
      let list = resolve(listSyntax, in: context)
      guard let element, let list else { return nil }
      guard list.type == .list || list.type == .unknown else {
        report(.inNotList(list.type), at: listSyntax.range)
        return nil
      }
      return TypedExpr(expr: .member(element.expr, list: list.expr), type: .bool)
    case .path(let path): return resolvePath(path, in: context)
    case .call(let name, let arguments): return resolveCall(name, arguments, in: context)
    case .prefix(let op, let operand):
      guard let typed = resolve(operand, in: context) else { return nil }
      return resolvePrefix(op, typed, operandRange: operand.range)
    case .infix(let op, let lhsSyntax, let rhsSyntax):
      let lhs = resolve(lhsSyntax, in: context)
      let rhs = resolve(rhsSyntax, in: context)
      guard let lhs, let rhs else { return nil }
      return resolveInfix(op, lhs, rhs, lhsRange: lhsSyntax.range, rhsRange: rhsSyntax.range, whole: syntax.range)
    }
  }

  // MARK: - Names

  private mutating func resolvePath(_ path: PathSyntax, in context: Context) -> TypedExpr? {
    let head = path.components[0]
    let rest = Array(path.components.dropFirst())
    let restRange = rest.isEmpty ? path.range : SourceRange(start: rest[0].range.start, end: path.range.end)
    let restPath = rest.isEmpty ? nil : FieldPath(rest.map(\.value))

    if let index = stepIndex(named: head.value) {
      let step = steps[index]
      let declared = [note("'\(head.value)' is declared here", at: step.name?.range ?? step.kind.range)]
      if case .condition(let current) = context, index > current {
        report(
          .stepDeclaredLater(step: head.value, current: steps[current].name?.value ?? "?"),
          at: head.range, notes: declared)
        return nil
      }
      let isCurrent: Bool
      if case .condition(let current) = context, index == current { isCurrent = true } else { isCurrent = false }
      guard !step.isNegation || isCurrent else {
        report(.negationStepRead(step: head.value), at: head.range, notes: declared)
        return nil
      }
      guard let restPath else {
        report(.stepWithoutField(step: head.value), at: path.range)
        return nil
      }
      guard !bindsSeveralEvents(index) else {
        report(.loopingStepField(step: head.value), at: path.range)
        return nil
      }
      fieldUses.append(FieldUse(name: restPath.description, file: file, range: restRange))
      if case .condition(let current) = context, index == current {
        return declaredField(.field(restPath), restPath, at: restRange)
      }
      readSteps.insert(index)
      if case .condition(let current) = context, mayBeSkipped(index, before: current) {
        noteOptionalRead(index, name: head, notes: declared)
      }
      return declaredField(.stepField(step: index, restPath), restPath, at: restRange)
    }

    let fieldPath = FieldPath(path.components.map(\.value))
    // `frist.lat`: a dotted path whose head looks like a step is probably a misspelt step.
    if !rest.isEmpty, let suggestion = Suggestions.closest(to: head.value, among: stepNames) {
      report(
        .fieldLooksLikeStep(name: head.value, path: path.dotted), at: head.range,
        hint: "did you mean '\(suggestion)'?")
    } else {
      fieldUses.append(FieldUse(name: fieldPath.description, file: file, range: path.range))
    }
    return declaredField(.field(fieldPath), fieldPath, at: path.range)
  }

  /// A field read with the type its schema declares (`unknown` without a schema); `nil` after
  /// reporting a field the schema does not declare. A `time` field is read through `to_time`.
  private mutating func declaredField(_ expr: Expr, _ path: FieldPath, at range: SourceRange) -> TypedExpr? {
    guard let schema else { return TypedExpr(expr: expr, type: .unknown) }
    guard let declared = schema.fields[path.description] else {
      guard schema.isComplete else { return TypedExpr(expr: expr, type: .unknown) }
      checkDeclared(path, at: range)
      return nil
    }
    if declared == .time { return TypedExpr(expr: .call(.toTime, [expr]), type: .time) }
    return TypedExpr(expr: expr, type: declared.valueType)
  }

  /// Reports `path` when the file has a schema that does not declare it.
  mutating func checkDeclared(_ path: FieldPath, at range: SourceRange) {
    guard let schema, schema.isComplete, schema.fields[path.description] == nil else { return }
    report(
      .unknownField(path.description), at: range,
      hint: Suggestions.didYouMean(path.description, among: schema.names)
        ?? "declare it in the schema, like '\(path.description): string'")
  }

  // MARK: - Calls

  private mutating func resolveCall(
    _ name: Located<String>, _ arguments: [ExprSyntax], in context: Context
  ) -> TypedExpr? {
    if let aggregate = AggregateFunction(rawValue: name.value) {
      return resolveAggregate(aggregate, name, arguments, in: context)
    }
    if name.value == "time" { return resolveTime(name, arguments, in: context) }
    if name.value == Builtin.speedKmh.name, arguments.count == 2 {
      return resolveSpeed(name, arguments, in: context)
    }
    if name.value == Builtin.speedKmh.name, arguments.count != 6 {
      // Checked first: the arguments of a wrong-sized call are often step names.
      report(
        .wrongArgumentCount(function: name.value, expected: [2, 6], found: arguments.count, signature: Builtin.speedKmh.signature),
        at: name.range)
      return nil
    }
    let isGuard = name.value == Builtin.exists.name || name.value == Builtin.coalesce.name
    if isGuard { guardDepth += 1 }
    let resolved = arguments.map { resolve($0, in: context) }
    if isGuard { guardDepth -= 1 }
    guard let builtin = Builtin.named(name.value) else {
      let candidates = Builtin.allCases.map(\.name) + AggregateFunction.allCases.map(\.rawValue) + ["time"]
      report(
        .unknownFunction(name.value), at: name.range,
        hint: Suggestions.didYouMean(name.value, among: candidates))
      return nil
    }
    let counts = builtin == .speedKmh
      ? [2, 6] : Array(builtin.minimumArgumentCount...builtin.parameters.count)
    guard counts.contains(arguments.count), arguments.count <= builtin.parameters.count else {
      report(
        .wrongArgumentCount(function: builtin.name, expected: counts, found: arguments.count, signature: builtin.signature),
        at: name.range)
      return nil
    }
    var exprs: [Expr] = []
    var ok = true
    for (i, (argument, expected)) in zip(resolved, builtin.parameters).enumerated() {
      guard let argument else {
        ok = false
        continue
      }
      if !argument.type.isAssignable(to: expected) {
        report(
          .argumentTypeMismatch(position: i + 1, function: builtin.name, found: argument.type, expected: expected),
          at: arguments[i].range)
        ok = false
      }
      exprs.append(argument.expr)
    }
    guard ok else { return nil }
    if let position = builtin.literalArgument,
      !checkLiteralPattern(builtin, arguments, position: position)
    {
      return nil
    }
    if let position = builtin.zoneArgument, position < arguments.count,
      !checkZone(builtin, arguments[position], position: position)
    {
      return nil
    }
    var type = builtin.result
    if builtin == .coalesce, let a = resolved[0], let b = resolved[1] {
      type = a.type == b.type ? a.type : (a.type == .null ? b.type : (b.type == .null ? a.type : .unknown))
    }
    return TypedExpr(expr: .call(builtin, exprs), type: type)
  }

  /// Checks the literal argument of `matches`, `regex_extract`, `like` or `in_cidr` by compiling
  /// it; a bad regex is reported at PCRE2's error offset inside the string literal.
  /// A literal group of `regex_extract` must exist in the pattern.
  private mutating func checkLiteralPattern(_ builtin: Builtin, _ arguments: [ExprSyntax], position: Int) -> Bool {
    let syntax = arguments[position]
    guard case .string(let literal) = syntax.kind else {
      report(
        .argumentNotLiteral(position: position + 1, function: builtin.name, signature: builtin.signature),
        at: syntax.range)
      return false
    }
    switch LiteralPattern.compile(builtin, literal) {
    case .success(.regex(let regex)) where builtin == .regexExtract:
      if case .integer(let group) = arguments[2].kind, group > regex.captureCount {
        report(.regexGroupOutOfRange(group: group, groups: regex.captureCount), at: arguments[2].range)
        return false
      }
      return true
    case .success: return true
    case .failure(.cidr):
      report(.invalidCidr(literal), at: syntax.range, hint: "write an address and a prefix length, like '10.0.0.0/8' or '2001:db8::/32'")
    case .failure(.regex(let message, let offset)):
      let range = builtin == .like ? syntax.range : rangeInStringLiteral(syntax.range, decodedOffset: offset)
      report(.invalidRegex(message), at: range)
    }
    return false
  }

  /// The source range of the character at byte `decodedOffset` of a string literal's decoded
  /// value, accounting for escapes (`\\`, `\"`, `\n`, `\t`, `\uXXXX`); at the end of the
  /// value, the empty range before the closing quote.
  func rangeInStringLiteral(_ literal: SourceRange, decodedOffset: Int) -> SourceRange {
    let bytes = file.bytes
    let close = Swift.max(literal.start + 1, literal.end - 1)
    var position = literal.start + 1
    var decoded = 0
    func step(at position: Int) -> (source: Int, decoded: Int) {
      guard bytes[position] == UInt8(ascii: "\\"), position + 1 < close else { return (1, 1) }
      if bytes[position + 1] == UInt8(ascii: "u"), position + 6 <= close,
        let value = UInt32(String(decoding: bytes[(position + 2)..<(position + 6)], as: UTF8.self), radix: 16),
        let scalar = Unicode.Scalar(value)
      {
        return (6, String(Character(scalar)).utf8.count)
      }
      return (2, 1)
    }
    while position < close, decoded < decodedOffset {
      let (source, length) = step(at: position)
      position += source
      decoded += length
    }
    guard position < close else { return .at(close) }
    return SourceRange(start: position, end: position + step(at: position).source)
  }

  /// `count(step)`, `sum(step.f)`, `avg(step.f)`.
  private mutating func resolveAggregate(
    _ function: AggregateFunction, _ name: Located<String>, _ arguments: [ExprSyntax],
    in context: Context
  ) -> TypedExpr? {
    let example = function == .count ? "count(burst)" : "\(function.rawValue)(burst.amount)"
    guard arguments.count == 1 else {
      report(
        .wrongArgumentCount(
          function: function.rawValue, expected: [1], found: arguments.count,
          signature: function == .count ? "count(step)" : "\(function.rawValue)(step.field)"),
        at: name.range)
      return nil
    }
    guard case .path(let path) = arguments[0].kind,
      function == .count ? path.components.count == 1 : path.components.count > 1
    else {
      report(.aggregateArgument(function: function.rawValue, example: example), at: arguments[0].range)
      return nil
    }
    let head = path.components[0]
    guard let index = stepIndex(named: head.value) else {
      report(.unknownStep(head.value), at: head.range, hint: Suggestions.didYouMean(head.value, among: stepNames))
      return nil
    }
    if case .condition(let current) = context, index > current {
      let step = steps[index]
      report(
        .stepDeclaredLater(step: head.value, current: steps[current].name?.value ?? "?"),
        at: head.range,
        notes: [note("'\(head.value)' is declared here", at: step.name?.range ?? step.kind.range)])
      return nil
    }
    if steps[index].isNegation {
      report(
        .negationStepRead(step: head.value), at: head.range,
        notes: [note("'\(head.value)' is declared here", at: steps[index].name?.range ?? steps[index].kind.range)])
      return nil
    }
    var field: FieldPath?
    if path.components.count > 1 {
      let rest = path.components.dropFirst()
      let fieldPath = FieldPath(rest.map(\.value))
      field = fieldPath
      fieldUses.append(
        FieldUse(
          name: fieldPath.description, file: file,
          range: SourceRange(start: rest[rest.startIndex].range.start, end: path.range.end)))
    }
    let type: ValueType
    switch function {
    case .count: type = .int
    case .sum: type = .number
    case .avg: type = .float
    }
    readSteps.insert(index)
    return TypedExpr(expr: .aggregate(function, step: index, field: field), type: type)
  }

  // MARK: - Lists

  /// `x in [a, b, c]` with constant elements, lowered to `x == a or x == b or x == c` (each
  /// comparison type-checked like `==`); `x in []` is `false`.
  private mutating func resolveInList(
    _ lhsSyntax: ExprSyntax, keyword: SourceRange, _ elements: [ExprSyntax], in context: Context
  ) -> TypedExpr? {
    let lhs = resolve(lhsSyntax, in: context)
    var ok = lhs != nil
    var comparisons: [Expr] = []
    for element in elements {
      guard let value = resolve(element, in: context) else {
        ok = false
        continue
      }
      guard case .constant = value.expr else {
        report(.listElementNotConstant, at: element.range)
        ok = false
        continue
      }
      guard let lhs else { continue }
      let equal = Located(InfixOperator.equal, at: keyword)
      guard
        let comparison = resolveInfix(
          equal, lhs, value, lhsRange: lhsSyntax.range, rhsRange: element.range, whole: element.range)
      else {
        ok = false
        continue
      }
      comparisons.append(comparison.expr)
    }
    guard ok else { return nil }
    return TypedExpr(expr: Self.balancedOr(comparisons[...]) ?? .constant(.bool(false)), type: .bool)
  }

  /// `c0 or c1 or …` as a balanced tree: the same left-to-right short-circuit order as a chain,
  /// but only log2(n) deep, so a list of 100 000 values cannot overflow the stack of the
  /// recursive passes (compilation, evaluation) that follow.
  static func balancedOr(_ terms: ArraySlice<Expr>) -> Expr? {
    guard let first = terms.first else { return nil }
    if terms.count == 1 { return first }
    let middle = terms.startIndex + (terms.count + 1) / 2  // a short list keeps its chain shape
    guard let left = balancedOr(terms[..<middle]), let right = balancedOr(terms[middle...]) else {
      return first
    }
    return .or(left, right)
  }

  // MARK: - Operators

  private mutating func resolvePrefix(
    _ op: Located<PrefixOperator>, _ operand: TypedExpr, operandRange: SourceRange
  ) -> TypedExpr? {
    switch op.value {
    case .negate:
      if operand.type == .duration {
        if case .constant(.duration(let d)) = operand.expr, d.nanoseconds != .min {
          return TypedExpr(expr: .constant(.duration(EventDuration(nanoseconds: -d.nanoseconds))), type: .duration)
        }
        return TypedExpr(expr: .negate(operand.expr), type: .duration)
      }
      guard operand.type.mayBeNumber else {
        report(.operandTypeMismatch(op: "-", found: operand.type, expected: "a number"), at: operandRange)
        return nil
      }
      // Fold a negated literal so `-5` is a constant, as the compiler expects.
      switch operand.expr {
      case .constant(.int(let n)): return TypedExpr(expr: .constant(.int(-n)), type: .int)
      case .constant(.float(let x)): return TypedExpr(expr: .constant(.float(-x)), type: .float)
      default:
        let type: ValueType = operand.type == .int || operand.type == .float ? operand.type : .number
        return TypedExpr(expr: .negate(operand.expr), type: type)
      }
    case .not:
      guard operand.type == .bool || operand.type == .unknown else {
        report(.operandTypeMismatch(op: "not", found: operand.type, expected: "bool"), at: operandRange)
        return nil
      }
      return TypedExpr(expr: .not(operand.expr), type: .bool)
    }
  }

  private mutating func resolveInfix(
    _ op: Located<InfixOperator>, _ lhs: TypedExpr, _ rhs: TypedExpr, lhsRange: SourceRange,
    rhsRange: SourceRange, whole: SourceRange
  ) -> TypedExpr? {
    switch op.value {
    case .and, .or:
      var ok = true
      for (side, range) in [(lhs, lhsRange), (rhs, rhsRange)] where side.type != .bool && side.type != .unknown {
        report(.operandTypeMismatch(op: op.value.rawValue, found: side.type, expected: "bool"), at: range)
        ok = false
      }
      guard ok else { return nil }
      let expr: Expr = op.value == .and ? .and(lhs.expr, rhs.expr) : .or(lhs.expr, rhs.expr)
      return TypedExpr(expr: expr, type: .bool)
    case .add, .subtract, .multiply, .divide:
      let temporal: Set<ValueType> = [.time, .duration]
      if temporal.contains(lhs.type) || temporal.contains(rhs.type), let binary = op.value.binaryOperator {
        guard let type = RuleChecker.temporalResult(binary, lhs.type, rhs.type) else {
          report(.arithmeticTypeMismatch(op: op.value.rawValue, lhs: lhs.type, rhs: rhs.type), at: whole)
          return nil
        }
        return TypedExpr(expr: .binary(binary, lhs.expr, rhs.expr), type: type)
      }
      var ok = true
      for (side, range) in [(lhs, lhsRange), (rhs, rhsRange)] where !side.type.mayBeNumber {
        report(.operandTypeMismatch(op: op.value.rawValue, found: side.type, expected: "a number"), at: range)
        ok = false
      }
      guard ok, let binary = op.value.binaryOperator else { return nil }
      let type: ValueType
      if op.value == .divide {
        type = .float  // `/` always yields a float
      } else if lhs.type == .int && rhs.type == .int {
        type = .int
      } else if lhs.type == .float || rhs.type == .float {
        type = .float
      } else {
        type = .number
      }
      return TypedExpr(expr: .binary(binary, lhs.expr, rhs.expr), type: type)
    case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
      guard let binary = op.value.binaryOperator else { return nil }
      let typed = TypedExpr(expr: .binary(binary, lhs.expr, rhs.expr), type: .bool)
      if lhs.type == .null || rhs.type == .null {
        report(.comparisonWithNull, at: whole)
        return typed
      }
      let isOrdering = op.value != .equal && op.value != .notEqual
      for (side, range) in [(lhs, lhsRange), (rhs, rhsRange)] where isOrdering && side.type == .bool {
        report(.operandTypeMismatch(op: op.value.rawValue, found: .bool, expected: "a number or string"), at: range)
        return nil
      }
      if !RuleChecker.areComparable(lhs.type, rhs.type) {
        report(.comparisonTypeMismatch(op: op.value.rawValue, lhs: lhs.type, rhs: rhs.type), at: whole)
        return nil
      }
      return typed
    }
  }

  /// Whether two static types can ever compare equal or be ordered.
  static func areComparable(_ a: ValueType, _ b: ValueType) -> Bool {
    if a == .list || b == .list { return false }
    if a == .unknown || b == .unknown || a == b { return true }
    let numeric: Set<ValueType> = [.int, .float, .number]
    return numeric.contains(a) && numeric.contains(b)
  }
}
