extension Duration {
  /// The duration in seconds, as a `Double`: for run figures, reports, the latency histogram
  /// and the waits given to `poll(2)` and condition variables.
  @inline(__always)
  public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
