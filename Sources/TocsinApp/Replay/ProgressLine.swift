import Foundation
import TocsinCore

/// The progress line `tocsin run` draws on standard error while replaying a regular file:
/// bytes read of the total, events per second and the time left, redrawn in place with `\r` at
/// most every 0.5 s and cleared at the end.
///
/// Shown only when standard error is a terminal (so CI logs and redirected output stay clean)
/// and the input is a regular file (its size gives the total); `--no-progress` turns it off.
final class ProgressLine {
  /// The input size in bytes.
  let totalBytes: Int64
  private let clock = ContinuousClock()
  private let started: ContinuousClock.Instant
  private var lastDraw: ContinuousClock.Instant
  private var drawn = false
  private let write: (String) -> Void

  /// Redraw at most this often.
  static let interval = Duration.milliseconds(500)

  init(totalBytes: Int64, write: @escaping (String) -> Void = ProgressLine.writeToStandardError) {
    self.totalBytes = totalBytes
    started = clock.now
    lastDraw = started
    self.write = write
  }

  /// A progress line for `inputPath` when it should be shown: a regular file, standard error a
  /// terminal, and not disabled.
  static func make(inputPath: String?, enabled: Bool) -> ProgressLine? {
    guard enabled, let path = inputPath, isatty(STDERR_FILENO) == 1 else { return nil }
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return ProgressLine(totalBytes: Int64(info.st_size))
  }

  /// Redraws if 0.5 s have passed since the last drawing.
  func update(bytesRead: Int64, events: Int) {
    let now = clock.now
    guard now - lastDraw >= ProgressLine.interval else { return }
    lastDraw = now
    let elapsed = now - started
    let seconds = elapsed.inSeconds
    write("\r" + ProgressLine.format(bytesRead: bytesRead, totalBytes: totalBytes, events: events, elapsed: seconds) + "\u{1B}[K")
    drawn = true
  }

  /// Erases the line (at the end of the run, before the summary).
  func clear() {
    if drawn { write("\r\u{1B}[K") }
    drawn = false
  }

  /// The line's text, e.g. `42.1% 120.5 MiB / 286.1 MiB, 1234567 events, 812.3k events/s, ETA 0:03:12`.
  static func format(bytesRead: Int64, totalBytes: Int64, events: Int, elapsed: Double) -> String {
    let fraction = totalBytes > 0 ? min(1, Double(bytesRead) / Double(totalBytes)) : 1
    var text = String(format: "%5.1f%% ", fraction * 100)
    text += "\(size(bytesRead)) / \(size(totalBytes)), \(events) events, "
    let rate = elapsed > 0 ? Double(events) / elapsed : 0
    text += "\(count(rate)) events/s, ETA "
    let byteRate = elapsed > 0 ? Double(bytesRead) / elapsed : 0
    if byteRate > 0, bytesRead <= totalBytes {
      text += clockTime(Double(totalBytes - bytesRead) / byteRate)
    } else {
      text += "--:--"
    }
    return text
  }

  /// `512 B`, `1.5 KiB`, `120.5 MiB`, `2.0 GiB`.
  static func size(_ bytes: Int64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"]
    guard bytes >= 1024 else { return "\(bytes) B" }
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return String(format: "%.1f", value) + " " + units[unit]
  }

  /// `950`, `12.3k`, `1.2M`.
  static func count(_ value: Double) -> String {
    if value < 1000 { return String(Int(value)) }
    if value < 1_000_000 { return String(format: "%.1fk", value / 1000) }
    return String(format: "%.1fM", value / 1_000_000)
  }

  /// `0:07`, `3:12`, `1:02:03` (seconds rounded up, so an unfinished run never shows 0:00).
  static func clockTime(_ seconds: Double) -> String {
    let total = Int(min(seconds, 359_999).rounded(.up))
    let h = total / 3600
    let m = total / 60 % 60
    let s = total % 60
    return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
  }

  static func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { Foundation.write(STDERR_FILENO, $0.baseAddress, $0.count) }
  }
}
