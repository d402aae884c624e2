import TocsinCore

/// Reclaiming keys: a key whose state is empty in every rule of its space, and to which no
/// buffered event can still refer, is removed from its key space and its id reused.
///
/// Without this, every distinct key ever seen would keep its id, text, values and per-rule
/// slots for the life of the process: a stream of new session ids or a scan of a million
/// addresses would grow memory without bound even with every partial match long gone (issue 6).
///
/// When a key may go: its state is empty for every rule of the space, the engine is not
/// calibrating its time base (the held events keep their ids), and the latest event routed to
/// the key on its way into the reorder buffer (``KeySpace/key(of:pinning:)``, kept in the key-table slot) is at or before
/// the watermark — every such event has been released and processed, so no buffer entry holds
/// the id. Suspects held by the time-skew guard do not pin their keys (an attacker's far-future
/// events would otherwise pin keys for ever); their ids, like those of events held by
/// calibration, are looked up again when they are admitted.
///
/// When it is done (amortised O(1) per new key, never on the common path of a busy key):
/// - a state limit (budget or idle-key TTL) empties a key: that key, at once;
/// - the state budget is exceeded and at least an eighth of a space's keys have no state: a
///   sweep of the space, before any partial match is dropped;
/// - a space's live keys reach ``EngineOptions/keySweepFloor`` (a million by default) or twice
///   their count after the last sweep: a sweep, so a long run without a budget or TTL still
///   reuses the ids of idle keys.
///
/// Nothing observable changes: a reclaimed key that comes back is interned again with empty
/// state, exactly what it had. Stale timers and eviction entries naming a reused id are skipped
/// by the checks they already make (deadline and start position).
extension Engine {
  /// Bookkeeping of key reclamation, per key space.
  struct KeySweeps {
    /// Live keys at which the next growth sweep runs.
    var sweepAt: Int
    /// ``KeySpace/interned`` at the last sweep.
    var internedAtSweep = 0
  }

  /// Reclaims key `k` of space `s` if it can go now; returns whether it did.
  ///
  /// The rules' states are read first: a sweep reads them in id order, and most keys it meets
  /// under a state budget still have state. The pin costs the key's hash, computed again from
  /// its values, and a probe of the key table (~270 instructions, and a cold slot): checked
  /// first, it was 12% of a budget-bound run's instructions (the adversarial test's). The pin's
  /// check and the removal share that hash and probe (``KeySpace/reclaimIfIdle(_:at:)``).
  @discardableResult
  func reclaimIfIdle(space s: Int, key k: KeyID) -> Bool {
    guard calibration == nil else { return false }
    // A queued rule's dead entries may still name the id: that is safe, as its counts say they
    // are gone (RunQueue), so only live ones keep the key.
    for r in rulesBySpace[s] where holdsState(rule: r, key: k) { return false }
    guard keySpaces[s].reclaimIfIdle(k, at: watermark.time) else { return false }
    for r in rulesBySpace[s] {
      if k.index < states.count(of: r) { states[r, k.index] = PartialMatches() }
      if r < limitState.ttl.count, k.index < limitState.ttl[r].count {
        limitState.ttl[r][k.index] = LimitState.KeyTTL()
      }
    }
    return true
  }

  /// Reclaims every key of space `s` that can go.
  /// - Complexity: O(ids × rules of the space).
  func sweepKeys(space s: Int) {
    guard calibration == nil else { return }
    for id in 0..<keySpaces[s].idCount { reclaimIfIdle(space: s, key: KeyID(id)) }
    keySweeps[s].internedAtSweep = keySpaces[s].interned
    let floor = options.keySweepFloor
    keySweeps[s].sweepAt = floor <= 0 ? 0 : max(floor, 2 * keySpaces[s].count)
  }

  /// The growth sweep, after a watermark step.
  @inline(__always)
  func sweepGrownKeySpaces() {
    for s in keySpaces.indices where keySpaces[s].count >= keySweeps[s].sweepAt { sweepKeys(space: s) }
  }

  /// Before the budget drops partial matches: sweeps the spaces where at least an eighth of the
  /// live keys (and at least 1024) have no state. Past ``KeySpace/trackedRules`` rules a space
  /// cannot tell, and is swept when an eighth of its keys were interned since its last sweep.
  func sweepForBudget() {
    for s in keySpaces.indices {
      let live = keySpaces[s].count
      let candidates =
        rulesBySpace[s].count <= KeySpace.trackedRules
        ? live - keySpaces[s].openKeys : keySpaces[s].interned - keySweeps[s].internedAtSweep
      if candidates >= max(1024, live / 8) { sweepKeys(space: s) }
    }
  }

  /// Keys reclaimed, over all key spaces.
  public var keysReclaimed: Int { keySpaces.reduce(0) { $0 + $1.reclaimed } }
}
