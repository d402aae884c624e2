// swift-tools-version:6.0
//
// Tocsin — a complex event processing rules engine.
//
// Targets follow the pipeline (see docs/architecture.md); dependencies point one way:
//
//   TocsinCore ← TocsinExpressions ← TocsinLanguage ─┐
//        ↑              ↑                             ├─ TocsinCompiler ─┐
//        └────── TocsinAutomaton ←────────────────────┘                  │
//                       ↑                                                 │
//                 TocsinRuntime ← TocsinIO ← TocsinApp ←─────────────────┘ ← TocsinCLI (`tocsin`)
//
// `TocsinRuntime` never imports `TocsinLanguage`: its input is a compiled `RuleProgram`.
//
// Build settings:
// - `TOCSIN_INTERNAL_CHECKS`: define it (`swift build -Xswiftc -DTOCSIN_INTERNAL_CHECKS`) to run
//   the `_checkInvariants()` methods of runtime structures after every mutation. Off by default;
//   the test script turns it on for one run.
import PackageDescription

let package = Package(
  name: "Tocsin",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "tocsin", targets: ["TocsinCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
  ],
  targets: [
    .target(name: "TocsinCore"),
    .target(name: "TocsinExpressions", dependencies: ["TocsinCore"]),
    .target(name: "TocsinLanguage", dependencies: ["TocsinCore", "TocsinExpressions"]),
    .target(name: "TocsinAutomaton", dependencies: ["TocsinCore", "TocsinExpressions"]),
    .target(
      name: "TocsinCompiler",
      dependencies: ["TocsinCore", "TocsinExpressions", "TocsinAutomaton"]),
    .target(
      name: "TocsinRuntime",
      dependencies: [
        "TocsinCore", "TocsinExpressions", "TocsinAutomaton",
        .product(name: "HeapModule", package: "swift-collections"),
      ]),
    .target(name: "TocsinIO", dependencies: ["TocsinCore", "TocsinAutomaton", "TocsinRuntime"]),
    .target(
      name: "TocsinApp",
      dependencies: [
        "TocsinCore", "TocsinExpressions", "TocsinLanguage", "TocsinAutomaton", "TocsinCompiler",
        "TocsinRuntime", "TocsinIO",
      ]),
    .executableTarget(
      name: "TocsinCLI",
      dependencies: [
        "TocsinApp", "TocsinCore", "TocsinLanguage",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .target(
      name: "TocsinTestSupport",
      dependencies: ["TocsinApp", "TocsinCore", "TocsinLanguage", "TocsinCompiler", "TocsinRuntime"]),

    .testTarget(name: "TocsinLanguageTests", dependencies: ["TocsinLanguage", "TocsinTestSupport"]),
    .testTarget(
      name: "TocsinExpressionsTests", dependencies: ["TocsinExpressions", "TocsinTestSupport"]),
    .testTarget(
      name: "TocsinCompilerTests",
      dependencies: ["TocsinCompiler", "TocsinLanguage", "TocsinTestSupport"]),
    .testTarget(
      name: "TocsinRuntimeTests",
      dependencies: ["TocsinRuntime", "TocsinCompiler", "TocsinTestSupport"]),
    .testTarget(name: "TocsinIOTests", dependencies: ["TocsinIO", "TocsinTestSupport"]),
    .testTarget(
      name: "TocsinEndToEndTests", dependencies: ["TocsinApp", "TocsinTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
