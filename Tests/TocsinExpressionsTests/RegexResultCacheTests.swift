import TocsinCore
import XCTest

@testable import TocsinExpressions

/// ``RegexResultCache``: a short subject's result comes from the table after its first run, and
/// is always what a run gives.
final class RegexResultCacheTests: XCTestCase {
  /// What `pattern` gives `subject` from a regex that has never seen it (so it runs).
  private func fresh(_ pattern: String, _ subject: String, group: Int?) throws -> String {
    let regex = try CompiledRegex(pattern)
    return describe(regex, subject, group: group)
  }

  private func describe(_ regex: CompiledRegex, _ subject: String, group: Int?) -> String {
    guard let group else { return "\(regex.matches(subject))" }
    return "\(regex.extract(subject, group: group))"
  }

  func testShortSubjects_RunOnce_AndGetWhatARunGives() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not in the small form here")
    let rows: [(pattern: String, subjects: [String], group: Int?)] = [
      ("^/(account|cards|transfers)$", ["/account", "/cards", "/", "/help", "/account\n", ""], nil),
      ("^m([0-9]{2})[0-9]{2}$", ["m1234", "m0099", "m12345", "x1234", "m12"], 1),
      ("^m([0-9]{2})[0-9]{2}$", ["m1234", "m0099"], 0),
      // A group that took no part, and a group past the pattern's.
      ("(a)|b", ["b", "a", "c"], 1),
      ("(a)|b", ["a", "b"], 7),
      // Non-ASCII subjects and groups (still short: at most 15 UTF-8 bytes).
      ("(ü)r", ["Zürich", "Zurich"], 1),
      ("^(.)", ["é", "éa", "a"], 1),
      ("x", ["", "x", "yxy"], nil),
    ]
    for row in rows {
      let regex = try CompiledRegex(row.pattern)
      for subject in row.subjects {
        let expected = try fresh(row.pattern, subject, group: row.group)
        XCTAssertEqual(describe(regex, subject, group: row.group), expected, "\(row.pattern) on \(subject.debugDescription)")
        let runs = regex.runCount
        XCTAssertEqual(describe(regex, subject, group: row.group), expected, "\(row.pattern) on \(subject.debugDescription), again")
        XCTAssertEqual(regex.runCount, runs, "\(row.pattern) on \(subject.debugDescription): the second call ran the regex")
      }
    }
  }

  func testLongSubjects_RunEveryTime() throws {
    let regex = try CompiledRegex("b+")
    for subject in ["abbbbbbbbbbbbbbbbbbbc", "no match in this long subject"] {
      let runs = regex.runCount
      _ = regex.matches(subject)
      _ = regex.matches(subject)
      _ = regex.extract(subject, group: 0)
      XCTAssertEqual(regex.runCount, runs + 3, subject)
    }
  }

  func testMatchesAndExtracts_OfOneSubject_AreKeptApart() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not in the small form here")
    let regex = try CompiledRegex("^(a)(b)?")
    XCTAssertEqual(regex.matches("ac"), .matched)
    XCTAssertEqual(regex.extract("ac", group: 1), .matched("a"))
    XCTAssertEqual(regex.extract("ac", group: 2), .matched(nil))
    XCTAssertEqual(regex.extract("ac", group: 0), .matched("a"))
    XCTAssertEqual(regex.extract("abc", group: 0), .matched("ab"))
    XCTAssertEqual(regex.extract("ac", group: 1), .matched("a"))
    XCTAssertEqual(regex.matches("ac"), .matched)
  }

  /// Two groups of one subject that share an entry: each finds only its own result there.
  func testOperationsSharingAnEntry_AreKeptApart() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not in the small form here")
    // swift-format-ignore: NeverForceUnwrap
    // One subject in ~4,096 has groups 1 and 2 in one entry; 100,000 hold several.
    let subject = (0..<100_000).lazy.map { "a\($0)" }.first {
      RegexResultCache.index(SmallString.bits(of: $0), operation: 2)
        == RegexResultCache.index(SmallString.bits(of: $0), operation: 3)
    }!
    let regex = try CompiledRegex("^(a)(b)?")
    XCTAssertEqual(regex.extract(subject, group: 1), .matched("a"))
    XCTAssertEqual(regex.extract(subject, group: 2), .matched(nil))
    XCTAssertEqual(regex.extract(subject, group: 1), .matched("a"))
    XCTAssertEqual(regex.extract(subject, group: 2), .matched(nil))
  }

  /// Thousands of subjects share the table's entries: evicted and found again, every result is
  /// still a run's.
  func testManySubjects_ShareEntries_AndStayCorrect() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not in the small form here")
    let extracting = try CompiledRegex("^m([0-9]{2})[0-9]{2}$")
    let matching = try CompiledRegex("^m([0-9]{2})[0-9]{2}$")
    let subjects = (0..<3000).map { i in (i % 7 == 0 ? "x" : "m") + String(format: "%04d", i * 3) }
    var calls = 0
    for round in 0..<4 {
      for subject in subjects {
        let digits = Array(subject.utf8.dropFirst())
        let matches = subject.hasPrefix("m") && digits.count == 4
        let group = String(decoding: digits.prefix(2), as: UTF8.self)
        XCTAssertEqual(extracting.extract(subject, group: 1), matches ? .matched(group) : .notMatched, "\(subject), round \(round)")
        XCTAssertEqual(matching.matches(subject), matches ? .matched : .notMatched, "\(subject), round \(round)")
        calls += 1
      }
    }
    // 3,000 subjects in 4,096 entries, four times over: the first round runs every one; in the
    // later rounds a subject alone in its entry is a hit (e^-0.73 ≈ 48% of them), the others
    // evict each other (taken in turn, as here, they never find their entry still theirs).
    for regex in [extracting, matching] {
      XCTAssertLessThan(regex.runCount, subjects.count + subjects.count * 3 * 6 / 10)
      XCTAssertGreaterThan(regex.runCount, subjects.count)
    }
  }

  /// A field that never repeats (an id per event) gains nothing from the table: after a review
  /// finds under a quarter of its lookups were hits, the regex runs every time.
  func testUnprofitableTable_IsDropped() throws {
    try XCTSkipUnless(SmallString.isAvailable, "short strings are not in the small form here")
    let regex = try CompiledRegex("^e[0-9]+$")
    for i in 0..<(RegexResultCache.reviewEvery + 10) {
      XCTAssertEqual(regex.matches("e\(i)"), .matched)
    }
    let runs = regex.runCount
    XCTAssertEqual(regex.matches("e1"), .matched)
    XCTAssertEqual(regex.matches("e1"), .matched)
    XCTAssertEqual(regex.runCount, runs + 2, "the table was kept")
  }

  /// A run that hit the match limit is not kept: each call is counted again by its caller.
  func testLimitExceeded_IsNotKept() throws {
    let regex = try CompiledRegex("((a+)+)+$")
    let subject = "aaaaaaaaaaaaaab"  // 15 bytes: short
    let runs = regex.runCount
    XCTAssertEqual(regex.matches(subject), .limitExceeded)
    XCTAssertEqual(regex.matches(subject), .limitExceeded)
    XCTAssertEqual(regex.extract(subject, group: 1), .limitExceeded)
    XCTAssertEqual(regex.runCount, runs + 3)
  }
}
