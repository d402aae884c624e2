/// Where the webhook posts: host, port and request target of an `http://` URL.
///
/// Only plain HTTP is supported (see docs/operations.md, "Webhook"): the client is a small
/// HTTP/1.1 implementation over POSIX sockets. `https://` URLs are rejected when the sink
/// configuration is checked, with a message that says how to reach a TLS endpoint (a local
/// TLS-terminating proxy).
public struct HTTPEndpoint: Hashable, Sendable, CustomStringConvertible {
  /// The host name or address, without brackets for IPv6.
  public var host: String
  /// The TCP port (80 when the URL has none).
  public var port: UInt16
  /// The request target: path and query, at least `/`.
  public var target: String

  /// Why a URL is not usable.
  public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `https://`: not supported by the built-in client.
    case httpsNotSupported
    /// Another scheme, or none.
    case unsupportedScheme(String)
    /// The host is empty or malformed.
    case invalidHost
    /// The port is not a number in 1...65535.
    case invalidPort(String)

    public var description: String {
      switch self {
      case .httpsNotSupported:
        return "https is not supported by the webhook sink (it speaks plain HTTP/1.1); "
          + "send to a local TLS-terminating proxy (stunnel, nginx, envoy) at http://127.0.0.1:PORT"
      case .unsupportedScheme(let scheme):
        return scheme.isEmpty ? "expected a URL starting with 'http://'" : "unsupported URL scheme '\(scheme)'; expected 'http'"
      case .invalidHost: return "the URL has no valid host"
      case .invalidPort(let text): return "invalid port '\(text)'; expected 1 to 65535"
      }
    }
  }

  /// Parses `http://host[:port][/path][?query]`; `[v6addr]` for IPv6 hosts.
  public init(parsing url: String) throws(ParseError) {
    let pieces = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
    guard pieces.count == 2 else { throw .unsupportedScheme("") }
    let scheme = pieces[0].lowercased()
    if scheme == "https" { throw .httpsNotSupported }
    guard scheme == "http" else { throw .unsupportedScheme(scheme) }
    let rest: Substring = pieces[1]
    let authorityEnd: String.Index = rest.firstIndex(where: { (c: Character) in c == "/" || c == "?" || c == "#" }) ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    var target = String(rest[authorityEnd...])
    if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
    if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
    guard !authority.contains("@") else { throw .invalidHost }
    var hostPart = Substring(authority)
    var portText: Substring?
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { throw .invalidHost }
      hostPart = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { throw .invalidHost }
        portText = after.dropFirst()
      }
    } else if let colon = authority.lastIndex(of: ":") {
      hostPart = authority[..<colon]
      portText = authority[authority.index(after: colon)...]
    }
    guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "/" }) else { throw .invalidHost }
    var port: UInt16 = 80
    if let portText {
      guard let value = UInt16(portText), value > 0 else { throw .invalidPort(String(portText)) }
      port = value
    }
    host = String(hostPart)
    self.port = port
    self.target = target
  }

  /// The `Host` header value.
  public var hostHeader: String {
    let name = host.contains(":") ? "[\(host)]" : host
    return port == 80 ? name : "\(name):\(port)"
  }

  public var description: String { "http://\(hostHeader)\(target)" }
}
