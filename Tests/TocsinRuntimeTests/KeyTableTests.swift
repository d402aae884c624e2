import TocsinCore
import XCTest

@testable import TocsinRuntime

/// The key table's slot layout: keys packed inline (``InlineKey``) against keys compared through
/// the stored values, equal hashes, removal and reinsertion, copies.
final class KeyTableTests: XCTestCase {
  private func record(_ slots: [Value], at ms: Int64 = 0) -> EventRecord {
    EventRecord(time: .milliseconds(ms), sequence: 0, line: 1, identity: "e", slots: slots)
  }

  /// `n` in ten digits.
  private static func padded(_ n: Int) -> String {
    let digits = String(n)
    return String(repeating: "0", count: 10 - digits.count) + digits
  }

  func testSlotIsHalfACacheLine() {
    XCTAssertEqual(KeyTable.slotBytes, 32)
    XCTAssertEqual(MemoryLayout<InlineKey>.stride, 16)
  }

  func testPackMatchesAByteLoopForEveryLength() {
    var rng = SplitMix64(seed: 7)
    for n in 0...KeyHash.maxInlineBytes {
      for _ in 0..<20 {
        // Bytes 1...255: a zero byte would hide a wrong shift behind the zero padding.
        let bytes = (0..<n).map { _ in UInt8(1 + rng.next() % 255) }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for (i, b) in bytes.enumerated() {
          if i < 8 { low |= UInt64(b) << (8 * UInt64(i)) } else { high |= UInt64(b) << (8 * UInt64(i - 8)) }
        }
        let packed = bytes.withUnsafeBytes { KeyHash.pack($0) }
        XCTAssertEqual(packed.low, low, "length \(n): \(bytes)")
        XCTAssertEqual(packed.high, high, "length \(n): \(bytes)")
      }
    }
  }

  func testWhichValuesPackInline() {
    // (value, packs inline?)
    let cases: [(Value, Bool)] = [
      (.string(""), true),
      (.string("u089695"), true),
      (.string("fifteen-bytes!!"), true),  // 15 bytes
      (.string("sixteen-bytes!!!"), false),  // 16 bytes
      (.string("é€😀"), true),  // 2 + 3 + 4 = 9 UTF-8 bytes
      (.string("éééééé€"), true),  // 6 × 2 + 3 = 15 bytes
      (.string("ééééééé€"), false),  // 17 bytes
      (.string("😀😀😀x"), true),  // 13 bytes
      (.string("😀😀😀😀"), false),  // 16 bytes
      (.int(0), true),
      (.int(.min), true),
      (.bool(false), true),
      (.time(.milliseconds(5)), true),
      (.duration(.seconds(1)), true),
      (.float(1.5), false),
      (.list([.int(1)]), false),
      (.null, false),
    ]
    for (value, inline) in cases {
      let bytes: Int? = if case .string(let s) = value { s.utf8.count } else { nil }
      let expected = bytes.map { $0 <= 15 } ?? inline
      XCTAssertEqual(expected, inline, "table entry for \(value) disagrees with its length")
      XCTAssertEqual(value.keyHashAndInlineForm(seed: 1).inline.isInline, inline, "\(value)")
    }
  }

  func testInlineFormsOfDifferentValuesDiffer() {
    // Values whose payload bits agree (zero, "a" and "a\0", 1 and true) but are different keys.
    let values: [Value] = [
      .string(""), .string("\u{0}"), .string("a"), .string("a\u{0}"), .string("a\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"),
      .int(0), .int(1), .bool(false), .bool(true), .time(.milliseconds(0)), .duration(.seconds(0)),
      .string("12345678"), .string("123456789"), .string("é"), .string("e\u{301}"),
    ]
    for (i, a) in values.enumerated() {
      for (j, b) in values.enumerated() {
        let same = a.keyHashAndInlineForm(seed: 3).inline.isSame(as: b.keyHashAndInlineForm(seed: 3).inline)
        XCTAssertEqual(same, i == j, "\(a) vs \(b)")
      }
    }
  }

