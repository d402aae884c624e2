import Foundation
import TocsinAutomaton
import TocsinCore
import XCTest

@testable import TocsinRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// Blocks advised to use transparent huge pages (``HugePages``): alignment, every byte usable,
/// freed with `deallocate()`, and the structures that use them working past a huge page.
final class HugePagesTests: XCTestCase {
  /// Blocks of a huge page or more: a mapping of their own, aligned to 2 MiB, every byte usable
  /// (and zeroed), and gone from the address space once freed.
  func testBlocksOfAHugePageOrMoreAreMappingsOnAHugePage() {
    for bytes in [HugePages.pageBytes, HugePages.pageBytes + 1, 3 * HugePages.pageBytes + 4096] {
      let block = HugePages.allocate(byteCount: bytes, alignment: 64)
      XCTAssertEqual(UInt(bitPattern: block) % UInt(HugePages.pageBytes), 0, "\(bytes) bytes")
      XCTAssertEqual(block.load(fromByteOffset: bytes - 1, as: UInt8.self), 0, "a fresh mapping reads as zeros")
      fill(block, bytes)
      check(block, bytes)
      XCTAssertTrue(isMapped(block, bytes), "\(bytes) bytes")
      HugePages.deallocate(block, byteCount: bytes)
      XCTAssertFalse(isMapped(block, bytes), "\(bytes) bytes: still mapped after deallocate")
    }
  }

  /// `TOCSIN_HUGE_PAGES` decides when set to a yes or a no; otherwise the machine does: blocks
  /// are advised from the start unless it reports free pages to its host, and then after the
  /// warm-up (the machine asked only when the switch leaves it the choice).
  func testPolicy_ByTableOfCases() {
    // (switch, machine reports free pages, advice, reason, machine asked)
    let cases: [(String?, Bool, HugePages.Policy.Advice, HugePages.Policy.Reason, Bool)] = [
      (nil, false, .atOnce, .standard, true),
      (nil, true, .afterWarmUp, .freePageReporting, true),
      ("", true, .afterWarmUp, .freePageReporting, true),
      ("auto", false, .atOnce, .standard, true),
      ("1", true, .atOnce, .switchedOn, false),
      ("ON", true, .atOnce, .switchedOn, false),
      ("yes", false, .atOnce, .switchedOn, false),
      ("0", false, .never, .switchedOff, false),
      ("off", true, .never, .switchedOff, false),
      ("False", false, .never, .switchedOff, false),
    ]
    for (value, reports, advice, reason, asks) in cases {
      var asked = false
      let policy = HugePages.Policy.decide(
        switchValue: value,
        reportsFreePages: {
          asked = true
          return reports
        }())
      XCTAssertEqual(policy, HugePages.Policy(advice: advice, reason: reason), "\(value ?? "unset"), reports \(reports)")
      XCTAssertEqual(asked, asks, "\(value ?? "unset"): machine asked")
    }
  }

