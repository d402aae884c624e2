import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinRuntime

extension ReplaySession {
  /// The session's part of a checkpoint: the sequence counter and the line counters.
  public var sessionState: Checkpoint.SessionState {
    var named: [Checkpoint.SessionState.Counter] = [
      .init(name: "lines", value: counters.lines), .init(name: "empty_lines", value: counters.emptyLines),
      .init(name: "events", value: counters.events), .init(name: "alerts", value: counters.alerts),
    ]
    for reason in DeadLetterReason.allCases {
      named.append(.init(name: "dead_letter." + reason.id, value: counters.badLines[reason]))
    }
    return Checkpoint.SessionState(sequence: sequence, counters: named)
  }

  /// A checkpoint of the session at this point (between two lines): engine state, session
  /// counters, `suppress` state, copies of the lines of events held by time calibration, rule
  /// fingerprints and the decoder's projection. The caller fills in the input and sink
  /// positions, after flushing the sinks.
  public func checkpoint(input: Checkpoint.InputPosition, sinks: [Checkpoint.SinkPosition]) -> Checkpoint {
    let suppression =
      suppressor.isActive
      ? Checkpoint.SuppressionState(
        clocks: suppressor.clocks, suppressedByRule: counters.suppressedByRule, entries: suppressor.entries)
      : nil
    let held = heldLines.map { Checkpoint.HeldLine(line: $0.key, offset: $0.value.offset, bytes: $0.value.bytes) }
    return Checkpoint(
      rules: engine.programs.rules.map(RuleFingerprints.fingerprint),
      projection: decoder.projection.paths, input: input, sinks: sinks, session: sessionState,
      engine: engine.snapshot(), suppression: suppression, heldLines: held.sorted { $0.line < $1.line })
  }

  /// Replaces the session's state with the checkpoint's.
  ///
  /// Rules whose fingerprint is unchanged keep their state; the names of changed and removed
  /// rules are returned (their state starts fresh), as are the rules new since the checkpoint.
  /// - Throws: ``EngineSnapshot/Invalid`` when the checkpoint's state is inconsistent.
  public func restore(from checkpoint: Checkpoint) throws(EngineSnapshot.Invalid) -> RuleChanges {
    let programs = engine.programs
    let plan = RuleFingerprints.plan(old: checkpoint.rules, new: programs.rules)
    var snapshot = checkpoint.engine
    snapshot.reproject(from: checkpoint.projection, to: decoder.projection.paths)
    let slotPool = engine.slotPool
    engine = try Engine(
      restoring: snapshot, programs: programs, options: engine.options, ruleMapping: plan.mapping)
    engine.slotPool = slotPool
    sequence = checkpoint.session.sequence
    var values: [String: Int] = [:]
    for counter in checkpoint.session.counters { values[counter.name] = counter.value }
    counters.lines = values["lines"] ?? 0
    counters.emptyLines = values["empty_lines"] ?? 0
    counters.events = values["events"] ?? 0
    counters.alerts = values["alerts"] ?? 0
    for reason in DeadLetterReason.allCases {
      counters.badLines[reason] = values["dead_letter." + reason.id] ?? 0
    }
    restoreSuppression(checkpoint.suppression, mapping: plan.mapping)
    heldLines = [:]
    for held in checkpoint.heldLines { heldLines[held.line] = (held.offset, held.bytes) }
    return plan.changes
  }

  /// Restores the `suppress` state of the rules that kept their state (same name and
  /// fingerprint); a changed rule starts with no suppression state, like its matches.
  private func restoreSuppression(_ state: Checkpoint.SuppressionState?, mapping: [Int?]) {
    let ruleCount = engine.programs.rules.count
    var clocks = Array(repeating: EventTime.negativeInfinity, count: ruleCount)
    counters.suppressedByRule = Array(repeating: 0, count: ruleCount)
    var entries: [Suppressor.Entry] = []
    if let state {
      for (old, new) in mapping.enumerated() {
        guard let new, old < state.clocks.count, new < ruleCount else { continue }
        clocks[new] = state.clocks[old]
        counters.suppressedByRule[new] = state.suppressedByRule[old]
      }
      for var entry in state.entries {
        guard entry.key.rule < mapping.count, let new = mapping[entry.key.rule] else { continue }
        entry.key.rule = new
        entries.append(entry)
      }
    }
    suppressor.restore(entries: entries, clocks: clocks)
  }

  /// Writes a `state_limit` dead letter, warning once per rule.
  func stateLimitReached(_ drop: StateLimitDrop) throws {
    counters.badLines[.stateLimit] += 1
    if !warnedRules[drop.ruleIndex] {
      warnedRules[drop.ruleIndex] = true
      warn(
        "warning: rule '\(drop.rule)': state limit \(drop.limit.rawValue) reached; oldest partial "
          + "matches are dropped (each drop is a state_limit dead letter)")
    }
    try writeStateLimitDeadLetter(drop)
  }
}

/// How the rules changed between a checkpoint and the current run.
public struct RuleChanges: Equatable, Sendable {
  /// Rules with the same name whose compiled form differs: their state starts fresh.
  public var changed: [String] = []
  /// Rules in the checkpoint that are gone.
  public var removed: [String] = []
  /// Rules that are new.
  public var added: [String] = []
  /// Rules whose state carried over.
  public var kept: [String] = []

  /// Warning lines for changed, removed and added rules.
  public var warnings: [String] {
    changed.map { "warning: rule '\($0)' changed since the checkpoint; its state starts fresh" }
      + removed.map { "warning: rule '\($0)' is gone since the checkpoint; its state is dropped" }
      + added.map { "note: rule '\($0)' is new since the checkpoint; it starts with no state" }
  }
}

/// Fingerprints of compiled rules, and which checkpointed rule state a new rule set keeps.
public enum RuleFingerprints {
  /// A stable hash of `program`'s canonical compiled form: its automaton dump and its checked
  /// rule IR (everything but where it was written).
  public static func fingerprint(_ program: RuleProgram) -> Checkpoint.RuleFingerprint {
    var spec = program.spec
    spec.sourcePath = ""
    spec.sourceLine = 0
    var hash = StableHash()
    hash.combine(program.nfaDescription)
    hash.combine(String(reflecting: spec))
    return Checkpoint.RuleFingerprint(name: program.name, fingerprint: hash.hex)
  }

  /// Maps each old rule to the new rule with its name and fingerprint.
  public static func plan(old: [Checkpoint.RuleFingerprint], new: [RuleProgram])
    -> (mapping: [Int?], changes: RuleChanges)
  {
    let current = new.map(fingerprint)
    var changes = RuleChanges()
    var mapping: [Int?] = []
    for rule in old {
      guard let index = current.firstIndex(where: { $0.name == rule.name }) else {
        mapping.append(nil)
        changes.removed.append(rule.name)
        continue
      }
      if current[index].fingerprint == rule.fingerprint {
        mapping.append(index)
        changes.kept.append(rule.name)
      } else {
        mapping.append(nil)
        changes.changed.append(rule.name)
      }
    }
    changes.added = current.map(\.name).filter { name in !old.contains { $0.name == name } }
    return (mapping, changes)
  }
}
