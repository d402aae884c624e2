import TocsinCore

/// A resilient recursive-descent parser for rule files.
///
/// It never throws. A problem is recorded as a diagnostic, the parser skips to a recovery point
/// (the next clause keyword, `rule`, or a closer inside `emit { … }`) and goes on, so one pass
/// reports every syntax error. A parse function returns `nil` only after reporting, and its caller
/// recovers without reporting again, so one mistake gives one diagnostic. Every loop checks it made
/// progress, and expression nesting is capped at ``nestingLimit``.
///
/// The grammar (newlines are not significant; a rule runs until the next `rule`):
///
///     file     = { schema } { rule } ;
///     schema   = "schema" ( "{" [ path ":" IDENT { "," path ":" IDENT } [","] ] "}" | STRING ) ;
///     rule     = "rule" IDENT { clause } ;
///     clause   = "severity" IDENT | "description" STRING | "key" path { "," path }
///              | step | "within" DURATION [ "between" "steps" ]
///              | "no_skip" | "skip" IDENT [ IDENT ]
///              | "emit" block | "on" "timeout" "emit" block | "to" IDENT { "," IDENT }
///              | "suppress" DURATION [ "by" expr ] ;
///     block    = "{" [ IDENT ":" expr { "," IDENT ":" expr } [","] ] "}" ;
///     step     = intro ( IDENT | "(" step { step } ")" ) { modifier } ;
///     intro    = "begin" | "next" | "followed_by" | "followed_by_any" | "not_next"
///              | "not_followed_by" ;
///     modifier = "where" expr | "or" "where" expr | "until" expr
///              | "times" INT [ "+" | ".." INT ] | "one_or_more" | "optional" | "greedy"
///              | "consecutive" | "allow_combinations" ;
///
/// `to` is contextual, not reserved: it starts a clause only where a clause may start and
/// is followed by a name (`to pager`), so fields and emitted names called `to` keep working.
///
/// Expressions are in `Parser+Expressions.swift`.
public struct Parser {
  /// The deepest expression nesting accepted (parentheses, prefix operators, calls).
  public static let nestingLimit = 256

  /// Keywords that start a clause; the recovery points inside a rule.
  static let clauseKeywords: [Keyword] = [
    .severity, .description, .key, .begin, .next, .followedBy, .followedByAny, .notNext,
    .notFollowedBy, .within, .noSkip, .skip, .emit, .on, .suppress,
  ]
  /// Keywords that continue a step.
  static let stepModifierKeywords: [Keyword] = [
    .where, .times, .until, .oneOrMore, .optional, .greedy, .consecutive, .allowCombinations,
  ]

  let file: SourceFile
  let tokens: [Token]
  var index = 0
  var diagnostics: [Diagnostic] = []
  /// Current expression nesting depth.
  var depth = 0
  /// How many step groups the parser is inside; a `)` is then a recovery point.
  var groupDepth = 0

