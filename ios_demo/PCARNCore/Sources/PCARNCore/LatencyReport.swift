import Foundation

/// The latency result the benchmark screen writes (benchmarks/README.md, schema v1), so the phone's
/// figures sit beside the host, Android and iOS harnesses' in one format.
///
/// Every key the app writes is spelled in this file: tests/test_ios_demo.py checks each one (and each
/// fixed value) against benchmarks/schema/latency-v1.schema.json.
struct LatencyReport: Encodable {
    let schemaVersion = 1
    let harness = "ios-app"
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    let createdUTC: String
    let device: Device
    let tools: [String: String]
    let results: [Entry]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case harness
        case createdUTC = "created_utc"
        case device, tools, results
    }

    struct Device: Encodable, Equatable {
        let description: String
        let os: String
        let cores: Int
        let memoryGiB: Double
        /// The model identifier (`iPhone16,1`), which `description` turns into words only on Apple's side.
        let properties: [String: String]

        enum CodingKeys: String, CodingKey {
            case description, os, cores
            case memoryGiB = "memory_gib"
            case properties
        }
    }

    /// One model on one compute unit.
    struct Entry: Encodable, Equatable {
        let format = "coreml"
        let runtime = "coreml"
        /// The package's file name, as its sidecar gives it.
        let model: String
        let precision: String
        let variant: String
        let scale: Int
        let groups: Int
        let backend: ComputeUnit
        /// `[H, W]` of one inference's input.
        let input: [Int]
        let runs: Int
        let warmup: Int
        /// Nil when the run failed; written as `null`, since the schema requires the key.
        let latencyMs: Stats?
        let loadMs: Double?
        let firstInferenceMs: Double?
        /// Operations per compute device Core ML prefers (MLComputePlan, iOS 17.4+).
        let computePlan: [String: Int]?
        let delegation: Delegation
        let error: String?

        enum CodingKeys: String, CodingKey {
            case format, runtime, model, precision, variant, scale, groups, backend, input, runs, warmup
            case latencyMs = "latency_ms"
            case loadMs = "load_ms"
            case firstInferenceMs = "first_inference_ms"
            case computePlan = "compute_plan"
            case delegation, error
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(format, forKey: .format)
            try container.encode(runtime, forKey: .runtime)
            try container.encode(model, forKey: .model)
            try container.encode(precision, forKey: .precision)
            try container.encode(variant, forKey: .variant)
            try container.encode(scale, forKey: .scale)
            try container.encode(groups, forKey: .groups)
            try container.encode(backend, forKey: .backend)
            try container.encode(input, forKey: .input)
            try container.encode(runs, forKey: .runs)
            try container.encode(warmup, forKey: .warmup)
            try container.encode(latencyMs, forKey: .latencyMs)  // an Optional encodes nil as null
            try container.encodeIfPresent(loadMs, forKey: .loadMs)
            try container.encodeIfPresent(firstInferenceMs, forKey: .firstInferenceMs)
            try container.encodeIfPresent(computePlan, forKey: .computePlan)
            try container.encode(delegation, forKey: .delegation)
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    /// Milliseconds per inference over the timed runs.
    struct Stats: Encodable, Equatable {
        let min: Double
        let p50: Double
        let p90: Double
        let mean: Double
        let max: Double
        let std: Double

        enum CodingKeys: String, CodingKey {
            case min, p50, p90, mean, max, std
        }
    }

    /// Whether the accelerator asked for took the whole model: a silent CPU fallback shows here.
    struct Delegation: Encodable, Equatable {
        let status: DelegationStatus
        let messages: [String]?

        enum CodingKeys: String, CodingKey {
            case status, messages
        }
    }

    enum DelegationStatus: String, Encodable {
        case full
        case partial
        /// Everything on the CPU although an accelerator was allowed.
        case cpuFallback = "none"
        case failed
        case notApplicable = "not-applicable"
        case unknown
    }
}
