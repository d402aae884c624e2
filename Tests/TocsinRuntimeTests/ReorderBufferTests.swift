import TocsinCore
import TocsinRuntime
import XCTest

/// The reorder buffer's heap against a sorted-list model: whatever the arrival order, events
/// leave in `(time, arrival)` order, each exactly once, and never before the watermark passes
/// them.
final class ReorderBufferTests: XCTestCase {
  private typealias Buffer = ReorderBuffer<Int, Int>

  private func release(_ buffer: inout Buffer, upTo ms: Int64) -> [Int] {
    var out: [Int] = []
    buffer.release(upTo: .milliseconds(ms), ahead: { _, _ in }) { out.append($0) }
    return out
  }

  func testCases() {
    struct Case {
      let name: String
      /// (time in ms) per arrival; the payload is the arrival index.
      let arrivals: [Int64]
      /// (release up to, expected payloads) in order.
      let releases: [(Int64, [Int])]
    }
    let cases: [Case] = [
      Case(name: "empty", arrivals: [], releases: [(100, [])]),
      Case(name: "in order", arrivals: [1, 2, 3], releases: [(2, [0, 1]), (3, [2])]),
      Case(name: "reversed", arrivals: [3, 2, 1], releases: [(3, [2, 1, 0])]),
      Case(name: "ties keep arrival order", arrivals: [5, 1, 5, 5, 1], releases: [(5, [1, 4, 0, 2, 3])]),
      Case(name: "nothing due yet", arrivals: [10, 20], releases: [(9, []), (10, [0]), (19, []), (20, [1])]),
      Case(
        name: "times before 1970", arrivals: [0, -3, 7, -3_000_000_000],
        releases: [(-1, [3, 1]), (7, [0, 2])]),
      Case(
        name: "two children tie at every level", arrivals: [4, 4, 4, 4, 4, 4, 4, 1],
        releases: [(4, [7, 0, 1, 2, 3, 4, 5, 6])]),
    ]
    for c in cases {
      var buffer = Buffer()
      for (i, ms) in c.arrivals.enumerated() {
        buffer.insert(i, hint: i, at: EventPosition(time: .milliseconds(ms), sequence: UInt64(i)))
      }
      XCTAssertEqual(buffer.count, c.arrivals.count, c.name)
      for (upTo, expected) in c.releases {
        XCTAssertEqual(release(&buffer, upTo: upTo), expected, "\(c.name), up to \(upTo)")
      }
    }
  }

  /// Random arrivals with bounded disorder, many equal times, interleaved with releases at a
  /// watermark that trails the largest time seen (as the engine drives it).
  func testRandomStreams_MatchSortedModel() {
    var rng = SplitMix64(seed: 7)
    for round in 0..<200 {
      var buffer = Buffer()
      var model: [(time: Int64, sequence: Int)] = []
      var maxSeen: Int64 = 0
      var released: [Int] = []
      var expected: [Int] = []
      let disorder = Int64.random(in: 0...50, using: &rng)
      let events = Int.random(in: 1...600, using: &rng)
      for sequence in 0..<events {
        // Times on a coarse grid so that ties are common.
        let time = max(0, maxSeen + Int64.random(in: -disorder...10, using: &rng) / 3 * 3)
        let watermark = maxSeen - disorder
        guard time > watermark || sequence == 0 else { continue }  // late: rejected upstream
        maxSeen = max(maxSeen, time)
        buffer.insert(sequence, hint: sequence, at: EventPosition(time: .milliseconds(time), sequence: UInt64(sequence)))
        model.append((time, sequence))
        if Int.random(in: 0..<4, using: &rng) == 0 {
          let upTo = maxSeen - disorder
          released += release(&buffer, upTo: upTo)
          let (due, rest) = (model.filter { $0.time <= upTo }, model.filter { $0.time > upTo })
          expected += due.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }.map(\.sequence)
          model = rest
        }
        XCTAssertEqual(buffer.count, model.count, "round \(round)")
      }
      buffer.release(upTo: .infinity, ahead: { _, _ in }) { released.append($0) }
      expected += model.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }.map(\.sequence)
      XCTAssertEqual(released, expected, "round \(round)")
      XCTAssertEqual(buffer.count, 0)
    }
  }

  /// The buffer owns its payloads in plain memory: each one is released exactly once, whether
  /// it leaves through `release` (and is dropped by the caller) or is still buffered when the
  /// buffer goes, including across the growth of the slab (16 slots at first) and the reuse of
  /// freed slots.
  func testPayloadsAreReleasedExactlyOnce() {
    final class Tracked {
      static var alive = 0
      let id: Int
      init(_ id: Int) {
        self.id = id
        Tracked.alive += 1
      }
      deinit { Tracked.alive -= 1 }
    }
    let cases: [(name: String, inserted: Int, releasedUpTo: Int64)] = [
      ("none released", 40, -1), ("some released", 40, 19), ("all released", 40, 39),
      ("within the first slab", 10, 4),
    ]
    for c in cases {
      Tracked.alive = 0
      var released: [Int] = []
      do {
        let buffer = ReorderBuffer<Tracked, Int>()
        // Arrivals out of order, and a release midway so later inserts reuse freed slots.
        for i in 0..<c.inserted {
          let time = Int64(i % 2 == 0 ? i : i - 1)
          buffer.insert(Tracked(i), hint: i, at: EventPosition(time: .milliseconds(time), sequence: UInt64(i)))
          if i == c.inserted / 2 {
            buffer.release(upTo: .milliseconds(min(c.releasedUpTo, Int64(i) / 2)), ahead: { _, _ in }) {
              released.append($0.id)
            }
          }
        }
        buffer.release(upTo: .milliseconds(c.releasedUpTo), ahead: { _, _ in }) { released.append($0.id) }
        XCTAssertEqual(Tracked.alive, c.inserted - released.count, c.name)
        XCTAssertEqual(buffer.count, c.inserted - released.count, c.name)
      }
      XCTAssertEqual(Tracked.alive, 0, "\(c.name): the buffer's deinit released what it held")
      XCTAssertEqual(Set(released).count, released.count, "\(c.name): each released once")
    }
  }
}
