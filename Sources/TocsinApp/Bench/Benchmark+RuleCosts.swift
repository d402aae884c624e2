import Foundation
import TocsinCore
import TocsinAutomaton
import TocsinExpressions
import TocsinIO

/// `tocsin bench --rule-costs`: what each rule of a workload costs, by leaving it out.
///
/// For each rule, `runs` pairs of full passes over the same input: the whole rule set, then the
/// set without that rule (compiled on its own, so its projection, guards and key spaces are
/// those a deployment without the rule would have). A rule's cost is the median over the pairs
/// of the difference, per event. Paired, each difference is taken a few seconds apart, so a
/// machine whose speed drifts over the minutes the whole measure takes moves both sides alike.
///
/// What it means: the time the pipeline saves without the rule. That includes the rule's share
/// of the cache (its state evicts other rules' state), so on a workload whose state outgrows
/// the caches the costs can add up to more than the time the rules take together; and it
/// excludes what every rule set pays (reading, decoding, the reorder buffer), which no single
/// rule removes.
extension Benchmark {
  /// One rule's cost.
  public struct RuleCost: Codable, Equatable, Sendable {
    /// The rule's name.
    public var rule: String
    /// Median over the paired runs of (whole set − set without the rule), in nanoseconds per
    /// event; negative when leaving the rule out was slower (noise, or a layout effect).
    public var nanosecondsPerEvent: Double
    /// Alerts of a pass without the rule (the whole set's minus the rule's own).
    public var alertsWithout: Int

    /// A cost.
    public init(rule: String, nanosecondsPerEvent: Double, alertsWithout: Int) {
      self.rule = rule
      self.nanosecondsPerEvent = nanosecondsPerEvent
      self.alertsWithout = alertsWithout
    }
  }

  /// The cost of each rule of `programs` (compiled by ``RuleSet/compile(_:ingest:)`` under
  /// `ingest`, as each set without one rule is) on `input`, measured as the type's notes say.
  /// - Parameter runs: Pairs of passes per rule (at least 1).
  public static func ruleCosts(
    programs: ProgramSet, ingest: IngestOptions, input: [UInt8], runs: Int,
    configuration: ReplayConfiguration = ReplayConfiguration(), progress: (String) -> Void = { _ in }
  ) throws -> [RuleCost] {
    let specs = programs.rules.map(\.spec)
    var costs: [RuleCost] = []
    for (r, spec) in specs.enumerated() {
      var remaining = specs
      remaining.remove(at: r)
      let without = RuleSet.compile(remaining, ingest: ingest)
      var differences: [Double] = []
      var alertsWithout = 0
      var events = 0
      for run in 1...max(1, runs) {
        progress("rule costs: \(spec.name) (\(r + 1) of \(specs.count)), pair \(run) of \(runs)")
        let all = try timedFullPass(programs: programs, input: input, configuration: configuration)
        let less = try timedFullPass(programs: without, input: input, configuration: configuration)
        events = all.counts.events
        alertsWithout = less.counts.alerts
        differences.append(all.seconds - less.seconds)
      }
      let perEvent = events > 0 ? BenchResult.median(differences) / Double(events) * 1e9 : 0
      costs.append(RuleCost(rule: spec.name, nanosecondsPerEvent: perEvent, alertsWithout: alertsWithout))
    }
    return costs
  }

  /// A full pass's counts and seconds, its session freed after the clock stopped.
  private static func timedFullPass(programs: ProgramSet, input: [UInt8], configuration: ReplayConfiguration)
    throws -> (counts: PassCounts, seconds: Double)
  {
    let clock = ContinuousClock()
    let start = clock.now
    let pass = try fullPass(programs: programs, input: input, configuration: configuration)
    let seconds = (clock.now - start).inSeconds
    // `pass.session` is freed on return, off the clock.
    return (pass.counts, seconds)
  }
}
