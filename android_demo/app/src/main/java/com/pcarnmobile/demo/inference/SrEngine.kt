package com.pcarnmobile.demo.inference

import android.content.Context
import android.os.SystemClock
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.Environment
import com.google.ai.edge.litert.TensorBuffer
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.DType
import com.pcarnmobile.demo.core.RunPlan
import com.pcarnmobile.demo.core.Sidecar
import com.pcarnmobile.demo.core.TensorData
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import org.tensorflow.lite.Interpreter

/** The backend asked for cannot run the model; [message] says why in one line. */
class BackendUnavailableException(message: String) : Exception(message)

/**
 * One model session at one input shape ([RunPlan.tile]), used from [ModelDispatcher] only: GPU and
 * NPU sessions keep that one shape; a resizable CPU file is resized to it when the session opens.
 * Close it to free the native model and buffers.
 */
interface SrEngine : AutoCloseable {
    /** What this session runs: file, tile shape, backend, and the fallback note if any. */
    val plan: RunPlan
    val compileMs: Double

    /** Runs one tile; the read-back is what waits for a GPU or NPU to finish, so time this whole call. */
    fun run(tile: TensorData): TensorData

    companion object {
        /**
         * Opens [plan]. A static file (any backend) runs through LiteRT's `CompiledModel`; a
         * resizable one through the `Interpreter` API, the only LiteRT Kotlin API with an input
         * resize (`resizeInput`; `CompiledModel`'s `ResizeInputTensor` exists in C++ only, see
         * README). Throws [BackendUnavailableException] where the backend cannot take the file:
         * the caller re-plans (ModelGroup.afterNpuFailure / plan with another backend) and says why.
         */
        fun open(context: Context, plan: RunPlan, threads: Int): SrEngine =
            if (plan.resize) ResizedCpuEngine.open(context, plan, threads) else CompiledEngine.open(context, plan, threads)

        fun assetPath(sidecar: Sidecar): String = "${ModelCatalog.DIR}/${sidecar.file}"
    }
}

/** A static file on CPU, GPU or NPU through `CompiledModel`, buffers addressed by the sidecar's tensor names. */
private class CompiledEngine(
    private val environment: Environment,
    private val model: CompiledModel,
    private val input: TensorBuffer,
    private val output: TensorBuffer,
    override val plan: RunPlan,
    override val compileMs: Double
) : SrEngine {
    private val inputs = mapOf(plan.sidecar.input.name to input)
    private val outputs = mapOf(plan.sidecar.output.name to output)
    private val floatOutput = plan.sidecar.output.dtype == DType.FLOAT32

    override fun run(tile: TensorData): TensorData {
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
        fun open(context: Context, plan: RunPlan, threads: Int): SrEngine {
            val sidecar = plan.sidecar
            // The NPU's dispatch library (Qualcomm's, packaged in jniLibs) is found through the
            // environment; the compiled file carries its QNN context binary.
            val environment = if (plan.backend == Backend.NPU) {
                Environment.create(mapOf(Environment.Option.DispatchLibraryDir to context.applicationInfo.nativeLibraryDir))
            } else {
                Environment.create()
            }
            try {
                precheck(environment, plan)?.let { throw BackendUnavailableException(it) }
                val options = when (plan.backend) {
                    Backend.NPU -> CompiledModel.Options(Accelerator.NPU)
                    Backend.GPU -> CompiledModel.Options(Accelerator.GPU).apply {
                        // The GPU computes in fp16 unless told otherwise; an fp32 file keeps fp32.
                        if (sidecar.precision == "fp32") gpuOptions = CompiledModel.GpuOptions(precision = CompiledModel.GpuOptions.Precision.FP32)
                    }
                    Backend.CPU -> CompiledModel.Options(Accelerator.CPU).apply { cpuOptions = CompiledModel.CpuOptions(numThreads = threads) }
                }
                val start = SystemClock.elapsedRealtimeNanos()
                val model = try {
                    CompiledModel.create(context.assets, SrEngine.assetPath(sidecar), options, environment)
                } catch (e: Exception) {
                    if (plan.backend == Backend.CPU) throw e
                    throw BackendUnavailableException("the ${plan.backend} could not compile it (${e.message})")
                }
                val compileMs = (SystemClock.elapsedRealtimeNanos() - start) / 1e6
                try {
                    val input = model.createInputBuffer(sidecar.input.name)
                    val output = try {
                        model.createOutputBuffer(sidecar.output.name)
                    } catch (e: Throwable) {
                        input.close()
                        throw e
                    }
                    return CompiledEngine(environment, model, input, output, plan, compileMs)
                } catch (e: Throwable) {
                    model.close()
                    throw e
                }
            } catch (e: Throwable) {
                environment.close()
                throw e
            }
        }

        /** Why [plan]'s accelerator cannot take the file before compiling (null when it may). */
        private fun precheck(environment: Environment, plan: RunPlan): String? = when {
            plan.backend == Backend.GPU && plan.sidecar.delegateReady == false ->
                "the sidecar says the graph is not delegate-ready (${plan.sidecar.problems.joinToString("; ")})"
            // Without litert-gpu, a GPU driver or the NPU dispatch library a request would quietly
            // run on the CPU: ask first.
            plan.backend != Backend.CPU && Accelerator.valueOf(plan.backend.name) !in environment.getAvailableAccelerators() ->
                "this phone offers LiteRT no ${plan.backend} accelerator"
            else -> null
        }
    }
}

