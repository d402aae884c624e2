import Foundation
import TocsinCore
import TocsinIO
import TocsinLanguage

/// The Flink CEP conformance suite: small data-driven cases in `*.cases` files, each a pattern,
/// an input sequence and the exact matches Flink's documented semantics give, run through the
/// real pipeline (`RuleSet.build` + `Replay.run`).
///
/// A file holds cases separated by `case` lines. Directives start in column 0; the lines of a
/// block (`pattern`, `expect`) are indented. `#` starts a comment line.
///
///     case relaxed_contiguity
///     cite Flink docs, "Combining Patterns": pattern "a b", input "a, c, b1, b2", relaxed → {a b1}
///     pattern
///       begin a where type == "a"
///       followed_by b where type == "b"
///     input a c b1 b2
///     expect
///       a:a b:b1
///
/// Directives:
/// - `case NAME` (an identifier, unique in the file) starts a case; it becomes `rule NAME`.
/// - `cite TEXT` (required): the Flink documentation section the case comes from, or
///   `derived: <reasoning>`.
/// - `pattern` + indented lines: steps and rule clauses (`within`, `skip`, `on timeout emit`…),
///   wrapped as `rule NAME` with no key.
/// - `input TOKENS…` (repeatable, concatenated): one token per event. The token is the event id
///   and its leading letters are its `type` (`b1` → `"b"`). Time is the 1-based position in
///   seconds unless written `b1@1500` (epoch milliseconds). Extra fields: `x1{v:5,name:"q"}`
///   (no spaces; values are numbers, strings, `true`, `false`, `null`; `type` may be overridden).
/// - `expect none`, or `expect` + indented lines: one match per line in emission order,
///   `step:id step:id …` in binding order (a loop repeats its step name); `timeout step:id …`
///   for a partial match emitted by `on timeout emit`.
/// - `order any`: compare matches as a multiset (emission order unspecified by Flink).
/// - `out_of_orderness DURATION`: the replay bound (default `0s`).
/// - `status pending`: the construct is not implemented yet; the case is reported as pending
///   (and says whether it would pass), never as passed or failed.
public enum ConformanceSuite {
  /// The file extension of case files.
  public static let fileExtension = "cases"

  /// One input event.
  public struct InputEvent: Hashable, Sendable {
    /// The event id (the token without `@time` and `{fields}`).
    public var id: String
    /// Epoch milliseconds.
    public var millis: Int64
    /// Extra fields as JSON text fragments (`"v":5`), `type` included.
    public var fields: [(name: String, json: String)]

    public static func == (a: InputEvent, b: InputEvent) -> Bool {
      a.id == b.id && a.millis == b.millis && a.fields.map(\.name) == b.fields.map(\.name)
        && a.fields.map(\.json) == b.fields.map(\.json)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
  }

  /// One case.
  public struct Case: Sendable {
    /// The case (and rule) name.
    public var name: String
    /// The file it was read from.
    public var path: String
    /// 1-based line of its `case` directive.
    public var line: Int
    /// The `cite` text.
    public var citation: String
    /// Pattern lines (steps and clauses), without indentation.
    public var pattern: [String]
    /// Input events in arrival order.
    public var input: [InputEvent]
    /// Expected matches in canonical text (`a:a1 b:b1`, `timeout a:a1`), emission order.
    public var expected: [String]
    /// Compare as multisets.
    public var orderAny: Bool
    /// Not implemented yet: reported as pending.
    public var pending: Bool
    /// The replay's out-of-orderness bound.
    public var outOfOrderness: EventDuration
  }

  /// A malformed case file, with the line.
  public struct ParseError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// 1-based line.
    public var line: Int
    /// What is wrong.
    public var message: String
    public var description: String { "\(path):\(line): error: \(message)" }
  }

  /// The result of running one case.
  public enum Outcome: Equatable {
    /// The matches equal the expectation.
    case passed
    /// The matches differ; the text is a line diff, expected → actual.
    case failed(String)
    /// The case could not run (rule text rejected, replay error).
    case broken(String)
    /// `status pending`; the text says whether it would pass today.
    case pending(String)
  }

  // MARK: - Parsing

