import TocsinCore

/// Turns a source file into tokens. Never throws: problems become diagnostics and lexing goes on.
///
/// Whitespace (including newlines) is insignificant. A `#` starts a comment to the end of the
/// line; comments are kept as ranges in ``LexedFile/comments``. A malformed literal becomes an
/// `.invalid` token (already reported, so the parser stays quiet about it), and so does a stray
/// character.
public struct Lexer {
  private let file: SourceFile
  private let bytes: [UInt8]
  private var position = 0
  private var tokens: [Token] = []
  private var comments: [SourceRange] = []
  private var diagnostics: [Diagnostic] = []

  /// Lexes `file`.
  public static func lex(_ file: SourceFile) -> LexedFile {
    var lexer = Lexer(file: file)
    lexer.run()
    return LexedFile(tokens: lexer.tokens, comments: lexer.comments, diagnostics: lexer.diagnostics)
  }

  private init(file: SourceFile) {
    self.file = file
    self.bytes = file.bytes
  }

  // MARK: - Main loop

  private mutating func run() {
    while position < bytes.count {
      let start = position
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
        position += 1
      case UInt8(ascii: "#"):
        while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
        var end = position
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        comments.append(SourceRange(start: start, end: end))
      case UInt8(ascii: "\""):
        lexString()
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        lexNumber()
      case _ where Lexer.isIdentifierStart(byte):
        while position < bytes.count && Lexer.isIdentifierContinue(bytes[position]) { position += 1 }
        let word = String(decoding: bytes[start..<position], as: UTF8.self)
        let kind: TokenKind = Keyword(rawValue: word).map { .keyword($0) } ?? .identifier(word)
        tokens.append(Token(kind, SourceRange(start: start, end: position)))
      default:
        if let punctuator = lexPunctuator() {
          tokens.append(Token(.punctuator(punctuator), SourceRange(start: start, end: position)))
        } else {
          // Skip one whole character (not one byte) so the message shows it intact.
          position = Lexer.endOfCharacter(in: bytes, at: start)
          let range = SourceRange(start: start, end: position)
          report(.unexpectedCharacter(file.text(of: range)), range)
          // Kept as an `.invalid` token so the parser can recover around it without a second
          // diagnostic for the same mistake.
          tokens.append(Token(.invalid, range))
        }
      }
    }
    tokens.append(Token(.endOfFile, .at(bytes.count)))
  }

  private mutating func report(_ message: LexMessage, _ range: SourceRange) {
    diagnostics.append(Diagnostic(message, file: file, range: range))
  }

  // MARK: - Punctuation

  private mutating func lexPunctuator() -> Punctuator? {
    let byte = bytes[position]
    let following: UInt8? = position + 1 < bytes.count ? bytes[position + 1] : nil
    let twoByte: Punctuator?
    switch (byte, following) {
    case (UInt8(ascii: "="), UInt8(ascii: "=")): twoByte = .equal
    case (UInt8(ascii: "!"), UInt8(ascii: "=")): twoByte = .notEqual
    case (UInt8(ascii: "<"), UInt8(ascii: "=")): twoByte = .lessOrEqual
    case (UInt8(ascii: ">"), UInt8(ascii: "=")): twoByte = .greaterOrEqual
    case (UInt8(ascii: "."), UInt8(ascii: ".")): twoByte = .dotDot
    default: twoByte = nil
    }
    if let twoByte {
      position += 2
      return twoByte
    }
    // `=` and `!` alone are not operators; they fall through to "unexpected character".
    guard let single = Punctuator(rawValue: String(UnicodeScalar(byte))), byte != UInt8(ascii: "=")
    else { return nil }
    position += 1
    return single
  }

  // MARK: - Strings

  private mutating func lexString() {
    let start = position
    position += 1  // opening quote
    var value = ""
    // Bytes are copied in runs between escapes.
    var runStart = position
    while true {
      guard position < bytes.count, bytes[position] != UInt8(ascii: "\n") else {
        var end = position
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        report(.unterminatedString, SourceRange(start: start, end: end))
        // `.invalid` rather than a string, so no type error follows from the broken literal.
        tokens.append(Token(.invalid, SourceRange(start: start, end: end)))
        return
      }
      switch bytes[position] {
      case UInt8(ascii: "\""):
        value += String(decoding: bytes[runStart..<position], as: UTF8.self)
        position += 1
        tokens.append(Token(.string(value), SourceRange(start: start, end: position)))
        return
      case UInt8(ascii: "\\"):
        value += String(decoding: bytes[runStart..<position], as: UTF8.self)
        value += lexEscape()
        runStart = position
      default:
        position += 1
      }
    }
  }

  /// Decodes the escape at `position` (a backslash) and moves past it.
  private mutating func lexEscape() -> String {
    let start = position
    position += 1
    guard position < bytes.count, bytes[position] != UInt8(ascii: "\n") else {
      return ""  // the unterminated-string diagnostic covers it
    }
    let byte = bytes[position]
    position += 1
    switch byte {
    case UInt8(ascii: "\""): return "\""
    case UInt8(ascii: "\\"): return "\\"
    case UInt8(ascii: "n"): return "\n"
    case UInt8(ascii: "t"): return "\t"
    case UInt8(ascii: "u"):
      var digits = 0
      var scalar: UInt32 = 0
      while digits < 4, position < bytes.count, let hex = Lexer.hexValue(bytes[position]) {
        scalar = scalar * 16 + UInt32(hex)
        digits += 1
        position += 1
      }
      if digits == 4, let decoded = Unicode.Scalar(scalar) { return String(Character(decoded)) }
      let range = SourceRange(start: start, end: position)
      report(.unknownEscape(file.text(of: range)), range)
      return ""
    default:
      position = Lexer.endOfCharacter(in: bytes, at: position - 1)
      let range = SourceRange(start: start, end: position)
      report(.unknownEscape(file.text(of: range)), range)
      return ""
    }
  }

  // MARK: - Numbers and durations

  /// Lexes `123`, `1.5`, or a duration `10m` / `1h30m` (digits followed by a unit, repeated).
  private mutating func lexNumber() {
    let start = position
    let digits = scanDigits()
    // A fraction needs a digit after the dot, so `a.1` style paths and `1.` stay unambiguous.
    if position + 1 < bytes.count, bytes[position] == UInt8(ascii: "."),
      Lexer.isDigit(bytes[position + 1])
    {
      position += 1
      _ = scanDigits()
      let range = SourceRange(start: start, end: position)
      let text = file.text(of: range)
      tokens.append(Token(Double(text).map { .float($0) } ?? .invalid, range))
      return
    }
    guard position < bytes.count, Lexer.isIdentifierStart(bytes[position]) else {
      let range = SourceRange(start: start, end: position)
      if let value = Int64(digits) {
        tokens.append(Token(.integer(value), range))
      } else {
        report(.numberTooLarge(digits), range)
        tokens.append(Token(.invalid, range))
      }
      return
    }
    lexDuration(from: start, firstAmount: digits)
  }

  private mutating func lexDuration(from start: Int, firstAmount: String) {
    var total = EventDuration.zero
    var amount = firstAmount
    var isValid = true
    while true {
      let unitStart = position
      while position < bytes.count && Lexer.isIdentifierStart(bytes[position]) { position += 1 }
      let unit = String(decoding: bytes[unitStart..<position], as: UTF8.self)
      let part: EventDuration?
      switch (Int64(amount), unit) {
      case (let n?, "ms"): part = .milliseconds(n)
      case (let n?, "s"): part = .seconds(n)
      case (let n?, "m"): part = .minutes(n)
      case (let n?, "h"): part = .hours(n)
      case (let n?, "d"): part = .days(n)
      case (nil, _):
        report(.numberTooLarge(amount), SourceRange(start: unitStart - amount.utf8.count, end: unitStart))
        part = nil
      default:
        report(.unknownDurationUnit(unit), SourceRange(start: unitStart, end: position))
        part = nil
      }
      if let part {
        let (sum, overflow) = total.nanoseconds.addingReportingOverflow(part.nanoseconds)
        total = EventDuration(nanoseconds: overflow ? .max : sum)
      } else {
        isValid = false
      }
      // `1h30m`: another amount and unit glued on.
      guard position < bytes.count, Lexer.isDigit(bytes[position]) else { break }
      amount = scanDigits()
      guard position < bytes.count, Lexer.isIdentifierStart(bytes[position]) else {
        // `1h30`: a trailing amount without a unit.
        report(.missingDurationUnit(amount), .at(position))
        isValid = false
        break
      }
    }
    // Swallow a glued `_` or digit tail (`10m_x`) so it is not lexed as a separate name.
    while position < bytes.count && Lexer.isIdentifierContinue(bytes[position]) { position += 1 }
    tokens.append(Token(isValid ? .duration(total) : .invalid, SourceRange(start: start, end: position)))
  }

  private mutating func scanDigits() -> String {
    let start = position
    while position < bytes.count && Lexer.isDigit(bytes[position]) { position += 1 }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }

  // MARK: - Character classes

  static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

  static func isIdentifierStart(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
      || b == UInt8(ascii: "_")
  }

  static func isIdentifierContinue(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }

  static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  /// The offset just past the UTF-8 encoded scalar starting at `offset`.
  static func endOfCharacter(in bytes: [UInt8], at offset: Int) -> Int {
    var end = offset + 1
    while end < bytes.count && bytes[end] & 0b1100_0000 == 0b1000_0000 { end += 1 }
    return end
  }
}
