import Foundation

/// `tocsin bench --against OLD`: this build and an older one measured in the same run, round by
/// round, so that each figure's ratio new/old compares measurements taken a minute apart.
///
/// Why: a saved baseline (`--save-baseline`, then `--baseline`) compares runs made minutes or
/// hours apart, and on a shared machine the neighbours' load changes in between. On the 2-core
/// development VMs an unchanged parser's parse-only figure read 0.66× (W2) and 1.40× (W3) of
/// itself in one baseline pair (session 32). Rounds help only as far as the machine's slow
/// spells are shorter than a measuring process (see docs/performance.md). Here every round runs both builds' measuring processes
/// back to back (``order(round:)``: the old build first in even rounds, the new one first in odd
/// rounds, so a drift in the machine's speed favours neither), and a figure's ratio is the
/// median of the rounds' ratios, with how many rounds went each way.
public struct BenchComparison: Codable, Equatable, Sendable {
  /// One workload's rounds.
  public struct Workload: Codable, Equatable, Sendable {
    public var name: String
    /// Round `i`'s result of the older build (`old[i]`) and of this one (`new[i]`).
    public var old: [BenchResult]
    public var new: [BenchResult]

    public init(name: String, old: [BenchResult], new: [BenchResult]) {
      self.name = name
      self.old = old
      self.new = new
    }
  }

  /// Which build measured first in a round.
  public enum Side: String, Codable, Sendable {
    case old, new
  }

  public var format = 1
  /// This build: the tree's commit at `--root` and the executable's fingerprint.
  public var commit: String?
  public var binary: String?
  /// The older build: the path given, and its executable's fingerprint.
  public var againstPath: String
  public var againstBinary: String?
  public var date: String
  public var machine: BenchReport.Machine
  /// `runs` is the timed runs each measuring process makes; `rounds` how many times both ran.
  public var settings: BenchReport.Settings
  public var rounds: Int
  public var workloads: [Workload]

  public init(
    commit: String?, binary: String?, againstPath: String, againstBinary: String?, date: String,
    machine: BenchReport.Machine, settings: BenchReport.Settings, rounds: Int, workloads: [Workload]
  ) {
    self.commit = commit
    self.binary = binary
    self.againstPath = againstPath
    self.againstBinary = againstBinary
    self.date = date
    self.machine = machine
    self.settings = settings
    self.rounds = rounds
    self.workloads = workloads
  }

  /// The builds in the order round `round` runs them: old first in even rounds (ABBA…), so that
  /// each build runs first as often as the other over an even number of rounds.
  public static func order(round: Int) -> [Side] {
    round % 2 == 0 ? [.old, .new] : [.new, .old]
  }

  /// A figure compared over the rounds.
  public struct Paired: Equatable, Sendable {
    /// Medians over the rounds of each build's figure.
    public var old: Double
    public var new: Double
    /// The median of the rounds' `new / old`.
    public var ratio: Double
    /// Rounds where the new figure was higher, lower; and how many rounds had the figure on
    /// both sides (a round missing it on either side, or with an old figure of 0, is left out).
    public var higher: Int
    public var lower: Int
    public var rounds: Int

    public init(old: Double, new: Double, ratio: Double, higher: Int, lower: Int, rounds: Int) {
      self.old = old
      self.new = new
      self.ratio = ratio
      self.higher = higher
      self.lower = lower
      self.rounds = rounds
    }
  }

  /// `figure` of each round's two results, compared; `nil` when no round has it on both sides.
  public static func paired(_ old: [Double?], _ new: [Double?]) -> Paired? {
    var olds: [Double] = []
    var news: [Double] = []
    var ratios: [Double] = []
    var higher = 0
    var lower = 0
    for (o, n) in zip(old, new) {
      guard let o, let n, o != 0 else { continue }
      olds.append(o)
      news.append(n)
      ratios.append(n / o)
      if n > o { higher += 1 } else if n < o { lower += 1 }
    }
    guard !ratios.isEmpty else { return nil }
    return Paired(
      old: BenchResult.median(olds), new: BenchResult.median(news), ratio: BenchResult.median(ratios),
      higher: higher, lower: lower, rounds: ratios.count)
  }

  // MARK: - JSON

  /// The comparison as JSON (pretty-printed, sorted keys, a final newline).
  public func jsonData() throws -> Data { try BenchReport.prettyJSON(self) }
}

extension BenchComparison.Workload {
  /// `figure` over the rounds (``BenchComparison/paired(_:_:)``).
  public func paired(_ figure: (BenchResult) -> Double?) -> BenchComparison.Paired? {
    BenchComparison.paired(old.map(figure), new.map(figure))
  }

  /// Rounds whose two builds wrote different numbers of alerts.
  public var roundsWithDifferentAlerts: [Int] {
    zip(old, new).enumerated().compactMap { i, pair in pair.0.alerts == pair.1.alerts ? nil : i }
  }
}
