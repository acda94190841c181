package com.pcarnmobile.demo.core

import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/** Per-inference statistics in ms, computed as numpy does (linear percentiles, population std). */
data class LatencyStats(val min: Double, val p50: Double, val p90: Double, val mean: Double, val max: Double, val std: Double) {
    fun toJson(): Map<String, Any?> =
        linkedMapOf("min" to min, "p50" to p50, "p90" to p90, "mean" to mean, "max" to max, "std" to std)

    companion object {
        fun of(samplesMs: List<Double>): LatencyStats {
            require(samplesMs.isNotEmpty()) { "no timed runs" }
            val sorted = samplesMs.sorted()
            val mean = sorted.sum() / sorted.size
            val std = Math.sqrt(sorted.map { (it - mean) * (it - mean) }.sum() / sorted.size)
            return LatencyStats(sorted.first(), percentile(sorted, 50.0), percentile(sorted, 90.0), mean, sorted.last(), std)
        }

        private fun percentile(sorted: List<Double>, q: Double): Double {
            val pos = (sorted.size - 1) * q / 100.0
            val lo = Math.floor(pos).toInt()
            val hi = Math.ceil(pos).toInt()
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
        }
    }
}

/** What is known about the phone (`device` of the latency result). */
data class DeviceFacts(
    val description: String,
    val os: String,
    val cpu: String,
    val cores: Int,
    val memoryGib: Double,
    /** Android system properties by name (`ro.product.model`, ...). */
    val properties: Map<String, String>
) {
    fun toJson(): Map<String, Any?> = linkedMapOf(
        "description" to description, "os" to os, "cpu" to cpu, "cores" to cores,
        "memory_gib" to memoryGib, "properties" to properties
    )
}

/**
 * One measured (model, backend, threads). [stats] is null when the run failed ([error] says why);
 * [delegation] is the schema's `delegation.status`: a GPU request that could not be honoured is
 * recorded as `failed`, never as a CPU figure under the GPU's name.
 */
data class LatencyResult(
    val sidecar: Sidecar,
    val sha256: String?,
    /** LR input of one inference: the model's tile. */
    val input: Size,
    val backend: String,
    val threads: Int?,
    val runs: Int,
    val warmup: Int,
    val stats: LatencyStats?,
    val compileMs: Double?,
    val firstInferenceMs: Double?,
    val delegation: String,
    val messages: List<String>,
    val error: String?
) {
    fun toJson(): Map<String, Any?> {
        val entry = linkedMapOf<String, Any?>(
            "model" to sidecar.file, "format" to sidecar.format, "precision" to sidecar.precision,
            "variant" to sidecar.variant, "scale" to sidecar.scale, "groups" to sidecar.groups,
            "runtime" to "litert", "backend" to backend, "threads" to threads,
            "input" to listOf(input.height, input.width),
            "runs" to runs, "warmup" to warmup, "latency_ms" to stats?.toJson(),
            "compile_ms" to compileMs, "first_inference_ms" to firstInferenceMs,
            "delegation" to delegationJson()
        )
        if (sha256 != null) entry["sha256"] = sha256
        if (error != null) entry["error"] = error
        return entry
    }

    /**
     * An NPU file's delegated share comes from its compile facts (the sidecar's `npu` section: ops
     * on the NPU of the total, partitions), which LiteRT's dispatch does not report at run time.
     */
    private fun delegationJson(): Map<String, Any?> {
        val npu = sidecar.npu
        if (backend != "npu" || npu == null || error != null) return linkedMapOf("status" to delegation, "messages" to messages)
        val status = if (npu.opsOnNpu == npu.opsTotal) "full" else "partial"
        return linkedMapOf(
            "status" to status, "delegate_kernels" to npu.partitions, "delegated_ops" to npu.opsOnNpu,
            "cpu_ops" to npu.opsTotal - npu.opsOnNpu, "messages" to messages
        )
    }
}

/** The latency result document (benchmarks/schema/latency-v1.schema.json, harness `android-app`). */
object LatencyReport {
    const val HARNESS = "android-app"

    fun document(createdMillis: Long, device: DeviceFacts, tools: Map<String, String>, results: List<LatencyResult>): Map<String, Any?> =
        linkedMapOf(
            "schema_version" to 1, "harness" to HARNESS, "created_utc" to utc(createdMillis),
            "device" to device.toJson(), "tools" to tools, "results" to results.map { it.toJson() }
        )

    /** `YYYY-MM-DDTHH:MM:SSZ`. */
    fun utc(millis: Long): String =
        SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT).apply { timeZone = TimeZone.getTimeZone("UTC") }.format(Date(millis))

    /**
     * The fixed benchmark input: the same pixels on every phone and every run, photo-like rather
     * than flat (gradients plus fine texture), at the model's tile size.
     */
    fun inputPixels(size: Size): IntArray = IntArray(size.height * size.width) { i ->
        val y = i / size.width
        val x = i % size.width
        val r = x * 255 / maxOf(size.width - 1, 1)
        val g = y * 255 / maxOf(size.height - 1, 1)
        val b = (x * 37 + y * 91 + (x xor y) * 13) and 0xFF
        (0xFF shl 24) or (r shl 16) or (g shl 8) or b
    }
}
