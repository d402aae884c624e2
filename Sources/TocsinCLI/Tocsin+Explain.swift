import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the compiled automaton of each rule.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(help: "Only this rule.")
    var rule: String?

    @Flag(help: "Print Graphviz DOT instead of text.")
    var dot = false

    func run() throws {
      let ruleSet = try loadPrograms(rules, ingest: IngestOptions())
      guard let programs = ruleSet.programs else { throw Exit.failure }
      do {
        print(try Explainer.explain(programs, rule: rule, format: dot ? .dot : .text), terminator: "")
      } catch let failure as Explainer.Failure {
        printError(failure.description)
        throw Exit.failure
      }
    }
  }
}
