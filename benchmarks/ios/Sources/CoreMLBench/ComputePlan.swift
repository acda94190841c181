import Foundation
#if canImport(CoreML)
import CoreML

/// Operations per preferred compute device ("cpu", "gpu", "neuralEngine") for `configuration`'s
/// compute units, from MLComputePlan; nil where the OS predates it (iOS 17.4 / macOS 14.4).
///
/// This is the figure that says whether `.cpuAndNeuralEngine` really ran on the Neural Engine:
/// Core ML falls back to the CPU per operation without saying so anywhere else.
public func preferredDeviceCounts(compiledModel url: URL, configuration: MLModelConfiguration) async throws
    -> [String: Int]? {
    guard #available(macOS 14.4, iOS 17.4, *) else { return nil }
    let plan = try await MLComputePlan.load(contentsOf: url, configuration: configuration)
    var counts: [String: Int] = [:]
    count(plan.modelStructure, plan, &counts)
    return counts
}

@available(macOS 14.4, iOS 17.4, *)
private func count(_ structure: MLModelStructure, _ plan: MLComputePlan, _ counts: inout [String: Int]) {
    switch structure {
    case .program(let program):
        for function in program.functions.values {
            count(function.block, plan, &counts)
        }
    case .neuralNetwork(let network):
        for layer in network.layers {
            if let usage = plan.deviceUsage(for: layer) {
                counts[deviceName(usage.preferred), default: 0] += 1
            }
        }
    case .pipeline(let pipeline):
        for model in pipeline.subModels {
            count(model, plan, &counts)
        }
    default:
        break
    }
}

@available(macOS 14.4, iOS 17.4, *)
private func count(_ block: MLModelStructure.Program.Block, _ plan: MLComputePlan, _ counts: inout [String: Int]) {
    for operation in block.operations {
        if let usage = plan.deviceUsage(for: operation) {  // nil for constants: they do not run anywhere
            counts[deviceName(usage.preferred), default: 0] += 1
        }
        for inner in operation.blocks {
            count(inner, plan, &counts)
        }
    }
}

@available(macOS 14.4, iOS 17.4, *)
private func deviceName(_ device: MLComputeDevice) -> String {
    switch device {
    case .cpu: return "cpu"
    case .gpu: return "gpu"
    case .neuralEngine: return "neuralEngine"
    @unknown default: return "other"
    }
}
#endif

/// `delegation` for a compute-unit setting: the share of operations off the CPU, by the plan.
public func delegation(for unit: ComputeUnitName, plan counts: [String: Int]?) -> JSONObject<DelegationKey> {
    var object = JSONObject<DelegationKey>()
    guard unit != .cpuOnly else {
        object[.status] = DelegationStatus.notApplicable.rawValue
        return object
    }
    guard let counts = counts else {
        object[.status] = DelegationStatus.unknown.rawValue
        object[.messages] = ["no MLComputePlan (it needs iOS 17.4 / macOS 14.4): where each operation ran is unknown"]
        return object
    }
    let onCPU = counts["cpu", default: 0]
    let offCPU = counts.values.reduce(0, +) - onCPU
    let status: DelegationStatus = offCPU == 0 ? .none : onCPU == 0 ? .full : .partial
    object[.status] = status.rawValue
    object[.delegatedOps] = offCPU
    object[.cpuOps] = onCPU
    return object
}
