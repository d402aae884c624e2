import Foundation
import TocsinCore
import TocsinRuntime

/// Where a benchmark runs: machine, commit, clock; and the process's peak-RSS window.
public enum MachineInfo {
  /// The current machine.
  public static func current() -> BenchReport.Machine {
    let info = ProcessInfo.processInfo
    var system = info.operatingSystemVersionString
    #if os(Linux)
      system = "Linux " + system
    #endif
    return BenchReport.Machine(
      cores: info.activeProcessorCount, cpu: cpuModel(), system: system,
      memoryBytes: info.physicalMemory, transparentHugePages: transparentHugePageMode(),
      heapHugePages: HeapHugePages.isOn, engineHugePages: HugePages.policy.advice.text,
      engineHugePagesReason: HugePages.policy.reason.rawValue)
  }

  /// The kernel's transparent-huge-page mode, or `nil` where the setting cannot be read.
  static func transparentHugePageMode() -> String? {
    guard let data = FileManager.default.contents(atPath: "/sys/kernel/mm/transparent_hugepage/enabled")
    else { return nil }
    return selectedMode(String(decoding: data, as: UTF8.self))
  }

  /// The bracketed word of a kernel setting that lists its choices with the current one in
  /// brackets (`always [madvise] never` → `madvise`); `nil` when there is none.
  public static func selectedMode(_ setting: String) -> String? {
    for word in setting.split(whereSeparator: \.isWhitespace)
    where word.count > 2 && word.first == "[" && word.last == "]" {
      return String(word.dropFirst().dropLast())
    }
    return nil
  }

  /// The first `model name` of `/proc/cpuinfo`, or `nil` where there is none.
  static func cpuModel() -> String? {
    guard let data = FileManager.default.contents(atPath: "/proc/cpuinfo") else { return nil }
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n")
    where line.hasPrefix("model name") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return nil
  }

  /// `git rev-parse HEAD` in `directory`, with `-dirty` appended when tracked files have
  /// changes; `nil` when git is missing or `directory` is not in a repository.
  public static func commit(in directory: String) -> String? {
    guard let head = git(["rev-parse", "HEAD"], in: directory), !head.isEmpty else { return nil }
    let changes = git(["status", "--porcelain", "--untracked-files=no"], in: directory) ?? ""
    return changes.isEmpty ? head : head + "-dirty"
  }

  /// The first 12 hex digits of the stable hash of the file at `path` (the running executable,
  /// for ``BenchReport/binary``); `nil` when it cannot be read. ~20 ms for an 18 MB binary.
  public static func fingerprint(ofFile path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    var hash = StableHash()
    data.withUnsafeBytes { hash.combine(bytes: $0) }
    return String(hash.hex.prefix(12))
  }

  private static func git(_ arguments: [String], in directory: String) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", directory] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Now, as RFC 3339 UTC with seconds.
  public static func timestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }

  /// Starts a new peak-RSS window: the kernel's high-water mark (`VmHWM`) drops to the current
  /// resident size (`echo 5 > /proc/self/clear_refs`, Linux 4.0+). Returns whether it worked;
  /// where it does not, the peak includes everything before.
  @discardableResult
  public static func resetPeakResident() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
    return true
  }
}