  /// Parses a case file.
  public static func parse(_ text: String, path: String) throws -> [Case] {
    var cases: [Case] = []
    var current: Case?
    var block: String?  // "pattern" or "expect" while reading indented lines
    var sawInput = false
    var sawExpect = false
    var names = Set<String>()

    func finish(at line: Int) throws {
      guard let c = current else { return }
      if c.citation.isEmpty { throw ParseError(path: path, line: c.line, message: "case '\(c.name)' has no 'cite' line") }
      if c.pattern.isEmpty { throw ParseError(path: path, line: c.line, message: "case '\(c.name)' has no pattern") }
      if !sawInput { throw ParseError(path: path, line: c.line, message: "case '\(c.name)' has no 'input' line") }
      if !sawExpect { throw ParseError(path: path, line: c.line, message: "case '\(c.name)' has no 'expect'") }
      cases.append(c)
    }

    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for (index, raw) in lines.enumerated() {
      let lineNumber = index + 1
      let trimmed = raw.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let indented = raw.first == " " || raw.first == "\t"
      func fail(_ message: String) -> ParseError { ParseError(path: path, line: lineNumber, message: message) }

      if indented {
        guard current != nil, let b = block else { throw fail("indented line outside a 'pattern' or 'expect' block") }
        if b == "pattern" {
          current?.pattern.append(trimmed)
        } else {
          current?.expected.append(try canonicalMatch(trimmed, fail: fail))
        }
        continue
      }
      block = nil
      let word = trimmed.prefix { !$0.isWhitespace }
      let rest = trimmed.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
      if word == "case" {
        try finish(at: lineNumber)
        guard isIdentifier(rest) else { throw fail("case name must be an identifier, not '\(rest)'") }
        guard names.insert(rest).inserted else { throw fail("duplicate case name '\(rest)'") }
        current = Case(
          name: rest, path: path, line: lineNumber, citation: "", pattern: [], input: [], expected: [],
          orderAny: false, pending: false, outOfOrderness: .seconds(0))
        sawInput = false
        sawExpect = false
        continue
      }
      guard current != nil else { throw fail("expected 'case NAME' before '\(word)'") }
      switch word {
      case "cite":
        guard !rest.isEmpty else { throw fail("'cite' needs a citation") }
        current?.citation = rest
      case "pattern":
        guard rest.isEmpty else { throw fail("'pattern' takes indented lines below it") }
        guard current?.pattern.isEmpty ?? false else { throw fail("second 'pattern' block") }
        block = "pattern"
      case "input":
        sawInput = true
        var position = current?.input.count ?? 0
        for token in rest.split(whereSeparator: { $0.isWhitespace }) {
          position += 1
          current?.input.append(try parseToken(String(token), position: position, fail: fail))
        }
      case "expect":
        guard !sawExpect else { throw fail("second 'expect'") }
        sawExpect = true
        if rest == "none" { break }
        guard rest.isEmpty else { throw fail("write 'expect none' or 'expect' with indented match lines") }
        block = "expect"
      case "order":
        guard rest == "any" else { throw fail("expected 'order any'") }
        current?.orderAny = true
      case "status":
        guard rest == "pending" else { throw fail("expected 'status pending'") }
        current?.pending = true
      case "out_of_orderness":
        guard let d = EventDuration(parsing: rest) else { throw fail("invalid duration '\(rest)'") }
        current?.outOfOrderness = d
      default:
        throw fail(
          "unknown directive '\(word)'; expected case, cite, pattern, input, expect, order, status or out_of_orderness")
      }
    }
    try finish(at: lines.count)
    for c in cases {
      let ids = c.input.map(\.id)
      if Set(ids).count != ids.count {
        throw ParseError(path: path, line: c.line, message: "case '\(c.name)' repeats an event id")
      }
      for match in c.expected {
        for part in match.split(separator: " ") where part != "timeout" {
          let id = String(part.split(separator: ":").last ?? "")
          if !ids.contains(id) {
            throw ParseError(path: path, line: c.line, message: "case '\(c.name)' expects unknown event '\(id)'")
          }
        }
      }
    }
    return cases
  }

