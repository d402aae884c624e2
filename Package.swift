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
//                 TocsinRuntime ← TocsinIO ← TocsinSinks ← TocsinApp ←───┘ ← TocsinCLI (`tocsin`)
//
// `TocsinRuntime` never imports `TocsinLanguage`: its input is a compiled `RuleProgram`.
//
// Build settings:
// - `TOCSIN_INTERNAL_CHECKS`: define it (`swift build -Xswiftc -DTOCSIN_INTERNAL_CHECKS`) to run
//   the `_checkInvariants()` methods of runtime structures after every mutation. Off by default;
//   the test script turns it on for one run.
import PackageDescription

/// Release builds skip dynamic exclusivity checks: the engine's classes are confined to one
/// thread, and the checks cost ~9% of run time on the hot path (callgrind, 200k events; in
/// `TocsinCore`, the slot pool's checks alone cost 2.5%).
/// Debug builds (and so every test run) keep them.
let hotPathSettings: [SwiftSetting] = [
  .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
  name: "Tocsin",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "tocsin", targets: ["TocsinCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    // Sink configuration files (YAML). Chosen over TOMLKit 0.6.0 for build cost: a clean debug
    // build of a one-file package using it took 11.5 s against TOMLKit's 18.7 s (2 cores).
    .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
  ],
  targets: [
    // Cache hints (`__builtin_prefetch`) for the engine's release loop; header-only.
    .target(name: "CMemoryHints"),
    .target(name: "TocsinCore", dependencies: ["CMemoryHints"], swiftSettings: hotPathSettings),
    // Counts malloc calls for `tocsin bench` by interposing the allocator; linked only into the
    // `tocsin` executable (docs/performance.md, "Allocations").
    .target(name: "CAllocCounter"),
    // Lets `--workers 2`'s decoding thread fault in the engine's heap growth (mallopt, madvise).
    .target(name: "CHeapReserve"),
    .systemLibrary(
      name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"]), .brew(["pcre2"])]),
    .target(
      name: "TocsinExpressions", dependencies: ["TocsinCore", "CPCRE2"], swiftSettings: hotPathSettings),
    .target(name: "TocsinLanguage", dependencies: ["TocsinCore", "TocsinExpressions"]),
    .target(name: "TocsinAutomaton", dependencies: ["TocsinCore", "TocsinExpressions"]),
    .target(
      name: "TocsinCompiler",
      dependencies: ["TocsinCore", "TocsinExpressions", "TocsinAutomaton"]),
    .target(
      name: "TocsinRuntime",
      dependencies: ["TocsinCore", "TocsinExpressions", "TocsinAutomaton", "CMemoryHints"],
      swiftSettings: hotPathSettings),
    .target(
      name: "TocsinIO", dependencies: ["TocsinCore", "TocsinAutomaton", "TocsinRuntime"],
      swiftSettings: hotPathSettings),
    // Alert destinations: stdout, rotating files, the HTTP webhook (its own small HTTP/1.1
    // client over POSIX sockets), and the sink configuration file. Off the hot path.
    .target(
      name: "TocsinSinks",
      dependencies: [
        "TocsinCore", "TocsinExpressions", "TocsinIO", .product(name: "Yams", package: "Yams"),
      ]),
    .target(
      name: "TocsinApp",
      dependencies: [
        "TocsinCore", "TocsinExpressions", "TocsinLanguage", "TocsinAutomaton", "TocsinCompiler",
        "TocsinRuntime", "TocsinIO", "TocsinSinks", "CHeapReserve",
      ],
      swiftSettings: hotPathSettings),
    .executableTarget(
      name: "TocsinCLI",
      dependencies: [
        "TocsinApp", "TocsinCore", "TocsinLanguage", "TocsinSinks", "CAllocCounter",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .target(
      name: "TocsinTestSupport",
      dependencies: ["TocsinApp", "TocsinCore", "TocsinLanguage", "TocsinCompiler", "TocsinRuntime"]),

    .testTarget(
      name: "TocsinLanguageTests", dependencies: ["TocsinLanguage", "TocsinTestSupport"],
      // Read from the source tree by path (#filePath), not bundled.
      exclude: ["Resources"]),
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
      name: "TocsinSinksTests", dependencies: ["TocsinSinks", "TocsinApp", "TocsinCore", "TocsinIO", "TocsinTestSupport"]),
    .testTarget(
      name: "TocsinEndToEndTests", dependencies: ["TocsinApp", "CHeapReserve", "TocsinAutomaton", "TocsinCore", "TocsinIO", "TocsinTestSupport"]),
    .testTarget(name: "TocsinBenchTests", dependencies: ["TocsinApp", "TocsinCore", "TocsinIO", "TocsinTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
