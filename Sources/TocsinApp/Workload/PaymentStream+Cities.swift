#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One city a synthetic user can live in or travel to.
///
/// Coordinates are stored in units of 10⁻⁴ degrees so they are exact integers and print with at
/// most four decimals, identically on every platform (no `Double` formatting involved).
struct City: Sendable {
  /// The display name, plain ASCII so lines need no JSON escaping.
  var name: String
  /// ISO 3166-1 alpha-2 country code.
  var country: String
  /// ISO 4217 currency code used for purchases in this city.
  var currency: String
  /// Latitude in 10⁻⁴ degrees.
  var latE4: Int
  /// Longitude in 10⁻⁴ degrees.
  var lonE4: Int

  /// Latitude in degrees.
  var latitude: Double { Double(latE4) / 10_000 }
  /// Longitude in degrees.
  var longitude: Double { Double(lonE4) / 10_000 }
}

/// The fixed world the payment stream lives in: 31 real cities and the distances between them.
enum CityTable {
  /// Every city, in a fixed order; a city's index is its identity in generated events.
  static let cities: [City] = [
    City(name: "Berlin", country: "DE", currency: "EUR", latE4: 525_200, lonE4: 134_050),
    City(name: "Paris", country: "FR", currency: "EUR", latE4: 488_566, lonE4: 23_522),
    City(name: "Madrid", country: "ES", currency: "EUR", latE4: 404_168, lonE4: -37_038),
    City(name: "Rome", country: "IT", currency: "EUR", latE4: 419_028, lonE4: 124_964),
    City(name: "Amsterdam", country: "NL", currency: "EUR", latE4: 523_676, lonE4: 49_041),
    City(name: "Vienna", country: "AT", currency: "EUR", latE4: 482_082, lonE4: 163_738),
    City(name: "Warsaw", country: "PL", currency: "PLN", latE4: 522_297, lonE4: 210_122),
    City(name: "Stockholm", country: "SE", currency: "SEK", latE4: 593_293, lonE4: 180_686),
    City(name: "Lisbon", country: "PT", currency: "EUR", latE4: 387_223, lonE4: -91_393),
    City(name: "Dublin", country: "IE", currency: "EUR", latE4: 533_498, lonE4: -62_603),
    City(name: "London", country: "GB", currency: "GBP", latE4: 515_074, lonE4: -1_278),
    City(name: "Zurich", country: "CH", currency: "CHF", latE4: 473_769, lonE4: 85_417),
    City(name: "Prague", country: "CZ", currency: "CZK", latE4: 500_755, lonE4: 144_378),
    City(name: "Athens", country: "GR", currency: "EUR", latE4: 379_838, lonE4: 237_275),
    City(name: "Istanbul", country: "TR", currency: "TRY", latE4: 410_082, lonE4: 289_784),
    City(name: "Helsinki", country: "FI", currency: "EUR", latE4: 601_699, lonE4: 249_384),
    City(name: "New York", country: "US", currency: "USD", latE4: 407_128, lonE4: -740_060),
    City(name: "San Francisco", country: "US", currency: "USD", latE4: 377_749, lonE4: -1_224_194),
    City(name: "Chicago", country: "US", currency: "USD", latE4: 418_781, lonE4: -876_298),
    City(name: "Toronto", country: "CA", currency: "CAD", latE4: 436_532, lonE4: -793_832),
    City(name: "Mexico City", country: "MX", currency: "MXN", latE4: 194_326, lonE4: -991_332),
    City(name: "Sao Paulo", country: "BR", currency: "BRL", latE4: -235_505, lonE4: -466_333),
    City(name: "Buenos Aires", country: "AR", currency: "ARS", latE4: -346_037, lonE4: -583_816),
    City(name: "Tokyo", country: "JP", currency: "JPY", latE4: 356_762, lonE4: 1_396_503),
    City(name: "Seoul", country: "KR", currency: "KRW", latE4: 375_665, lonE4: 1_269_780),
    City(name: "Singapore", country: "SG", currency: "SGD", latE4: 13_521, lonE4: 1_038_198),
    City(name: "Sydney", country: "AU", currency: "AUD", latE4: -338_688, lonE4: 1_512_093),
    City(name: "Mumbai", country: "IN", currency: "INR", latE4: 190_760, lonE4: 728_777),
    City(name: "Dubai", country: "AE", currency: "AED", latE4: 252_048, lonE4: 552_708),
    City(name: "Johannesburg", country: "ZA", currency: "ZAR", latE4: -262_041, lonE4: 280_473),
    City(name: "Cairo", country: "EG", currency: "EGP", latE4: 300_444, lonE4: 312_357),
  ]

  /// Mean Earth radius in kilometres (IUGG), the same constant `distance_km` uses.
  static let earthRadiusKm = 6371.0088

  /// Great-circle distance in kilometres between two points in degrees (haversine formula).
  static func distanceKm(lat1: Double, lon1: Double, lat2: Double, lon2: Double) -> Double {
    let radians = Double.pi / 180
    let dLat = (lat2 - lat1) * radians
    let dLon = (lon2 - lon1) * radians
    let h =
      sin(dLat / 2) * sin(dLat / 2)
      + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * earthRadiusKm * asin(min(1, h.squareRoot()))
  }

  /// Great-circle distance between two cities of ``cities``, in kilometres.
  static func distanceKm(_ a: Int, _ b: Int) -> Double {
    let x = cities[a]
    let y = cities[b]
    return distanceKm(lat1: x.latitude, lon1: x.longitude, lat2: y.latitude, lon2: y.longitude)
  }

  /// For each city, the cities at least `km` away, in table order.
  static func partners(atLeastKm km: Double) -> [[Int]] {
    cities.indices.map { a in cities.indices.filter { b in distanceKm(a, b) >= km } }
  }

  /// `value` (in 10⁻⁴ units) as a decimal with at most four decimals and no trailing zeros:
  /// `525200` → `52.52`, `-1278` → `-0.1278`, `500000` → `50`.
  static func decimalE4(_ value: Int) -> String {
    let magnitude = value.magnitude
    var text = (value < 0 ? "-" : "") + String(magnitude / 10_000)
    var fraction = magnitude % 10_000
    if fraction == 0 { return text }
    var digits = 4
    while fraction % 10 == 0 {
      fraction /= 10
      digits -= 1
    }
    let raw = String(fraction)
    text += "." + String(repeating: "0", count: digits - raw.count) + raw
    return text
  }
}
