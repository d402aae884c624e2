import TocsinCore
@testable import TocsinExpressions
import XCTest

/// `MatchNodePool` takes a node back only when nothing else can reach it, and hands it out again
/// as a fresh node.
final class MatchNodePoolTests: XCTestCase {
  private func event(_ id: String) -> EventRecord {
    EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: id, slots: [.string(id)])
  }

  /// Builds the chains named in `shape` ("a", "ab" = b after a, …) sharing prefixes, as partial
  /// matches that branch do; returns the last node of each.
  private func chains(_ shape: [String], pool: MatchNodePool) -> [MatchNode] {
    var made: [String: MatchNode] = [:]
    return shape.map { path in
      var previous: MatchNode?
      for i in path.indices {
        let prefix = String(path[...i])
        if let node = made[prefix] {
          previous = node
        } else {
          let node = pool.make(step: path.distance(from: path.startIndex, to: i), event: event(prefix), previous: previous)
          made[prefix] = node
          previous = node
        }
      }
      return previous!
    }
  }

  func testRecycle_TakesWhatNothingElseReaches() {
    // (chains, which of them are given up in order, pool size after each, limit)
    let cases: [(shape: [String], release: [Int], pooled: [Int], limit: Int)] = [
      (["abc"], [0], [3], 16),  // a whole chain
      (["ab", "ac"], [0, 1], [1, 3], 16),  // shared prefix: `a` goes with the last branch
      (["ab", "ac"], [1, 0], [1, 3], 16),
      (["a", "ab"], [0, 1], [0, 2], 16),  // `a` is also b's predecessor
      (["a", "ab"], [1, 0], [1, 2], 16),
      (["abcd"], [0], [2], 2),  // the limit: the rest go back to the allocator
      (["ab", "cd"], [0, 1], [2, 3], 3),
    ]
    for (n, c) in cases.enumerated() {
      let pool = MatchNodePool(limit: c.limit)
      var live = chains(c.shape, pool: pool).map(Optional.some)
      for (step, index) in c.release.enumerated() {
        pool.recycle(live[index].take()!)
        XCTAssertEqual(pool.count, c.pooled[step], "case \(n), release \(step)")
        // No pooled node is reachable from a chain still held, and every reachable node is
        // intact.
        let pooled = Set(pool.free.map(ObjectIdentifier.init))
        for head in live.compactMap({ $0 }) {
          var node: MatchNode? = head
          while let n = node {
            XCTAssertFalse(pooled.contains(ObjectIdentifier(n)), "case \(n): a reachable node was pooled")
            XCTAssertNotNil(n.storedEvent)
            node = n.previous
          }
        }
      }
    }
  }

  func testRecycle_LeavesNodesHeldElsewhere() {
    let pool = MatchNodePool()
    let held = chains(["abc"], pool: pool)[0]
    var reference = held
    pool.recycle(ifLast: &reference)  // `held` still refers to it
    pool.recycle(reference)
    XCTAssertEqual(pool.count, 0)
    XCTAssertEqual(held.length, 3)
    XCTAssertEqual(held.event.identity, "abc")
  }

  func testRecycleIfLast_ArrayElement() {
    let pool = MatchNodePool()
    var list = chains(["ab", "ac"], pool: pool)
    list.withUnsafeMutableBufferPointer { buffer in
      for i in buffer.indices { pool.recycle(ifLast: &buffer[i]) }
    }
    // `b` and `c` are each held only by the list; `a` by both until `b` lets go of it, so it
    // goes with `c`.
    XCTAssertEqual(pool.count, 3)
    list.removeAll()
    XCTAssertEqual(pool.count, 3)
    XCTAssertTrue(pool.free.allSatisfy { $0.storedEvent == nil && $0.previous == nil })
  }

  func testMake_ReusesAClearedNodeAsNew() {
    let pool = MatchNodePool()
    var old: MatchNode? = chains(["abc"], pool: pool)[0]
    let oldID = ObjectIdentifier(old!)
    pool.recycle(old.take()!)
    XCTAssertEqual(pool.count, 3)
    let first = pool.make(step: 0, event: event("x"), previous: nil)
    let second = pool.make(step: 4, event: event("y"), previous: first)
    XCTAssertEqual(pool.count, 1)
    XCTAssertEqual(ObjectIdentifier(first), oldID)  // last in, first out: still in the cache
    XCTAssertEqual(second.step, 4)
    XCTAssertEqual(second.length, 2)
    XCTAssertTrue(second.previous === first)
    XCTAssertEqual(second.event.identity, "y")
    XCTAssertEqual(first.length, 1)
    XCTAssertNil(first.previous)
    XCTAssertEqual(second.nodesInOrder.map(\.event.identity), ["x", "y"])
  }

  /// Random branching and random give-up order: whatever is pooled is unreachable, and once every
  /// chain is given up every node is pooled (the limit is not reached).
  func testRecycle_RandomBranching() {
    var rng = SplitMix64(seed: 7)
    for round in 0..<200 {
      let pool = MatchNodePool(limit: 1 << 16)
      var made = 0
      var live: [MatchNode?] = []
      for _ in 0..<Int.random(in: 1...12, using: &rng) {
        // Extend a random live chain (or start one): partial matches branching.
        let previous = live.isEmpty || Bool.random(using: &rng) ? nil : live.randomElement(using: &rng)!
        live.append(pool.make(step: 0, event: event("e\(made)"), previous: previous))
        made += 1
      }
      for index in live.indices.shuffled(using: &rng) {
        pool.recycle(live[index].take()!)
        let pooled = Set(pool.free.map(ObjectIdentifier.init))
        for head in live.compactMap({ $0 }) {
          var node: MatchNode? = head
          while let n = node {
            XCTAssertFalse(pooled.contains(ObjectIdentifier(n)), "round \(round)")
            node = n.previous
          }
        }
      }
      XCTAssertEqual(pool.count, made, "round \(round)")
    }
  }
}

/// A small seeded generator, so a failing round can be replayed.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
