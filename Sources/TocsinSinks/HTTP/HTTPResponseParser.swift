/// A parsed HTTP response.
public struct HTTPResponse: Hashable, Sendable {
  /// The status code (`200`).
  public var status: Int
  /// Header fields in order, names lower-cased.
  public var headers: [HeaderField]
  /// The body, de-chunked.
  public var body: [UInt8]
  /// Whether the connection may carry another request.
  public var keepAlive: Bool

  /// One header field.
  public struct HeaderField: Hashable, Sendable {
    /// The name, lower-cased.
    public var name: String
    /// The value, with surrounding spaces removed.
    public var value: String
  }

  /// The first value of header `name` (lower-case).
  public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// An incremental HTTP/1.x response parser: feed bytes as they arrive, ask for a response.
///
/// Bodies may be framed by `Content-Length`, by `Transfer-Encoding: chunked` (chunk extensions
/// and trailers are skipped), or by the end of the connection. `1xx` interim responses are
/// skipped; `204` and `304` have no body (responses to `HEAD` are not supported: the client
/// only posts). Limits: 64 KiB of headers, ``maxBodyBytes`` of body.
public struct HTTPResponseParser {
  /// What ``parse(endOfStream:)`` found.
  public enum Outcome: Hashable, Sendable {
    /// The response is not complete yet.
    case needMore
    /// A complete response.
    case complete(HTTPResponse)
    /// The bytes are not a valid response (the message says why).
    case failed(String)
  }

  /// The largest header block accepted.
  public static let maxHeaderBytes = 64 * 1024
  /// The largest body accepted (a webhook's answer is small; this stops a runaway reply).
  public static let maxBodyBytes = 4 * 1024 * 1024

  private var buffer: [UInt8] = []

  /// An empty parser.
  public init() {}

  /// Whether any byte has arrived.
  public var hasReceivedBytes: Bool { !buffer.isEmpty }

  /// Adds received bytes.
  public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
    buffer.append(contentsOf: bytes)
  }

  /// Tries to parse a complete response from the bytes so far. `endOfStream` says the peer
  /// closed the connection (which completes a body framed by the connection's end).
  public mutating func parse(endOfStream: Bool) -> Outcome {
    var start = 0
    var progress = 0
    while true {
      progress += 1
      guard progress < 1000 else { return .failed("too many interim responses") }
      guard let headEnd = find([13, 10, 13, 10], from: start) else {
        if buffer.count - start > HTTPResponseParser.maxHeaderBytes { return .failed("response headers too large") }
        return endOfStream ? .failed(buffer.count > start ? "connection closed inside the response headers" : "connection closed before a response") : .needMore
      }
      let head = String(decoding: buffer[start..<headEnd], as: UTF8.self)
      var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
      let statusLine = lines.removeFirst()
      let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
        return .failed("malformed status line '\(statusLine.prefix(80))'")
      }
      var headers: [HTTPResponse.HeaderField] = []
      for line in lines {
        guard let colon = line.firstIndex(of: ":") else { return .failed("malformed header line '\(line.prefix(80))'") }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingSpaces
        headers.append(HTTPResponse.HeaderField(name: name, value: value))
      }
      let bodyStart = headEnd + 4
      if (100..<200).contains(status) && status != 101 {
        start = bodyStart
        continue
      }
      let connection = headers.first { $0.name == "connection" }?.value.lowercased() ?? ""
      var keepAlive = parts[0] == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
      var body: [UInt8] = []
      let transferEncoding = headers.first { $0.name == "transfer-encoding" }?.value.lowercased()
      if status == 204 || status == 304 {
        // No body by definition.
      } else if let transferEncoding, transferEncoding.hasSuffix("chunked") {
        switch dechunk(from: bodyStart, endOfStream: endOfStream) {
        case .needMore: return .needMore
        case .failed(let message): return .failed(message)
        case .complete(let bytes): body = bytes
        }
      } else if let lengthText = headers.first(where: { $0.name == "content-length" })?.value {
        guard let length = Int(lengthText), length >= 0 else { return .failed("invalid Content-Length '\(lengthText)'") }
        guard length <= HTTPResponseParser.maxBodyBytes else { return .failed("response body too large") }
        guard buffer.count - bodyStart >= length else {
          return endOfStream ? .failed("connection closed inside the response body") : .needMore
        }
        body = Array(buffer[bodyStart..<bodyStart + length])
      } else {
        // Framed by the end of the connection.
        guard buffer.count - bodyStart <= HTTPResponseParser.maxBodyBytes else { return .failed("response body too large") }
        guard endOfStream else { return .needMore }
        body = Array(buffer[bodyStart...])
        keepAlive = false
      }
      return .complete(HTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive))
    }
  }

  private enum Dechunked {
    case needMore
    case failed(String)
    case complete([UInt8])
  }

  private func dechunk(from start: Int, endOfStream: Bool) -> Dechunked {
    var body: [UInt8] = []
    var position = start
    let truncated: Dechunked = endOfStream ? .failed("connection closed inside a chunked body") : .needMore
    while true {
      guard let lineEnd = find([13, 10], from: position) else { return truncated }
      let line = String(decoding: buffer[position..<lineEnd], as: UTF8.self)
      let sizeText = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingSpaces
      guard let size = Int(sizeText, radix: 16), size >= 0 else { return .failed("invalid chunk size '\(line.prefix(40))'") }
      position = lineEnd + 2
      if size == 0 {
        // Trailer fields, then an empty line.
        while true {
          guard let trailerEnd = find([13, 10], from: position) else { return truncated }
          let isEmpty = trailerEnd == position
          position = trailerEnd + 2
          if isEmpty { return .complete(body) }
        }
      }
      guard body.count + size <= HTTPResponseParser.maxBodyBytes else { return .failed("response body too large") }
      guard buffer.count - position >= size + 2 else { return truncated }
      body.append(contentsOf: buffer[position..<position + size])
      guard buffer[position + size] == 13, buffer[position + size + 1] == 10 else {
        return .failed("chunk not followed by CRLF")
      }
      position += size + 2
    }
  }

  private func find(_ needle: [UInt8], from start: Int) -> Int? {
    guard buffer.count >= needle.count else { return nil }
    var index = start
    while index + needle.count <= buffer.count {
      if buffer[index] == needle[0] && buffer[index..<index + needle.count].elementsEqual(needle) { return index }
      index += 1
    }
    return nil
  }
}

extension StringProtocol {
  /// Without leading and trailing spaces and tabs.
  var trimmingSpaces: String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
      let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
    else { return "" }
    return String(String.UnicodeScalarView(scalars[first...last]))
  }
}