  private static func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first) else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
  }

  /// `a:a1  b:b1` → `a:a1 b:b1`; validates the shape.
  private static func canonicalMatch(_ line: String, fail: (String) -> ParseError) throws -> String {
    var parts = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    var prefix = ""
    if parts.first == "timeout" {
      prefix = "timeout "
      parts.removeFirst()
    }
    guard !parts.isEmpty else { throw fail("a match needs at least one 'step:id'") }
    for part in parts {
      let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
      guard pieces.count == 2, isIdentifier(String(pieces[0])), !pieces[1].isEmpty else {
        throw fail("expected 'step:id', not '\(part)'")
      }
    }
    return prefix + parts.joined(separator: " ")
  }

  private static func parseToken(_ token: String, position: Int, fail: (String) -> ParseError) throws -> InputEvent {
    var body = Substring(token)
    var fieldsText: Substring?
    if let brace = body.firstIndex(of: "{") {
      guard body.last == "}" else { throw fail("event '\(token)': fields must end with '}'") }
      fieldsText = body[body.index(after: brace)..<body.index(before: body.endIndex)]
      body = body[..<brace]
    }
    var millis = Int64(position) * 1000
    if let at = body.firstIndex(of: "@") {
      guard let t = Int64(body[body.index(after: at)...]), t >= 0 else {
        throw fail("event '\(token)': time after '@' must be milliseconds")
      }
      millis = t
      body = body[..<at]
    }
    let id = String(body)
    guard isIdentifier(id) else { throw fail("event id '\(id)' must be letters, digits and '_'") }
    let type = String(id.prefix { $0.isLetter })
    var fields: [(String, String)] = [("type", jsonString(type))]
    if let text = fieldsText, !text.isEmpty {
      for (name, json) in try parseFields(text, token: token, fail: fail) {
        if let i = fields.firstIndex(where: { $0.0 == name }) { fields[i].1 = json } else { fields.append((name, json)) }
      }
    }
    return InputEvent(id: id, millis: millis, fields: fields.map { (name: $0.0, json: $0.1) })
  }

  /// `v:5,name:"q"` → [("v", "5"), ("name", "\"q\"")].
  private static func parseFields(_ text: Substring, token: String, fail: (String) -> ParseError) throws
    -> [(String, String)]
  {
    var out: [(String, String)] = []
    var items: [Substring] = []
    var start = text.startIndex
    var inString = false
    var i = text.startIndex
    while i < text.endIndex {
      let ch = text[i]
      if ch == "\"" { inString.toggle() }
      if ch == "\\" && inString { i = text.index(after: i) } else if ch == "," && !inString {
        items.append(text[start..<i])
        start = text.index(after: i)
      }
      if i < text.endIndex { i = text.index(after: i) }
    }
    items.append(text[start..<text.endIndex])
    for item in items {
      guard let colon = item.firstIndex(of: ":") else { throw fail("event '\(token)': expected 'name:value'") }
      let name = String(item[..<colon])
      let value = String(item[item.index(after: colon)...])
      guard isIdentifier(name) else { throw fail("event '\(token)': bad field name '\(name)'") }
      let isNumber = Double(value) != nil && value.first.map { $0.isNumber || $0 == "-" } == true
      guard isNumber || ["true", "false", "null"].contains(value) || (value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\""))
      else { throw fail("event '\(token)': bad value '\(value)' for '\(name)'") }
      out.append((name, value))
    }
    return out
  }

  private static func jsonString(_ s: String) -> String {
    var w = JSONWriter(capacity: 32)
    w.string(s)
    return String(decoding: w.bytes, as: UTF8.self)
  }

  // MARK: - Running

  /// The rule text the case runs: `rule NAME` and the pattern lines.
  public static func ruleText(_ c: Case) -> String {
    "rule \(c.name)\n" + c.pattern.map { "  \($0)\n" }.joined()
  }

  /// The NDJSON input: `{"id":…,"ts":…,"type":…,…}` per event, in arrival order.
  public static func eventsText(_ c: Case) -> String {
    c.input.map { event in
      var line = "{\"id\":\(jsonString(event.id)),\"ts\":\(event.millis)"
      for field in event.fields { line += ",\(jsonString(field.name)):\(field.json)" }
      return line + "}\n"
    }.joined()
  }

  /// Runs one case and compares its matches with the expectation.
  public static func run(_ c: Case) -> Outcome {
    let outcome = evaluate(c)
    guard c.pending else { return outcome }
    switch outcome {
    case .passed: return .pending("passes now: remove 'status pending'")
    case .failed: return .pending("runs but does not match yet")
    case .broken, .pending: return .pending("not supported yet")
    }
  }

  private static func evaluate(_ c: Case) -> Outcome {
    let ruleSet = RuleSet.build([SourceFile(path: "\(c.path):\(c.name)", text: ruleText(c))], ingest: IngestOptions())
    guard let programs = ruleSet.programs else {
      return .broken(
        "rule rejected:\n" + ruleText(c) + DiagnosticRenderer(colored: false).render(ruleSet.checked.diagnostics))
    }
    var configuration = ReplayConfiguration()
    configuration.engine.outOfOrderness = c.outOfOrderness
    let output: Replay.Output
    do {
      output = try Replay.run(programs: programs, configuration: configuration, text: eventsText(c))
    } catch {
      return .broken(String(describing: error))
    }
    let actual: [String]
    do {
      actual = try matches(alerts: output.alerts, input: c.input)
    } catch {
      return .broken(String(describing: error))
    }
    let expected = c.orderAny ? c.expected.sorted() : c.expected
    let got = c.orderAny ? actual.sorted() : actual
    if expected == got { return .passed }
    let render = { (lines: [String]) in lines.isEmpty ? "none\n" : lines.map { $0 + "\n" }.joined() }
    return .failed(
      "input: \(c.input.map(\.id).joined(separator: " "))\n"
        + LineDiff.render(expected: render(expected), actual: render(got)))
  }

  struct AlertShapeError: Error, CustomStringConvertible {
    var description: String
  }

  /// Reads the alerts back into canonical match lines: bindings sorted by event time, then
  /// arrival order (the order the engine processed them in).
  static func matches(alerts: [UInt8], input: [InputEvent]) throws -> [String] {
    var rank: [String: (Int64, Int)] = [:]
    for (i, e) in input.enumerated() { rank[e.id] = (e.millis, i) }
    var out: [String] = []
    for line in alerts.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
      guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        let events = object["events"] as? [String: Any]
      else { throw AlertShapeError(description: "alert without an 'events' object: \(String(decoding: line, as: UTF8.self))") }
      var bindings: [(step: String, id: String)] = []
      for (step, ids) in events {
        guard let ids = ids as? [String] else { throw AlertShapeError(description: "step '\(step)' is not a list of ids") }
        for id in ids { bindings.append((step, id)) }
      }
      for b in bindings where rank[b.id] == nil {
        throw AlertShapeError(description: "alert names unknown event '\(b.id)'")
      }
      bindings.sort { x, y in
        let (a, b) = (rank[x.id] ?? (0, 0), rank[y.id] ?? (0, 0))
        return a.0 != b.0 ? a.0 < b.0 : a.1 < b.1
      }
      let isTimeout =
        (object["timeout"] as? Bool) == true || (object["timed_out"] as? Bool) == true
        || (object["kind"] as? String) == "timeout"
      out.append((isTimeout ? "timeout " : "") + bindings.map { "\($0.step):\($0.id)" }.joined(separator: " "))
    }
    return out
  }

  // MARK: - Files

  /// Every `*.cases` file under `root` (or `root` itself when it is one), sorted by path.
  public static func discover(root: String) -> [String] {
    if root.hasSuffix("." + fileExtension) { return [root] }
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if relative.hasSuffix("." + fileExtension) { files.append(RuleSources.join(root, relative)) }
    }
    return files.sorted()
  }

  /// Runs every case of every file under `root`; names are `<file relative to root>/<case>`.
  /// A file that does not parse gives one broken result named after the file.
  public static func run(
    root: String, filter: String?, progress: (FixtureRunner.CaseResult) -> Void
  ) -> [FixtureRunner.CaseResult] {
    var results: [FixtureRunner.CaseResult] = []
    func report(_ result: FixtureRunner.CaseResult) {
      progress(result)
      results.append(result)
    }
    for file in discover(root: root) {
      let relative =
        file.hasPrefix(root + "/") ? String(file.dropFirst(root.count + 1)) : (file.split(separator: "/").last.map(String.init) ?? file)
      let cases: [Case]
      do {
        guard let data = FileManager.default.contents(atPath: file) else {
          throw ParseError(path: file, line: 0, message: "cannot read file")
        }
        cases = try parse(String(decoding: data, as: UTF8.self), path: file)
      } catch {
        if filter.map({ relative.contains($0) }) ?? true {
          report(FixtureRunner.CaseResult(name: relative, outcome: .broken(String(describing: error))))
        }
        continue
      }
      for c in cases {
        let name = "\(relative)/\(c.name)"
        guard filter.map({ name.contains($0) }) ?? true else { continue }
        let outcome: FixtureRunner.Outcome
        switch run(c) {
        case .passed: outcome = .passed
        case .failed(let diff): outcome = .failed("\(c.path):\(c.line): \(c.citation)\n" + diff)
        case .broken(let why): outcome = .broken("\(c.path):\(c.line):\n" + why)
        case .pending(let note): outcome = .pending(note)
        }
        report(FixtureRunner.CaseResult(name: name, outcome: outcome))
      }
    }
    return results
  }
}
