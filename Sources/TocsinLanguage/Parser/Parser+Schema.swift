import TocsinCore
import TocsinExpressions

/// `schema` declarations at the top of a file:
///
///     schema = "schema" ( "{" [ field { "," field } [ "," ] ] "}" | STRING ) ;
///     field  = path ":" IDENT ;
///
/// `schema` is not a reserved word: it has this meaning only before the first `rule`, so a field
/// called `schema` stays readable in conditions.
extension Parser {
  /// Parses every `schema` declaration before the first rule.
  mutating func parseSchemas() -> [SchemaSyntax] {
    var schemas: [SchemaSyntax] = []
    var progress = LoopProgress()
    while current.kind == .identifier("schema"), progress.advanced(index) {
      let keyword = advance()
      if case .string(let path) = current.kind {
        let token = advance()
        schemas.append(
          SchemaSyntax(keyword: keyword.range, kind: .file(Located(path, at: token.range)), range: range(from: keyword.range.start)))
        continue
      }
      guard current.isPunctuator(.leftBrace) else {
        reportExpected("'{' or a schema file name", after: "'schema'", hint: "write 'schema { user: string, amount: float }' or 'schema \"shared.schema\"'")
        skipToRuleOrSchema()
        continue
      }
      let open = advance()
      guard let fields = parseSchemaFields(open: open) else {
        skipToRuleOrSchema()
        continue
      }
      schemas.append(SchemaSyntax(keyword: keyword.range, kind: .fields(fields), range: range(from: keyword.range.start)))
    }
    return schemas
  }

  /// The fields up to and including `}`; `nil` after reporting.
  private mutating func parseSchemaFields(open: Token) -> [SchemaFieldSyntax]? {
    var fields: [SchemaFieldSyntax] = []
    var progress = LoopProgress()
    while !current.isPunctuator(.rightBrace), progress.advanced(index) {
      guard let path = parsePath(after: fields.isEmpty ? "'{'" : "','") else { return nil }
      guard current.isPunctuator(.colon) else {
        reportExpected("':'", after: "'\(path.dotted)'", hint: "write 'name: type', like 'amount: float'")
        return nil
      }
      advance()
      // `null` is a keyword, every type name is an identifier.
      guard case .identifier(let type) = current.kind else {
        reportExpected("a type", after: "':'", hint: "one of \(SchemaType.spellings)")
        return nil
      }
      fields.append(SchemaFieldSyntax(path: path, type: Located(type, at: advance().range)))
      guard current.isPunctuator(.comma) else { break }
      advance()
    }
    guard current.isPunctuator(.rightBrace) else {
      report(
        .missingClosing("}", opening: "{"), at: current.range,
        notes: [Note(message: "'{' opened here", file: file, range: open.range)])
      return nil
    }
    advance()
    return fields
  }

  /// After a broken declaration: skips to the next `schema` or `rule`.
  private mutating func skipToRuleOrSchema() {
    var progress = LoopProgress()
    while !isAtEnd, !current.isKeyword(.rule), current.kind != .identifier("schema"), progress.advanced(index) {
      advance()
    }
  }
}

/// The types a schema may give a field.
public enum SchemaType: String, Hashable, Sendable, CaseIterable {
  case string, int, float, number, bool
  /// Epoch milliseconds or an RFC 3339 string, read as a time (`to_time(field)`).
  case time
  /// Declared, but of any type.
  case any

  /// The static type of a field declared with this type.
  public var valueType: ValueType {
    switch self {
    case .string: return .string
    case .int: return .int
    case .float: return .float
    case .number: return .number
    case .bool: return .bool
    case .time: return .time
    case .any: return .unknown
    }
  }

  /// `'string', 'int', … or 'any'` for messages.
  static var spellings: String {
    let all = allCases.map { "'\($0.rawValue)'" }
    return all.dropLast().joined(separator: ", ") + " or " + (all.last ?? "")
  }
}
