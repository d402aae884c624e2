#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import TocsinIO

/// When a ``FileSink`` calls `fsync(2)`.
public enum FsyncPolicy: Hashable, Sendable {
  /// Never: the kernel writes pages back when it likes (fastest; a power loss can lose the
  /// last seconds of alerts, a process crash cannot).
  case never
  /// After a buffer write-out, if at least this long passed since the last `fsync`; and at
  /// rotation and close.
  case interval(Duration)
  /// After every buffer write-out (a batch: up to 64 KiB of records, or whatever was buffered
  /// at a flush), at rotation and at close.
  case everyBatch
}

/// Appends records to a file, rotating it by size.
///
/// Rotation: before a record that would take the file past ``maxBytes``, the file is closed and
/// renamed `PATH.1` (an existing `PATH.1` becomes `PATH.2`, and so on up to `PATH.<keep>`; the
/// oldest beyond `keep` is deleted) and a new `PATH` is started. A record is never split across
/// files; a record larger than `maxBytes` gets a file of its own. With `keep == 0` the old file
/// is simply deleted.
///
/// Not thread-safe: the engine's thread owns it.
public final class FileSink: AlertSink {
  public let name: String
  /// The file written to.
  public let path: String
  /// Rotate before a record that would make the file larger than this; `nil`: never rotate.
  public let maxBytes: Int64?
  /// How many rotated files to keep.
  public let keep: Int
  /// When to `fsync`.
  public let fsync: FsyncPolicy
  public private(set) var statistics: SinkStatistics
  /// How many times the file was rotated.
  public private(set) var rotations = 0

  /// The current file's length in bytes, buffered records included (after ``flush()``, the
  /// length on disk). Checkpoints record it, and a resume cuts the file back to it.
  public var length: Int64 { currentSize }

  private var fileDescriptor: Int32 = -1
  private var writer: BufferedWriter
  /// Bytes in the current file, buffered ones included.
  private var currentSize: Int64 = 0
  private var writtenAtLastCheck: Int64 = 0
  private var lastSync: MonotonicTime
  private let now: () -> MonotonicTime

  /// Opens `path` (creating it with mode 0644), appending unless `truncate`.
  /// - Throws: ``OutputError/openFailed(path:errno:)``.
  public init(
    name: String, path: String, truncate: Bool = false, maxBytes: Int64? = nil, keep: Int = 0,
    fsync: FsyncPolicy = .never, now: @escaping () -> MonotonicTime = MonotonicTime.now
  ) throws {
    self.name = name
    self.path = path
    self.maxBytes = maxBytes.map { max(1, $0) }
    self.keep = max(0, keep)
    self.fsync = fsync
    self.now = now
    statistics = SinkStatistics(kind: "file")
    lastSync = now()
    let opened = try FileSink.open(path, truncate: truncate)
    fileDescriptor = opened.fd
    currentSize = opened.size
    writer = BufferedWriter(fileDescriptor: opened.fd, ownsDescriptor: false)
  }

  deinit {
    try? close()
  }

  public func write(_ record: SinkRecord) throws {
    guard fileDescriptor >= 0 else { throw OutputError.closed }
    let size = Int64(record.bytes.count)
    if let maxBytes, currentSize > 0, currentSize + size > maxBytes { try rotate() }
    try writer.write(record.bytes)
    currentSize += size
    statistics.sent += 1
    try syncIfWrittenOut()
  }

  public func flush() throws {
    guard fileDescriptor >= 0 else { return }
    try writer.flush()
    try syncIfWrittenOut()
  }

  public func close() throws {
    guard fileDescriptor >= 0 else { return }
    try writer.flush()
    if fsync != .never { try sync() }
    try writer.close()
    let fd = fileDescriptor
    fileDescriptor = -1
    if systemClose(fd) != 0 { throw OutputError.closeFailed(errno: errno) }
  }

  // MARK: - Rotation and fsync

  private func rotate() throws {
    try writer.flush()
    if fsync != .never { try sync() }
    try writer.close()
    _ = systemClose(fileDescriptor)
    fileDescriptor = -1
    if keep == 0 {
      unlink(path)
    } else {
      unlink("\(path).\(keep)")
      for index in stride(from: keep - 1, through: 1, by: -1) {
        rename("\(path).\(index)", "\(path).\(index + 1)")
      }
      guard rename(path, "\(path).1") == 0 else { throw OutputError.openFailed(path: path, errno: errno) }
    }
    let opened = try FileSink.open(path, truncate: true)
    fileDescriptor = opened.fd
    writer = BufferedWriter(fileDescriptor: opened.fd, ownsDescriptor: false)
    writtenAtLastCheck = 0
    currentSize = 0
    rotations += 1
  }

  /// Calls `fsync` when the writer wrote bytes out since the last check and the policy asks.
  private func syncIfWrittenOut() throws {
    guard writer.bytesWritten != writtenAtLastCheck else { return }
    writtenAtLastCheck = writer.bytesWritten
    switch fsync {
    case .never: return
    case .everyBatch: try sync()
    case .interval(let interval):
      if lastSync.advanced(by: interval) <= now() { try sync() }
    }
  }

  private func sync() throws {
    guard systemFsync(fileDescriptor) == 0 else { throw OutputError.writeFailed(errno: errno) }
    lastSync = now()
  }

  private static func open(_ path: String, truncate: Bool) throws -> (fd: Int32, size: Int64) {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND)
    let fd = systemOpen(path, flags, 0o644)
    guard fd >= 0 else { throw OutputError.openFailed(path: path, errno: errno) }
    var info = stat()
    let size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
    return (fd, size)
  }
}