/** A resizable file on the CPU: the Interpreter resized to the plan's tile once, when the session opens. */
private class ResizedCpuEngine(
    private val interpreter: Interpreter,
    private val input: ByteBuffer,
    private val output: ByteBuffer,
    override val plan: RunPlan,
    override val compileMs: Double
) : SrEngine {
    private val floatOutput = plan.sidecar.output.dtype == DType.FLOAT32

    override fun run(tile: TensorData): TensorData {
        input.rewind()
        when (tile) {
            is TensorData.Floats -> input.asFloatBuffer().put(tile.values)
            is TensorData.Bytes -> input.put(tile.values)
        }
        input.rewind()
        output.rewind()
        interpreter.run(input, output)
        output.rewind()
        return if (floatOutput) {
            TensorData.Floats(FloatArray(output.capacity() / 4).also { output.asFloatBuffer().get(it) })
        } else {
            TensorData.Bytes(ByteArray(output.capacity()).also { output.get(it) })
        }
    }

    override fun close() = interpreter.close()

    companion object {
        fun open(context: Context, plan: RunPlan, threads: Int): SrEngine {
            val sidecar = plan.sidecar
            val start = SystemClock.elapsedRealtimeNanos()
            val file = context.assets.openFd(SrEngine.assetPath(sidecar)).use { fd ->
                FileInputStream(fd.fileDescriptor).channel.use { it.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength) }
            }
            val interpreter = Interpreter(file, Interpreter.Options().setNumThreads(threads))
            try {
                interpreter.resizeInput(0, intArrayOf(1, plan.tile.height, plan.tile.width, 3))
                interpreter.allocateTensors()
                val compileMs = (SystemClock.elapsedRealtimeNanos() - start) / 1e6
                val bytes = if (sidecar.input.dtype == DType.FLOAT32) 4 else 1
                val outBytes = if (sidecar.output.dtype == DType.FLOAT32) 4 else 1
                val input = ByteBuffer.allocateDirect(bytes * 3 * plan.tile.height * plan.tile.width).order(ByteOrder.nativeOrder())
                val output = ByteBuffer.allocateDirect(outBytes * 3 * sidecar.scale * plan.tile.height * sidecar.scale * plan.tile.width)
                    .order(ByteOrder.nativeOrder())
                return ResizedCpuEngine(interpreter, input, output, plan, compileMs)
            } catch (e: Throwable) {
                interpreter.close()
                throw e
            }
        }
    }
}