  /// Two-string keys pack when their bytes add up to at most 14, and the packed forms of
  /// different pairs differ, where splitting the same bytes differently or padding with NUL
  /// would make them collide in a naive packing.
  func testPairsOfStringsPackCanonically() {
    let pairs: [(String, String)] = [
      ("", ""), ("", "a"), ("a", ""), ("ab", "c"), ("a", "bc"), ("a\u{0}", "b"), ("a", "\u{0}b"), ("a", "b\u{0}"),
      ("a", "b"), ("ab", "\u{0}"), ("ab", ""),
      ("u012345", "DE"), ("u012345", "DEU"), ("u0123456", "DE"), ("é", "x"), ("e\u{301}", "x"),
      ("1234567", "1234567"), ("12345678901234", ""), ("", "12345678901234"),
    ]
    func packed(_ a: String, _ b: String) -> InlineKey? {
      var a = a
      var b = b
      return a.withUTF8 { x in b.withUTF8 { y in InlineKey(firstOf: x, second: y) } }
    }
    for (i, a) in pairs.enumerated() {
      // swift-format-ignore: NeverForceUnwrap
      // Every pair above fits (at most 14 bytes).
      let pa = packed(a.0, a.1)!
      XCTAssertTrue(pa.isInline, "\(a)")
      for (j, b) in pairs.enumerated() {
        XCTAssertEqual(pa.isSame(as: packed(b.0, b.1)!), i == j, "\(a) vs \(b)")
      }
    }
    XCTAssertNil(packed("12345678", "1234567"), "15 bytes")
    XCTAssertNil(packed("", "123456789012345"), "15 bytes")
  }

  /// A key hashed in place, out of an event's slots (``Value/keyHashAndInlineForm(at:seed:)``,
  /// which the arrival probes use to avoid copying the value), hashes and inlines exactly as the
  /// value passed by value does, for every case of value.
  func testKeyHashInPlace_AgreesWithTheValue() {
    let values: [Value] = [
      .string(""), .string("a"), .string("u089695"), .string("123456789012345"), .string("1234567890123456"),
      .string("zürich-ü"), .string(String(decoding: Array("c000217".utf8), as: UTF8.self)),
      .string(String(repeating: "long", count: 10)), .string("é"), .int(0), .int(-7), .int(.max),
      .bool(true), .float(-0.0), .float(2.5), .time(.milliseconds(5)), .duration(.seconds(1)),
      .list([.int(1), .string("x")]), .null,
    ]
    let slots = EventSlots(values)
    let table = KeyTable()
    for (i, value) in values.enumerated() {
      for seed: UInt64 in [0, 1, 0xDEAD_BEEF] {
        let inPlace = slots.withUnsafeValue(at: i) { Value.keyHashAndInlineForm(at: $0, seed: seed) }
        let byValue = value.keyHashAndInlineForm(seed: seed)
        XCTAssertEqual(inPlace.hash, byValue.hash, "\(value), seed \(seed)")
        XCTAssertTrue(inPlace.inline.isSame(as: byValue.inline), "\(value), seed \(seed)")
      }
      // The table's hasher reads a short string's bits (``SmallString``) where it can.
      let tableInPlace = slots.withUnsafeValue(at: i) { table.hasher.hashAndInlineForm(at: $0) }
      let tableByValue = table.hashAndInlineForm(value)
      XCTAssertEqual(tableInPlace.hash, tableByValue.hash, "\(value)")
      XCTAssertTrue(tableInPlace.inline.isSame(as: tableByValue.inline), "\(value)")
    }
    // A key of several fields hashed field by field in place (the arrival probes, and stored
    // keys for reclamation and pins) hashes as its values passed by value do, for every pair of
    // cases.
    for i in values.indices {
      for j in values.indices {
        let byValue = table.hasher.hash(count: 2) { [values[i], values[j]][$0] }
        let inPlace = table.hasher.hash(count: 2) { k, seed in
          slots.withUnsafeValue(at: [i, j][k]) { Value.keyHashAndInlineForm(at: $0, seed: seed).hash }
        }
        XCTAssertEqual(inPlace, byValue, "(\(values[i]), \(values[j]))")
      }
    }
  }

