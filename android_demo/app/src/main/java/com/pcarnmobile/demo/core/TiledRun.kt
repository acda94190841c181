package com.pcarnmobile.demo.core

/**
 * One photo's tiled run, the loop the phone runs (inference/TiledUpscaler.kt supplies a Bitmap and
 * LiteRT), in plain Kotlin so the JVM runs the very same loop: benchmarks/appcores/kotlin.py stitches
 * a file's tile outputs through it, and `upscale --tflite`'s bytes are compared with what it writes.
 *
 * Per tile, in [TilePlan] order: [read] fills the tile's pixels from the image's [TilePlan.source]
 * region (row stride = the tile's width), the rest is edge-padded; [PixelCodec.encode] makes the input
 * tensor; [infer] runs tile `k`; [PixelCodec.decode] turns the kept region of its output into opaque
 * ARGB; [write] places them. Only one tile's buffers exist at a time, whatever the photo's size.
 * Inline, so the app's lambdas may suspend (cancel between tiles) and time the inference.
 */
inline fun runTiles(
    plan: TilePlan,
    scale: Int,
    codec: PixelCodec,
    read: (from: Region, into: IntArray) -> Unit,
    infer: (k: Int, input: TensorData) -> TensorData,
    write: (to: Placement, argb: IntArray) -> Unit
) {
    val tile = plan.tile
    val pixels = IntArray(tile.height * tile.width)
    val input = codec.newInput(pixels.size)
    val kept = IntArray(scale * tile.height * scale * tile.width)
    plan.tiles.forEachIndexed { k, t ->
        val src = plan.source(t)
        read(src, pixels)
        TilePlan.padEdges(pixels, tile.width, tile.height, Size(src.height, src.width))
        codec.encode(pixels, input)
        val result = infer(k, input)
        val place = plan.placement(t, scale)
        codec.decode(result, scale * tile.width, place.from, kept)
        write(place, kept)
    }
}
