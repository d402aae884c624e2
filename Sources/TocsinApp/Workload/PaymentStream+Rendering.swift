/// Renders ``PaymentEvent``s as NDJSON lines without Foundation.
///
/// Fields are written in a fixed order and every number is an integer except coordinates, which
/// come pre-rendered from ``CityTable`` (at most four decimals), so a line is a pure function of
/// the event. Per-city fragments are built once; each line is assembled in one reused byte
/// buffer and becomes one `String` allocation.
///
///     {"id":"e0000001","ts":1767225600004,"type":"purchase","user":"u000042","card":"c000042",
///      "amount":2500,"currency":"EUR","merchant":"m0123","city":"Berlin","lat":52.52,
///      "lon":13.405,"geo":{"country":"DE"}}
struct LineWriter {
  /// Pages a `page_view` can show, by ``PaymentEvent/detail``.
  static let pages = ["/", "/login", "/account", "/cards", "/transfers", "/help"]

  private var buffer: [UInt8] = []
  /// `,"currency":"EUR"` per city.
  private let currencyFields: [[UInt8]]
  /// `,"city":"Berlin","lat":52.52,"lon":13.405` per city.
  private let placeFields: [[UInt8]]
  /// `,"geo":{"country":"DE"}}` per city (closes the object).
  private let geoFields: [[UInt8]]
  /// `,"page":"/account"}` per page (closes the object).
  private let pageFields: [[UInt8]]

  /// A writer with its per-city fragments prepared.
  init() {
    let cities = CityTable.cities
    currencyFields = cities.map { Array(#","currency":""#.utf8) + Array($0.currency.utf8) + [0x22] }
    placeFields = cities.map { city in
      let text =
        #","city":""# + city.name + #"","lat":"# + CityTable.decimalE4(city.latE4) + #","lon":"#
        + CityTable.decimalE4(city.lonE4)
      return Array(text.utf8)
    }
    geoFields = cities.map { Array((#","geo":{"country":""# + $0.country + #""}}"#).utf8) }
    pageFields = Self.pages.map { Array((#","page":""# + $0 + #""}"#).utf8) }
    buffer.reserveCapacity(512)
  }

  /// The line for `event`, the `index`-th event in event-time order.
  mutating func render(_ event: PaymentEvent, index: Int) -> String {
    buffer.removeAll(keepingCapacity: true)
    append(#"{"id":"e"#)
    appendInteger(index + 1, width: 7)
    append(#"","ts":"#)
    appendInteger(Int(event.timeMs))
    let city = Int(event.city)
    switch event.type {
    case .purchase:
      append(#","type":"purchase","user":"u"#)
      appendInteger(Int(event.user), width: 6)
      switch event.series {
      case .regular: append(#"","card":"c"#)
      case .burst: append(#"","card":"cb"#)
      case .testing: append(#"","card":"ct"#)
      }
      appendInteger(Int(event.card), width: 6)
      append(#"","amount":"#)
      appendInteger(Int(event.amount))
      buffer.append(contentsOf: currencyFields[city])
      append(#","merchant":"m"#)
      appendInteger(Int(event.detail), width: 4)
      buffer.append(0x22)
      buffer.append(contentsOf: placeFields[city])
      buffer.append(contentsOf: geoFields[city])
    case .login, .loginFailed:
      append(
        event.type == .login ? #","type":"login","user":"u"# : #","type":"login_failed","user":"u"#)
      appendInteger(Int(event.user), width: 6)
      append(#"","ip":""#)
      appendIPv4(event.ip)
      buffer.append(0x22)
      buffer.append(contentsOf: placeFields[city])
      appendDevice(event.device)
      buffer.append(0x7D)
    case .logout:
      append(#","type":"logout","user":"u"#)
      appendInteger(Int(event.user), width: 6)
      buffer.append(0x22)
      appendDevice(event.device)
      buffer.append(0x7D)
    case .pageView:
      append(#","type":"page_view","user":"u"#)
      appendInteger(Int(event.user), width: 6)
      buffer.append(0x22)
      appendDevice(event.device)
      buffer.append(contentsOf: pageFields[Int(event.detail) % pageFields.count])
    }
    return String(decoding: buffer, as: UTF8.self)
  }

  // MARK: - Pieces

  @inline(__always)
  private mutating func append(_ text: StaticString) {
    text.withUTF8Buffer { buffer.append(contentsOf: $0) }
  }

  /// `,"device":"d0000126"`.
  private mutating func appendDevice(_ device: Int32) {
    append(#","device":"d"#)
    appendInteger(Int(device), width: 7)
    buffer.append(0x22)
  }

  /// Dotted-quad notation of a big-endian IPv4 address.
  private mutating func appendIPv4(_ ip: UInt32) {
    appendInteger(Int(ip >> 24))
    for shift in [16, 8, 0] as [UInt32] {
      buffer.append(0x2E)
      appendInteger(Int((ip >> shift) & 0xFF))
    }
  }

  /// `value` in decimal, left-padded with zeros to at least `width` digits.
  private mutating func appendInteger(_ value: Int, width: Int = 1) {
    if value < 0 { buffer.append(0x2D) }
    var remaining = value.magnitude
    var digits = 1
    var probe = remaining
    while probe >= 10 {
      probe /= 10
      digits += 1
    }
    let total = max(digits, width)
    let start = buffer.count
    buffer.append(contentsOf: repeatElement(0x30, count: total))
    var position = start + total - 1
    while remaining > 0 {
      buffer[position] = 0x30 + UInt8(remaining % 10)
      remaining /= 10
      position -= 1
    }
  }
}
