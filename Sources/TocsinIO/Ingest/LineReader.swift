import TocsinCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One line handed out by ``LineReader``.
///
/// `bytes` points into the reader's buffer and is valid only until the next call to
/// ``LineReader/nextLine()`` (``LineReader/nextBufferedLine()`` does not move it); copy what
/// must outlive it.
public struct InputLine {
  /// The line's bytes without `\n` (and without the `\r` of a `\r\n`). For an over-long line,
  /// only its first ``LineReader/keptPrefixBytes`` bytes (or fewer).
  public var bytes: UnsafeRawBufferPointer
  /// The 1-based line number.
  public var number: Int
  /// The byte offset of the line's first byte in the input.
  public var offset: Int64
  /// The full length of the line without its terminator (larger than `bytes.count` when
  /// ``isTooLong``).
  public var length: Int
  /// Whether the line exceeded the reader's `maxLineBytes`; `bytes` then holds only a prefix.
  public var isTooLong: Bool

  /// Whether the line has no bytes (empty, or just `\r`).
  public var isEmpty: Bool { length == 0 }

  /// A line (for readers other than ``LineReader``, e.g. a decoding thread's batches).
  public init(bytes: UnsafeRawBufferPointer, number: Int, offset: Int64, length: Int, isTooLong: Bool) {
    self.bytes = bytes
    self.number = number
    self.offset = offset
    self.length = length
    self.isTooLong = isTooLong
  }
}

/// Errors reading the input.
public enum LineReaderError: Error, Sendable, Hashable {
  /// `read(2)` failed with `errno`.
  case readFailed(errno: Int32)

  /// A one-line description.
  public var message: String {
    switch self {
    case .readFailed(let code): return "cannot read input: \(String(cString: strerror(code)))"
    }
  }
}

/// Splits a byte stream (a file descriptor, or any read function) into lines.
///
/// Reads large chunks into one reused buffer and hands out each line as a pointer into it; no
/// per-line allocation or copy except when a line straddles a chunk boundary (the partial line
/// moves to the front of the buffer before the next read).
///
/// - A line ends at `\n`; a `\r` just before it is dropped. A final line without `\n` is
///   reported too. Empty lines are reported (``InputLine/isEmpty``) so callers can count them.
/// - A line longer than `maxLineBytes` is reported once with ``InputLine/isTooLong`` and only its
///   first ``keptPrefixBytes`` bytes; the rest is skipped as it streams past, never buffered.
/// - ``bytesConsumed`` is the input position after the last line handed out (a resume point).
/// - A UTF-8 byte order mark (`EF BB BF`) at the very start of the input is skipped: it belongs
///   to no line, so line 1 starts at offset 3. (One anywhere else is line content.)
///
/// Invariant: `0 <= start <= scan <= end <= capacity`, where `buffer[start..<end]` is the
/// pending (not yet reported) data and no `\n` lies in `buffer[start..<scan]`.
///
///     let reader = LineReader(fileDescriptor: STDIN_FILENO)
///     while let line = try reader.nextLine() { … line.bytes … }
public final class LineReader {
  /// The default chunk size: 64 KiB.
  public static let defaultChunkSize = 1 << 16
  /// Pending bytes (a partial line) up to which a refill first moves them to the front
  /// (``fill()``).
  static let compactBelow = 1 << 14
  /// The default line length limit: 1 MiB.
  public static let defaultMaxLineBytes = 1 << 20

  /// The longest line accepted whole.
  public let maxLineBytes: Int
  /// How many leading bytes of an over-long line are kept (for the dead letter): 4 KiB or
  /// `maxLineBytes`, whichever is smaller.
  public let keptPrefixBytes: Int
  /// Input bytes that belong to lines already handed out, including their terminators.
  public private(set) var bytesConsumed: Int64 = 0
  /// Input bytes read so far.
  public private(set) var bytesRead: Int64 = 0
  /// The number of the last line handed out.
  public private(set) var lineNumber = 0

  private let readChunk: (UnsafeMutableRawBufferPointer) throws -> Int
  private let buffer: UnsafeMutableRawBufferPointer
  private let chunkSize: Int
  private let prefix: UnsafeMutableRawBufferPointer
  /// Input offset of `buffer[0]`.
  private var bufferOffset: Int64 = 0
  private var start = 0
  private var scan = 0
  private var end = 0
  private var atEOF = false
  private var atStartOfInput = true

