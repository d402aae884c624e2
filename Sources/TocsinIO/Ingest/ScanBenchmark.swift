#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import TocsinCore

/// A throwaway throughput harness for the ingest path (not a unit test: run it on a release
/// build). See `docs/operations.md` for the numbers measured when it was written.
public enum ScanBenchmark {
  /// What one run measured.
  public struct Result: Sendable, CustomStringConvertible {
    /// Lines read (including bad and empty ones).
    public var lines: Int
    /// Lines that scanned (or decoded) without error.
    public var events: Int
    /// Lines that failed.
    public var errors: Int
    /// Input bytes.
    public var bytes: Int64
    /// Wall-clock seconds for the whole loop (reading included).
    public var seconds: Double

    /// Lines per second.
    public var linesPerSecond: Double { Double(lines) / seconds }
    /// Good events per second.
    public var eventsPerSecond: Double { Double(events) / seconds }

    public var description: String {
      let mib = Double(bytes) / 1_048_576
      return "\(lines) lines, \(events) events, \(errors) errors, \(Int(mib)) MiB in "
        + "\(Int(seconds * 1000)) ms: \(Int(linesPerSecond)) lines/s, \(Int(eventsPerSecond)) events/s, "
        + "\(Int(mib / seconds)) MiB/s"
    }
  }

  /// Scans every line of the file at `path` with `projection` and returns good events per second.
  public static func run(path: String, projection: FieldProjection) throws -> Double {
    try measure(path: path, projection: projection, decode: false).eventsPerSecond
  }

  /// Reads the file at `path` line by line and either scans each line into a reused slot array
  /// (`decode == false`) or decodes it into an `EventRecord` (time, identity, fresh slot array).
  public static func measure(path: String, projection: FieldProjection, decode: Bool) throws -> Result {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw LineReaderError.readFailed(errno: errno) }
    defer { close(fd) }
    let reader = LineReader(fileDescriptor: fd)
    var scanner = EventScanner(projection: projection)
    var decoder = EventDecoder(ruleProjection: projection)
    var slots: [Value] = []
    var lines = 0
    var events = 0
    var errors = 0
    var checksum = 0
    let start = now()
    while let line = try reader.nextLine() {
      lines += 1
      if decode {
        do {
          let record = try decoder.decode(line.bytes, lineNumber: line.number, sequence: UInt64(events))
          checksum &+= record.slots.count &+ record.identity.utf8.count
          events += 1
        } catch {
          errors += 1
        }
      } else {
        do {
          try scanner.scan(line.bytes, into: &slots)
          checksum &+= slots.count
          events += 1
        } catch {
          errors += 1
        }
      }
    }
    let seconds = now() - start
    if checksum == -1 { print("") }  // keeps the loop's work observable
    return Result(lines: lines, events: events, errors: errors, bytes: reader.bytesConsumed, seconds: seconds)
  }

  private static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}
