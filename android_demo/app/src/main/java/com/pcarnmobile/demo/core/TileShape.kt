package com.pcarnmobile.demo.core

/**
 * Which tile shape a photo runs at: the one that computes the fewest pixels the model file allows.
 *
 * The same integer arithmetic as `pcarn_mobile/tile_shape.py`, the one specification of the choice
 * (docs/tile-plan.md); tests/test_android_demo.py checks both on the same cases. Why: a 128x128
 * tile with the 24-px overlap that keeps tiling exact computes 2.28x the pixels of a 320x180 frame,
 * a tile cut to the photo about 1x. Given the shape the tiles are [TilePlan]'s, unchanged.
 *
 * - fixed shapes (a model shipped in several static input shapes; a GPU or NPU session built for
 *   one shape): [bestFixed], the candidate computing the fewest pixels (ties: fewer tiles, then
 *   list order);
 * - a resizable CPU model: [bestFree], per axis of length L in n tiles the smallest covering side
 *   `ceil((L + 2*overlap*(n-1)) / n)`, the pair computing the fewest pixels within `maxArea`.
 *
 * Products are Long: a 65,535-px side times a tile side overflows Int.
 */
object TileShape {
    /**
     * `tiling.max_tile_area` for resizable files whose sidecar lacks it (written before schema
     * version 2): `pcarn_mobile.tile_shape.DEFAULT_MAX_TILE_AREA`, the smallest area of any scale
     * and precision (the suite compares the two literals).
     */
    const val DEFAULT_MAX_TILE_AREA = 105_961

    /** Tiles of side [tile] along an axis of [length]: `upscale_array`'s count (1 if it fits, edge-padded). */
    fun tilesAlong(length: Int, tile: Int, overlap: Int): Int {
        if (length <= tile) return 1
        val step = tile - 2 * overlap
        require(step > 0) { "tile side $tile must exceed twice the overlap ($overlap); use a larger tile" }
        return ceilDiv((length - tile).toLong(), step.toLong()).toInt() + 1
    }

    /** LR pixels the network computes for a [height]x[width] image in tiles of [shape]: tiles times tile area. */
    fun computedPixels(height: Int, width: Int, shape: Size, overlap: Int): Long =
        tilesAlong(height, shape.height, overlap).toLong() * tilesAlong(width, shape.width, overlap) *
            shape.height * shape.width

    /**
     * The candidate whose plan computes the fewest pixels (ties: fewer tiles, then list order). A
     * candidate whose side cannot tile this image is skipped; none left throws [IllegalArgumentException].
     */
    fun bestFixed(height: Int, width: Int, shapes: List<Size>, overlap: Int): Size {
        var best: Size? = null
        var bestComputed = 0L
        var bestTiles = 0L
        for (s in shapes) {
            if ((height > s.height && s.height <= 2 * overlap) || (width > s.width && s.width <= 2 * overlap)) continue
            val computed = computedPixels(height, width, s, overlap)
            val tiles = tilesAlong(height, s.height, overlap).toLong() * tilesAlong(width, s.width, overlap)
            if (best == null || computed < bestComputed || (computed == bestComputed && tiles < bestTiles)) {
                best = s
                bestComputed = computed
                bestTiles = tiles
            }
        }
        return best ?: throw IllegalArgumentException(
            "no input shape of ${shapes.joinToString(", ", "[", "]") { "(${it.height}, ${it.width})" }} " +
                "can tile a ${height}x$width image with overlap $overlap"
        )
    }

    /** The smallest tile side that covers [length] in [n] tiles overlapping by `2*overlap`. */
    fun side(length: Int, n: Int, overlap: Int): Int =
        if (n == 1) length else ceilDiv(length.toLong() + 2L * overlap * (n - 1), n.toLong()).toInt()

    /** The fewest tiles along [length] whose side is at most [cap]; null if no side that small can tile. */
    fun fewestTiles(length: Int, cap: Long, overlap: Int): Int? = when {
        length <= cap -> 1
        cap <= 2L * overlap -> null
        else -> ceilDiv(length.toLong() - 2 * overlap, cap - 2 * overlap).toInt()
    }

    /** The tile shape of at most [maxArea] LR pixels that computes the fewest pixels for this image. */
    fun bestFree(height: Int, width: Int, overlap: Int, maxArea: Long): Size {
        require(height > 0 && width > 0 && maxArea > 0) {
            "no tile plan for a ${height}x$width image within $maxArea pixels"
        }
        var best: Size? = null
        var bestKey = LongArray(3)  // computed, tiles, n_y
        for (ny in 1..height) {
            val th = side(height, ny, overlap)
            if (ny > 1 && (th <= 2 * overlap || th >= height)) continue
            if (th > maxArea) continue
            val nx = fewestTiles(width, maxArea / th, overlap) ?: continue
            val tw = side(width, nx, overlap)
            val key = longArrayOf(ny.toLong() * th * nx * tw, ny.toLong() * nx, ny.toLong())
            if (best == null || less(key, bestKey, Size(th, tw), best)) {
                best = Size(th, tw)
                bestKey = key
            }
            // Every later n_y computes more rows than the best plan's whole area.
            if ((height + 2L * overlap * (ny - 1)) * width > bestKey[0]) break
        }
        return best ?: throw IllegalArgumentException(
            "no tile of at most $maxArea pixels can tile a ${height}x$width image with overlap $overlap"
        )
    }

    /** Python's tuple order on (computed, tiles, n_y, th, tw). */
    private fun less(a: LongArray, b: LongArray, sa: Size, sb: Size): Boolean {
        for (i in a.indices) if (a[i] != b[i]) return a[i] < b[i]
        return if (sa.height != sb.height) sa.height < sb.height else sa.width < sb.width
    }

    private fun ceilDiv(a: Long, b: Long): Long = -Math.floorDiv(-a, b)
}
