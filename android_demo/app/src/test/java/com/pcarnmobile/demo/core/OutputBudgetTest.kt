package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
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

    /** Within the pixel budget, but a side no JPEG encoder on Android takes. */
    @Test
    fun aJpegSideOverTheEncodersLimitIsRefused() {
        assertEquals(
            "17000x200 at x4 would be 68000x800: a JPEG side can be at most 65500 px; use a photo of at most 16375 px a side at x4",
            OutputBudget.refusal(17_000, 200, 4, OutputBudget.MAX_OUTPUT_PIXELS)
        )
        assertNull(OutputBudget.refusal(16_375, 200, 4, OutputBudget.MAX_OUTPUT_PIXELS))
        assertTrue(OutputBudget.refusal(100, 65_536, 1, Long.MAX_VALUE)!!.contains("JPEG side"))
        assertTrue(OutputBudget.refusal(100, 32_751, 2, Long.MAX_VALUE)!!.contains("JPEG side"))
        assertNull(OutputBudget.refusal(100, 32_750, 2, Long.MAX_VALUE))
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
