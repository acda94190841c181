package com.pcarnmobile.demo.inference

import android.app.ActivityManager
import android.content.Context
import android.graphics.Bitmap
import android.os.Build
import android.os.SystemClock
import com.pcarnmobile.demo.core.OutputBudget
import com.pcarnmobile.demo.core.PixelCodec
import com.pcarnmobile.demo.core.TilePlan
import com.pcarnmobile.demo.core.runTiles
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive

/** Tiles done of [total]; [tileMs] is the last one's inference time. */
data class TileProgress(val done: Int, val total: Int, val tileMs: Double)

/**
 * Upscales [source] (ARGB_8888, software) with [engine] in the tiles of its plan (the shape
 * [com.pcarnmobile.demo.core.ModelGroup.plan] chose for this photo), writing each tile's
 * kept pixels straight into the output bitmap: besides the two bitmaps only one tile's tensors are
 * ever in memory, whatever the photo's size. Cancelling the coroutine stops between tiles and frees
 * the output. Call on [ModelDispatcher].
 */
suspend fun upscaleTiled(
    engine: SrEngine,
    source: Bitmap,
    onTile: (TileProgress) -> Unit
): Bitmap {
    val sidecar = engine.plan.sidecar
    val tile = engine.plan.tile
    val scale = sidecar.scale
    val plan = TilePlan.of(source.height, source.width, tile, sidecar.overlap)
    val codec = PixelCodec(sidecar.input, sidecar.output)
    val output = Bitmap.createBitmap(scale * source.width, scale * source.height, Bitmap.Config.ARGB_8888)
    try {
        runTiles(plan, scale, codec, read = { src, pixels ->
            source.getPixels(pixels, 0, tile.width, src.left, src.top, src.width, src.height)
        }, infer = { k, input ->
            currentCoroutineContext().ensureActive()
            val start = SystemClock.elapsedRealtimeNanos()
            engine.run(input).also {
                onTile(TileProgress(k + 1, plan.tiles.size, (SystemClock.elapsedRealtimeNanos() - start) / 1e6))
            }
        }) { place, kept ->
            output.setPixels(kept, 0, place.from.width, place.toLeft, place.toTop, place.from.width, place.from.height)
        }
        return output
    } catch (e: Throwable) {
        output.recycle()
        throw e
    }
}

/**
 * The output pixels this phone can hold now ([OutputBudget]): from Android 8 bitmap pixels live
 * in native memory, bounded by the free RAM; before, on the Java heap.
 */
fun outputPixelBudget(context: Context): Long {
    val available = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
        val info = ActivityManager.MemoryInfo()
        (context.getSystemService(Context.ACTIVITY_SERVICE) as ActivityManager).getMemoryInfo(info)
        info.availMem
    } else {
        val runtime = Runtime.getRuntime()
        runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory())
    }
    return OutputBudget.maxOutputPixels(available)
}
