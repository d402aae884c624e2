import TocsinCore

/// Compiles ``Expr`` IR into closures over slot indices.
///
/// Field paths are turned into ``SlotIndex``es of a shared ``FieldProjection`` (so ingestion
/// parses each field once for every rule), constant subtrees are folded, and the shapes that
/// dominate real rules — `field <op> constant`, `and`/`or`/`not` of those — get dedicated closures
/// that never build an intermediate ``Value`` or allocate. Everything else goes through the
/// generic ``Operations``.
public struct ExprCompiler {
  /// The projection slots are allocated in; read it back after compiling every rule.
  public private(set) var projection: FieldProjection
  /// Set while evaluating a constant subtree, so `compileValue` does not try to fold it again.
  private(set) var isFolding = false

  /// The slot of `path`, adding it to the projection if new.
  public mutating func slot(for path: FieldPath) -> SlotIndex { projection.slot(for: path) }
  /// Compiled literal patterns (regexes, globs, CIDR blocks) by kind and text, so a pattern used
  /// by several conditions is compiled once.
  private var patterns: [PatternKey: LiteralPattern] = [:]
  /// Time-zone tables by identifier, built once per zone.
  private var zones: [String: TimeZoneRules] = [:]
  /// While compiling a condition: the shared regex results of its repeated (pattern, field)
  /// pairs (see ``RegexMemo``).
  private var memos: [MemoKey: RegexMemo] = [:]

  private struct PatternKey: Hashable {
    var kind: String
    var literal: String
  }

  /// When set, `step.field` and `time(step)` of step ``KeptValues/step`` read the partial match's
  /// kept values (``EvalContext/keptValues``, ``EvalContext/keptTime``) instead of its bindings,
  /// and every other step's read null (not bound yet): the form a pair queue evaluates its second
  /// step in, one entry after another, without a match node (see `RunQueue` in TocsinRuntime).
  /// Conditions compiled so must not aggregate.
  public private(set) var kept: KeptValues?

  /// Where a condition compiled against kept values (``kept``) finds them.
  public struct KeptValues {
    /// The step whose event's values are kept.
    public var step: Int
    /// The kept slots, in the order their values lie in ``EvalContext/keptValues``.
    public var slots: [SlotIndex]

    /// Values of `slots` of step `step`'s event.
    public init(step: Int, slots: [SlotIndex]) {
      self.step = step
      self.slots = slots
    }
  }

  /// A compiler allocating slots in `projection`; with `kept`, one that compiles conditions
  /// against kept values (``kept``).
  public init(projection: FieldProjection = FieldProjection(), kept: KeptValues? = nil) {
    self.projection = projection
    self.kept = kept
  }

  // MARK: - Values

