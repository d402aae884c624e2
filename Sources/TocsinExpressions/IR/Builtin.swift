import TocsinCore

/// The static type of an expression as far as the checker can tell.
///
/// Fields have type ``unknown`` unless a schema says otherwise: their type is only known at run
/// time, and a mismatch there makes the condition false and counts a warning.
public enum ValueType: String, Hashable, Sendable, CaseIterable {
  case null, bool, int, float, string, time, duration, list
  /// int or float.
  case number
  /// Any type (an event field, or a function that returns any type).
  case unknown
  /// Parameter type only: a time, or a number of epoch milliseconds (`hour_of_day`, `to_time`).
  case timeOrNumber = "time or number"
  /// Parameter type only: a string or a list (`len`).
  case stringOrList = "string or list"

  /// Whether a value of type `self` may be passed where `expected` is required.
  public func isAssignable(to expected: ValueType) -> Bool {
    if self == .unknown || expected == .unknown || self == expected { return true }
    switch expected {
    case .number: return self == .int || self == .float
    case .float: return self == .int || self == .number  // int→float widening
    case .int: return self == .number
    case .timeOrNumber: return self == .time || self.isNumeric
    case .stringOrList: return self == .string || self == .list
    default: return false
    }
  }

  /// Whether the type is int, float or number.
  public var isNumeric: Bool { self == .int || self == .float || self == .number }

  /// Whether the type is numeric (or may be).
  public var mayBeNumber: Bool { self == .int || self == .float || self == .number || self == .unknown }
}

/// The built-in scalar functions.
public enum Builtin: String, Hashable, Sendable, CaseIterable {
  /// `distance_km(lat1, lon1, lat2, lon2)`: great-circle distance (haversine, mean Earth radius
  /// 6371.0088 km), a float.
  case distanceKm = "distance_km"
  /// `abs(n)`: absolute value, same numeric type.
  case abs
  /// `round(n)`: nearest integer, halves away from zero, an int (a float beyond Int64's range).
  case round
  /// `lower(s)`: lower-cased string.
  case lower
  /// `upper(s)`: upper-cased string.
  case upper
  /// `len(s)`: number of characters, an int.
  case len
  /// `contains(s, part)`: whether `part` occurs in `s`.
  case contains
  /// `starts_with(s, prefix)`.
  case startsWith = "starts_with"
  /// `ends_with(s, suffix)`.
  case endsWith = "ends_with"
  /// `min(a, b)` of two numbers.
  case min
  /// `max(a, b)` of two numbers.
  case max
  /// `exists(f)`: whether the field is present and not null. The only function besides
  /// `coalesce` that accepts null without it being a type error.
  case exists
  /// `trim(s)`: the string without leading and trailing white space.
  case trim
  /// `floor(n)`: the largest integer not above `n`, an int (a float beyond Int64's range).
  case floor
  /// `ceil(n)`: the smallest integer not below `n`, an int (a float beyond Int64's range).
  case ceil
  /// `coalesce(a, b)`: `a` unless it is null, else `b`.
  case coalesce
  /// `matches(s, "pcre")`: whether the PCRE2 pattern (a string literal) matches somewhere in `s`.
  case matches
  /// `regex_extract(s, "pcre", group)`: the text of capture `group` (0 = whole match) of the first
  /// match, or null when there is none.
  case regexExtract = "regex_extract"
  /// `like(s, "glob")`: whether the whole of `s` matches the glob literal (`*` any run of
  /// characters, `?` one character).
  case like
  /// `in_cidr(ip, "10.0.0.0/8")`: whether the IPv4 or IPv6 address is in the block (a literal).
  case inCidr = "in_cidr"
  /// `hour_of_day(t [, "zone"])`: the hour 0–23 of a time (or epoch milliseconds, or an RFC 3339
  /// string), in UTC or the IANA zone given as a literal.
  case hourOfDay = "hour_of_day"
  /// `day_of_week(t [, "zone"])`: the ISO weekday, Monday = 1 … Sunday = 7, in UTC or the zone.
  case dayOfWeek = "day_of_week"
  /// `date(t [, "zone"])`: the calendar date `YYYY-MM-DD`, in UTC or the zone.
  case date
  /// `to_time(t)`: a time from epoch milliseconds or an RFC 3339 string (a time stays as is).
  case toTime = "to_time"
  /// `speed_kmh(lat1, lon1, t1, lat2, lon2, t2)`: the ground speed in km/h between two positions
  /// and times; null when the times are equal. The checker also accepts `speed_kmh(a, b)` for two
  /// steps and expands it to their `lat`, `lon` and event times.
  case speedKmh = "speed_kmh"
  /// `split(s, sep)`: the parts of `s` between occurrences of the non-empty `sep`, a list.
  case split

