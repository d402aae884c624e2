/// The event-time watermark: a promise that no more events at or before it will be processed.
///
/// The monotonic rule is built in: ``advance(to:)`` never moves it backwards. An event is *late*
/// iff `time <= watermark` (``isLate(_:)``), exactly as `docs/architecture.md` states.
public struct Watermark: Hashable, Sendable, CustomStringConvertible {
  /// The current watermark; `.negativeInfinity` before any event.
  public private(set) var time: EventTime

  /// A watermark that has not seen any event yet.
  public init(_ time: EventTime = .negativeInfinity) { self.time = time }

  /// Moves the watermark to `max(current, candidate)`.
  /// - Returns: `true` if it moved.
  @discardableResult
  public mutating func advance(to candidate: EventTime) -> Bool {
    guard candidate > time else { return false }
    time = candidate
    return true
  }

  /// Whether an event stamped `eventTime` arrives too late to be ordered: `eventTime <= watermark`.
  @inlinable public func isLate(_ eventTime: EventTime) -> Bool { eventTime <= time }

  public var description: String { time.description }
}
