import TocsinAutomaton
import TocsinCore
import XCTest

@testable import TocsinRuntime

/// The queues' time-out floor (``TimeOutFloor``): a watermark step leaves a queue alone until its
/// time, so a queue's time and the earliest must never be later than its head's time-out. The
/// engine-level check (queues against the general state, after every event, in and out of time
/// order) is in `RunQueueTests`, `PairQueueTests` and `StartQueueTests`; these pin the parts.
final class TimeOutFloorTests: XCTestCase {
  /// A cell lowers its queue's time and the earliest to an earlier time-out, and leaves a later
  /// one alone; the other queues' times are untouched.
  func testACellLowersOnlyToAnEarlierTimeOut() {
    // (queue 0's time, queue 1's time, earliest, time-out queued into queue 1) → (queue 1, earliest)
    let cases: [(own0: Int64, own1: Int64, earliest: Int64, timeOut: Int64, own1After: Int64, earliestAfter: Int64)] = [
      (10, 20, 10, 15, 15, 10),  // earlier than its queue's, not than the earliest
      (10, 20, 10, 5, 5, 5),  // earlier than both
      (10, 20, 10, 25, 20, 10),  // later than both: nothing moves
      (10, 20, 10, 20, 20, 10),  // equal: nothing moves
    ]
    for (n, c) in cases.enumerated() {
      let floor = TimeOutFloor(queues: 2)
      floor[0] = .milliseconds(c.own0)
      floor[1] = .milliseconds(c.own1)
      floor.earliest = .milliseconds(c.earliest)
      floor.cell(queue: 1).lower(to: .milliseconds(c.timeOut))
      XCTAssertEqual(floor[0], .milliseconds(c.own0), "case \(n): another queue's time")
      XCTAssertEqual(floor[1], .milliseconds(c.own1After), "case \(n): its queue's time")
      XCTAssertEqual(floor.earliest, .milliseconds(c.earliestAfter), "case \(n): the earliest")
    }
    // A new floor: nothing queued, nothing times out; a queue on its own lowers nothing.
    let floor = TimeOutFloor(queues: 3)
    XCTAssertEqual(floor.earliest, .infinity)
    XCTAssertEqual((0..<3).map { floor[$0] }, [.infinity, .infinity, .infinity])
    TimeOutFloor.Cell.none.lower(to: .milliseconds(1))
  }

  /// A start queue lowers its time when an entry goes into it empty, not when one queues behind
  /// others (its head still times out first), and its head's time-out follows its pops.
  func testAStartQueueLowersItsTimeWhenItWasEmpty() {
    let floor = TimeOutFloor(queues: 1)
    let queue = StartQueue(window: .seconds(10), waiting: StateID(1))
    queue.timeOutFloor = floor.cell(queue: 0)
    func event(at seconds: Int64, _ sequence: Int) -> EventRecord {
      EventRecord(
        time: .milliseconds(seconds * 1000), sequence: UInt64(sequence), line: sequence + 1, identity: "e\(sequence)",
        slots: EventSlots([Value.null]))
    }
    XCTAssertEqual(queue.headTimeOut, .infinity, "empty")
    _ = queue.push(event(at: 100, 0), key: 0)
    XCTAssertEqual(floor[0], .milliseconds(110000), "the first entry's time-out")
    XCTAssertEqual(floor.earliest, .milliseconds(110000))
    // The engine sets a queue's time after popping it; a later entry behind the head leaves it.
    floor[0] = .milliseconds(200000)
    _ = queue.push(event(at: 105, 1), key: 1)
    XCTAssertEqual(floor[0], .milliseconds(200000), "an entry behind the head lowers nothing")
    XCTAssertEqual(queue.headTimeOut, .milliseconds(110000), "the head times out first")
    var popped: [Int] = []
    queue.popExpired(upTo: .milliseconds(110000), ahead: { _ in }) { key, _ in popped.append(key) }
    XCTAssertEqual(popped, [0])
    XCTAssertEqual(queue.headTimeOut, .milliseconds(115000), "the next head's")
    queue.popExpired(upTo: .milliseconds(115000), ahead: { _ in }) { key, _ in popped.append(key) }
    XCTAssertEqual(popped, [0, 1])
    XCTAssertEqual(queue.headTimeOut, .infinity, "empty again")
    // Empty again: the next entry lowers the queue's time once more.
    _ = queue.push(event(at: 150, 2), key: 0)
    XCTAssertEqual(floor[0], .milliseconds(160000))
    XCTAssertEqual(floor.earliest, .milliseconds(110000), "the earliest was lower already")
  }
}
