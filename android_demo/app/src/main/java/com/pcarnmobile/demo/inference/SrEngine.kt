package com.pcarnmobile.demo.inference

import android.content.Context
import android.os.SystemClock
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.Environment
import com.google.ai.edge.litert.TensorBuffer
import com.pcarnmobile.demo.core.DType
import com.pcarnmobile.demo.core.Sidecar
import com.pcarnmobile.demo.core.TensorData

/** Where a model runs. */
enum class Backend { CPU, GPU }

/** A GPU was asked for and cannot run the model; [message] says why in one line. */
class GpuUnavailableException(message: String) : Exception(message)

/**
 * One compiled model with its input and output buffers (addressed by the sidecar's tensor names),
 * used from [ModelDispatcher] only. Close it to free the native model, buffers and environment.
 */
class SrEngine private constructor(
    private val environment: Environment,
    private val model: CompiledModel,
    private val input: TensorBuffer,
    private val output: TensorBuffer,
    sidecar: Sidecar,
    /** Where it actually runs. */
    val backend: Backend,
    /** Why a GPU request runs on the CPU instead (null when it does not). */
    val gpuRefusal: String?,
    val compileMs: Double
) : AutoCloseable {
    private val inputs = mapOf(sidecar.input.name to input)
    private val outputs = mapOf(sidecar.output.name to output)
    private val floatOutput = sidecar.output.dtype == DType.FLOAT32

    /** Runs one tile; the read-back is what waits for a GPU to finish, so time this whole call. */
    fun run(tile: TensorData): TensorData {
        when (tile) {
            is TensorData.Floats -> input.writeFloat(tile.values)
            is TensorData.Bytes -> input.writeInt8(tile.values)
        }
        model.run(inputs, outputs)
        return if (floatOutput) TensorData.Floats(output.readFloat()) else TensorData.Bytes(output.readInt8())
    }

    override fun close() {
        input.close()
        output.close()
        model.close()
        environment.close()
    }

    companion object {
        /**
         * Compiles [installed] for [backend] ([threads] CPU threads). When the GPU cannot take it (the
         * sidecar says the graph is not delegate-ready, the phone has no GPU accelerator, or
         * compilation fails) it runs on the CPU with [SrEngine.gpuRefusal] set if [cpuFallback],
         * else [GpuUnavailableException] is thrown: a benchmark must not time the CPU as the GPU.
         */
        fun open(context: Context, installed: InstalledModel, backend: Backend, threads: Int, cpuFallback: Boolean): SrEngine {
            val environment = Environment.create()
            try {
                val refusal = if (backend == Backend.GPU) {
                    gpuPrecheck(environment, installed.sidecar) ?: try {
                        return compile(context, environment, installed, Backend.GPU, threads, null)
                    } catch (e: Exception) {
                        "the GPU could not compile it (${e.message})"
                    }
                } else {
                    null
                }
                if (refusal != null && !cpuFallback) throw GpuUnavailableException(refusal)
                return compile(context, environment, installed, Backend.CPU, threads, refusal)
            } catch (e: Throwable) {
                environment.close()
                throw e
            }
        }

        private fun gpuPrecheck(environment: Environment, sidecar: Sidecar): String? = when {
            sidecar.delegateReady == false ->
                "the sidecar says the graph is not delegate-ready (${sidecar.problems.joinToString("; ")})"
            // Without the litert-gpu artifact (or a usable GPU driver) a GPU request would quietly
            // run on the CPU: ask first.
            Accelerator.GPU !in environment.getAvailableAccelerators() -> "this phone offers LiteRT no GPU accelerator"
            else -> null
        }

        private fun compile(
            context: Context,
            environment: Environment,
            installed: InstalledModel,
            backend: Backend,
            threads: Int,
            gpuRefusal: String?
        ): SrEngine {
            val sidecar = installed.sidecar
            val options = when (backend) {
                Backend.GPU -> CompiledModel.Options(Accelerator.GPU).apply {
                    // The GPU computes in fp16 unless told otherwise; an fp32 file keeps fp32.
                    if (sidecar.precision == "fp32") gpuOptions = CompiledModel.GpuOptions(precision = CompiledModel.GpuOptions.Precision.FP32)
                }
                Backend.CPU -> CompiledModel.Options(Accelerator.CPU).apply { cpuOptions = CompiledModel.CpuOptions(numThreads = threads) }
            }
            val start = SystemClock.elapsedRealtimeNanos()
            val model = CompiledModel.create(context.assets, installed.assetPath, options, environment)
            val compileMs = (SystemClock.elapsedRealtimeNanos() - start) / 1e6
            try {
                val input = model.createInputBuffer(sidecar.input.name)
                val output = try {
                    model.createOutputBuffer(sidecar.output.name)
                } catch (e: Throwable) {
                    input.close()
                    throw e
                }
                return SrEngine(environment, model, input, output, sidecar, backend, gpuRefusal, compileMs)
            } catch (e: Throwable) {
                model.close()
                throw e
            }
        }
    }
}
