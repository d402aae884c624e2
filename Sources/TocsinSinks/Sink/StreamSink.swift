import TocsinIO

/// Writes records to standard output or standard error through a ``BufferedWriter``.
public final class StreamSink: AlertSink {
  /// Which standard stream.
  public enum Stream: String, Sendable {
    /// File descriptor 1.
    case stdout
    /// File descriptor 2.
    case stderr
  }

  public let name: String
  private let writer: BufferedWriter
  public private(set) var statistics: SinkStatistics
  /// Whether the sink writes to standard output (`type: stdout`).
  public var isStandardOutput: Bool { statistics.kind == Stream.stdout.rawValue }
  /// Bytes written out to the stream so far (after ``flush()``, every record handed in).
  public var bytesWritten: Int64 { writer.bytesWritten }

  /// A sink called `name` on `stream`.
  public init(name: String, stream: Stream) {
    self.name = name
    writer = stream == .stdout ? .standardOutput() : .standardError()
    statistics = SinkStatistics(kind: stream.rawValue)
  }

  /// A sink on an existing writer (the `-o FILE` shorthand, tests).
  public init(name: String, kind: String, writer: BufferedWriter) {
    self.name = name
    self.writer = writer
    statistics = SinkStatistics(kind: kind)
  }

  public func write(_ record: SinkRecord) throws {
    try writer.write(record.bytes)
    statistics.sent += 1
  }

  public func flush() throws { try writer.flush() }

  public func close() throws { try writer.close() }
}