  /// The function's name as written in rules.
  public var name: String { rawValue }

  /// Parameter types, in order.
  public var parameters: [ValueType] {
    switch self {
    case .distanceKm: return [.number, .number, .number, .number]
    case .abs, .round: return [.number]
    case .lower, .upper: return [.string]
    case .len: return [.stringOrList]
    case .contains, .startsWith, .endsWith: return [.string, .string]
    case .min, .max: return [.number, .number]
    case .exists: return [.unknown]
    case .hourOfDay, .dayOfWeek, .date: return [.timeOrNumber, .string]
    case .toTime: return [.unknown]
    case .speedKmh: return [.number, .number, .timeOrNumber, .number, .number, .timeOrNumber]
    case .split: return [.string, .string]
    case .trim: return [.string]
    case .floor, .ceil: return [.number]
    case .coalesce: return [.unknown, .unknown]
    case .matches, .like, .inCidr: return [.string, .string]
    case .regexExtract: return [.string, .string, .int]
    }
  }

  /// Result type.
  public var result: ValueType {
    switch self {
    case .distanceKm, .speedKmh: return .float
    case .date: return .string
    case .toTime: return .time
    case .split: return .list
    case .abs, .min, .max: return .number
    case .round, .len, .floor, .ceil, .hourOfDay, .dayOfWeek: return .int
    case .lower, .upper, .trim, .regexExtract: return .string
    case .contains, .startsWith, .endsWith, .exists, .matches, .like, .inCidr: return .bool
    case .coalesce: return .unknown
    }
  }

  /// A one-line usage string for diagnostics: `distance_km(lat1, lon1, lat2, lon2)`.
  public var signature: String {
    switch self {
    case .distanceKm: return "distance_km(lat1, lon1, lat2, lon2)"
    case .abs: return "abs(number)"
    case .round: return "round(number)"
    case .lower: return "lower(string)"
    case .upper: return "upper(string)"
    case .len: return "len(string)"
    case .contains: return "contains(string, part)"
    case .startsWith: return "starts_with(string, prefix)"
    case .endsWith: return "ends_with(string, suffix)"
    case .min: return "min(a, b)"
    case .max: return "max(a, b)"
    case .exists: return "exists(field)"
    case .trim: return "trim(string)"
    case .floor: return "floor(number)"
    case .ceil: return "ceil(number)"
    case .coalesce: return "coalesce(a, b)"
    case .matches: return "matches(string, \"pattern\")"
    case .regexExtract: return "regex_extract(string, \"pattern\", group)"
    case .like: return "like(string, \"glob\")"
    case .inCidr: return "in_cidr(ip, \"10.0.0.0/8\")"
    case .hourOfDay: return "hour_of_day(time [, \"zone\"])"
    case .dayOfWeek: return "day_of_week(time [, \"zone\"])"
    case .date: return "date(time [, \"zone\"])"
    case .toTime: return "to_time(epoch_ms_or_rfc3339)"
    case .speedKmh: return "speed_kmh(step1, step2)"
    case .split: return "split(string, separator)"
    }
  }

  /// The fewest arguments the function takes; the rest of ``parameters`` are optional.
  public var minimumArgumentCount: Int {
    switch self {
    case .hourOfDay, .dayOfWeek, .date: return 1
    default: return parameters.count
    }
  }

  /// The position (0-based) of the optional IANA time-zone argument, which must be a string
  /// literal naming a zone Foundation knows; resolved once at load.
  public var zoneArgument: Int? {
    switch self {
    case .hourOfDay, .dayOfWeek, .date: return 1
    default: return nil
    }
  }

  /// The position (0-based) of the argument that must be a string literal, checked and compiled
  /// once: a regex, a glob or a CIDR block.
  public var literalArgument: Int? {
    switch self {
    case .matches, .regexExtract, .like, .inCidr: return 1
    default: return nil
    }
  }

  /// Looks a function up by its rule-language name.
  public static func named(_ name: String) -> Builtin? { Builtin(rawValue: name) }
}