  /// Reads from `fileDescriptor` with `read(2)`, retrying on `EINTR`. The reader does not close it.
  ///
  /// With `whileQuiet`, an input that can go quiet (not a regular file: a pipe, a FIFO, a
  /// socket, a terminal) is waited for with `poll(2)`, and `whileQuiet.call` runs on the reading
  /// thread each `whileQuiet.every` without input (`tocsin run` publishes its metrics there).
  public convenience init(
    fileDescriptor: Int32, chunkSize: Int = LineReader.defaultChunkSize,
    maxLineBytes: Int = LineReader.defaultMaxLineBytes, whileQuiet: (every: Duration, call: () -> Void)? = nil
  ) {
    let quiet = whileQuiet.flatMap { quiet in
      LineReader.isRegularFile(fileDescriptor)
        ? nil : (milliseconds: Int32(clamping: Int(quiet.every.inSeconds * 1000)), call: quiet.call)
    }
    self.init(chunkSize: chunkSize, maxLineBytes: maxLineBytes) { target in
      if let quiet {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        // 0: the interval passed with nothing to read. An error (EINTR) falls through to
        // `read`, which waits or reports it.
        while poll(&descriptor, 1, quiet.milliseconds) == 0 { quiet.call() }
      }
      while true {
        let n = read(fileDescriptor, target.baseAddress, target.count)
        if n >= 0 { return n }
        if errno == EINTR { continue }
        throw LineReaderError.readFailed(errno: errno)
      }
    }
  }

  /// Whether `fd` is a regular file (never quiet: read to its end without waiting).
  private static func isRegularFile(_ fd: Int32) -> Bool {
    var status = stat()
    return fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
  }

  /// Reads with `readChunk`, which fills a prefix of its argument and returns the byte count
  /// (0 at end of input). Useful for tests (short reads) and non-file sources.
  public init(
    chunkSize: Int = LineReader.defaultChunkSize, maxLineBytes: Int = LineReader.defaultMaxLineBytes,
    readChunk: @escaping (UnsafeMutableRawBufferPointer) throws -> Int
  ) {
    self.maxLineBytes = max(1, maxLineBytes)
    self.chunkSize = max(1, chunkSize)
    self.keptPrefixBytes = min(4096, self.maxLineBytes)
    self.readChunk = readChunk
    // Room for a maximal line plus `\r\n`, so a line that fits is always contiguous.
    let capacity = max(self.chunkSize, self.maxLineBytes + 2)
    buffer = .allocate(byteCount: capacity, alignment: 16)
    prefix = .allocate(byteCount: keptPrefixBytes, alignment: 1)
  }

  deinit {
    buffer.deallocate()
    prefix.deallocate()
  }

  /// Continues numbering from a checkpoint: the source is already positioned after `line`
  /// lines and `offset` bytes (a file seeked there, or a producer replaying from there), so
  /// offsets and line numbers in dead letters and in the next checkpoint stay those of the
  /// whole input. Call before the first ``nextLine()``.
  public func continueNumbering(fromOffset offset: Int64, line: Int) {
    precondition(bytesRead == bufferOffset && start == end, "continueNumbering after reading")
    bufferOffset = offset
    bytesConsumed = offset
    bytesRead = offset
    lineNumber = line
  }

  /// The next line, or `nil` at end of input.
  ///
  /// - Throws: ``LineReaderError`` (or what a custom `readChunk` throws).
  /// - Complexity: amortised O(line length).
  public func nextLine() throws -> InputLine? {
    if atStartOfInput { try skipByteOrderMark() }
    while true {
      // 1) A complete line in the buffer?
      if let newline = findNewline() {
        return takeLine(contentEnd: newline, next: newline + 1)
      }
      // 2) Too long already? Switch to skipping the rest of it.
      if end - start > maxLineBytes + 1 {
        return try skipOverlongLine()
      }
      // 3) End of input: the final line without `\n`.
      if atEOF {
        guard start < end else { return nil }
        return takeLine(contentEnd: end, next: end)
      }
      try fill()
    }
  }

  /// The next line if it is already complete in the buffer, else `nil`: never reads, never
  /// blocks, and leaves every line handed out since the last ``nextLine()`` valid (their bytes
  /// stay where they are). For callers that take a few lines at once (``ReplaySession`` decodes
  /// ahead): after one ``nextLine()``, the lines that are already here cost no wait, so a batch
  /// never holds back a line of a quiet stream. An over-long line that is not complete in the
  /// buffer, and the final line of the input without `\n`, are left to ``nextLine()``.
  public func nextBufferedLine() -> InputLine? {
    guard !atStartOfInput, let newline = findNewline() else { return nil }
    return takeLine(contentEnd: newline, next: newline + 1)
  }

