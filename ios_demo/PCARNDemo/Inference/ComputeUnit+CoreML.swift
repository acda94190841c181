import CoreML
import PCARNCore

nonisolated extension ComputeUnit {
    var mlComputeUnits: MLComputeUnits {
        switch self {
        case .cpuOnly: return .cpuOnly
        case .cpuAndGPU: return .cpuAndGPU
        case .cpuAndNeuralEngine: return .cpuAndNeuralEngine
        case .all: return .all
        }
    }

    func configuration() -> MLModelConfiguration {
        let configuration = MLModelConfiguration()
        configuration.computeUnits = mlComputeUnits
        return configuration
    }
}