  /// One key space per shape of key: each key is found again under its id after growth,
  /// reclaiming half of them and reinterning them, and is stored inline exactly when expected.
  func testKeyShapesThroughInternReclaimAndReintern() {
    // (name, key fields, the n-th key, stored inline?)
    let shapes: [(String, Int, (Int) -> [Value], Bool)] = [
      ("15-byte strings", 1, { [.string("user-" + Self.padded($0))] }, true),
      ("16-byte strings", 1, { [.string("users-" + Self.padded($0))] }, false),
      ("non-ASCII strings", 1, { [.string("ü€\($0)")] }, true),
      ("ints", 1, { [.int(Int64($0) * 1_000_003)] }, true),
      ("floats", 1, { [.float(Double($0) + 0.5)] }, false),
      ("two fields", 2, { [.string("k\($0 % 5)"), .int(Int64($0))] }, false),
      ("two short strings", 2, { [.string("u\($0)"), .string(["DE", "FR", "U"][$0 % 3])] }, true),
      ("two strings of 15 bytes", 2, { [.string("u" + Self.padded($0)), .string("ABCD")] }, false),
    ]
    for (name, width, key, inline) in shapes {
      var space = KeySpace(slots: (0..<width).map { SlotIndex($0) })
      let n = 300
      for i in 0..<n { XCTAssertEqual(space.key(of: record(key(i)))?.index, i, name) }
      for i in 0..<n {
        let id = KeyID(i)
        XCTAssertEqual(space.table.inlineKey(hash: space.hash(of: id), id: id.rawValue)?.isInline, inline, "\(name) \(i)")
      }
      // Pin the even keys, reclaim the odd ones.
      for i in stride(from: 0, to: n, by: 2) { _ = space.key(of: record(key(i), at: Int64(i)), pinning: true) }
      for i in stride(from: 1, to: n, by: 2) { space.reclaim(KeyID(i)) }
      space.table.checkInvariants()
      for i in stride(from: 0, to: n, by: 2) {
        XCTAssertEqual(space.key(of: record(key(i))), KeyID(i), name)
        XCTAssertEqual(space.pin(KeyID(i)), .milliseconds(Int64(i)), name)
      }
      // The odd keys come back on the freed ids (last freed first), with no pin.
      for i in stride(from: n - 1, through: 1, by: -2) {
        let id = space.key(of: record(key(i)))
        XCTAssertEqual(id, KeyID(i), name)
        XCTAssertEqual(space.pin(KeyID(i)), .negativeInfinity, name)
      }
      XCTAssertEqual(space.count, n, name)
      space.table.checkInvariants()
    }
  }

  /// Keys with the same 32-bit hash (passed straight to the table) are told apart by their
  /// inline form or by `isKey`, never by the hash.
  func testKeysWithEqualHashes() {
    let hash: UInt64 = 0x1234_5678_0000_0001
    let a = InlineKey(payload: 1, tag: .int)
    let b = InlineKey(payload: 2, tag: .int)
    let c = InlineKey(payload: 3, tag: .int)
    var table = KeyTable()
    table.insert(hash: hash, id: 0, inline: a)
    table.insert(hash: hash, id: 1, inline: b)
    table.insert(hash: hash, id: 2)  // not inline: key "x"
    table.insert(hash: hash, id: 3)  // not inline: key "y"
    let stored: [UInt32: String] = [2: "x", 3: "y"]
    func find(_ s: String) -> UInt32? { table.lookup(hash: hash) { stored[$0] == s } }
    // (probe, expected id)
    let cases: [(String, InlineKey?, String?, UInt32?)] = [
      ("inline a", a, nil, 0),
      ("inline b", b, nil, 1),
      ("inline c: same hash, no such key", c, nil, nil),
      ("x", nil, "x", 2),
      ("y", nil, "y", 3),
      ("z: same hash, no such key", nil, "z", nil),
    ]
    for (name, inline, text, id) in cases {
      if let inline {
        XCTAssertEqual(table.lookup(hash: hash, inline: inline, pinningAt: nil), id, name)
      } else if let text {
        XCTAssertEqual(find(text), id, name)
      }
    }
    // An `isKey` that accepts everything still never matches an inline slot.
    XCTAssertEqual(table.lookup(hash: hash) { _ in true }, 2)
    // Remove and reinsert across the run of equal hashes.
    table.remove(hash: hash, id: 0)
    table.remove(hash: hash, id: 2)
    table.checkInvariants()
    XCTAssertNil(table.lookup(hash: hash, inline: a, pinningAt: nil))
    XCTAssertEqual(table.lookup(hash: hash, inline: b, pinningAt: .milliseconds(9)), 1)
    XCTAssertEqual(table.pin(hash: hash, id: 1), .milliseconds(9))
    XCTAssertNil(find("x"))
    XCTAssertEqual(find("y"), 3)
    table.insert(hash: hash, id: 0, inline: c)
    XCTAssertEqual(table.lookup(hash: hash, inline: c, pinningAt: nil), 0)
    XCTAssertEqual(table.count, 3)
    table.checkInvariants()
  }

  /// A copy of a table keeps its slots when the original is pinned, grown or shrunk.
  func testCopiesDoNotShareWrites() {
    var table = KeyTable()
    func key(_ i: Int) -> (UInt64, InlineKey) { table.hashAndInlineForm(.int(Int64(i))) }
    for i in 0..<10 {
      let (h, k) = key(i)
      table.insert(hash: h, id: UInt32(i), inline: k)
    }
    let copy = table
    let (h3, k3) = key(3)
    XCTAssertEqual(table.lookup(hash: h3, inline: k3, pinningAt: .milliseconds(1)), 3)
    table.remove(hash: key(4).0, id: 4)
    for i in 10..<100 {
      let (h, k) = key(i)
      table.insert(hash: h, id: UInt32(i), inline: k)
    }
    XCTAssertEqual(table.pin(hash: h3, id: 3), .milliseconds(1))
    XCTAssertEqual(copy.pin(hash: h3, id: 3), .negativeInfinity)
    XCTAssertEqual(copy.count, 10)
    XCTAssertEqual(copy.capacity, 64)
    XCTAssertEqual(copy.pin(hash: key(4).0, id: 4), .negativeInfinity)
    XCTAssertNotNil(copy.inlineKey(hash: key(4).0, id: 4))
    XCTAssertNil(table.inlineKey(hash: key(4).0, id: 4))
    XCTAssertNil(copy.inlineKey(hash: key(50).0, id: 50))
    copy.checkInvariants()
    table.checkInvariants()
  }

