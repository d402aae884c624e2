import XCTest

@testable import TocsinCore
@testable import TocsinExpressions

/// `EventSlots.Pool` takes a slot buffer back only from the holder of its last reference, and
/// hands it out again all null; `MatchNodePool` gives it the events of the nodes it clears.
final class SlotPoolTests: XCTestCase {
  private let heap = String(repeating: "h", count: 40)

  private func slots(_ n: Int) -> EventSlots {
    EventSlots((0..<n).map { i -> Value in
      switch i % 4 {
      case 0: return .string("s\(i)")
      case 1: return .string(heap + "\(i)")
      case 2: return .int(Int64(i))
      default: return .list([.string(heap), .float(1)])
      }
    })
  }

  /// `EventSlots.none` (a binding of a step nothing reads) reads as empty slots, equals them,
  /// has no buffer, and leaves a pool as it was: nothing to take back, in any state of the pool.
  func testNone_IsEmptyWithoutABuffer() {
    for (limit, before) in [(4, 0), (4, 2), (4, 4), (0, 0)] {
      let pool = EventSlots.Pool(limit: limit)
      for _ in 0..<before {
        var given = EventSlots(nulls: 3)
        pool.recycle(&given)
      }
      var none = EventSlots.none
      let copy = none
      XCTAssertEqual(none.count, 0)
      XCTAssertTrue(none.isEmpty)
      XCTAssertFalse(none.holdsBuffer)
      XCTAssertEqual(none, EventSlots([]))
      XCTAssertEqual(copy, none)
      XCTAssertTrue(EventSlots([]).holdsBuffer)
      pool.recycle(&none)
      XCTAssertEqual(pool.count, before, "limit \(limit), \(before) kept before")
      XCTAssertFalse(none.holdsBuffer)
    }
  }

  func testRecycle_OnlyTheLastHolderGivesBack() {
    // (slots, another holder?, pool limit, pool size before) → taken back?
    let cases: [(count: Int, shared: Bool, limit: Int, before: Int, taken: Bool)] = [
      (8, false, 4, 0, true),
      (8, true, 4, 0, false),  // an alert or a partial match still holds the event
      (8, false, 4, 4, false),  // the pool is full: the buffer is freed as before
      (0, false, 4, 0, true),
    ]
    for (n, c) in cases.enumerated() {
      let pool = EventSlots.Pool(limit: c.limit)
      for _ in 0..<c.before {
        var filler = slots(3)
        pool.recycle(&filler)
      }
      var given = slots(c.count)
      let other = c.shared ? given : nil
      let before = Array(given)
      pool.recycle(&given)
      XCTAssertEqual(pool.count, c.before + (c.taken ? 1 : 0), "case \(n)")
      // Taken: the holder is left empty. Not taken: the holder, and any other, is untouched.
      XCTAssertEqual(Array(given), c.taken ? [] : before, "case \(n)")
      if let other { XCTAssertEqual(Array(other), before, "case \(n)") }
    }
  }

  /// Resetting a buffer (and freeing one) releases the heap strings and lists it held and skips
  /// the short strings, which hold no reference (``SmallString``): afterwards the heap string
  /// it shared is unique again, so appending to it grows it in place.
  func testReset_ReleasesHeapStringsAndSkipsShortOnes() {
    for freeing in [false, true] {
      var text = String(repeating: "x", count: 40)
      text.reserveCapacity(200)
      let before = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
      let pool = EventSlots.Pool(limit: 4)
      var event: EventSlots? = EventSlots([.string("short"), .string(text), .string("é"), .list([.string(text)]), .int(1)])
      if freeing {
        event = nil
      } else {
        pool.recycle(&event!)
        _ = pool.slots(nulls: 5)  // reset here: the old values are released
      }
      text.append("y")
      let after = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
      XCTAssertEqual(before, after, freeing ? "freed" : "reset")
    }
  }

