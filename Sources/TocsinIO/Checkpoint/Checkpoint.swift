import TocsinCore
import TocsinRuntime

/// Everything a resumed `tocsin run` needs: the engine's state, where the input and the sinks
/// stood when it was taken, and what the rules were.
///
/// Binary file layout (all integers little-endian; see docs/operations.md):
///
///     "TOCSINCK"  magic, 8 bytes
///     u32         format version (``formatVersion``)
///     section*    u32 id, u64 length, payload
///     u32         CRC-32C of every byte before it
///
/// Sections (``Section``) are length-prefixed, so a reader skips ids it does not know; that is
/// the extension point for components with their own state (alert suppression is id 10, time
/// calibration 12, held input lines 13, free key ids 14, undelivered sink records 15; sinks record their positions in the `sinks` section). A
/// torn or damaged file fails the checksum and is never decoded.
public struct Checkpoint {
  /// The current format version; a file with another version is not read.
  public static let formatVersion: UInt32 = 1
  /// The file's first 8 bytes.
  public static let magic: [UInt8] = Array("TOCSINCK".utf8)

  /// Section ids. Never renumber; add new ids.
  public enum Section: UInt32, CaseIterable {
    /// Input position.
    case input = 1
    /// Rule names and fingerprints, and the field projection.
    case rules = 2
    /// The replay session's sequence counter and line counters.
    case session = 3
    /// Stored events.
    case events = 4
    /// The shared match buffer's nodes.
    case nodes = 5
    /// Key spaces (key values in id order).
    case keySpaces = 6
    /// Per rule: counters and per-key partial and held matches.
    case ruleStates = 7
    /// Reorder buffer, time-skew suspects, eviction order.
    case buffers = 8
    /// Watermark, newest event time, engine counters.
    case engine = 9
    /// Alert suppression: per rule its alert clock and suppressed count, and the live entries.
    case suppression = 10
    /// Sink positions: `(name, position)` pairs.
    case sinks = 11
    /// Time calibration: whether it is still running, the events it holds, the time base.
    case calibration = 12
    /// Copies of the input lines of events held by time calibration (for their dead letters).
    case heldLines = 13
    /// Per key space: its free (reclaimed, not reused) key ids in reuse order, and how many keys
    /// were reclaimed. The ids' values in `keySpaces` are null.
    case freeKeys = 14
    /// Per webhook sink: the records it had accepted but not yet delivered nor spilled.
    case sinkRecords = 15
  }

  /// A rule and the fingerprint of its compiled form.
  public struct RuleFingerprint: Equatable, Sendable {
    /// The rule's name.
    public var name: String
    /// A stable hash of its canonical compiled form.
    public var fingerprint: String
    /// Creates a fingerprint entry.
    public init(name: String, fingerprint: String) {
      self.name = name
      self.fingerprint = fingerprint
    }
  }

  /// Where the input stood: everything before `byteOffset` (and through line `line`) was consumed.
  public struct InputPosition: Equatable, Sendable {
    /// The input file's path, or `nil` for standard input.
    public var path: String?
    /// Bytes consumed (lines fully handed out).
    public var byteOffset: Int64
    /// Lines consumed.
    public var line: Int
    /// Creates a position.
    public init(path: String?, byteOffset: Int64, line: Int) {
      self.path = path
      self.byteOffset = byteOffset
      self.line = line
    }
  }

  /// A sink's position (for a file: its length in bytes).
  public struct SinkPosition: Equatable, Sendable {
    /// The sink's position key, e.g. `file:alerts.ndjson` or `stdout:console`.
    public var name: String
    /// Its position.
    public var position: Int64
    /// Creates a sink position.
    public init(name: String, position: Int64) {
      self.name = name
      self.position = position
    }
  }

