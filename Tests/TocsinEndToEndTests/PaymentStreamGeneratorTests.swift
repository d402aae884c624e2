import Foundation
import TocsinApp
import TocsinCore
import XCTest

/// The seeded payment-stream generator: reproducibility, bounded disorder, and ground truth.
///
/// The ground-truth checks re-derive every rule's matches by brute force from the *lines* (parsed
/// by a tiny extractor below, independent of the generator's internals) and require them to be
/// exactly the injected cases: the background must never satisfy a rule on its own.
final class PaymentStreamGeneratorTests: XCTestCase {
  /// 20k events with a proportionate number of cases; spans are capped to fit (200 s of stream).
  private let small = PaymentStreamConfig(
    seed: 7, events: 20_000, users: 2_000, geoPairs: 30, velocityBursts: 30, bruteForceCases: 15,
    cardTestingCases: 15)

  private func lines(_ config: PaymentStreamConfig, arrivalSeed: UInt64? = nil) -> (
    [String], [InjectedCase]
  ) {
    var out: [String] = []
    out.reserveCapacity(config.events)
    let cases = PaymentStream.generate(config, arrivalSeed: arrivalSeed) { out.append($0) }
    return (out, cases)
  }

  // MARK: - Reproducibility and order

  func testGenerate_SameSeedSameLines() {
    let (a, casesA) = lines(small)
    let (b, casesB) = lines(small)
    XCTAssertEqual(a.count, small.events)
    XCTAssertEqual(a, b)
    XCTAssertEqual(casesA, casesB)
    var other = small
    other.seed = 8
    XCTAssertNotEqual(lines(other).0, a)
  }

  func testGenerate_ArrivalSeedReordersSameLines() {
    let (a, casesA) = lines(small)
    let (b, casesB) = lines(small, arrivalSeed: 99)
    XCTAssertNotEqual(a, b)
    XCTAssertEqual(a.sorted(), b.sorted())
    XCTAssertEqual(casesA, casesB)
  }

  func testGenerate_DisplacementBoundedByMaxDisorder() {
    for (disorder, arrivalSeed) in [(5_000, 1), (5_000, 2), (250, 3), (0, 4)] as [(Int64, UInt64)] {
      var config = small
      config.maxDisorder = .milliseconds(disorder)
      var latest = Int64.min
      var worst: Int64 = 0
      var outOfOrder = 0
      PaymentStream.generate(config, arrivalSeed: arrivalSeed) { line in
        let ts = Self.event(line).ts
        if ts < latest { outOfOrder += 1 }
        if latest != .min { worst = max(worst, latest - ts) }
        latest = max(latest, ts)
      }
      XCTAssertLessThanOrEqual(worst, disorder, "maxDisorder \(disorder) ms")
      if disorder == 0 {
        XCTAssertEqual(outOfOrder, 0)
      } else {
        XCTAssertGreaterThan(outOfOrder, 0, "maxDisorder \(disorder) ms should shuffle something")
      }
    }
  }

  func testGenerate_StampsDistinctIncreasingAndIDsInEventOrder() {
    let events = lines(small).0.map(Self.event).sorted { $0.ts < $1.ts }
    XCTAssertEqual(events.first?.id, "e0000001")
    XCTAssertEqual(events.last?.id, "e0020000")
    for (i, event) in events.enumerated() {
      XCTAssertEqual(
        event.id, "e" + String(repeating: "0", count: 7 - String(i + 1).count) + String(i + 1))
      if i > 0 { XCTAssertGreaterThan(event.ts, events[i - 1].ts) }
    }
    let start = small.start.millisecondsSinceEpoch
    XCTAssertGreaterThanOrEqual(events.first?.ts ?? 0, start)
    XCTAssertLessThan(events.last?.ts ?? .max, start + 10 * Int64(small.events))
  }

  func testGenerate_FieldOrderPerType() {
    let expected: [String: [String]] = [
      "purchase": [
        "id", "ts", "type", "user", "card", "amount", "currency", "merchant", "city", "lat", "lon",
        "geo", "country",
      ],
      "login": ["id", "ts", "type", "user", "ip", "city", "lat", "lon", "device"],
      "login_failed": ["id", "ts", "type", "user", "ip", "city", "lat", "lon", "device"],
      "logout": ["id", "ts", "type", "user", "device"],
      "page_view": ["id", "ts", "type", "user", "device", "page"],
    ]
    var seen: Set<String> = []
    for line in lines(small).0 {
      let type = Self.event(line).type
      seen.insert(type)
      XCTAssertEqual(Self.keys(line), expected[type], line)
      XCTAssertTrue(line.hasPrefix("{") && line.hasSuffix("}"), line)
    }
    XCTAssertEqual(seen, Set(expected.keys))
  }

