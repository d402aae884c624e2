import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinRuntime

/// How a replay reads events and orders them.
public struct ReplayConfiguration: Sendable {
  /// Time field, time format and id field.
  public var ingest: IngestOptions
  /// Out-of-orderness and late policy.
  public var engine: EngineOptions
  /// Lines longer than this are dead-lettered as `line_too_long`.
  public var maxLineBytes: Int

  /// Creates a configuration; the defaults are the CLI's defaults.
  public init(
    ingest: IngestOptions = IngestOptions(), engine: EngineOptions = EngineOptions(),
    maxLineBytes: Int = LineReader.defaultMaxLineBytes
  ) {
    self.ingest = ingest
    self.engine = engine
    self.maxLineBytes = maxLineBytes
  }
}

/// One pass of NDJSON lines through the engine: the shared core of `tocsin run` and
/// `tocsin test`.
///
/// It decodes each line, feeds the engine, and performs the engine's actions by handing encoded
/// bytes to two destinations: alerts and dead letters. Nothing in here knows whether those are
/// files, stdout or in-memory buffers. Empty lines are counted and skipped (they are not
/// events, and blank lines at the end of files are common).
public final class ReplaySession {
  /// Receives encoded bytes (one or more complete NDJSON lines).
  public typealias Destination = ([UInt8]) throws -> Void
  /// Receives one alert with its encoded line (for routing by rule and severity).
  public typealias AlertDestination = (Alert, [UInt8]) throws -> Void

  var engine: Engine {
    didSet { hotEngine = .passUnretained(engine) }
  }
  /// ``engine`` for the per-line calls, without reference counting: a call through the stored
  /// `var` (or an `unowned(unsafe)` one) retained and released the engine around it, two atomic
  /// updates per event. `engine` holds the reference.
  private var hotEngine: Unmanaged<Engine>
  var decoder: EventDecoder
  private var encoder = AlertEncoder()
  private var deadLetterJSON = JSONWriter(capacity: 8192)
  /// The last `missing_key` message and the fields it names: the engine names the same fields
  /// every time, and building the text per dead letter (a map, a join and an interpolation)
  /// cost ~1,500 instructions and four allocations.
  private var missingKeyMessage: (fields: [FieldPath], text: String)?
  private let alertDestination: AlertDestination
  private let deadLetterDestination: Destination
  private var actions: [EngineAction] = []
  /// `suppress` clauses, applied to alerts in output order.
  public internal(set) var suppressor: Suppressor
  var sequence: UInt64 = 0
  private let maxLineBytes: Int
  /// Copies (at most ``DeadLetterWriter/maxRawBytes`` each) of the lines of events the engine
  /// holds while it calibrates its time base, so a dead letter written when it replays them
  /// still carries the line. Bounded by the calibration limit; emptied once calibrated.
  var heldLines: [Int: (offset: Int64, bytes: [UInt8])] = [:]
  /// Counters for the run summary.
  public internal(set) var counters = ReplayCounters()
  /// Receives warnings (a state limit first reached by a rule); ignored unless set.
  public var warn: (String) -> Void = { _ in }
  /// Rules (by index) whose state-limit warning was given.
  var warnedRules: [Bool]

  /// A session over `programs` that hands alert bytes to `alerts`.
  public convenience init(
    programs: ProgramSet, configuration: ReplayConfiguration, alerts: @escaping Destination,
    deadLetters: @escaping Destination
  ) {
    self.init(
      programs: programs, configuration: configuration, routedAlerts: { try alerts($1) },
      deadLetters: deadLetters)
  }

