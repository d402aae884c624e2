import TocsinCore

/// Expressions, by precedence climbing over ``InfixOperator/precedence``:
///
///     expr    = orExpr ;  orExpr = andExpr { "or" andExpr } ;  andExpr = notExpr { "and" notExpr } ;
///     notExpr = "not" notExpr | cmp ;
///     cmp     = sum [ ("=="|"!="|"<"|"<="|">"|">=") sum | "in" "[" [ expr { "," expr } ] "]"
///             | "in" sum ] ;
///     sum     = product { ("+"|"-") product } ;  product = unary { ("*"|"/") unary } ;
///     unary   = "-" unary | primary ;
///     primary = INT | FLOAT | STRING | DURATION | "true" | "false" | "null" | "key" | "(" expr ")"
///             | IDENT "(" [ expr { "," expr } ] ")" | IDENT { "." IDENT } ;
extension Parser {
  /// Parses an expression; `nil` after reporting a problem.
  mutating func parseExpression() -> ExprSyntax? {
    parseInfix(minimumPrecedence: 1)
  }

  private mutating func parseInfix(minimumPrecedence: Int) -> ExprSyntax? {
    // `not` sits between `and` and comparison: allowed where an and-operand may start.
    guard var lhs = parsePrefix(allowingNot: minimumPrecedence <= InfixOperator.equal.precedence)
    else { return nil }
    var progress = LoopProgress()
    let comparison = InfixOperator.equal.precedence
    while progress.advanced(index) {
      // `x in [a, b]` is a comparison.
      if current.isKeyword(.in), comparison >= minimumPrecedence {
        guard let list = parseInList(lhs) else { return nil }
        lhs = list
        if isComparisonStart {
          report(.chainedComparison, at: current.range)
          return nil
        }
        continue
      }
      // `or where` continues the step, not the expression: `where a or where b`.
      guard let op = InfixOperator(token: current.kind), op.precedence >= minimumPrecedence,
        !(op == .or && peek.isKeyword(.where))
      else { break }
      let opToken = advance()
      guard let rhs = parseInfix(minimumPrecedence: op.precedence + 1) else { return nil }
      lhs = ExprSyntax(
        .infix(Located(op, at: opToken.range), lhs, rhs), lhs.range.union(rhs.range))
      // A chain `a + b + c …` nests one level per operator (left-associative tree); cap it like
      // parentheses so no later recursive pass can run out of stack.
      guard lhs.height <= Parser.nestingLimit else {
        report(
          .nestingTooDeep(limit: Parser.nestingLimit), at: opToken.range,
          hint: "a chain of operators nests one level per operator; use 'x in [a, b, …]' for long "
            + "lists of alternatives")
        return nil
      }
      if op.isComparison, isComparisonStart {
        report(.chainedComparison, at: current.range)
        return nil
      }
    }
    return lhs
  }

  /// Whether the current token is a comparison operator or `in`.
  private var isComparisonStart: Bool {
    current.isKeyword(.in) || (InfixOperator(token: current.kind)?.isComparison ?? false)
  }

  /// `in [ … ]` or `in list_expr` after `lhs`; the current token is `in`.
  private mutating func parseInList(_ lhs: ExprSyntax) -> ExprSyntax? {
    let keyword = advance()
    guard current.isPunctuator(.leftBracket) else {
      // `x in split(tags, ",")`: membership in a list value, bound like a comparison operand.
      guard let list = parseInfix(minimumPrecedence: InfixOperator.add.precedence) else { return nil }
      return ExprSyntax(.inValue(lhs, keyword: keyword.range, list), lhs.range.union(list.range))
    }
    let open = advance()
    var elements: [ExprSyntax] = []
    if !current.isPunctuator(.rightBracket) {
      var progress = LoopProgress()
      while progress.advanced(index) {
        guard let element = parseExpression() else { return nil }
        elements.append(element)
        guard current.isPunctuator(.comma) else { break }
        advance()
      }
    }
    guard current.isPunctuator(.rightBracket) else {
      report(
        .missingClosing("]", opening: "["), at: current.range,
        notes: [Note(message: "'[' opened here", file: file, range: open.range)])
      return nil
    }
    advance()
    return ExprSyntax(
      .inList(lhs, keyword: keyword.range, elements: elements), range(from: lhs.range.start))
  }

  private mutating func parsePrefix(allowingNot: Bool) -> ExprSyntax? {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Parser.nestingLimit else {
      report(.nestingTooDeep(limit: Parser.nestingLimit), at: current.range)
      // Everything up to the end of this clause is suppressed by the caller's recovery.
      return nil
    }
    let start = current.range
    if current.isPunctuator(.minus) {
      advance()
      guard let operand = parsePrefix(allowingNot: false) else { return nil }
      return ExprSyntax(.prefix(Located(.negate, at: start), operand), start.union(operand.range))
    }
    if current.isKeyword(.not) {
      guard allowingNot else {
        report(
          .expectedExpression(found: describe(current)), at: current.range,
          hint: "put the 'not' expression in parentheses")
        return nil
      }
      advance()
      guard let operand = parseInfix(minimumPrecedence: InfixOperator.equal.precedence) else {
        return nil
      }
      return ExprSyntax(.prefix(Located(.not, at: start), operand), start.union(operand.range))
    }
    return parsePrimary()
  }

  private mutating func parsePrimary() -> ExprSyntax? {
    let token = current
    switch token.kind {
    case .integer(let n):
      advance()
      return ExprSyntax(.integer(n), token.range)
    case .float(let x):
      advance()
      return ExprSyntax(.float(x), token.range)
    case .string(let s):
      advance()
      return ExprSyntax(.string(s), token.range)
    case .duration(let d):
      advance()
      return ExprSyntax(.duration(d), token.range)
    case .keyword(.true), .keyword(.false):
      advance()
      return ExprSyntax(.bool(token.isKeyword(.true)), token.range)
    case .keyword(.null):
      advance()
      return ExprSyntax(.null, token.range)
    case .keyword(.key):
      advance()
      return ExprSyntax(.key, token.range)
    case .punctuator(.leftParen):
      advance()
      guard let inner = parseExpression() else { return nil }
      guard current.isPunctuator(.rightParen) else {
        report(
          .missingClosing(")", opening: "("), at: current.range,
          notes: [Note(message: "'(' opened here", file: file, range: token.range)])
        return nil
      }
      advance()
      return ExprSyntax(.parenthesized(inner), range(from: token.range.start))
    case .identifier(let name) where peek.isPunctuator(.leftParen):
      advance()
      let open = advance()
      var arguments: [ExprSyntax] = []
      if !current.isPunctuator(.rightParen) {
        var progress = LoopProgress()
        while progress.advanced(index) {
          guard let argument = parseExpression() else { return nil }
          arguments.append(argument)
          guard current.isPunctuator(.comma) else { break }
          advance()
        }
      }
      guard current.isPunctuator(.rightParen) else {
        report(
          .missingClosing(")", opening: "("), at: current.range,
          notes: [Note(message: "'(' opened here", file: file, range: open.range)])
        return nil
      }
      advance()
      return ExprSyntax(
        .call(name: Located(name, at: token.range), arguments: arguments),
        range(from: token.range.start))
    case .identifier:
      guard let path = parsePath(after: "") else { return nil }
      return ExprSyntax(.path(path), path.range)
    case .invalid:
      return nil
    default:
      report(.expectedExpression(found: describe(token)), at: token.range)
      return nil
    }
  }
}