  // MARK: - Cases and ground truth

  func testGenerate_CaseCountsAndShapes() {
    let (_, cases) = lines(small)
    let byKind = Dictionary(grouping: cases, by: \.kind)
    XCTAssertEqual(byKind[.geoImpossible]?.count, 30)
    XCTAssertEqual(byKind[.velocityBurst]?.count, 30)
    XCTAssertEqual(byKind[.bruteForce]?.count, 15)
    XCTAssertEqual(byKind[.cardTesting]?.count, 15)
    for injected in cases {
      switch injected.kind {
      case .geoImpossible: XCTAssertEqual(injected.eventIDs.count, 2)
      case .velocityBurst: XCTAssertEqual(injected.eventIDs.count, 12)
      case .bruteForce: XCTAssertTrue((6...9).contains(injected.eventIDs.count))
      case .cardTesting: XCTAssertEqual(injected.eventIDs.count, 4)
      }
      XCTAssertEqual(injected.eventIDs, injected.eventIDs.sorted())
    }
    let allIDs = cases.flatMap(\.eventIDs)
    XCTAssertEqual(Set(allIDs).count, allIDs.count, "cases share no events")
    XCTAssertEqual(Set(cases.map { "\($0.kind):\($0.key)" }).count, cases.count)
  }

  func testGenerate_DefaultCaseCounts() {
    let config = PaymentStreamConfig(events: 100_000, users: 20_000)
    let cases = PaymentStream.generate(config) { _ in }
    let counts = Dictionary(grouping: cases, by: \.kind).mapValues(\.count)
    XCTAssertEqual(
      counts, [.geoImpossible: 300, .velocityBurst: 300, .bruteForce: 100, .cardTesting: 100])
  }

  func testGenerate_RulesMatchExactlyTheInjectedCases() {
    for seed in [7, 1234] as [UInt64] {
      var config = small
      config.seed = seed
      checkGroundTruth(config)
    }
  }

  /// The same check on the full default stream (1M events, nominal case durations); opt-in.
  func testGenerate_DefaultStreamMatchesExactlyTheInjectedCases() throws {
    guard ProcessInfo.processInfo.environment["TOCSIN_GENERATOR_BENCH"] == "1" else {
      throw XCTSkip("set TOCSIN_GENERATOR_BENCH=1 to check the 1M-event default stream")
    }
    checkGroundTruth(PaymentStreamConfig())
  }

  /// Re-derives every rule's matches from the lines and compares them with the injected cases.
  private func checkGroundTruth(
    _ config: PaymentStreamConfig, file: StaticString = #filePath, line: UInt = #line
  ) {
    let label = "seed \(config.seed), \(config.events) events"
    let (out, cases) = lines(config)
    let events = out.map(Self.event).sorted { $0.ts < $1.ts }
    let expected = Dictionary(grouping: cases, by: \.kind).mapValues { group in
      Set(group.map { [$0.key] + $0.eventIDs })
    }
    XCTAssertEqual(expected.count, InjectedCase.Kind.allCases.count, label, file: file, line: line)
    XCTAssertEqual(Self.geoMatches(events), expected[.geoImpossible], label, file: file, line: line)
    XCTAssertEqual(
      Self.velocityMatches(events), expected[.velocityBurst], label, file: file, line: line)
    XCTAssertEqual(
      Self.bruteForceMatches(events), expected[.bruteForce], label, file: file, line: line)
    XCTAssertEqual(
      Self.cardTestingMatches(events), expected[.cardTesting], label, file: file, line: line)
  }

  func testGenerate_BackgroundLimits() {
    let (out, cases) = lines(small)
    let injected = Set(cases.flatMap(\.eventIDs))
    var perCard: [String: Int] = [:]
    var failuresPerUser: [String: Int] = [:]
    for event in out.map(Self.event) where !injected.contains(event.id) {
      if event.type == "purchase" {
        XCTAssertTrue((2...9_000).contains(event.amount ?? -1), "background amount \(event.id)")
        perCard[event.card ?? "", default: 0] += 1
      }
      if event.type == "login_failed" { failuresPerUser[event.user, default: 0] += 1 }
    }
    XCTAssertLessThanOrEqual(perCard.values.max() ?? 0, 6)
    XCTAssertLessThanOrEqual(failuresPerUser.values.max() ?? 0, 2)
  }

  // MARK: - Brute-force rule checks over parsed events

