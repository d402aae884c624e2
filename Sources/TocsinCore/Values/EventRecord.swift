/// The stable, arrival-order-independent identity of an event.
///
/// It is the event's id field when it has one (`--id-field`, default `id`), otherwise a hash of
/// the raw line, so the alert id (a hash of event ids) does not depend on arrival order.
public typealias EventIdentity = String

/// One ingested event, reduced to what the loaded rules read.
///
/// `slots[i]` holds the value of the i-th projected ``FieldPath`` (`.null` when absent).
/// Events are ordered by `(time, sequence)`; `sequence` is the arrival position, which breaks
/// ties between equal timestamps deterministically (Flink's `EventId(timestamp, counter)`).
public struct EventRecord: Sendable {
  /// The event time taken from the time field.
  public var time: EventTime
  /// Arrival order, starting at 0 for the first accepted event.
  public var sequence: UInt64
  /// The 1-based line number in the input (for messages and dead letters).
  public var line: Int
  /// Stable identity used in alert ids and alert output.
  public var identity: EventIdentity
  /// Projected field values, indexed by ``SlotIndex``.
  public var slots: EventSlots

  /// Where ``slots`` (one reference, to the slot buffer) lies in a record, and in an optional
  /// one (the record's spare bits mark `nil`), for cache hints that read the word unretained.
  /// Computed, not a stored `static let`: that one went through a lazy-initialisation accessor
  /// on every read; this folds to a constant.
  @inlinable public static var slotsOffset: Int {
    MemoryLayout<EventRecord>.offset(of: \EventRecord.slots) ?? 0
  }

  /// Starts loading the slot buffer of the record (or optional record) stored at `record`,
  /// reading its reference as a bit pattern at ``slotsOffset``: nothing is retained, and a `nil`
  /// record or a stale word is harmless (a prefetch never faults).
  @inlinable @inline(__always)
  public static func prefetchSlots(ofRecordAt record: UnsafeRawPointer) {
    let word = record.load(fromByteOffset: slotsOffset, as: UInt.self)
    if let address = UnsafeRawPointer(bitPattern: word) { MemoryHint.prefetch(address) }
  }

  /// Creates an event record.
  public init(time: EventTime, sequence: UInt64, line: Int, identity: EventIdentity, slots: EventSlots) {
    self.time = time
    self.sequence = sequence
    self.line = line
    self.identity = identity
    self.slots = slots
  }

  /// Creates an event record from an array of slot values (tests, tools).
  @_disfavoredOverload
  public init(time: EventTime, sequence: UInt64, line: Int, identity: EventIdentity, slots: [Value]) {
    self.init(time: time, sequence: sequence, line: line, identity: identity, slots: EventSlots(slots))
  }

  /// The value in `slot`.
  @inlinable public subscript(slot: SlotIndex) -> Value {
    _read { yield slots[slot.index] }
  }

  /// Whether `self` is ordered before `other` in event-time order: `(time, sequence)`.
  @inlinable public func precedes(_ other: EventRecord) -> Bool {
    time != other.time ? time < other.time : sequence < other.sequence
  }
}
