import TocsinAutomaton
import TocsinCore
import XCTest

@testable import TocsinRuntime

/// The matcher's flat edge conditions (``FlatCondition``) describe exactly the automaton's
/// condition trees: rebuilding a tree from its table gives the tree back. (Their evaluation is
/// what every matcher test and fixture runs.)
final class FlatConditionTests: XCTestCase {
  private func rebuild(_ table: [FlatCondition], _ root: Int32) -> NFA.EdgeCondition {
    let node = table[Int(root)]
    switch node.kind {
    case .always: return .always
    case .take: return .take(Int(node.a))
    case .until: return .until(Int(node.a))
    case .not: return .not(rebuild(table, node.a))
    case .and: return .and(rebuild(table, node.a), rebuild(table, node.b))
    }
  }

  private func randomCondition(_ rng: inout SplitMix64, depth: Int) -> NFA.EdgeCondition {
    let pick = depth == 0 ? rng.next(upTo: 3) : rng.next(upTo: 5)
    switch pick {
    case 0: return .always
    case 1: return .take(Int(rng.next(upTo: 6)))
    case 2: return .until(Int(rng.next(upTo: 6)))
    case 3: return .not(randomCondition(&rng, depth: depth - 1))
    default: return .and(randomCondition(&rng, depth: depth - 1), randomCondition(&rng, depth: depth - 1))
    }
  }

  func testTablesRebuildTheirTrees() {
    let cases: [NFA.EdgeCondition] = [
      .always, .take(0), .until(3), .not(.take(1)), .and(.not(.take(2)), .not(.until(2))),
      .and(.and(.take(0), .not(.until(0))), .always),
    ]
    var rng = SplitMix64(seed: 11)
    var table: [FlatCondition] = []
    // All in one table, as a matcher keeps every edge's: roots must not disturb each other.
    var roots: [(NFA.EdgeCondition, Int32)] = []
    for condition in cases + (0..<300).map({ _ in randomCondition(&rng, depth: 4) }) {
      roots.append((condition, FlatCondition.add(condition, to: &table)))
    }
    for (condition, root) in roots {
      XCTAssertEqual(rebuild(table, root), condition)
    }
  }
}