  /// Pairs of purchases over 10000 of one user, ≥ 500 km apart, the second < 10 minutes later.
  private static func geoMatches(_ events: [TestEvent]) -> Set<[String]> {
    var result: Set<[String]> = []
    let large = Dictionary(
      grouping: events.filter { $0.type == "purchase" && ($0.amount ?? 0) > 10_000 }, by: \.user)
    for (user, purchases) in large {
      for (i, a) in purchases.enumerated() {
        for b in purchases[(i + 1)...] where b.ts - a.ts < 600_000 {
          if distanceKm(a, b) >= 500 { result.insert([user, a.id, b.id]) }
        }
      }
    }
    return result
  }

  /// Cards with ≥ 10 purchases inside one hour, with all their purchases.
  private static func velocityMatches(_ events: [TestEvent]) -> Set<[String]> {
    var result: Set<[String]> = []
    let byCard = Dictionary(
      grouping: events.filter { $0.type == "purchase" }, by: { $0.card ?? "" })
    for (card, purchases) in byCard where purchases.count >= 10 {
      let fires = (0...(purchases.count - 10)).contains {
        purchases[$0 + 9].ts - purchases[$0].ts < 3_600_000
      }
      if fires { result.insert([card] + purchases.map(\.id)) }
    }
    return result
  }

  /// Users with ≥ 5 failed logins followed by a login, all within 10 minutes, with those events.
  private static func bruteForceMatches(_ events: [TestEvent]) -> Set<[String]> {
    var result: Set<[String]> = []
    let logins = events.filter { $0.type == "login" || $0.type == "login_failed" }
    for (user, mine) in Dictionary(grouping: logins, by: \.user) {
      for (i, success) in mine.enumerated() where success.type == "login" {
        let failures = mine[..<i].filter {
          $0.type == "login_failed" && success.ts - $0.ts < 600_000
        }
        if failures.count >= 5 { result.insert([user] + failures.map(\.id) + [success.id]) }
      }
    }
    return result
  }

  /// Cards with 3 purchases under 2 followed by one over 500 within 15 minutes; with those events.
  private static func cardTestingMatches(_ events: [TestEvent]) -> Set<[String]> {
    var result: Set<[String]> = []
    let byCard = Dictionary(
      grouping: events.filter { $0.type == "purchase" }, by: { $0.card ?? "" })
    for (card, purchases) in byCard {
      let small = purchases.filter { ($0.amount ?? 0) < 2 }
      guard small.count >= 3 else { continue }
      let probes = Array(small.prefix(3))
      if let big = purchases.first(where: { ($0.amount ?? 0) > 500 && $0.ts > probes[2].ts }),
        big.ts - probes[0].ts < 900_000
      {
        result.insert([card] + probes.map(\.id) + [big.id])
      }
    }
    return result
  }

  private static func distanceKm(_ a: TestEvent, _ b: TestEvent) -> Double {
    let r = Double.pi / 180
    let (lat1, lon1, lat2, lon2) = (a.lat ?? 0, a.lon ?? 0, b.lat ?? 0, b.lon ?? 0)
    let h =
      pow(sin((lat2 - lat1) * r / 2), 2) + cos(lat1 * r) * cos(lat2 * r)
      * pow(sin((lon2 - lon1) * r / 2), 2)
    return 2 * 6371.0088 * asin(min(1, h.squareRoot()))
  }

  // MARK: - A tiny extractor for the generator's own flat lines

  private struct TestEvent {
    var id: String
    var ts: Int64
    var type: String
    var user: String
    var card: String?
    var amount: Int?
    var lat: Double?
    var lon: Double?
  }

  private static func event(_ line: String) -> TestEvent {
    TestEvent(
      id: field(line, "id") ?? "", ts: field(line, "ts").flatMap { Int64($0) } ?? -1,
      type: field(line, "type") ?? "", user: field(line, "user") ?? "", card: field(line, "card"),
      amount: field(line, "amount").flatMap { Int($0) },
      lat: field(line, "lat").flatMap { Double($0) },
      lon: field(line, "lon").flatMap { Double($0) })
  }

  /// The raw value of `"name":` — a string's contents, or the text up to `,` or `}`.
  private static func field(_ line: String, _ name: String) -> String? {
    guard let key = line.range(of: "\"\(name)\":") else { return nil }
    let rest = line[key.upperBound...]
    if rest.first == "\"" {
      let body = rest.dropFirst()
      return String(body.prefix { $0 != "\"" })
    }
    return String(rest.prefix { $0 != "," && $0 != "}" })
  }

  /// Every object key, in order of appearance.
  private static func keys(_ line: String) -> [String] {
    var result: [String] = []
    var rest = Substring(line)
    while let quote = rest.firstIndex(of: "\"") {
      let after = rest[rest.index(after: quote)...]
      guard let end = after.firstIndex(of: "\"") else { break }
      let token = String(after[..<end])
      rest = after[after.index(after: end)...]
      if rest.first == ":" { result.append(token) }
    }
    return result
  }
}
