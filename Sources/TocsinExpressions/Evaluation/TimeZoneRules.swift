import Foundation
import TocsinCore

/// The UTC offsets of one IANA time zone as a transition table, built once when a rule is loaded.
///
/// `hour_of_day(t, "Europe/Berlin")` must not ask Foundation for every event, so at load the zone
/// is sampled once a day from 1970 to 2100 and every change of offset is located to the second
/// by bisection (DST switches and changes of standard time alike). Evaluation is then a binary
/// search over about 250 `Int64`s for a zone with DST — no allocation, no locks. Times outside
/// the table fall back to Foundation, which is correct but slower.
///
/// Invariant: `transitions` is strictly increasing and `offsets.count == transitions.count + 1`;
/// `offsets[i]` holds before `transitions[i]` (and `offsets[i + 1]` from it on).
public struct TimeZoneRules: Sendable {
  /// The zone's identifier as written in the rule.
  public let identifier: String
  /// `nil` for ``utc``, which needs no table.
  private let zone: TimeZone?
  /// UTC seconds since the epoch at which a new offset starts.
  private let transitions: [Int64]
  /// Offsets from UTC in seconds; see the type's invariant.
  private let offsets: [Int32]

  /// 1970-01-01T00:00:00Z, the start of the table.
  static let tableStart: Int64 = 0
  /// 2100-01-01T00:00:00Z, the end of the table.
  static let tableEnd: Int64 = 4_102_444_800

  /// UTC: no transitions, offset zero.
  public static let utc = TimeZoneRules(identifier: "UTC", zone: nil, transitions: [], offsets: [0])

  private init(identifier: String, zone: TimeZone?, transitions: [Int64], offsets: [Int32]) {
    self.identifier = identifier
    self.zone = zone
    self.transitions = transitions
    self.offsets = offsets
  }

  /// The rules of the zone Foundation knows as `identifier` (`"Europe/Berlin"`, `"UTC"`), or
  /// `nil` for an unknown name.
  /// - Complexity: about 48 000 offset look-ups; done once per zone and rule set.
  public init?(identifier: String) {
    guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else { return nil }
    func offset(_ seconds: Int64) -> Int32 {
      Int32(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }
    var transitions: [Int64] = []
    var offsets: [Int32] = [offset(Self.tableStart)]
    var previous = Self.tableStart
    var current = offsets[0]
    var sample = Self.tableStart + 86_400
    while sample <= Self.tableEnd {
      let next = offset(sample)
      if next != current {
        // Bisection: the first second in (previous, sample] with the new offset.
        var low = previous
        var high = sample
        while high - low > 1 {
          let mid = low + (high - low) / 2
          if offset(mid) == current { low = mid } else { high = mid }
        }
        transitions.append(high)
        offsets.append(next)
        current = next
      }
      previous = sample
      sample += 86_400
    }
    self.init(identifier: identifier, zone: zone, transitions: transitions, offsets: offsets)
  }

  /// Whether Foundation knows a zone called `identifier`.
  public static func isKnown(_ identifier: String) -> Bool {
    !identifier.isEmpty && TimeZone(identifier: identifier) != nil
  }

  /// Every zone identifier Foundation knows, sorted (for did-you-mean suggestions).
  public static var knownIdentifiers: [String] { TimeZone.knownTimeZoneIdentifiers.sorted() }

  /// The offset from UTC in seconds at the UTC instant `seconds` since the epoch.
  /// - Complexity: O(log t) for t transitions inside the table; a Foundation call outside it.
  public func offset(atSecondsSinceEpoch seconds: Int64) -> Int64 {
    guard let zone else { return Int64(offsets[0]) }
    guard seconds >= Self.tableStart, seconds < Self.tableEnd else {
      return Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }
    // The number of transitions at or before `seconds` indexes its offset.
    var low = 0
    var high = transitions.count
    while low < high {
      let mid = (low + high) / 2
      if transitions[mid] <= seconds { low = mid + 1 } else { high = mid }
    }
    return Int64(offsets[low])
  }
}
