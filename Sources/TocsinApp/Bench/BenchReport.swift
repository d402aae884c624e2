import Foundation
import TocsinCore

/// A whole `tocsin bench` run: where it ran, with what settings, and every workload's result.
///
/// `--json` prints it and `--save-baseline FILE` writes it; `--baseline FILE` reads one back and
/// puts each figure's ratio new/old next to it in the table (``BenchTable``).
public struct BenchReport: Codable, Equatable, Sendable {
  /// The file format's version; a reader rejects versions it does not know.
  public var format = 1
  /// `git rev-parse HEAD` of the working directory (with `-dirty` when it has changes), if any.
  /// It names the tree at `--root`, not necessarily the build that ran: see ``binary``.
  public var commit: String?
  /// A fingerprint of the executable that ran the workloads (the first 12 hex digits of a
  /// stable hash of its bytes), so that two reports made from the same tree by different builds
  /// (a saved binary against a fresh one, as `--baseline` comparisons usually are) tell which
  /// build each is. `nil` in reports written before it was recorded, or when the executable
  /// could not be read.
  public var binary: String?
  /// When the run started, RFC 3339 UTC.
  public var date: String
  /// The machine.
  public var machine: Machine
  /// The settings the workloads were generated and timed with.
  public var settings: Settings
  /// One result per workload, in the order run.
  public var results: [BenchResult]

  /// The machine a report was measured on.
  public struct Machine: Codable, Equatable, Sendable {
    /// Online processors.
    public var cores: Int
    /// The CPU's model name from `/proc/cpuinfo`, if readable.
    public var cpu: String?
    /// Operating system name and release.
    public var system: String
    /// Physical memory in bytes.
    public var memoryBytes: UInt64
    /// The kernel's transparent-huge-page mode (`always`, `madvise` or `never`, from
    /// `/sys/kernel/mm/transparent_hugepage/enabled`), where it could be read. The engine asks
    /// for huge pages for its large tables (`HugePages`), which `never` refuses: figures from
    /// machines in different modes are not comparable. Absent in reports from before session 25.
    public var transparentHugePages: String?
    /// Whether malloc's heap was on transparent huge pages (`glibc.malloc.hugetlb=1`, which
    /// `tocsin run` and `tocsin bench` turn on with `TOCSIN_HEAP_HUGE_PAGES=1`, and by default
    /// from session 33 to 47: `HeapHugePages`). Absent in reports from before session 33, whose
    /// heap was not.
    public var heapHugePages: Bool?
    /// When the engine's large blocks were advised huge pages (`HugePages.Policy.Advice`'s text:
    /// `from the start`, or, on a machine that reports free pages to its host, only after the
    /// first 30 s of a run, which no bench pass lasts; `TOCSIN_HUGE_PAGES` overrides). Absent in
    /// reports from before session 48, whose blocks were always advised.
    public var engineHugePages: String?
    /// Why ``engineHugePages`` is what it is.
    public var engineHugePagesReason: String?

    /// Creates a machine description.
    public init(
      cores: Int, cpu: String?, system: String, memoryBytes: UInt64, transparentHugePages: String? = nil,
      heapHugePages: Bool? = nil, engineHugePages: String? = nil, engineHugePagesReason: String? = nil
    ) {
      self.cores = cores
      self.cpu = cpu
      self.system = system
      self.memoryBytes = memoryBytes
      self.transparentHugePages = transparentHugePages
      self.heapHugePages = heapHugePages
      self.engineHugePages = engineHugePages
      self.engineHugePagesReason = engineHugePagesReason
    }
  }

  /// How the workloads were sized and timed.
  public struct Settings: Codable, Equatable, Sendable {
    /// `--events`.
    public var events: Int
    /// `--runs`.
    public var runs: Int
    /// `--seed`.
    public var seed: UInt64
    /// Whether each workload ran in its own child process (so peak RSS is its own).
    public var isolated: Bool
    /// The build configuration of the measuring executable (`debug` or `release`).
    public var build: String
    /// `--max-disorder` (a duration, as it reads), when it replaced the workloads' own; absent
    /// from reports of runs without it, and of builds from before it.
    public var maxDisorder: String?

    /// Creates settings.
    public init(
      events: Int, runs: Int, seed: UInt64, isolated: Bool, build: String, maxDisorder: EventDuration? = nil
    ) {
      self.events = events
      self.runs = runs
      self.seed = seed
      self.isolated = isolated
      self.build = build
      self.maxDisorder = maxDisorder?.description
    }

    /// The streams' arrival disorder: ``maxDisorder``, or the workloads' own.
    var disorder: String { maxDisorder ?? PaymentStreamConfig.defaultMaxDisorder.description }

    /// How the streams' arrival disorder was set, for the lines under a table.
    var disorderLine: String? {
      maxDisorder.map {
        "arrival disorder: at most \($0) in every workload's stream (--max-disorder; the workloads' own is "
          + "\(PaymentStreamConfig.defaultMaxDisorder))\n"
      }
    }
  }

  /// Creates a report.
  public init(
    commit: String?, binary: String? = nil, date: String, machine: Machine, settings: Settings,
    results: [BenchResult]
  ) {
    self.commit = commit
    self.binary = binary
    self.date = date
    self.machine = machine
    self.settings = settings
    self.results = results
  }

  /// Why a baseline file could not be used.
  public struct BaselineError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What is wrong with it.
    public var reason: String
    public var description: String { "\(path): error: \(reason)" }
  }

  // MARK: - JSON

  /// The report as pretty-printed JSON with sorted keys, newline-terminated.
  public func jsonData() throws -> Data { try Self.prettyJSON(self) }

  /// `value` as the bench writes its documents: pretty-printed JSON with sorted keys,
  /// newline-terminated (reports, baselines, ``BenchComparison``).
  static func prettyJSON(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    return data
  }

  /// A report decoded from JSON.
  /// - Throws: ``BaselineError`` naming `path` when the data is not a report of a known format.
  public static func decode(_ data: Data, path: String) throws -> BenchReport {
    let report: BenchReport
    do {
      report = try JSONDecoder().decode(BenchReport.self, from: data)
    } catch {
      throw BaselineError(path: path, reason: "not a tocsin bench report (\(error))")
    }
    guard report.format == 1 else {
      throw BaselineError(path: path, reason: "report format \(report.format) is not supported (expected 1)")
    }
    return report
  }

  /// The report in the file at `path`.
  /// - Throws: ``BaselineError`` when the file cannot be read or decoded.
  public static func load(path: String) throws -> BenchReport {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw BaselineError(path: path, reason: "cannot read the baseline file")
    }
    return try decode(data, path: path)
  }

  /// The result for workload `name`, if the report has one.
  public func result(named name: String) -> BenchResult? { results.first { $0.name == name } }
}
