import TocsinIO

extension PaymentStream {
  /// Writes the stream of `config` as NDJSON to `output` and, when given, the injected cases to
  /// `manifest` (one `{"rule":…,"key":…,"events":[…]}` line per case). Closes neither.
  /// - Throws: ``OutputError`` from either writer; writing stops at the first error.
  public static func write(
    _ config: PaymentStreamConfig, arrivalSeed: UInt64?, to output: BufferedWriter,
    manifest: BufferedWriter?
  ) throws {
    var failure: Error?
    let cases = generate(config, arrivalSeed: arrivalSeed) { line in
      guard failure == nil else { return }
      do { try output.write(line + "\n") } catch { failure = error }
    }
    if let failure { throw failure }
    guard let manifest else { return }
    var json = JSONWriter()
    for injected in cases {
      json.reset()
      json.beginObject()
      json.field("rule", .string(injected.kind.ruleName))
      json.field("key", .string(injected.key))
      json.key("events")
      json.beginArray()
      for id in injected.eventIDs { json.string(id) }
      json.endArray()
      json.endObject()
      json.newline()
      try manifest.write(json.bytes)
    }
  }
}