  /// Calls `body` with every remaining line.
  public func forEachLine(_ body: (InputLine) throws -> Void) throws {
    while let line = try nextLine() { try body(line) }
  }

  // MARK: - Implementation

  /// Skips a UTF-8 byte order mark at the start of the input (Windows editors write one).
  private func skipByteOrderMark() throws {
    atStartOfInput = false
    while end - start < 3 && !atEOF { try fill() }
    guard end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF
    else { return }
    start += 3
    scan = max(scan, start)
  }

  @inline(__always)
  private func findNewline() -> Int? {
    guard scan < end, let base = buffer.baseAddress else { return nil }
    if let hit = memchr(base + scan, 0x0A, end - scan) {
      return base.distance(to: hit)
    }
    scan = end
    return nil
  }

  /// Hands out `buffer[start..<contentEnd]` (minus a trailing `\r`) and continues at `next`.
  private func takeLine(contentEnd: Int, next: Int) -> InputLine {
    var stop = contentEnd
    if stop > start && buffer[stop - 1] == 0x0D { stop -= 1 }
    let length = stop - start
    let offset = bufferOffset + Int64(start)
    lineNumber += 1
    bytesConsumed = bufferOffset + Int64(next)
    let line: InputLine
    if length > maxLineBytes {
      let kept = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + keptPrefixBytes)])
      line = InputLine(bytes: kept, number: lineNumber, offset: offset, length: length, isTooLong: true)
    } else {
      let bytes = UnsafeRawBufferPointer(rebasing: buffer[start..<stop])
      line = InputLine(bytes: bytes, number: lineNumber, offset: offset, length: length, isTooLong: false)
    }
    start = next
    scan = next
    return line
  }

  /// Keeps the first bytes of the pending over-long line, discards the rest up to its `\n`.
  private func skipOverlongLine() throws -> InputLine {
    let offset = bufferOffset + Int64(start)
    // swift-format-ignore: NeverForceUnwrap
    // Both buffers are allocated with a non-zero size in `init`.
    prefix.baseAddress.unsafelyUnwrapped.copyMemory(
      from: buffer.baseAddress.unsafelyUnwrapped + start, byteCount: keptPrefixBytes)
    var length = end - start
    var lastByte = buffer[end - 1]
    start = end
    scan = end
    var next: Int? = nil
    while next == nil {
      if let newline = findNewline() {
        length += newline - start
        if newline > start { lastByte = buffer[newline - 1] }
        next = newline + 1
      } else {
        length += end - start
        if end > start { lastByte = buffer[end - 1] }
        start = end
        scan = end
        if atEOF { break }
        try fill()
      }
    }
    if lastByte == 0x0D { length -= 1 }
    lineNumber += 1
    let resume = next ?? end
    start = resume
    scan = resume
    bytesConsumed = bufferOffset + Int64(resume)
    return InputLine(
      bytes: UnsafeRawBufferPointer(prefix), number: lineNumber, offset: offset, length: length,
      isTooLong: true)
  }

  /// Moves pending bytes to the front if needed and reads one more chunk.
  ///
  /// A short partial line is moved even when there is room after it, so that reads keep landing
  /// in the first chunk of the buffer: that region stays in the cache, and each line is still
  /// there when the scanner reads it. Appending through the whole buffer instead walked 1 MiB
  /// of it, and lines were often evicted between the read and the scan (13% of a replay's
  /// simulated L2 misses).
  private func fill() throws {
    if start == end {
      bufferOffset += Int64(start)
      start = 0
      scan = 0
      end = 0
    } else if start > 0 && (buffer.count - end < chunkSize || end - start <= Self.compactBelow) {
      // swift-format-ignore: NeverForceUnwrap
      // The buffer is allocated with a non-zero size in `init`.
      let base = buffer.baseAddress.unsafelyUnwrapped
      (base).copyMemory(from: base + start, byteCount: end - start)
      bufferOffset += Int64(start)
      scan -= start
      end -= start
      start = 0
    }
    let room = min(chunkSize, buffer.count - end)
    let target = UnsafeMutableRawBufferPointer(rebasing: buffer[end..<(end + room)])
    let n = try readChunk(target)
    if n <= 0 {
      atEOF = true
    } else {
      end += n
      bytesRead += Int64(n)
    }
  }
}
