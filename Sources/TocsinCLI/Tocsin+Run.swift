import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stream NDJSON events through rules and write alerts as NDJSON.")

    @Argument(help: "Rule files or directories (every *.tcs inside).")
    var rules: [String] = ["rules"]

    @Option(name: .shortAndLong, help: "Read events from this file instead of standard input.")
    var input: String?

    @Option(name: .shortAndLong, help: "Write alerts to this file (truncated) instead of standard output.")
    var output: String?

    @Option(help: "Append dead letters (bad lines, late events, events without a key) to this file; default: standard error.")
    var deadLetter: String?

    @Option(help: "Sink configuration (YAML): named sinks, routes by severity, the dead-letter sink.")
    var sinks: String?

    @Flag(name: .shortAndLong, help: "Do not print the summary on standard error.")
    var quiet = false

    @Option(help: "Serve Prometheus metrics at http://ADDR/metrics; ADDR is PORT or :PORT (loopback) or HOST:PORT.")
    var metricsAddr: String?

    @Flag(help: "Allow --metrics-addr to listen on a non-loopback address.")
    var metricsAllowRemote = false

    @Option(help: "Threads: 1, or 2 to read and decode events on a second thread (same output).")
    var workers = 1

    @Flag(help: "Do not draw the progress line (drawn only when standard error is a terminal and -i is a regular file).")
    var noProgress = false

    @OptionGroup var ingest: IngestFlags

    func validate() throws {
      guard (1...2).contains(workers) else { throw ValidationError("--workers must be 1 or 2") }
      if sinks != nil && output != nil {
        throw ValidationError("-o/--output is shorthand for a one-sink configuration; with --sinks, define a file sink instead")
      }
      if let metricsAddr {
        do {
          _ = try MetricsAddress(parsing: metricsAddr, allowRemote: metricsAllowRemote)
        } catch let error as MetricsAddress.ParseError {
          throw ValidationError(error.description)
        }
      }
    }

    func run() throws {
      let configuration = try ingest.configuration()
      let sinkConfiguration = try loadSinkConfiguration(sinks)
      let ruleSet = try loadPrograms(rules, ingest: configuration.ingest, sinkNames: sinkConfiguration?.sinkNames)
      guard let programs = ruleSet.programs else { throw Exit.failure }
      let metrics = try metricsAddr.map {
        RunPipeline.MetricsOptions(
          address: try MetricsAddress(parsing: $0, allowRemote: metricsAllowRemote),
          onListening: { address in if !quiet { printError("serving metrics on http://\(address)/metrics") } })
      }
      var options = RunPipeline.Options(
        inputPath: input, outputPath: output, deadLetterPath: deadLetter,
        configuration: configuration, sinks: sinkConfiguration, metrics: metrics,
        showsProgress: !noProgress && !quiet)
      options.workers = workers
      do {
        let summary = try RunPipeline.run(
          programs: programs, rules: ruleSet.checked.rules, options: options,
          report: { printError("tocsin: " + $0) })
        if !quiet { printError(summary.text) }
      } catch let failure as RunPipeline.Failure {
        switch failure {
        case .outputClosed:
          return  // like any filter whose reader went away (`| head`): stop quietly
        case .input:
          printError(failure.description)
          throw Exit.noInput
        case .output:
          printError(failure.description)
          throw Exit.ioError
        case .metrics:
          printError(failure.description)
          throw Exit.unavailable
        }
      }
    }
  }
}
