import TocsinCore

/// Lays out a payment stream in event-time order: stamps, injected cases, then the background.
///
/// The planner works on a flat array of time slots, one per event. Injected cases claim their
/// slots first (`place(offsets:)`); the background then fills every free slot. All randomness
/// comes from one generator seeded by `config.seed`, consumed in a fixed order:
///
///     1) home cities   2) case users   3) time stamps   4) cases by kind   5) background by slot
struct StreamPlanner {
  /// What to generate.
  let config: PaymentStreamConfig
  /// The events, in event-time order; complete after ``plan()``.
  private(set) var events: [PaymentEvent]

  private var rng: Xoshiro256StarStar
  private var occupied: [Bool]
  private let slotMs: Int64
  /// Case durations are capped at this many slots so short streams still hold every case.
  private let maxSpanSlots: Int
  private var homeCity: [UInt8]
  /// Purchases per regular card (card `c` + user number) so far, injected ones included.
  private var cardPurchases: [UInt8]
  /// Background failed logins per user so far.
  private var failedLogins: [UInt8]
  /// Users of brute-force cases: the background gives them no logins at all, so nothing can
  /// complete or extend their case.
  private var isBruteForceUser: [Bool]
  /// ``PaymentStreamConfig/hotKeyFraction`` in millionths; zero draws nothing.
  private let hotPartsPerMillion: Int

  /// A planner for `config`.
  init(_ config: PaymentStreamConfig) {
    precondition(config.events > 0, "a payment stream needs at least one event")
    precondition(config.users > 0, "a payment stream needs at least one user")
    precondition(config.spacing.milliseconds >= 1, "event spacing must be at least 1 ms")
    precondition(
      config.injectedEventCount <= config.events / 2,
      "injected cases need \(config.injectedEventCount) events, more than half of \(config.events)")
    precondition(
      !config.distinctKeys || config.users >= config.events,
      "distinct-key mode needs at least as many users as events")
    precondition(
      config.hotKeyFraction == 0 || (0..<config.users).contains(config.hotUser),
      "the hot user must be one of the users")
    precondition(
      config.geoPairs + config.bruteForceCases <= config.users,
      "geo and brute-force cases need distinct users: more cases than users")
    self.config = config
    events = Array(repeating: PaymentEvent(), count: config.events)
    occupied = Array(repeating: false, count: config.events)
    slotMs = config.spacing.milliseconds
    hotPartsPerMillion = config.hotKeyPartsPerMillion
    maxSpanSlots = max(1, config.events / 4)
    cardPurchases = Array(repeating: 0, count: config.users)
    failedLogins = Array(repeating: 0, count: config.users)
    isBruteForceUser = Array(repeating: false, count: config.users)
    var rng = Xoshiro256StarStar(seed: config.seed, stream: 1)
    let cityCount = CityTable.cities.count
    homeCity = (0..<config.users).map { _ in UInt8(rng.below(cityCount)) }
    self.rng = rng
  }

  /// Fills ``events`` and returns the injected cases ordered by their first event.
  mutating func plan() -> [InjectedCase] {
    // 1) Users for the per-user cases, distinct across both kinds (partial Fisher–Yates).
    var pool = Array(0..<Int32(config.users))
    let needed = config.geoPairs + config.bruteForceCases
    for k in 0..<needed {
      pool.swapAt(k, k + rng.below(config.users - k))
    }
    let geoUsers = pool[0..<config.geoPairs]
    let bruteForceUsers = pool[config.geoPairs..<needed]
    for user in bruteForceUsers { isBruteForceUser[Int(user)] = true }

    // 2) Stamps: slot i at start + i·spacing + jitter, strictly increasing.
    let startMs = config.start.millisecondsSinceEpoch
    for i in events.indices {
      events[i].timeMs = startMs + Int64(i) * slotMs + Int64(rng.below(Int(slotMs)))
    }

    // 3) Cases, each kind in turn.
    var cases: [(firstSlot: Int, injected: InjectedCase)] = []
    for user in geoUsers { cases.append(injectGeoPair(user: Int(user))) }
    for burst in 0..<config.velocityBursts { cases.append(injectVelocityBurst(number: burst)) }
    for (n, user) in bruteForceUsers.enumerated() {
      cases.append(injectBruteForce(number: n, user: Int(user)))
    }
    for n in 0..<config.cardTestingCases { cases.append(injectCardTesting(number: n)) }

    // 4) Background in every free slot.
    for slot in events.indices where !occupied[slot] { fillBackground(slot) }

    cases.sort { $0.firstSlot < $1.firstSlot }
    return cases.map(\.injected)
  }

  // MARK: - Injected cases