  /// A session over `programs` that hands each alert and its bytes to `routedAlerts`.
  public init(
    programs: ProgramSet, configuration: ReplayConfiguration, routedAlerts: @escaping AlertDestination,
    deadLetters: @escaping Destination
  ) {
    engine = Engine(programs: programs, options: configuration.engine)
    hotEngine = .passUnretained(engine)
    decoder = EventDecoder(ruleProjection: programs.projection, options: configuration.ingest)
    // The engine gives the slot buffers of events it is done with back to the decoder.
    let slotPool = EventSlots.Pool()
    engine.slotPool = slotPool
    decoder.slotPool = slotPool
    alertDestination = routedAlerts
    maxLineBytes = configuration.maxLineBytes
    deadLetterDestination = deadLetters
    counters.suppressedByRule = Array(repeating: 0, count: programs.rules.count)
    warnedRules = Array(repeating: false, count: programs.rules.count)
    suppressor = Suppressor(durations: programs.rules.map { $0.spec.suppression?.duration })
  }

  /// The engine, for its counters and state sizes.
  public var engineState: Engine { engine }

  /// Handles one input line.
  /// - Throws: what a destination throws (a write error).
  public func consume(_ line: InputLine) throws {
    try consume(line, decoded: Self.decode(line, with: &decoder, sequence: sequence))
  }

  /// What decoding one line gave: nothing to decode (an empty or over-long line), an event, or
  /// the reason it is not one.
  public enum Decoded {
    case notDecoded
    case event(EventRecord)
    case failure(IngestError)
  }

  /// Decodes `line` as ``consume(_:)`` would, with the event numbered `sequence`. Used by both
  /// threads of `--workers 2` with decoders of their own (``DecodingStage``), which leave events
  /// unnumbered (0): ``consume(_:decoded:)`` numbers them.
  ///
  /// `prepare` sees a decoded event before it moves into the result (lent, not copied: binding
  /// it back out of a `Decoded` retained it), for the work done as each event is decoded
  /// (``decodeAhead(_:)``'s key prefetch, `--workers 2`'s key probes).
  @inline(__always)
  public static func decode(
    _ line: InputLine, with decoder: inout EventDecoder, sequence: UInt64,
    prepare: (EventRecord) -> Void = { _ in }
  ) -> Decoded {
    do {
      guard let event = try decodeEvent(line, with: &decoder, sequence: sequence) else { return .notDecoded }
      prepare(event)
      return .event(consume event)
    } catch {
      return .failure(error)
    }
  }

  /// The event on `line` (``decode(_:with:sequence:prepare:)``'s decoding, for the decoded
  /// batch too), `nil` for an empty or over-long line, which is not decoded.
  @inline(__always)
  static func decodeEvent(
    _ line: InputLine, with decoder: inout EventDecoder, sequence: UInt64
  ) throws(IngestError) -> EventRecord? {
    if line.isEmpty || line.isTooLong { return nil }
    return try decoder.decode(line.bytes, lineNumber: line.number, sequence: sequence)
  }

  /// Handles one input line already decoded by ``decode(_:with:sequence:)``. An event is
  /// numbered here with this session's sequence (the number of events it has taken so far),
  /// whatever it was decoded with: `--workers 2` decodes batches out of order.
  /// - Throws: what a destination throws (a write error).
  public func consume(_ line: InputLine, decoded: consuming Decoded) throws {
    guard try takeLine(line) else { return }
    switch consume decoded {
    case .event(var event):
      event.sequence = sequence
      try consumeEvent(line, consume event)
    case .failure(let error):
      try deadLetter(error.reason, error.message, line: line)
    case .notDecoded:
      preconditionFailure("a non-empty line that is not too long is always decoded")
    }
  }

  /// Counts `line` and handles an empty or over-long one; whether it remains to be handled (it
  /// was decoded).
  @inline(__always)
  private func takeLine(_ line: InputLine) throws -> Bool {
    counters.lines += 1
    if line.isEmpty {
      counters.emptyLines += 1
      return false
    }
    if line.isTooLong {
      try deadLetter(
        .lineTooLong, "line of \(line.length) bytes exceeds the limit of \(maxLineBytes) bytes",
        line: line)
      return false
    }
    return true
  }