  /// `Header.mayHoldReferences` lets a buffer be reset, and freed, without a look at each slot:
  /// it must never be false while a slot holds a reference. Every way of writing slots, by table:
  /// the flag each leaves, and the invariant.
  func testMayHoldReferences_NeverFalseWhileASlotHoldsOne() {
    struct Thrown: Error {}
    let small = SmallString.isAvailable
    let cases: [(name: String, make: () -> EventSlots, flag: Bool)] = [
      ("nulls", { EventSlots(nulls: 4) }, false),
      ("short strings and numbers", { EventSlots([.string("short"), .int(1), .float(2), .bool(true)]) }, !small),
      ("a heap string", { EventSlots([.int(1), .string(self.heap)]) }, true),
      ("a list", { EventSlots([.list([])]) }, true),
      ("set a short string", { var s = EventSlots(nulls: 3); s[1] = .string("short"); return s }, !small),
      ("set a heap string", { var s = EventSlots(nulls: 3); s[1] = .string(self.heap); return s }, true),
      // Conservative: once set, only a reset clears it.
      ("set a heap string, then null", { var s = EventSlots(nulls: 3); s[1] = .string(self.heap); s[1] = .null; return s }, true),
      ("through the mutable buffer", { var s = EventSlots(nulls: 3); s.withUnsafeMutableBufferPointer { _ in }; return s }, true),
      ("filled, none reported", { var s = EventSlots(nulls: 3); s.fillNulled { b in b[0] = .int(5); return false }; return s }, false),
      ("filled, one reported", { var s = EventSlots(nulls: 3); s.fillNulled { b in b[0] = .string(self.heap); return true }; return s }, true),
      (
        "filled, then a throw",
        {
          var s = EventSlots(nulls: 3)
          try? s.fillNulled { (b) throws(Thrown) -> Bool in
            b[0] = .string(self.heap)
            throw Thrown()
          }
          return s
        }, true
      ),
      ("copied on write from a heap string", { let a = EventSlots([.string(self.heap)]); var b = a; b[0] = .int(1); return b }, true),
      ("copied on write from plain values", { let a = EventSlots([.int(1)]); var b = a; b[0] = .int(2); return b }, false),
    ]
    for c in cases {
      let slots = c.make()
      let header = slots.storage!.header
      XCTAssertEqual(header.mayHoldReferences, c.flag, c.name)
      let holdsOne = (0..<slots.count).contains { i in
        slots.withUnsafeValue(at: i) { !Value.holdsNoReference(at: $0, smallStrings: small) }
      }
      if holdsOne { XCTAssertTrue(header.mayHoldReferences, "\(c.name): a reference under a clear flag") }
      // Reset through the pool: all null, the flag clear.
      let pool = EventSlots.Pool()
      var given = slots
      pool.recycle(&given)
      let reset = pool.slots(nulls: slots.count)
      XCTAssertEqual(Array(reset), Array(repeating: .null, count: slots.count), c.name)
      XCTAssertFalse(reset.storage!.header.mayHoldReferences, c.name)
    }
  }

  /// A heap string written through each writer is released by the reset and by the free that
  /// follow (no writer leaves it behind a clear flag): afterwards it is unique again, and grows
  /// in place.
  func testMayHoldReferences_EveryWriterLetsTheResetReleaseIt() {
    let writers: [(name: String, write: (inout EventSlots, String) -> Void)] = [
      ("subscript", { s, text in s[2] = .string(text) }),
      ("mutable buffer", { s, text in s.withUnsafeMutableBufferPointer { $0[2] = .string(text) } }),
      ("fillNulled", { s, text in s.fillNulled { b in b[2] = .string(text); return true } }),
    ]
    for (name, write) in writers {
      for freeing in [false, true] {
        var text = String(repeating: "x", count: 40)
        text.reserveCapacity(200)
        let before = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
        let pool = EventSlots.Pool(limit: 4)
        var event: EventSlots? = EventSlots(nulls: 4)
        write(&event!, text)
        if freeing {
          event = nil
        } else {
          pool.recycle(&event!)
          _ = pool.slots(nulls: 4)
        }
        text.append("y")
        let after = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
        XCTAssertEqual(before, after, "\(name), \(freeing ? "freed" : "reset")")
      }
    }
  }

  func testSlots_ReuseOnlyAnAllNullBufferOfTheSize() throws {
    let pool = EventSlots.Pool()
    var a = slots(6)
    pool.recycle(&a)
    // A request of another size gets a new buffer (the pooled one is dropped).
    let other = pool.slots(nulls: 5)
    XCTAssertEqual(Array(other), Array(repeating: .null, count: 5))
    XCTAssertEqual(pool.count, 0)
    var b = slots(6)
    let identityB = ObjectIdentifier(try XCTUnwrap(b.storage))
    pool.recycle(&b)
    let reused = pool.slots(nulls: 6)
    XCTAssertEqual(ObjectIdentifier(try XCTUnwrap(reused.storage)), identityB)
    XCTAssertEqual(Array(reused), Array(repeating: .null, count: 6))
    // Empty pool: a new buffer.
    XCTAssertEqual(Array(pool.slots(nulls: 2)), [.null, .null])
  }