  /// Compiles `expr` to a closure computing its value.
  public mutating func compileValue(_ expr: Expr) -> Evaluator {
    if !isFolding, let constant = Self.constantValue(of: expr) { return { _, _, _ in constant } }
    switch expr {
    case .constant(let v):
      return { _, _, _ in v }
    case .field(let path):
      let slot = projection.slot(for: path).index
      // A number or a short string is copied out as its bits (``Value/copy(at:smallStrings:)``).
      let smallStrings = SmallString.isAvailable
      return { event, _, _ in event.slots.withUnsafeValue(at: slot) { Value.copy(at: $0, smallStrings: smallStrings) } }
    case .stepField(let step, let path):
      if let kept { return compileKept(step: step, path: path, kept) }
      let slot = projection.slot(for: path).index
      return { _, bindings, _ in
        bindings?.withLatestEvent(boundTo: step, none: .null) { $0.slots[slot] } ?? .null
      }
    case .key:
      return { _, _, context in context.key }
    case .eventTime:
      return { event, _, _ in .time(event.time) }
    case .stepTime(let step):
      if let kept {
        guard step == kept.step else { return { _, _, _ in .null } }
        return { _, _, context in .time(context.keptTime) }
      }
      return { _, bindings, _ in
        bindings?.withLatestEvent(boundTo: step, none: .null) { .time($0.time) } ?? .null
      }
    case .member(let element, let list):
      return compileMember(element, list)
    case .aggregate(let function, let step, let path):
      precondition(kept == nil, "a condition on kept values aggregates")
      return compileAggregate(function, step: step, path: path)
    case .not, .and, .or:
      let predicate = compilePredicate(expr, nullable: true)
      return predicate
    case .binary(let op, _, _) where op.isComparison:
      let predicate = compilePredicate(expr, nullable: true)
      return predicate
    case .negate(let inner):
      let operand = compileValue(inner)
      return { event, bindings, context in
        switch operand(event, bindings, context) {
        case .null: return .null
        case .int(let i) where i != .min: return .int(-i)
        case .int(let i): return .float(-Double(i))
        case .float(let d): return .float(-d)
        case .duration(let d) where d.nanoseconds != .min:
          return .duration(EventDuration(nanoseconds: -d.nanoseconds))
        case let other:
          context.recordTypeError("cannot negate a \(other.typeName)")
          return .null
        }
      }
    case .binary(let op, let l, let r):
      let lhs = compileValue(l)
      let rhs = compileValue(r)
      return { event, bindings, context in
        let a = lhs(event, bindings, context)
        let b = rhs(event, bindings, context)
        switch Operations.arithmetic(op, a, b) {
        case .value(let v): return v
        case .typeError:
          context.recordTypeError("cannot apply '\(op.rawValue)' to \(a.typeName) and \(b.typeName)")
          return .null
        case .arithmeticError:
          context.recordArithmeticError()
          return .null
        }
      }
    case .call(let function, let args):
      if function == .matches || function == .regexExtract, args.count >= 2, case .field(let path) = args[0],
        case .constant(.string(let literal)) = args[1], let memo = memos[MemoKey(pattern: literal, field: path)]
      {
        let slot = projection.slot(for: path).index
        let group = args.count > 2 ? compileValue(args[2]) : nil
        return compileMemoizedCall(function, slot: slot, group: group, memo: memo)
      }
      if let position = function.zoneArgument, let zone = zoneRules(function, args, position: position) {
        return compileCalendar(function, args[0], zone: zone)
      }
      if let position = function.literalArgument, position < args.count,
        case .constant(.string(let literal)) = args[position],
        let pattern = literalPattern(function, literal)
      {
        return compilePatternCall(function, args, pattern: pattern, literal: literal)
      }
      let compiled = args.map { compileValue($0) }
      let count = compiled.count
      return { event, bindings, context in
        // The arguments live in stack memory for the call: evaluating a function allocates
        // nothing (the benchmark's condition pass counts this).
        withUnsafeTemporaryAllocation(of: Value.self, capacity: max(count, 1)) { buffer in
          // swift-format-ignore: NeverForceUnwrap
          // A temporary allocation of capacity >= 1 has a base address.
          let base = buffer.baseAddress.unsafelyUnwrapped
          for i in 0..<count { (base + i).initialize(to: compiled[i](event, bindings, context)) }
          defer { base.deinitialize(count: count) }
          let values = UnsafeBufferPointer(start: base, count: count)
          if let result = Operations.call(function, values) { return result }
          context.recordTypeError(
            "\(function.name)() got \(values.map(\.typeName).joined(separator: ", "))")
          return .null
        }
      }
    }
  }

  /// `step.field` read from the kept values (``kept``): another step's reads null, as a step not
  /// bound yet does.
  private func compileKept(step: Int, path: FieldPath, _ kept: KeptValues) -> Evaluator {
    guard step == kept.step else { return { _, _, _ in .null } }
    guard let slot = projection.existingSlot(for: path), let position = kept.slots.firstIndex(of: slot) else {
      preconditionFailure("a condition on kept values reads \(path), which is not kept")
    }
    return { _, _, context in context.keptValues.unsafelyUnwrapped[position] }
  }

  /// The compiled pattern for a literal, from the cache; `nil` if it does not compile (the
  /// checker reports that before compiling, so the generic path then yields type errors).
  public mutating func literalPattern(_ function: Builtin, _ literal: String) -> LiteralPattern? {
    let kind: String
    switch function {
    case .inCidr: kind = "cidr"
    case .like: kind = "glob"
    default: kind = "regex"
    }
    let key = PatternKey(kind: kind, literal: literal)
    if let cached = patterns[key] { return cached }
    guard case .success(let pattern) = LiteralPattern.compile(function, literal) else { return nil }
    patterns[key] = pattern
    return pattern
  }

