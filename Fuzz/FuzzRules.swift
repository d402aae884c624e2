// libFuzzer target: the rule front end and automaton compiler must turn any byte sequence into
// diagnostics (or programs) without crashing, hanging or exhausting memory.
//
// Built by `scripts/fuzz.sh rules SECONDS` with `-sanitize=fuzzer,address`; crashers found are
// kept under `Fuzz/crashers/rules/` and replayed by `FuzzRegressionTests` in XCTest.
import TocsinCompiler
import TocsinCore
import TocsinLanguage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  // `tocsin check` rejects files that are not UTF-8 before lexing; decoding with replacement
  // still lets invalid bytes reach the lexer as U+FFFD.
  let text = String(decoding: bytes, as: UTF8.self)
  let file = SourceFile(path: "fuzz.tcs", text: text)
  let checked = FrontEnd.check([file])
  _ = DiagnosticRenderer(colored: false).render(checked.diagnostics)
  if !checked.hasErrors {
    _ = NFACompiler.compile(checked.rules, extraFields: [FieldPath(["ts"]), FieldPath(["id"])])
  }
  return 0
}
