import TocsinCore
import Yams

/// Typed access to YAML nodes with positioned errors, for ``SinkConfigurationParser``.
struct NodeReader {
  let path: String

  /// A mapping's string keys and values in file order.
  struct Fields {
    var pairs: [(key: String, value: Node)]
    var keyNodes: [(key: String, node: Node)]

    subscript(key: String) -> Node? { pairs.first { $0.key == key }?.value }
  }

  func error(at node: Node, _ problem: SinkConfigurationError.Problem) -> SinkConfigurationError {
    SinkConfigurationError(path: path, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, problem: problem)
  }

  /// The mapping's pairs in order; duplicate keys are errors.
  func orderedMapping(_ node: Node, key: String) throws(SinkConfigurationError) -> [(Node, Node)] {
    guard let mapping = node.mapping else { throw error(at: node, .expected(what: "a mapping (key: value lines)", key: key)) }
    var seen: Set<String> = []
    var pairs: [(Node, Node)] = []
    for (keyNode, value) in mapping {
      let name = keyNode.string ?? ""
      guard seen.insert(name).inserted else {
        throw error(at: keyNode, .invalidValue(key: "key", value: name, expected: "each key once"))
      }
      pairs.append((keyNode, value))
    }
    return pairs
  }

  /// A mapping whose keys must be among `known`.
  func mapping(_ node: Node, key: String, known: [String], section: String) throws(SinkConfigurationError) -> Fields {
    var fields = Fields(pairs: [], keyNodes: [])
    for (keyNode, value) in try orderedMapping(node, key: key) {
      let name = keyNode.string ?? ""
      guard known.contains(name) else { throw error(at: keyNode, .unknownKey(name, section: section, known: known)) }
      fields.pairs.append((name, value))
      fields.keyNodes.append((name, keyNode))
    }
    return fields
  }

  func string(_ node: Node, key: String) throws(SinkConfigurationError) -> String {
    guard let scalar = node.scalar, !scalar.string.isEmpty else { throw error(at: node, .expected(what: "a non-empty string", key: key)) }
    return scalar.string
  }

  func integer(_ node: Node, key: String, minimum: Int) throws(SinkConfigurationError) -> Int {
    guard let scalar = node.scalar, let value = Int(scalar.string.filter { $0 != "_" }) else {
      throw error(at: node, .expected(what: "an integer", key: key))
    }
    guard value >= minimum else {
      throw error(at: node, .invalidValue(key: key, value: scalar.string, expected: "an integer ≥ \(minimum)"))
    }
    return value
  }

  /// A duration written like rule durations: `250ms`, `2s`, `1m30s`.
  func duration(_ node: Node, key: String, positive: Bool = false) throws(SinkConfigurationError) -> Duration {
    let text = try string(node, key: key)
    guard let parsed = EventDuration(parsing: text), parsed.nanoseconds >= (positive ? 1 : 0) else {
      throw error(at: node, .invalidValue(key: key, value: text, expected: positive ? "a positive duration like 500ms or 2s" : "a duration like 500ms or 2s"))
    }
    return .nanoseconds(parsed.nanoseconds)
  }

  /// A list of strings (`[a, b]` or one item per line), with each item's node.
  func stringList(_ node: Node, key: String) throws(SinkConfigurationError) -> [(value: String, node: Node)] {
    if let scalar = node.scalar, !scalar.string.isEmpty { return [(scalar.string, node)] }
    guard let sequence = node.sequence else { throw error(at: node, .expected(what: "a list of sink names", key: key)) }
    var out: [(String, Node)] = []
    for item in sequence { out.append((try string(item, key: key), item)) }
    return out
  }
}
