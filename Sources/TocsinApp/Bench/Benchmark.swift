import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO

/// `tocsin bench`: seeded in-memory workloads through the real pipeline, timed.
///
/// Each run replays the same bytes: a *parse-only* pass (line reader + event decoder, no rules)
/// and the *full* pass (decoder, reorder buffer, every rule, alert encoding into a discarded
/// buffer). The figure reported is the median over the runs; the spread is printed so a noisy
/// machine is visible. Peak RSS is the process's high-water mark after all runs.
public enum Benchmark {
  /// One workload's results.
  public struct Result {
    /// The workload's name.
    public var name: String
    /// Events per run.
    public var events: Int
    /// Alerts per full run.
    public var alerts: Int
    /// Wall-clock seconds of each parse-only run.
    public var parseSeconds: [Double]
    /// Wall-clock seconds of each full run.
    public var fullSeconds: [Double]

    /// Median of `values`.
    static func median(_ values: [Double]) -> Double {
      let sorted = values.sorted()
      guard !sorted.isEmpty else { return 0 }
      return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Median events/s of the full pipeline.
    public var eventsPerSecond: Double { Double(events) / Self.median(fullSeconds) }
    /// Median events/s of the parse-only pass.
    public var parseEventsPerSecond: Double { Double(events) / Self.median(parseSeconds) }

    /// A table row.
    public var row: String {
      func f(_ x: Double) -> String { String(format: "%.0f", x) }
      let full = Self.median(fullSeconds)
      let spread = (fullSeconds.min() ?? 0, fullSeconds.max() ?? 0)
      return "\(name)\t\(events)\t\(alerts)\t\(f(eventsPerSecond))\t"
        + "\(f(full / Double(events) * 1e9))\t\(f(parseEventsPerSecond))\t"
        + String(format: "%.2f", eventsPerSecond / parseEventsPerSecond) + "\t"
        + String(format: "%.3f-%.3f", spread.0, spread.1)
    }

    /// The table header matching ``row``.
    public static let header =
      "workload\tevents\talerts\tevents/s\tns/event\tparse-only events/s\tfull/parse\tfull run s (min-max)"
  }

  /// Runs `programs` over `input` (NDJSON bytes) `runs` times.
  public static func measure(
    name: String, programs: ProgramSet, input: [UInt8], runs: Int,
    configuration: ReplayConfiguration = ReplayConfiguration()
  ) throws -> Result {
    var result = Result(name: name, events: 0, alerts: 0, parseSeconds: [], fullSeconds: [])
    let clock = ContinuousClock()
    for _ in 0..<runs {
      // Parse only.
      var decoder = EventDecoder(ruleProjection: programs.projection, options: configuration.ingest)
      var events = 0
      let parse = try clock.measure {
        let reader = Replay.memoryReader(input)
        var sequence: UInt64 = 0
        while let line = try reader.nextLine() {
          if let _ = try? decoder.decode(line.bytes, lineNumber: line.number, sequence: sequence) {
            events += 1
          }
          sequence += 1
        }
      }
      result.parseSeconds.append(seconds(parse))
      // Full pipeline.
      var alertBytes = 0
      var alerts = 0
      let full = try clock.measure {
        let session = ReplaySession(
          programs: programs, configuration: configuration,
          alerts: { alertBytes += $0.count; alerts += 1 }, deadLetters: { _ in })
        let reader = Replay.memoryReader(input)
        while let line = try reader.nextLine() { try session.consume(line) }
        try session.finish()
      }
      result.fullSeconds.append(seconds(full))
      result.events = events
      result.alerts = alerts
    }
    return result
  }

  private static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
  }

  /// W1: the payment stream with 300 geo pairs and velocity bursts and 100 brute-force and
  /// card-testing cases per million events (fewer for tiny streams).
  public static func paymentWorkload(events: Int, users: Int, seed: UInt64) -> PaymentStreamConfig {
    let scale = max(1, events / 1_000_000)
    return PaymentStreamConfig(
      seed: seed, events: events, users: users,
      geoPairs: min(300 * scale, events / 100), velocityBursts: min(300 * scale, events / 100),
      bruteForceCases: min(100 * scale, events / 300), cardTestingCases: min(100 * scale, events / 300))
  }

  /// The payment stream of `config` as NDJSON bytes.
  public static func paymentStream(_ config: PaymentStreamConfig) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(config.events * 170)
    PaymentStream.generate(config) { line in
      bytes.append(contentsOf: line.utf8)
      bytes.append(UInt8(ascii: "\n"))
    }
    return bytes
  }
}
