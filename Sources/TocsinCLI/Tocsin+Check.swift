import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check rule files and report every error and warning with its location.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Option(help: "Colour: auto, always or never.")
    var color = "auto"

    @Option(help: "Sink configuration (YAML): check it, and check that 'to' clauses name its sinks.")
    var sinks: String?

    func run() throws {
      let colored: Bool
      switch color {
      case "auto": colored = isatty(STDOUT_FILENO) == 1
      case "always": colored = true
      case "never": colored = false
      default: throw ValidationError("invalid --color '\(color)'; expected auto, always or never")
      }
      let files: [SourceFile]
      do {
        files = try RuleSources.load(rules)
      } catch let error as RuleSources.LoadError {
        printError(error.description)
        throw Exit.noInput
      }
      let sinkConfiguration = try loadSinkConfiguration(sinks)
      let report = Checker.check(files, colored: colored, strict: strict, sinkNames: sinkConfiguration?.sinkNames)
      print(report.text, terminator: "")
      if report.failed { throw Exit.failure }
    }
  }
}
