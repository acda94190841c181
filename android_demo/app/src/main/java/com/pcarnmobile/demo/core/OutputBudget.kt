package com.pcarnmobile.demo.core

import java.util.Locale

/**
 * How big an output the app attempts. Tiles bound the model's memory, but the output is one
 * ARGB_8888 bitmap (4 bytes a pixel) that must exist whole to be shown and saved: 8000x6000 at
 * x4 is 32000x24000, 768 MP, 2.9 GiB. Such a run is refused before any work, with the largest
 * input that would fit at that scale; nothing is silently downscaled.
 */
object OutputBudget {
    /** The hard cap whatever the phone: 64 MP, a 256 MB bitmap (e.g. 4000x3000 at x2 is 48 MP). */
    const val MAX_OUTPUT_PIXELS = 64_000_000L

    /** Of the memory free when a run starts, the share the output bitmap may take. */
    const val MEMORY_SHARE = 3L

    /** The output pixel budget given [availableBytes] (free memory now, or the heap limit before Android 8). */
    fun maxOutputPixels(availableBytes: Long): Long = minOf(MAX_OUTPUT_PIXELS, availableBytes / MEMORY_SHARE / 4)

    /**
     * The longest output side the app can save: the result is saved as a JPEG, whose header holds
     * 16-bit sides (65,535 at most), and libjpeg-turbo, Android's encoder, refuses any side over
     * its JPEG_MAX_DIMENSION, 65,500 (jmorecfg.h). A thin panorama passes the pixel budget
     * (17,000x200 at x4 is 54 MP) yet could never be saved, so it is refused before any work.
     */
    const val MAX_JPEG_SIDE = 65_500L

    /**
     * Null when a [width]x[height] photo (the header's dimensions, before decoding) at x[scale]
     * fits in [maxPixels] and in a JPEG; else why not and what would, in one line.
     */
    fun refusal(width: Int, height: Int, scale: Int, maxPixels: Long): String? {
        val outW = width.toLong() * scale
        val outH = height.toLong() * scale
        if (maxOf(outW, outH) > MAX_JPEG_SIDE) {
            return String.format(
                Locale.ROOT,
                "%dx%d at x%d would be %dx%d: a JPEG side can be at most %d px; use a photo of at most %d px a side at x%d",
                width, height, scale, outW, outH, MAX_JPEG_SIDE, MAX_JPEG_SIDE / scale, scale
            )
        }
        if (outW * outH <= maxPixels) return null
        val shrink = Math.sqrt(maxPixels.toDouble() / (outW * outH))
        var fitW = (width * shrink).toInt()
        var fitH = (height * shrink).toInt()
        while (fitW > 1 && fitH > 1 && fitW.toLong() * scale * fitH * scale > maxPixels) {
            fitW--
            fitH--
        }
        return String.format(
            Locale.ROOT,
            "%dx%d at x%d would be %dx%d (%.0f MP, %.1f GiB as a bitmap); the limit now is %.0f MP: use a photo of at most %dx%d, or a smaller scale",
            width, height, scale, outW, outH, outW * outH / 1e6, outW * outH * 4 / GIB, maxPixels / 1e6, fitW, fitH
        )
    }

    /**
     * The LR region the before/after view shows: centred, at most [maxOutputSide] output pixels a
     * side, so the comparison is 1:1 in output pixels (a whole 48 MP result scaled to a phone
     * screen would hide exactly what super-resolution adds).
     */
    fun previewRegion(width: Int, height: Int, scale: Int, maxOutputSide: Int): Region {
        val w = minOf(width, maxOutputSide / scale)
        val h = minOf(height, maxOutputSide / scale)
        val left = (width - w) / 2
        val top = (height - h) / 2
        return Region(top, left, top + h, left + w)
    }

    private const val GIB = 1024.0 * 1024.0 * 1024.0
}
