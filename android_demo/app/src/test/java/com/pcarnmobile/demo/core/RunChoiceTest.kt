package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

@Suppress("UNCHECKED_CAST")
class RunChoiceTest {
    /** [name] re-shaped to a [side]x[side] static file, or resizable (side null), as `convert --android-demo` names them. */
    private fun shaped(name: String, side: Int?): Sidecar {
        val text = Fixtures.edited(name) { doc ->
            val stem = if (side == null) "dyn" else "${side}x$side"
            doc["file"] = (doc["file"] as String).replace("128x128", stem)
            val tiling = doc["tiling"] as MutableMap<String, Any?>
            tiling["tile"] = side?.let { listOf(it, it) }
            tiling["max_tile_area"] = if (side == null) 100_000 else null
            val scale = (doc["scale"] as Long).toInt()
            (doc["input"] as MutableMap<String, Any?>)["shape"] = listOf(1, side ?: -1, side ?: -1, 3)
            (doc["output"] as MutableMap<String, Any?>)["shape"] = side?.let { listOf(1, scale * it, scale * it, 3) } ?: listOf(1, -1, -1, 3)
        }
        return Sidecar.parse(text, name).also { assertNull(it.unusableReason()) }
    }

    private val fp32 = listOf(128, 184, 304).map { shaped(Fixtures.FP32, it) }
    private val fp32Resizable = shaped(Fixtures.FP32, null)
    private val int8 = Fixtures.sidecar(Fixtures.INT8)
    private val int8Npu = Fixtures.sidecar(Fixtures.NPU_SM8650)

    @Test
    fun theCatalogueGroupsFilesThatDifferOnlyInShape() {
        val groups = ModelGroup.of(fp32 + int8 + fp32Resizable + int8Npu + Fixtures.sidecar(Fixtures.UINT8_IO))
        assertEquals(listOf(4, 2, 1), groups.map { it.files.size })
        assertEquals("x4 fp32, 128x128 / 184x184 / 304x304 / any size", groups[0].label())
        assertEquals("x4 int8, 128x128, NPU: SM8650", groups[1].label())
    }

    /** The 720p-x4 frame (320x180 in): the CPU resizes the file to the frame, the GPU takes the 184 band. */
    @Test
    fun eachBackendGetsTheFewestPixelsItAllows() {
        val group = ModelGroup(fp32 + fp32Resizable)
        val cpu = group.plan(180, 320, Backend.CPU, null)
        assertEquals(RunPlan(fp32Resizable, Size(180, 320), Backend.CPU, resize = true, note = null), cpu)
        val gpu = group.plan(180, 320, Backend.GPU, null)
        assertEquals(RunPlan(fp32[1], Size(184, 184), Backend.GPU, resize = false, note = null), gpu)
        // A 12 MP photo on the GPU: the largest shape; static files only on the CPU too.
        assertEquals(Size(304, 304), ModelGroup(fp32).plan(3000, 4000, Backend.GPU, null).tile)
        assertEquals(Size(304, 304), ModelGroup(fp32).plan(3000, 4000, Backend.CPU, null).tile)
        // Within the sidecar's own area.
        val big = group.plan(3000, 4000, Backend.CPU, null).tile
        assertTrue(big.height.toLong() * big.width <= 100_000)
    }

    @Test
    fun aResizableOnlyModelAsksForTheGpuAndRunsOnTheCpuSayingWhy() {
        val plan = ModelGroup(listOf(fp32Resizable)).plan(180, 320, Backend.GPU, null)
        assertEquals(Backend.CPU, plan.backend)
        assertEquals("a resizable file runs on the CPU only (a GPU session keeps one fixed shape); running on the CPU", plan.note)
    }

    @Test
    fun theNpuFileIsPickedBySocCaseInsensitively() {
        val group = ModelGroup(listOf(int8, int8Npu))
        val plan = group.plan(180, 320, Backend.NPU, "sm8650")
        assertEquals(RunPlan(int8Npu, Size(128, 128), Backend.NPU, resize = false, note = null), plan)
        assertEquals("pcarn_m_g4_x4_128x128_int8_qualcomm_sm8650.tflite", NpuChoice.fileName(int8.file, "SM8650"))
        assertEquals(int8Npu.file, NpuChoice.fileName(int8Npu.npu!!.sourceFile, int8Npu.npu.soc))
    }

    @Test
    fun anyOtherPhoneFallsBackToThePlainFileAndSaysWhy() {
        val group = ModelGroup(listOf(int8, int8Npu))
        val other = group.plan(180, 320, Backend.NPU, "SM8750")
        assertEquals(RunPlan(int8, Size(128, 128), Backend.GPU, resize = false,
            note = "no NPU file for this phone's SoC SM8750 (installed: SM8650); running the plain file on the GPU"), other)
        val old = group.plan(180, 320, Backend.NPU, null)
        assertEquals("this phone's SoC is unknown (Android 12 or later names it); running the plain file on the GPU", old.note)
        val none = ModelGroup(listOf(int8)).plan(180, 320, Backend.NPU, "SM8650")
        assertTrue(none.note!!.startsWith("no NPU file is installed for this model"))
        val failed = group.afterNpuFailure(180, 320, "dispatch library missing")
        assertEquals(int8, failed.sidecar)
        assertEquals("the NPU could not start (dispatch library missing); running the plain file on the GPU", failed.note)
    }

    @Test(expected = IllegalArgumentException::class)
    fun filesOfDifferentModelsAreNotOneGroup() {
        ModelGroup(listOf(int8, fp32[0]))
    }
}
