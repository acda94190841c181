// Every JSON key and every schema-restricted value this package writes, in one file.
//
// The result is the latency result every harness writes (benchmarks/schema/latency-v1.schema.json,
// described in benchmarks/README.md). tests/test_ios_harness.py reads the enums below and checks
// each raw value against the schema, so a key can only be written here once the schema has it;
// JSONObject only takes keys of these enums, so no other file can write a key of its own.

/// Top-level keys.
public enum DocumentKey: String {
    case schemaVersion = "schema_version", harness, createdUTC = "created_utc", device, tools, results
}

/// Keys of `device`.
public enum DeviceKey: String {
    case description, os, cpu, cores, memoryGiB = "memory_gib", properties
}

/// Keys of one result.
public enum ResultKey: String {
    case model, format, precision, variant, scale, groups, runtime, backend, input, runs, warmup
    case latencyMs = "latency_ms", compileMs = "compile_ms", loadMs = "load_ms"
    case firstInferenceMs = "first_inference_ms", delegation, computePlan = "compute_plan", error
}

/// Keys of `latency_ms`.
public enum StatsKey: String {
    case min, p50, p90, mean, max, std
}

/// Keys of `delegation`.
public enum DelegationKey: String {
    case status, delegatedOps = "delegated_ops", cpuOps = "cpu_ops", messages
}

/// `backend`: the Core ML compute units a result was measured with.
public enum ComputeUnitName: String, CaseIterable {
    case cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all
}

/// `delegation.status`.
public enum DelegationStatus: String {
    case full, partial, none, failed, notApplicable = "not-applicable", unknown
}

/// `harness`.
public enum Harness: String {
    case ios
}

/// `format` and `runtime`.
public enum CoreMLName: String {
    case coreml
}

/// Names under `tools` (free-form in the schema; kept here with the other keys).
public enum ToolName: String {
    case coremlBench = "coreml-bench", os
}
