package com.pcarnmobile.demo.core

/**
 * What tests/test_android_demo.py compares with the Python package: reads one JSON request on
 * stdin and prints one JSON answer computed by the core.
 *
 * - `plans`: `{height, width, tile: [H, W], overlap, scale}` -> `{origins: [[y, x]...], source: [...]}`,
 *   where `source[i]` of output pixel i is `k * 65536 + j`: tile k's output pixel j (row-major) was
 *   copied there; or `{error}` when the plan is refused.
 * - `codecs`: `{sidecar, floats}` -> `{encoded, decoded}`: the input tensor for 256 test pixels
 *   (pixel i = RGB(i, 255 - i, 37 i mod 256)), and the 8-bit value of each output element: every
 *   stored byte for quantized outputs, the given floats for float outputs.
 * - `latency`: `{sidecar, samples}` -> a latency result document with one result from those samples.
 */
@Suppress("UNCHECKED_CAST")
fun main(args: Array<String>) {
    val request = Json.parse(generateSequence(::readLine).joinToString("\n")) as Map<String, Any?>
    val answer = linkedMapOf<String, Any?>(
        "plans" to (request["plans"] as List<Map<String, Any?>>).map(::plan),
        "codecs" to (request["codecs"] as List<Map<String, Any?>>).map(::codec),
        "latency" to latency(request["latency"] as Map<String, Any?>)
    )
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
