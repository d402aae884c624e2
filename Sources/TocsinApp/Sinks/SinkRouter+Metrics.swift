import TocsinIO
import TocsinSinks

extension SinkRouter {
  /// The sinks' figures as metric families (`tocsin_sink_*`), one series per sink.
  public var metricFamilies: [MetricFamily] {
    Self.metricFamilies(statistics)
  }

  /// ``metricFamilies`` for explicit statistics (tests).
  public static func metricFamilies(_ statistics: [(name: String, statistics: SinkStatistics)]) -> [MetricFamily] {
    func family(_ name: String, _ help: String, _ type: MetricType, _ value: (SinkStatistics) -> Double?)
      -> MetricFamily
    {
      MetricFamily(
        name: name, help: help, type: type,
        samples: statistics.compactMap { entry in
          value(entry.statistics).map {
            .init(labels: [("sink", entry.name), ("kind", entry.statistics.kind)], value: $0)
          }
        })
    }
    let states: [CircuitBreaker.StateName] = [.closed, .open, .halfOpen]
    var breaker = MetricFamily(
      name: "tocsin_sink_breaker_state",
      help: "1 for the webhook circuit breaker's current state (closed, open, half-open), else 0.",
      type: .gauge, samples: [])
    for entry in statistics {
      guard let current = entry.statistics.breaker else { continue }
      for state in states {
        breaker.samples.append(
          .init(labels: [("sink", entry.name), ("state", state.rawValue)], value: state == current ? 1 : 0))
      }
    }
    return [
      family("tocsin_sink_sent_total", "Records delivered by the sink (written, or acknowledged with a 2xx).", .counter) {
        Double($0.sent)
      },
      family("tocsin_sink_retries_total", "Webhook requests repeated after a failure.", .counter) {
        $0.kind == "webhook" ? Double($0.retried) : nil
      },
      family("tocsin_sink_spilled_total", "Records written to the webhook's spill file instead.", .counter) {
        $0.kind == "webhook" ? Double($0.spilled) : nil
      },
      family("tocsin_sink_dropped_total", "Records lost: not delivered and not spilled.", .counter) {
        $0.kind == "webhook" ? Double($0.dropped) : nil
      },
      family("tocsin_sink_queue_depth", "Records waiting in the webhook's bounded queue.", .gauge) {
        $0.kind == "webhook" ? Double($0.queued) : nil
      },
      breaker,
    ]
  }
}
