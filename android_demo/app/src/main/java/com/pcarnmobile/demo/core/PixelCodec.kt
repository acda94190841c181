package com.pcarnmobile.demo.core

/**
 * A tensor's contents on the host, in the form LiteRT's `TensorBuffer` moves them: floats for
 * float32 tensors, raw bytes for int8 and uint8 (`writeInt8`/`readInt8` copy bytes whatever
 * their signedness).
 */
sealed class TensorData {
    class Floats(val values: FloatArray) : TensorData()
    class Bytes(val values: ByteArray) : TensorData()

    companion object {
        fun allocate(dtype: DType, elements: Int): TensorData =
            if (dtype == DType.FLOAT32) Floats(FloatArray(elements)) else Bytes(ByteArray(elements))
    }
}

/**
 * ARGB pixels to the model's input tensor and its output tensor back to ARGB, NHWC and RGB,
 * with the float32 arithmetic the Python side uses, so a phone computes what `evaluate` and
 * `upscale` compute:
 *
 * - in: `x = c / 255` (float32); quantized `q = clip(round_half_even(x / scale + zero_point))`
 *   (`converters/tflite_runner._quantize`);
 * - out: quantized `x = (q - zero_point) * scale` (`_dequantize`); then
 *   `floor(clip(x, 0, 1) * 255 + 0.5)` (`pcarn_mobile.tiling.upscale_image`).
 *
 * Alpha is dropped on the way in (the network saw none) and written opaque on the way out.
 */
class PixelCodec(private val input: TensorSpec, private val output: TensorSpec) {
    private val inScale = input.quantization?.scale?.toFloat() ?: 1f
    private val inZero = input.quantization?.zeroPoint?.toFloat() ?: 0f
    private val outScale = output.quantization?.scale?.toFloat() ?: 1f
    private val outZero = output.quantization?.zeroPoint?.toFloat() ?: 0f
    private val inLow = if (input.dtype == DType.INT8) -128f else 0f
    private val inHigh = if (input.dtype == DType.INT8) 127f else 255f

    init {
        for (t in listOf(input, output)) problem(t)?.let { throw IllegalArgumentException(it) }
    }

    fun newInput(pixels: Int): TensorData = TensorData.allocate(input.dtype, pixels * 3)

    /** Writes [argb] (row-major pixels) into [into] as NHWC RGB. */
    fun encode(argb: IntArray, into: TensorData) {
        when (into) {
            is TensorData.Floats -> for (i in argb.indices) {
                val p = argb[i]
                into.values[3 * i] = (p shr 16 and 0xFF) / 255f
                into.values[3 * i + 1] = (p shr 8 and 0xFF) / 255f
                into.values[3 * i + 2] = (p and 0xFF) / 255f
            }
            is TensorData.Bytes -> for (i in argb.indices) {
                val p = argb[i]
                into.values[3 * i] = quantize(p shr 16 and 0xFF)
                into.values[3 * i + 1] = quantize(p shr 8 and 0xFF)
                into.values[3 * i + 2] = quantize(p and 0xFF)
            }
        }
    }

    /**
     * Opaque ARGB of [region] of an output tile [tileWidth] pixels wide, row-major into [into]
     * (at least `region.width * region.height` long).
     */
    fun decode(from: TensorData, tileWidth: Int, region: Region, into: IntArray) {
        var o = 0
        for (row in region.top until region.bottom) {
            for (col in region.left until region.right) {
                val i = 3 * (row * tileWidth + col)
                into[o++] = (0xFF shl 24) or (channel(from, i) shl 16) or (channel(from, i + 1) shl 8) or channel(from, i + 2)
            }
        }
    }

    /** One output element as an 8-bit channel value. */
    fun channel(from: TensorData, index: Int): Int = when (from) {
        is TensorData.Floats -> toPixel(from.values[index])
        is TensorData.Bytes -> toPixel((storedValue(from.values[index], output.dtype) - outZero) * outScale)
    }

    private fun quantize(c: Int): Byte {
        val q = Math.rint(((c / 255f) / inScale + inZero).toDouble()).toFloat()
        return (if (q < inLow) inLow else if (q > inHigh) inHigh else q).toInt().toByte()
    }

    companion object {
        /** Why the codec cannot handle [t] (null when it can). */
        fun problem(t: TensorSpec): String? = when {
            t.dtype == DType.FLOAT16 -> "${t.name}: float16 tensors are not supported (LiteRT's Kotlin buffers take float32, int8 or uint8)"
            t.dtype != DType.FLOAT32 && t.quantization == null -> "${t.name}: ${t.dtype.key} without quantization"
            else -> null
        }

        /** The integer a stored byte stands for: int8 is signed, uint8 is not. */
        fun storedValue(b: Byte, dtype: DType): Float = if (dtype == DType.UINT8) (b.toInt() and 0xFF).toFloat() else b.toFloat()

        /** `floor(clip(x, 0, 1) * 255 + 0.5)` in float32, as `upscale_image` does. */
        fun toPixel(x: Float): Int {
            val clipped = if (x < 0f) 0f else if (x > 1f) 1f else x
            return Math.floor((clipped * 255f + 0.5f).toDouble()).toInt()
        }
    }
}
