import TocsinCore

// ASCII bytes used by the scanner.
private let quote: UInt8 = 0x22  // "
private let backslash: UInt8 = 0x5C  // \
private let openBrace: UInt8 = 0x7B  // {
private let closeBrace: UInt8 = 0x7D  // }
private let openBracket: UInt8 = 0x5B  // [
private let closeBracket: UInt8 = 0x5D  // ]
private let comma: UInt8 = 0x2C
private let colon: UInt8 = 0x3A
private let minus: UInt8 = 0x2D
private let zero: UInt8 = 0x30
private let nine: UInt8 = 0x39

/// The recursive-descent parser behind ``EventScanner``: one instance per line.
///
/// Two families of methods: `parse…` walk the projected part of the document and write slots,
/// `skip…` validate and step over everything else. Both share the string and number scanners.
/// Recursion depth is bounded by `maxDepth`.
struct _JSONScanner {
  let base: UnsafePointer<UInt8>
  let end: Int
  var pos = 0
  // Plain-pointer views of the scanner's trie and caches (the scanner keeps them alive while
  // this parser runs), so the inner loops do no reference counting.
  let trie: ProjectionTrie.View
  /// Strings of earlier lines, reused when a projected value repeats.
  let strings: StringValueCache.View
  /// Key order of earlier lines, to confirm keys instead of looking them up.
  let shapes: KeyShapeCache.View
  let maxDepth: Int
  /// The scanner's ``ScannerScratch`` bytes (it keeps them alive while this parser runs).
  let scratchBytes: UnsafeMutablePointer<[UInt8]>
  /// Decoded bytes of the last escaped string.
  var scratch: [UInt8] {
    get { scratchBytes.pointee }
    nonmutating _modify { yield &scratchBytes.pointee }
  }
  var slots: UnsafeMutablePointer<Value> = UnsafeMutablePointer(bitPattern: 8).unsafelyUnwrapped

  init(
    base: UnsafePointer<UInt8>, end: Int, trie: ProjectionTrie.View, strings: StringValueCache.View,
    shapes: KeyShapeCache.View, maxDepth: Int, scratch: UnsafeMutablePointer<[UInt8]>
  ) {
    self.base = base
    self.end = end
    self.trie = trie
    self.strings = strings
    self.shapes = shapes
    self.maxDepth = maxDepth
    self.scratchBytes = scratch
  }

  // MARK: - Entry point

  mutating func run(slots: UnsafeMutablePointer<Value>) throws(ScanError) {
    self.slots = slots
    skipWhitespace()
    guard pos < end else { throw .emptyLine }
    let first = base[pos]
    guard first == openBrace else {
      switch first {
      case openBracket, quote, minus, zero...nine, UInt8(ascii: "t"), UInt8(ascii: "f"),
        UInt8(ascii: "n"):
        throw .notAnObject(offset: pos)
      default:
        throw .invalidJSON(offset: pos, expected: .object)
      }
    }
    try parseObject(node: 0, depth: 1)
    skipWhitespace()
    if pos < end { throw .trailingCharacters(offset: pos) }
  }

  // MARK: - Projected objects

