/// A rule file's text with its name, and line/column lookup.
///
/// Ranges are byte offsets into ``bytes``; line and column are computed on demand (the
/// `SourceLocationConverter` idea from swift-syntax), so AST nodes stay small.
public final class SourceFile: Sendable {
  /// The path as the user gave it, used verbatim in `path:line:col` headers.
  public let path: String
  /// The UTF-8 text.
  public let text: String
  /// The text's bytes.
  public let bytes: [UInt8]
  /// Byte offset at which each line starts; `lineStarts[0] == 0`.
  public let lineStarts: [Int]
  /// Per line, whether it is all ASCII (then a column is a byte distance, found in O(1)).
  private let asciiLines: [Bool]

  /// Creates a source file from its text.
  public init(path: String, text: String) {
    self.path = path
    self.text = text
    let bytes = Array(text.utf8)
    self.bytes = bytes
    var starts = [0]
    var ascii: [Bool] = []
    var lineIsASCII = true
    for (i, b) in bytes.enumerated() {
      if b == UInt8(ascii: "\n") {
        starts.append(i + 1)
        ascii.append(lineIsASCII)
        lineIsASCII = true
      } else if b >= 0x80 {
        lineIsASCII = false
      }
    }
    ascii.append(lineIsASCII)
    self.lineStarts = starts
    self.asciiLines = ascii
  }

  /// The 1-based line and column of a byte offset. The column counts *characters*
  /// (extended grapheme clusters) from the line start, so a caret lines up under non-ASCII text.
  public func location(of offset: Int) -> SourceLocation {
    let clamped = min(max(offset, 0), bytes.count)
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
    }
    let start = lineStarts[lo]
    // ASCII has one character per byte ("\r\n" is one grapheme, but it ends the line).
    if asciiLines[lo] { return SourceLocation(line: lo + 1, column: clamped - start + 1, offset: clamped) }
    let prefix = String(decoding: bytes[start..<clamped], as: UTF8.self)
    return SourceLocation(line: lo + 1, column: prefix.count + 1, offset: clamped)
  }

  /// The text of 1-based line `line`, without its line terminator.
  public func lineText(_ line: Int) -> String {
    guard line >= 1 && line <= lineStarts.count else { return "" }
    let start = lineStarts[line - 1]
    var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
    if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
  }

  /// The source text covered by `range`.
  public func text(of range: SourceRange) -> String {
    let lo = min(max(range.start, 0), bytes.count)
    let hi = min(max(range.end, lo), bytes.count)
    return String(decoding: bytes[lo..<hi], as: UTF8.self)
  }
}

/// A 1-based line and character column, plus the byte offset it came from.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
  /// 1-based line.
  public var line: Int
  /// 1-based column in characters.
  public var column: Int
  /// The byte offset.
  public var offset: Int

  /// Creates a location.
  public init(line: Int, column: Int, offset: Int) {
    self.line = line
    self.column = column
    self.offset = offset
  }

  public var description: String { "\(line):\(column)" }
}

/// A half-open range of byte offsets `start..<end` in one ``SourceFile``.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  /// First byte.
  public var start: Int
  /// One past the last byte; equal to `start` for an empty (insertion point) range.
  public var end: Int

  /// Creates a range; `end` is clamped to be at least `start`.
  public init(start: Int, end: Int) {
    self.start = start
    self.end = max(start, end)
  }

  /// An empty range at `offset`.
  public static func at(_ offset: Int) -> SourceRange { SourceRange(start: offset, end: offset) }

  /// The smallest range covering both.
  public func union(_ other: SourceRange) -> SourceRange {
    SourceRange(start: min(start, other.start), end: max(end, other.end))
  }

  /// The number of bytes covered.
  public var length: Int { end - start }
  public var description: String { "\(start)..<\(end)" }
}

/// A value with the source range it was written at (names, literals).
public struct Located<Value> {
  /// The value.
  public var value: Value
  /// Where it was written.
  public var range: SourceRange

  /// Pairs a value with its range.
  public init(_ value: Value, at range: SourceRange) {
    self.value = value
    self.range = range
  }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
extension Located: Sendable where Value: Sendable {}
