import XCTest

@testable import TocsinApp
import TocsinRuntime

/// When `tocsin run` and `tocsin bench` re-execute themselves to put malloc's heap on
/// transparent huge pages (only when asked: `TOCSIN_HEAP_HUGE_PAGES=1`), and with what
/// `GLIBC_TUNABLES`.
final class HeapHugePagesTests: XCTestCase {
  func testTunables_ByTableOfCases() {
    let on = "glibc.malloc.hugetlb=1"
    // (GLIBC_TUNABLES, TOCSIN_HEAP_HUGE_PAGES, kernel mode, glibc version) → new GLIBC_TUNABLES
    let cases: [(String?, String?, String?, String?, String?, String)] = [
      (nil, nil, "madvise", "2.36", nil, "nothing set: off, the default"),
      (nil, "", "madvise", "2.36", nil, "an empty switch: off"),
      (nil, "0", "madvise", "2.36", nil, "switched off"),
      (nil, "off", "madvise", "2.36", nil, "switched off"),
      (nil, "maybe", "madvise", "2.36", nil, "not a yes: off"),
      (nil, "1", "madvise", "2.36", on, "opted in"),
      (nil, "on", "always", "2.35", on, "the first glibc with the tunable"),
      (nil, "TRUE", "madvise", "2.36", on, "any case"),
      (nil, "yes", "madvise", "3.0", on, "a later major version"),
      ("", "1", "madvise", "2.36", on, "an empty setting"),
      ("glibc.malloc.arena_max=2", "1", "madvise", "2.36", "glibc.malloc.arena_max=2:" + on, "kept, one added"),
      ("glibc.malloc.arena_max=2:", "1", "madvise", "2.40", "glibc.malloc.arena_max=2:" + on, "a trailing colon"),
      ("glibc.malloc.hugetlb=0", "1", "madvise", "2.36", nil, "the user's choice wins"),
      ("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2", "1", "always", "2.36", nil, "any value of it"),
      (on, "1", "madvise", "2.36", nil, "already on: no second exec"),
      (on, nil, "madvise", "2.36", nil, "set by the user without the switch: left as it is"),
      (nil, "1", "never", "2.36", nil, "the kernel refuses huge pages"),
      (nil, "1", nil, "2.36", nil, "no kernel setting to read"),
      (nil, "1", "madvise", "2.34", nil, "glibc without the tunable"),
      (nil, "1", "madvise", "2.9", nil, "2.9 is older than 2.35"),
      (nil, "1", "madvise", nil, nil, "not glibc"),
      (nil, "1", "madvise", "unknown", nil, "an unreadable version"),
    ]
    for (current, switchValue, mode, version, expected, why) in cases {
      XCTAssertEqual(
        HeapHugePages.tunables(current: current, switchValue: switchValue, kernelMode: mode, glibcVersion: version),
        expected, why)
    }
  }

  /// `tocsin bench --against` starts the older build with the environment as launched: the
  /// tunable this build added (and only that) taken out again.
  func testEnvironmentAsLaunched_UndoesOnlyTheReexecution() {
    let tunable = "glibc.malloc.hugetlb=1"
    let cases: [([String: String], [String: String], String)] = [
      (["PATH": "/bin"], ["PATH": "/bin"], "nothing added: unchanged"),
      ([
        "PATH": "/bin", "GLIBC_TUNABLES": tunable, HeapHugePages.addedMark: "1",
      ], ["PATH": "/bin"], "added where none was set"),
      ([
        "GLIBC_TUNABLES": "glibc.malloc.arena_max=2:" + tunable, HeapHugePages.addedMark: "1",
        HeapHugePages.previousTunables: "glibc.malloc.arena_max=2",
      ], ["GLIBC_TUNABLES": "glibc.malloc.arena_max=2"], "added to the user's"),
      (["GLIBC_TUNABLES": tunable], ["GLIBC_TUNABLES": tunable], "the user's own: kept"),
    ]
    for (environment, expected, why) in cases {
      XCTAssertEqual(HeapHugePages.environmentAsLaunched(environment), expected, why)
    }
  }

  /// The machine line says whether the heap was on huge pages, and when and why the engine's
  /// blocks were, when not from the start, when the report knows.
  func testMachineLine_SaysWhatWasOnHugePages() {
    func line(_ heap: Bool?, blocks: HugePages.Policy.Advice? = nil, why: HugePages.Policy.Reason? = nil) -> String {
      let machine = BenchReport.Machine(
        cores: 2, cpu: "x", system: "Linux", memoryBytes: 1, transparentHugePages: "madvise", heapHugePages: heap,
        engineHugePages: blocks?.text, engineHugePagesReason: why?.rawValue)
      return BenchTable.machineLine(machine, build: "release", then: "commit c")
    }
    // (heap, blocks, reason) → what the line says after the mode
    let cases: [(Bool?, HugePages.Policy.Advice?, HugePages.Policy.Reason?, String)] = [
      (true, nil, nil, "transparent huge pages madvise (the heap's too);"),
      (false, nil, nil, "transparent huge pages madvise (not the heap's);"),
      (nil, nil, nil, "transparent huge pages madvise;"),
      (false, .atOnce, .standard, "transparent huge pages madvise (not the heap's);"),
      (
        false, .afterWarmUp, .freePageReporting,
        "transparent huge pages madvise (the engine's blocks after the first 30 s of a run: the machine reports free pages to its host; not the heap's);"
      ),
      (true, .never, .switchedOff, "transparent huge pages madvise (the engine's blocks never: switched off; the heap's too);"),
    ]
    for (heap, blocks, why, expected) in cases {
      let text = line(heap, blocks: blocks, why: why)
      XCTAssertTrue(text.contains(expected), text)
    }
  }

  #if os(Linux)
    /// This glibc's version reads as `major.minor` (the CI machines' Debian 12: 2.36).
    func testGlibcVersion_IsReadable() throws {
      let version = try XCTUnwrap(HeapHugePages.glibcVersion())
      XCTAssertNotNil(version.split(separator: ".").first.flatMap { Int($0) }, version)
    }
  #endif
}
