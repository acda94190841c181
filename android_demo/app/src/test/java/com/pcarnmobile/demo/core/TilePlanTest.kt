package com.pcarnmobile.demo.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

class TilePlanTest {
    private val sizes = listOf(
        Pair(1, 1), Pair(1, 200), Pair(200, 1), Pair(40, 50), Pair(64, 64), Pair(65, 64),
        Pair(100, 130), Pair(112, 144), Pair(50, 300), Pair(257, 191)
    )

    @Test
    fun keptRegionsCoverTheOutput() {
        for (tile in listOf(Size(64, 64), Size(49, 80))) {
            for ((h, w) in sizes) {
                val plan = TilePlan.of(h, w, tile, 24)
                val scale = 3
                val hits = IntArray(scale * h * scale * w)
                for (t in plan.tiles) {
                    val p = plan.placement(t, scale)
                    assertTrue(p.from.top >= 0 && p.from.left >= 0)
                    assertTrue(p.from.bottom <= scale * tile.height && p.from.right <= scale * tile.width)
                    for (row in 0 until p.from.height) for (col in 0 until p.from.width) {
                        hits[(p.toTop + row) * scale * w + p.toLeft + col]++
                    }
                }
                assertTrue("${h}x$w tile $tile", hits.all { it >= 1 })
            }
        }
    }

    @Test
    fun tiledEqualsUntiledWhenTheOverlapCoversTheReceptiveField() {
        // A stand-in network: 3x3 box sum with zero padding (receptive radius 1), then nearest x2.
        val h = 37
        val w = 53
        val image = IntArray(h * w) { (it * 7919) % 251 }
        val whole = model(image, w, h)
        val plan = TilePlan.of(h, w, Size(16, 12), 2)
        val stitched = IntArray(whole.size)
        for (t in plan.tiles) {
            val src = plan.source(t)
            val tileIn = IntArray(16 * 12) { i -> image[(t.y + i / 12) * w + t.x + i % 12] }
            assertEquals(Region(t.y, t.x, t.y + 16, t.x + 12), src)
            val out = model(tileIn, 12, 16)
            val p = plan.placement(t, 2)
            for (row in 0 until p.from.height) for (col in 0 until p.from.width) {
                stitched[(p.toTop + row) * 2 * w + p.toLeft + col] = out[(p.from.top + row) * 24 + p.from.left + col]
            }
        }
        assertArrayEquals(whole, stitched)
    }

    @Test
    fun smallImagesAreOneEdgePaddedTile() {
        val plan = TilePlan.of(1, 1, Size(64, 64), 24)
        assertEquals(listOf(Tile(0, 0, Region(0, 0, 64, 64))), plan.tiles)
        assertEquals(Region(0, 0, 1, 1), plan.source(plan.tiles[0]))
        assertEquals(Placement(Region(0, 0, 4, 4), 0, 0), plan.placement(plan.tiles[0], 4))
    }

    @Test
    fun originsStepByTileMinusTwiceTheOverlapAndEndFlush() {
        // The flush last tile's kept region starts inside its neighbour's (60 < 72): both hold the
        // same pixels there, and the later one is written, as in Python.
        val plan = TilePlan.of(64, 100, Size(64, 64), 24)
        assertEquals(listOf(0, 16, 32, 36), plan.tiles.map { it.x })
        assertEquals(listOf(Region(0, 0, 64, 40), Region(0, 40, 64, 56), Region(0, 56, 64, 72), Region(0, 60, 64, 100)), plan.tiles.map { it.kept })
    }

    @Test(expected = IllegalArgumentException::class)
    fun aTileNotAboveTwiceTheOverlapIsRefused() {
        TilePlan.of(100, 100, Size(48, 48), 24)
    }

    @Test
    fun padEdgesRepeatsTheLastColumnAndRow() {
        val pixels = intArrayOf(1, 2, 0, 3, 4, 0, 0, 0, 0)
        TilePlan.padEdges(pixels, 3, 3, Size(2, 2))
        assertArrayEquals(intArrayOf(1, 2, 2, 3, 4, 4, 3, 4, 4), pixels)
    }

    private fun model(pixels: IntArray, w: Int, h: Int): IntArray {
        val out = IntArray(4 * w * h)
        for (y in 0 until 2 * h) for (x in 0 until 2 * w) {
            var sum = 0
            for (dy in -1..1) for (dx in -1..1) {
                val yy = y / 2 + dy
                val xx = x / 2 + dx
                if (yy in 0 until h && xx in 0 until w) sum += pixels[yy * w + xx]
            }
            out[y * 2 * w + x] = sum
        }
        return out
    }
}
