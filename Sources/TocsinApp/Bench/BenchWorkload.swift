import TocsinCore

/// One named benchmark workload: a generated stream, the rules it runs, and the alert count it
/// must produce when that is known.
///
/// Every workload is a seeded ``PaymentStreamConfig`` plus a rule folder of the repository, so a
/// name and `--events`/`--seed` pin the exact bytes and rules:
///
/// | name | stream | rules | alerts known? |
/// |---|---|---|---|
/// | W1 | payment stream, 10 events per user, injected cases | `rules/` | yes: one per injected case |
/// | W2 | the W1 stream | `bench/rules/w2/` (20 mixed rules) | no |
/// | W3 | every event a new user and card, no cases | `rules/` | yes: zero |
/// | W4 | the W1 stream with 10% of all events on user `u000000` | `rules/` | yes: one per injected case |
/// | W5 | the W1 stream | `bench/rules/w5/` (`within 24h`, `followed_by_any`) | no |
public struct BenchWorkload: Hashable, Sendable {
  /// The workload's name, `W1` … `W5`.
  public var name: String
  /// What it measures, one line.
  public var summary: String
  /// The stream.
  public var stream: PaymentStreamConfig
  /// Rule files or folders, relative to the repository root.
  public var rulePaths: [String]
  /// Alerts the rules must produce on the stream, when the generator's ground truth says.
  public var expectedAlerts: Int?

  /// Every workload name, in order.
  public static let names = ["W1", "W2", "W3", "W4", "W5"]

  /// The workload called `name` (case-insensitive) with `events` events, or `nil` for an unknown
  /// name.
  ///
  /// - Parameters:
  ///   - events: Events in the stream (at least 1).
  ///   - users: Users the background draws from; `nil` means one per ten events (at least 1).
  ///     W3 ignores it: it has one user per event.
  ///   - seed: The stream's seed.
  public static func named(_ name: String, events: Int, users: Int? = nil, seed: UInt64) -> BenchWorkload? {
    let users = users ?? max(1, events / 10)
    let payments = paymentStream(events: events, users: users, seed: seed)
    switch name.uppercased() {
    case "W1":
      return BenchWorkload(
        name: "W1", summary: "payment stream, example rules (rules/)", stream: payments,
        rulePaths: ["rules"], expectedAlerts: payments.injectedCaseCount)
    case "W2":
      return BenchWorkload(
        name: "W2", summary: "payment stream, 20 mixed rules (bench/rules/w2)", stream: payments,
        rulePaths: ["bench/rules/w2"], expectedAlerts: nil)
    case "W3":
      var stream = PaymentStreamConfig(
        seed: seed, events: events, users: events, geoPairs: 0, velocityBursts: 0,
        bruteForceCases: 0, cardTestingCases: 0)
      stream.distinctKeys = true
      return BenchWorkload(
        name: "W3", summary: "every event a new user and card, example rules", stream: stream,
        rulePaths: ["rules"], expectedAlerts: 0)
    case "W4":
      var stream = payments
      stream.hotKeyFraction = hotKeyShare
      stream.hotUser = 0
      return BenchWorkload(
        name: "W4", summary: "10% of events on one user, example rules", stream: stream,
        rulePaths: ["rules"], expectedAlerts: stream.injectedCaseCount)
    case "W5":
      return BenchWorkload(
        name: "W5", summary: "24h windows, followed_by_any (bench/rules/w5)", stream: payments,
        rulePaths: ["bench/rules/w5"], expectedAlerts: nil)
    default:
      return nil
    }
  }

  /// W4's share of background events on the hot user; with the injected cases (about 0.5% of
  /// the stream) it puts 10% (±0.1%) of all events on that one key.
  public static let hotKeyShare = 0.1005

  /// The W1 stream: 300 geo pairs and velocity bursts and 100 brute-force and card-testing cases
  /// per million events (fewer for tiny streams), up to 5 s of arrival disorder.
  public static func paymentStream(events: Int, users: Int, seed: UInt64) -> PaymentStreamConfig {
    let scale = max(1, events / 1_000_000)
    let perUserCases = max(0, min(100 * scale, events / 300, users / 4))
    return PaymentStreamConfig(
      seed: seed, events: events, users: users,
      geoPairs: min(300 * scale, events / 100, users / 2), velocityBursts: min(300 * scale, events / 100),
      bruteForceCases: perUserCases, cardTestingCases: min(100 * scale, events / 300))
  }
}

extension PaymentStreamConfig {
  /// How many cases the generator injects: with the rules in `rules/`, the exact alert count.
  public var injectedCaseCount: Int { geoPairs + velocityBursts + bruteForceCases + cardTestingCases }
}