  /// Hands `event`, decoded from `line` (taken: ``takeLine(_:)``), to the engine and performs
  /// what it did.
  @inline(__always)
  private func consumeEvent(_ line: InputLine, _ event: consuming EventRecord) throws {
    sequence += 1
    counters.events += 1
    // The event's last use: it moves into the engine (and on into the reorder buffer).
    var moving = Optional(consume event)
    hotEngine._withUnsafeGuaranteedRef { $0.eventArrived(moving.take().unsafelyUnwrapped, into: &actions) }
    // Through `hotEngine`, and the calls skipped when there is nothing to do: reading `engine`
    // retained it, and each call was made for every line (~22 instructions per W1 event).
    let calibrating = hotEngine._withUnsafeGuaranteedRef { $0.isCalibrating }
    if calibrating {
      heldLines[line.number] = (line.offset, Array(line.bytes.prefix(DeadLetterWriter.maxRawBytes)))
    }
    if !actions.isEmpty { try perform(rawLine: line) }
    // `perform` leaves the engine alone: whether it calibrates is still `calibrating`.
    if !calibrating && !heldLines.isEmpty { heldLines.removeAll() }
  }

  // MARK: - Decoding ahead

  /// The most lines ``nextBatch(from:into:)`` takes at once.
  ///
  /// An event's key is looked up the moment it reaches the engine, in a table of megabytes
  /// (100k keys), so the lookup was a cache miss with nothing to overlap it: ~11% of a run's
  /// samples. Decoding a batch of lines first, and asking for each event's key-table lines as it
  /// is decoded (``Engine/prepareArrival(of:)``), gives each of those loads the decoding of the
  /// rest of the batch to arrive in. 16 lines are ~6 µs of decoding: far more than a load's
  /// latency, and few enough loads in flight for the core's miss buffers.
  public static let batchLines = 16

  /// The lines of the current batch as ``decodeAhead(_:)`` decoded them, in the first entries of
  /// three blocks of `decodedRoom` (plain memory: as an array in this class, each write and take
  /// checked the array's buffer for uniqueness, two runtime calls per event): what each line
  /// gave (``Ahead``), and for an event its record, for a failure its error, initialised only
  /// while the entry says so. ``consumeAhead(_:at:)`` moves the event straight out to the engine;
  /// as a ``Decoded`` it was copied in and out of the enum (~25 instructions per W1 event).
  private var aheadKinds: UnsafeMutablePointer<Ahead> = {
    let kinds = UnsafeMutablePointer<Ahead>.allocate(capacity: batchLines)
    kinds.initialize(repeating: .none, count: batchLines)
    return kinds
  }()
  private var aheadEvents = UnsafeMutablePointer<EventRecord>.allocate(capacity: batchLines)
  private var aheadFailures = UnsafeMutablePointer<IngestError>.allocate(capacity: batchLines)
  private var decodedRoom = batchLines

  /// What a line of the decoded batch gave; its entry is taken (``Ahead/none``) by
  /// ``consumeAhead(_:at:)``.
  private enum Ahead: UInt8 {
    case none, event, failure
  }

  /// Empties entry `i` of the decoded batch (one a batch given up half way left: a write error).
  private func clearAhead(_ i: Int) {
    switch aheadKinds[i] {
    case .none: break
    case .event: (aheadEvents + i).deinitialize(count: 1)
    case .failure: (aheadFailures + i).deinitialize(count: 1)
    }
    aheadKinds[i] = .none
  }

  deinit {
    for i in 0..<decodedRoom { clearAhead(i) }
    aheadKinds.deallocate()
    aheadEvents.deallocate()
    aheadFailures.deallocate()
  }

  /// Fills `lines` with the next batch from `reader`: one line from ``LineReader/nextLine()``
  /// (which may wait for input), then the lines already complete in its buffer, up to
  /// ``batchLines`` (or `limit`). A batch never waits for a line that has not arrived. `false` at
  /// the end of the input. The lines stay valid until the next call.
  public static func nextBatch(
    from reader: LineReader, into lines: inout [InputLine], limit: Int = .max
  ) throws -> Bool {
    lines.removeAll(keepingCapacity: true)
    guard let first = try reader.nextLine() else { return false }
    lines.append(first)
    let most = min(batchLines, limit)
    while lines.count < most, let line = reader.nextBufferedLine() { lines.append(line) }
    return true
  }