  /// Lexes and parses `file`. Lexer and parser diagnostics are returned together, in source order.
  public static func parse(_ file: SourceFile) -> (syntax: RuleFileSyntax, diagnostics: [Diagnostic]) {
    let lexed = Lexer.lex(file)
    var parser = Parser(file: file, tokens: lexed.tokens)
    let schemas = parser.parseSchemas()
    var rules = parser.parseFile()
    let all = (lexed.diagnostics + parser.diagnostics).enumerated().sorted {
      ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset)
    }.map(\.element)
    // The parser marked the rules it reported errors in; a lexer error belongs to the rule whose
    // text contains it.
    for i in rules.indices where !rules[i].hasSyntaxErrors {
      let start = rules[i].ruleKeyword.start
      let end = i + 1 < rules.count ? rules[i + 1].ruleKeyword.start : Int.max
      rules[i].hasSyntaxErrors = lexed.diagnostics.contains {
        $0.severity == .error && $0.range.start >= start && $0.range.start < end
      }
    }
    return (RuleFileSyntax(file: file, schemas: schemas, rules: rules, comments: lexed.comments), all)
  }

  init(file: SourceFile, tokens: [Token]) {
    self.file = file
    self.tokens = tokens
  }

  // MARK: - Token access

  var current: Token { tokens[min(index, tokens.count - 1)] }
  var peek: Token { tokens[min(index + 1, tokens.count - 1)] }
  var isAtEnd: Bool { current.kind == .endOfFile }
  /// The end of the last consumed token: where an "expected X after Y" caret goes.
  var previousEnd: Int { index > 0 ? tokens[index - 1].range.end : 0 }

  @discardableResult
  mutating func advance() -> Token {
    let token = current
    if !isAtEnd { index += 1 }
    return token
  }

  func isAtClauseStart(_ extra: [Keyword] = []) -> Bool {
    if isAtToClause { return true }
    guard case .keyword(let k) = current.kind else { return isAtEnd }
    return k == .rule || Parser.clauseKeywords.contains(k) || extra.contains(k)
  }

  /// Whether the current token starts a `to SINK` clause: the word `to` followed by a name.
  var isAtToClause: Bool {
    guard current.kind == .identifier("to"), case .identifier = peek.kind else { return false }
    return true
  }

  /// Skips tokens until a clause keyword, `rule`, one of `extra` / `punctuators`, or the end.
  mutating func recover(extra: [Keyword] = [], punctuators: [Punctuator] = []) {
    var progress = LoopProgress()
    while !isAtClauseStart(extra), progress.advanced(index) {
      if case .punctuator(let p) = current.kind, punctuators.contains(p) { return }
      advance()
    }
  }

  /// How a token is named in "found …" messages.
  func describe(_ token: Token) -> String {
    token.kind == .endOfFile ? "end of file" : "'\(file.text(of: token.range))'"
  }

  mutating func report(
    _ message: ParseMessage, at range: SourceRange, notes: [Note] = [], hint: String? = nil
  ) {
    diagnostics.append(Diagnostic(message, file: file, range: range, notes: notes, hint: hint))
  }

  /// Reports "expected X after Y" at the insertion point after the previous token.
  mutating func reportExpected(_ what: String, after: String, hint: String? = nil) {
    report(.expectedToken(expected: what, after: after), at: .at(previousEnd), hint: hint)
  }

  func range(from start: Int) -> SourceRange { SourceRange(start: start, end: previousEnd) }

  // MARK: - File and rule

  mutating func parseFile() -> [RuleSyntax] {
    var rules: [RuleSyntax] = []
    var progress = LoopProgress()
    while !isAtEnd, progress.advanced(index) {
      if current.isKeyword(.rule) {
        rules.append(parseRule())
      } else {
        if current.kind != .invalid { report(.expectedRule(found: describe(current)), at: current.range) }
        advance()
        while !isAtEnd && !current.isKeyword(.rule) { advance() }
      }
    }
    return rules
  }

  mutating func parseRule() -> RuleSyntax {
    let diagnosticsBefore = diagnostics.count
    let keyword = advance()
    var name: Located<String>?
    if case .identifier(let word) = current.kind {
      name = Located(word, at: advance().range)
    } else {
      reportExpected("a rule name", after: "'rule'")
      recover()
    }
    var clauses: [ClauseSyntax] = []
    var progress = LoopProgress()
    while !isAtEnd && !current.isKeyword(.rule), progress.advanced(index) {
      if let clause = parseClause() {
        clauses.append(clause)
      } else {
        recover()
      }
    }
    return RuleSyntax(
      ruleKeyword: keyword.range, name: name, clauses: clauses, range: range(from: keyword.range.start),
      hasSyntaxErrors: diagnostics.count > diagnosticsBefore)
  }

  // MARK: - Clauses

  /// Parses one clause; `nil` after reporting a problem (the caller recovers).
  mutating func parseClause() -> ClauseSyntax? {
    let start = current.range
    let kind: ClauseSyntax.Kind
    switch current.kind {
    case .keyword(let k) where StepIntro(keyword: k) != nil:
      guard let step = parseStep() else { return nil }
      kind = .step(step)
    case .keyword(.severity):
      advance()
      guard case .identifier(let level) = current.kind else {
        let levels = ["info", "low", "medium", "high", "critical"].map { "'\($0)'" }
        reportExpected("a severity level", after: "'severity'", hint: "expected one of \(levels.joined(separator: ", "))")
        return nil
      }
      kind = .severity(Located(level, at: advance().range))
    case .keyword(.description):
      advance()
      guard case .string(let text) = current.kind else {
        if current.kind != .invalid { reportExpected("a string", after: "'description'") }
        return nil
      }
      kind = .description(Located(text, at: advance().range))
    case .keyword(.key):
      advance()
      guard let first = parsePath(after: "'key'") else { return nil }
      var paths = [first]
      while current.isPunctuator(.comma) {
        advance()
        guard let path = parsePath(after: "','") else { return nil }
        paths.append(path)
      }
      kind = .key(paths)
    case .keyword(.within):
      advance()
      switch current.kind {
      case .duration(let d):
        let duration = Located(d, at: advance().range)
        guard current.isKeyword(.between) else {
          kind = .within(duration)
          break
        }
        advance()
        guard current.isKeyword(.steps) else {
          reportExpected("'steps'", after: "'between'", hint: "write 'within \(file.text(of: duration.range)) between steps'")
          return nil
        }
        advance()
        kind = .withinBetweenSteps(duration)
      case .invalid:
        return nil
      case .integer(let n):
        reportExpected("a duration", after: "'within'", hint: "add a unit, e.g. '\(n)s' or '\(n)m'")
        return nil
      default:
        reportExpected("a duration", after: "'within'", hint: "write e.g. '10m', '90s' or '1h30m'")
        return nil
      }
    case .keyword(.noSkip):
      kind = .skip(Located(.noSkip, at: advance().range), step: nil)
    case .keyword(.skip):
      advance()
      let known = SkipStrategyName.afterSkip.map(\.rawValue)
      guard case .identifier(let word) = current.kind else {
        reportExpected(
          "a skip strategy", after: "'skip'",
          hint: "expected one of \(known.map { "'\($0)'" }.joined(separator: ", "))")
        return nil
      }
      let token = advance()
      guard let strategy = SkipStrategyName.afterSkip.first(where: { $0.rawValue == word }) else {
        report(.unknownSkipStrategy(word), at: token.range, hint: Suggestions.didYouMean(word, among: known))
        return nil
      }
      var step: Located<String>?
      if strategy.takesStep {
        guard case .identifier(let name) = current.kind else {
          reportExpected("a step name", after: "'\(word)'")
          return nil
        }
        step = Located(name, at: advance().range)
      }
      kind = .skip(Located(strategy, at: SourceRange(start: start.start, end: token.range.end)), step: step)
    case .keyword(.on):
      advance()
      guard current.isKeyword(.timeout) else {
        reportExpected("'timeout'", after: "'on'", hint: "write 'on timeout emit { … }'")
        return nil
      }
      advance()
      guard current.isKeyword(.emit) else {
        reportExpected("'emit'", after: "'timeout'", hint: "write 'on timeout emit { … }'")
        return nil
      }
      guard let fields = parseEmit() else { return nil }
      kind = .onTimeout(fields)
    case .keyword(.emit):
      guard let fields = parseEmit() else { return nil }
      kind = .emit(fields)
    case .identifier("to"):
      advance()
      var sinks: [Located<String>] = []
      var progress = LoopProgress()
      repeat {
        guard progress.advanced(index) else { return nil }
        if !sinks.isEmpty { advance() }  // the ','
        guard case .identifier(let name) = current.kind else {
          if current.kind != .invalid {
            reportExpected("a sink name", after: sinks.isEmpty ? "'to'" : "','", hint: "write e.g. 'to pager, audit'")
          }
          return nil
        }
        sinks.append(Located(name, at: advance().range))
      } while current.isPunctuator(.comma)
      kind = .to(sinks)
    case .keyword(.suppress):
      guard let suppress = parseSuppress() else { return nil }
      kind = suppress
    case .identifier(let word):
      let candidates = (Parser.clauseKeywords + Parser.stepModifierKeywords).map(\.spelling) + ["to"]
      report(.unknownClause(word), at: current.range, hint: Suggestions.didYouMean(word, among: candidates))
      return nil
    case .invalid:
      return nil
    case .keyword(let k) where Parser.stepModifierKeywords.contains(k):
      report(
        .expectedClause(found: describe(current)), at: current.range,
        hint: "'\(k.spelling)' belongs to a step; write it after 'begin NAME', 'next NAME' or 'followed_by NAME'")
      return nil
    case .punctuator(.rightParen) where groupDepth == 0:
      report(.expectedClause(found: describe(current)), at: current.range, hint: "this ')' closes no group")
      return nil
    default:
      report(.expectedClause(found: describe(current)), at: current.range)
      return nil
    }
    return ClauseSyntax(kind: kind, keyword: start, range: range(from: start.start))
  }

  /// `suppress DURATION [by expr]`. `by` is not reserved: after the duration, the identifier
  /// `by` can only start the key expression, since every clause starts with a keyword.
  mutating func parseSuppress() -> ClauseSyntax.Kind? {
    advance()
    let duration: Located<EventDuration>
    switch current.kind {
    case .duration(let d):
      duration = Located(d, at: advance().range)
    case .invalid:
      return nil
    case .integer(let n):
      reportExpected("a duration", after: "'suppress'", hint: "add a unit, e.g. '\(n)m' or '\(n)h'")
      return nil
    default:
      reportExpected("a duration", after: "'suppress'", hint: "write e.g. 'suppress 1h' or 'suppress 30m by merchant'")
      return nil
    }
    guard case .identifier("by") = current.kind else { return .suppress(duration, by: nil) }
    advance()
    guard let key = parseExpression() else { return nil }
    return .suppress(duration, by: key)
  }

  /// `a.b.c` where a name is expected after `after`.
  mutating func parsePath(after: String) -> PathSyntax? {
    guard case .identifier(let first) = current.kind else {
      if current.kind != .invalid { reportExpected("a field name", after: after) }
      return nil
    }
    var components = [Located(first, at: advance().range)]
    var progress = LoopProgress()
    while current.isPunctuator(.dot), progress.advanced(index) {
      advance()
      // After a dot any word is a field name, keywords included (`geo.key`).
      switch current.kind {
      case .identifier(let word): components.append(Located(word, at: advance().range))
      case .keyword(let k): components.append(Located(k.spelling, at: advance().range))
      default:
        reportExpected("a field name", after: "'.'")
        return nil
      }
    }
    return PathSyntax(components: components, range: range(from: components[0].range.start))
  }

  // MARK: - Steps

  /// `INTRO NAME { modifier }` or `INTRO ( step { step } ) { modifier }`; `nil` after reporting.
  mutating func parseStep() -> StepSyntax? {
    let keyword = advance()
    guard case .keyword(let k) = keyword.kind, let intro = StepIntro(keyword: k) else { return nil }
    var name: Located<String>?
    var group: GroupSyntax?
    if case .identifier(let word) = current.kind {
      name = Located(word, at: advance().range)
    } else if current.isPunctuator(.leftParen) {
      guard let parsed = parseGroup() else { return nil }
      group = parsed
    } else {
      reportExpected("a step name", after: "'\(k.spelling)'", hint: "write a name, or '(' to start a group of steps")
      recoverInStep()
    }
    var modifiers: [StepModifierSyntax] = []
    var progress = LoopProgress()
    modifierLoop: while progress.advanced(index) {
      let start = current.range.start
      let kind: StepModifierSyntax.Kind
      switch current.kind {
      case .keyword(.where), .keyword(.until):
        let isWhere = current.isKeyword(.where)
        advance()
        guard let expr = parseExpression() else {
          recoverInStep()
          continue
        }
        kind = isWhere ? .where(expr) : .until(expr)
      case .keyword(.or) where peek.isKeyword(.where):
        advance()
        advance()
        guard let expr = parseExpression() else {
          recoverInStep()
          continue
        }
        kind = .orWhere(expr)
      case .keyword(.times):
        advance()
        guard let count = parseCount(after: "'times'", hint: "write e.g. 'times 3', 'times 3+' or 'times 2..5'") else {
          continue
        }
        if current.isPunctuator(.plus) {
          advance()
          kind = .times(count: count, orMore: true)
        } else if current.isPunctuator(.dotDot) {
          advance()
          guard let upper = parseCount(after: "'..'", hint: "write e.g. 'times 2..5'") else { continue }
          kind = .timesRange(min: count, max: upper)
        } else {
          kind = .times(count: count, orMore: false)
        }
      case .keyword(.oneOrMore): advance(); kind = .oneOrMore
      case .keyword(.optional): advance(); kind = .optional
      case .keyword(.greedy): advance(); kind = .greedy
      case .keyword(.consecutive): advance(); kind = .consecutive
      case .keyword(.allowCombinations): advance(); kind = .allowCombinations
      default:
        break modifierLoop
      }
      modifiers.append(StepModifierSyntax(kind: kind, range: range(from: start)))
    }
    return StepSyntax(
      kind: Located(intro, at: keyword.range), name: name, group: group, modifiers: modifiers,
      range: range(from: keyword.range.start))
  }

  /// An integer after `times` or `..`; `nil` after reporting and recovering.
  private mutating func parseCount(after: String, hint: String) -> Located<Int64>? {
    guard case .integer(let n) = current.kind else {
      if current.kind != .invalid { reportExpected("a count", after: after, hint: hint) }
      recoverInStep()
      return nil
    }
    return Located(n, at: advance().range)
  }

  /// Skips to the next modifier, clause, or (inside a group) `)`.
  private mutating func recoverInStep() {
    recover(extra: Parser.stepModifierKeywords, punctuators: groupDepth > 0 ? [.rightParen] : [])
  }

  /// `( step { step } )`, at the `(`. `nil` after reporting; then the tokens up to the matching
  /// `)` (or the next clause that cannot be a step) are skipped.
  mutating func parseGroup() -> GroupSyntax? {
    let open = advance()
    groupDepth += 1
    defer { groupDepth -= 1 }
    guard groupDepth <= Parser.nestingLimit else {
      report(.nestingTooDeep(limit: Parser.nestingLimit), at: open.range)
      skipGroup()
      return nil
    }
    let diagnosticsBefore = diagnostics.count
    var steps: [StepSyntax] = []
    var progress = LoopProgress()
    while progress.advanced(index) {
      if current.isPunctuator(.rightParen) {
        advance()
        if steps.isEmpty && diagnostics.count == diagnosticsBefore {
          report(
            .expectedToken(expected: "a step", after: "'('"), at: .at(open.range.end),
            hint: "a group holds steps, e.g. '( begin a where … next b where … )'")
          return nil
        }
        return GroupSyntax(steps: steps, open: open.range)
      }
      if case .keyword(let k) = current.kind, StepIntro(keyword: k) != nil {
        if let step = parseStep() { steps.append(step) }
        continue
      }
      if diagnostics.count == diagnosticsBefore {
        report(
          .missingClosing(")", opening: "("), at: current.kind == .endOfFile ? .at(previousEnd) : current.range,
          notes: [Note(message: "'(' opened here", file: file, range: open.range)])
      }
      skipGroup()
      return nil
    }
    return nil
  }

  /// Skips to just after the `)` that closes the current group, stopping early at a clause that
  /// cannot be a step, `rule`, or the end.
  private mutating func skipGroup() {
    var level = 0
    var progress = LoopProgress()
    while !isAtEnd && progress.advanced(index) {
      switch current.kind {
      case .keyword(.rule): return
      case .keyword(let k) where Parser.clauseKeywords.contains(k) && StepIntro(keyword: k) == nil: return
      case .punctuator(.leftParen): level += 1
      case .punctuator(.rightParen):
        if level == 0 {
          advance()
          return
        }
        level -= 1
      default: break
      }
      advance()
    }
  }

  // MARK: - Emit

  /// `emit { name: expr, … }`. Returns the fields parsed even when the block is malformed, so the
  /// checker can still look at them; `nil` only when there is no block at all.
  mutating func parseEmit() -> [EmitFieldSyntax]? {
    advance()
    guard current.isPunctuator(.leftBrace) else {
      reportExpected("'{'", after: "'emit'")
      return nil
    }
    let open = advance()
    var fields: [EmitFieldSyntax] = []
    // After a reported problem inside the block, a missing '}' is not reported again.
    var hadError = false
    var progress = LoopProgress()
    while progress.advanced(index) {
      if current.isPunctuator(.rightBrace) {
        advance()
        break
      }
      let name: Located<String>
      switch (current.kind, peek.kind) {
      case (.identifier(let word), _): name = Located(word, at: current.range)
      case (.keyword(let k), .punctuator(.colon)): name = Located(k.spelling, at: current.range)
      default:
        if isAtClauseStart() {
          if hadError { return fields }
          report(
            .missingClosing("}", opening: "{"), at: .at(previousEnd),
            notes: [Note(message: "'{' opened here", file: file, range: open.range)])
          return fields
        }
        if current.kind != .invalid {
          report(.expectedToken(expected: "a field name", after: "'{' or ','"), at: current.range)
        }
        hadError = true
        recover(punctuators: [.comma, .rightBrace])
        if current.isPunctuator(.comma) { advance() }
        continue
      }
      advance()
      guard current.isPunctuator(.colon) else {
        reportExpected("':'", after: "'\(name.value)'")
        hadError = true
        recover(punctuators: [.comma, .rightBrace])
        if current.isPunctuator(.comma) { advance() }
        continue
      }
      advance()
      guard let value = parseExpression() else {
        hadError = true
        recover(punctuators: [.comma, .rightBrace])
        if current.isPunctuator(.comma) { advance() }
        continue
      }
      fields.append(EmitFieldSyntax(name: name, value: value, range: range(from: name.range.start)))
      if current.isPunctuator(.comma) {
        advance()
      } else if !current.isPunctuator(.rightBrace) && !isAtClauseStart() {
        hadError = true
        if current.kind != .invalid { reportExpected("',' or '}'", after: "emit field '\(name.value)'") }
        hadError = true
        recover(punctuators: [.comma, .rightBrace])
        if current.isPunctuator(.comma) { advance() }
      }
    }
    return fields
  }
}

/// Guards a parser loop: `advanced(index)` is `false` (and asserts in debug builds) when an
/// iteration consumed nothing, so a bug cannot hang the parser on bad input.
struct LoopProgress {
  private var last = -1

  mutating func advanced(_ index: Int) -> Bool {
    defer { last = index }
    if index <= last {
      assertionFailure("parser loop made no progress at token \(index)")
      return false
    }
    return true
  }
}
