extension Duration {
  /// The duration in seconds, as a `Double`: for run figures, reports and the latency
  /// histogram.
  @inline(__always)
  var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
