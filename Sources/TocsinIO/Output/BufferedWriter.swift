#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Errors writing output.
public enum OutputError: Error, Sendable, Hashable {
  /// `open(2)` of `path` failed with `errno`.
  case openFailed(path: String, errno: Int32)
  /// `write(2)` failed with `errno` (`EPIPE` when the reader went away and SIGPIPE is ignored).
  case writeFailed(errno: Int32)
  /// `close(2)` failed with `errno`.
  case closeFailed(errno: Int32)
  /// The writer was used after ``BufferedWriter/close()``.
  case closed

  /// Whether this is a broken pipe (the consumer exited, e.g. `tocsin run | head`).
  public var isBrokenPipe: Bool { self == .writeFailed(errno: EPIPE) }

  /// A one-line, lower-case description.
  public var message: String {
    switch self {
    case .openFailed(let path, let code): return "cannot open '\(path)': \(describe(code))"
    case .writeFailed(let code): return "cannot write output: \(describe(code))"
    case .closeFailed(let code): return "cannot close output: \(describe(code))"
    case .closed: return "output already closed"
    }
  }

  private func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// A buffered byte writer on a file descriptor (stdout or a file).
///
/// Bytes collect in a buffer that is written out when it reaches ``flushThreshold`` (64 KiB),
/// on ``flush()`` and on ``close()``. Partial writes and `EINTR` are retried; every other
/// failure (including `EPIPE`, once ``IgnoreSIGPIPE/install()`` made it an error instead of a
/// signal) is thrown as ``OutputError``, never a crash. After a failed write the buffered
/// bytes are dropped, so a later `flush()` does not repeat them.
///
/// Not thread-safe: one writer per thread, or serialise access.
public final class BufferedWriter {
  /// How the file is opened.
  public enum FileMode: Sendable {
    /// Keep existing contents and write at the end.
    case append
    /// Empty the file first.
    case truncate
  }

  /// The buffer size that triggers a write: 64 KiB.
  public static let defaultFlushThreshold = 64 * 1024

  /// Buffered bytes are written once there are at least this many.
  public let flushThreshold: Int
  /// Bytes handed to `write(2)` successfully so far.
  public private(set) var bytesWritten: Int64 = 0

  private var fileDescriptor: Int32
  private let ownsDescriptor: Bool
  private var buffer: [UInt8] = []

  /// A writer on standard output (not closed by ``close()``, only flushed).
  public static func standardOutput(flushThreshold: Int = BufferedWriter.defaultFlushThreshold) -> BufferedWriter {
    BufferedWriter(fileDescriptor: STDOUT_FILENO, ownsDescriptor: false, flushThreshold: flushThreshold)
  }

  /// A writer on standard error (not closed by ``close()``, only flushed).
  public static func standardError(flushThreshold: Int = BufferedWriter.defaultFlushThreshold) -> BufferedWriter {
    BufferedWriter(fileDescriptor: STDERR_FILENO, ownsDescriptor: false, flushThreshold: flushThreshold)
  }

  /// Wraps an open descriptor; `ownsDescriptor` says whether ``close()`` closes it.
  public init(fileDescriptor: Int32, ownsDescriptor: Bool, flushThreshold: Int = BufferedWriter.defaultFlushThreshold) {
    self.fileDescriptor = fileDescriptor
    self.ownsDescriptor = ownsDescriptor
    self.flushThreshold = max(1, flushThreshold)
    buffer.reserveCapacity(self.flushThreshold + 4096)
  }

  /// Opens (creating with mode 0644 if needed) the file at `path`.
  /// - Throws: ``OutputError/openFailed(path:errno:)``.
  public convenience init(path: String, mode: FileMode, flushThreshold: Int = BufferedWriter.defaultFlushThreshold) throws {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == .append ? O_APPEND : O_TRUNC)
    let fd = open(path, flags, 0o644)
    guard fd >= 0 else { throw OutputError.openFailed(path: path, errno: errno) }
    self.init(fileDescriptor: fd, ownsDescriptor: true, flushThreshold: flushThreshold)
  }

  deinit {
    // Best effort: errors here have nowhere to go; callers who care call `close()`.
    try? close()
  }

  /// Appends `bytes`, writing out when the buffer passes the threshold.
  public func write(_ bytes: [UInt8]) throws {
    guard fileDescriptor >= 0 else { throw OutputError.closed }
    buffer.append(contentsOf: bytes)
    if buffer.count >= flushThreshold { try flush() }
  }

  /// Appends the bytes at `bytes`.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard fileDescriptor >= 0 else { throw OutputError.closed }
    buffer.append(contentsOf: bytes)
    if buffer.count >= flushThreshold { try flush() }
  }

  /// Appends the UTF-8 bytes of `text`.
  public func write(_ text: String) throws {
    guard fileDescriptor >= 0 else { throw OutputError.closed }
    buffer.append(contentsOf: text.utf8)
    if buffer.count >= flushThreshold { try flush() }
  }

  /// Writes out everything buffered.
  public func flush() throws {
    guard fileDescriptor >= 0 else { throw OutputError.closed }
    guard !buffer.isEmpty else { return }
    defer { buffer.removeAll(keepingCapacity: true) }
    let fd = fileDescriptor
    let failure: Int32? = buffer.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = systemWrite(fd, raw.baseAddress.unsafelyUnwrapped + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        done += n
      }
      return nil
    }
    if let failure { throw OutputError.writeFailed(errno: failure) }
    bytesWritten += Int64(buffer.count)
  }

  /// Flushes, then closes the descriptor if the writer owns it. Later writes throw ``OutputError/closed``;
  /// closing twice does nothing.
  public func close() throws {
    guard fileDescriptor >= 0 else { return }
    let flushError: Error?
    do {
      try flush()
      flushError = nil
    } catch {
      flushError = error
    }
    let fd = fileDescriptor
    fileDescriptor = -1
    if ownsDescriptor && systemClose(fd) != 0 { throw OutputError.closeFailed(errno: errno) }
    if let flushError { throw flushError }
  }
}

/// Makes a closed pipe an `EPIPE` error instead of a process-killing signal.
public enum IgnoreSIGPIPE {
  /// Sets SIGPIPE's disposition to ignore, process-wide. Call once at start-up, before writing.
  public static func install() {
    _ = signal(SIGPIPE, SIG_IGN)
  }
}

// `write` and `close` are also method names above; these name the system calls unambiguously.
@inline(__always)
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, bytes, count)
}

@inline(__always)
private func systemClose(_ fd: Int32) -> Int32 {
  close(fd)
}