  /// Two purchases over 10000, at home then in a city ≥ 1500 km away, 1–9 minutes apart.
  private mutating func injectGeoPair(user: Int) -> (Int, InjectedCase) {
    let from = Int(homeCity[user])
    let partners = Self.farCities[from]
    let to = partners[rng.below(partners.count)]
    let gap = randomSpan(fromMs: 61_000, toMs: 530_000)
    let slots = place(offsets: [0, gap])
    for (k, slot) in slots.enumerated() {
      events[slot].makePurchase(
        user: user, series: .regular, card: user, amount: rng.between(10_001...50_000),
        merchant: rng.below(2_000), city: k == 0 ? from : to)
    }
    cardPurchases[user] += 2
    return caseRecord(.geoImpossible, key: "u" + Self.padded(user, 6), slots: slots)
  }

  /// Twelve purchases of fresh card `cb<number>` within 17 minutes, amounts 5…9000.
  private mutating func injectVelocityBurst(number: Int) -> (Int, InjectedCase) {
    let user = rng.below(config.users)
    let slots = place(offsets: sortedOffsets(PaymentStream.velocityBurstSize, withinMs: 1_020_000))
    for slot in slots {
      events[slot].makePurchase(
        user: user, series: .burst, card: number, amount: backgroundAmount(minimum: 5),
        merchant: rng.below(2_000), city: Int(homeCity[user]))
    }
    return caseRecord(.velocityBurst, key: "cb" + Self.padded(number, 6), slots: slots)
  }

  /// Five to eight failed logins then a login, from one foreign IP and device, within 8 minutes.
  private mutating func injectBruteForce(number: Int, user: Int) -> (Int, InjectedCase) {
    let failures = rng.between(5...PaymentStream.bruteForceMaxFailures)
    let slots = place(offsets: sortedOffsets(failures + 1, withinMs: 480_000))
    let ip = 0xC633_6400 | UInt32(rng.between(1...254))  // 198.51.100.x (TEST-NET-2)
    let city = rng.below(CityTable.cities.count)
    for (k, slot) in slots.enumerated() {
      events[slot].makeLogin(
        user: user, failed: k < failures, ip: ip, city: city, device: 9_000_000 + number)
    }
    return caseRecord(.bruteForce, key: "u" + Self.padded(user, 6), slots: slots)
  }

  /// Three purchases under 2 then one of 501…9000 on fresh card `ct<number>`, within 12 minutes.
  private mutating func injectCardTesting(number: Int) -> (Int, InjectedCase) {
    let user = rng.below(config.users)
    let slots = place(offsets: sortedOffsets(4, withinMs: 720_000))
    let probeMerchant = rng.below(2_000)
    let city = rng.below(CityTable.cities.count)
    for (k, slot) in slots.enumerated() {
      let isProbe = k < 3
      events[slot].makePurchase(
        user: user, series: .testing, card: number,
        amount: isProbe
          ? rng.between(0...1) : rng.between(501...PaymentStream.backgroundAmountLimit),
        merchant: isProbe ? probeMerchant : rng.below(2_000), city: city)
    }
    return caseRecord(.cardTesting, key: "ct" + Self.padded(number, 6), slots: slots)
  }

  private func caseRecord(_ kind: InjectedCase.Kind, key: String, slots: [Int]) -> (
    Int, InjectedCase
  ) {
    let ids = slots.map { "e" + Self.padded($0 + 1, 7) }
    return (slots.first ?? 0, InjectedCase(kind: kind, key: key, eventIDs: ids))
  }

  // MARK: - Slots

  /// A slot count for a duration drawn uniformly from `fromMs…toMs`, capped for short streams.
  private mutating func randomSpan(fromMs: Int64, toMs: Int64) -> Int {
    let high = min(Int(toMs / slotMs), maxSpanSlots)
    let low = min(Int(fromMs / slotMs), high)
    return rng.between(low...high)
  }

  /// `count` slot offsets starting at 0, sorted, the last at most `withinMs` (capped) later.
  private mutating func sortedOffsets(_ count: Int, withinMs: Int64) -> [Int] {
    let high = min(Int(withinMs / slotMs), maxSpanSlots)
    var offsets = [0] + (1..<count).map { _ in rng.between(0...high) }
    offsets.sort()
    return offsets
  }

  /// Claims free slots at `offsets` from a random start, keeping their order: an offset whose
  /// slot is taken moves to the next free one. Retries elsewhere if the case runs off the end.
  private mutating func place(offsets: [Int]) -> [Int] {
    let span = offsets.last ?? 0
    let count = events.count
    for _ in 0..<10_000 {
      let start = rng.below(max(1, count - span))
      var slots: [Int] = []
      slots.reserveCapacity(offsets.count)
      var previous = -1
      for offset in offsets {
        var slot = max(start + offset, previous + 1)
        while slot < count && occupied[slot] { slot += 1 }
        if slot >= count { break }
        slots.append(slot)
        previous = slot
      }
      if slots.count == offsets.count {
        for slot in slots { occupied[slot] = true }
        return slots
      }
    }
    preconditionFailure("could not place an injected case: the stream is too full of cases")
  }

  // MARK: - Background

