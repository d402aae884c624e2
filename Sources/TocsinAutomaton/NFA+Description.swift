import TocsinExpressions

extension RuleProgram {
  /// The automaton as text, one state per block, one edge per line — stable enough to be a
  /// golden file:
  ///
  ///     rule geo_impossible_purchase (key user, within 10m, no_skip)
  ///     [0] first (start)
  ///         take    → [1]  where type == "purchase" and amount > 10000
  ///     [1] second
  ///         take    → [2]  where …
  ///         ignore  → [1]  unless …
  ///     [2] $final
  public var nfaDescription: String {
    var header = "rule \(spec.name) ("
    header += spec.keyFields.isEmpty ? "no key" : "key " + spec.keyFields.map(\.description).joined(separator: ", ")
    header += ", " + (spec.within.map { "within \($0)" } ?? "no within")
    header += ", \(spec.skip))"
    var lines = [header]
    for state in nfa.states {
      var title = "\(state.id) \(state.name)"
      if state.id == nfa.start { title += " (start)" }
      if state.kind == .stop || state.kind == .pending { title += " (\(state.kind.rawValue))" }
      lines.append(title)
      for edge in state.edges {
        let action = edge.action.rawValue.padding(toLength: 7)
        var line = "    \(action) → \(edge.target)"
        if let text = conditionText(edge.condition) { line += "  " + text }
        lines.append(line)
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `where C`, `unless C`, or a composite (`where (C) and not (U)`); `nil` for `always`.
  func conditionText(_ condition: NFA.EdgeCondition) -> String? {
    let names = spec.steps.map(\.name)
    func text(_ c: NFA.EdgeCondition) -> String {
      switch c {
      case .always: return "true"
      case .take(let step): return spec.steps[step].condition?.rendered(stepNames: names) ?? "true"
      case .until(let step):
        return spec.steps[step].quantifier.until?.rendered(stepNames: names) ?? "false"
      case .not(let inner): return "not (" + text(inner) + ")"
      case .and(let l, let r): return "(" + text(l) + ") and (" + text(r) + ")"
      }
    }
    switch condition {
    case .always: return nil
    case .take: return "where " + text(condition)
    case .not(let inner) where { if case .take = inner { return true } else { return false } }():
      return "unless " + text(inner)
    default: return "where " + text(condition)
    }
  }

  /// The automaton in Graphviz DOT.
  public var nfaDOT: String {
    var out = "digraph \"\(spec.name)\" {\n  rankdir=LR;\n  node [shape=circle];\n"
    for state in nfa.states {
      let shape = state.id == nfa.final || state.kind == .pending ? "doublecircle" : state.kind == .stop ? "octagon" : "circle"
      out += "  s\(state.id.rawValue) [label=\"\(state.name)\", shape=\(shape)];\n"
    }
    out += "  start [shape=point];\n  start -> s\(nfa.start.rawValue);\n"
    for state in nfa.states {
      for edge in state.edges {
        var label = edge.action.rawValue
        if let text = conditionText(edge.condition) { label += ": " + text }
        let style = edge.action == .proceed ? ", style=dashed" : ""
        let escaped = label.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
        out += "  s\(state.id.rawValue) -> s\(edge.target.rawValue) [label=\"\(escaped)\"\(style)];\n"
      }
    }
    return out + "}\n"
  }
}

extension String {
  fileprivate func padding(toLength length: Int) -> String {
    count >= length ? self : self + String(repeating: " ", count: length - count)
  }

  fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}