  /// Parses the object at `pos` whose keys are looked up in trie node `node`.
  mutating func parseObject(node: Int, depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1  // {
    skipWhitespace()
    if pos < end && base[pos] == closeBrace {
      pos += 1
      return
    }
    var previous = shapes.startShape(node: node)
    while true {
      guard pos < end && base[pos] == quote else { throw .invalidJSON(offset: pos, expected: .objectKey) }
      let entryIndex = try objectKey(node: node, after: &previous)
      // The common member, compact and projected: `"key":` then a plain string or a number,
      // read without the whitespace skips and the general value dispatch.
      if entryIndex >= 0, pos < end, base[pos] == colon, let slot = leafSlot(entryIndex),
        try plainValue(at: pos &+ 1, slot: slot)
      {
        // And the compact separator or end right after it.
        if pos < end {
          let c = base[pos]
          if c == comma {
            pos &+= 1
            if pos < end && base[pos] == quote { continue }
            skipWhitespace()
            continue
          }
          if c == closeBrace {
            pos &+= 1
            return
          }
        }
        if try memberEnd() { return }
        continue
      }
      if entryIndex < 0 {
        try colonAndWhitespace()
        try skipValue(depth: depth)
      } else {
        try colonAndWhitespace()
        let entry = trie.entries[entryIndex]
        if entry.child >= 0 {
          // Last key wins: forget whatever an earlier duplicate of this key set below it.
          var c = Int(entry.clearStart)
          while c < Int(entry.clearEnd) {
            slots[Int(trie.clearSlots[c])] = .null
            c += 1
          }
          if pos < end && base[pos] == openBrace {
            if entry.slot >= 0 { slots[Int(entry.slot)] = .null }
            try parseObject(node: Int(entry.child), depth: depth + 1)
          } else if entry.slot >= 0 {
            try parseValue(slot: Int(entry.slot), depth: depth)
          } else {
            try skipValue(depth: depth)
          }
        } else {
          try parseValue(slot: Int(entry.slot), depth: depth)
        }
      }
      if try memberEnd() { return }
    }
  }

