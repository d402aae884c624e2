/// A minimal line diff for golden-file mismatches: `-` lines only in the expected text, `+`
/// lines only in the actual text, two lines of context around each change.
public enum LineDiff {
  /// The diff of `expected` → `actual`, or `""` when equal.
  ///
  /// Uses an LCS table, so it is O(n·m); inputs past 4 000 lines each fall back to reporting the
  /// first differing line, which is enough to locate a golden-file mismatch.
  public static func render(expected: String, actual: String, context: Int = 2) -> String {
    if expected == actual { return "" }
    let a = lines(expected)
    let b = lines(actual)
    guard a.count <= 4000, b.count <= 4000 else {
      let i = zip(a, b).prefix { $0 == $1 }.count
      return "first difference at line \(i + 1):\n- \(i < a.count ? a[i] : "<end>")\n+ \(i < b.count ? b[i] : "<end>")\n"
    }
    // lcs[i][j] = LCS length of a[i...] and b[j...].
    var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
      }
    }
    enum Op { case same(String), removed(String), added(String) }
    var ops: [Op] = []
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if i < a.count, j < b.count, a[i] == b[j] {
        ops.append(.same(a[i]))
        i += 1
        j += 1
      } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
        ops.append(.added(b[j]))
        j += 1
      } else {
        ops.append(.removed(a[i]))
        i += 1
      }
    }
    var changed = Array(repeating: false, count: ops.count)
    for (k, op) in ops.enumerated() {
      if case .same = op { continue }
      for c in max(0, k - context)...min(ops.count - 1, k + context) { changed[c] = true }
    }
    var out = ""
    var expectedLine = 1
    var lastPrinted = -2
    for (k, op) in ops.enumerated() {
      if changed[k] {
        if k != lastPrinted + 1 { out += "@@ expected line \(expectedLine) @@\n" }
        switch op {
        case .same(let s): out += "  \(s)\n"
        case .removed(let s): out += "- \(s)\n"
        case .added(let s): out += "+ \(s)\n"
        }
        lastPrinted = k
      }
      if case .added = op {} else { expectedLine += 1 }
    }
    return out
  }

  private static func lines(_ text: String) -> [String] {
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if parts.last == "" { parts.removeLast() }
    return parts
  }
}
