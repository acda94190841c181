package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class TileShapeTest {
    private val sizes = listOf(
        Pair(1, 1), Pair(1, 200), Pair(180, 320), Pair(333, 500), Pair(720, 1280), Pair(1080, 1920), Pair(3000, 4000)
    )

    /** The 720p-x4 frame of issue 24: 128x128 tiles compute 2.28x its pixels, the free shape exactly 1x. */
    @Test
    fun aFrameInFixedTilesAgainstItsOwnShape() {
        assertEquals(8L * 128 * 128, TileShape.computedPixels(180, 320, Size(128, 128), 24))
        assertEquals(Size(180, 320), TileShape.bestFree(180, 320, 24, TileShape.DEFAULT_MAX_TILE_AREA.toLong()))
        assertEquals(Size(192, 320), TileShape.bestFixed(180, 320, listOf(Size(128, 128), Size(256, 256), Size(192, 320)), 24))
    }

    /** The count is the one TilePlan runs, for every shape either rule picks. */
    @Test
    fun tilesAlongIsTilePlansCount() {
        for ((h, w) in sizes) for (area in listOf(128L * 128, 512L * 512)) {
            val s = TileShape.bestFree(h, w, 24, area)
            val plan = TilePlan.of(h, w, s, 24)
            assertEquals("${h}x$w in $s", TileShape.tilesAlong(h, s.height, 24) * TileShape.tilesAlong(w, s.width, 24), plan.tiles.size)
            assertEquals(TileShape.computedPixels(h, w, s, 24), plan.tiles.size.toLong() * s.height * s.width)
        }
    }

    /** The free shape stays within the area, never computes more than the square fixed tile that fits it, nor less than the image. */
    @Test
    fun theFreeShapeFitsTheAreaAndBeatsTheFixedTile() {
        for ((h, w) in sizes) for (side in listOf(64, 128, 512)) {
            val area = side.toLong() * side
            val s = TileShape.bestFree(h, w, 24, area)
            assertTrue("$s within $area", s.height.toLong() * s.width <= area)
            val free = TileShape.computedPixels(h, w, s, 24)
            assertTrue(free >= h.toLong() * w)
            assertTrue("${h}x$w: $free", free <= TileShape.computedPixels(h, w, Size(side, side), 24))
        }
    }

    @Test
    fun hugeImagesCountInLongs() {
        // 65,535 a side in 50x50 tiles: 25.3 G pixels computed, past Int's range.
        val s = TileShape.bestFree(65_535, 65_535, 24, 2_500)
        assertTrue(TileShape.computedPixels(65_535, 65_535, s, 24) > Int.MAX_VALUE)
    }

    @Test
    fun refusals() {
        for (attempt in listOf<() -> Unit>(
            { TileShape.bestFixed(100, 100, listOf(Size(48, 48)), 24) },
            { TileShape.bestFree(100, 100, 24, 48L * 48) },
            { TileShape.bestFree(0, 10, 24, 100) },
            { TileShape.tilesAlong(100, 48, 24) }
        )) {
            try {
                attempt()
                fail("accepted")
            } catch (e: IllegalArgumentException) {
                assertTrue(e.message.orEmpty().isNotEmpty())
            }
        }
        // A tile too small to step is fine where the image fits it whole.
        assertEquals(Size(40, 40), TileShape.bestFixed(40, 40, listOf(Size(40, 40)), 24))
    }
}