  /// The replay session's own state.
  public struct SessionState: Equatable, Sendable {
    /// The next event's arrival sequence number.
    public var sequence: UInt64
    /// Named counters, in a fixed order chosen by the session.
    public var counters: [Counter]
    /// One named counter.
    public struct Counter: Equatable, Sendable {
      /// Its name.
      public var name: String
      /// Its value.
      public var value: Int
      /// Creates a counter.
      public init(name: String, value: Int) {
        self.name = name
        self.value = value
      }
    }
    /// Creates a session state.
    public init(sequence: UInt64, counters: [Counter]) {
      self.sequence = sequence
      self.counters = counters
    }
  }

  /// The rules when the checkpoint was taken, in program order.
  public var rules: [RuleFingerprint]
  /// The event decoder's projection (slot `i` holds `projection[i]`).
  public var projection: [FieldPath]
  /// The input position.
  public var input: InputPosition
  /// Sink positions.
  public var sinks: [SinkPosition]
  /// The session state.
  public var session: SessionState
  /// The engine state.
  public var engine: EngineSnapshot
  /// The suppression state; `nil` when no rule suppresses.
  public var suppression: SuppressionState?
  /// Lines of events held by time calibration, ascending by line.
  public var heldLines: [HeldLine]
  /// Per sink name, the records it had accepted but neither delivered nor spilled (a webhook's
  /// queue and batch in flight), oldest first; a resume queues them again.
  public var sinkRecords: [(sink: String, records: [[UInt8]])] = []
  /// Sections this version does not interpret, kept as bytes.
  public var extraSections: [(id: UInt32, payload: [UInt8])]

  /// Creates a checkpoint.
  public init(
    rules: [RuleFingerprint], projection: [FieldPath], input: InputPosition, sinks: [SinkPosition],
    session: SessionState, engine: EngineSnapshot, suppression: SuppressionState? = nil,
    heldLines: [HeldLine] = [], extraSections: [(id: UInt32, payload: [UInt8])] = []
  ) {
    self.suppression = suppression
    self.heldLines = heldLines
    self.rules = rules
    self.projection = projection
    self.input = input
    self.sinks = sinks
    self.session = session
    self.engine = engine
    self.extraSections = extraSections
  }

  /// The position recorded for sink `name`.
  public func sinkPosition(_ name: String) -> Int64? { sinks.first { $0.name == name }?.position }
}

/// Why a checkpoint file could not be used.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  /// Shorter than a header and checksum, or the magic is wrong.
  case notACheckpoint
  /// Written by another format version.
  case unsupportedVersion(UInt32)
  /// The checksum does not match (a torn or damaged file).
  case checksumMismatch
  /// The checksum matched but the content is inconsistent.
  case malformed(String)

  public var description: String {
    switch self {
    case .notACheckpoint: return "not a checkpoint file"
    case .unsupportedVersion(let v): return "unsupported checkpoint format version \(v)"
    case .checksumMismatch: return "checksum mismatch (torn or damaged file)"
    case .malformed(let what): return "malformed checkpoint: \(what)"
    }
  }
}

extension Checkpoint {
  /// The file bytes.
  public func encoded() -> [UInt8] {
    var out = BinaryWriter()
    out.raw(Checkpoint.magic)
    out.fixed32(Checkpoint.formatVersion)
    func section(_ id: UInt32, _ body: (inout BinaryWriter) -> Void) {
      var payload = BinaryWriter()
      body(&payload)
      out.fixed32(id)
      out.fixed64(UInt64(payload.bytes.count))
      out.raw(payload.bytes)
    }
    section(Section.input.rawValue) { w in
      w.optionalString(input.path)
      w.signed(input.byteOffset)
      w.count(input.line)
    }
    section(Section.rules.rawValue) { w in
      w.count(rules.count)
      for rule in rules {
        w.string(rule.name)
        w.string(rule.fingerprint)
      }
      w.count(projection.count)
      for path in projection { w.fieldPath(path) }
    }
    section(Section.session.rawValue) { w in
      w.varint(session.sequence)
      w.count(session.counters.count)
      for counter in session.counters {
        w.string(counter.name)
        w.signed(Int64(counter.value))
      }
    }
    section(Section.sinks.rawValue) { w in
      w.count(sinks.count)
      for sink in sinks {
        w.string(sink.name)
        w.signed(sink.position)
      }
    }
    EngineSnapshotCoding.encode(engine, section: section)
    SessionSectionsCoding.encode(self, section: section)
    for extra in extraSections { section(extra.id) { $0.raw(extra.payload) } }
    out.fixed32(CRC32C.checksum(out.bytes))
    return out.bytes
  }

