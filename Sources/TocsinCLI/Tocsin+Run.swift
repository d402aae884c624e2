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

    @Option(help: "Write checkpoints of all state to this directory (created if missing; the last 3 are kept).")
    var checkpoint: String?

    @Option(help: "How often to checkpoint: a number of input lines (e.g. 100000) or a wall-clock duration (e.g. 30s).")
    var checkpointInterval = "100000"

    @Flag(help: "Continue from the newest usable checkpoint in --checkpoint DIR (for standard input, the producer must replay from the line after it).")
    var resume = false

    @Option(help: "Open partial matches one rule may hold per key; the oldest are dropped beyond it.")
    var maxPartialsPerKey = StateLimits.defaultMaxPartialsPerKey

    @Option(help: "Drop a key's open partial matches after this much event time without an event for it (e.g. 1h); default: never.")
    var keyTTL: String?

    @Option(help: "Budget for the estimated matching state in MiB; past it the oldest partial matches are dropped.")
    var maxStateMb: Int?

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
      if workers > 1 && checkpoint != nil {
        throw ValidationError("--checkpoint needs --workers 1: a checkpoint records the input position of the last line the engine took")
      }
      if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint DIR") }
      guard CheckpointInterval(parsing: checkpointInterval) != nil else {
        throw ValidationError("invalid --checkpoint-interval '\(checkpointInterval)'; expected a line count like 100000 or a duration like 30s")
      }
      guard maxPartialsPerKey > 0 else { throw ValidationError("--max-partials-per-key must be positive") }
      if let keyTTL, EventDuration(parsing: keyTTL) == nil {
        throw ValidationError("invalid --key-ttl '\(keyTTL)'; expected a duration like 1h")
      }
      if let maxStateMb, maxStateMb <= 0 { throw ValidationError("--max-state-mb must be positive") }
    }

    func run() throws {
      var configuration = try ingest.configuration()
      configuration.engine.limits = StateLimits(
        maxPartialsPerKey: maxPartialsPerKey, keyTTL: keyTTL.flatMap { EventDuration(parsing: $0) },
        maxStateBytes: maxStateMb.map { $0 << 20 })
      let checkpointOptions = checkpoint.map {
        CheckpointOptions(
          directory: $0, interval: CheckpointInterval(parsing: checkpointInterval) ?? .lines(100_000),
          resume: resume)
      }
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
        showsProgress: !noProgress && !quiet, checkpoint: checkpointOptions, warn: { printError($0) })
      options.workers = workers
      options.leavesStateToExit = true
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
        case .checkpoint:
          printError(failure.description)
          throw Exit.checkpoint
        }
      }
    }
  }
}
