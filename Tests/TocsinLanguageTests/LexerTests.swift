import TocsinCore
import TocsinLanguage
import XCTest

final class SmokeTests: XCTestCase {
  func testSmoke() {
    let text = """
      # Two large purchases too far apart
      rule geo_impossible_purchase
        severity high
        key user
        begin first
          where type == "purchase" and amount > 10000
        followed_by second
          where type == "purchase" and amount > 10000
            and distanse_km(first.lat, first.lon, lat, lon) > 500
        within 10m
        emit { user: key, from: first.city, to: second.city,
               km: round(distance_km(first.lat, first.lon, second.lat, second.lon)) }

      rule card_velocity
        severity medium
        key card
        begin burst where type == "purchase"
          times 10+
        within 1h
        skip past_last_event
        emit { card: key, purchases: count(burst), total: sum(burst.amount) }
      """
    let result = FrontEnd.check([SourceFile(path: "rules/geo.tcs", text: text)])
    print(DiagnosticRenderer(colored: false).render(result.diagnostics))
    for r in result.rules { print(r) }
  }
}
