import CoreML
import PCARNCore

/// Where Core ML means to run each operation. A prediction does not say where it ran, so this is the
/// only way to see that a Neural Engine or GPU choice silently fell back to the CPU.
nonisolated enum ComputePlanReport {
    /// Operations per preferred compute device (`ComputeDevice` raw values), or nil before iOS 17.4,
    /// where `MLComputePlan` does not exist.
    @concurrent
    static func deviceCounts(of entry: InstalledModel, on unit: ComputeUnit) async throws -> [String: Int]? {
        guard #available(iOS 17.4, *) else { return nil }
        let plan = try await MLComputePlan.load(contentsOf: entry.compiledURL, configuration: unit.configuration())
        guard case let .program(program) = plan.modelStructure else { return nil }
        var counts: [String: Int] = [:]
        for function in program.functions.values {
            count(function.block, in: plan, into: &counts)
        }
        return counts
    }

    @available(iOS 17.4, *)
    private static func count(_ block: MLModelStructure.Program.Block, in plan: MLComputePlan,
                              into counts: inout [String: Int]) {
        for operation in block.operations where !isWeights(operation) {
            // nil usage (Core ML cannot tell) and devices newer than this app are not counted.
            if let usage = plan.deviceUsage(for: operation), let device = ComputeDevice(usage.preferred) {
                counts[device.rawValue, default: 0] += 1
            }
            for nested in operation.blocks {
                count(nested, in: plan, into: &counts)
            }
        }
    }

    /// Weights (`const`, and the `constexpr_*` ops of int8 and palettized packages) are data, not
    /// work: counted, whatever device Core ML names for them would blur where the work runs.
    @available(iOS 17.4, *)
    private static func isWeights(_ operation: MLModelStructure.Program.Operation) -> Bool {
        operation.operatorName == "const" || operation.operatorName.contains("constexpr")
    }
}

@available(iOS 17.0, *)
private extension ComputeDevice {
    init?(_ device: MLComputeDevice) {
        switch device {
        case .cpu: self = .cpu
        case .gpu: self = .gpu
        case .neuralEngine: self = .neuralEngine
        @unknown default: return nil
        }
    }
}