  func testSlots_ABufferStillHeldIsNotHandedOut() {
    // A holder that kept a reference after giving the buffer back (a misuse the pool guards
    // against): the pool must not hand out a buffer that someone can still read.
    let pool = EventSlots.Pool()
    var given = slots(4)
    pool.recycle(&given)
    let sneaky = pool.top!
    let fresh = pool.slots(nulls: 4)
    XCTAssertFalse(fresh.storage === sneaky)
    XCTAssertEqual(Array(fresh), Array(repeating: .null, count: 4))
  }

  func testNodePool_GivesTheEventsOfClearedNodesToTheSlotPool() {
    // (events shared with another holder) → buffers in the slot pool after a chain of three
    // nodes is given up.
    let cases: [(shared: Set<Int>, pooled: Int)] = [([], 3), ([1], 2), ([0, 1, 2], 0)]
    for c in cases {
      let slotPool = EventSlots.Pool()
      let nodes = MatchNodePool()
      nodes.slotPool = slotPool
      var held: [EventRecord] = []
      var last: MatchNode?
      for i in 0..<3 {
        let event = EventRecord(time: .milliseconds(Int64(i)), sequence: UInt64(i), line: i + 1, identity: "e\(i)", slots: slots(5))
        if c.shared.contains(i) { held.append(event) }
        last = nodes.make(step: i, event: event, previous: last)
      }
      nodes.recycle(last.take()!)
      XCTAssertEqual(slotPool.count, c.pooled, "shared \(c.shared)")
      XCTAssertEqual(nodes.count, 3)
      // Events still held elsewhere keep their values.
      for event in held { XCTAssertEqual(Array(event.slots), Array(slots(5))) }
    }
  }

  func testGive_MovesUpToTheReceiversRoom() {
    // (kept, receiver's limit, receiver's count before, asked) → (left here, receiver after)
    let cases: [(kept: Int, limit: Int, before: Int, asked: Int, left: Int, after: Int)] = [
      (5, 10, 0, 3, 2, 3),
      (5, 10, 0, .max, 0, 5),
      (5, 4, 2, .max, 3, 4),  // the receiver is nearly full
      (0, 10, 0, 3, 0, 0),
      (5, 10, 10, 3, 5, 10),  // the receiver is full
    ]
    for (n, c) in cases.enumerated() {
      let giver = EventSlots.Pool(limit: 16)
      let receiver = EventSlots.Pool(limit: c.limit)
      for _ in 0..<c.kept {
        var s = slots(6)
        giver.recycle(&s)
      }
      for _ in 0..<c.before {
        var s = slots(2)
        receiver.recycle(&s)
      }
      giver.give(upTo: c.asked, to: receiver)
      XCTAssertEqual(giver.count, c.left, "case \(n)")
      XCTAssertEqual(receiver.count, c.after, "case \(n)")
      // What moved comes out of the receiver all null, at the size it had.
      if c.after > c.before {
        let reused = receiver.slots(nulls: 6)
        XCTAssertEqual(Array(reused), Array(repeating: .null, count: 6), "case \(n)")
        XCTAssertEqual(receiver.count, c.after - 1, "case \(n): the buffer was reused")
      }
    }
  }

  /// A retired node reaches the pool `retireDelay` retirements later, with its event's buffer;
  /// one another holder still refers to is never taken.
  func testRetire_TakesBackAfterTheDelay() {
    let delay = MatchNodePool.retireDelay
    let nodes = MatchNodePool(limit: 64)
    let slotPool = EventSlots.Pool(limit: 64)
    nodes.slotPool = slotPool
    func event(_ n: Int) -> EventRecord {
      EventRecord(time: EventTime(nanosecondsSinceEpoch: Int64(n)), sequence: UInt64(n), line: n, identity: "e\(n)", slots: slots(4))
    }
    var kept: MatchNode?
    for n in 0..<(delay + 3) {
      var reference = MatchNode(step: 0, event: event(n), previous: nil)
      if n == 1 { kept = reference }  // shared: never taken back
      nodes.retire(&reference)
      XCTAssertEqual(reference.step, -1, "retire \(n) leaves the placeholder")
      // Retirement n takes back the node of retirement n - delay (none before the delay).
      let takenBack = max(0, n + 1 - delay) - (n + 1 - delay > 1 ? 1 : 0)
      XCTAssertEqual(nodes.count, takenBack, "after retirement \(n)")
      XCTAssertEqual(slotPool.count, takenBack, "after retirement \(n): the events' buffers too")
    }
    XCTAssertEqual(kept?.event.identity, "e1", "the shared node is untouched")
  }
}
