import Foundation

extension ContinuousClock.Instant {
    /// The current instant, to time work against with `elapsed`.
    static func start() -> Self { ContinuousClock().now }

    /// Time from this instant until now.
    var elapsed: Duration { duration(to: ContinuousClock().now) }
}

extension Duration {
    /// Milliseconds, the unit of every latency the app shows and writes.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
