import Foundation

/// The latency statistics of N timed predictions, in milliseconds.
public struct LatencyStats: Equatable {
    public let min, p50, p90, mean, max, std: Double

    /// nil for no samples. Percentiles interpolate linearly between the closest ranks (NumPy's
    /// default, as the host harness computes them); std is the population standard deviation.
    public init?(samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        self.min = sorted[0]
        self.max = sorted[sorted.count - 1]
        self.mean = mean
        self.p50 = LatencyStats.percentile(sorted, 0.5)
        self.p90 = LatencyStats.percentile(sorted, 0.9)
        self.std = (sorted.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(sorted.count)).squareRoot()
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = Swift.min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// `latency_ms`, rounded to microseconds.
    public var json: JSONObject<StatsKey> {
        let fields: [(StatsKey, Double)] = [(.min, min), (.p50, p50), (.p90, p90), (.mean, mean), (.max, max), (.std, std)]
        var object = JSONObject<StatsKey>()
        for (key, value) in fields {
            object[key] = rounded(value)
        }
        return object
    }
}

/// Milliseconds rounded to 3 decimals (microseconds): what a clock on a phone can honestly say.
public func rounded(_ milliseconds: Double) -> Double {
    (milliseconds * 1000).rounded() / 1000
}

/// The value `body` returns and how long it took, in milliseconds.
public func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
}

/// `timed` for async work (compiling a model).
public func timedAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try await body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
}
