import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for webhook tests: POSIX sockets, one thread to accept
/// and one per connection, keep-alive, and a switchable behaviour.
///
/// Modes: answer every request with a status (plain `Content-Length` or chunked body), or stall
/// (read the request, never answer, until the client gives up). ``stopListening()`` closes the
/// listener and every open connection, so new connections are refused;
/// ``resumeListening()`` binds the same port again.
///
/// Every request body is recorded; ``acknowledgedBodies`` holds those answered with a 2xx.
public final class LoopbackHTTPServer: @unchecked Sendable {
  /// How the server answers.
  public enum Mode: Sendable, Equatable {
    /// Answer with `status`; the body is sent chunked when `chunked`.
    case respond(status: Int, chunked: Bool)
    /// Read the request and never answer.
    case stall
  }

  /// The port the server listens on.
  public private(set) var port: UInt16 = 0

  private let lock = NSLock()
  private var _mode: Mode = .respond(status: 200, chunked: false)
  private var listener: Int32 = -1
  private var connections: Set<Int32> = []
  private var isStopped = false
  private var _received: [[UInt8]] = []
  private var _acknowledged: [[UInt8]] = []
  private var _connectionsAccepted = 0
  private var acceptThreadRunning = false

  /// Starts listening on an ephemeral loopback port.
  public init() throws {
    try bindAndListen(port: 0)
  }

  deinit { shutdown() }

  /// The current behaviour.
  public var mode: Mode {
    get { lock.withLock { _mode } }
    set { lock.withLock { _mode = newValue } }
  }

  /// Every request body received, in order.
  public var receivedBodies: [[UInt8]] { lock.withLock { _received } }
  /// The bodies of requests answered with a 2xx, in order.
  public var acknowledgedBodies: [[UInt8]] { lock.withLock { _acknowledged } }
  /// Connections accepted so far.
  public var connectionsAccepted: Int { lock.withLock { _connectionsAccepted } }

  /// Closes the listener and every connection: new connections are refused.
  public func stopListening() {
    lock.lock()
    let fd = listener
    listener = -1
    let open = connections
    connections.removeAll()
    lock.unlock()
    if fd >= 0 { _ = Glibc.close(fd) }
    for connection in open { _ = Glibc.shutdown(connection, Int32(SHUT_RDWR)) }
    // Let the accept thread notice and exit before the port is bound again.
    while lock.withLock({ acceptThreadRunning }) { usleep(1000) }
  }

  /// Listens on the same port again.
  public func resumeListening() throws {
    try bindAndListen(port: port)
  }

  /// Stops everything (idempotent).
  public func shutdown() {
    lock.withLock { isStopped = true }
    stopListening()
  }

  // MARK: - Listening

  private func bindAndListen(port requested: UInt16) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var one: Int32 = 1
    _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = requested.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      _ = Glibc.close(fd)
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    lock.withLock {
      port = UInt16(bigEndian: actual.sin_port)
      listener = fd
      acceptThreadRunning = true
    }
    let thread = Thread { [self] in acceptLoop(fd) }
    thread.start()
  }

  private func acceptLoop(_ fd: Int32) {
    defer { lock.withLock { acceptThreadRunning = false } }
    while lock.withLock({ listener == fd && !isStopped }) {
      var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptor, 1, 20) > 0 else { continue }
      guard lock.withLock({ listener == fd }) else { return }
      let connection = accept(fd, nil, nil)
      guard connection >= 0 else { continue }
      lock.withLock {
        connections.insert(connection)
        _connectionsAccepted += 1
      }
      let thread = Thread { [self] in serve(connection) }
      thread.start()
    }
  }

  // MARK: - One connection

  private func serve(_ fd: Int32) {
    defer {
      lock.withLock { _ = connections.remove(fd) }
      _ = Glibc.close(fd)
    }
    var buffer: [UInt8] = []
    while true {
      guard let body = readRequest(fd, buffer: &buffer) else { return }
      let mode = self.mode
      lock.withLock { _received.append(body) }
      switch mode {
      case .stall:
        // Hold the request until the client closes the connection (or the server stops).
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
          let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
          if n <= 0 { return }
        }
      case .respond(let status, let chunked):
        let text = chunked
          ? "HTTP/1.1 \(status) X\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nok\r\n3\r\n!!!\r\n0\r\nX-Trailer: t\r\n\r\n"
          : "HTTP/1.1 \(status) X\r\nContent-Length: 2\r\n\r\nok"
        // Recorded before the answer goes out: the client may finish, and a test read the list,
        // as soon as the answer arrives, before this thread would get to record it afterwards.
        let isAcknowledged = (200..<300).contains(status)
        if isAcknowledged { lock.withLock { _acknowledged.append(body) } }
        guard writeAll(fd, Array(text.utf8)) else {
          // The client never saw the answer: the body was not acknowledged after all.
          if isAcknowledged {
            lock.withLock {
              if let i = _acknowledged.lastIndex(of: body) { _acknowledged.remove(at: i) }
            }
          }
          return
        }
      }
    }
  }

  /// Reads one request (head and `Content-Length` body); `nil` at end of connection.
  private func readRequest(_ fd: Int32, buffer: inout [UInt8]) -> [UInt8]? {
    var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    var headEnd: Int?
    var length = 0
    while true {
      if headEnd == nil, let end = Self.find([13, 10, 13, 10], in: buffer) {
        headEnd = end + 4
        let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
          length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
      }
      if let start = headEnd, buffer.count >= start + length {
        let body = Array(buffer[start..<start + length])
        buffer.removeFirst(start + length)
        return body
      }
      let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { return nil }
      buffer += scratch[0..<n]
    }
  }

  private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return false }
      sent += n
    }
    return true
  }

  private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i..<i + needle.count].elementsEqual(needle) {
      return i
    }
    return nil
  }
}
