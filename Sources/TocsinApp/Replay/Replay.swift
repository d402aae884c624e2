import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO

/// Whole-input replays into memory: what `tocsin test` and the end-to-end tests use.
public enum Replay {
  /// Everything a replay wrote.
  public struct Output {
    /// Alert NDJSON.
    public var alerts: [UInt8] = []
    /// Dead-letter NDJSON.
    public var deadLetters: [UInt8] = []
    /// Line counters.
    public var counters = ReplayCounters()
  }

  /// Why a replay could not read its input.
  public struct InputError: Error, CustomStringConvertible {
    /// The input path.
    public var path: String
    /// What went wrong.
    public var reason: String
    public var description: String { "\(path): error: \(reason)" }
  }

  /// Replays the file at `inputPath`.
  public static func run(programs: ProgramSet, configuration: ReplayConfiguration, inputPath: String)
    throws -> Output
  {
    let fd = open(inputPath, O_RDONLY)
    guard fd >= 0 else {
      throw InputError(path: inputPath, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    let reader = LineReader(fileDescriptor: fd, maxLineBytes: configuration.maxLineBytes)
    return try run(programs: programs, configuration: configuration, reader: reader)
  }

  /// Replays in-memory NDJSON text.
  public static func run(programs: ProgramSet, configuration: ReplayConfiguration, text: String)
    throws -> Output
  {
    let reader = memoryReader(Array(text.utf8), maxLineBytes: configuration.maxLineBytes)
    return try run(programs: programs, configuration: configuration, reader: reader)
  }

  /// A line reader over bytes already in memory.
  static func memoryReader(_ bytes: [UInt8], maxLineBytes: Int = LineReader.defaultMaxLineBytes)
    -> LineReader
  {
    var position = 0
    return LineReader(maxLineBytes: maxLineBytes) { target in
      let n = min(target.count, bytes.count - position)
      bytes.withUnsafeBytes { source in
        target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<position + n]))
      }
      position += n
      return n
    }
  }

  /// Replays everything `reader` yields.
  public static func run(programs: ProgramSet, configuration: ReplayConfiguration, reader: LineReader)
    throws -> Output
  {
    var output = Output()
    var alerts: [UInt8] = []
    var deadLetters: [UInt8] = []
    let session = ReplaySession(
      programs: programs, configuration: configuration,
      alerts: { alerts += $0 }, deadLetters: { deadLetters += $0 })
    try session.consumeAll(from: reader)
    try session.finish()
    output.alerts = alerts
    output.deadLetters = deadLetters
    output.counters = session.counters
    return output
  }
}
