import TocsinCore

/// When each of an engine's run, pair and start queues may next time out an entry, and the
/// earliest of those, in plain memory that each queue lowers as it queues an entry: a watermark
/// step before the earliest has no queue to look at, and one past it looks only at the queues
/// whose own time has come (``Engine`` `timeOutQueues`).
///
/// Never later than the truth: a queue's entries time out in the order they came (events are
/// released in time order, and a queue's window is its own), so its head's time-out is its
/// earliest, and an entry queued behind others cannot lower it; an entry queued into an empty
/// queue lowers the queue's time and the earliest to its time-out when that is earlier
/// (``Cell/lower(to:)``), and the engine sets a queue's time only after popping it
/// (``RunQueue/headTimeOut``, ``StartQueue/headTimeOut``). Popping an entry anywhere else (a start
/// queue times out its own entries as its rule steps) only leaves a time earlier than it need
/// be, so a later step looks at that queue once more than it had to.
///
/// Why: on a stream that arrives in time order the watermark moves with nearly every event, and
/// looking at every queue's head at each step (a closure call and a head entry per queue) cost
/// W1 ~220 instructions per step and W2, with 17 queues, ~0.8k (docs/performance.md,
/// session 41).
final class TimeOutFloor {
  /// Per queue, its time; after them, the earliest.
  private let times: UnsafeMutablePointer<EventTime>
  /// The number of queues.
  let count: Int

  /// `count` empty queues: nothing times out.
  init(queues count: Int) {
    self.count = count
    times = .allocate(capacity: count + 1)
    times.initialize(repeating: .infinity, count: count + 1)
  }

  deinit { times.deallocate() }

  /// Queue `i`'s time: its head's time-out, or earlier.
  @inline(__always)
  subscript(i: Int) -> EventTime {
    get {
      precondition(UInt(bitPattern: i) < UInt(count), "no queue \(i)")
      return times[i]
    }
    set {
      precondition(UInt(bitPattern: i) < UInt(count), "no queue \(i)")
      times[i] = newValue
    }
  }

  /// The earliest of the queues' times (or earlier).
  @inline(__always)
  var earliest: EventTime {
    get { times[count] }
    set { times[count] = newValue }
  }

  /// What queue `i` keeps of the floor.
  func cell(queue i: Int) -> Cell {
    precondition(UInt(bitPattern: i) < UInt(count), "no queue \(i)")
    return Cell(owner: self, own: times + i, earliest: times + count)
  }

  /// What a queue keeps of the floor: the floor object, which owns the times, and the addresses
  /// of its own time and the earliest, lowered with no reference counting (reading the object
  /// out of the queue and calling it retained and released it).
  struct Cell {
    private let owner: TimeOutFloor?
    private let own: UnsafeMutablePointer<EventTime>?
    private let earliest: UnsafeMutablePointer<EventTime>?

    /// A queue on its own: nothing to lower.
    static let none = Cell(owner: nil, own: nil, earliest: nil)

    fileprivate init(owner: TimeOutFloor?, own: UnsafeMutablePointer<EventTime>?, earliest: UnsafeMutablePointer<EventTime>?) {
      self.owner = owner
      self.own = own
      self.earliest = earliest
    }

    /// An entry timing out at `timeOut` was queued into the empty queue.
    @inline(__always)
    func lower(to timeOut: EventTime) {
      guard let own, let earliest else { return }
      if timeOut < own.pointee { own.pointee = timeOut }
      if timeOut < earliest.pointee { earliest.pointee = timeOut }
    }
  }
}
