import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime

/// Replays compact event tokens through one rule, for runtime tests.
///
/// A token is `a1` or `a1@1500`: the whole token before `@` is the event's identity, its leading
/// letters its `type` field, and the number after `@` its time in milliseconds (without it, its
/// position in the list, in seconds). Events arrive in token order.
public enum TokenReplay {
  /// The alerts `spec` produces for `input`, in emission order, after the end of input.
  public static func alerts(
    _ spec: RuleSpec, _ input: String, outOfOrderness: EventDuration = .zero
  ) -> [Alert] {
    let programs = NFACompiler.compile([spec], extraFields: [FieldPath(["type"])])
    let engine = Engine(programs: programs, options: EngineOptions(outOfOrderness: outOfOrderness))
    var actions: [EngineAction] = []
    for (i, token) in input.split(separator: " ").enumerated() {
      let parts = token.split(separator: "@")
      let time = parts.count > 1 ? Int64(parts[1]) ?? 0 : Int64(i) * 1000
      let id = String(parts[0])
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[0] = .string(String(id.prefix { $0.isLetter }))
      engine.eventArrived(
        EventRecord(time: .milliseconds(time), sequence: UInt64(i), line: i + 1, identity: id, slots: slots),
        into: &actions)
    }
    engine.finish(into: &actions)
    return actions.compactMap { action in
      if case .alert(let alert) = action { return alert }
      return nil
    }
  }

  /// Each alert's event ids in event-time order (arrival order for equal times),
  /// space-separated; timeouts prefixed `timeout: `.
  public static func matches(
    _ spec: RuleSpec, _ input: String, outOfOrderness: EventDuration = .zero
  ) -> [String] {
    var order: [String: (Int64, Int)] = [:]
    for (i, token) in input.split(separator: " ").enumerated() {
      let parts = token.split(separator: "@")
      let time = parts.count > 1 ? Int64(parts[1]) ?? 0 : Int64(i) * 1000
      if order[String(parts[0])] == nil { order[String(parts[0])] = (time, i) }
    }
    return alerts(spec, input, outOfOrderness: outOfOrderness).map { alert in
      let ids = alert.events.flatMap(\.identities).sorted {
        let a = order[$0] ?? (0, 0)
        let b = order[$1] ?? (0, 0)
        return a.0 != b.0 ? a.0 < b.0 : a.1 < b.1
      }
      return (alert.isTimeout ? "timeout: " : "") + ids.joined(separator: " ")
    }
  }
}
