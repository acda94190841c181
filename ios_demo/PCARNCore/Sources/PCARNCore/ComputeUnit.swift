import Foundation

/// Core ML compute units. The raw values are `MLComputeUnits`' names, which are also the latency
/// schema's `backend` values (tests/test_ios_demo.py checks them against the schema).
public enum ComputeUnit: String, CaseIterable, Identifiable, Encodable, Sendable {
    case cpuOnly
    case cpuAndGPU
    case cpuAndNeuralEngine
    case all

    /// What Core ML uses when not told: the Neural Engine where it can, then the GPU, then the CPU.
    public static let coreMLDefault = ComputeUnit.all

    public var id: Self { self }

    public var title: String {
        switch self {
        case .cpuOnly: return "CPU only"
        case .cpuAndGPU: return "CPU + GPU"
        case .cpuAndNeuralEngine: return "CPU + Neural Engine"
        case .all: return "All (Neural Engine, GPU, CPU)"
        }
    }

    public var shortTitle: String {
        switch self {
        case .cpuOnly: return "CPU"
        case .cpuAndGPU: return "GPU"
        case .cpuAndNeuralEngine: return "ANE"
        case .all: return "All"
        }
    }

    /// The devices besides the CPU that Core ML may use: where a compute plan should put the work.
    public var accelerators: Set<ComputeDevice> {
        switch self {
        case .cpuOnly: return []
        case .cpuAndGPU: return [.gpu]
        case .cpuAndNeuralEngine: return [.neuralEngine]
        case .all: return [.gpu, .neuralEngine]
        }
    }

    /// Whether Core ML may put the work on the Neural Engine, which runs a flexible-shape package
    /// only at its default or enumerated shapes: the tile must be one of those.
    public var mayUseNeuralEngine: Bool { accelerators.contains(.neuralEngine) }
}

/// A compute device as `MLComputeDevice` names it; the keys of a result's `compute_plan`.
public enum ComputeDevice: String, Sendable {
    case cpu
    case gpu
    case neuralEngine
}