  /// Decodes `lines` (the next lines of the input, in order) for ``consumeAhead(_:at:)``, and
  /// starts loading the engine's key-table lines for each event as it is decoded. Decoding ahead
  /// changes nothing the session does: events are numbered as ``consume(_:)`` numbers them, and
  /// the engine sees them in the same order.
  public func decodeAhead(_ lines: [InputLine]) {
    if lines.count > decodedRoom {
      // A batch longer than any before (callers other than `nextBatch`'s): room for it.
      for i in 0..<decodedRoom { clearAhead(i) }
      aheadKinds.deallocate()
      aheadEvents.deallocate()
      aheadFailures.deallocate()
      aheadKinds = .allocate(capacity: lines.count)
      aheadKinds.initialize(repeating: .none, count: lines.count)
      aheadEvents = .allocate(capacity: lines.count)
      aheadFailures = .allocate(capacity: lines.count)
      decodedRoom = lines.count
    }
    var next = sequence
    for (i, line) in lines.enumerated() {
      // Left by a batch not consumed to its end (``consumeAhead(_:at:)`` empties each entry).
      if aheadKinds[i] != .none { clearAhead(i) }
      do {
        guard let event = try Self.decodeEvent(line, with: &decoder, sequence: next) else { continue }
        hotEngine._withUnsafeGuaranteedRef { $0.prepareArrival(of: event) }
        (aheadEvents + i).initialize(to: event)
        aheadKinds[i] = .event
        next += 1
      } catch {
        (aheadFailures + i).initialize(to: error)
        aheadKinds[i] = .failure
      }
    }
  }

  /// Prepares the engine for an event decoded elsewhere (the decoding thread of `--workers 2`)
  /// that ``consume(_:decoded:)`` will take a few lines later, from its key probes computed
  /// there (``arrivalProber``): its key lookups, as ``decodeAhead(_:)`` prepares the lines it
  /// decodes. Changes nothing the session does.
  public func prepare(_ probes: UnsafePointer<Engine.ArrivalProbes>) {
    hotEngine._withUnsafeGuaranteedRef { $0.prepareArrival(probes) }
  }

  /// Computes events' key probes for ``prepare(_:)`` on another thread.
  public var arrivalProber: Engine.ArrivalProber { engine.arrivalProber() }

  /// Handles `line`, number `i` of the lines last given to ``decodeAhead(_:)``. Call it for
  /// every line of the batch, in order.
  /// - Throws: what a destination throws (a write error).
  public func consumeAhead(_ line: InputLine, at i: Int) throws {
    precondition(i >= 0 && i < decodedRoom, "line \(i) of a batch of at most \(decodedRoom)")
    let kind = aheadKinds[i]
    aheadKinds[i] = .none
    switch kind {
    case .event:
      // Moved out of the batch, so the engine holds the event's only reference.
      let event = (aheadEvents + i).move()
      guard try takeLine(line) else { preconditionFailure("an event from an empty or over-long line") }
      try consumeEvent(line, consume event)
    case .failure:
      try consume(line, decoded: .failure((aheadFailures + i).move()))
    case .none:
      try consume(line, decoded: .notDecoded)
    }
  }

  /// Handles every remaining line of `reader`, a batch at a time (``nextBatch(from:into:)``,
  /// ``decodeAhead(_:)``). Equivalent to calling ``consume(_:)`` with each line.
  /// - Throws: what the reader or a destination throws.
  public func consumeAll(from reader: LineReader) throws {
    var lines: [InputLine] = []
    lines.reserveCapacity(Self.batchLines)
    while try Self.nextBatch(from: reader, into: &lines) {
      decodeAhead(lines)
      for i in lines.indices { try consumeAhead(lines[i], at: i) }
    }
  }

