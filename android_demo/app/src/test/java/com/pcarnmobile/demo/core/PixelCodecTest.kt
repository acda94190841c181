package com.pcarnmobile.demo.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Test

class PixelCodecTest {
    private val pixels = IntArray(256) { i -> (0x7F shl 24) or (i shl 16) or ((255 - i) shl 8) or (i * 37 and 0xFF) }
    private val opaque = IntArray(256) { pixels[it] or (0xFF shl 24) }

    @Test
    fun uint8InputIsTheBitmapsBytes() {
        val s = Fixtures.sidecar(Fixtures.UINT8_IO)
        val data = PixelCodec(s.input, s.output).newInput(256) as TensorData.Bytes
        PixelCodec(s.input, s.output).encode(pixels, data)
        for (i in 0 until 256) {
            assertEquals(i, data.values[3 * i].toInt() and 0xFF)
            assertEquals(255 - i, data.values[3 * i + 1].toInt() and 0xFF)
        }
    }

    @Test
    fun int8InputIsShiftedBy128() {
        val s = Fixtures.sidecar(Fixtures.INT8)
        val codec = PixelCodec(s.input, s.output)
        val data = codec.newInput(256) as TensorData.Bytes
        codec.encode(pixels, data)
        for (i in 0 until 256) assertEquals(i - 128, data.values[3 * i].toInt())
    }

    @Test
    fun floatInputIsOver255() {
        val s = Fixtures.sidecar(Fixtures.FP32)
        val codec = PixelCodec(s.input, s.output)
        val data = codec.newInput(256) as TensorData.Floats
        codec.encode(pixels, data)
        for (i in 0 until 256) assertEquals(i / 255f, data.values[3 * i], 0f)
    }

    @Test
    fun anIdentityModelGivesThePixelsBackOpaque() {
        for (name in listOf(Fixtures.FP32, Fixtures.INT8, Fixtures.UINT8_IO)) {
            val s = Fixtures.sidecar(name)
            // The output spec read for the input: an identity "model" returns what it was given.
            val codec = PixelCodec(s.output, s.output)
            val data = codec.newInput(256)
            codec.encode(pixels, data)
            val back = IntArray(256)
            codec.decode(data, 16, Region(0, 0, 16, 16), back)
            assertArrayEquals(name, opaque, back)
        }
    }

    @Test
    fun floatOutputIsClampedAndRounded() {
        assertEquals(0, PixelCodec.toPixel(-0.3f))
        assertEquals(255, PixelCodec.toPixel(1.7f))
        assertEquals(1, PixelCodec.toPixel(0.5f / 255f))
        assertEquals(0, PixelCodec.toPixel(0.49f / 255f))
    }

    @Test
    fun decodeReadsOnlyTheRegion() {
        val s = Fixtures.sidecar(Fixtures.FP32)
        val codec = PixelCodec(s.input, s.output)
        val data = TensorData.Floats(FloatArray(4 * 3 * 3) { i -> (i / 3) / 255f })
        val out = IntArray(2)
        codec.decode(data, 4, Region(1, 2, 2, 4), out)
        assertArrayEquals(intArrayOf(0xFF060606.toInt(), 0xFF070707.toInt()), out)
    }

    @Test(expected = IllegalArgumentException::class)
    fun float16TensorsAreRefused() {
        val s = Fixtures.sidecar(Fixtures.FP32)
        PixelCodec(s.input.copy(dtype = DType.FLOAT16), s.output)
    }
}
