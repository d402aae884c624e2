import Foundation
import TocsinApp
import XCTest

/// Paths into the repository, found from this file's location so tests run from any directory.
public enum Repository {
  /// The repository root (the folder holding `Package.swift`).
  public static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Sources/TocsinTestSupport/Repository.swift
    return url.path
  }()

  /// `root/relative`.
  public static func path(_ relative: String) -> String { root + "/" + relative }
}

/// Asserts two multi-line strings are equal, showing a line diff (expected → actual) on failure.
public func assertEqualLines(
  _ actual: String, _ expected: String, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  let diff = LineDiff.render(expected: expected, actual: actual)
  if !diff.isEmpty {
    XCTFail("\(message)\n--- expected / +++ actual\n\(diff)", file: file, line: line)
  }
}
