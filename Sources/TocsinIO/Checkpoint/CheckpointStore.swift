#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a checkpoint could not be written or listed.
public struct CheckpointStoreError: Error, CustomStringConvertible, Equatable {
  /// What failed, with the path and the system's reason.
  public var description: String

  static func system(_ what: String, _ path: String) -> CheckpointStoreError {
    CheckpointStoreError(description: "cannot \(what) '\(path)': \(String(cString: strerror(errno)))")
  }
}

/// A directory of numbered checkpoint files, written atomically, the last ``keep`` kept.
///
/// Writing: the bytes go to a hidden temporary file, which is `fsync`ed, renamed to
/// `checkpoint-NNNNNNNNNNNN.ckpt` (the next number) and the directory is `fsync`ed, so a crash
/// leaves either the old set or the old set plus a complete new file. Older files beyond
/// ``keep`` are then removed. Reading: the newest file that decodes (magic, version, checksum,
/// consistency) wins; the others are reported as skipped with the reason.
public struct CheckpointStore {
  /// The directory.
  public let directory: String
  /// How many checkpoint files are kept.
  public let keep: Int

  /// A store in `directory`, created if missing.
  /// - Throws: ``CheckpointStoreError`` when it cannot be created.
  public init(directory: String, keep: Int = 3) throws(CheckpointStoreError) {
    self.directory = directory
    self.keep = max(2, keep)
    if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw .system("create directory", directory) }
  }

  /// The checkpoint files, oldest first, with their numbers.
  public func files() throws(CheckpointStoreError) -> [(number: Int, path: String)] {
    guard let dir = opendir(directory) else { throw .system("list", directory) }
    defer { closedir(dir) }
    var out: [(Int, String)] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard name.hasPrefix("checkpoint-"), name.hasSuffix(".ckpt") else { continue }
      let digits = name.dropFirst("checkpoint-".count).dropLast(".ckpt".count)
      guard let number = Int(digits) else { continue }
      out.append((number, directory + "/" + name))
    }
    return out.sorted { $0.0 < $1.0 }
  }

  /// Writes `bytes` as the next checkpoint; returns its path.
  @discardableResult
  public func write(_ bytes: [UInt8]) throws(CheckpointStoreError) -> String {
    let existing = try files()
    let number = (existing.last?.number ?? 0) + 1
    let digits = String(number)
    let name = "checkpoint-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".ckpt"
    let path = directory + "/" + name
    let temporary = directory + "/." + name + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .system("create", temporary) }
    var failed: CheckpointStoreError?
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = systemWrite(fd, raw.baseAddress.unsafelyUnwrapped + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          failed = .system("write", temporary)
          return
        }
        done += n
      }
    }
    if failed == nil && fsync(fd) != 0 { failed = .system("fsync", temporary) }
    if close(fd) != 0 && failed == nil { failed = .system("close", temporary) }
    if let failed {
      unlink(temporary)
      throw failed
    }
    guard rename(temporary, path) == 0 else {
      let error = CheckpointStoreError.system("rename", temporary)
      unlink(temporary)
      throw error
    }
    try syncDirectory()
    for old in (existing + [(number, path)]).dropLast(keep) { unlink(old.path) }
    return path
  }

  private func syncDirectory() throws(CheckpointStoreError) {
    let fd = open(directory, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .system("open", directory) }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw .system("fsync", directory) }
  }

  /// The newest checkpoint that decodes, its path, and the newer files skipped (with why).
  public func loadLatest() throws(CheckpointStoreError)
    -> (checkpoint: Checkpoint?, path: String?, skipped: [(path: String, reason: String)])
  {
    var skipped: [(path: String, reason: String)] = []
    for file in try files().reversed() {
      guard let bytes = Self.readFile(file.path) else {
        skipped.append((file.path, "cannot read: \(String(cString: strerror(errno)))"))
        continue
      }
      do {
        let checkpoint = try Checkpoint(decoding: bytes)
        try checkpoint.engine.validate()
        return (checkpoint, file.path, skipped)
      } catch {
        skipped.append((file.path, "\(error)"))
      }
    }
    return (nil, nil, skipped)
  }

  /// The whole file, or `nil` if it cannot be read.
  static func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if n == 0 { return out }
      out.append(contentsOf: chunk[0..<n])
    }
  }
}

// `write` is not shadowed here, but name the system call explicitly as BufferedWriter does.
@inline(__always)
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, bytes, count)
}