  /// A decoder configured like this session's, for a decoding thread, with a slot pool of its
  /// own. ``EventSlots/Pool`` is not synchronised, so the two threads never share one: the
  /// engine keeps giving the buffers of events it is done with to this session's pool, and
  /// ``slotPool`` moves them to the decoder's through a handover the two threads synchronise
  /// (``DecodingStage``'s returned batches).
  public func decoderForAnotherThread() -> EventDecoder {
    var copy = decoder
    copy.slotPool = EventSlots.Pool()
    decoder.slotPool = nil
    return copy
  }

  /// A decoder configured like this session's, for the engine's thread of `--workers 2`, which
  /// decodes the batches the decoding thread has not reached rather than wait for them
  /// (``DecodingStage``): with the pool the engine gives finished events' slot buffers to, as
  /// in a run on one thread. (Its caches are its own: a decoder's copy that finds them shared
  /// starts new ones.)
  public func decoderForEngineThread() -> EventDecoder {
    var copy = decoder
    copy.slotPool = slotPool
    return copy
  }

  /// The pool the engine gives finished events' slot buffers to (`nil` only without pooling).
  public var slotPool: EventSlots.Pool? { engine.slotPool }

  /// Events taken so far (the sequence number the next decoded event must carry).
  public var eventsTaken: UInt64 { sequence }

  /// Ends the input: a final watermark of +∞ flushes every buffered event and held match.
  public func finish() throws {
    engine.finish(into: &actions)
    try perform(rawLine: nil)
    heldLines.removeAll()
  }

  private func perform(rawLine: InputLine?) throws {
    guard !actions.isEmpty else { return }
    // Taken out of the session while they are written, and each action moved out of the array
    // in turn (reversed in place, then popped): an alert bound from `pending[i]` was a copy
    // (`Alert`'s outlined copy: a retain of everything it refers to), destroyed after the write
    // and then again as the array's element. The reversal moves the elements' bytes only.
    var pending: [EngineAction] = []
    swap(&pending, &actions)
    defer {
      // From the end, one at a time (what a throw left): `removeAll(keepingCapacity:)` went
      // through the generic `replaceSubrange` (~2.3k instructions a call on W2).
      while !pending.isEmpty { pending.removeLast() }
      if actions.isEmpty { swap(&pending, &actions) }
    }
    if pending.count > 1 { pending.withUnsafeMutableBufferPointer { $0.reverse() } }
    while let action = pending.popLast() {
      switch consume action {
      case .alert(let alert):
        guard suppressor.isActive else {
          try write(alert)
          continue
        }
        var alert = alert
        switch suppressor.alertArrived(alert) {
        case .suppress:
          counters.suppressedByRule[alert.ruleIndex] += 1
          continue
        case .write(let suppressed):
          alert.suppressed = suppressed
        }
        try write(alert)
      case .late(let event, let watermark):
        counters.badLines[.late] += 1
        let earliest = watermark + EventDuration(nanoseconds: 1)
        let message =
          "event time \(event.time.rfc3339) is late: events before \(earliest.rfc3339) "
          + "(newest event time minus the out-of-orderness) were already processed"
        try writeDeadLetter(
          reason: .late, message: message, lineNumber: event.line,
          raw: rawLine?.number == event.line ? rawLine : nil,
          extra: [("time", .string(event.time.rfc3339)), ("watermark", .string(watermark.rfc3339))])
        giveBack(event)
      case .timeSkew(let event, let newest):
        counters.badLines[.timeSkew] += 1
        let isCurrent = rawLine?.number == event.line
        try writeDeadLetter(
          reason: .timeSkew,
          message: "event time \(event.time.rfc3339) jumps too far ahead of the stream "
            + "(newest accepted event time \(newest.rfc3339)) and later events did not confirm it",
          lineNumber: event.line, raw: isCurrent ? rawLine : nil,
          extra: [("time", .string(event.time.rfc3339)), ("newest", .string(newest.rfc3339))])
        giveBack(event)
      case .stateLimit(let drop):
        try stateLimitReached(drop)
      case .missingKey(let event, let fields):
        counters.badLines[.missingKey] += 1
        try writeDeadLetter(
          reason: .missingKey, message: missingKeyText(fields), lineNumber: event.line, raw: rawLine, extra: [])
        giveBack(event)
      }
    }
  }

