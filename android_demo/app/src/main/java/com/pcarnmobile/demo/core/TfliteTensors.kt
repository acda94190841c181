package com.pcarnmobile.demo.core

import java.nio.ByteBuffer
import java.nio.ByteOrder

/** One input or output tensor as a `.tflite` file declares it (dynamic dimensions are -1). */
data class FileTensor(val name: String, val dtype: DType?, val shape: List<Int>, val quantization: Quantization?)

/**
 * The first subgraph's input and output tensors, read from the model file's own flatbuffer
 * (schema.fbs: Model.subgraphs, SubGraph.tensors/inputs/outputs, Tensor.shape/type/name/
 * quantization/shape_signature). Why not LiteRT: its Kotlin `TensorType` has no uint8 element type
 * and no quantization, so a file with uint8 I/O or other scales than its sidecar's would pass a
 * check made through it and decode to garbage pixels. Reading the file costs a few microseconds
 * and needs no native code, so the JVM tests it.
 */
object TfliteTensors {
    /** Inputs and outputs of [file] (the whole `.tflite`); [IllegalArgumentException] when it is not one. */
    fun read(file: ByteBuffer): Pair<List<FileTensor>, List<FileTensor>> {
        val b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN)
        require(b.limit() >= 8 && String(ByteArray(4) { b.get(4 + it) }, Charsets.US_ASCII) == "TFL3") { "not a TFLite file (no TFL3 identifier)" }
        try {
            val model = b.getInt(0)
            val subgraphs = vector(b, field(b, model, 2)) ?: throw IllegalArgumentException("a TFLite file without subgraphs")
            val graph = table(b, subgraphs.first)
            val tensors = vector(b, field(b, graph, 0)) ?: throw IllegalArgumentException("a TFLite subgraph without tensors")
            fun pick(slot: Int): List<FileTensor> {
                val (start, count) = vector(b, field(b, graph, slot)) ?: return emptyList()
                return (0 until count).map { i ->
                    val index = b.getInt(start + 4 * i)
                    require(index in 0 until tensors.second) { "tensor index $index out of range" }
                    tensor(b, table(b, tensors.first + 4 * index))
                }
            }
            return Pair(pick(1), pick(2))
        } catch (e: IndexOutOfBoundsException) {
            throw IllegalArgumentException("a truncated or corrupt TFLite file")
        }
    }

    private fun tensor(b: ByteBuffer, t: Int): FileTensor {
        val shape = ints(b, field(b, t, 7)) ?: ints(b, field(b, t, 0)) ?: emptyList()
        val typeAt = field(b, t, 1)
        val type = if (typeAt == 0) 0 else b.get(typeAt).toInt()
        val name = field(b, t, 3).let { if (it == 0) "" else string(b, it + b.getInt(it)) }
        val q = field(b, t, 4).let { if (it == 0) null else quantization(b, it + b.getInt(it)) }
        return FileTensor(name, TYPES[type], shape, q)
    }

    private fun quantization(b: ByteBuffer, q: Int): Quantization? {
        val (scales, n) = vector(b, field(b, q, 2)) ?: return null
        if (n == 0) return null
        val zero = vector(b, field(b, q, 3))?.takeIf { it.second > 0 }?.let { b.getLong(it.first) } ?: 0L
        return Quantization(b.getFloat(scales).toDouble(), zero.toInt())
    }

    /** TFLite TensorType codes the app knows. */
    private val TYPES = mapOf(0 to DType.FLOAT32, 1 to DType.FLOAT16, 3 to DType.UINT8, 9 to DType.INT8)

    /** Absolute position of field [slot] of the table at [t], 0 when absent. */
    private fun field(b: ByteBuffer, t: Int, slot: Int): Int {
        val vtable = t - b.getInt(t)
        val entry = 4 + 2 * slot
        if (entry >= (b.getShort(vtable).toInt() and 0xFFFF)) return 0
        val offset = b.getShort(vtable + entry).toInt() and 0xFFFF
        return if (offset == 0) 0 else t + offset
    }

    private fun table(b: ByteBuffer, at: Int): Int = at + b.getInt(at)

    /** (first element, count) of the vector the offset field at [at] points to; null when absent. */
    private fun vector(b: ByteBuffer, at: Int): Pair<Int, Int>? {
        if (at == 0) return null
        val v = at + b.getInt(at)
        return Pair(v + 4, b.getInt(v))
    }

    private fun ints(b: ByteBuffer, at: Int): List<Int>? =
        vector(b, at)?.takeIf { it.second > 0 }?.let { (start, n) -> List(n) { b.getInt(start + 4 * it) } }

    private fun string(b: ByteBuffer, s: Int): String = String(ByteArray(b.getInt(s)) { b.get(s + 4 + it) }, Charsets.UTF_8)
}

/**
 * Whether the file is the one its sidecar describes: one input and one output, each with the
 * sidecar's name, element type, shape and quantization (scale compared as the float32 the file
 * stores). A mismatch is one line for the screen, and the model is not run: decoding int8 output
 * with another scale, or uint8 bytes as int8, gives plausible-looking garbage pixels.
 */
object TensorCheck {
    fun mismatch(sidecar: Sidecar, inputs: List<FileTensor>, outputs: List<FileTensor>): String? {
        if (inputs.size != 1 || outputs.size != 1) {
            return "${sidecar.file}: the file has ${inputs.size} inputs and ${outputs.size} outputs; the sidecar describes one of each"
        }
        val problem = problem("input", sidecar.input, inputs[0]) ?: problem("output", sidecar.output, outputs[0]) ?: return null
        return "${sidecar.file} does not match its sidecar: $problem"
    }

    private fun problem(which: String, spec: TensorSpec, file: FileTensor): String? = when {
        file.name != spec.name -> "$which tensor '${file.name}', the sidecar says '${spec.name}'"
        file.dtype != spec.dtype -> "$which '${spec.name}' is ${file.dtype?.key ?: "of an unknown type"}, the sidecar says ${spec.dtype.key}"
        file.shape != spec.shape -> "$which '${spec.name}' has shape ${file.shape}, the sidecar says ${spec.shape}"
        !sameQuantization(spec.quantization, file.quantization) ->
            "$which '${spec.name}' is quantized ${describe(file.quantization)}, the sidecar says ${describe(spec.quantization)}"
        else -> null
    }

    private fun sameQuantization(a: Quantization?, b: Quantization?): Boolean =
        (a == null && b == null) || (a != null && b != null && a.scale.toFloat() == b.scale.toFloat() && a.zeroPoint == b.zeroPoint)

    private fun describe(q: Quantization?): String = q?.let { "scale ${it.scale.toFloat()} zero point ${it.zeroPoint}" } ?: "not at all"
}
