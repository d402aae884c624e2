import TocsinCore

/// Alert throttling for rules with `suppress DURATION [by expr]`: a pure state machine over the
/// alert stream, fed in output order.
///
/// **Semantics.** Alerts are considered in the order the engine outputs them, which is
/// deterministic (alerts of one event in rule order; alerts released by timers or the end of
/// input sorted by `(time, rule, id)`). Each rule keeps an *alert clock*: the greatest `time` of
/// its alerts so far. An alert's *suppression time* `s` is the clock after it, `max(clock,
/// time)` — its own time in the usual case where a rule's alerts come out in time order, and the
/// clock when a skip strategy released a held match or a timer fired after later alerts. Per
/// suppression key `(rule, kind, key)` — kind tells matches from `on timeout` alerts, key is the
/// `by` value or the partition key — an entry remembers `written`, the suppression time of the
/// last written alert, and `n`, the alerts held back since. Then for each alert:
///
/// 1. Entries whose key has been quiet for `DURATION` (`s >= last alert's s + DURATION`) are
///    dropped (their count, already in the counters, is not carried any further).
/// 2. With a live entry and `s < written + DURATION`, the alert is **suppressed**: `n += 1`.
///    Two alerts exactly `DURATION` apart are therefore both written.
/// 3. Otherwise it is **written** with `"suppressed": n` (omitted when 0) and the entry restarts
///    at `written = s, n = 0`.
///
/// A null suppression key (the `by` expression evaluated to null) is never suppressed and keeps
/// no state: grouping every alert that lacks the value would hide unrelated alerts.
///
/// Because suppression times only grow within a rule, expiry is exact: dropping an entry never
/// changes a later decision other than losing its carried count, which rule 1 defines. State is
/// bounded by the number of keys with an alert in the last `DURATION` of each rule's alert clock.
/// The state is a plain value (``entries`` and ``clocks``) so a checkpoint can save and restore
/// it.
public struct Suppressor: Sendable {
  /// Identifies a throttled stream of alerts.
  public struct Key: Hashable, Sendable {
    /// The rule's index in the program set.
    public var rule: Int
    /// Whether this counts `on timeout` alerts (kept apart from matches).
    public var isTimeout: Bool
    /// The `by` value, or the partition key as a string.
    public var value: Value

    /// Creates a key.
    public init(rule: Int, isTimeout: Bool, value: Value) {
      self.rule = rule
      self.isTimeout = isTimeout
      self.value = value
    }
  }

  /// The state of one suppression key.
  public struct Entry: Sendable, Equatable {
    /// Which alerts.
    public var key: Key
    /// Suppression time of the last written alert.
    public var written: EventTime
    /// Suppression time of the last alert, written or not; the entry expires `DURATION` later.
    public var lastSeen: EventTime
    /// Alerts suppressed since the last written one.
    public var suppressed: Int

    /// Creates an entry (e.g. read back from a checkpoint).
    public init(key: Key, written: EventTime, lastSeen: EventTime, suppressed: Int) {
      self.key = key
      self.written = written
      self.lastSeen = lastSeen
      self.suppressed = suppressed
    }
  }

  /// What to do with an alert.
  public enum Action: Equatable, Sendable {
    /// Write it, reporting `suppressed` alerts held back since the previous written one.
    case write(suppressed: Int)
    /// Count it and do not write it.
    case suppress
  }

  /// Per rule: its `suppress` duration, `nil` when it writes every alert.
  public let durations: [EventDuration?]
  /// Per rule: the alert clock (greatest alert time so far).
  public private(set) var clocks: [EventTime]
  private var table: [Key: Entry] = [:]
  /// Per rule, expiry times in non-decreasing order (suppression times grow and the duration is
  /// fixed per rule); stale items (the entry moved on) are skipped when popped.
  private var expiries: [[(time: EventTime, key: Key)]]
  private var expiryHeads: [Int]

  /// A suppressor for rules with these `suppress` durations (by rule index).
  public init(durations: [EventDuration?]) {
    self.durations = durations
    isActive = durations.contains { $0 != nil }
    clocks = Array(repeating: .negativeInfinity, count: durations.count)
    expiries = Array(repeating: [], count: durations.count)
    expiryHeads = Array(repeating: 0, count: durations.count)
  }

  /// Whether any rule suppresses (kept: it is asked per alert).
  public let isActive: Bool

  /// Decides about the next alert in output order. Only ``Alert/ruleIndex``, ``Alert/time``,
  /// ``Alert/isTimeout`` and ``Alert/suppressionKey`` are read.
  ///
  /// - Complexity: amortised O(1) (hashing the key).
  public mutating func alertArrived(_ alert: Alert) -> Action {
    let rule = alert.ruleIndex
    guard rule < durations.count, let duration = durations[rule] else { return .write(suppressed: 0) }
    let now = max(clocks[rule], alert.time)
    clocks[rule] = now
    expire(rule: rule, upTo: now)
    if alert.suppressionKey.isNull { return .write(suppressed: 0) }
    let key = Key(rule: rule, isTimeout: alert.isTimeout, value: alert.suppressionKey)
    expiries[rule].append((now + duration, key))
    if var entry = table[key], now < entry.written + duration {
      entry.suppressed += 1
      entry.lastSeen = now
      table[key] = entry
      return .suppress
    }
    let carried = table[key]?.suppressed ?? 0
    table[key] = Entry(key: key, written: now, lastSeen: now, suppressed: 0)
    return .write(suppressed: carried)
  }

  /// Drops rule `rule`'s entries whose key has been quiet for its duration at `now`.
  private mutating func expire(rule: Int, upTo now: EventTime) {
    guard let duration = durations[rule] else { return }
    var head = expiryHeads[rule]
    while head < expiries[rule].count, expiries[rule][head].time <= now {
      let key = expiries[rule][head].key
      if let entry = table[key], entry.lastSeen + duration <= now { table[key] = nil }
      head += 1
    }
    // Compact once the consumed prefix dominates, so the queue stays bounded.
    if head > 64 && head * 2 > expiries[rule].count {
      expiries[rule].removeFirst(head)
      head = 0
    }
    expiryHeads[rule] = head
  }

  /// The live entries in a deterministic order (rule, kind, key text): the state a checkpoint
  /// saves.
  public var entries: [Entry] {
    table.values.sorted { a, b in
      if a.key.rule != b.key.rule { return a.key.rule < b.key.rule }
      if a.key.isTimeout != b.key.isTimeout { return !a.key.isTimeout }
      if a.key.value.description != b.key.value.description {
        return a.key.value.description < b.key.value.description
      }
      return a.key.value.typeName < b.key.value.typeName
    }
  }

  /// Restores state saved from ``entries`` and ``clocks`` (a checkpoint).
  public mutating func restore(entries: [Entry], clocks: [EventTime]) {
    precondition(clocks.count == durations.count, "clocks for \(clocks.count) rules, expected \(durations.count)")
    self.clocks = clocks
    table = [:]
    expiries = Array(repeating: [], count: durations.count)
    expiryHeads = Array(repeating: 0, count: durations.count)
    for entry in entries.sorted(by: { $0.lastSeen < $1.lastSeen }) {
      guard let duration = durations[entry.key.rule] else { continue }
      table[entry.key] = entry
      expiries[entry.key.rule].append((entry.lastSeen + duration, entry.key))
    }
  }
}