  /// Moves past what follows an object member: whitespace, then `,` and whitespace (`false`:
  /// another member follows) or `}` (`true`: the object ended).
  @inline(__always)
  mutating func memberEnd() throws(ScanError) -> Bool {
    skipWhitespace()
    guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrObjectEnd) }
    let c = base[pos]
    pos += 1
    if c == comma {
      skipWhitespace()
      return false
    }
    if c == closeBrace { return true }
    throw .invalidJSON(offset: pos - 1, expected: .commaOrObjectEnd)
  }

  /// Moves past the `:` between a key and its value and the whitespace around it.
  @inline(__always)
  mutating func colonAndWhitespace() throws(ScanError) {
    skipWhitespace()
    guard pos < end && base[pos] == colon else { throw .invalidJSON(offset: pos, expected: .colon) }
    pos += 1
    skipWhitespace()
  }

  /// The slot of trie entry `index` when it is a leaf (a projected field nothing is nested
  /// under), or `nil`.
  @inline(__always)
  func leafSlot(_ index: Int) -> Int? {
    let entry = trie.entries[index]
    return entry.child < 0 ? Int(entry.slot) : nil
  }

  /// Reads the value at `start` (just after a key's colon) into `slots[slot]` and moves past it
  /// when it is a string without escapes or non-ASCII bytes, or a number (read, and its errors
  /// thrown, as ``parseValue(slot:depth:)`` does); for anything else — whitespace first, an
  /// escape, a literal, an object — it returns `false` and leaves `pos` and the slot alone, for
  /// the general path. What it stores is what ``parseValue(slot:depth:)`` stores.
  @inline(__always)
  mutating func plainValue(at start: Int, slot: Int) throws(ScanError) -> Bool {
    guard start < end else { return false }
    let first = base[start]
    if first == quote {
      let body = start &+ 1
      let stop = nextSpecialByte(from: body)
      guard stop < end && base[stop] == quote else { return false }
      pos = stop &+ 1
      store(.string(strings.string(slot: slot, base + body, count: stop &- body, readable: end &- body)), at: slot)
      return true
    }
    guard first &- zero <= 9 || first == minus else { return false }
    pos = start
    store(try scanNumber(), at: slot)
    return true
  }

  /// Sets `slots[slot]` to `value`. A slot still `.null` (the usual case: each key once per
  /// line) holds nothing to release, so it is simply overwritten.
  @inline(__always)
  func store(_ value: Value, at slot: Int) {
    let target = slots + slot
    if case .null = target.pointee {
      target.initialize(to: value)
    } else {
      target.pointee = value
    }
  }

  /// Parses the value at `pos` into `slots[slot]`; objects and arrays are validated and stored
  /// as `.null`.
  mutating func parseValue(slot: Int, depth: Int) throws(ScanError) {
    guard pos < end else { throw .invalidJSON(offset: pos, expected: .value) }
    switch base[pos] {
    case quote:
      let start = pos + 1
      if try skipString() {
        decodeEscapedString(from: start, to: pos - 1)
        slots[slot] = .string(String(decoding: scratch, as: UTF8.self))
        // Decoded from escapes: its form is not known here.
        strings.mayReference.pointee = true
      } else {
        // Raw (validated) bytes: a value seen recently in this slot comes from the cache.
        let count = pos &- 1 &- start
        store(.string(strings.string(slot: slot, base + start, count: count, readable: end &- start)), at: slot)
      }
    case minus, zero...nine:
      let number = try scanNumber()
      store(number, at: slot)
    case UInt8(ascii: "t"):
      try expectLiteral(0x7472_7565, length: 4)  // true
      store(.bool(true), at: slot)
    case UInt8(ascii: "f"):
      try expectLiteral(0x6661_6c73_65, length: 5)  // false
      store(.bool(false), at: slot)
    case UInt8(ascii: "n"):
      try expectLiteral(0x6e75_6c6c, length: 4)  // null
      slots[slot] = .null
    case openBrace:
      try skipObject(depth: depth + 1)
      slots[slot] = .null
    case openBracket:
      try skipArray(depth: depth + 1)
      slots[slot] = .null
    default:
      throw .invalidJSON(offset: pos, expected: .value)
    }
  }

  // MARK: - Skipping

  /// Validates and steps over the value at `pos`; `depth` is that of the enclosing container.
  mutating func skipValue(depth: Int) throws(ScanError) {
    guard pos < end else { throw .invalidJSON(offset: pos, expected: .value) }
    switch base[pos] {
    case quote: _ = try skipString()
    case minus, zero...nine: try skipNumber()
    case openBrace: try skipObject(depth: depth + 1)
    case openBracket: try skipArray(depth: depth + 1)
    case UInt8(ascii: "t"): try expectLiteral(0x7472_7565, length: 4)
    case UInt8(ascii: "f"): try expectLiteral(0x6661_6c73_65, length: 5)
    case UInt8(ascii: "n"): try expectLiteral(0x6e75_6c6c, length: 4)
    default: throw .invalidJSON(offset: pos, expected: .value)
    }
  }

  mutating func skipObject(depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1
    skipWhitespace()
    if pos < end && base[pos] == closeBrace {
      pos += 1
      return
    }
    while true {
      guard pos < end && base[pos] == quote else { throw .invalidJSON(offset: pos, expected: .objectKey) }
      _ = try skipString()
      skipWhitespace()
      guard pos < end && base[pos] == colon else { throw .invalidJSON(offset: pos, expected: .colon) }
      pos += 1
      skipWhitespace()
      try skipValue(depth: depth)
      skipWhitespace()
      guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrObjectEnd) }
      let c = base[pos]
      pos += 1
      if c == comma {
        skipWhitespace()
        continue
      }
      if c == closeBrace { return }
      throw .invalidJSON(offset: pos - 1, expected: .commaOrObjectEnd)
    }
  }

  mutating func skipArray(depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1
    skipWhitespace()
    if pos < end && base[pos] == closeBracket {
      pos += 1
      return
    }
    while true {
      try skipValue(depth: depth)
      skipWhitespace()
      guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrArrayEnd) }
      let c = base[pos]
      pos += 1
      if c == comma {
        skipWhitespace()
        continue
      }
      if c == closeBracket { return }
      throw .invalidJSON(offset: pos - 1, expected: .commaOrArrayEnd)
    }
  }

  @inline(__always)
  mutating func skipWhitespace() {
    while pos < end {
      let c = base[pos]
      // JSON whitespace: space, tab, line feed, carriage return.
      guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
      pos += 1
    }
  }

  /// Checks that the literal whose ASCII bytes are `word` (big-endian, `length` bytes) is at `pos`.
  @inline(__always)
  mutating func expectLiteral(_ word: UInt64, length: Int) throws(ScanError) {
    var i = 0
    while i < length {
      let expected = UInt8(truncatingIfNeeded: word >> UInt64(8 * (length - 1 - i)))
      guard pos + i < end && base[pos + i] == expected else {
        throw .invalidJSON(offset: pos + i, expected: .literal)
      }
      i += 1
    }
    pos += length
  }
}
