import Foundation

/// Core ML compute units. The raw values are `MLComputeUnits`' names, which are also the latency
/// schema's `backend` values (tests/test_ios_demo.py checks them against the schema).
enum ComputeUnit: String, CaseIterable, Identifiable, Encodable {
    case cpuOnly
    case cpuAndGPU
    case cpuAndNeuralEngine
    case all

    /// What Core ML uses when not told: the Neural Engine where it can, then the GPU, then the CPU.
    static let coreMLDefault = ComputeUnit.all

    var id: Self { self }

    var title: String {
        switch self {
        case .cpuOnly: return "CPU only"
        case .cpuAndGPU: return "CPU + GPU"
        case .cpuAndNeuralEngine: return "CPU + Neural Engine"
        case .all: return "All (Neural Engine, GPU, CPU)"
        }
    }

    var shortTitle: String {
        switch self {
        case .cpuOnly: return "CPU"
        case .cpuAndGPU: return "GPU"
        case .cpuAndNeuralEngine: return "ANE"
        case .all: return "All"
        }
    }

    /// The devices besides the CPU that Core ML may use: where a compute plan should put the work.
    var accelerators: Set<ComputeDevice> {
        switch self {
        case .cpuOnly: return []
        case .cpuAndGPU: return [.gpu]
        case .cpuAndNeuralEngine: return [.neuralEngine]
        case .all: return [.gpu, .neuralEngine]
        }
    }
}

/// A compute device as `MLComputeDevice` names it; the keys of a result's `compute_plan`.
enum ComputeDevice: String {
    case cpu
    case gpu
    case neuralEngine
}
