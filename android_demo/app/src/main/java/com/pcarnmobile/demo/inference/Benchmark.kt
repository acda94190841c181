package com.pcarnmobile.demo.inference

import android.app.ActivityManager
import android.content.Context
import android.content.res.AssetManager
import android.os.Build
import android.os.SystemClock
import com.pcarnmobile.demo.BuildConfig
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.DeviceFacts
import com.pcarnmobile.demo.core.Json
import com.pcarnmobile.demo.core.LatencyReport
import com.pcarnmobile.demo.core.LatencyResult
import com.pcarnmobile.demo.core.LatencyStats
import com.pcarnmobile.demo.core.PixelCodec
import com.pcarnmobile.demo.core.RunPlan
import com.pcarnmobile.demo.core.Size
import com.pcarnmobile.demo.core.TensorData
import java.io.File
import java.security.MessageDigest
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive

/** What the benchmark screen runs for each model. */
data class BenchmarkSettings(val backend: Backend, val threads: Int, val runs: Int = 20, val warmup: Int = 3)

/** Folder in the app's files where results go (shared through the FileProvider, res/xml/shared_files.xml). */
const val REPORT_DIR = "benchmarks"

/**
 * Times [installed] on the fixed benchmark input at its tile size: compile, [BenchmarkSettings.warmup]
 * untimed runs (the first one's time kept), then [BenchmarkSettings.runs] timed ones, each from
 * writing the input to reading the output back. A GPU that cannot run the model, or any failure,
 * is recorded as a failed result rather than measured on something else. Call on [ModelDispatcher].
 */
suspend fun measureLatency(
    context: Context,
    installed: InstalledModel,
    settings: BenchmarkSettings,
    onRun: (Int) -> Unit
): LatencyResult {
    val sidecar = installed.sidecar
    // A resizable file is timed at the default shape's square, the shape its CPU tiles come near.
    val tile = sidecar.tile ?: Size(128, 128)
    // An NPU file runs on its NPU or not at all; a resizable one on the CPU (one shape a session).
    val backend = when {
        sidecar.npu != null -> Backend.NPU
        sidecar.tile == null -> Backend.CPU
        else -> settings.backend
    }
    val gpu = backend == Backend.GPU
    fun result(stats: LatencyStats?, compileMs: Double?, firstMs: Double?, error: String?): LatencyResult {
        // CompiledModel with the GPU accelerator compiles the whole graph or fails (no silent CPU
        // split), so a GPU figure is a full delegation.
        val delegation = when {
            error != null && backend != Backend.CPU -> "failed"
            gpu -> "full"
            else -> "not-applicable"
        }
        return LatencyResult(
            sidecar, sha256(context.assets, installed.assetPath), tile, backend.name.lowercase(),
            if (backend == Backend.CPU) settings.threads else null, settings.runs, settings.warmup, stats, compileMs, firstMs,
            delegation, listOfNotNull(error), error
        )
    }
    try {
        val plan = RunPlan(sidecar, tile, backend, resize = sidecar.tile == null, note = null)
        SrEngine.open(context, plan, settings.threads).use { engine ->
            val codec = PixelCodec(sidecar.input, sidecar.output)
            val input = codec.newInput(tile.height * tile.width)
            codec.encode(LatencyReport.inputPixels(tile), input)
            var firstMs: Double? = null
            repeat(settings.warmup) { i ->
                currentCoroutineContext().ensureActive()
                val ms = timeMs(engine, input)
                if (i == 0) firstMs = ms
            }
            val samples = (1..settings.runs).map { run ->
                currentCoroutineContext().ensureActive()
                onRun(run)
                timeMs(engine, input)
            }
            return result(LatencyStats.of(samples), engine.compileMs, firstMs, null)
        }
    } catch (e: CancellationException) {
        throw e
    } catch (e: Exception) {
        return result(null, null, null, e.message ?: e.javaClass.simpleName)
    }
}

private fun timeMs(engine: SrEngine, input: TensorData): Double {
    val start = SystemClock.elapsedRealtimeNanos()
    engine.run(input)
    return (SystemClock.elapsedRealtimeNanos() - start) / 1e6
}

private fun sha256(assets: AssetManager, path: String): String {
    val digest = MessageDigest.getInstance("SHA-256")
    assets.open(path).use { stream ->
        val buffer = ByteArray(1 shl 16)
        while (true) {
            val n = stream.read(buffer)
            if (n < 0) break
            digest.update(buffer, 0, n)
        }
    }
    return digest.digest().joinToString("") { "%02x".format(it) }
}

/** Writes the latency result document (benchmarks/schema/latency-v1.schema.json) to the app's files. */
fun writeLatencyReport(context: Context, results: List<LatencyResult>): File {
    val now = System.currentTimeMillis()
    val tools = mapOf("litert" to BuildConfig.LITERT_VERSION, "pcarn-demo" to BuildConfig.VERSION_NAME, "android-build" to Build.DISPLAY)
    val document = LatencyReport.document(now, deviceFacts(context), tools, results)
    val dir = File(context.filesDir, REPORT_DIR).apply { mkdirs() }
    return File(dir, "latency-${LatencyReport.utc(now).replace(":", "")}.json").apply { writeText(Json.write(document)) }
}

private fun deviceFacts(context: Context): DeviceFacts {
    val memory = ActivityManager.MemoryInfo()
    (context.getSystemService(Context.ACTIVITY_SERVICE) as ActivityManager).getMemoryInfo(memory)
    val properties = linkedMapOf(
        "ro.product.manufacturer" to Build.MANUFACTURER,
        "ro.product.model" to Build.MODEL,
        "ro.build.version.release" to Build.VERSION.RELEASE,
        "ro.build.version.sdk" to Build.VERSION.SDK_INT.toString(),
        "ro.product.cpu.abi" to Build.SUPPORTED_ABIS.first()
    )
    val cpu = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
        properties["ro.soc.manufacturer"] = Build.SOC_MANUFACTURER
        properties["ro.soc.model"] = Build.SOC_MODEL
        "${Build.SOC_MANUFACTURER} ${Build.SOC_MODEL}"
    } else {
        Build.HARDWARE
    }
    return DeviceFacts(
        description = "${Build.MANUFACTURER} ${Build.MODEL}",
        os = "Android ${Build.VERSION.RELEASE} (API ${Build.VERSION.SDK_INT})",
        cpu = cpu,
        cores = Runtime.getRuntime().availableProcessors(),
        memoryGib = memory.totalMem / (1024.0 * 1024.0 * 1024.0),
        properties = properties
    )
}
