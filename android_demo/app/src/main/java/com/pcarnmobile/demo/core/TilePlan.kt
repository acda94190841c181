package com.pcarnmobile.demo.core

/** Rows [top, bottom) and columns [left, right). */
data class Region(val top: Int, val left: Int, val bottom: Int, val right: Int) {
    val height: Int get() = bottom - top
    val width: Int get() = right - left
}

/**
 * One tile: its origin ([y], [x]) in the padded image and [kept], the part whose pixels have full
 * context (all but `overlap` pixels on every side that touches another tile), same coordinates.
 */
data class Tile(val y: Int, val x: Int, val kept: Region)

/** Where a tile's output goes: [from] in the tile's output is copied to ([toTop], [toLeft]) of the image's output. */
data class Placement(val from: Region, val toTop: Int, val toLeft: Int)

/**
 * The tile plan of `pcarn_mobile.tiling.upscale_array` for a file with a fixed input size, tile
 * for tile (tests/test_android_demo.py runs both): an image smaller than the tile is edge-padded
 * bottom/right up to it; per axis of length L, tile T, overlap O the origins are
 * `0, T-2O, 2(T-2O), ...` below `L-T`, plus `L-T`. Kept regions cover the image; the flush
 * last tile's may start inside its neighbour's, where both hold the same pixels (full context),
 * and tiles are written in order so the later one wins, as in Python. The stitched output is the
 * untiled one: no blending, no seams.
 */
class TilePlan private constructor(
    val height: Int,
    val width: Int,
    val tile: Size,
    val overlap: Int,
    val tiles: List<Tile>
) {
    /** The part of [t] inside the image, where its pixels come from (the rest is edge padding). */
    fun source(t: Tile): Region = Region(t.y, t.x, minOf(t.y + tile.height, height), minOf(t.x + tile.width, width))

    /** [t]'s kept region inside the image (the output is cropped to the image), in output pixels at x[scale]. */
    fun placement(t: Tile, scale: Int): Placement {
        val bottom = minOf(t.kept.bottom, height)
        val right = minOf(t.kept.right, width)
        val from = Region(scale * (t.kept.top - t.y), scale * (t.kept.left - t.x), scale * (bottom - t.y), scale * (right - t.x))
        return Placement(from, scale * t.kept.top, scale * t.kept.left)
    }

    companion object {
        /** Throws [IllegalArgumentException] where Python raises ValueError: a tile side not above twice the overlap. */
        fun of(height: Int, width: Int, tile: Size, overlap: Int): TilePlan {
            require(height > 0 && width > 0) { "empty image ${height}x$width" }
            // Python pads first, then plans (and checks) on the padded size.
            val h = maxOf(height, tile.height)
            val w = maxOf(width, tile.width)
            // Per axis, as TileShape (tile_shape.py) chooses: a side steps only along its own axis, so a
            // 1x200 tile is fine for a 1x200 photo. (upscale_array checks both sides against both
            // axes; the two agree on every square tile and wherever both sides exceed 2*overlap.)
            for ((side, length) in listOf(Pair(tile.height, h), Pair(tile.width, w))) {
                require(side > 2 * overlap || length <= side) {
                    "tile side $side must exceed twice the overlap ($overlap); use a larger tile"
                }
            }
            val tiles = ArrayList<Tile>()
            for (y in starts(h, tile.height, overlap)) {
                val (top, bottom) = kept(y, tile.height, h, overlap)
                for (x in starts(w, tile.width, overlap)) {
                    val (left, right) = kept(x, tile.width, w, overlap)
                    tiles.add(Tile(y, x, Region(top, left, bottom, right)))
                }
            }
            return TilePlan(height, width, tile, overlap, tiles)
        }

        /** `_starts`: origins along one axis, step `tile - 2*overlap`, the last flush with the end. */
        private fun starts(length: Int, tile: Int, overlap: Int): List<Int> {
            if (length <= tile) return listOf(0)
            val step = tile - 2 * overlap
            return (0 until length - tile step step).toList() + (length - tile)
        }

        /** `_kept`: all but `overlap` pixels on the sides that touch another tile. */
        private fun kept(start: Int, tile: Int, length: Int, overlap: Int): Pair<Int, Int> {
            val lo = if (start > 0) start + overlap else 0
            val hi = if (start + tile < length) start + tile - overlap else length
            return Pair(lo, hi)
        }

        /**
         * Edge padding (`np.pad(mode="edge")`) in place: [pixels] holds a [width]-wide tile whose
         * top-left [valid] region was read from the image; the rest repeats its last column and row.
         */
        fun padEdges(pixels: IntArray, width: Int, height: Int, valid: Size) {
            for (row in 0 until valid.height) {
                val last = pixels[row * width + valid.width - 1]
                for (col in valid.width until width) pixels[row * width + col] = last
            }
            for (row in valid.height until height) {
                System.arraycopy(pixels, (valid.height - 1) * width, pixels, row * width, width)
            }
        }
    }
}
