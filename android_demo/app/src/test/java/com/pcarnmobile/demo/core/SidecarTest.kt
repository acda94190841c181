package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

@Suppress("UNCHECKED_CAST")
class SidecarTest {
    @Test
    fun readsAFloatFile() {
        val s = Fixtures.sidecar(Fixtures.FP32)
        assertEquals("pcarn_m_g4_x4_128x128_fp32.tflite", s.file)
        assertEquals(4, s.scale)
        assertEquals(Size(128, 128), s.tile)
        assertEquals(24, s.overlap)
        assertEquals("lr", s.input.name)
        assertEquals("sr", s.output.name)
        assertEquals(listOf(1, 512, 512, 3), s.output.shape)
        assertEquals(DType.FLOAT32, s.input.dtype)
        assertNull(s.input.quantization)
        assertEquals(true, s.delegateReady)
        assertNull(s.unusableReason())
        assertEquals("x4 fp32, 128x128 tiles", s.label())
    }

    @Test
    fun readsQuantizedInputAndOutput() {
        val int8 = Fixtures.sidecar(Fixtures.INT8)
        assertEquals(Quantization(0.003921568859368563, -128), int8.input.quantization)
        assertEquals(DType.INT8, int8.output.dtype)
        assertEquals("x4 int8, 128x128 tiles", int8.label())
        val uint8 = Fixtures.sidecar(Fixtures.UINT8_IO)
        assertEquals(Quantization(0.003921568859368563, 0), uint8.output.quantization)
        assertEquals("x4 int8 (uint8 I/O), 128x128 tiles", uint8.label())
        assertNull(uint8.unusableReason())
    }

    /** A resizable file runs (CPU, resized per photo) within its own tile area; a version 1 sidecar gets the default. */
    @Test
    fun readsAResizableFileAndItsTileArea() {
        val dyn = Fixtures.sidecar(Fixtures.DYNAMIC)
        assertNull(dyn.tile)
        assertNull(dyn.unusableReason())
        assertEquals(146_419L, dyn.maxTileArea)
        assertEquals("x2 fp32, any tile size", dyn.label())
        val v1 = Fixtures.edited(Fixtures.DYNAMIC) {
            it["schema_version"] = 1
            (it["tiling"] as MutableMap<String, Any?>).remove("max_tile_area")
        }
        assertEquals(TileShape.DEFAULT_MAX_TILE_AREA.toLong(), Sidecar.parse(v1, "v1.json").maxTileArea)
        assertNull(Fixtures.sidecar(Fixtures.FP32).maxTileArea)
    }

    @Test
    fun readsTheNpuSection() {
        val npu = Fixtures.sidecar(Fixtures.NPU_SM8650)
        assertEquals(NpuFacts("qualcomm", "SM8650", "pcarn_m_g4_x4_128x128_int8.tflite", 75, 75, 1), npu.npu)
        assertNull(npu.unusableReason())
        assertEquals("x4 int8, 128x128 tiles on the SM8650 NPU", npu.label())
        assertNull(Fixtures.sidecar(Fixtures.INT8).npu)
    }

    @Test
    fun saysWhyAFileCannotRun() {
        val npuDynamic = Fixtures.edited(Fixtures.NPU_SM8650) { (it["tiling"] as MutableMap<String, Any?>)["tile"] = null }
        assertTrue(Sidecar.parse(npuDynamic, "n.json").unusableReason()!!.startsWith("an NPU file with a dynamic input size"))
        val mismatch = Fixtures.edited(Fixtures.FP32) { (it["parity"] as MutableMap<String, Any?>)["verdict"] = "MISMATCH" }
        assertTrue(Sidecar.parse(mismatch, "m.json").unusableReason()!!.startsWith("parity verdict MISMATCH"))
        val half = Fixtures.edited(Fixtures.FP16) { (it["input"] as MutableMap<String, Any?>)["dtype"] = "float16" }
        assertTrue(Sidecar.parse(half, "h.json").unusableReason()!!.contains("float16"))
        val shape = Fixtures.edited(Fixtures.FP32) { (it["output"] as MutableMap<String, Any?>)["shape"] = listOf(1, 256, 256, 3) }
        assertTrue(Sidecar.parse(shape, "s.json").unusableReason()!!.startsWith("sr: shape"))
    }

    @Test
    fun contractBreachesNameTheFileAndKey() {
        assertBreach("x.json: 'tiling.overlap' is missing or not an integer", Fixtures.edited(Fixtures.FP32) { it.remove("tiling") })
        assertBreach(
            "x.json: 'input.quantization.zero_point' is missing or not an integer",
            Fixtures.edited(Fixtures.INT8) { ((it["input"] as MutableMap<String, Any?>)["quantization"] as MutableMap<String, Any?>).remove("zero_point") }
        )
        assertBreach("x.json: sidecar schema version 3; this app reads versions 1 and 2", Fixtures.edited(Fixtures.FP32) { it["schema_version"] = 3 })
        assertBreach(
            "x.json: 'tiling.max_tile_area' is missing or not an integer",
            Fixtures.edited(Fixtures.DYNAMIC) { (it["tiling"] as MutableMap<String, Any?>)["max_tile_area"] = "big" }
        )
        assertBreach("x.json: 'npu.soc' is missing or not a string", Fixtures.edited(Fixtures.NPU_SM8650) { (it["npu"] as MutableMap<String, Any?>).remove("soc") })
        assertBreach("x.json: not a JSON object", "[]")
    }

    private fun assertBreach(message: String, text: String) {
        try {
            Sidecar.parse(text, "x.json")
            fail("parsed: $message")
        } catch (e: SidecarException) {
            assertEquals(message, e.message)
        }
    }
}
