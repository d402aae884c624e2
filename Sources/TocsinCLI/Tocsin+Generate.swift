import ArgumentParser
import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinRuntime

extension Tocsin {
  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a seeded synthetic payment stream with injected fraud cases.")

    @Option(help: "Number of events.") var events = 1_000_000
    @Option(help: "Number of users.") var users = 100_000
    @Option(help: "Seed for the events.") var seed: UInt64 = 42
    @Option(help: "Seed for the arrival order (default: the event seed).") var arrivalSeed: UInt64?
    @Option(help: "Largest arrival disorder (a duration).") var maxDisorder = PaymentStreamConfig.defaultMaxDisorder.description
    @Option(help: "Injected geo-impossible purchase pairs.") var geoPairs = 300
    @Option(help: "Injected velocity bursts (12 purchases of one card in under 20 minutes).") var velocityBursts = 300
    @Option(help: "Injected brute-force login cases.") var bruteForce = 100
    @Option(help: "Injected card-testing cases.") var cardTesting = 100
    @Option(name: .shortAndLong, help: "Write events here instead of standard output.") var output: String?
    @Option(help: "Write the injected cases as NDJSON to this file.") var manifest: String?

    func validate() throws {
      guard events > 0, users > 0 else { throw ValidationError("--events and --users must be positive") }
      guard EventDuration(parsing: maxDisorder) != nil else {
        throw ValidationError("invalid --max-disorder '\(maxDisorder)'; expected a duration like 5s")
      }
    }

    func run() throws {
      let config = PaymentStreamConfig(
        seed: seed, events: events, users: users,
        maxDisorder: EventDuration(parsing: maxDisorder) ?? PaymentStreamConfig.defaultMaxDisorder, geoPairs: geoPairs,
        velocityBursts: velocityBursts, bruteForceCases: bruteForce, cardTestingCases: cardTesting)
      guard config.injectedEventCount <= events else {
        throw ValidationError(
          "the injected cases need \(config.injectedEventCount) events; raise --events or lower the case counts")
      }
      do {
        let out = try output.map { try BufferedWriter(path: $0, mode: .truncate) } ?? .standardOutput()
        let manifestFile = try manifest.map { try BufferedWriter(path: $0, mode: .truncate) }
        try PaymentStream.write(config, arrivalSeed: arrivalSeed, to: out, manifest: manifestFile)
        try out.close()
        try manifestFile?.close()
      } catch let error as OutputError {
        printError("error: " + error.message)
        throw Exit.ioError
      }
    }
  }
}
