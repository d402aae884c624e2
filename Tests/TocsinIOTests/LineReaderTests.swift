import TocsinCore
import XCTest

@testable import TocsinIO

#if canImport(Glibc)
  import Glibc
#endif

/// What the reader reported for one line: number, offset, kept bytes, full length, too long.
private struct Seen: Equatable, CustomStringConvertible {
  var number: Int
  var offset: Int64
  var text: String
  var length: Int
  var isTooLong: Bool

  init(_ number: Int, _ offset: Int64, _ text: String, length: Int? = nil, tooLong: Bool = false) {
    self.number = number
    self.offset = offset
    self.text = text
    self.length = length ?? text.utf8.count
    self.isTooLong = tooLong
  }

  var description: String { "\(number)@\(offset):\(text.debugDescription)/\(length)\(isTooLong ? "!" : "")" }
}

/// Reads `input` with the given sizes, `readSize` bytes at most per read call. With `batch` > 1,
/// takes lines as `ReplaySession` does: one `nextLine()`, then `nextBufferedLine()` up to `batch`
/// lines, and reads the lines' bytes only once the whole batch is taken (they must still be
/// valid).
private func readAll(
  _ input: String, chunk: Int, maxLine: Int, readSize: Int = .max, batch: Int = 1
) throws -> ([Seen], LineReader) {
  let data = Array(input.utf8)
  var position = 0
  let reader = LineReader(chunkSize: chunk, maxLineBytes: maxLine) { target in
    let n = min(target.count, readSize, data.count - position)
    for i in 0..<n { target[i] = data[position + i] }
    position += n
    return n
  }
  var seen: [Seen] = []
  var pending: [InputLine] = []
  while let first = try reader.nextLine() {
    pending = [first]
    while pending.count < batch, let line = reader.nextBufferedLine() { pending.append(line) }
    for line in pending {
      seen.append(
        Seen(line.number, line.offset, String(decoding: line.bytes, as: UTF8.self), length: line.length,
          tooLong: line.isTooLong))
    }
  }
  return (seen, reader)
}

/// One table row, checked at several chunk sizes and read sizes (chunk boundaries everywhere).
private func lineTest(
  _ input: String, maxLine: Int = 16, _ expected: [Seen],
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  for chunk in [1, 2, 3, 5, 7, 16, 64, 4096] {
    for (readSize, batch) in [(1, 1), (3, 1), (Int.max, 1), (3, 4), (Int.max, 3), (Int.max, 16)] {
      do {
        let (seen, reader) = try readAll(input, chunk: chunk, maxLine: maxLine, readSize: readSize, batch: batch)
        XCTAssertEqual(seen, expected, "chunk \(chunk) read \(readSize) batch \(batch)", file: file, line: testLine)
        XCTAssertEqual(reader.bytesConsumed, Int64(input.utf8.count), file: file, line: testLine)
        XCTAssertEqual(reader.bytesRead, Int64(input.utf8.count), file: file, line: testLine)
      } catch {
        XCTFail("\(error)", file: file, line: testLine)
      }
    }
  }
}

final class LineReaderTests: XCTestCase {
  func testLines_Basic() {
    lineTest("", [])
    lineTest("a\n", [Seen(1, 0, "a")])
    lineTest("a\nbc\n", [Seen(1, 0, "a"), Seen(2, 2, "bc")])
    lineTest("a\nbc", [Seen(1, 0, "a"), Seen(2, 2, "bc")])
    lineTest("{\"a\":1}", [Seen(1, 0, "{\"a\":1}")])
  }

  func testLines_EmptyLinesAreReported() {
    lineTest("\n", [Seen(1, 0, "")])
    lineTest("\n\na\n\n", [Seen(1, 0, ""), Seen(2, 1, ""), Seen(3, 2, "a"), Seen(4, 4, "")])
    lineTest("\r\n", [Seen(1, 0, "")])
  }

  func testLines_CRLF() {
    lineTest("a\r\nb\r\n", [Seen(1, 0, "a"), Seen(2, 3, "b")])
    lineTest("a\r\nb\r", [Seen(1, 0, "a"), Seen(2, 3, "b")])
    lineTest("a\rb\n", [Seen(1, 0, "a\rb")])
  }

  func testLines_ExactlyAtLimit() {
    let max16 = String(repeating: "x", count: 16)
    lineTest(max16 + "\n" + "y\n", [Seen(1, 0, max16), Seen(2, 17, "y")])
    lineTest(max16 + "\r\n" + "y", [Seen(1, 0, max16), Seen(2, 18, "y")])
    lineTest(max16, [Seen(1, 0, max16)])
  }