  /// Gives a dead-lettered event's slot buffer back to the decoder's pool when nothing else
  /// holds it, as the release loop does for a processed event: dropped here, it went back to
  /// `malloc`, and the pool, which only the release loop refilled, ran dry on a stream whose
  /// events mostly lack every rule's key (an allocation per decoded event).
  private func giveBack(_ event: consuming EventRecord) {
    var event = event
    engine.slotPool?.recycle(&event.slots)
  }

  /// The `missing_key` message naming `fields`.
  private func missingKeyText(_ fields: [FieldPath]) -> String {
    if let kept = missingKeyMessage, kept.fields == fields { return kept.text }
    let names = fields.map { "'\($0)'" }.joined(separator: ", ")
    let text = "event has none of the key fields \(names)"
    missingKeyMessage = (fields, text)
    return text
  }

  /// Encodes `alert` and hands it to the sinks.
  private func write(_ alert: Alert) throws {
    counters.alerts += 1
    try alertDestination(alert, encoder.encode(alert))
  }

  private func deadLetter(_ reason: DeadLetterReason, _ message: String, line: InputLine) throws {
    counters.badLines[reason] += 1
    try writeDeadLetter(reason: reason, message: message, lineNumber: line.number, raw: line, extra: [])
  }

  /// A `state_limit` dead letter for `drop` (``DeadLetterWriter/encodeStateLimit``).
  func writeStateLimitDeadLetter(_ drop: StateLimitDrop) throws {
    deadLetterJSON.reset()
    DeadLetterWriter.encodeStateLimit(
      into: &deadLetterJSON, rule: drop.rule, key: drop.key, limit: drop.limit.rawValue, dropped: drop.dropped,
      oldestStart: drop.oldestStart, watermark: drop.watermark)
    try deadLetterDestination(deadLetterJSON.bytes)
  }

  /// Writes one record; `raw` is the line when it is the current one, otherwise the copy kept
  /// while the engine calibrated, if any (else `offset` is -1 and `raw` empty).
  func writeDeadLetter(
    reason: DeadLetterReason, message: String, lineNumber: Int, raw: InputLine?,
    extra: [(String, Value)]
  ) throws {
    deadLetterJSON.reset()
    if let raw {
      DeadLetterWriter.encode(
        into: &deadLetterJSON, line: lineNumber, offset: raw.offset, reason: reason, message: message,
        raw: raw.bytes, extraFields: extra)
    } else {
      // Most dead letters without a raw line are state-limit drops (line 0): no lookup then.
      let held = heldLines.isEmpty ? nil : heldLines[lineNumber]
      (held?.bytes ?? []).withUnsafeBytes { bytes in
        DeadLetterWriter.encode(
          into: &deadLetterJSON, line: lineNumber, offset: held?.offset ?? -1, reason: reason,
          message: message, raw: bytes, extraFields: extra)
      }
    }
    try deadLetterDestination(deadLetterJSON.bytes)
  }
}

/// Line-level counts of a replay.
public struct ReplayCounters: Sendable {
  /// Input lines seen (including empty ones).
  public var lines = 0
  /// Empty lines skipped.
  public var emptyLines = 0
  /// Lines decoded into events.
  public var events = 0
  /// Alerts written.
  public var alerts = 0
  /// Per rule: alerts held back by its `suppress` clause.
  public var suppressedByRule: [Int] = []
  /// Dead-lettered inputs by reason.
  public var badLines = DeadLetterCounts()

  /// Total alerts held back by `suppress` clauses.
  public var suppressed: Int { suppressedByRule.reduce(0, +) }

  /// Total dead-lettered inputs.
  public var deadLettered: Int { badLines.total }
}
