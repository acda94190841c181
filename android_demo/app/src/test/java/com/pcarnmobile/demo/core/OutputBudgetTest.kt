package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class OutputBudgetTest {
    @Test
    fun aHugePhotoAtX4IsRefusedWithWhatWouldFit() {
        assertEquals(
            "8000x6000 at x4 would be 32000x24000 (768 MP, 2.9 GiB as a bitmap); the limit now is 64 MP: " +
                "use a photo of at most 2309x1732, or a smaller scale",
            OutputBudget.refusal(8000, 6000, 4, OutputBudget.MAX_OUTPUT_PIXELS)
        )
        assertNull(OutputBudget.refusal(2309, 1732, 4, OutputBudget.MAX_OUTPUT_PIXELS))
    }

    @Test
    fun aTwelveMegapixelPhotoAtX2Fits() {
        assertNull(OutputBudget.refusal(4000, 3000, 2, OutputBudget.MAX_OUTPUT_PIXELS))
    }

    @Test
    fun freeMemoryLowersTheLimit() {
        assertEquals(OutputBudget.MAX_OUTPUT_PIXELS, OutputBudget.maxOutputPixels(8L shl 30))
        assertEquals(25_000_000L, OutputBudget.maxOutputPixels(300_000_000L))
    }

    @Test
    fun thePreviewIsACentredOneToOneCrop() {
        assertEquals(Region(1244, 1744, 1500, 2000), OutputBudget.previewRegion(3744, 2744, 4, 1024))
        assertEquals(Region(0, 0, 10, 20), OutputBudget.previewRegion(20, 10, 4, 1024))
    }
}
