import TocsinExpressions
import TocsinRuntime

/// One ``RuleMatcher`` driven directly over one key's state, recording what it emits: for tests
/// that run two matchers side by side (shared runs against the general walk, the in-place walk
/// against the copying one) and compare them after every step.
public final class MatcherHarness {
  /// The matcher under test.
  public let matcher: RuleMatcher
  /// The key's state.
  public var state = PartialMatches()
  /// The evaluation context the matcher's conditions run in.
  public let context = EvalContext()
  /// The matcher's scratch buffers.
  public let scratch = MatcherScratch()
  /// Every emitted match, in order: its outcome and the identities of its events.
  public private(set) var emitted: [String] = []

  /// A harness around `matcher`, with empty state.
  public init(_ matcher: RuleMatcher) {
    self.matcher = matcher
  }

  /// Records an emitted match (pass as the matcher's `emit`).
  public func record(_ node: MatchNode, _ outcome: MatchOutcome) {
    emitted.append("\(outcome): " + node.nodesInOrder.map(\.event.identity).joined(separator: " "))
  }

  /// Each computation of `list` as `state@start: identities…`, its events oldest first.
  public static func describe(_ list: [Computation]) -> [String] {
    list.map { "\($0.state)@\($0.start.sequence): " + $0.bindings.nodesInOrder.map(\.event.identity).joined(separator: " ") }
  }
}
