import TocsinCore

/// Turns NDJSON lines into ``EventRecord``s: scans the projected fields, reads the event time and
/// derives the event's identity.
///
/// The decoder's ``projection`` is the rules' projection with the time and id fields added after
/// it (or sharing a rule slot when a rule reads them), so rule slot indices stay valid and
/// records carry two extra trailing slots at most.
///
/// Identity: the id field's value when it is a non-empty string or an integer (as decimal
/// text); otherwise `"#"` followed by the ``StableHash`` hex of the line's bytes (without its
/// terminator), so the identity never depends on arrival order.
public struct EventDecoder {
  /// The time/id configuration.
  public let options: IngestOptions
  /// Rule fields plus the time and id fields.
  public let projection: FieldProjection
  /// The slot holding the time field's value.
  public let timeSlot: SlotIndex
  /// The slot holding the id field's value.
  public let idSlot: SlotIndex
  private var scanner: EventScanner
  /// Where events' slot buffers come from when set: buffers the engine gave back
  /// (``EventSlots/Pool``). Not shared between threads: a copy of the decoder for another
  /// thread must set it to `nil`.
  public var slotPool: EventSlots.Pool?
  /// ``SmallString/isAvailable``, read once, for ``identity(at:line:smallStrings:)``.
  private let takesSmallIDs = SmallString.isAvailable

  /// Creates a decoder for the fields `ruleProjection` reads.
  public init(ruleProjection: FieldProjection, options: IngestOptions = IngestOptions(),
    maxDepth: Int = EventScanner.defaultMaxDepth)
  {
    var projection = ruleProjection
    self.timeSlot = projection.slot(for: options.timeField)
    self.idSlot = projection.slot(for: options.idField)
    self.projection = projection
    self.options = options
    self.scanner = EventScanner(projection: projection, maxDepth: maxDepth)
  }

  /// Decodes one line.
  ///
  /// - Parameters:
  ///   - line: the line's bytes without terminator.
  ///   - lineNumber: the 1-based input line, stored in the record.
  ///   - sequence: the arrival sequence number, stored in the record.
  /// - Throws: ``IngestError``.
  public mutating func decode(_ line: UnsafeRawBufferPointer, lineNumber: Int, sequence: UInt64)
    throws(IngestError) -> EventRecord
  {
    let count = scanner.projection.count
    var slots = slotPool?.slots(nulls: count) ?? EventSlots(nulls: count)
    // The integer time and the identity are read in place while the slots are at hand: a
    // slot's value passed on as an argument is copied first (for a string, a retain and a
    // release), and a second access to the buffer retained it.
    var epochUnits: Int64?
    var identity: EventIdentity = ""
    let timeIndex = timeSlot.index
    let idIndex = idSlot.index
    do {
      // Filled through `fillNulled`: the scanner reports whether it stored a value that may hold a
      // reference, and a buffer without one is reset and freed without a look at each slot.
      try slots.fillNulled { (buffer) throws(ScanError) -> Bool in
        let storedReference = try scanner.scan(line, intoNulled: buffer)
        // swift-format-ignore: NeverForceUnwrap
        // The projection always holds the time and id slots, so the buffer is not empty.
        let base = UnsafePointer(buffer.baseAddress!)
        if case .int(let n) = base[timeIndex] { epochUnits = n }
        identity = EventDecoder.identity(at: base + idIndex, line: line, smallStrings: takesSmallIDs)
        return storedReference
      }
    } catch {
      throw .scan(error)
    }
    let time: EventTime
    if let n = epochUnits {
      time = try eventTime(units: n)
    } else {
      time = try eventTime(slots[timeSlot.index])
    }
    return EventRecord(time: time, sequence: sequence, line: lineNumber, identity: identity, slots: slots)
  }

