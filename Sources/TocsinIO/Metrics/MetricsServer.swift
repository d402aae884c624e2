import Foundation

#if canImport(Glibc)
  import Glibc
  private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
  import Darwin
  private let streamSocket = SOCK_STREAM
#endif

/// Where `/metrics` listens: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the last two on
/// loopback).
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
  /// A numeric IPv4/IPv6 address or `localhost`.
  public var host: String
  /// The TCP port; 0 asks the system for a free one (tests).
  public var port: UInt16

  /// Why an address was refused.
  public enum ParseError: Error, Equatable, CustomStringConvertible {
    /// Not `HOST:PORT` or a port number.
    case malformed(String)
    /// A non-loopback host without the explicit permission flag.
    case notLoopback(String)

    public var description: String {
      switch self {
      case .malformed(let text):
        return "invalid metrics address '\(text)'; expected PORT, :PORT or HOST:PORT (e.g. 9464 or 127.0.0.1:9464)"
      case .notLoopback(let host):
        return "metrics address '\(host)' is not a loopback address; pass --metrics-allow-remote to serve metrics beyond this machine"
      }
    }
  }

  /// Creates an address.
  public init(host: String, port: UInt16) {
    self.host = host
    self.port = port
  }

  /// Parses `text`; a host other than loopback needs `allowRemote`.
  public init(parsing text: String, allowRemote: Bool) throws {
    var host = "127.0.0.1"
    var portText = Substring(text)
    if let colon = text.lastIndex(of: ":") {
      let hostPart = text[..<colon]
      portText = text[text.index(after: colon)...]
      if !hostPart.isEmpty {
        host = String(hostPart)
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
      }
    }
    guard let port = UInt16(portText), !host.isEmpty else { throw ParseError.malformed(text) }
    guard allowRemote || MetricsAddress.isLoopback(host) else { throw ParseError.notLoopback(host) }
    self.init(host: host, port: port)
  }

  /// Whether `host` names this machine only: `localhost`, `127.0.0.0/8` or `::1`.
  public static func isLoopback(_ host: String) -> Bool {
    if host == "localhost" || host == "::1" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A minimal HTTP/1.1 server for Prometheus scrapes, on one background thread.
///
/// It answers `GET /metrics` (also with a query string) with the registry's exposition and
/// anything else with 404 (405 for other methods), one request per connection
/// (`Connection: close`). A client gets 2 s to send its request head (at most 8 KiB). It never
/// touches engine state: it only reads the ``MetricsRegistry``, which the engine thread publishes
/// into.
public final class MetricsServer: @unchecked Sendable {
  // @unchecked: `listener` is written once before the thread starts; `isStopped` is guarded by
  // `stopped`; the serving thread owns the socket and closes it when `accept` fails.
  private let registry: MetricsRegistry
  private var listener: Int32 = -1
  private let stopped = NSLock()
  private var isStopped = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  /// The bound address (with the real port when 0 was asked for).
  public private(set) var address: MetricsAddress

  /// Why the server could not start.
  public struct StartError: Error, CustomStringConvertible {
    /// What failed, with the system's reason.
    public var message: String
    public var description: String { message }
  }

  /// Binds and listens on `address` and starts serving `registry`.
  /// - Throws: ``StartError`` when the address cannot be resolved or bound.
  public init(address: MetricsAddress, registry: MetricsRegistry) throws {
    self.registry = registry
    self.address = address
    var hints = addrinfo()
    hints.ai_socktype = streamSocket
    hints.ai_flags = AI_NUMERICSERV
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(address.host, String(address.port), &hints, &result)
    guard status == 0, let info = result else {
      throw StartError(message: "cannot resolve metrics address \(address): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(result) }
    let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
    guard fd >= 0 else { throw StartError(message: "metrics socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw StartError(message: "cannot listen for metrics on \(address): \(reason)")
    }
    listener = fd
    self.address.port = MetricsServer.boundPort(fd) ?? address.port
    let thread = Thread { [self] in serve() }
    thread.name = "tocsin-metrics"
    self.thread = thread
    thread.start()
  }

  /// Stops accepting connections, waits (up to 2 s) for the serving thread to finish its
  /// request and close the socket. Idempotent.
  public func stop() {
    stopped.lock()
    let wasStopped = isStopped
    isStopped = true
    stopped.unlock()
    guard !wasStopped else { return }
    // Wakes the blocked `accept` (it fails once the socket is shut down); the serving thread
    // closes the descriptor itself, so its number cannot be reused under it.
    shutdown(listener, Int32(SHUT_RDWR))
    _ = finished.wait(timeout: .now() + 2)
  }

  deinit { stop() }

  private var shouldStop: Bool {
    stopped.lock()
    defer { stopped.unlock() }
    return isStopped
  }

  private func serve() {
    defer {
      close(listener)
      finished.signal()
    }
    while !shouldStop {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR || errno == ECONNABORTED { continue }
        return  // the listener was shut down by stop()
      }
      respond(to: client)
      close(client)
    }
  }

  private func respond(to client: Int32) {
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var head: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 2048)
    while head.count < 8192 && !MetricsServer.endsHead(head) {
      let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
      if n <= 0 { return }
      head += buffer[0..<n]
    }
    let requestLine = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
    let response = MetricsServer.response(to: requestLine, registry: registry)
    var offset = 0
    response.withUnsafeBytes { bytes in
      guard let base = bytes.baseAddress else { return }
      while offset < bytes.count {
        let n = send(client, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        if n <= 0 { return }
        offset += n
      }
    }
  }

  /// The full HTTP response to a request line such as `GET /metrics HTTP/1.1`.
  static func response(to requestLine: String, registry: MetricsRegistry) -> [UInt8] {
    let parts = requestLine.split(separator: " ")
    let method = parts.first.map(String.init) ?? ""
    let path = parts.count > 1 ? String(parts[1].prefix { $0 != "?" }) : ""
    let status: String
    let body: String
    var type = "text/plain; charset=utf-8"
    if method != "GET" && method != "HEAD" {
      (status, body) = ("405 Method Not Allowed", "only GET is supported\n")
    } else if path == "/metrics" {
      (status, body) = ("200 OK", registry.exposition())
      type = "text/plain; version=0.0.4; charset=utf-8"
    } else {
      (status, body) = ("404 Not Found", "not found; metrics are at /metrics\n")
    }
    let bodyBytes = Array(body.utf8)
    var text = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(bodyBytes.count)\r\n"
    text += "Connection: close\r\n\r\n"
    return Array(text.utf8) + (method == "HEAD" ? [] : bodyBytes)
  }

  private static func endsHead(_ bytes: [UInt8]) -> Bool {
    let n = bytes.count
    if n >= 4 && bytes[n - 4] == 13 && bytes[n - 3] == 10 && bytes[n - 2] == 13 && bytes[n - 1] == 10 { return true }
    return n >= 2 && bytes[n - 2] == 10 && bytes[n - 1] == 10
  }

  private static func boundPort(_ fd: Int32) -> UInt16? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let ok = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { return nil }
    switch Int32(storage.ss_family) {
    case AF_INET:
      return withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
      }
    case AF_INET6:
      return withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
      }
    default: return nil
    }
  }
}
