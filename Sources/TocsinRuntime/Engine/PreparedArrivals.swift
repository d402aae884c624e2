/// Key lookups prepared ahead of events' arrival (``Engine/prepareArrival(of:)``), kept by the
/// engine until ``Engine/eventArrived(_:into:)`` takes them.
///
/// A ring of ``capacity`` entries indexed by the event's sequence number, each holding the
/// sequence it was prepared for and the ``KeySpace/Probe`` of the event's key in each of the
/// first ``spaces`` key spaces. An arrival whose entry holds another sequence (never prepared,
/// or overwritten by a caller that prepared more than ``capacity`` events ahead) computes its
/// probes itself, so the ring can make a lookup faster but never different.
///
/// Why the engine keeps them rather than the caller passing them with the event: a hint of four
/// probes is 128 bytes, and passing it through an optional argument cost ~550 instructions per
/// event in copies (callgrind, W1), more than the lookups it saves. Plain memory, no reference
/// counting; noncopyable, it frees its buffers when it goes.
struct PreparedArrivals: ~Copyable {
  /// Events that can be prepared ahead before the oldest preparation is overwritten.
  static let capacity = 32
  /// Key spaces prepared per event: those whose ids an event carries (later spaces are looked
  /// up at release).
  static let spaces = FourKeyIDs.spaces

  private static let empty = UInt64.max
  private let tags: UnsafeMutablePointer<UInt64>
  private let probes: UnsafeMutablePointer<KeySpace.Probe>

  init() {
    tags = .allocate(capacity: Self.capacity)
    tags.initialize(repeating: Self.empty, count: Self.capacity)
    probes = .allocate(capacity: Self.capacity * Self.spaces)
    probes.initialize(repeating: .missing, count: Self.capacity * Self.spaces)
  }

  deinit {
    tags.deallocate()
    probes.deallocate()
  }

  /// Records `probe` as the lookup in `space` (below ``spaces``) of the event numbered
  /// `sequence`, claiming the entry for that event. ``Engine/prepareArrival(of:)`` records every
  /// prepared space of an event at once.
  @inline(__always)
  func record(_ probe: KeySpace.Probe, space: Int, sequence: UInt64) {
    let entry = Int(truncatingIfNeeded: sequence) & (Self.capacity - 1)
    tags[entry] = sequence
    probes[entry * Self.spaces + space] = probe
  }

  /// Takes the entry of the event numbered `sequence`: its probes (one per prepared key space,
  /// in order), readable until the next ``record(_:space:sequence:)``; the entry is emptied.
  /// `nil` when the entry holds another event.
  @inline(__always)
  func take(sequence: UInt64) -> UnsafePointer<KeySpace.Probe>? {
    let entry = Int(truncatingIfNeeded: sequence) & (Self.capacity - 1)
    guard tags[entry] == sequence, sequence != Self.empty else { return nil }
    tags[entry] = Self.empty
    return UnsafePointer(probes + entry * Self.spaces)
  }
}
