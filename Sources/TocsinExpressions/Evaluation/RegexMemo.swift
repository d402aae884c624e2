import TocsinCore

/// One evaluation of one condition, as far as shared regex results are concerned.
///
/// A condition that tests the same regex on the same field more than once (`matches(path, P)
/// or regex_extract(path, P, 1) == "x"`) runs the regex once per evaluation: the compiled
/// condition starts a new generation before it evaluates, and each ``RegexMemo`` of the
/// condition remembers the generation its result belongs to. Confined to one thread, like
/// ``CompiledRegex``.
final class RegexMemoScope {
  /// Incremented at the start of every evaluation of the condition.
  var generation: UInt64 = 0
}

/// The result of one regex on one field of the current event, shared by the calls of one
/// condition (see ``RegexMemoScope``).
///
/// The capture offsets are copied into a buffer allocated once, so a reused result costs no
/// regex run and no allocation (extracting a group still builds its string).
final class RegexMemo {
  let scope: RegexMemoScope
  let regex: CompiledRegex
  private var generation: UInt64 = .max
  private var outcome = CompiledRegex.MatchResult.notMatched
  /// Start and end UTF-8 offset of each group (0 = whole match); -1 when unset.
  private var captures: [Int]

  init(scope: RegexMemoScope, regex: CompiledRegex) {
    self.scope = scope
    self.regex = regex
    captures = Array(repeating: -1, count: 2 * (regex.captureCount + 1))
  }

  /// The outcome for `subject` (the same field of the same event on every call of one
  /// generation), running the regex only on the first call.
  private func outcome(for subject: String) -> CompiledRegex.MatchResult {
    if generation != scope.generation {
      outcome = regex.match(subject, captures: &captures)
      generation = scope.generation
    }
    return outcome
  }

  /// What ``CompiledRegex/matches(_:)`` would return.
  func matches(_ subject: String) -> CompiledRegex.MatchResult { outcome(for: subject) }

  /// What ``CompiledRegex/extract(_:group:)`` would return.
  func extract(_ subject: String, group: Int) -> CompiledRegex.ExtractResult {
    switch outcome(for: subject) {
    case .notMatched: return .notMatched
    case .limitExceeded: return .limitExceeded
    case .matched:
      guard group >= 0, 2 * group + 1 < captures.count else { return .matched(nil) }
      let start = captures[2 * group]
      let end = captures[2 * group + 1]
      var text = subject
      return text.withUTF8 { buffer in
        guard start >= 0, end >= start, end <= buffer.count else { return .matched(nil) }
        return .matched(String(decoding: buffer[start..<end], as: UTF8.self))
      }
    }
  }
}

extension ExprCompiler {
  /// What identifies a shareable regex result: the pattern and the current event's field.
  struct MemoKey: Hashable {
    var pattern: String
    var field: FieldPath
  }

  /// The regex calls of `condition` that test a literal pattern on a field of the current
  /// event, for those (pattern, field) pairs that occur more than once.
  static func repeatedRegexCalls(in condition: Expr) -> [MemoKey] {
    var counts: [MemoKey: Int] = [:]
    var order: [MemoKey] = []
    condition.visit { node in
      guard case .call(let function, let args) = node, function == .matches || function == .regexExtract,
        args.count >= 2, case .field(let path) = args[0], case .constant(.string(let literal)) = args[1]
      else { return }
      let key = MemoKey(pattern: literal, field: path)
      if counts[key] == nil { order.append(key) }
      counts[key, default: 0] += 1
    }
    return order.filter { (counts[$0] ?? 0) > 1 }
  }

  /// `matches` or `regex_extract` on the current event's field through a shared ``RegexMemo``.
  func compileMemoizedCall(_ function: Builtin, slot: Int, group: Evaluator?, memo: RegexMemo) -> Evaluator {
    let literal = memo.regex.pattern
    return { event, bindings, context in
      let value = event.slots[slot]
      guard case .string(let subject) = value else {
        if value.isNull { return .null }
        context.recordTypeError("\(function.name)() got \(value.typeName)")
        return .null
      }
      if function == .matches {
        switch memo.matches(subject) {
        case .matched: return .bool(true)
        case .notMatched: return .bool(false)
        case .limitExceeded:
          context.recordRegexLimit(pattern: literal)
          return .null
        }
      }
      let groupValue = group?(event, bindings, context) ?? .null
      guard case .int(let g) = groupValue else {
        if groupValue.isNull { return .null }
        context.recordTypeError("\(function.name)() got \(groupValue.typeName) as group")
        return .null
      }
      switch memo.extract(subject, group: Int(clamping: g)) {
      case .matched(let text): return text.map(Value.string) ?? .null
      case .notMatched: return .null
      case .limitExceeded:
        context.recordRegexLimit(pattern: literal)
        return .null
      }
    }
  }
}