  /// Decodes file bytes, verifying magic, version and checksum first.
  public init(decoding bytes: [UInt8]) throws(CheckpointError) {
    let header = Checkpoint.magic.count + 4
    guard bytes.count >= header + 4, bytes.starts(with: Checkpoint.magic) else { throw .notACheckpoint }
    let body = bytes.count - 4
    var trailer = BinaryReader(bytes, range: body..<bytes.count)
    let stored = (try? trailer.fixed32()) ?? 0
    guard CRC32C.checksum(bytes[0..<body]) == stored else { throw .checksumMismatch }
    var reader = BinaryReader(bytes, range: Checkpoint.magic.count..<body)
    do {
      let version = try reader.fixed32()
      guard version == Checkpoint.formatVersion else { throw CheckpointError.unsupportedVersion(version) }
      var sections: [UInt32: Range<Int>] = [:]
      var extras: [(id: UInt32, payload: [UInt8])] = []
      while reader.remaining > 0 {
        let id = try reader.fixed32()
        let length = try reader.fixed64()
        guard length <= UInt64(reader.remaining) else { throw CheckpointError.malformed("section \(id) overruns the file") }
        let range = reader.position..<(reader.position + Int(length))
        try reader.skip(Int(length))
        if Section(rawValue: id) == nil {
          extras.append((id, Array(bytes[range])))
        } else {
          sections[id] = range
        }
      }
      func open(_ section: Section) throws -> BinaryReader {
        guard let range = sections[section.rawValue] else { throw CheckpointError.malformed("missing section \(section)") }
        return BinaryReader(bytes, range: range)
      }
      var r = try open(.input)
      input = InputPosition(path: try r.optionalString(), byteOffset: try r.signed(), line: try r.count(limit: Int.max))
      r = try open(.rules)
      rules = []
      for _ in 0..<(try r.count()) { rules.append(RuleFingerprint(name: try r.string(), fingerprint: try r.string())) }
      projection = []
      for _ in 0..<(try r.count()) { projection.append(try r.fieldPath()) }
      r = try open(.session)
      let sequence = try r.varint()
      var counters: [SessionState.Counter] = []
      for _ in 0..<(try r.count()) {
        counters.append(SessionState.Counter(name: try r.string(), value: Int(try r.signed())))
      }
      session = SessionState(sequence: sequence, counters: counters)
      r = try open(.sinks)
      sinks = []
      for _ in 0..<(try r.count()) { sinks.append(SinkPosition(name: try r.string(), position: try r.signed())) }
      engine = try EngineSnapshotCoding.decode(open, openOptional: { sections[$0.rawValue].map { BinaryReader(bytes, range: $0) } })
      suppression = try sections[Section.suppression.rawValue].map {
        var r = BinaryReader(bytes, range: $0)
        return try SessionSectionsCoding.decodeSuppression(&r)
      }
      heldLines = try sections[Section.heldLines.rawValue].map {
        var r = BinaryReader(bytes, range: $0)
        return try SessionSectionsCoding.decodeHeldLines(&r)
      } ?? []
      sinkRecords = try sections[Section.sinkRecords.rawValue].map {
        var r = BinaryReader(bytes, range: $0)
        return try SessionSectionsCoding.decodeSinkRecords(&r)
      } ?? []
      extraSections = extras
    } catch let error as CheckpointError {
      throw error
    } catch let error as BinaryDecodingError {
      throw CheckpointError.malformed(error.description)
    } catch {
      throw CheckpointError.malformed("\(error)")
    }
  }
}
