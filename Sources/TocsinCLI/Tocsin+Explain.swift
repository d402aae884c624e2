import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the compiled automaton of each rule, or trace events through it.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(help: "Only this rule.")
    var rule: String?

    @Flag(help: "Print Graphviz DOT instead of text.")
    var dot = false

    @Option(help: "Trace this NDJSON file through the rules: what each event did to each partial match, with every condition's value.")
    var trace: String?

    @Option(help: "With --trace: only this key (key values joined with '|').")
    var key: String?

    @OptionGroup var ingest: IngestFlags

    func validate() throws {
      if key != nil && trace == nil { throw ValidationError("--key needs --trace") }
      if dot && trace != nil { throw ValidationError("--dot and --trace cannot be combined") }
    }

    func run() throws {
      let configuration = try ingest.configuration()
      let ruleSet = try loadPrograms(rules, ingest: configuration.ingest)
      guard var programs = ruleSet.programs else { throw Exit.failure }
      if let trace {
        if let rule {
          programs.rules = programs.rules.filter { $0.name == rule }
          if programs.rules.isEmpty {
            printError(Explainer.Failure.unknownRule(rule, available: ruleSet.programs?.rules.map(\.name) ?? []).description)
            throw Exit.failure
          }
        }
        guard let data = FileManager.default.contents(atPath: trace) else {
          printError("error: \(trace): cannot read the file")
          throw Exit.noInput
        }
        let text = String(decoding: data, as: UTF8.self)
        print(
          Tracer.trace(programs: programs, options: Tracer.Options(key: key, configuration: configuration), text: text),
          terminator: "")
        return
      }
      do {
        print(try Explainer.explain(programs, rule: rule, format: dot ? .dot : .text), terminator: "")
      } catch let failure as Explainer.Failure {
        printError(failure.description)
        throw Exit.failure
      }
    }
  }
}
