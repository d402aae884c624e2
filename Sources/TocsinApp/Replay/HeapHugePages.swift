import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Transparent huge pages for malloc's heap, through glibc's `glibc.malloc.hugetlb=1` tunable:
/// off unless asked for with `TOCSIN_HEAP_HUGE_PAGES=1`.
///
/// The engine's state (match nodes, partial-match lists, held slot buffers, key texts) lives in
/// malloc's heap and is read at random: on W2, 300 MB of it. In 4 KiB pages every miss that
/// also misses the TLB costs a page walk, and every 4 KiB the state grows into costs a page
/// fault. The engine's own big tables are advised huge pages already (``HugePages``); malloc's
/// heap is not, unless glibc is told at start-up: with `glibc.malloc.hugetlb=1` (glibc 2.35 and
/// later) malloc grows its heaps in 2 MiB steps and advises them `MADV_HUGEPAGE`.
///
/// Why it is not the default (docs/performance.md, sessions 33 and 48): where a huge page's
/// first touch is cheap (session 33's Intel VM) the tunable took W2's task-clock down 2–4% while
/// its state grew, and nothing measurable over the whole 1M stream or on W1. On the Firecracker
/// VMs the project has run on since (free page reporting hands freed memory back to the host, so
/// a fresh 2 MiB page is faulted in by the host as well), each huge page of the heap cost
/// milliseconds of system time to clear: `tocsin run` W2 1M took 6.6 s with it against 3.6 s
/// without (system time 3.3 s against 0.25 s; user time the same), W5 2.4 against 1.2 s, W1 1.04
/// against 0.85 s. A default that can halve the speed for a few percent elsewhere is the wrong
/// way round, so the heap stays in ordinary pages unless the user opts in.
///
/// A tunable is read only when a process starts, so with the opt-in `tocsin run` and
/// `tocsin bench` re-execute themselves once, at the top of `main`, with it added to
/// `GLIBC_TUNABLES` (``reexecIfNeeded(arguments:)``). They do not when:
/// - `TOCSIN_HEAP_HUGE_PAGES` is not `1` (or `on`, `true`, `yes`): the default;
/// - `GLIBC_TUNABLES` already sets `glibc.malloc.hugetlb` (any value: the user's choice wins);
/// - the kernel's transparent huge pages are `never`, or their setting cannot be read;
/// - glibc is older than 2.35 (no such tunable), or not the C library;
/// - `/proc/self/exe` cannot be executed (the process then goes on as it is).
///
/// The tunable is inherited by the processes the command starts: `tocsin bench`'s measuring
/// children run as `tocsin run` does. An `--against` build's children are started with the
/// environment as launched instead (``environmentAsLaunched(_:)``), so an older build runs as it
/// would on its own (builds before session 48 turn the tunable on by default).
public enum HeapHugePages {
  /// The glibc tunable.
  public static let tunable = "glibc.malloc.hugetlb"
  /// The environment variable that turns the re-execution on.
  public static let switchVariable = "TOCSIN_HEAP_HUGE_PAGES"

  /// The `GLIBC_TUNABLES` value to run with, or `nil` to leave the environment as it is.
  ///
  /// - Parameters:
  ///   - current: `GLIBC_TUNABLES` now (colon-separated `name=value` settings).
  ///   - switchValue: `TOCSIN_HEAP_HUGE_PAGES` now.
  ///   - kernelMode: the kernel's transparent huge page mode (`always`, `madvise`, `never`).
  ///   - glibcVersion: the C library's version (`2.36`), `nil` when it is not glibc.
  public static func tunables(current: String?, switchValue: String?, kernelMode: String?, glibcVersion: String?)
    -> String?
  {
    guard let value = switchValue?.lowercased(), ["1", "on", "true", "yes"].contains(value) else { return nil }
    guard let kernelMode, kernelMode == "always" || kernelMode == "madvise" else { return nil }
    guard let glibcVersion, supportsTunable(glibcVersion: glibcVersion) else { return nil }
    let settings = (current ?? "").split(separator: ":", omittingEmptySubsequences: true)
    if settings.contains(where: { $0.hasPrefix(tunable + "=") }) { return nil }
    return (settings + [Substring(tunable + "=1")]).joined(separator: ":")
  }

  /// Whether glibc `version` (`major.minor[.patch]`) has the tunable (2.35 and later).
  static func supportsTunable(glibcVersion version: String) -> Bool {
    let parts = version.split(separator: ".").prefix(2).map { Int($0) }
    guard parts.count == 2, let major = parts[0], let minor = parts[1] else { return false }
    return major > 2 || (major == 2 && minor >= 35)
  }

  /// The C library's version when it is glibc (`confstr(_CS_GNU_LIBC_VERSION)`: `glibc 2.36` →
  /// `2.36`), else `nil`.
  static func glibcVersion() -> String? {
    #if os(Linux) && canImport(Glibc)
      var buffer = [CChar](repeating: 0, count: 64)
      let length = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
      guard length > 0, length <= buffer.count else { return nil }
      let text = String(cString: buffer)
      guard text.hasPrefix("glibc ") else { return nil }
      return String(text.dropFirst("glibc ".count))
    #else
      return nil
    #endif
  }

  /// Set by the re-execution: `GLIBC_TUNABLES` as it was before (absent when it was unset), and
  /// a mark that the tunable was added.
  static let addedMark = "TOCSIN_HEAP_HUGE_PAGES_ADDED"
  static let previousTunables = "TOCSIN_GLIBC_TUNABLES_BEFORE"

  /// `environment` as it was before ``reexecIfNeeded(arguments:)`` added the tunable (the same
  /// when it added nothing), for a process that should run as it would have on its own:
  /// `tocsin bench --against`'s older build.
  public static func environmentAsLaunched(_ environment: [String: String]) -> [String: String] {
    guard environment[addedMark] != nil else { return environment }
    var launched = environment
    launched[addedMark] = nil
    launched["GLIBC_TUNABLES"] = environment[previousTunables]
    launched[previousTunables] = nil
    return launched
  }

  /// Whether this process runs with the tunable on (`GLIBC_TUNABLES` sets it to 1).
  public static var isOn: Bool {
    guard let current = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] else { return false }
    return current.split(separator: ":").contains { $0 == tunable + "=1" }
  }

  /// For `tocsin run` and `tocsin bench`: re-executes the process with the tunable added to
  /// `GLIBC_TUNABLES` when ``tunables(current:switchValue:kernelMode:glibcVersion:)`` says to,
  /// and returns otherwise (or when the re-execution fails, with the environment restored).
  /// Call first thing in `main`, before any input is read: the new image starts from the same
  /// arguments, standard streams and process id.
  public static func reexecIfNeeded(arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) {
    #if os(Linux) && canImport(Glibc)
      let environment = ProcessInfo.processInfo.environment
      let current = environment["GLIBC_TUNABLES"]
      guard
        let value = tunables(
          current: current, switchValue: environment[switchVariable],
          kernelMode: MachineInfo.transparentHugePageMode(), glibcVersion: glibcVersion())
      else { return }
      setenv("GLIBC_TUNABLES", value, 1)
      setenv(addedMark, "1", 1)
      if let current { setenv(previousTunables, current, 1) }
      execv("/proc/self/exe", arguments)
      // Only reached when the exec failed: carry on as we are.
      if let current { setenv("GLIBC_TUNABLES", current, 1) } else { unsetenv("GLIBC_TUNABLES") }
      unsetenv(addedMark)
      unsetenv(previousTunables)
    #endif
  }
}
