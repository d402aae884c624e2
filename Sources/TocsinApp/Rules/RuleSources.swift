import Foundation
import TocsinCore

/// Finds and reads rule files.
///
/// A file argument is read as is; a directory argument loads every `*.tcs` file under it,
/// recursively, sorted by path so the rule order (and so the output order) is stable.
public enum RuleSources {
  /// The rule-file extension.
  public static let fileExtension = "tcs"

  /// Why rule files could not be read.
  public struct LoadError: Error, CustomStringConvertible {
    /// The path that failed.
    public var path: String
    /// What went wrong.
    public var reason: String
    public var description: String { "\(path): error: \(reason)" }
  }

  /// Reads every rule file named by `paths` (files or directories).
  /// - Throws: ``LoadError`` for a missing path, an unreadable file, a file that is not UTF-8,
  ///   or a directory with no rule files.
  public static func load(_ paths: [String]) throws -> [SourceFile] {
    var files: [SourceFile] = []
    let fm = FileManager.default
    for path in paths {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw LoadError(path: path, reason: "no such file or directory")
      }
      if isDirectory.boolValue {
        let found = try ruleFiles(in: path)
        if found.isEmpty {
          throw LoadError(path: path, reason: "no '*.\(fileExtension)' rule files in this directory")
        }
        files += try found.map(read)
      } else {
        files.append(try read(path))
      }
    }
    return files
  }

  /// Every `*.tcs` file under `directory`, sorted by path.
  public static func ruleFiles(in directory: String) throws -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
      throw LoadError(path: directory, reason: "cannot list directory")
    }
    var out: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if relative.hasSuffix("." + fileExtension) { out.append(join(directory, relative)) }
    }
    return out.sorted()
  }

  /// Reads one file as a ``SourceFile``.
  public static func read(_ path: String) throws -> SourceFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw LoadError(path: path, reason: "cannot read file")
    }
    guard let text = String(validatingUTF8Data: data) else {
      throw LoadError(path: path, reason: "file is not valid UTF-8")
    }
    return SourceFile(path: path, text: text)
  }

  static func join(_ directory: String, _ relative: String) -> String {
    directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
  }
}

extension String {
  init?(validatingUTF8Data data: Data) {
    let bytes = [UInt8](data)
    guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
    self = s
  }
}
