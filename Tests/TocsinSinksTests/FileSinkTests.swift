import Foundation
import XCTest

@testable import TocsinSinks

final class FileSinkTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "tocsin-filesink-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func record(_ text: String) -> SinkRecord { SinkRecord(bytes: Array((text + "\n").utf8)) }

  private func contents(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
  }

  /// 10-byte records, 25-byte limit: two records per file; keep 2 rotated files.
  func testRotation_BySizeKeepsNewestFiles() throws {
    let path = directory + "/alerts.ndjson"
    let sink = try FileSink(name: "audit", path: path, maxBytes: 25, keep: 2)
    for i in 0..<7 { try sink.write(record("record-\(i)")) }  // "record-i\n" = 9 bytes
    try sink.close()
    XCTAssertEqual(contents(path), "record-6\n")
    XCTAssertEqual(contents(path + ".1"), "record-4\nrecord-5\n")
    XCTAssertEqual(contents(path + ".2"), "record-2\nrecord-3\n")
    XCTAssertNil(contents(path + ".3"), "only `keep` rotated files remain")
    XCTAssertEqual(sink.rotations, 3)
    XCTAssertEqual(sink.statistics.sent, 7)
  }

  func testRotation_LargeRecordGetsAFileOfItsOwn() throws {
    let path = directory + "/big.ndjson"
    let sink = try FileSink(name: "big", path: path, maxBytes: 10, keep: 3)
    try sink.write(record("a"))
    try sink.write(record(String(repeating: "x", count: 30)))
    try sink.write(record("b"))
    try sink.close()
    XCTAssertEqual(contents(path + ".2"), "a\n")
    XCTAssertEqual(contents(path + ".1"), String(repeating: "x", count: 30) + "\n")
    XCTAssertEqual(contents(path), "b\n")
  }

  func testRotation_KeepZeroDeletesTheOldFile() throws {
    let path = directory + "/zero.ndjson"
    let sink = try FileSink(name: "zero", path: path, maxBytes: 4, keep: 0)
    try sink.write(record("one"))
    try sink.write(record("two"))
    try sink.close()
    XCTAssertEqual(contents(path), "two\n")
    XCTAssertNil(contents(path + ".1"))
  }

  /// Appends to an existing file and counts its size towards the limit.
  func testAppend_ExistingSizeCountsTowardsRotation() throws {
    let path = directory + "/existing.ndjson"
    XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("old-line\n".utf8)))
    let sink = try FileSink(name: "f", path: path, maxBytes: 12, keep: 1, fsync: .everyBatch)
    try sink.write(record("new"))  // 9 + 4 > 12: rotates first
    try sink.close()
    XCTAssertEqual(contents(path + ".1"), "old-line\n")
    XCTAssertEqual(contents(path), "new\n")
  }

  func testOpenFailure_IsAnError() {
    XCTAssertThrowsError(try FileSink(name: "f", path: directory + "/missing/dir/file"))
  }
}