  /// Growing re-places every slot in the same block when no copy shares it, and in a new block
  /// when one does: either way every key stays reachable, including runs that wrapped past the
  /// old end (hashes given to the table directly, below 2^32, so each is its own slot hash).
  func testGrowthKeepsEveryKeyReachable() {
    var rng = SplitMix64(seed: 11)
    // (name, the n-th key's hash, keys)
    let layouts: [(String, (Int) -> UInt64, Int)] = [
      // Homes 62 and 63 of the first block: runs wrap to its first slots, and the next bits
      // split them between both halves at each doubling.
      ("runs wrapping past the end", { n in UInt64(n) << 6 | UInt64(62 + n % 2) }, 1500),
      // Homes at the end and at the start mixed in one run across the end.
      ("wrapped and unwrapped in one run", { n in UInt64(n) << 6 | (n % 3 == 0 ? 0 : 63) }, 1500),
      ("one home", { n in UInt64(n) << 6 | 5 }, 1000),
      ("spread", { _ in rng.next() & 0xFFFF_FFFF }, 20_000),
    ]
    for (name, hashOf, keys) in layouts {
      for sharing in [false, true] {
        var table = KeyTable()
        var copy: KeyTable?
        var hashes: [UInt64] = []
        for n in 0..<keys {
          let capacity = table.capacity
          // A copy held across the inserts that grow the table (at most half full).
          copy = sharing && (table.count + 1) * 2 > capacity ? table : nil
          let hash = hashOf(n)
          hashes.append(hash)
          table.insert(hash: hash, id: UInt32(n))
          if table.capacity != capacity {
            table.checkInvariants()
            copy?.checkInvariants()
            XCTAssertEqual(copy?.count, sharing ? n : nil, "\(name): the copy changed")
            XCTAssertEqual(copy?.capacity, sharing ? capacity : nil, "\(name): the copy changed")
          }
        }
        table.checkInvariants()
        XCTAssertEqual(table.count, keys, name)
        for (n, hash) in hashes.enumerated() {
          XCTAssertEqual(table.lookup(hash: hash) { $0 == UInt32(n) }, UInt32(n), "\(name), sharing \(sharing): key \(n)")
        }
      }
    }
  }

  /// Property: single-field keys of every shape, interned and reclaimed in any order, agree with
  /// a dictionary model (on a small table, so probe runs wrap and mix inline and other slots).
  func testMixedKeysAgreeWithAModel() {
    var rng = SplitMix64(seed: 99)
    func value(_ n: Int) -> Value {
      switch n % 4 {
      case 0: return .string("s\(n)")
      case 1: return .string("a-long-key-of-more-than-15-bytes-\(n)")
      case 2: return .int(Int64(n))
      default: return .float(Double(n) / 4)
      }
    }
    for round in 0..<10 {
      var space = KeySpace(slots: [SlotIndex(0)])
      var model: [Int: KeyID] = [:]
      let universe = 10 + round * 12
      for _ in 0..<2000 {
        let n = Int(rng.next() % UInt64(universe))
        if rng.next() % 3 == 0, let id = model[n] {
          space.reclaim(id)
          model[n] = nil
        } else if let id = space.key(of: record([value(n)])) {
          if let known = model[n] { XCTAssertEqual(id, known, "\(value(n))") } else { model[n] = id }
        } else {
          XCTFail("no key for \(value(n))")
        }
      }
      XCTAssertEqual(space.count, model.count)
      XCTAssertEqual(Set(model.values).count, model.count, "two live keys share an id")
      for (n, id) in model { XCTAssertEqual(Array(space.values(of: id)), [value(n)]) }
      space.table.checkInvariants()
    }
  }
}

extension KeyHasher {
  /// The hash of a key of `count` fields, the `i`th being `value(i)`, each passed by value: the
  /// definition the engine's in-place form (``hash(count:fieldHash:)`` over
  /// ``Value/keyHash(at:seed:)``) must agree with. Only the tests hash this way.
  func hash(count: Int, _ value: (Int) -> Value) -> UInt64 {
    hash(count: count) { i, seed in value(i).keyHash(seed: seed) }
  }
}
