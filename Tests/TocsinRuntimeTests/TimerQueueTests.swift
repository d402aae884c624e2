import TocsinCore
import TocsinRuntime
import XCTest

/// The radix-heap timer queue against a sorted-list model (docs/architecture.md, "Timers").
final class TimerQueueTests: XCTestCase {
  private typealias Timer = TimerQueue.Timer

  private func timer(_ ms: Int64, rule: Int = 0, key: Int = 0) -> Timer {
    Timer(deadline: .milliseconds(ms), rule: rule, key: KeyID(key))
  }

  private func pop(_ queue: TimerQueue, upTo ms: Int64) -> [Timer] {
    var out: [Timer] = []
    queue.popExpired(upTo: .milliseconds(ms), into: &out)
    return out
  }

  func testCases() {
    struct Case {
      let name: String
      let scheduled: [Timer]
      /// (pop up to, expected timers) in order.
      let pops: [(Int64, [Timer])]
    }
    let t = timer
    let cases: [Case] = [
      Case(name: "empty", scheduled: [], pops: [(100, [])]),
      Case(name: "nothing due yet", scheduled: [t(50, 0, 0)], pops: [(49, []), (50, [t(50, 0, 0)])]),
      Case(
        name: "ties sorted by rule then key, whatever the scheduling order",
        scheduled: [t(10, 1, 5), t(10, 0, 9), t(10, 1, 2), t(5, 3, 0)],
        pops: [(10, [t(5, 3, 0), t(10, 0, 9), t(10, 1, 2), t(10, 1, 5)])]),
      Case(
        name: "duplicates both fire",
        scheduled: [t(7, 0, 1), t(7, 0, 1)], pops: [(7, [t(7, 0, 1), t(7, 0, 1)])]),
      Case(
        name: "times before 1970 and far apart",
        scheduled: [t(-5_000_000_000, 0, 0), t(3_000_000_000_000, 0, 1), t(-1, 0, 2), t(0, 0, 3)],
        pops: [
          (-2, [t(-5_000_000_000, 0, 0)]), (0, [t(-1, 0, 2), t(0, 0, 3)]),
          (2_999_999_999_999, []), (3_000_000_000_000, [t(3_000_000_000_000, 0, 1)]),
        ]),
    ]
    for c in cases {
      let queue = TimerQueue()
      for s in c.scheduled { queue.schedule(s) }
      XCTAssertEqual(queue.count, c.scheduled.count, c.name)
      for (upTo, expected) in c.pops {
        XCTAssertEqual(pop(queue, upTo: upTo), expected, "\(c.name), up to \(upTo)")
      }
    }
  }

  func testInfinityEmptiesTheQueue() {
    let queue = TimerQueue()
    queue.schedule(Timer(deadline: .infinity, rule: 0, key: KeyID(0)))
    queue.schedule(timer(1))
    var out: [Timer] = []
    queue.popExpired(upTo: .infinity, into: &out)
    XCTAssertEqual(out.map(\.deadline), [.milliseconds(1), .infinity])
    XCTAssertEqual(queue.count, 0)
    XCTAssertNil(queue.next)
  }

  /// Timers due together come out sorted by (deadline, rule, key) whatever their number, and
  /// all of them from a queue that does not sort. Few distinct deadlines, rules and keys, so
  /// most timers tie on the first fields (as rounded deadlines do).
  func testABatchComesOutWhole_AndSortedWhenAsked() {
    var rng = SplitMix64(seed: 13)
    for size in [1, 2, 3, 17, 64, 200] {
      let sorting = TimerQueue()
      let unsorted = TimerQueue(sortsDue: false)
      var scheduled: [Timer] = []
      for _ in 0..<size {
        let t = timer(100 + Int64(rng.next(upTo: 3)), rule: Int(rng.next(upTo: 4)), key: Int(rng.next(upTo: 1000)))
        sorting.schedule(t)
        unsorted.schedule(t)
        scheduled.append(t)
      }
      XCTAssertEqual(pop(sorting, upTo: 1_000), scheduled.sorted(), "\(size) timers")
      XCTAssertEqual(pop(unsorted, upTo: 1_000).sorted(), scheduled.sorted(), "\(size) timers, unsorted")
      XCTAssertEqual(unsorted.count, 0)
    }
  }

  /// Property: with the watermark moving forward by random steps and timers scheduled around it
  /// — mostly later, some at or before what already fired — every pop returns exactly what a
  /// sorted list returns (as a set, from a queue that does not sort), and `next` is nil exactly
  /// when the queue is empty.
  func testAgreesWithASortedListModel() {
    var rng = SplitMix64(seed: 7)
    for round in 0..<40 {
      // Every other round a queue that does not sort: the same timers, in any order.
      let sorts = round % 2 == 0
      let queue = TimerQueue(sortsDue: sorts)
      var model: [Timer] = []
      var watermark: Int64 = Int64(rng.next(upTo: 1_000_000)) - 500_000
      let spread = UInt64(1 << (round % 30 + 1))
      for _ in 0..<600 {
        for _ in 0..<Int(rng.next(upTo: 4)) {
          let ahead = Int64(rng.next(upTo: spread))
          // One in ten goes at or before the watermark: the queue must still fire it next time.
          let deadline = rng.next(upTo: 10) == 0 ? watermark - ahead % 50 : watermark + 1 + ahead
          let s = timer(deadline, rule: Int(rng.next(upTo: 3)), key: Int(rng.next(upTo: 5)))
          queue.schedule(s)
          model.append(s)
        }
        watermark += Int64(rng.next(upTo: spread / 2 + 2))
        let expected = model.filter { $0.deadline <= .milliseconds(watermark) }.sorted()
        // The early answer is exact: a timer is due exactly when the model has one due (the
        // engine skips the pop on `false`, so a wrong `false` would lose a time-out).
        XCTAssertEqual(queue.mayHaveDue(upTo: .milliseconds(watermark)), !expected.isEmpty, "round \(round)")
        model.removeAll { $0.deadline <= .milliseconds(watermark) }
        let popped = pop(queue, upTo: watermark)
        XCTAssertEqual(sorts ? popped : popped.sorted(), expected, "round \(round)")
        XCTAssertEqual(queue.count, model.count, "round \(round)")
        XCTAssertEqual(queue.next == nil, model.isEmpty, "round \(round)")
      }
    }
  }
}
