import Foundation

/// The kinds of Prometheus metric Tocsin exposes.
public enum MetricType: String, Sendable {
  /// Only goes up (resets when the process restarts); names end in `_total`.
  case counter
  /// Goes up and down.
  case gauge
  /// Observations counted into cumulative buckets, plus their sum and count.
  case histogram
}

/// One metric family: a name, its help text and type, and its current samples.
public struct MetricFamily: Sendable, Equatable {
  /// One labelled value of a counter or gauge.
  public struct Sample: Sendable, Equatable {
    /// Label names and values, written in this order.
    public var labels: [(name: String, value: String)]
    /// The value.
    public var value: Double

    /// Creates a sample.
    public init(labels: [(name: String, value: String)] = [], value: Double) {
      self.labels = labels
      self.value = value
    }

    public static func == (a: Sample, b: Sample) -> Bool {
      a.value == b.value && a.labels.map(\.name) == b.labels.map(\.name)
        && a.labels.map(\.value) == b.labels.map(\.value)
    }
  }

  /// The metric name (`tocsin_events_in_total`).
  public var name: String
  /// One line of help.
  public var help: String
  /// Counter, gauge or histogram.
  public var type: MetricType
  /// Counter and gauge values.
  public var samples: [Sample]
  /// The histogram, for `type == .histogram`.
  public var histogram: Histogram?

  /// A counter or gauge family.
  public init(name: String, help: String, type: MetricType, samples: [Sample]) {
    self.name = name
    self.help = help
    self.type = type
    self.samples = samples
  }

  /// A histogram family.
  public init(name: String, help: String, histogram: Histogram) {
    self.name = name
    self.help = help
    self.type = .histogram
    self.samples = []
    self.histogram = histogram
  }

  /// A family with one unlabelled sample.
  public static func single(_ name: String, _ help: String, _ type: MetricType, _ value: Double) -> MetricFamily {
    MetricFamily(name: name, help: help, type: type, samples: [Sample(value: value)])
  }
}

/// A fixed-bucket histogram of durations or sizes, filled on one thread and published as a
/// copy.
public struct Histogram: Sendable, Equatable {
  /// Upper bounds of the buckets, ascending (the `+Inf` bucket is implicit).
  public let bounds: [Double]
  /// Per bucket (not cumulative), plus one for `+Inf`.
  public private(set) var counts: [UInt64]
  /// Sum of all observations.
  public private(set) var sum: Double = 0
  /// Number of observations.
  public private(set) var count: UInt64 = 0

  /// An empty histogram with these bucket upper bounds.
  public init(bounds: [Double]) {
    self.bounds = bounds
    counts = Array(repeating: 0, count: bounds.count + 1)
  }

  /// Counts one observation.
  /// - Complexity: O(number of buckets).
  public mutating func observe(_ value: Double) {
    var i = 0
    while i < bounds.count && value > bounds[i] { i += 1 }
    counts[i] += 1
    sum += value
    count += 1
  }

  /// The `q`-quantile estimated as Prometheus' `histogram_quantile` does: linear interpolation
  /// inside the bucket holding it; `nil` without observations. Above the last bound it answers
  /// the last bound.
  public func quantile(_ q: Double) -> Double? {
    guard count > 0 else { return nil }
    let rank = q * Double(count)
    var seen: UInt64 = 0
    for (i, n) in counts.enumerated() where n > 0 {
      if Double(seen + n) >= rank {
        guard i < bounds.count else { return bounds.last }
        let lower = i == 0 ? 0 : bounds[i - 1]
        return lower + (bounds[i] - lower) * max(0, rank - Double(seen)) / Double(n)
      }
      seen += n
    }
    return bounds.last
  }
}

/// The figures `/metrics` serves: families published by the threads that own them.
///
/// Publishing replaces whole families under a lock, so a producer (the engine thread, a sink)
/// pays for one lock per snapshot, never per event. *Collectors* are closures run at scrape time,
/// for figures that change without the producer running (the watermark's lag behind the wall
/// clock while input is idle); they must be thread-safe. Families are written in the order they
/// were first published, so the exposition is stable.
public final class MetricsRegistry: @unchecked Sendable {
  // @unchecked: every stored property is guarded by `lock`.
  private let lock = NSLock()
  private var order: [String] = []
  private var families: [String: MetricFamily] = [:]
  private var collectors: [@Sendable () -> [MetricFamily]] = []

  /// An empty registry.
  public init() {}

  /// Replaces (or adds) these families.
  public func publish(_ snapshot: [MetricFamily]) {
    lock.lock()
    defer { lock.unlock() }
    for family in snapshot {
      if families.updateValue(family, forKey: family.name) == nil { order.append(family.name) }
    }
  }

  /// Adds a closure whose families are computed at every scrape, after the published ones.
  public func register(collector: @escaping @Sendable () -> [MetricFamily]) {
    lock.lock()
    defer { lock.unlock() }
    collectors.append(collector)
  }

  /// The current families: published ones in first-publication order, then collected ones.
  public func snapshot() -> [MetricFamily] {
    lock.lock()
    let published = order.compactMap { families[$0] }
    let collectors = self.collectors
    lock.unlock()
    return published + collectors.flatMap { $0() }
  }

  /// The Prometheus text exposition format (version 0.0.4) of ``snapshot()``.
  public func exposition() -> String { MetricsRegistry.render(snapshot()) }

  /// Renders families: `# HELP`, `# TYPE`, then one line per sample (histograms as cumulative
  /// `_bucket{le=…}` lines, `_sum` and `_count`).
  public static func render(_ families: [MetricFamily]) -> String {
    var out = ""
    for family in families {
      out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
      out += "# TYPE \(family.name) \(family.type.rawValue)\n"
      if let histogram = family.histogram {
        var cumulative: UInt64 = 0
        for (i, n) in histogram.counts.enumerated() {
          cumulative += n
          let le = i < histogram.bounds.count ? format(histogram.bounds[i]) : "+Inf"
          out += "\(family.name)_bucket{le=\"\(le)\"} \(cumulative)\n"
        }
        out += "\(family.name)_sum \(format(histogram.sum))\n"
        out += "\(family.name)_count \(histogram.count)\n"
        continue
      }
      for sample in family.samples {
        out += family.name
        if !sample.labels.isEmpty {
          out += "{"
          out += sample.labels.map { "\($0.name)=\"\(escapeLabel($0.value))\"" }.joined(separator: ",")
          out += "}"
        }
        out += " \(format(sample.value))\n"
      }
    }
    return out
  }

  /// Integral values without a fraction; `NaN`, `+Inf`, `-Inf` as Prometheus spells them.
  static func format(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }

  private static func escapeHelp(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }

  private static func escapeLabel(_ text: String) -> String {
    escapeHelp(text).replacingOccurrences(of: "\"", with: "\\\"")
  }
}
