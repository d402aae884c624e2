import CHeapReserve
import Foundation
@testable import TocsinApp
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `--workers 2`'s decoding thread faults in the engine's heap growth (``HeapReserve``): it must
/// reach the pages the heap grew into, leave every byte as it was, and do nothing off the main
/// thread, whose heap it tunes.
final class HeapReserveTests: XCTestCase {
  func testFaultsInWhatTheHeapGrew_AndChangesNoMemory() throws {
    #if canImport(Glibc)
      try XCTSkipUnless(Thread.isMainThread, "the main heap is tuned from the main thread only")
      var reserve = HeapReserve()
      XCTAssertTrue(reserve.isActive)
      reserve.faultIn()
      let before = reserve.bytesFaultedIn
      let endBefore = tocsin_heap_reserve_end()
      // Blocks below the mmap threshold come from the heap; allocate until the heap has grown
      // (the suite's earlier tests may have left free space in it), up to a bound.
      let blockBytes = 256 << 10
      var blocks: [UnsafeMutablePointer<UInt8>] = []
      defer { for block in blocks { free(block) } }
      while tocsin_heap_reserve_end() < endBefore + UInt(12 << 20), blocks.count < 4096 {
        blocks.append(try XCTUnwrap(malloc(blockBytes)).bindMemory(to: UInt8.self, capacity: blockBytes))
        // 64 MiB in and not one byte of growth: not glibc's heap (a sanitizer's allocator).
        if blocks.count == 256, tocsin_heap_reserve_end() == endBefore {
          throw XCTSkip("malloc does not grow the main heap here (a sanitizer's allocator)")
        }
      }
      XCTAssertGreaterThanOrEqual(tocsin_heap_reserve_end(), endBefore + UInt(12 << 20), "the heap did not grow")
      // The last 64 blocks (those in the grown heap among them): every other one written
      // (present), the rest left untouched (absent until faulted in).
      let written = blocks.suffix(64).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
      for (b, block) in written.enumerated() {
        for i in stride(from: 0, to: blockBytes, by: 512) { block[i] = UInt8(truncatingIfNeeded: b &+ i / 512) }
      }
      reserve.faultIn()
      let grown = reserve.bytesFaultedIn - before
      XCTAssertTrue(reserve.isActive, "the kernel refused MADV_POPULATE_WRITE")
      // At least the blocks not yet reached before (some may have fit in what was populated).
      XCTAssertGreaterThanOrEqual(grown, 8 << 20)
      var changed = 0
      for (b, block) in written.enumerated() {
        for i in stride(from: 0, to: blockBytes, by: 512) where block[i] != UInt8(truncatingIfNeeded: b &+ i / 512) {
          changed += 1
        }
      }
      XCTAssertEqual(changed, 0, "bytes written before faulting in changed")
      // Nothing grew since: nothing more to fault in.
      let after = reserve.bytesFaultedIn
      reserve.faultIn()
      XCTAssertEqual(reserve.bytesFaultedIn, after)
    #else
      throw XCTSkip("glibc only")
    #endif
  }

  func testDoesNothingOffTheMainThread() {
    /// Written by the thread before it signals, read after the wait.
    final class Outcome: @unchecked Sendable { var acted: Bool? }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      var reserve = HeapReserve()
      reserve.faultIn()
      outcome.acted = reserve.isActive || reserve.bytesFaultedIn > 0
      done.signal()
    }
    thread.start()
    done.wait()
    XCTAssertEqual(outcome.acted, false)
  }
}