  /// Number of distinct literal patterns compiled so far.
  public var compiledPatternCount: Int { patterns.count }

  private mutating func compilePatternCall(
    _ function: Builtin, _ args: [Expr], pattern: LiteralPattern, literal: String
  ) -> Evaluator {
    let group = args.count > 2 ? compileValue(args[2]) : nil
    // A field of the event (`like(merchant, "m1*")`, most pattern calls) is read in place: copied
    // out, its string cost a retain and a release per call (W2: ~46 instructions per event).
    if case .field(let path) = args[0], group == nil {
      let slot = projection.slot(for: path).index
      return { event, _, context in
        event.slots.withUnsafeValue(at: slot) { subject in
          Self.patternCall(function, subject.pointee, group: .null, pattern: pattern, literal: literal, context)
        }
      }
    }
    let subject = compileValue(args[0])
    return { event, bindings, context in
      let value = subject(event, bindings, context)
      let groupValue = group?(event, bindings, context) ?? .null
      return Self.patternCall(function, value, group: groupValue, pattern: pattern, literal: literal, context)
    }
  }

  /// A pattern call's value, with its error recorded (``Operations/call(_:_:group:pattern:)``).
  @inline(__always)
  private static func patternCall(
    _ function: Builtin, _ value: Value, group: Value, pattern: LiteralPattern, literal: String, _ context: EvalContext
  ) -> Value {
    switch Operations.call(function, value, group: group, pattern: pattern) {
    case .value(let v): return v
    case .limitExceeded:
      context.recordRegexLimit(pattern: literal)
      return .null
    case .typeError:
      context.recordTypeError(
        function == .inCidr && value.typeName == "string"
          ? "in_cidr() got a string that is not an IP address"
          : "\(function.name)() got \(value.typeName)")
      return .null
    }
  }

  // MARK: - Conditions

  /// Compiles a condition: the closure returns whether `expr` evaluates to exactly `true`
  /// (compiled as a test, ``compileTest(_:)``).
  ///
  /// A regex tested more than once on the same field of the current event runs once per
  /// evaluation (``RegexMemo``).
  public mutating func compileCondition(_ expr: Expr) -> Predicate {
    let repeated = Self.repeatedRegexCalls(in: expr)
    guard !repeated.isEmpty else { return compileTest(expr) }
    let scope = RegexMemoScope()
    for key in repeated {
      if case .regex(let regex)? = literalPattern(.matches, key.pattern) {
        memos[key] = RegexMemo(scope: scope, regex: regex)
      }
    }
    let test = compileTest(expr)
    memos = [:]
    return { event, bindings, context in
      scope.generation &+= 1
      return test(event, bindings, context)
    }
  }

  // MARK: - Times and lists

  /// The zone of a calendar function: UTC without the argument, the cached table for a literal
  /// zone; `nil` (the generic path, a type error per call) for a zone Foundation does not know,
  /// which the checker reports before compiling.
  private mutating func zoneRules(_ function: Builtin, _ args: [Expr], position: Int) -> TimeZoneRules? {
    guard args.count > position else { return .utc }
    guard case .constant(.string(let name)) = args[position] else { return nil }
    if let cached = zones[name] { return cached }
    guard let rules = TimeZoneRules(identifier: name) else { return nil }
    zones[name] = rules
    return rules
  }

  private mutating func compileCalendar(_ function: Builtin, _ time: Expr, zone: TimeZoneRules) -> Evaluator {
    let operand = compileValue(time)
    return { event, bindings, context in
      let value = operand(event, bindings, context)
      if value.isNull { return .null }
      guard let instant = Operations.instant(value) else {
        context.recordTypeError("\(function.name)() got \(value.typeName) that is not a time")
        return .null
      }
      return Operations.calendar(function, instant, in: zone)
    }
  }

  private mutating func compileMember(_ element: Expr, _ list: Expr) -> Evaluator {
    let needle = compileValue(element)
    let haystack = compileValue(list)
    return { event, bindings, context in
      let items = haystack(event, bindings, context)
      guard case .list(let values) = items else {
        if items.isNull { return .null }
        context.recordTypeError("'in' needs a list, got \(items.typeName)")
        return .null
      }
      let value = needle(event, bindings, context)
      if value.isNull { return .bool(false) }
      return .bool(Operations.listContains(values, value))
    }
  }

