import TocsinCore

/// The earliest time-out any of an engine's run, pair and start queues may hold, in plain memory
/// that each of them lowers as it queues an entry: a watermark step before it has no queue to
/// look at (``Engine`` `watermarkAdvanced`).
///
/// Never later than the true earliest: a queue's entries time out in the order they came (events
/// are released in time order, and a queue's window is its own), so its head's time-out is its
/// earliest, and an entry queued behind others cannot lower it; an entry queued into an empty
/// queue lowers the floor to its time-out when that is earlier (``Cell/lower(to:)``), and the
/// engine sets the floor only after looking at every queue's head (``RunQueue/headTimeOut``,
/// ``StartQueue/headTimeOut``). Popping an entry anywhere else (a start
/// queue times out its own entries as its rule steps) only leaves it earlier than it need be, so
/// the next step looks at the queues once more than it had to.
///
/// Why: on a stream that arrives in time order the watermark moves with nearly every event, and
/// looking at every queue's head at each step (a closure call and a head entry per queue) cost
/// ~220 instructions per step, with W1's rules ~0.9k per event in all with the step's other
/// fixed costs (docs/performance.md, session 41).
final class TimeOutFloor {
  /// The time, where each queue lowers it (``Cell``).
  let cell: UnsafeMutablePointer<EventTime>

  /// No queued entry: nothing times out.
  init() {
    cell = .allocate(capacity: 1)
    cell.initialize(to: .infinity)
  }

  deinit { cell.deallocate() }

  /// The earliest time-out a queue may hold.
  @inline(__always)
  var time: EventTime {
    get { cell.pointee }
    set { cell.pointee = newValue }
  }

  /// What a queue keeps of the floor: the floor object, which owns the time, and the time's
  /// address, lowered with no reference counting (reading the object out of the queue and
  /// calling it retained and released it, ~30 instructions per W2 event).
  struct Cell {
    private let owner: TimeOutFloor?
    private let time: UnsafeMutablePointer<EventTime>?

    /// A queue on its own: nothing to lower.
    static let none = Cell(owner: nil)

    init(owner: TimeOutFloor?) {
      self.owner = owner
      time = owner?.cell
    }

    /// An entry timing out at `timeOut` was queued.
    @inline(__always)
    func lower(to timeOut: EventTime) {
      if let time, timeOut < time.pointee { time.pointee = timeOut }
    }
  }
}
