/// Settings of a ``WebhookSink``; the defaults are those of the configuration file
/// (docs/operations.md, "Webhook").
public struct WebhookConfiguration: Hashable, Sendable {
  /// Where to post.
  public var endpoint: HTTPEndpoint
  /// The spill file: alerts that could not be delivered are appended here as NDJSON.
  public var spillPath: String
  /// The most alerts in one request.
  public var batchSize = 100
  /// How long the first alert of a batch waits for more before the batch is sent.
  public var linger: Duration = .milliseconds(200)
  /// TCP connect deadline.
  public var connectTimeout: Duration = .seconds(2)
  /// Deadline for one request (send and complete response).
  public var requestTimeout: Duration = .seconds(10)
  /// Retries of a failed request before its batch is spilled (so `retries + 1` attempts).
  public var retries = 3
  /// Waits between retries.
  public var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10))
  /// Circuit breaker thresholds.
  public var breaker = CircuitBreaker.Configuration()
  /// The most alerts waiting for delivery; beyond it, new alerts are spilled at once.
  public var queueCapacity = 10_000
  /// At the end of the run, how long queued alerts may still be tried before the rest is spilled.
  public var drainTimeout: Duration = .seconds(30)
  /// Seed of the jitter generator (fixed by default, so runs are reproducible).
  public var jitterSeed: UInt64 = 0x746F_6373_696E  // "tocsin"

  /// Settings with the defaults.
  public init(endpoint: HTTPEndpoint, spillPath: String) {
    self.endpoint = endpoint
    self.spillPath = spillPath
  }
}

/// Something a webhook sink reports once, when its state changes (printed on standard error).
public enum WebhookEvent: Hashable, Sendable, CustomStringConvertible {
  /// A request failed; the batch is retried or spilled. Reported on the first failure after a
  /// success only.
  case deliveryFailing(reason: String)
  /// The endpoint answered a non-retryable status (4xx other than 408 and 429): the batch was
  /// spilled without retrying.
  case rejected(status: Int)
  /// The circuit breaker opened; batches are spilled until the cool-down passes.
  case breakerOpened(cooldown: Duration, reason: String)
  /// The cool-down passed; one probe request is being sent.
  case breakerHalfOpen
  /// A request succeeded after failures: delivering normally again.
  case recovered
  /// The queue reached its capacity: new alerts are spilled until it has room.
  case queueFull(capacity: Int)
  /// The queue has room again.
  case queueDrained
  /// The spill file could not be written: alerts are being lost (counted as dropped).
  case spillFailed(message: String)
  /// The end-of-run drain timeout passed; what was still queued was spilled.
  case drainTimedOut(spilled: Int)

  public var description: String {
    switch self {
    case .deliveryFailing(let reason): return "delivery failed (\(reason)); retrying with backoff"
    case .rejected(let status): return "endpoint rejected a batch with HTTP \(status); batch spilled, not retried"
    case .breakerOpened(let cooldown, let reason):
      return "circuit breaker open (last failure: \(reason)); spilling for \(cooldown.formattedSeconds)"
    case .breakerHalfOpen: return "circuit breaker half-open; sending a probe"
    case .recovered: return "endpoint recovered; delivering again"
    case .queueFull(let capacity): return "queue full (\(capacity) alerts); spilling new alerts until it drains"
    case .queueDrained: return "queue has room again"
    case .spillFailed(let message): return "cannot write the spill file (\(message)); alerts are being dropped"
    case .drainTimedOut(let spilled): return "drain timeout at end of run; \(spilled) queued alerts spilled"
    }
  }
}

extension Duration {
  /// `1.5s`, `250ms`.
  var formattedSeconds: String {
    let ms = nanosecondsClamped / 1_000_000
    return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
  }
}
