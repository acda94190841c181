package com.pcarnmobile.demo.ui

import android.graphics.Bitmap
import android.net.Uri
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.LatencyStats
import com.pcarnmobile.demo.core.ModelGroup
import com.pcarnmobile.demo.core.Size
import com.pcarnmobile.demo.inference.Catalog
import com.pcarnmobile.demo.inference.TileProgress

/** The picked photo: its full size and a screen-sized preview. */
data class Photo(val uri: Uri, val size: Size, val preview: Bitmap)

/** A finished run: a 1:1 crop before (bilinear) and after (the model), and the timings. */
data class UpscaleResult(
    val before: Bitmap,
    val after: Bitmap,
    val output: Size,
    val perTile: LatencyStats,
    val tiles: Int,
    val firstTileMs: Double,
    val compileMs: Double,
    val totalMs: Double,
    val ranOn: Backend,
    val threads: Int,
    /** The LR tile shape this photo ran at (TileShape's choice for it). */
    val tile: Size
)

data class UpscaleUiState(
    /** Null until assets/models/ has been read. */
    val catalog: Catalog? = null,
    val model: ModelGroup? = null,
    val backend: Backend = Backend.CPU,
    val threads: Int = defaultThreads(),
    val photo: Photo? = null,
    /** Non-null while a run is in progress (0 of 0 tiles while decoding and compiling). */
    val progress: TileProgress? = null,
    val result: UpscaleResult? = null,
    val saving: Boolean = false,
    /** One line of information: a backend fallback and why, a saved file, a cancelled run. */
    val notice: String? = null,
    /** One line saying what went wrong. */
    val error: String? = null
) {
    val busy: Boolean get() = progress != null || saving
}
