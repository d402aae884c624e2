#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a request got no response.
public enum HTTPClientError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The host name did not resolve.
  case resolveFailed(host: String, message: String)
  /// `connect(2)` failed (`ECONNREFUSED` when nothing listens).
  case connectFailed(errno: Int32)
  /// No connection within the connect timeout.
  case connectTimedOut
  /// Sending the request failed.
  case sendFailed(errno: Int32)
  /// No complete response within the request timeout.
  case requestTimedOut
  /// The peer closed the connection before a complete response.
  case connectionClosed
  /// The response was not valid HTTP.
  case malformedResponse(String)

  public var description: String {
    switch self {
    case .resolveFailed(let host, let message): return "cannot resolve '\(host)': \(message)"
    case .connectFailed(let code): return "cannot connect: \(errorText(code))"
    case .connectTimedOut: return "connect timed out"
    case .sendFailed(let code): return "cannot send the request: \(errorText(code))"
    case .requestTimedOut: return "no response before the request timeout"
    case .connectionClosed: return "connection closed before a complete response"
    case .malformedResponse(let message): return "malformed response: \(message)"
    }
  }
}

/// A blocking HTTP/1.1 client for one endpoint over POSIX sockets, with one keep-alive
/// connection.
///
/// Every call has a deadline: ``connectTimeout`` for the TCP handshake, ``requestTimeout`` for
/// sending the request and reading the whole response. A kept-alive connection that the server
/// closed while idle is detected on the next request (nothing received) and the request is sent
/// once more on a fresh connection; that is not a retry in the webhook's sense, because the
/// server never saw the first attempt.
///
/// Not thread-safe: the webhook sink's delivery thread owns it.
public final class HTTPClient {
  /// The endpoint.
  public let endpoint: HTTPEndpoint
  /// The TCP connect deadline.
  public let connectTimeout: Duration
  /// The deadline for sending a request and receiving its response.
  public let requestTimeout: Duration
  /// Connections opened so far (tests check keep-alive with it).
  public private(set) var connectionsOpened = 0

  private var socket: Int32 = -1

  /// A client for `endpoint`; no connection is made until the first request.
  public init(endpoint: HTTPEndpoint, connectTimeout: Duration, requestTimeout: Duration) {
    self.endpoint = endpoint
    self.connectTimeout = connectTimeout
    self.requestTimeout = requestTimeout
  }

  deinit { disconnect() }

  /// Posts `body` and waits for the response.
  public func post(body: [UInt8], contentType: String, headers: [(String, String)] = []) -> Result<HTTPResponse, HTTPClientError> {
    var head = "POST \(endpoint.target) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
    head += "User-Agent: tocsin\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    head += "\r\n"
    let request = Array(head.utf8) + body
    let reused = socket >= 0
    let first = exchange(request)
    if reused, case .failure(let error) = first, error.isStaleConnection {
      return exchange(request)
    }
    return first
  }

  /// Closes the connection, if any.
  public func disconnect() {
    if socket >= 0 { _ = systemClose(socket) }
    socket = -1
  }

  // MARK: - One request

  private func exchange(_ request: [UInt8]) -> Result<HTTPResponse, HTTPClientError> {
    if socket < 0 {
      switch connect() {
      case .failure(let error): return .failure(error)
      case .success(let fd): socket = fd
      }
    }
    let deadline = MonotonicTime.now().advanced(by: requestTimeout)
    if let error = send(request, before: deadline) {
      disconnect()
      return .failure(error)
    }
    var parser = HTTPResponseParser()
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      let remaining = MonotonicTime.now().duration(to: deadline)
      guard remaining > .zero, wait(for: Int16(POLLIN), timeout: remaining) else {
        disconnect()
        return .failure(.requestTimedOut)
      }
      let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
      if count < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        disconnect()
        return .failure(parser.hasReceivedBytes ? .connectionClosed : .sendFailed(errno: errno))
      }
      parser.append(chunk[0..<count])
      switch parser.parse(endOfStream: count == 0) {
      case .needMore:
        continue
      case .failed(let message):
        disconnect()
        return .failure(count == 0 && !parser.hasReceivedBytes ? .connectionClosed : .malformedResponse(message))
      case .complete(let response):
        if !response.keepAlive { disconnect() }
        return .success(response)
      }
    }
  }

  private func send(_ bytes: [UInt8], before deadline: MonotonicTime) -> HTTPClientError? {
    var sent = 0
    while sent < bytes.count {
      let remaining = MonotonicTime.now().duration(to: deadline)
      guard remaining > .zero, wait(for: Int16(POLLOUT), timeout: remaining) else { return .requestTimedOut }
      let count = bytes.withUnsafeBytes { raw in
        systemSend(socket, raw.baseAddress.map { $0 + sent }, raw.count - sent)
      }
      if count < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        return .sendFailed(errno: errno)
      }
      sent += count
    }
    return nil
  }

  private func wait(for events: Int16, timeout: Duration) -> Bool {
    var descriptor = pollfd(fd: socket, events: events, revents: 0)
    while true {
      let result = poll(&descriptor, 1, max(1, timeout.pollMilliseconds))
      if result < 0 && errno == EINTR { continue }
      return result > 0
    }
  }

  // MARK: - Connecting

  private func connect() -> Result<Int32, HTTPClientError> {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = streamSocketType
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
    guard status == 0, let first = list else {
      return .failure(.resolveFailed(host: endpoint.host, message: String(cString: gai_strerror(status))))
    }
    defer { freeaddrinfo(list) }
    var lastError = HTTPClientError.connectFailed(errno: ECONNREFUSED)
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let info = cursor {
      cursor = info.pointee.ai_next
      switch connect(to: info.pointee) {
      case .success(let fd):
        connectionsOpened += 1
        return .success(fd)
      case .failure(let error):
        lastError = error
      }
    }
    return .failure(lastError)
  }

  private func connect(to info: addrinfo) -> Result<Int32, HTTPClientError> {
    let fd = systemStreamSocket(family: info.ai_family)
    guard fd >= 0 else { return .failure(.connectFailed(errno: errno)) }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    if systemConnect(fd, info.ai_addr, info.ai_addrlen) != 0 {
      guard errno == EINPROGRESS else {
        let code = errno
        _ = systemClose(fd)
        return .failure(.connectFailed(errno: code))
      }
      var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      var ready: Int32
      repeat { ready = poll(&descriptor, 1, max(1, connectTimeout.pollMilliseconds)) } while ready < 0 && errno == EINTR
      guard ready > 0 else {
        _ = systemClose(fd)
        return .failure(.connectTimedOut)
      }
      var code: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
      guard code == 0 else {
        _ = systemClose(fd)
        return .failure(.connectFailed(errno: code))
      }
    }
    return .success(fd)
  }
}

extension HTTPClientError {
  /// Failures that mean a kept-alive connection was closed by the server while idle.
  var isStaleConnection: Bool {
    switch self {
    case .connectionClosed: return true
    case .sendFailed(let code): return code == EPIPE || code == ECONNRESET
    default: return false
    }
  }
}
