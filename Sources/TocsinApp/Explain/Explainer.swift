import TocsinAutomaton
import TocsinCore
import TocsinRuntime

/// `tocsin explain`: the compiled automaton of each rule, as text or Graphviz DOT.
public enum Explainer {
  /// Output formats.
  public enum Format: String, CaseIterable, Sendable {
    /// One state per block, one edge per line (`[1] take → [2] where …`).
    case text
    /// Graphviz DOT, one `digraph` per rule.
    case dot
  }

  /// Why explaining failed.
  public enum Failure: Error, CustomStringConvertible {
    /// No rule has the requested name.
    case unknownRule(String, available: [String])
    public var description: String {
      switch self {
      case .unknownRule(let name, let available):
        return "error: no rule named '\(name)'; rules loaded: " + available.joined(separator: ", ")
      }
    }
  }

  /// Renders `programs`' automata, or only the rule named `rule`.
  public static func explain(_ programs: ProgramSet, rule: String?, format: Format) throws -> String {
    var selected = programs.rules
    if let rule {
      selected = selected.filter { $0.name == rule }
      if selected.isEmpty { throw Failure.unknownRule(rule, available: programs.rules.map(\.name)) }
    }
    let parts = selected.map { program in
      guard format == .text else { return program.nfaDOT }
      var text = program.nfaDescription
      if RuleMatcher.sharesRuns(program) {
        text += "evaluated as one shared run: each partial match is every matching event since its start,\n"
        text += "so the run keeps one node per event and a match is copied out only when it is emitted\n"
        if Engine.queuesRuns(of: program) {
          text += "(without --max-state-mb, one queue of start events for all keys: no timer, node or list per key)\n"
        }
      }
      if Engine.queuesPairs(of: program) {
        text += "evaluated as pairs: each partial match is one first event waiting for a second, so (without\n"
        text += "--max-state-mb) the rule keeps a queue of first events for all keys, each with the values its\n"
        text += "later steps and alerts read: no timer, node or list per key\n"
        for (step, conjuncts) in Engine.pairFilters(of: program) ?? [] {
          if conjuncts.isEmpty {
            text += "  \(step): every candidate event walks the key's waiting first events (its first conjunct\n"
            text += "  reads the first event; a test of the event alone written before it would be tried first)\n"
          } else {
            text += "  \(step): the event alone is tested first (\(conjuncts.joined(separator: ", "))): when one of\n"
            text += "  these is false, the key's waiting first events are not walked\n"
          }
        }
      }
      if Engine.queuesStarts(of: program) {
        text += "starts queued: a partial match started for a key with nothing open waits (without\n"
        text += "--max-state-mb, --key-ttl) in one queue of first events for all keys, until the key's next\n"
        text += "event the rule steps: no walk, timer or list for a start that is never extended\n"
      }
      return text
    }
    return parts.joined(separator: format == .dot ? "" : "\n")
  }
}
