/// A circuit breaker for one endpoint: a pure state machine over request outcomes and time.
///
/// States (names as printed in messages and the run summary):
///
/// - **closed**: requests flow. Each failure counts; a success resets the count. After
///   ``Configuration/failureThreshold`` consecutive failures the breaker opens.
/// - **open**: no request is sent until ``Configuration/cooldown`` has passed since it opened;
///   the webhook sink spills batches meanwhile instead of waiting.
/// - **half-open**: the cool-down is over; one probe request is let through at a time. A success
///   closes the breaker, a failure opens it again for another cool-down.
///
/// Time is an argument (``MonotonicTime``), never read here, so tests drive it by table.
public struct CircuitBreaker: Sendable {
  /// Thresholds.
  public struct Configuration: Hashable, Sendable {
    /// Consecutive failures that open a closed breaker (at least 1).
    public var failureThreshold: Int
    /// How long the breaker stays open before it lets a probe through.
    public var cooldown: Duration

    /// Creates thresholds.
    public init(failureThreshold: Int = 5, cooldown: Duration = .seconds(30)) {
      self.failureThreshold = max(1, failureThreshold)
      self.cooldown = cooldown
    }
  }

  /// The state with its data.
  public enum State: Hashable, Sendable {
    /// Requests flow; `failures` consecutive failures so far.
    case closed(failures: Int)
    /// No requests until `until`.
    case open(until: MonotonicTime)
    /// One probe at a time; `probeInFlight` while it is outstanding.
    case halfOpen(probeInFlight: Bool)
  }

  /// A state's name, without its data.
  public enum StateName: String, Hashable, Sendable {
    /// Requests flow.
    case closed
    /// Requests are held back until the cool-down passes.
    case open
    /// One probe request at a time decides between closed and open.
    case halfOpen = "half-open"
  }

  /// The thresholds.
  public let configuration: Configuration
  /// The current state.
  public private(set) var state: State = .closed(failures: 0)

  /// A closed breaker.
  public init(configuration: Configuration) {
    self.configuration = configuration
  }

  /// The current state's name.
  public var stateName: StateName {
    switch state {
    case .closed: return .closed
    case .open: return .open
    case .halfOpen: return .halfOpen
    }
  }

  /// Asks to send a request at `now`. Moves open → half-open when the cool-down is over.
  /// - Returns: whether the request may be sent; when `true` the caller must report its outcome
  ///   with ``recordSuccess()`` or ``recordFailure(at:)``.
  public mutating func requestPermitted(at now: MonotonicTime) -> Bool {
    switch state {
    case .closed:
      return true
    case .open(let until):
      guard now >= until else { return false }
      state = .halfOpen(probeInFlight: true)
      return true
    case .halfOpen(let probeInFlight):
      guard !probeInFlight else { return false }
      state = .halfOpen(probeInFlight: true)
      return true
    }
  }

  /// A permitted request succeeded: the breaker closes (or stays closed with no failures).
  public mutating func recordSuccess() {
    state = .closed(failures: 0)
  }

  /// A permitted request failed at `now`: counts towards opening, or re-opens a half-open
  /// breaker.
  public mutating func recordFailure(at now: MonotonicTime) {
    switch state {
    case .closed(let failures):
      let count = failures + 1
      state =
        count >= configuration.failureThreshold
        ? .open(until: now.advanced(by: configuration.cooldown)) : .closed(failures: count)
    case .halfOpen:
      state = .open(until: now.advanced(by: configuration.cooldown))
    case .open:
      // A request that started before the breaker opened (cannot happen with one sender, but
      // harmless): keep the later deadline.
      state = .open(until: max(now.advanced(by: configuration.cooldown), openUntil ?? now))
    }
  }

  private var openUntil: MonotonicTime? {
    if case .open(let until) = state { return until }
    return nil
  }
}
