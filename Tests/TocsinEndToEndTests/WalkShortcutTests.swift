import TocsinApp
import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinRuntime

/// The general automaton walk's shortcuts: it keeps the leading partial matches an event leaves
/// unchanged where they are (``RuleMatcher/keepsUnchangedInPlace``) instead of copying them into
/// a new list; it evaluates a condition that reads no binding once per event; and where a
/// state's whole walk reads no binding, it walks once per state and event and has the key's
/// other partial matches waiting there perform the same effects (``MatcherScratch/Plan``). The
/// lists must come out exactly as the plain walk (copying, every condition per partial match,
/// every walk its own) builds them: same partial matches (states, starts, bound events) in the
/// same order, same held matches, same emitted matches, on every rule shape the language has.
final class WalkShortcutTests: XCTestCase {
  /// Steps after `begin a where type == "a"`, one rule per entry; each gets `within 8s` and a
  /// skip strategy drawn per round.
  private static let shapes: [String] = [
    "followed_by b where type == \"b\"",
    "followed_by b where type == \"b\" and amount > first.amount",
    "followed_by_any b where type == \"b\"",
    "followed_by_any b where type == \"b\" and amount != first.amount",
    "followed_by_any b where type == \"b\"\n    one_or_more\n  followed_by c where type == \"c\"",
    "followed_by_any b where type == \"b\"\n    times 2+\n  not_followed_by x where type == \"x\"\n"
      + "  followed_by c where type == \"c\"",
    "next b where type == \"b\"",
    "not_next x where type == \"x\"\n  followed_by b where type == \"b\"",
    "not_followed_by x where type == \"x\"\n  followed_by b where type == \"b\"",
    "not_followed_by x where type == \"x\"",
    "followed_by b where type == \"b\"\n    times 2+\n  followed_by c where type == \"c\"",
    "followed_by b where type == \"b\"\n    times 1..3\n    consecutive\n  followed_by c where type == \"c\"",
    "followed_by b where type == \"b\"\n    one_or_more\n    until type == \"x\"\n  followed_by c where type == \"c\"",
    "followed_by b where type == \"b\"\n    times 2+\n    greedy\n  followed_by c where type == \"c\"",
    "followed_by b where type == \"b\"\n    times 2+\n    allow_combinations\n  followed_by c where type == \"c\"",
    "followed_by b where type == \"b\"\n    optional\n  followed_by c where type == \"c\"",
    "followed_by (\n    begin b where type == \"b\"\n    next c where type == \"c\"\n  ) times 1..2\n  followed_by_any x where type == \"x\"",
    "followed_by b where type == \"b\"\n  followed_by c where type == \"c\"\n  within 3s between steps",
  ]
  private static let skips = ["", "skip to_next", "skip past_last_event", "skip to_first first", "skip to_last first"]

  private static func side(_ program: RuleProgram, shortcuts: Bool) -> MatcherHarness {
    let matcher = RuleMatcher(program: program, sharingRuns: false, cachingEventConditions: shortcuts)
    matcher.keepsUnchangedInPlace = shortcuts
    return MatcherHarness(matcher)
  }

  func testWalkShortcuts_BuildTheSameListsAsThePlainWalk() throws {
    var rng = SplitMix64(seed: 0x1A_91ACE)
    var kept = 0
    var shared = 0
    for round in 0..<360 {
      let shape = Self.shapes[round % Self.shapes.count]
      let skip = Self.skips.randomElement(using: &rng)!
      let text = "rule r\n  key user\n  begin first where type == \"a\"\n  \(shape)\n  within 8s\n  \(skip)\n"
      let programs = try XCTUnwrap(
        RuleSet.build([SourceFile(path: "r.tcs", text: text)], ingest: IngestOptions()).programs, text)
      let program = programs.rules[0]
      let inPlace = Self.side(program, shortcuts: true)
      let copying = Self.side(program, shortcuts: false)
      let typeSlot = try XCTUnwrap(programs.projection.existingSlot(for: FieldPath(["type"]))).index
      let amountSlot = programs.projection.existingSlot(for: FieldPath(["amount"]))?.index
      var time: Int64 = 0
      var trail: [String] = []
      var ok = true
      func compare(_ what: String) {
        guard inPlace.snapshot != copying.snapshot else { return }
        ok = false
        XCTFail(
          """
          round \(round), rule:
          \(text)after \(what); trail: \(trail.joined(separator: " "))
          shortcuts: \(inPlace.snapshot)
          plain:     \(copying.snapshot)
          """)
      }
      for sequence in 0..<Int.random(in: 1...50, using: &rng) where ok {
        let step = Int64.random(in: 0...2, using: &rng)
        if step > 0, Int.random(in: 0..<5, using: &rng) == 0 {
          let watermark = EventTime.milliseconds((time + Int64.random(in: 0..<step, using: &rng)) * 1000)
          trail.append("wm\(watermark.nanosecondsSinceEpoch / 1_000_000_000)")
          for side in [inPlace, copying] { side.matcher.advanceTime(to: watermark, &side.state, emit: side.record) }
          compare("a watermark")
        }
        time += step
        var slots = Array(repeating: Value.null, count: programs.projection.count)
        // Mostly `a` (new partial matches, and events that pass the open ones by).
        let type = ["a", "a", "a", "b", "c", "x", "y"].randomElement(using: &rng)!
        slots[typeSlot] = .string(type)
        if let amountSlot { slots[amountSlot] = .int(Int64.random(in: 0...4, using: &rng)) }
        let id = "\(type)\(sequence)"
        trail.append("\(id)@\(time)")
        let event = EventRecord(
          time: .milliseconds(time * 1000), sequence: UInt64(sequence), line: sequence + 1, identity: id,
          slots: EventSlots(slots))
        let before = inPlace.state.partials.withUnsafeBufferPointer { $0.baseAddress }
        // Partial matches that share a plan: a second or later one waiting in a state whose walk
        // reads no binding.
        var waiting: [StateID: Int] = [:]
        for partial in inPlace.state.partials where inPlace.matcher.sharesPlan[partial.state.index] {
          waiting[partial.state, default: 0] += 1
        }
        shared += waiting.values.reduce(0) { $0 + $1 - 1 }
        for side in [inPlace, copying] {
          side.matcher.process(event, &side.state, context: side.context, scratch: side.scratch, emit: side.record)
        }
        // The copying walk always hands the key a different buffer (the scratch's).
        if before != nil, inPlace.state.partials.withUnsafeBufferPointer({ $0.baseAddress }) == before { kept += 1 }
        compare("event \(id)")
      }
      guard ok else { return }
      for side in [inPlace, copying] { side.matcher.finish(&side.state, emit: side.record) }
      compare("the end of input")
      guard ok else { return }
    }
    // The streams do exercise the shortcuts: events after which the key kept its own array, and
    // partial matches that performed a plan another one's walk made.
    XCTAssertGreaterThan(kept, 1000)
    XCTAssertGreaterThan(shared, 1000)
  }
}

extension MatcherHarness {
  /// Everything compared: emitted matches, open and held partial matches, settling.
  fileprivate var snapshot: String {
    "emitted \(emitted) open \(Self.describe(state.partials)) held \(Self.describe(state.completed)) settled \(state.isSettled)"
  }
}
