import TocsinExpressions

/// A rule's matcher, context and scratch without their reference counts: the engine's `rules`
/// holds them for its whole life. Read from an array, a class reference is retained and
/// released around every call made through it — on W2 ~50 atomic updates per event for these
/// three alone — while an unmanaged one is plain data.
struct HotRule {
  let matcher: Unmanaged<RuleMatcher>
  let context: Unmanaged<EvalContext>
  let scratch: Unmanaged<MatcherScratch>
}

extension Engine {
  /// Calls `body` with rule `r`'s matcher, context and scratch, borrowed (no reference count
  /// touched; see ``HotRule``).
  @inline(__always)
  func withRule<R>(_ r: Int, _ body: (RuleMatcher, EvalContext, MatcherScratch) -> R) -> R {
    let hot = hotRules[r]
    return hot.matcher._withUnsafeGuaranteedRef { matcher in
      hot.context._withUnsafeGuaranteedRef { context in
        hot.scratch._withUnsafeGuaranteedRef { scratch in body(matcher, context, scratch) }
      }
    }
  }
}