  func testLines_TooLong() {
    let long17 = String(repeating: "x", count: 17)
    let huge = String(repeating: "0123456789", count: 100)
    let prefix16 = String(repeating: "x", count: 16)
    lineTest(long17 + "\nok\n", [Seen(1, 0, prefix16, length: 17, tooLong: true), Seen(2, 18, "ok")])
    lineTest(long17 + "\r\nok\n", [Seen(1, 0, prefix16, length: 17, tooLong: true), Seen(2, 19, "ok")])
    lineTest(long17, [Seen(1, 0, prefix16, length: 17, tooLong: true)])
    lineTest(
      "a\n" + huge + "\nb\n",
      [Seen(1, 0, "a"), Seen(2, 2, "0123456789012345", length: 1000, tooLong: true), Seen(3, 1003, "b")])
    lineTest(
      huge + "\r\n" + huge + "\n",
      [
        Seen(1, 0, "0123456789012345", length: 1000, tooLong: true),
        Seen(2, 1002, "0123456789012345", length: 1000, tooLong: true),
      ])
    lineTest(huge, [Seen(1, 0, "0123456789012345", length: 1000, tooLong: true)])
  }

  func testLines_KeptPrefixIsAtMost4KiB() throws {
    let huge = String(repeating: "z", count: 100_000)
    let (seen, _) = try readAll(huge + "\nx\n", chunk: 1000, maxLine: 50_000)
    XCTAssertEqual(seen.map(\.isTooLong), [true, false])
    XCTAssertEqual(seen.first?.text.utf8.count, 4096)
    XCTAssertEqual(seen.first?.length, 100_000)
    XCTAssertEqual(seen.last, Seen(2, 100_001, "x"))
  }

  func testLines_ManyLinesAcrossChunks() throws {
    let lines = (0..<1000).map { "{\"n\":\($0)}" }
    let (seen, reader) = try readAll(lines.joined(separator: "\n") + "\n", chunk: 37, maxLine: 64)
    XCTAssertEqual(seen.map(\.text), lines)
    XCTAssertEqual(seen.map(\.number), Array(1...1000))
    XCTAssertEqual(reader.lineNumber, 1000)
  }

  func testBufferedLine_NeverReads() throws {
    var reads = 0
    let data = Array("\u{FEFF}a\nb\nc".utf8)
    var position = 0
    let reader = LineReader(chunkSize: 64, maxLineBytes: 16) { target in
      reads += 1
      let n = min(target.count, data.count - position)
      for i in 0..<n { target[i] = data[position + i] }
      position += n
      return n
    }
    // Before the first `nextLine()` the byte order mark is not yet skipped: nothing.
    XCTAssertNil(reader.nextBufferedLine())
    XCTAssertEqual(reads, 0)
    let first = try XCTUnwrap(reader.nextLine())
    let readsAfterFirst = reads
    let second = try XCTUnwrap(reader.nextBufferedLine())
    // "c" has no `\n` yet, so it is left to `nextLine()`, which sees the end of the input.
    XCTAssertNil(reader.nextBufferedLine())
    XCTAssertEqual(reads, readsAfterFirst)
    XCTAssertEqual(String(decoding: first.bytes, as: UTF8.self), "a")
    XCTAssertEqual(String(decoding: second.bytes, as: UTF8.self), "b")
    let last = try XCTUnwrap(reader.nextLine())
    XCTAssertEqual(String(decoding: last.bytes, as: UTF8.self), "c")
    XCTAssertNil(try reader.nextLine())
    XCTAssertNil(reader.nextBufferedLine())
  }

  func testFileDescriptor_TempFileAndPipe() throws {
    let path = "/tmp/tocsin-linereader-\(getpid()).ndjson"
    let text = "one\ntwo\r\n\nthree"
    XCTAssertTrue(FileManagerFree.write(text, to: path))
    defer { unlink(path) }
    let fd = open(path, O_RDONLY)
    XCTAssertGreaterThanOrEqual(fd, 0)
    defer { close(fd) }
    let reader = LineReader(fileDescriptor: fd, chunkSize: 4, maxLineBytes: 8)
    var texts: [String] = []
    try reader.forEachLine { texts.append(String(decoding: $0.bytes, as: UTF8.self)) }
    XCTAssertEqual(texts, ["one", "two", "", "three"])
    XCTAssertEqual(reader.bytesConsumed, Int64(text.utf8.count))

    let badReader = LineReader(fileDescriptor: -1)
    XCTAssertThrowsError(try badReader.nextLine()) { error in
      XCTAssertEqual(error as? LineReaderError, .readFailed(errno: EBADF))
    }
  }
}

/// Writes files with POSIX calls (no Foundation in this test target's helpers).
enum FileManagerFree {
  static func write(_ text: String, to path: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
  }

  static func read(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n <= 0 { break }
      out.append(contentsOf: chunk[0..<n])
    }
    return out
  }
}
