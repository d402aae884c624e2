import TocsinCore

/// Renders diagnostics as an editor-parseable header plus a caret snippet.
///
///     rules/geo.tcs:12:9: error: unknown function 'distanse_km'
///        |
///     12 |   where distanse_km(first.lat, first.lon, lat, lon) > 500
///        |         ^~~~~~~~~~~
///        = hint: did you mean 'distance_km'?
///
/// The caret sits under the first *character* of the range and `~` covers the rest of the range on
/// that line (an empty range gets a lone `^`). The gutter is as wide as the widest line number the
/// diagnostic shows. Notes follow as `path:line:col: note: …` with their own snippet. Colour (ANSI
/// escapes) is for terminals only; the caller decides.
public struct DiagnosticRenderer: Sendable {
  /// Whether to emit ANSI colour escapes.
  public var colored: Bool

  /// Creates a renderer.
  public init(colored: Bool) {
    self.colored = colored
  }

  /// One diagnostic with its snippet, hint and notes; ends with `"\n"`.
  public func render(_ diagnostic: Diagnostic) -> String {
    let primary = diagnostic.file.location(of: diagnostic.range.start)
    var lines = [primary.line]
    for note in diagnostic.notes { lines.append(note.file.location(of: note.range.start).line) }
    let gutterWidth = lines.map { String($0).count }.max() ?? 1
    let accent = color(for: diagnostic.severity)

    var out = header(
      path: diagnostic.file.path, location: primary, label: diagnostic.severity.rawValue,
      labelColor: accent, message: diagnostic.message)
    out += snippet(
      file: diagnostic.file, range: diagnostic.range, location: primary, gutterWidth: gutterWidth,
      markerColor: accent)
    if let hint = diagnostic.hint {
      out += paint(String(repeating: " ", count: gutterWidth) + " =", Style.gutter)
      out += " " + paint("hint:", Style.bold) + " " + hint + "\n"
    }
    for note in diagnostic.notes {
      let location = note.file.location(of: note.range.start)
      out += header(
        path: note.file.path, location: location, label: "note", labelColor: Style.note,
        message: note.message)
      out += snippet(
        file: note.file, range: note.range, location: location, gutterWidth: gutterWidth,
        markerColor: Style.note)
    }
    return out
  }

  /// Every diagnostic in the given order, concatenated.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map { render($0) }.joined()
  }

  // MARK: - Pieces

  private func header(
    path: String, location: SourceLocation, label: String, labelColor: String, message: String
  ) -> String {
    paint("\(path):\(location.line):\(location.column):", Style.bold) + " "
      + paint("\(label):", labelColor) + " " + paint(message, Style.bold) + "\n"
  }

  private func snippet(
    file: SourceFile, range: SourceRange, location: SourceLocation, gutterWidth: Int,
    markerColor: String
  ) -> String {
    let blank = String(repeating: " ", count: gutterWidth)
    let (text, startColumn, endColumn) = visibleLine(file: file, range: range, location: location)
    let characters = Array(text)
    let width = max(1, endColumn - startColumn)
    // Keep tabs in the padding so the caret lines up however the terminal expands them.
    let padding = String(characters[0..<startColumn].map { $0 == "\t" ? "\t" : " " })
    let number = String(location.line)
    let numberPadded = String(repeating: " ", count: gutterWidth - number.count) + number

    var out = paint(blank + " |", Style.gutter) + "\n"
    out += paint(numberPadded + " |", Style.gutter) + (text.isEmpty ? "" : " " + text) + "\n"
    out += paint(blank + " |", Style.gutter) + " " + padding
      + paint("^" + String(repeating: "~", count: width - 1), markerColor) + "\n"
    return out
  }

  /// The longest line shown whole, in bytes; longer lines show a window around the range.
  static let longLineBytes = 240

  /// The text shown for the line of `location`, and the character columns (0-based, into that
  /// text) where the marker starts and ends.
  ///
  /// A line longer than ``longLineBytes`` (minified or generated rules) is cut to a window of
  /// that many bytes starting a little before the range, with `…` where text was cut, so each
  /// diagnostic costs O(window) rather than O(line): 50 000 errors on one line must not render
  /// 50 000 copies of it.
  private func visibleLine(file: SourceFile, range: SourceRange, location: SourceLocation)
    -> (text: String, start: Int, end: Int)
  {
    let lineStart = file.lineStarts[location.line - 1]
    var lineEnd = location.line < file.lineStarts.count ? file.lineStarts[location.line] - 1 : file.bytes.count
    if lineEnd > lineStart && file.bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
    let endLocation = file.location(of: range.end)
    guard lineEnd - lineStart > Self.longLineBytes else {
      let text = file.lineText(location.line)
      let count = text.count
      let start = min(location.column - 1, count)
      // The span ends at the range's end or at the end of the line, whichever comes first.
      let end = endLocation.line == location.line ? min(endLocation.column - 1, count) : count
      return (text, start, end)
    }
    let bytes = file.bytes
    let isContinuation = { (i: Int) in bytes[i] & 0xC0 == 0x80 }
    let anchor = min(max(range.start, lineStart), lineEnd)
    var from = max(lineStart, anchor - Self.longLineBytes / 4)
    while from < anchor && isContinuation(from) { from += 1 }
    var to = min(lineEnd, from + Self.longLineBytes)
    while to > anchor && to < lineEnd && isContinuation(to) { to -= 1 }
    let head = from > lineStart ? "…" : ""
    let tail = to < lineEnd ? "…" : ""
    let shown = String(decoding: bytes[from..<to], as: UTF8.self)
    let start = head.count + String(decoding: bytes[from..<anchor], as: UTF8.self).count
    let rangeEnd = min(max(range.end, anchor), to)
    let end = start + String(decoding: bytes[anchor..<rangeEnd], as: UTF8.self).count
    return (head + shown + tail, start, end)
  }

  private func color(for severity: DiagnosticSeverity) -> String {
    switch severity {
    case .error: return Style.error
    case .warning: return Style.warning
    case .note: return Style.note
    }
  }

  private func paint(_ text: String, _ style: String) -> String {
    colored ? style + text + Style.reset : text
  }

  /// ANSI SGR sequences.
  enum Style {
    static let reset = "\u{1B}[0m"
    static let bold = "\u{1B}[1m"
    static let error = "\u{1B}[1;31m"
    static let warning = "\u{1B}[1;33m"
    static let note = "\u{1B}[1;36m"
    static let gutter = "\u{1B}[1;34m"
  }
}
