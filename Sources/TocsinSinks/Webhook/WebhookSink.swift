import Foundation
import TocsinCore
import TocsinIO

/// Posts alerts as JSON arrays to an HTTP endpoint from a dedicated delivery thread.
///
/// Data flow: ``write(_:)`` (engine thread) appends to a bounded queue and returns at once. The
/// delivery thread takes up to ``WebhookConfiguration/batchSize`` alerts (waiting at most
/// ``WebhookConfiguration/linger`` for a batch to fill) and posts them as one JSON array,
/// `[{alert},{alert}]`, each alert carrying its deterministic `id` so the receiver can drop
/// duplicates (a request that timed out may still have been processed).
///
/// Failure handling, in order:
/// 1. A 2xx response delivers the batch (counted `sent`).
/// 2. A 4xx other than 408/429 means retrying cannot help: the batch is spilled at once.
/// 3. Any other failure (5xx, 408, 429, connect refused, timeouts, malformed responses) counts
///    towards the ``CircuitBreaker`` and is retried up to ``WebhookConfiguration/retries`` times
///    with ``Backoff`` (full jitter); each retry is counted `retried`.
/// 4. When the retries are used up, or the breaker is open, the batch is appended to the spill
///    file (counted `spilled`) — the thread never waits for an open breaker.
/// 5. If the spill file cannot be written, the alerts are counted `dropped` and reported.
///
/// Backpressure: the engine never waits for the endpoint. When the queue holds
/// ``WebhookConfiguration/queueCapacity`` alerts, ``write(_:)`` spills the new alert itself.
///
/// Thread safety: the queue, counters and flags are guarded by `condition`; the spill writer by
/// `spillLock`. The client, breaker and jitter generator belong to the delivery thread.
public final class WebhookSink: AlertSink, @unchecked Sendable {
  public let name: String
  /// The settings.
  public let configuration: WebhookConfiguration

  private let condition = NSCondition()
  private var queue: [SinkRecord] = []
  /// The batch the delivery thread is posting (or retrying), until it is sent or spilled.
  private var inFlight: [SinkRecord] = []
  private var closing = false
  private var finished = false
  private var drainDeadline = MonotonicTime(nanoseconds: .max)
  private var counters: SinkStatistics
  private var isOverflowing = false

  private let spillLock = NSLock()
  private let spill: BufferedWriter
  private var spillFailing = false

  private let client: HTTPClient
  private var breaker: CircuitBreaker
  private var random: SplitMix64
  private var isFailing = false
  private var lastBreakerState = CircuitBreaker.StateName.closed
  private let report: @Sendable (WebhookEvent) -> Void

  /// Opens the spill file and starts the delivery thread.
  /// - Parameter report: called (from either thread) once per state change.
  /// - Throws: ``OutputError`` when the spill file cannot be opened.
  public init(name: String, configuration: WebhookConfiguration, report: @escaping @Sendable (WebhookEvent) -> Void) throws {
    self.name = name
    self.configuration = configuration
    self.report = report
    spill = try BufferedWriter(path: configuration.spillPath, mode: .append)
    client = HTTPClient(
      endpoint: configuration.endpoint, connectTimeout: configuration.connectTimeout,
      requestTimeout: configuration.requestTimeout)
    breaker = CircuitBreaker(configuration: configuration.breaker)
    random = SplitMix64(seed: configuration.jitterSeed)
    counters = SinkStatistics(kind: "webhook")
    counters.breaker = .closed
    let thread = Thread { [self] in deliveryLoop() }
    thread.name = "tocsin-sink-\(name)"
    thread.start()
  }

  public var statistics: SinkStatistics {
    condition.lock()
    defer { condition.unlock() }
    var snapshot = counters
    snapshot.queued = queue.count
    return snapshot
  }

  public func write(_ record: SinkRecord) throws {
    condition.lock()
    if queue.count < configuration.queueCapacity && !closing {
      queue.append(record)
      condition.signal()
      condition.unlock()
      return
    }
    let startedOverflow = !isOverflowing
    isOverflowing = true
    condition.unlock()
    if startedOverflow { report(.queueFull(capacity: configuration.queueCapacity)) }
    spillRecords([record])
  }

  /// Nothing to do: delivery is continuous; ``close()`` drains.
  public func flush() throws {}

  /// The records accepted but neither delivered nor spilled yet, oldest first: the batch in
  /// flight, then the queue. A checkpoint stores them, so a crash after it loses none of them
  /// (docs/operations.md, "Checkpoints and resume"); some may be delivered twice.
  public func undelivered() -> [SinkRecord] {
    condition.lock()
    defer { condition.unlock() }
    return inFlight + queue
  }

  /// Queues `records` (those a checkpoint stored) ahead of anything written since, up to the
  /// queue's capacity; the rest are spilled.
  public func requeue(_ records: [SinkRecord]) {
    condition.lock()
    let room = max(0, configuration.queueCapacity - queue.count)
    queue.insert(contentsOf: records.prefix(room), at: 0)
    condition.signal()
    condition.unlock()
    spillRecords(Array(records.dropFirst(room)))
  }

  /// Delivers what is queued (for at most ``WebhookConfiguration/drainTimeout``; the rest is
  /// spilled), stops the delivery thread and closes the spill file.
  public func close() throws {
    condition.lock()
    if !closing {
      closing = true
      drainDeadline = MonotonicTime.now().advanced(by: configuration.drainTimeout)
      condition.broadcast()
    }
    while !finished { condition.wait() }
    condition.unlock()
    client.disconnect()
    spillLock.lock()
    defer { spillLock.unlock() }
    try spill.close()
  }