  /// Free page reporting is read from the virtio devices: a balloon (`0x0005`) whose feature
  /// bit 5 (`VIRTIO_BALLOON_F_REPORTING`) is set. Each case is a directory laid out as
  /// `/sys/bus/virtio/devices` is.
  func testReportsFreePages_FromTheBalloonsFeatureBits() throws {
    #if !os(Linux)
      throw XCTSkip("read from Linux's sysfs only")
    #endif
    // This machine's (a Firecracker VM): the balloon's features, bit 0 first.
    let reporting = "0110010100000000000000000000000010000000"
    let cases: [([(device: String, features: String)], Bool, String)] = [
      ([("0x0005", reporting)], true, "a balloon that reports"),
      ([("0x0002", "0010001001100100"), ("0x0005", reporting)], true, "a block device, then the balloon"),
      ([("0x0005", "0110000100000000")], false, "a balloon without bit 5"),
      ([("0x0002", reporting)], false, "bit 5 of a block device (another meaning)"),
      ([("0x0005", "01100")], false, "a features string too short for bit 5"),
      ([], false, "no virtio devices"),
    ]
    for (devices, expected, why) in cases {
      let root = FileManager.default.temporaryDirectory.appendingPathComponent("virtio-\(UUID().uuidString)")
      defer { try? FileManager.default.removeItem(at: root) }
      for (index, device) in devices.enumerated() {
        let directory = root.appendingPathComponent("virtio\(index)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (device.device + "\n").write(to: directory.appendingPathComponent("device"), atomically: true, encoding: .utf8)
        try (device.features + "\n").write(to: directory.appendingPathComponent("features"), atomically: true, encoding: .utf8)
      }
      try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
      XCTAssertEqual(HugePages.Policy.reportsFreePages(devices: root.path), expected, why)
    }
    XCTAssertFalse(HugePages.Policy.reportsFreePages(devices: "/nonexistent/virtio"), "no such directory")
  }

  /// A block of a huge page or more carries the huge-page advice (`hg` in its `VmFlags`) exactly
  /// when blocks are advised: under this process's policy from the start, or once
  /// ``HugePages/startAdvising()`` has been called (as a run does after the warm-up), when the
  /// blocks mapped before are advised too; never under `TOCSIN_HUGE_PAGES=0`.
  func testBlocksAreAdvisedAsThePolicySays() throws {
    #if os(Linux)
      let bytes = 2 * HugePages.pageBytes
      let before = HugePages.isAdvising
      switch HugePages.policy.advice {
      case .atOnce: XCTAssertTrue(before)
      case .never: XCTAssertFalse(before)
      case .afterWarmUp: break  // not until startAdvising(), which this test calls
      }
      let block = HugePages.allocate(byteCount: bytes, alignment: 64)
      XCTAssertEqual(try vmFlags(block).contains("hg"), before, "policy: \(HugePages.policy)")
      let grown = HugePages.reallocate(block, from: bytes, to: 2 * bytes, alignment: 64)
      XCTAssertEqual(try vmFlags(grown).contains("hg"), before, "grown; policy: \(HugePages.policy)")
      HugePages.startAdvising()
      let advising = HugePages.policy.advice != .never
      XCTAssertEqual(HugePages.isAdvising, advising)
      XCTAssertEqual(try vmFlags(grown).contains("hg"), advising, "mapped before the switch; policy: \(HugePages.policy)")
      let later = HugePages.allocate(byteCount: bytes, alignment: 64)
      XCTAssertEqual(try vmFlags(later).contains("hg"), advising, "mapped after the switch; policy: \(HugePages.policy)")
      HugePages.deallocate(later, byteCount: bytes)
      HugePages.deallocate(grown, byteCount: 2 * bytes)
    #endif
  }

  func testSmallerBlocksKeepTheAlignmentAskedFor() {
    for (bytes, alignment) in [(1, 8), (4096, 64), (HugePages.pageBytes - 1, 64), (100_000, 4096)] {
      let block = HugePages.allocate(byteCount: bytes, alignment: alignment)
      XCTAssertEqual(UInt(bitPattern: block) % UInt(alignment), 0, "\(bytes) bytes at \(alignment)")
      fill(block, bytes)
      check(block, bytes)
      HugePages.deallocate(block, byteCount: bytes)
    }
  }

  /// A grown block keeps its bytes and reads as zeros after them, whether it was copied (below a
  /// huge page, or crossing into one) or remapped (in place, or moved to a new aligned range when
  /// the addresses after it are taken), and a block of a huge page or more stays aligned to one.
  func testReallocateKeepsTheBytesAndZeroesTheRest() {
    let page = HugePages.pageBytes
    // (name, old bytes, new bytes, whether to map something right after the old block first)
    let cases: [(String, Int, Int, Bool)] = [
      ("small to small", 100, 5000, false),
      ("small to a huge page", 4096, page + 1, false),
      ("huge pages, in place if free", page, 3 * page + 4096, false),
      ("huge pages, moved", 2 * page, 4 * page, true),
      ("same size", page + 8, page + 8, false),
    ]
    for (name, old, new, blocked) in cases {
      let block = HugePages.allocate(byteCount: old, alignment: 64)
      fill(block, old)
      // A page mapped where the block would grow (or a mapping already there): `mremap` cannot
      // extend it in place.
      var blocker: UnsafeMutableRawPointer?
      if blocked {
        let after = block + old
        let mapped = mmap(after, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | 0x10_0000, -1, 0)  // MAP_FIXED_NOREPLACE
        if let mapped, mapped != MAP_FAILED { blocker = mapped }
        XCTAssertTrue(blocker == after || isMapped(after, 4096), "\(name): the address after the block is free")
      }
      let grown = HugePages.reallocate(block, from: old, to: new, alignment: 64)
      XCTAssertEqual(UInt(bitPattern: grown) % 64, 0, name)
      if new >= page { XCTAssertEqual(UInt(bitPattern: grown) % UInt(page), 0, name) }
      if blocked { XCTAssertNotEqual(grown, block, "\(name): grew in place over a mapping") }
      check(grown, old)
      let tail = (grown + old).assumingMemoryBound(to: UInt8.self)
      XCTAssertTrue((0..<(new - old)).allSatisfy { tail[$0] == 0 }, "\(name): the added bytes are not zero")
      fill(grown, new)
      check(grown, new)
      if let blocker {
        XCTAssertTrue(isMapped(blocker, 4096), "\(name): the mapping after the old block was replaced")
        munmap(blocker, 4096)
      }
      HugePages.deallocate(grown, byteCount: new)
      if new >= page { XCTAssertFalse(isMapped(grown, new), "\(name): still mapped after deallocate") }
    }
  }

  /// A block of a huge page or more is one mapping from end to end, after it is allocated and
  /// after each growth, whatever its length: `mremap` grows only a range inside one mapping, and
  /// advice on part of a block split it in two (a run queue's 56-byte entries make blocks of 3.5,
  /// 7, 14 MiB …, each then copied into a new mapping at every doubling).
  func testABlockStaysOneMappingSoItGrowsWithoutACopy() throws {
    #if os(Linux)
      let page = HugePages.pageBytes
      for (old, new) in [(56 << 16, 56 << 17), (24 << 17, 24 << 18), (page + 4096, 3 * page + 8192), (2 * page, 4 * page)] {
        let block = HugePages.allocate(byteCount: old, alignment: 64)
        XCTAssertEqual(try mappings(block, old), 1, "\(old) bytes: allocated")
        fill(block, old)
        let grown = HugePages.reallocate(block, from: old, to: new, alignment: 64)
        XCTAssertEqual(try mappings(grown, new), 1, "\(old) → \(new) bytes: grown")
        check(grown, old)
        fill(grown, new)
        let again = HugePages.reallocate(grown, from: new, to: 2 * new, alignment: 64)
        XCTAssertEqual(try mappings(again, 2 * new), 1, "\(new) → \(2 * new) bytes: grown again")
        check(again, new)
        HugePages.deallocate(again, byteCount: 2 * new)
      }
    #endif
  }

  /// A key table grown well past a huge page (its storage comes from ``HugePages``, each old one
  /// freed as it grows) still finds every key under the id it was given.
  func testKeyTableGrownPastHugePages() {
    var space = KeySpace(slots: [SlotIndex(0)])
    let keys = 200_000
    var ids: [KeyID] = []
    ids.reserveCapacity(keys)
    for n in 0..<keys {
      guard let id = space.key(of: record("k\(n)")) else { return XCTFail("no key for k\(n)") }
      ids.append(id)
    }
    XCTAssertGreaterThan(KeyTable.slotBytes * keys, 2 * HugePages.pageBytes)
    XCTAssertEqual(Set(ids).count, keys)
    for n in stride(from: 0, to: keys, by: 7) { XCTAssertEqual(space.key(of: record("k\(n)")), ids[n]) }
    space.table.checkInvariants()
  }

  /// A key space grown well past a huge page: its key values (heap strings and ints, which move
  /// with their block) and its open masks grow where they lie, and every key keeps its id, its
  /// values, its text (made before or after the growth) and its open bits; reclaimed ids are
  /// reused with none of the old key's.
  func testKeySpaceGrownPastHugePages() {
    var space = KeySpace(slots: [SlotIndex(0), SlotIndex(1)])
    func event(_ n: Int) -> EventRecord {
      EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e",
        slots: [.string("a user of more than fifteen bytes \(n)"), .int(Int64(n))])
    }
    let keys = 300_000
    var early: [KeyID: String] = [:]
    for n in 0..<keys {
      // swift-format-ignore: NeverForceUnwrap
      // Both fields are present.
      let id = space.key(of: event(n))!
      XCTAssertEqual(id.index, n)
      if n % 1000 == 7 {
        space.setOpen(true, rule: n % 64, key: id)
        // Made while the blocks are small, read back after they have grown.
        if n < 10_000 { early[id] = space.text(of: id) }
      }
    }
    XCTAssertGreaterThan(MemoryLayout<Value>.stride * 2 * keys, 2 * HugePages.pageBytes)
    XCTAssertGreaterThan(MemoryLayout<UInt64>.stride * keys, HugePages.pageBytes)
    for n in stride(from: 0, to: keys, by: 97) {
      XCTAssertEqual(space.key(of: event(n)), KeyID(n))
      XCTAssertEqual(space.values(of: KeyID(n)), [.string("a user of more than fifteen bytes \(n)"), .int(Int64(n))])
      XCTAssertEqual(space.openRules(KeyID(n)), n % 1000 == 7 ? 1 << UInt64(n % 64) : 0, "\(n)")
    }
    for (id, text) in early { XCTAssertEqual(space.text(of: id), text) }
    XCTAssertEqual(space.text(of: KeyID(keys - 1)), "a user of more than fifteen bytes \(keys - 1)|\(keys - 1)")
    XCTAssertEqual(space.openKeys, keys / 1000)
    // A reclaimed key's id goes to the next new key, with its values and text, not the old ones.
    space.setOpen(false, rule: 7, key: KeyID(7))
    space.reclaim(KeyID(7))
    space.reclaim(KeyID(keys - 1))
    XCTAssertTrue(space.isFree(KeyID(7)))
    XCTAssertNil(space.find(event(7)))
    let reused = space.key(of: EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: [.string("new"), .int(-1)]))
    XCTAssertEqual(reused, KeyID(keys - 1))
    XCTAssertEqual(space.key(of: event(keys)), KeyID(7))
    XCTAssertEqual(space.text(of: KeyID(keys - 1)), "new|-1")
    XCTAssertEqual(space.text(of: KeyID(7)), "a user of more than fifteen bytes \(keys)|\(keys)")
    XCTAssertEqual(space.openRules(KeyID(7)), 0)
    XCTAssertEqual(space.count, keys)
    XCTAssertEqual(space.idCount, keys)
  }

  /// A run queue grown well past a huge page (its entries and kept values move into blocks from
  /// ``HugePages`` at each doubling) keeps every entry, its links, its values and its identity
  /// (short ones, kept as bits, and long ones, which hold a reference).
  func testRunQueueGrownPastHugePages() {
    func identity(_ i: Int) -> String { i % 3 == 0 ? "an event identity of more than fifteen bytes \(i)" : "e\(i)" }
    let queue = RunQueue(within: .seconds(3600), needed: 1, keptSlots: [SlotIndex(0)], slotCount: 1)
    let keys = 500
    let events = 100_000
    for i in 0..<events {
      let k = i % keys
      queue.ensureKey(k)
      // Longer than a small string: every kept value holds a reference that must move intact.
      let value = Value.string("a value of more than fifteen bytes \(i)")
      queue.append(
        EventRecord(time: .milliseconds(Int64(i)), sequence: UInt64(i), line: i + 1, identity: identity(i), slots: [value]),
        key: k)
    }
    XCTAssertGreaterThan(events * 56, 2 * HugePages.pageBytes)
    XCTAssertEqual(queue.live, events)
    for k in [0, 1, 250, 499] {
      let live = queue.liveEntries(key: k)
      XCTAssertEqual(live.count, events / keys, "key \(k)")
      for (n, s) in live.enumerated() where n % 37 == 0 {
        let i = n * keys + k
        XCTAssertEqual(queue.keptValues(s).pointee, .string("a value of more than fifteen bytes \(i)"), "key \(k)")
        XCTAssertEqual(queue.event(s).identity, identity(i))
      }
    }
    var emptied = 0
    queue.popExpired(upTo: .infinity) { _ in emptied += 1 }
    XCTAssertEqual(emptied, keys)
    XCTAssertEqual(queue.live, 0)
  }

  /// A start queue's ring grown past a huge page while it wraps (its head moved on by time-outs,
  /// so each doubling moves the entries whose slot changes, in place) keeps every live start in
  /// order with its key and event.
  func testStartQueueGrownWhileWrappedKeepsItsStarts() {
    let queue = StartQueue(window: .seconds(10), waiting: StateID(1))
    var next = 0
    var expired: [Int] = []
    // Pushes of one event per millisecond; every so often the starts older than the window go.
    for round in 0..<40 {
      for _ in 0..<(1_000 * (round + 1)) {
        let identity = "a start identity longer than fifteen bytes \(next)"
        _ = queue.push(
          EventRecord(time: .milliseconds(Int64(next)), sequence: UInt64(next), line: next + 1, identity: identity, slots: []),
          key: next % 7_919)
        next += 1
      }
      queue.popExpired(upTo: EventTime.milliseconds(Int64(next)), ahead: { _ in }) { _, event in expired.append(event.line - 1) }
    }
    XCTAssertGreaterThan(next * 64, 2 * HugePages.pageBytes)
    XCTAssertEqual(expired.indices.first { expired[$0] != $0 } ?? -1, -1, "time-outs in push order: first out of order")
    var live: [Int] = []
    queue.forEachLive { key, event in
      let n = event.line - 1
      XCTAssertEqual(key, n % 7_919)
      XCTAssertEqual(event.identity, "a start identity longer than fifteen bytes \(n)")
      live.append(n)
    }
    XCTAssertEqual(live.count, next - expired.count, "the live starts are the newest")
    XCTAssertEqual(live.indices.first { live[$0] != expired.count + $0 } ?? -1, -1, "the live starts in order: first out of order")
    XCTAssertEqual(queue.live, live.count)
  }

  private func record(_ key: String) -> EventRecord {
    EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: [.string(key)])
  }

  /// How many of the process's mappings (lines of `/proc/self/maps`) cover part of
  /// `[start, start + bytes)`.
  /// The `VmFlags` of the mapping that holds `start` (`/proc/self/smaps`).
  private func vmFlags(_ start: UnsafeMutableRawPointer) throws -> [Substring] {
    let address = UInt(bitPattern: start)
    var inside = false
    // Read to the end: the file is larger than one read, and `String(contentsOfFile:)` stops
    // after the first for a file whose size reads as zero.
    let smaps = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
    for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
      let range = line.prefix { $0 != " " }.split(separator: "-").compactMap { UInt($0, radix: 16) }
      if range.count == 2 && line.contains(" ") && !line.hasPrefix("VmFlags") {
        inside = range[0] <= address && address < range[1]
      } else if inside && line.hasPrefix("VmFlags:") {
        return line.dropFirst("VmFlags:".count).split(separator: " ")
      }
    }
    XCTFail("no mapping holds \(start)")
    return []
  }

  private func mappings(_ start: UnsafeMutableRawPointer, _ bytes: Int) throws -> Int {
    let low = UInt(bitPattern: start)
    let high = low + UInt(bytes)
    return try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").count { line in
      let range = line.prefix { $0 != " " }.split(separator: "-").compactMap { UInt($0, radix: 16) }
      return range.count == 2 && range[0] < high && range[1] > low
    }
  }

  /// Whether every page of `[start, start + bytes)` is mapped (`mincore` fails with `ENOMEM`
  /// on a range that is not).
  private func isMapped(_ start: UnsafeMutableRawPointer, _ bytes: Int) -> Bool {
    let pages = (bytes + 4095) / 4096
    var residency = [UInt8](repeating: 0, count: pages)
    return mincore(start, bytes, &residency) == 0
  }

  /// Writes a pattern over `[start, start + bytes)`.
  private func fill(_ start: UnsafeMutableRawPointer, _ bytes: Int) {
    let words = start.bindMemory(to: UInt8.self, capacity: bytes)
    for i in stride(from: 0, to: bytes, by: 509) { words[i] = UInt8(truncatingIfNeeded: i &* 31) }
    if bytes > 0 { words[bytes - 1] = 0xA5 }
  }

  /// Checks the pattern ``fill(_:_:)`` wrote.
  private func check(_ start: UnsafeMutableRawPointer, _ bytes: Int) {
    let words = start.assumingMemoryBound(to: UInt8.self)
    for i in stride(from: 0, to: bytes - 1, by: 509) {
      XCTAssertEqual(words[i], UInt8(truncatingIfNeeded: i &* 31), "byte \(i)")
    }
    if bytes > 0 { XCTAssertEqual(words[bytes - 1], 0xA5) }
  }
}
