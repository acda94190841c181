#if canImport(CoreML)
import CoreML
import Foundation

extension ComputeUnitName {
    public var mlComputeUnits: MLComputeUnits {
        switch self {
        case .cpuOnly: return .cpuOnly
        case .cpuAndGPU: return .cpuAndGPU
        case .cpuAndNeuralEngine: return .cpuAndNeuralEngine
        case .all: return .all
        }
    }
}

/// The export sidecar's fields a result repeats (`<model>.json` beside it, docs/export-contract.md).
struct Sidecar: Decodable {
    struct Tensor: Decodable {
        let shape: [Int]  // [1, 3, H, W] for Core ML; -1 marks a flexible side
    }

    let precision: String
    let variant: String?
    let scale: Int?
    let groups: Int?
    let input: Tensor?

    /// The input [H, W] the file declares, when fixed.
    var fixedInput: [Int]? {
        guard let hw = input?.shape.suffix(2), hw.count == 2, hw.allSatisfy({ $0 > 0 }) else { return nil }
        return Array(hw)
    }

    /// `x.mlpackage.json`, or for a compiled `x.mlmodelc` the package's `x.mlpackage.json`.
    static func beside(_ model: URL) -> Sidecar? {
        let candidates = [model.path + ".json", model.deletingPathExtension().path + ".mlpackage.json"]
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path),
               let sidecar = try? JSONDecoder().decode(Sidecar.self, from: data) {
                return sidecar
            }
        }
        return nil
    }
}

/// One result per compute-unit setting for the model at `url` (.mlpackage or .mlmodelc).
///
/// Each setting starts from a fresh compile and load, so `compile_ms` and `load_ms` are that
/// setting's own cold costs (Neural Engine loads can take seconds); then the first prediction,
/// `warmup` untimed ones and `runs` timed ones. A failure is recorded in that result, and the
/// other settings still run.
public func benchmark(modelAt url: URL, options: BenchmarkOptions) async -> [JSONObject<ResultKey>] {
    let sidecar = Sidecar.beside(url)
    var results: [JSONObject<ResultKey>] = []
    for unit in options.units {
        var result = JSONObject<ResultKey>()
        result[.model] = url.lastPathComponent
        result[.format] = CoreMLName.coreml.rawValue
        result[.runtime] = CoreMLName.coreml.rawValue
        result[.precision] = sidecar?.precision ?? "unknown"
        result[.variant] = sidecar?.variant
        result[.scale] = sidecar?.scale
        result[.groups] = sidecar?.groups
        result[.backend] = unit.rawValue
        result[.runs] = options.runs
        result[.warmup] = options.warmup
        // what it was meant to run on, in case it fails before the model says; [1, 1]: not known
        result[.input] = options.inputSize.map { [$0.0, $0.1] } ?? sidecar?.fixedInput ?? [1, 1]
        do {
            try await measure(url, unit, options, into: &result)
        } catch {
            result[.latencyMs] = NSNull()
            result[.error] = "\(error)"
            var failed = JSONObject<DelegationKey>()
            failed[.status] = DelegationStatus.failed.rawValue
            result[.delegation] = failed.storage
        }
        results.append(result)
    }
    return results
}

private func measure(_ url: URL, _ unit: ComputeUnitName, _ options: BenchmarkOptions,
                     into result: inout JSONObject<ResultKey>) async throws {
    let configuration = MLModelConfiguration()
    configuration.computeUnits = unit.mlComputeUnits
    var compiled = url
    if url.pathExtension != "mlmodelc" {
        let (compiledURL, compileMs) = try await timedAsync { try await MLModel.compileModel(at: url) }
        compiled = compiledURL
        result[.compileMs] = rounded(compileMs)
    } else {
        result[.compileMs] = NSNull()
    }
    defer {
        if compiled != url {
            try? FileManager.default.removeItem(at: compiled)
        }
    }
    let (model, loadMs) = try timed { try MLModel(contentsOf: compiled, configuration: configuration) }
    result[.loadMs] = rounded(loadMs)
    let (input, hw) = try makeInput(for: model.modelDescription, size: options.inputSize)
    result[.input] = hw
    let (_, firstMs) = try timed { try model.prediction(from: input) }
    result[.firstInferenceMs] = rounded(firstMs)
    for _ in 0..<options.warmup {
        _ = try model.prediction(from: input)
    }
    var samples: [Double] = []
    for _ in 0..<options.runs {
        samples.append(try timed { try model.prediction(from: input) }.1)
    }
    if let stats = LatencyStats(samples: samples) {
        result[.latencyMs] = stats.json.storage
    } else {
        result[.latencyMs] = NSNull()
    }
    // a plan that cannot be read leaves the timings standing: the delegation is then "unknown"
    let plan = try? await preferredDeviceCounts(compiledModel: compiled, configuration: configuration)
    result[.computePlan] = plan
    result[.delegation] = delegation(for: unit, plan: plan).storage
}

#endif