  /// Compiles boolean-shaped expressions. With `nullable` the closure returns `.null` where a
  /// value is required (so `not null` stays null); without, it may collapse null to `false`,
  /// which is all a condition needs.
  mutating func compilePredicate(_ expr: Expr, nullable: Bool) -> Evaluator {
    if !isFolding, let constant = Self.constantValue(of: expr) { return { _, _, _ in constant } }
    switch expr {
    case .and, .or:
      // Always a bool: the test form's answer (``compileTest(_:)``) as a value.
      let test = compileTest(expr)
      return { e, b, c in .bool(test(e, b, c)) }
    case .not(let inner):
      let operand = compileValue(inner)
      return { e, b, c in
        switch operand(e, b, c) {
        case .bool(let v): return .bool(!v)
        case .null: return .null
        case let other:
          c.recordTypeError("'not' needs a bool, got \(other.typeName)")
          return .null
        }
      }
    case .binary(let op, let l, let r) where op.isComparison:
      // Always a bool too (false, with a type error recorded, when the operands do not
      // compare): the test form's answer, where `field <op> constant` reads its slot in place.
      let test = compileComparisonTest(op, l, r)
      return { e, b, c in .bool(test(e, b, c)) }
    default:
      return compileValue(expr)
    }
  }

  // MARK: - Aggregates

  private mutating func compileAggregate(_ function: AggregateFunction, step: Int, path: FieldPath?)
    -> Evaluator
  {
    let slot = path.map { projection.slot(for: $0).index }
    switch function {
    case .count:
      return { _, bindings, _ in
        var n: Int64 = 0
        bindings?.walk { node in
          if node.step == step { n += 1 }
          return true
        }
        return .int(n)
      }
    case .sum, .avg:
      guard let slot else { return { _, _, _ in .null } }
      let isAverage = function == .avg
      return { _, bindings, context in
        var intSum: Int64 = 0
        var floatSum = 0.0
        var isFloat = false
        var n = 0
        bindings?.walk { current in
          guard current.step == step else { return true }
          switch current.event.slots[slot] {
          case .int(let i):
            n += 1
            if isFloat {
              floatSum += Double(i)
            } else {
              let (s, overflow) = intSum.addingReportingOverflow(i)
              if overflow {
                isFloat = true
                floatSum = Double(intSum) + Double(i)
              } else {
                intSum = s
              }
            }
          case .float(let d):
            n += 1
            if !isFloat {
              isFloat = true
              floatSum = Double(intSum)
            }
            floatSum += d
          case .null:
            break
          case let other:
            context.recordTypeError("\(function.rawValue)() skipped a \(other.typeName)")
          }
          return true
        }
        if isAverage {
          guard n > 0 else { return .null }
          return .float((isFloat ? floatSum : Double(intSum)) / Double(n))
        }
        return isFloat ? .float(floatSum) : .int(intSum)
      }
    }
  }

  // MARK: - Constant folding

  /// The value of `expr` if it reads nothing from events, bindings or the key.
  public static func constantValue(of expr: Expr) -> Value? {
    var readsInput = false
    expr.visit { node in
      switch node {
      case .field, .stepField, .key, .aggregate, .eventTime, .stepTime: readsInput = true
      default: break
      }
    }
    if readsInput { return nil }
    if case .constant(let v) = expr { return v }
    // Evaluate once with the ordinary compiler, folding switched off so it does not recurse.
    var scratch = ExprCompiler()
    scratch.isFolding = true
    let folded = scratch.compileValue(expr)
    let dummy = EventRecord(
      time: .negativeInfinity, sequence: 0, line: 0, identity: "", slots: [])
    return folded(dummy, nil, EvalContext())
  }
}

extension BinaryOperator {
  /// The operator with its operands swapped: `a < b` ⇔ `b > a`.
  public var mirrored: BinaryOperator {
    switch self {
    case .less: return .greater
    case .lessOrEqual: return .greaterOrEqual
    case .greater: return .less
    case .greaterOrEqual: return .lessOrEqual
    default: return self
    }
  }
}
