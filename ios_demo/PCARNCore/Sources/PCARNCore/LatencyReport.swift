import Foundation

/// The latency result the benchmark screen writes (benchmarks/README.md, schema v1), so the phone's
/// figures sit beside the host, Android and iOS harnesses' in one format.
///
/// Every key the app writes is spelled in this file: tests/test_ios_demo.py checks each one (and each
/// fixed value) against benchmarks/schema/latency-v1.schema.json.
public struct LatencyReport: Encodable, Sendable {
    public let schemaVersion = 1
    public let harness = "ios-app"
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public let createdUTC: String
    public let device: Device
    public let tools: [String: String]
    public let results: [Entry]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case harness
        case createdUTC = "created_utc"
        case device, tools, results
    }

    public init(createdUTC: String, device: Device, tools: [String: String], results: [Entry]) {
        self.createdUTC = createdUTC
        self.device = device
        self.tools = tools
        self.results = results
    }

    public struct Device: Encodable, Equatable, Sendable {
        public let description: String
        public let os: String
        public let cores: Int
        public let memoryGiB: Double
        /// The model identifier (`iPhone16,1`), which `description` turns into words only on Apple's side.
        public let properties: [String: String]

        enum CodingKeys: String, CodingKey {
            case description, os, cores
            case memoryGiB = "memory_gib"
            case properties
        }

        public init(description: String, os: String, cores: Int, memoryGiB: Double, properties: [String: String]) {
            self.description = description
            self.os = os
            self.cores = cores
            self.memoryGiB = memoryGiB
            self.properties = properties
        }
    }

    /// One model on one compute unit.
    public struct Entry: Encodable, Equatable, Sendable {
        public let format = "coreml"
        public let runtime = "coreml"
        /// The package's file name, as its sidecar gives it.
        public let model: String
        public let precision: String
        public let variant: String
        public let scale: Int
        public let groups: Int
        public let backend: ComputeUnit
        /// `[H, W]` of one inference's input.
        public let input: [Int]
        public let runs: Int
        public let warmup: Int
        /// Nil when the run failed; written as `null`, since the schema requires the key.
        public let latencyMs: Stats?
        public let loadMs: Double?
        public let firstInferenceMs: Double?
        /// Operations per compute device Core ML prefers (MLComputePlan, iOS 17.4+).
        public let computePlan: [String: Int]?
        public let delegation: Delegation
        public let error: String?

        enum CodingKeys: String, CodingKey {
            case format, runtime, model, precision, variant, scale, groups, backend, input, runs, warmup
            case latencyMs = "latency_ms"
            case loadMs = "load_ms"
            case firstInferenceMs = "first_inference_ms"
            case computePlan = "compute_plan"
            case delegation, error
        }

        public init(model: String, precision: String, variant: String, scale: Int, groups: Int, backend: ComputeUnit,
                    input: [Int], runs: Int, warmup: Int, latencyMs: Stats?, loadMs: Double?, firstInferenceMs: Double?,
                    computePlan: [String: Int]?, delegation: Delegation, error: String?) {
            self.model = model
            self.precision = precision
            self.variant = variant
            self.scale = scale
            self.groups = groups
            self.backend = backend
            self.input = input
            self.runs = runs
            self.warmup = warmup
            self.latencyMs = latencyMs
            self.loadMs = loadMs
            self.firstInferenceMs = firstInferenceMs
            self.computePlan = computePlan
            self.delegation = delegation
            self.error = error
        }

        public func encode(to encoder: Encoder) throws {
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
    public struct Stats: Encodable, Equatable, Sendable {
        public let min: Double
        public let p50: Double
        public let p90: Double
        public let mean: Double
        public let max: Double
        public let std: Double

        enum CodingKeys: String, CodingKey {
            case min, p50, p90, mean, max, std
        }

        public init(min: Double, p50: Double, p90: Double, mean: Double, max: Double, std: Double) {
            self.min = min
            self.p50 = p50
            self.p90 = p90
            self.mean = mean
            self.max = max
            self.std = std
        }
    }

    /// Whether the accelerator asked for took the whole model: a silent CPU fallback shows here.
    public struct Delegation: Encodable, Equatable, Sendable {
        public let status: DelegationStatus
        public let messages: [String]?

        enum CodingKeys: String, CodingKey {
            case status, messages
        }

        public init(status: DelegationStatus, messages: [String]?) {
            self.status = status
            self.messages = messages
        }
    }

    public enum DelegationStatus: String, Encodable, Sendable {
        case full
        case partial
        /// Everything on the CPU although an accelerator was allowed.
        case cpuFallback = "none"
        case failed
        case notApplicable = "not-applicable"
        case unknown
    }
}
