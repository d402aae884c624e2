import TocsinCore
import TocsinRuntime
import XCTest

/// The reorder buffer (a calendar of time buckets in front of a sorted run and a heap) against a
/// sorted-list model: whatever the arrival order and whatever the span its buckets were sized
/// for, events leave in `(time, arrival)` order, each exactly once, and never before the
/// watermark passes them.
final class ReorderBufferTests: XCTestCase {
  private typealias Buffer = ReorderBuffer<Int, Int>

  /// Spans to size the buckets for: none (a bucket per nanosecond, so nearly every arrival is
  /// outside the ring and goes to the heap), narrower than the tests' disorder (arrivals both
  /// beyond the ring and in it), about the disorder, and far wider (all in a few buckets).
  private static let spans: [EventDuration] = [
    .zero, .milliseconds(1), .milliseconds(50), .seconds(1), .seconds(86_400),
  ]

  private func release(_ buffer: Buffer, upTo ms: Int64) -> [Int] {
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
      // Hours apart: beyond any ring but the widest, so the later ones wait in the heap while
      // earlier ones arrive in the calendar, and must still leave after them.
      Case(
        name: "arrivals hours apart", arrivals: [0, 36_000_000, 5, 72_000_000, 3, 36_000_000, 4],
        releases: [(4, [0, 4, 6]), (36_000_000, [2, 1, 5]), (100_000_000, [3])]),
      Case(
        name: "a watermark far past everything", arrivals: [7, 2, 9, 2, 1_000],
        releases: [(1, []), (Int64.max / 1_000_000, [1, 3, 0, 2, 4])]),
    ]
    for span in Self.spans {
      for c in cases {
        let buffer = Buffer(span: span)
        for (i, ms) in c.arrivals.enumerated() {
          buffer.insert(i, hint: i, at: EventPosition(time: .milliseconds(ms), sequence: UInt64(i)))
        }
        XCTAssertEqual(buffer.count, c.arrivals.count, c.name)
        for (upTo, expected) in c.releases {
          XCTAssertEqual(release(buffer, upTo: upTo), expected, "\(c.name), up to \(upTo), span \(span)")
        }
        XCTAssertEqual(buffer.count, c.arrivals.count - c.releases.reduce(0) { $0 + $1.1.count }, c.name)
      }
    }
  }

  /// Arrivals between releases, where the calendar has already handed the next buckets to the
  /// heap: an arrival just after the watermark lands in a drained bucket and must go to the heap,
  /// one far ahead lands beyond the ring. Script: a number arrives at that time in ms (its
  /// payload is its arrival index), `rN` releases up to N and expects the listed payloads.
  func testArrivalsBetweenReleases() {
    let cases: [(name: String, script: String)] = [
      ("just after the watermark", "10 20 30 40 50 60 r10=0 15 16 11 r12=8 r35=6,7,1,2 70 r70=3,4,5,9"),
      ("ties with a drained event", "5 5 6 7 8 r5=0,1 6 6 r6=2,5,6 r8=3,4"),
      ("far ahead, then near", "1 r0= 100000000 2 3 r3=0,2,3 4 r200000000=4,1"),
      ("the ring moved on while empty", "1 r1=0 50000000 50000001 49999999 r50000001=3,1,2"),
    ]
    for span in Self.spans {
      for c in cases {
        let buffer = Buffer(span: span)
        var arrivals = 0
        for op in c.script.split(separator: " ") {
          if op.hasPrefix("r") {
            let parts = op.dropFirst().split(separator: "=", omittingEmptySubsequences: false)
            let expected = parts[1].split(separator: ",").map { Int($0)! }
            XCTAssertEqual(release(buffer, upTo: Int64(parts[0])!), expected, "\(c.name), \(op), span \(span)")
          } else {
            buffer.insert(arrivals, hint: arrivals, at: EventPosition(time: .milliseconds(Int64(op)!), sequence: UInt64(arrivals)))
            arrivals += 1
          }
        }
        XCTAssertEqual(buffer.count, 0, "\(c.name), span \(span): the script releases everything")
      }
    }
  }

  /// Events at the ends of time (a saturated timestamp) with the narrowest and widest buckets:
  /// they leave in order, and the buffer goes on working after the last bucket of time.
  func testTheEndsOfTime() {
    let times: [Int64] = [.max, 0, .min + 1, .max, -1, .max - 1]
    for span in Self.spans {
      let buffer = Buffer(span: span)
      for (i, ns) in times.enumerated() {
        buffer.insert(i, hint: i, at: EventPosition(time: EventTime(nanosecondsSinceEpoch: ns), sequence: UInt64(i)))
      }
      var released: [Int] = []
      buffer.release(upTo: EventTime(nanosecondsSinceEpoch: .max - 1), ahead: { _, _ in }) { released.append($0) }
      XCTAssertEqual(released, [2, 4, 1, 5], "span \(span)")
      buffer.release(upTo: .infinity, ahead: { _, _ in }) { released.append($0) }
      XCTAssertEqual(released, [2, 4, 1, 5, 0, 3], "span \(span)")
      buffer.insert(6, hint: 6, at: EventPosition(time: .milliseconds(5), sequence: 6))
      buffer.insert(7, hint: 7, at: EventPosition(time: .milliseconds(4), sequence: 7))
      buffer.release(upTo: .infinity, ahead: { _, _ in }) { released.append($0) }
      XCTAssertEqual(released.suffix(2), [7, 6], "span \(span): after the end of time")
      XCTAssertEqual(buffer.count, 0)
    }
  }

  /// Past the last bucket of time the ring goes on with bucket 0: events drained from the last
  /// buckets wait while an event at the start of time, parked in the ring's next bucket, must
  /// still leave first.
  func testPastTheLastBucketOfTime() {
    let times: [Int64] = [.max - 2, .max - 1, .max, .min + 1]
    for span in Self.spans {
      let buffer = Buffer(span: span)
      for (i, ns) in times.enumerated() {
        buffer.insert(i, hint: i, at: EventPosition(time: EventTime(nanosecondsSinceEpoch: ns), sequence: UInt64(i)))
      }
      var released: [Int] = []
      buffer.release(upTo: .infinity, ahead: { _, _ in }) { released.append($0) }
      XCTAssertEqual(released, [3, 0, 1, 2], "span \(span)")
      XCTAssertEqual(buffer.count, 0)
    }
  }

  /// Random arrivals with bounded disorder, many equal times, interleaved with releases at a
  /// watermark that trails the largest time seen (as the engine drives it).
  func testRandomStreams_MatchSortedModel() {
    var rng = SplitMix64(seed: 7)
    for round in 0..<200 {
      let span = Self.spans[round % Self.spans.count]
      let buffer = Buffer(span: span)
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
          // The lookahead names the event that leaves next (`.next`, handed over while the one
          // before it is released), when the ring spans the disorder.
          var announced: Int?
          var promised: Int?
          buffer.release(upTo: .milliseconds(upTo), ahead: { hint, distance in
            if distance == .next { announced = hint }
          }) {
            if let promised, span >= .milliseconds(50) { XCTAssertEqual(promised, $0, "round \(round): the next hint") }
            promised = announced
            announced = nil
            released.append($0)
          }
          let (due, rest) = (model.filter { $0.time <= upTo }, model.filter { $0.time > upTo })
          expected += due.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }.map(\.sequence)
          model = rest
        }
        XCTAssertEqual(buffer.count, model.count, "round \(round)")
      }
      buffer.release(upTo: .infinity, ahead: { _, _ in }) { released.append($0) }
      expected += model.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }.map(\.sequence)
      XCTAssertEqual(released, expected, "round \(round), span \(span)")
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

  /// `releaseInPlace(upTo:ahead:_:)`: a payload the body emptied (its reference taken out) is
  /// not deinitialised, one it did not empty is, and the slots of both are reused by later
  /// inserts: every payload is released exactly once, by the body or by the buffer.
  func testPayloadsEmptiedByTheBodyAreNotDeinitialisedAgain() {
    final class Tracked {
      static var alive = 0
      static var freed: [Int] = []
      let id: Int
      init(_ id: Int) {
        self.id = id
        Tracked.alive += 1
      }
      deinit {
        Tracked.alive -= 1
        Tracked.freed.append(id)
      }
    }
    let cases: [(name: String, empties: (Int) -> Bool)] = [
      ("the body empties every payload", { _ in true }),
      ("the body empties none", { _ in false }),
      ("the body empties every other one", { $0 % 2 == 0 }),
    ]
    for c in cases {
      Tracked.alive = 0
      Tracked.freed = []
      var seen: [Int] = []
      do {
        let buffer = ReorderBuffer<Tracked?, Int>()
        func releaseAll(upTo ms: Int64) {
          buffer.releaseInPlace(upTo: .milliseconds(ms), ahead: { _, _ in }) { payload in
            // swift-format-ignore: NeverForceUnwrap
            // Every inserted payload holds an object.
            let id = payload!.id
            seen.append(id)
            guard c.empties(id) else { return false }
            payload = nil  // the object is released here, by the body
            return true
          }
        }
        // Two rounds, so that the second round's inserts reuse the slots the first freed.
        for round in 0..<2 {
          for i in 0..<30 {
            let id = round * 100 + i
            buffer.insert(Tracked(id), hint: id, at: EventPosition(time: .milliseconds(Int64(id)), sequence: UInt64(id)))
          }
          releaseAll(upTo: Int64(round * 100 + 19))
        }
        XCTAssertEqual(seen, Array(0..<20) + Array(20..<30) + Array(100..<120), c.name)
        XCTAssertEqual(Tracked.alive, 10, "\(c.name): only the ten still buffered are alive")
        XCTAssertEqual(Set(Tracked.freed), Set(seen), "\(c.name): each released payload freed once")
        XCTAssertEqual(Tracked.freed.count, seen.count, c.name)
      }
      XCTAssertEqual(Tracked.alive, 0, "\(c.name): the buffer's deinit released what it held")
    }
  }
}