  /// One background event in `slot`: 45 % purchases, 25 % logins, ~1 % failed logins,
  /// 9 % logouts, the rest page views; any event the silence limits forbid becomes a page view.
  ///
  /// The knobs change only who the event belongs to: in distinct-key mode slot `i` is user `i`;
  /// a hot event (drawn only when ``PaymentStreamConfig/hotKeyFraction`` is above zero, so the
  /// default stream's draws are unchanged) is the hot user's and stays theirs.
  private mutating func fillBackground(_ slot: Int) {
    let roll = rng.below(1_000)
    let drawn = rng.below(config.users)
    let isHot = hotPartsPerMillion > 0 && rng.below(1_000_000) < hotPartsPerMillion
    let user = isHot ? config.hotUser : config.distinctKeys ? slot : drawn
    switch roll {
    case ..<450:
      // Up to three other users if this one's card is used up; `card_velocity` needs 10.
      // A hot event stays the hot user's (a page view once the card is used up).
      var buyer = user
      var tries = 0
      while !isHot && Int(cardPurchases[buyer]) >= PaymentStream.regularCardLimit && tries < 3 {
        buyer = rng.below(config.users)
        tries += 1
      }
      guard Int(cardPurchases[buyer]) < PaymentStream.regularCardLimit else {
        return events[slot].makeOther(.pageView, user: user, device: device(of: user), detail: 0)
      }
      cardPurchases[buyer] += 1
      let home = Int(homeCity[buyer])
      let city = rng.chance(percent: 95) ? home : rng.below(CityTable.cities.count)
      events[slot].makePurchase(
        user: buyer, series: .regular, card: buyer, amount: backgroundAmount(minimum: 2),
        merchant: rng.below(2_000), city: city)
    case ..<712:
      let failed = roll >= 700
      guard !isBruteForceUser[user],
        !failed || Int(failedLogins[user]) < PaymentStream.backgroundFailedLoginLimit
      else {
        return events[slot].makeOther(.pageView, user: user, device: device(of: user), detail: 1)
      }
      if failed { failedLogins[user] += 1 }
      let roams = rng.chance(percent: 3)
      events[slot].makeLogin(
        user: user, failed: failed,
        ip: roams ? randomIP() : homeIP(of: user),
        city: roams ? rng.below(CityTable.cities.count) : Int(homeCity[user]),
        device: device(of: user))
    case ..<800:
      events[slot].makeOther(.logout, user: user, device: device(of: user), detail: 0)
    default:
      events[slot].makeOther(
        .pageView, user: user, device: device(of: user), detail: rng.below(LineWriter.pages.count))
    }
  }

  /// A purchase amount: 60 % up to 1000, 30 % up to 4000, 10 % up to 9000; never below `minimum`.
  private mutating func backgroundAmount(minimum: Int) -> Int {
    switch rng.below(10) {
    case ..<6: return rng.between(minimum...1_000)
    case ..<9: return rng.between(1_001...4_000)
    default: return rng.between(4_001...PaymentStream.backgroundAmountLimit)
    }
  }

  /// One of the user's three devices.
  private mutating func device(of user: Int) -> Int { user * 3 + rng.below(3) }

  /// A random public-looking IPv4 address (first octet 11…210, last 1…254): a roaming login.
  private mutating func randomIP() -> UInt32 {
    let middle = UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF
    return UInt32(11 + rng.below(200)) << 24 | middle << 8 | UInt32(1 + rng.below(254))
  }

  /// The user's home IPv4 address: a stable function of seed and user, first octet 11…210.
  private func homeIP(of user: Int) -> UInt32 {
    var mixer = SplitMix64(seed: config.seed ^ (UInt64(user) &* 0x9e37_79b9_7f4a_7c15))
    let bits = mixer.next()
    let first = 11 + UInt32(bits % 200)
    let last = 1 + UInt32((bits >> 8) % 254)
    return first << 24 | UInt32((bits >> 16) & 0xFFFF) << 8 | last
  }

  // MARK: - Tables

  /// For each city, the cities at least 1500 km away (geo cases travel at least that far).
  static let farCities = CityTable.partners(atLeastKm: 1_500)

  /// `value` in decimal with at least `width` digits.
  static func padded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width
      ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
}

extension PaymentEvent {
  /// Turns the slot into a purchase; keeps the stamp.
  mutating func makePurchase(
    user: Int, series: CardSeries, card: Int, amount: Int, merchant: Int, city: Int
  ) {
    type = .purchase
    self.user = Int32(user)
    self.series = series
    self.card = Int32(card)
    self.amount = Int32(amount)
    detail = UInt16(merchant)
    self.city = UInt8(city)
  }

  /// Turns the slot into a login or failed login; keeps the stamp.
  mutating func makeLogin(user: Int, failed: Bool, ip: UInt32, city: Int, device: Int) {
    type = failed ? .loginFailed : .login
    self.user = Int32(user)
    self.ip = ip
    self.city = UInt8(city)
    self.device = Int32(device)
  }

  /// Turns the slot into a logout or page view; keeps the stamp.
  mutating func makeOther(_ type: PaymentEventType, user: Int, device: Int, detail: Int) {
    self.type = type
    self.user = Int32(user)
    self.device = Int32(device)
    self.detail = UInt16(detail)
  }
}
