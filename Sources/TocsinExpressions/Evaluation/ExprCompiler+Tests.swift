import TocsinCore

/// Conditions compiled as tests: closures that return whether an expression is exactly `true`
/// (a ``Predicate``), rather than its ``Value``.
///
/// A condition is a tree of `and`, `or`, `not` and comparisons, and only its truth is wanted.
/// Compiled as values (``ExprCompiler/compileValue(_:)``), each node of the tree returned a
/// ``Value`` through memory, and its parent tested it with `isTrue`; a comparison of a field with
/// a string constant copied the field's string out of the event (a retain and a release of its
/// storage) and called the standard library's string comparison. As tests, the nodes hand back a
/// `Bool` in a register, and a field compared with a short ASCII constant is compared by its bits
/// in place (``SmallString``). The answers, and the errors recorded on the way (and their order),
/// are those of the value form; `ConditionTestFormTests` compares the two on every shape.
extension ExprCompiler {
  /// `expr` as a test: `compileValue(expr)` then `isTrue`, with the same errors recorded.
  ///
  /// Visits the expression's fields in the order ``compileValue(_:)`` does, so the projection
  /// gets the same slots whichever form a condition is compiled in.
  mutating func compileTest(_ expr: Expr) -> Predicate {
    if !isFolding, let constant = Self.constantValue(of: expr) {
      let holds = constant.isTrue
      return { _, _, _ in holds }
    }
    switch expr {
    case .and(let l, let r):
      let lhs = compileTest(l)
      let rhs = compileTest(r)
      return { e, b, c in lhs(e, b, c) && rhs(e, b, c) }
    case .or(let l, let r):
      let lhs = compileTest(l)
      let rhs = compileTest(r)
      return { e, b, c in lhs(e, b, c) || rhs(e, b, c) }
    case .not(let inner) where Self.alwaysGivesBool(inner):
      // `not` of a value that is always a bool is its negation. (`not` of anything else may
      // meet a null, which stays null, or a non-bool, an error: the value form handles those.)
      let operand = compileTest(inner)
      return { e, b, c in !operand(e, b, c) }
    case .binary(let op, let l, let r) where op.isComparison:
      return compileComparisonTest(op, l, r)
    default:
      let value = compilePredicate(expr, nullable: false)
      return { e, b, c in value(e, b, c).isTrue }
    }
  }

  /// Whether the value form of `expr` is a bool whatever it reads: `and` and `or` (bools of
  /// their operands' truth) and comparisons (false, with an error recorded, when the operands
  /// do not compare).
  static func alwaysGivesBool(_ expr: Expr) -> Bool {
    switch expr {
    case .and, .or: return true
    case .binary(let op, _, _): return op.isComparison
    default: return false
    }
  }

  /// `l <op> r` as a test. Fast path: `field <op> constant` reads one slot in place and compares
  /// it without building values (``compareSlotTest(_:_:_:)``).
  mutating func compileComparisonTest(_ op: BinaryOperator, _ l: Expr, _ r: Expr) -> Predicate {
    if case .field(let path) = l, let constant = Self.constantValue(of: r) {
      return Self.compareSlotTest(slot(for: path).index, op, constant)
    }
    if case .field(let path) = r, let constant = Self.constantValue(of: l) {
      return Self.compareSlotTest(slot(for: path).index, op.mirrored, constant)
    }
    let lhs = compileValue(l)
    // A constant side (folded as ``compileValue(_:)`` would) is compared as captured: evaluated,
    // it was copied and destroyed per call.
    if !isFolding, let constant = Self.constantValue(of: r) {
      return { e, b, c in
        let a = lhs(e, b, c)
        if let result = Operations.compare(op, a, constant) { return result }
        c.recordTypeError(Self.mismatch(a.typeName, constant.typeName, op))
        return false
      }
    }
    let rhs = compileValue(r)
    return { e, b, c in
      let a = lhs(e, b, c)
      let v = rhs(e, b, c)
      if let result = Operations.compare(op, a, v) { return result }
      c.recordTypeError(Self.mismatch(a.typeName, v.typeName, op))
      return false
    }
  }

  /// `slot <op> constant` as a test, the slot's value read in place: a string (`==`, `!=`) and an
  /// int constant have their own closures; any other goes through ``Operations/compare(_:_:_:)``.
  /// A type error names the slot's type first, also for a comparison written constant first
  /// (`5 < amount` is tested, and quoted, as `amount > 5`). The closures capture no more than
  /// they read on the way to an answer: each capture costs every call's forwarding thunk.
  static func compareSlotTest(_ slot: Int, _ op: BinaryOperator, _ constant: Value) -> Predicate {
    switch constant {
    case .string(let s) where op == .equal || op == .notEqual:
      let wantsEqual = op == .equal
      let short = shortASCIIBits(of: s)
      return { e, _, c in
        e.slots.withUnsafeValue(at: slot) { value in
          // Two short ASCII strings are equal exactly when their bits are: each is in the one
          // form the standard library keeps it in, and ASCII has no other spelling of itself
          // (Unicode's canonical equivalence, which `==` follows, relates other characters).
          if let short, let bits = Value.smallStringBits(at: value), SmallString.isASCII(bits) {
            return (bits == short) == wantsEqual
          }
          switch value.pointee {
          case .string(let v): return (v == s) == wantsEqual
          case .null: return false
          case let other:
            c.recordTypeError(mismatch(other.typeName, "string", op))
            return false
          }
        }
      }
    case .int(let k):
      let d = Double(k)
      return { e, _, c in
        e.slots.withUnsafeValue(at: slot) { value in
          switch value.pointee {
          case .int(let v): return Operations.ordered(op, v, k) ?? false
          case .float(let v): return Operations.ordered(op, v, d) ?? false
          case .null: return false
          case let other:
            c.recordTypeError(mismatch(other.typeName, "int", op))
            return false
          }
        }
      }
    default:
      return { e, _, c in
        e.slots.withUnsafeValue(at: slot) { value in
          if let result = Operations.compare(op, value.pointee, constant) { return result }
          c.recordTypeError(mismatch(value.pointee.typeName, constant.typeName, op))
          return false
        }
      }
    }
  }

  /// The type error of comparing a value of type `first` with one of type `second` by `op`.
  private static func mismatch(_ first: String, _ second: String, _ op: BinaryOperator) -> String {
    "cannot compare \(first) with \(second) using '\(op.rawValue)'"
  }

  /// The bits of `s` when it is a short ASCII string in the small form, where that form is
  /// known (``SmallString/isAvailable``); else `nil`.
  static func shortASCIIBits(of s: String) -> (UInt64, UInt64)? {
    guard SmallString.isAvailable else { return nil }
    // A run-time copy, as the decoder's strings are made: a literal's flags could differ.
    let made = String(decoding: Array(s.utf8), as: UTF8.self)
    let bits = SmallString.bits(of: made)
    return SmallString.isSmall(bits) && SmallString.isASCII(bits) ? bits : nil
  }
}