  // MARK: - Delivery thread

  private func deliveryLoop() {
    while let batch = nextBatch() {
      deliver(batch)
      condition.lock()
      inFlight = []
      condition.unlock()
    }
    condition.lock()
    finished = true
    condition.broadcast()
    condition.unlock()
  }

  /// Waits for a batch; `nil` when closing and the queue is empty.
  private func nextBatch() -> [SinkRecord]? {
    condition.lock()
    defer { condition.unlock() }
    while queue.isEmpty && !closing { condition.wait() }
    if queue.isEmpty { return nil }
    let lingerEnd = Date().addingTimeInterval(configuration.linger.seconds)
    while queue.count < configuration.batchSize && !closing {
      if !condition.wait(until: lingerEnd) { break }
    }
    if closing && MonotonicTime.now() >= drainDeadline {
      let rest = queue
      queue.removeAll()
      condition.unlock()
      report(.drainTimedOut(spilled: rest.count))
      spillRecords(rest)
      condition.lock()
      return nil
    }
    let batch = Array(queue.prefix(configuration.batchSize))
    queue.removeFirst(batch.count)
    inFlight = batch
    if isOverflowing && queue.count < configuration.queueCapacity / 2 {
      isOverflowing = false
      condition.unlock()
      report(.queueDrained)
      condition.lock()
    }
    return batch
  }

  private func deliver(_ batch: [SinkRecord]) {
    let body = WebhookSink.body(of: batch)
    var attempt = 0
    while true {
      let now = MonotonicTime.now()
      let permitted = breaker.requestPermitted(at: now)
      noteBreakerState()
      guard permitted, !isPastDrainDeadline(now) else {
        spillRecords(batch)
        return
      }
      let outcome = client.post(
        body: body, contentType: "application/json", headers: [("X-Tocsin-Alert-Count", String(batch.count))])
      switch outcome {
      case .success(let response) where (200..<300).contains(response.status):
        breaker.recordSuccess()
        noteBreakerState()
        if isFailing {
          isFailing = false
          report(.recovered)
        }
        update { $0.sent += batch.count }
        return
      case .success(let response) where WebhookSink.isPermanent(response.status):
        // The endpoint is up and answered: not a breaker failure, but the batch cannot go.
        breaker.recordSuccess()
        noteBreakerState()
        report(.rejected(status: response.status))
        spillRecords(batch)
        return
      case .success(let response):
        fail(reason: "HTTP \(response.status)")
      case .failure(let error):
        fail(reason: error.description)
      }
      guard attempt < configuration.retries, breaker.stateName == .closed else {
        spillRecords(batch)
        return
      }
      let wait = configuration.backoff.delay(attempt: attempt, using: &random)
      attempt += 1
      update { $0.retried += 1 }
      Thread.sleep(forTimeInterval: wait.seconds)
    }
  }

  private func fail(reason: String) {
    breaker.recordFailure(at: MonotonicTime.now())
    if !isFailing {
      isFailing = true
      report(.deliveryFailing(reason: reason))
    }
    if breaker.stateName == .open && lastBreakerState != .open {
      report(.breakerOpened(cooldown: configuration.breaker.cooldown, reason: reason))
    }
    noteBreakerState()
  }

  private func noteBreakerState() {
    let state = breaker.stateName
    guard state != lastBreakerState else { return }
    if state == .halfOpen { report(.breakerHalfOpen) }
    lastBreakerState = state
    update { $0.breaker = state }
  }

  private func isPastDrainDeadline(_ now: MonotonicTime) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    return closing && now >= drainDeadline
  }

  private func update(_ change: (inout SinkStatistics) -> Void) {
    condition.lock()
    change(&counters)
    condition.unlock()
  }

  // MARK: - Spill

  /// Appends `records` to the spill file and flushes; counts them spilled, or dropped if the
  /// file cannot be written.
  private func spillRecords(_ records: [SinkRecord]) {
    guard !records.isEmpty else { return }
    spillLock.lock()
    var failure: String?
    do {
      for record in records { try spill.write(record.bytes) }
      try spill.flush()
    } catch let error as OutputError {
      failure = error.message
    } catch {
      failure = "\(error)"
    }
    let firstFailure = failure != nil && !spillFailing
    spillFailing = failure != nil
    spillLock.unlock()
    if let failure, firstFailure { report(.spillFailed(message: failure)) }
    update {
      if failure == nil { $0.spilled += records.count } else { $0.dropped += records.count }
    }
  }

  // MARK: - Helpers

  /// `[a,b,c]` from NDJSON lines (trailing newlines removed).
  static func body(of batch: [SinkRecord]) -> [UInt8] {
    var body: [UInt8] = [UInt8(ascii: "[")]
    body.reserveCapacity(batch.reduce(2) { $0 + $1.bytes.count })
    for (index, record) in batch.enumerated() {
      if index > 0 { body.append(UInt8(ascii: ",")) }
      var bytes = record.bytes[...]
      while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
      body.append(contentsOf: bytes)
    }
    body.append(UInt8(ascii: "]"))
    return body
  }

  /// 4xx statuses that retrying cannot fix (408 Request Timeout and 429 Too Many Requests can be).
  static func isPermanent(_ status: Int) -> Bool {
    (400..<500).contains(status) && status != 408 && status != 429
  }
}

extension Duration {
  /// Seconds as a `Double` (for Foundation's sleep and condition deadlines).
  var seconds: Double { Double(nanosecondsClamped) / 1e9 }
}