  /// Convenience for tests and tools: decodes the UTF-8 bytes of `line`.
  public mutating func decode(_ line: String, lineNumber: Int = 1, sequence: UInt64 = 0)
    throws(IngestError) -> EventRecord
  {
    let bytes = Array(line.utf8)
    var result: Result<EventRecord, IngestError> = .failure(.missingTime(field: options.timeField))
    bytes.withUnsafeBytes { raw in
      do throws(IngestError) {
        result = .success(try decode(raw, lineNumber: lineNumber, sequence: sequence))
      } catch {
        result = .failure(error)
      }
    }
    return try result.get()
  }

  /// The event time the time field's `value` denotes under ``IngestOptions/timeFormat``.
  public func eventTime(_ value: Value) throws(IngestError) -> EventTime {
    let field = options.timeField
    let format = options.timeFormat
    switch value {
    case .null:
      throw .missingTime(field: field)
    case .int(let n):
      return try eventTime(units: n)
    case .float(let d):
      guard let unit = format.nanosecondsPerUnit, d.isFinite else { throw invalid(value) }
      guard abs(d) < 9.2e18 / Double(unit) else { throw outOfRange(value) }
      // Whole units and the fraction separately, so large epoch values keep sub-unit precision.
      let whole = d.rounded(.down)
      let fraction = ((d - whole) * Double(unit)).rounded()
      let (ns, overflow) = Int64(whole).multipliedReportingOverflow(by: unit)
      guard !overflow else { throw outOfRange(value) }
      return EventTime(nanosecondsSinceEpoch: ns + Int64(fraction))
    case .string(let text):
      guard format.acceptsStrings else { throw invalid(value) }
      switch RFC3339.classify(text) {
      case .time(let time): return time
      case .invalid: throw invalid(value)
      case .outOfRange: throw outOfRange(value)
      }
    case .time(let time):
      return time
    case .bool, .duration, .list:
      throw invalid(value)
    }
  }

  /// The event time of the integer time value `n` (epoch units of ``IngestOptions/timeFormat``).
  @inline(__always)
  private func eventTime(units n: Int64) throws(IngestError) -> EventTime {
    guard let unit = options.timeFormat.nanosecondsPerUnit else { throw invalid(.int(n)) }
    let (ns, overflow) = n.multipliedReportingOverflow(by: unit)
    // The extreme values are the ±∞ sentinels of `EventTime`, not event times.
    guard !overflow, ns != .max, ns != .min else { throw outOfRange(.int(n)) }
    return EventTime(nanosecondsSinceEpoch: ns)
  }

  @inline(never)
  private func invalid(_ value: Value) -> IngestError {
    .invalidTime(field: options.timeField, text: Self.quoted(value))
  }

  @inline(never)
  private func outOfRange(_ value: Value) -> IngestError {
    .timeOutOfRange(field: options.timeField, text: Self.quoted(value))
  }

  /// The value as written, cut to 64 bytes.
  private static func quoted(_ value: Value) -> String {
    let text = value.description
    guard text.utf8.count > 64 else { return text }
    return String(decoding: text.utf8.prefix(64), as: UTF8.self)
  }

  /// The identity of an event whose id field holds `value` and whose line is `line`.
  public static func identity(_ value: Value, line: UnsafeRawBufferPointer) -> EventIdentity {
    withUnsafePointer(to: value) { identity(at: $0, line: line, smallStrings: SmallString.isAvailable) }
  }

  /// ``identity(_:line:)`` of the value at `value`, read in place. With `smallStrings`
  /// (``SmallString/isAvailable``, read once by the caller), a short id is taken from its bits,
  /// without the retain a copy of the string would call for (a runtime call that retains nothing).
  @inline(__always)
  static func identity(at value: UnsafePointer<Value>, line: UnsafeRawBufferPointer, smallStrings: Bool) -> EventIdentity {
    if smallStrings, let bits = Value.smallStringBits(at: value), SmallString.contents(bits).count > 0 {
      return SmallString.string(bits: bits)
    }
    switch value.pointee {
    case .string(let s) where !s.isEmpty: return s
    case .int(let i): return String(i)
    default:
      var hash = StableHash()
      hash.combine(bytes: line)
      return "#" + hash.hex
    }
  }
}
