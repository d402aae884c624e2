/// "Did you mean …?" suggestions by edit distance with a similarity threshold.
enum Suggestions {
  /// The candidate closest to `name`, if it is close enough to be a likely typo.
  ///
  /// Uses the optimal-string-alignment distance (insertions, deletions, substitutions and
  /// transpositions of neighbours each cost 1), so `frist` → `first` costs 1. A candidate is
  /// accepted when its distance is at most `max(1, name.count / 3)`, below `name.count`, and not 0.
  /// Ties go to the earlier candidate, so callers pass candidates in a stable order.
  static func closest(to name: String, among candidates: [String]) -> String? {
    let limit = max(1, name.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates where candidate != name {
      let d = distance(name, candidate)
      guard d <= limit, d < name.count else { continue }
      if best == nil || d < best?.distance ?? Int.max { best = (candidate, d) }
    }
    return best?.candidate
  }

  /// `did you mean 'x'?` for the closest candidate, or `nil`.
  static func didYouMean(_ name: String, among candidates: [String]) -> String? {
    closest(to: name, among: candidates).map { "did you mean '\($0)'?" }
  }

  /// The optimal-string-alignment (restricted Damerau–Levenshtein) distance over characters.
  ///
  /// - Complexity: O(a × b) time and space.
  static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a)
    let y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[x.count][y.count]
  }
}
