import Foundation
import TocsinCore
import TocsinIO
import TocsinLanguage

/// `tocsin test`: replays every fixture case in-process and compares alerts (and dead letters,
/// when the case has a golden file for them) byte for byte, then runs every conformance case
/// (`*.cases` files, see ``ConformanceSuite``) under the same root.
public enum FixtureRunner {
  /// The outcome of one case.
  public enum Outcome: Equatable {
    /// Output equals the golden files.
    case passed
    /// Output differs; the text is a line diff per file.
    case failed(String)
    /// The case could not run (bad rules, bad case.conf, unreadable files).
    case broken(String)
    /// Golden files were (re)written; counts as a failure so recording never passes silently.
    case recorded
    /// A conformance case marked `status pending` (its construct is not implemented yet):
    /// neither passed nor failed. The text says whether it would pass today.
    case pending(String)

    /// Whether the outcome counts as a failure (everything but passed and pending).
    public var isFailure: Bool {
      switch self {
      case .passed, .pending: return false
      case .failed, .broken, .recorded: return true
      }
    }
  }

  /// One case's result.
  public struct CaseResult {
    /// The case name.
    public var name: String
    /// What happened.
    public var outcome: Outcome
  }

  /// All results, in case order.
  public struct Report {
    /// Per-case results.
    public var results: [CaseResult]
    /// Whether every case passed (pending conformance cases aside).
    public var allPassed: Bool { !results.contains { $0.outcome.isFailure } }
    /// Cases that passed.
    public var passed: Int { results.filter { $0.outcome == .passed }.count }
    /// Cases that did not pass (pending ones aside).
    public var failed: Int { results.filter { $0.outcome.isFailure }.count }
    /// Conformance cases marked `status pending`.
    public var pending: Int {
      results.filter { if case .pending = $0.outcome { return true } else { return false } }.count
    }
  }

  /// Every case folder (a folder holding `events.ndjson`) under `root`, sorted by path.
  public static func discover(root: String) throws -> [(directory: String, name: String)] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue
    else { throw RuleSources.LoadError(path: root, reason: "no such directory") }
    if FileManager.default.fileExists(atPath: RuleSources.join(root, "events.ndjson")) {
      let name = root.split(separator: "/").last.map(String.init) ?? root
      return [(root, name)]
    }
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var cases: [(String, String)] = []
    while let relative = enumerator.nextObject() as? String {
      guard relative.hasSuffix("events.ndjson") else { continue }
      let folder = String(relative.dropLast("events.ndjson".count).drop { $0 == "/" })
      let trimmed = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
      guard relative == "events.ndjson" || relative.hasSuffix("/events.ndjson") else { continue }
      cases.append((RuleSources.join(root, trimmed), trimmed.isEmpty ? "." : trimmed))
    }
    return cases.sorted { $0.1 < $1.1 }
  }

  /// Runs every case under `root` whose name contains `filter` (all when `nil`): the fixture
  /// folders, then the conformance cases of every `*.cases` file (named `<file>/<case>`).
  /// `root` may also be a single `*.cases` file. With `record`, writes the golden files of the
  /// fixture folders instead of comparing (conformance expectations are written by hand and
  /// never recorded).
  public static func run(root: String, filter: String?, record: Bool, progress: (CaseResult) -> Void)
    throws -> Report
  {
    var results: [CaseResult] = []
    if root.hasSuffix("." + ConformanceSuite.fileExtension) {
      guard FileManager.default.fileExists(atPath: root) else {
        throw RuleSources.LoadError(path: root, reason: "no such file")
      }
    } else {
      for (directory, name) in try discover(root: root) where filter.map({ name.contains($0) }) ?? true {
        let result = CaseResult(name: name, outcome: runCase(directory: directory, name: name, record: record))
        progress(result)
        results.append(result)
      }
    }
    results += ConformanceSuite.run(root: root, filter: filter, progress: progress)
    return Report(results: results)
  }

  /// Runs one case folder.
  public static func runCase(directory: String, name: String, record: Bool) -> Outcome {
    do {
      let fixture = try FixtureCase.load(directory: directory, name: name)
      let ruleSet = try RuleSet.load(fixture.rulePaths, ingest: fixture.configuration.ingest)
      guard let programs = ruleSet.programs else {
        return .broken(DiagnosticRenderer(colored: false).render(ruleSet.checked.diagnostics))
      }
      let output = try Replay.run(
        programs: programs, configuration: fixture.configuration, inputPath: fixture.eventsPath)
      let alerts = String(decoding: output.alerts, as: UTF8.self)
      let deadLetters = String(decoding: output.deadLetters, as: UTF8.self)
      let fm = FileManager.default
      if record {
        try Data(output.alerts).write(to: URL(fileURLWithPath: fixture.expectedPath))
        if !output.deadLetters.isEmpty || fm.fileExists(atPath: fixture.expectedDeadLettersPath) {
          try Data(output.deadLetters).write(to: URL(fileURLWithPath: fixture.expectedDeadLettersPath))
        }
        return .recorded
      }
      guard let expected = fm.contents(atPath: fixture.expectedPath) else {
        return .broken("missing \(fixture.expectedPath); run 'tocsin test --record' and review it")
      }
      var diffs = ""
      let alertDiff = LineDiff.render(expected: String(decoding: expected, as: UTF8.self), actual: alerts)
      if !alertDiff.isEmpty { diffs += "alerts (\(fixture.expectedPath)):\n" + alertDiff }
      if let expectedDead = fm.contents(atPath: fixture.expectedDeadLettersPath) {
        let deadDiff = LineDiff.render(
          expected: String(decoding: expectedDead, as: UTF8.self), actual: deadLetters)
        if !deadDiff.isEmpty { diffs += "dead letters (\(fixture.expectedDeadLettersPath)):\n" + deadDiff }
      }
      return diffs.isEmpty ? .passed : .failed(diffs)
    } catch {
      return .broken(String(describing: error))
    }
  }
}
