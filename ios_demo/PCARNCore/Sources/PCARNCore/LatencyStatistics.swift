import Foundation

extension LatencyReport.Stats {
    /// Statistics of `samples` (ms), rounded to microseconds; nil when there are none. Percentiles
    /// interpolate linearly between order statistics and `std` is the population deviation: NumPy's
    /// defaults, which the Python harnesses use.
    public init?(samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        let variance = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sorted.count)
        func percentile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = Swift.min(lower + 1, sorted.count - 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        self.init(min: rounded(sorted[0]), p50: rounded(percentile(0.5)), p90: rounded(percentile(0.9)),
                  mean: rounded(mean), max: rounded(sorted[sorted.count - 1]), std: rounded(variance.squareRoot()))
    }
}

extension LatencyReport.Delegation {
    /// What a compute plan (operations per preferred device) says about `unit`: `full` when every
    /// operation is on an accelerator `unit` allows, `none` when all stay on the CPU.
    public init(unit: ComputeUnit, computePlan: [String: Int]?) {
        guard !unit.accelerators.isEmpty else {
            self.init(status: .notApplicable, messages: nil)
            return
        }
        guard let computePlan, !computePlan.isEmpty else {
            self.init(status: .unknown,
                      messages: ["no compute plan (MLComputePlan needs iOS 17.4): where the operations ran is not known"])
            return
        }
        let total = computePlan.values.reduce(0, +)
        let accelerated = unit.accelerators.map { computePlan[$0.rawValue] ?? 0 }.reduce(0, +)
        let status: LatencyReport.DelegationStatus
        switch accelerated {
        case total: status = .full
        case 0: status = .cpuFallback
        default: status = .partial
        }
        let counts = computePlan.sorted { $0.key < $1.key }.map { "\($0.value) on \($0.key)" }
        self.init(status: status, messages: ["MLComputePlan preferred devices: " + counts.joined(separator: ", ")])
    }

    /// A measurement that failed before any timing.
    public static func failed(_ reason: String) -> Self {
        Self(status: .failed, messages: [reason])
    }
}
