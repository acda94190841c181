package com.pcarnmobile.demo.core

import java.io.BufferedOutputStream
import java.io.File
import java.io.FileOutputStream
import java.io.RandomAccessFile
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

/**
 * The core's command line on this machine: reads one JSON request on stdin and prints one JSON
 * answer computed by the core, one entry per section the request has. tests/test_android_demo.py
 * compares the answers with the Python package; benchmarks/appcores/kotlin.py asks its questions here.
 *
 * - `plans`: `{height, width, tile: [H, W], overlap, scale}` -> `{origins: [[y, x]...], source: [...]}`,
 *   where `source[i]` of output pixel i is `k * 65536 + j`: tile k's output pixel j (row-major) was
 *   copied there; or `{error}` when the plan is refused.
 * - `codecs`: `{sidecar, floats}` -> `{encoded, decoded}`: the input tensor for 256 test pixels
 *   (pixel i = RGB(i, 255 - i, 37 i mod 256)), and the 8-bit value of each output element: every
 *   stored byte for quantized outputs, the given floats for float outputs.
 * - `latency`: `{sidecar, samples}` -> a latency result document with one result from those samples.
 * - `shapes`: `{height, width, overlap}` plus `shapes: [[H, W]...]` (fixed) or `max_area` (resizable)
 *   -> `{shape: [H, W], tiles, computed}` from [TileShape], or `{error}`.
 * - `origins`: `{height, width, tile: [H, W], overlap}` -> `{origins: [[y, x]...]}` in run order, or `{error}`.
 * - `tensors`: `{file, sidecar}` -> `{inputs, outputs}` as [TfliteTensors] reads the file, and
 *   `mismatch`, [TensorCheck]'s line against the sidecar text (null when they agree), or `{error}`.
 * - `stitch`: [stitch]'s request -> `{tiles}`, the RGB bytes written to its `out` file.
 */
@Suppress("UNCHECKED_CAST")
fun main() {
    val request = Json.parse(generateSequence(::readLine).joinToString("\n")) as Map<String, Any?>
    val answer = linkedMapOf<String, Any?>()
    (request["plans"] as List<Map<String, Any?>>?)?.let { answer["plans"] = it.map(::plan) }
    (request["codecs"] as List<Map<String, Any?>>?)?.let { answer["codecs"] = it.map(::codec) }
    (request["latency"] as Map<String, Any?>?)?.let { answer["latency"] = latency(it) }
    (request["shapes"] as List<Map<String, Any?>>?)?.let { answer["shapes"] = it.map(::shape) }
    (request["origins"] as List<Map<String, Any?>>?)?.let { answer["origins"] = it.map(::origins) }
    (request["tensors"] as List<Map<String, Any?>>?)?.let { answer["tensors"] = it.map(::tensors) }
    (request["stitch"] as Map<String, Any?>?)?.let { answer["stitch"] = stitch(it) }
    println(Json.write(answer))
}

private fun int(value: Any?): Int = (value as Long).toInt()

@Suppress("UNCHECKED_CAST")
private fun plan(case: Map<String, Any?>): Map<String, Any?> {
    val h = int(case["height"])
    val w = int(case["width"])
    val s = int(case["scale"])
    val tile = (case["tile"] as List<Any?>).map(::int)
    val plan = try {
        TilePlan.of(h, w, Size(tile[0], tile[1]), int(case["overlap"]))
    } catch (e: IllegalArgumentException) {
        return mapOf("error" to e.message)
    }
    val source = IntArray(s * h * s * w) { -1 }
    plan.tiles.forEachIndexed { k, t ->
        val p = plan.placement(t, s)
        for (row in 0 until p.from.height) for (col in 0 until p.from.width) {
            source[(p.toTop + row) * s * w + p.toLeft + col] = k * 65536 + (p.from.top + row) * s * tile[1] + p.from.left + col
        }
    }
    return mapOf("origins" to plan.tiles.map { listOf(it.y, it.x) }, "source" to source.toList())
}

@Suppress("UNCHECKED_CAST")
private fun codec(case: Map<String, Any?>): Map<String, Any?> {
    val sidecar = Sidecar.parse(case["sidecar"] as String, "request")
    val codec = PixelCodec(sidecar.input, sidecar.output)
    val pixels = IntArray(256) { i -> (0xFF shl 24) or (i shl 16) or ((255 - i) shl 8) or (i * 37 and 0xFF) }
    val input = codec.newInput(256)
    codec.encode(pixels, input)
    val encoded = when (input) {
        is TensorData.Floats -> input.values.map { it.toDouble() }
        is TensorData.Bytes -> input.values.map { PixelCodec.storedValue(it, sidecar.input.dtype).toInt() }
    }
    val output = if (sidecar.output.dtype == DType.FLOAT32) {
        TensorData.Floats((case["floats"] as List<Any?>).map { (it as Number).toFloat() }.toFloatArray())
    } else {
        TensorData.Bytes(ByteArray(256) { it.toByte() })
    }
    val count = if (output is TensorData.Floats) output.values.size else 256
    return mapOf("encoded" to encoded, "decoded" to (0 until count).map { codec.channel(output, it) })
}

@Suppress("UNCHECKED_CAST")
private fun latency(case: Map<String, Any?>): Map<String, Any?> {
    val sidecar = Sidecar.parse(case["sidecar"] as String, "request")
    val stats = LatencyStats.of((case["samples"] as List<Any?>).map { (it as Number).toDouble() })
    val device = DeviceFacts(
        "Google Pixel 8", "Android 15 (API 35)", "Tensor G3", 9, 7.6,
        mapOf("ro.product.model" to "Pixel 8", "ro.soc.model" to "Tensor G3")
    )
    val measured = LatencyResult(
        sidecar, "0".repeat(64), sidecar.tile!!, "cpu", 4, 20, 3, stats, 120.5, 60.25,
        "not-applicable", emptyList(), null
    )
    val failed = measured.copy(backend = "gpu", threads = null, stats = null, delegation = "failed", error = "no GPU")
    return LatencyReport.document(0L, device, mapOf("litert" to "2.3.0"), listOf(measured, failed))
}

