import TocsinApp
import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinRuntime

/// A step whose fields no expression of its rule reads binds its events without their field
/// values (``RuleMatcher/keepsSlots``, ``RuleSpec/stepFieldsRead``): the slot buffer goes back to
/// the decoder instead of staying alive with the partial match. Every read of a binding's field
/// must find a step that kept them (a read of a slotless binding would trap: the fixtures, the
/// equivalence and checkpoint tests run through both kinds of node).
final class SlotlessBindingTests: XCTestCase {
  private func program(_ body: String) throws -> (RuleProgram, FieldProjection) {
    let text = "rule r\n  key user\n\(body)\n"
    let programs = try XCTUnwrap(
      RuleSet.build([SourceFile(path: "r.tcs", text: text)], ingest: IngestOptions()).programs, text)
    return (programs.rules[0], programs.projection)
  }

  /// Which steps' fields each rule reads, by where the read is.
  func testStepFieldsRead() throws {
    let begin = "  begin a where type == \"a\"\n"
    let cases: [(String, [Bool])] = [
      // Nothing reads a field of a bound step: counts and times read none.
      (begin + "  followed_by b where type == \"b\"\n  within 1m\n  emit { n: count(b), t: time(a) }", [false, false]),
      // A condition reads `a`.
      (begin + "  followed_by b where amount > a.amount\n  within 1m", [true, false]),
      // An aggregate of a field reads every event of its step.
      (begin + "  followed_by b where type == \"b\"\n    times 2+\n  within 1m\n  emit { s: sum(b.amount) }", [false, true]),
      // `emit` of a step's field.
      (begin + "  followed_by b where type == \"b\"\n  within 1m\n  emit { x: b.amount }", [false, true]),
      // A bare field in `emit` reads the match's last event, which may be any step's.
      (begin + "  followed_by b where type == \"b\"\n  within 1m\n  emit { x: amount }", [true, true]),
      // `on timeout emit` reads from the partial match at its time-out.
      (begin + "  followed_by b where type == \"b\"\n  within 1m\n  on timeout emit { x: a.ip }", [true, false]),
      // `suppress … by`.
      (begin + "  followed_by b where type == \"b\"\n  within 1m\n  suppress 1m by b.ip", [false, true]),
      // An `until` reads `a`.
      (begin + "  followed_by b where type == \"b\"\n    one_or_more\n    until ip != a.ip\n  within 1m", [true, false]),
      // A negation's condition reads `a`; the negation's own step is never read.
      (begin + "  not_followed_by n where ip == a.ip\n  followed_by b where type == \"b\"\n  within 1m", [true, false, false]),
    ]
    for (body, expected) in cases {
      let (program, _) = try self.program(body)
      XCTAssertEqual(program.spec.stepFieldsRead, expected, body)
      XCTAssertEqual(RuleMatcher(program: program).keepsSlots, expected, body)
    }
  }

  /// The nodes a partial match binds: a loop step nothing reads binds its events without field
  /// values, the step `emit` reads keeps them, and the alert reads them from it.
  func testNodesOfUnreadStepsKeepNoFields() throws {
    let (program, projection) = try self.program(
      """
        begin a where type == "a"
        followed_by b where type == "b"
          times 2+
        followed_by c where type == "c"
        within 1m
        emit { n: count(b), x: c.amount }
      """)
    let harness = MatcherHarness(RuleMatcher(program: program, sharingRuns: false))
    let typeSlot = try XCTUnwrap(projection.existingSlot(for: FieldPath(["type"]))).index
    let amountSlot = try XCTUnwrap(projection.existingSlot(for: FieldPath(["amount"]))).index
    var matches: [MatchNode] = []
    for (i, type) in ["a", "b", "b", "c"].enumerated() {
      var slots = Array(repeating: Value.null, count: projection.count)
      slots[typeSlot] = .string(type)
      slots[amountSlot] = .int(Int64(10 * i))
      let event = EventRecord(
        time: .milliseconds(Int64(i) * 1000), sequence: UInt64(i), line: i + 1, identity: "\(type)\(i)",
        slots: EventSlots(slots))
      harness.matcher.process(event, &harness.state, context: harness.context, scratch: harness.scratch) { node, _ in
        matches.append(node)
      }
    }
    let match = try XCTUnwrap(matches.first)
    XCTAssertEqual(match.nodesInOrder.map(\.event.identity), ["a0", "b1", "b2", "c3"])
    XCTAssertEqual(match.nodesInOrder.map(\.event.slots.count), [0, 0, 0, projection.count])
    // No buffer behind the unread steps' slots (a shared empty one was retained by each
    // binding, and released when it went).
    XCTAssertEqual(match.nodesInOrder.map(\.event.slots.holdsBuffer), [false, false, false, true])
    // The alert's fields read the kept step.
    let values = program.emitValues.map { $0(match.event, match, harness.context) }
    XCTAssertEqual(values, [.int(2), .int(30)])
  }
}
