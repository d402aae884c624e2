import TocsinCore

extension Expr {
  /// The expression in rule-language syntax, with step indices replaced by `stepNames`.
  /// Parenthesises every nested binary operation so precedence is never in doubt.
  public func rendered(stepNames: [String]) -> String {
    func name(_ step: Int) -> String { step < stepNames.count ? stepNames[step] : "$\(step)" }
    func inner(_ e: Expr) -> String {
      switch e {
      case .binary, .and, .or, .member: return "(" + e.rendered(stepNames: stepNames) + ")"
      default: return e.rendered(stepNames: stepNames)
      }
    }
    switch self {
    case .constant(let v):
      switch v {
      case .string(let s): return Self.quoted(s)
      case .time(let t): return "to_time(\(Self.quoted(t.rfc3339)))"
      case .list(let items):
        return "[" + items.map { Expr.constant($0).rendered(stepNames: stepNames) }.joined(separator: ", ") + "]"
      default: return v.description
      }
    case .field(let path): return path.description
    case .stepField(let step, let path): return "\(name(step)).\(path)"
    case .key: return "key"
    case .aggregate(let f, let step, let path):
      return "\(f.rawValue)(\(name(step))\(path.map { ".\($0)" } ?? ""))"
    case .not(let e): return "not " + inner(e)
    case .negate(let e): return "-" + inner(e)
    case .binary(let op, let l, let r): return "\(inner(l)) \(op.rawValue) \(inner(r))"
    case .and(let l, let r): return "\(inner(l)) and \(inner(r))"
    case .or(let l, let r): return "\(inner(l)) or \(inner(r))"
    case .eventTime: return "time()"
    case .stepTime(let step): return "time(\(name(step)))"
    case .member(let element, let list): return "\(inner(element)) in \(inner(list))"
    case .call(let f, let args):
      return "\(f.name)(" + args.map { $0.rendered(stepNames: stepNames) }.joined(separator: ", ")
        + ")"
    }
  }

  /// A double-quoted string literal with the rule language's escapes.
  public static func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