private fun tensors(case: Map<String, Any?>): Map<String, Any?> {
    val (inputs, outputs) = try {
        TfliteTensors.read(ByteBuffer.wrap(File(case["file"] as String).readBytes()))
    } catch (e: IllegalArgumentException) {
        return mapOf("error" to e.message)
    }
    fun json(t: FileTensor) = mapOf(
        "name" to t.name, "dtype" to t.dtype?.key, "shape" to t.shape,
        "quantization" to t.quantization?.let { mapOf("scale" to it.scale, "zero_point" to it.zeroPoint) }
    )
    val sidecar = Sidecar.parse(case["sidecar"] as String, "request")
    return mapOf("inputs" to inputs.map(::json), "outputs" to outputs.map(::json), "mismatch" to TensorCheck.mismatch(sidecar, inputs, outputs))
}

private fun origins(case: Map<String, Any?>): Map<String, Any?> {
    val tile = (case["tile"] as List<*>).map(::int)
    return try {
        val plan = TilePlan.of(int(case["height"]), int(case["width"]), Size(tile[0], tile[1]), int(case["overlap"]))
        mapOf("origins" to plan.tiles.map { listOf(it.y, it.x) })
    } catch (e: IllegalArgumentException) {
        mapOf("error" to e.message)
    }
}

@Suppress("UNCHECKED_CAST")
private fun shape(case: Map<String, Any?>): Map<String, Any?> {
    val h = int(case["height"])
    val w = int(case["width"])
    val overlap = int(case["overlap"])
    return try {
        val shapes = case["shapes"] as List<List<Any?>>?
        val s = if (shapes != null) {
            TileShape.bestFixed(h, w, shapes.map { Size(int(it[0]), int(it[1])) }, overlap)
        } else {
            TileShape.bestFree(h, w, overlap, case["max_area"] as Long)
        }
        val tiles = TileShape.tilesAlong(h, s.height, overlap).toLong() * TileShape.tilesAlong(w, s.width, overlap)
        mapOf("shape" to listOf(s.height, s.width), "tiles" to tiles, "computed" to TileShape.computedPixels(h, w, s, overlap))
    } catch (e: IllegalArgumentException) {
        mapOf("error" to e.message)
    }
}

/**
 * The 8-bit RGB output the app writes for a photo, from a model's tile outputs: `{height, width,
 * scale, tile: [H, W], overlap, dtype, quantization: {scale, zero_point} | null, tiles, out}`.
 * `tiles` is a file of every tile's output tensor in [TilePlan] order, NHWC, little-endian float32
 * or raw int8/uint8 bytes; [runTiles] (the app's loop) decodes and places them; `out` receives
 * `scale*height` rows of `scale*width` RGB pixels.
 */
@Suppress("UNCHECKED_CAST")
private fun stitch(case: Map<String, Any?>): Map<String, Any?> {
    val h = int(case["height"])
    val w = int(case["width"])
    val s = int(case["scale"])
    val tile = (case["tile"] as List<Any?>).map(::int)
    val dtype = DType.of(case["dtype"] as String) ?: throw IllegalArgumentException("unknown dtype ${case["dtype"]}")
    val q = (case["quantization"] as Map<String, Any?>?)?.let { Quantization((it["scale"] as Number).toDouble(), int(it["zero_point"])) }
    val shape = listOf(1, s * tile[0], s * tile[1], 3)
    val output = TensorSpec("output", shape, dtype, "NHWC", listOf(0.0, 1.0), q)
    val input = TensorSpec("input", listOf(1, tile[0], tile[1], 3), DType.FLOAT32, "NHWC", listOf(0.0, 1.0), null)
    val plan = TilePlan.of(h, w, Size(tile[0], tile[1]), int(case["overlap"]))
    val elements = shape.fold(1) { a, b -> a * b }
    val bytesPer = if (dtype == DType.FLOAT32) 4 else 1
    val argb = IntArray(s * h * s * w)
    RandomAccessFile(case["tiles"] as String, "r").use { file ->
        val channel = file.channel
        val expected = plan.tiles.size.toLong() * elements * bytesPer
        require(channel.size() == expected) { "${case["tiles"]}: ${channel.size()} bytes, expected $expected for ${plan.tiles.size} tiles" }
        runTiles(plan, s, PixelCodec(input, output), read = { _, _ -> }, infer = { k, _ ->
            val bytes = channel.map(FileChannel.MapMode.READ_ONLY, k.toLong() * elements * bytesPer, elements.toLong() * bytesPer)
            if (dtype == DType.FLOAT32) {
                val floats = FloatArray(elements)
                bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(floats)
                TensorData.Floats(floats)
            } else {
                TensorData.Bytes(ByteArray(elements).also { bytes.get(it) })
            }
        }) { to, kept ->
            for (row in 0 until to.from.height) {
                System.arraycopy(kept, row * to.from.width, argb, (to.toTop + row) * s * w + to.toLeft, to.from.width)
            }
        }
    }
    BufferedOutputStream(FileOutputStream(case["out"] as String)).use { out ->
        for (p in argb) {
            out.write(p shr 16 and 0xFF)
            out.write(p shr 8 and 0xFF)
            out.write(p and 0xFF)
        }
    }
    return mapOf("tiles" to plan.tiles.size)
}
