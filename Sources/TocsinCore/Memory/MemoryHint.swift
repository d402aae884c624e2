import CMemoryHints

/// Cache hints for hot loops that know a few microseconds ahead which memory they will read.
///
/// A hint changes no program state and never faults, so a stale or wrong address costs only
/// memory bandwidth. See docs/performance.md, "Prefetching".
public enum MemoryHint {
  /// The cache line size assumed when a range is prefetched.
  public static let lineBytes = 64

  /// Starts loading the cache line holding `address`.
  @inlinable @inline(__always)
  public static func prefetch(_ address: UnsafeRawPointer) { tocsin_prefetch(address) }

  /// Starts loading the cache lines holding `first` and `second`, in one call: where the two
  /// addresses are read from a value borrowed in place, a second call after the first made the
  /// optimiser copy the value (retaining its references) to keep it alive across it.
  @inlinable @inline(__always)
  public static func prefetch(_ first: UnsafeRawPointer, _ second: UnsafeRawPointer) {
    tocsin_prefetch2(first, second)
  }

  /// Starts loading every cache line of `[address, address + bytes)` (at least the first),
  /// including the last one when the range does not start on a line boundary: an 88-byte object
  /// 16-byte aligned spans two or three lines, and stepping 64 bytes from its start missed the
  /// third.
  @inlinable @inline(__always)
  public static func prefetch(_ address: UnsafeRawPointer, bytes: Int) {
    let lineOffset = Int(bitPattern: UInt(bitPattern: address) & UInt(lineBytes - 1))
    var offset = 0
    repeat {
      tocsin_prefetch(address + offset)
      offset &+= lineBytes
    } while offset < bytes &+ lineOffset
  }
}

/// Where an object's memory lies, for ``MemoryHint`` only: the address is never dereferenced and
/// stays meaningful only while the caller keeps the object alive.
public struct MemorySpan: Sendable {
  /// First byte (as a bit pattern; 0 for an empty span).
  public var address: UInt
  /// Number of bytes.
  public var bytes: UInt32

  /// An empty span: prefetching it does nothing.
  public static let empty = MemorySpan(address: 0, bytes: 0)

  /// A span of `bytes` bytes at `address`.
  @inlinable
  public init(address: UInt, bytes: UInt32) {
    self.address = address
    self.bytes = bytes
  }

  /// Starts loading the span's cache lines.
  @inlinable @inline(__always)
  public func prefetch() {
    guard let start = UnsafeRawPointer(bitPattern: address) else { return }
    MemoryHint.prefetch(start, bytes: Int(bytes))
  }
}
