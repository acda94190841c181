import Foundation

extension ContinuousClock.Instant {
    /// The current instant, to time work against with `elapsed`.
    public static func start() -> Self { ContinuousClock().now }

    /// Time from this instant until now.
    public var elapsed: Duration { duration(to: ContinuousClock().now) }
}

extension Duration {
    /// Milliseconds, the unit of every latency the app shows and writes.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
