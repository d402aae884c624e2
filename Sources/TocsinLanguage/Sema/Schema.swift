import TocsinCore
import TocsinExpressions

/// The declared event fields of one rule file: its inline `schema { … }` blocks and the schema
/// files it names, merged.
///
/// With a schema, a field the schema does not declare is an error (`sema.unknownField`, with a
/// did-you-mean over the declared names), and a declared field has its declared static type, so
/// comparisons with wrong-typed literals and wrong-typed function arguments are reported before
/// any event is read. A `time` field is read through `to_time(…)`.
struct Schema {
  /// Declared type by dotted field name.
  var fields: [String: SchemaType] = [:]
  /// Whether every declaration could be read. When a schema file is missing, undeclared fields
  /// are not reported (they may be declared there); the declared types still apply.
  var isComplete = true

  /// The declared names, sorted (for suggestions).
  var names: [String] { fields.keys.sorted() }

  /// Reads a file's schemas; `nil` when it declares none. Problems are appended to
  /// `diagnostics`; the fields that could be read still form the schema.
  ///
  /// - Parameter load: reads a schema file by path (already resolved against the rule file's
  ///   directory); `nil` when it cannot be read.
  static func build(
    for syntax: RuleFileSyntax, load: ((String) -> SourceFile?)?, diagnostics: inout [Diagnostic]
  ) -> Schema? {
    guard !syntax.schemas.isEmpty else { return nil }
    var schema = Schema()
    var first: [String: (SourceFile, SourceRange)] = [:]
    func add(_ declarations: [SchemaSyntax], in file: SourceFile, allowFiles: Bool) {
      for declaration in declarations {
        switch declaration.kind {
        case .fields(let fields):
          for field in fields {
            let name = field.path.dotted
            if let (firstFile, firstRange) = first[name] {
              diagnostics.append(
                Diagnostic(
                  SemaMessage.duplicateSchemaField(name), file: file, range: field.path.range,
                  notes: [Note(message: "'\(name)' is first declared here", file: firstFile, range: firstRange)]))
              continue
            }
            first[name] = (file, field.path.range)
            guard let type = SchemaType(rawValue: field.type.value) else {
              diagnostics.append(
                Diagnostic(
                  SemaMessage.unknownSchemaType(field.type.value), file: file, range: field.type.range,
                  hint: Suggestions.didYouMean(field.type.value, among: SchemaType.allCases.map(\.rawValue))))
              schema.fields[name] = .any
              continue
            }
            schema.fields[name] = type
          }
        case .file(let path):
          guard allowFiles else {
            diagnostics.append(
              Diagnostic(
                SemaMessage.schemaFileUnusable(path: path.value, reason: "cannot be named from another schema file"),
                file: file, range: path.range))
            continue
          }
          let resolved = resolve(path.value, relativeTo: file.path)
          guard let included = load?(resolved) else {
            schema.isComplete = false
            diagnostics.append(
              Diagnostic(
                SemaMessage.schemaFileUnusable(path: path.value, reason: "cannot be read"), file: file,
                range: path.range, hint: "the path is relative to the directory of '\(file.path)'"))
            continue
          }
          let parsed = Parser.parse(included)
          diagnostics += parsed.diagnostics
          if let rule = parsed.syntax.rules.first {
            diagnostics.append(
              Diagnostic(
                SemaMessage.schemaFileUnusable(path: path.value, reason: "holds rules; it may only hold 'schema { … }' blocks"),
                file: included, range: rule.ruleKeyword))
          }
          add(parsed.syntax.schemas, in: included, allowFiles: false)
        }
      }
    }
    add(syntax.schemas, in: syntax.file, allowFiles: true)
    return schema
  }

  /// `path` relative to the directory of `filePath` (unchanged when absolute).
  static func resolve(_ path: String, relativeTo filePath: String) -> String {
    guard !path.hasPrefix("/"), let slash = filePath.lastIndex(of: "/") else { return path }
    return String(filePath[...slash]) + path
  }
}
