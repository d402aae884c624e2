// libFuzzer target: the NDJSON line reader, event scanner and decoder must turn any byte
// sequence into events or dead-letter reasons without crashing or reading out of bounds.
//
// Built by `scripts/fuzz.sh events SECONDS` with `-sanitize=fuzzer,address`; crashers found are
// kept under `Fuzz/crashers/events/` and replayed by `FuzzRegressionTests` in XCTest.
import TocsinCore
import TocsinIO

/// A projection like the bundled rules': flat fields, nested paths sharing a prefix, keys that
/// need escapes, and a nested time field variant.
private let projection = FieldProjection([
  FieldPath(["type"]), FieldPath(["user"]), FieldPath(["amount"]), FieldPath(["city"]),
  FieldPath(["geo", "lat"]), FieldPath(["geo", "lon"]), FieldPath(["geo"]), FieldPath(["a", "b", "c"]),
  // Keys JSON must escape, and a long one: the key prediction must treat them right.
  FieldPath(["q\"t"]), FieldPath(["b\\s"]), FieldPath(["tab\t"]), FieldPath(["a_key_longer_than_16"]),
])
nonisolated(unsafe) private var decoders = [
  EventDecoder(ruleProjection: projection),
  EventDecoder(ruleProjection: projection, options: IngestOptions(timeFormat: .epochNanos)),
  EventDecoder(
    ruleProjection: projection,
    options: IngestOptions(timeField: FieldPath(["meta", "ts"]), timeFormat: .rfc3339), maxDepth: 8),
]

/// A scanner that keeps its caches (key prediction, string values) across every input.
nonisolated(unsafe) private var warmScanner = EventScanner(projection: projection)

/// The caches never change a result: the warm scanner must agree with a fresh one.
private func checkWarmAgainstCold(_ line: UnsafeRawBufferPointer) {
  func scan(_ scanner: inout EventScanner) -> String {
    var slots: [Value] = []
    do throws(ScanError) {
      try scanner.scan(line, into: &slots)
      return "\(slots)"
    } catch {
      return "\(error)"
    }
  }
  var cold = EventScanner(projection: projection)
  let expected = scan(&cold)
  let got = scan(&warmScanner)
  if got != expected { fatalError("warm scanner gave \(got), a fresh one \(expected)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvents(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  // Small chunks and a small line limit exercise lines straddling reads and over-long lines.
  var position = 0
  let reader = LineReader(chunkSize: 7, maxLineBytes: 64) { target in
    let n = min(target.count, size - position)
    target.baseAddress?.copyMemory(from: data + position, byteCount: n)
    position += n
    return n
  }
  var sequence: UInt64 = 0
  while let line = try? reader.nextLine() {
    guard !line.isTooLong, !line.isEmpty else { continue }
    checkWarmAgainstCold(line.bytes)
    for i in decoders.indices {
      do {
        let event = try decoders[i].decode(line.bytes, lineNumber: line.number, sequence: sequence)
        _ = event.identity
      } catch {
        _ = error.message
        _ = error.reason
      }
    }
    sequence += 1
  }
  // The whole input as one line too, with the default limits.
  checkWarmAgainstCold(UnsafeRawBufferPointer(start: data, count: size))
  for i in decoders.indices {
    _ = try? decoders[i].decode(
      UnsafeRawBufferPointer(start: data, count: size), lineNumber: 1, sequence: 0)
  }
  return 0
}
