#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Sinks have methods called `close`, `open` and a property called `fsync`; these name the system
// calls unambiguously (and portably: no `Glibc.` qualification).

@inline(__always)
func systemClose(_ fd: Int32) -> Int32 { close(fd) }

@inline(__always)
func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }

@inline(__always)
func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }

/// `strerror` as a Swift string.
func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

@inline(__always)
func systemSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  #if canImport(Glibc)
    send(fd, bytes, count, Int32(MSG_NOSIGNAL))
  #else
    send(fd, bytes, count, 0)
  #endif
}

@inline(__always)
func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
  connect(fd, address, length)
}

/// A close-on-exec TCP stream socket of `family`.
func systemStreamSocket(family: Int32) -> Int32 {
  #if canImport(Glibc)
    socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
  #else
    socket(family, SOCK_STREAM, 0)
  #endif
}

/// `SOCK_STREAM` as `addrinfo.ai_socktype` wants it.
var streamSocketType: Int32 {
  #if canImport(Glibc)
    Int32(SOCK_STREAM.rawValue)
  #else
    SOCK_STREAM
  #endif
}
