package com.pcarnmobile.demo.ui

import android.app.Application
import android.graphics.Bitmap
import android.net.Uri
import android.os.Build
import android.os.SystemClock
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import com.pcarnmobile.demo.R
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.LatencyStats
import com.pcarnmobile.demo.core.ModelGroup
import com.pcarnmobile.demo.core.OutputBudget
import com.pcarnmobile.demo.core.RunPlan
import com.pcarnmobile.demo.core.SOC_MODEL_API
import com.pcarnmobile.demo.core.Size
import com.pcarnmobile.demo.inference.BackendUnavailableException
import com.pcarnmobile.demo.inference.ModelCatalog
import com.pcarnmobile.demo.inference.ModelDispatcher
import com.pcarnmobile.demo.inference.SrEngine
import com.pcarnmobile.demo.inference.TileProgress
import com.pcarnmobile.demo.inference.outputPixelBudget
import com.pcarnmobile.demo.inference.upscaleTiled
import com.pcarnmobile.demo.media.Photos
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** Picks, upscales (off the main thread, cancellable between tiles) and saves. */
class UpscaleViewModel(application: Application) : AndroidViewModel(application) {
    private val app: Application get() = getApplication()
    private val _state = MutableStateFlow(UpscaleUiState())
    val state: StateFlow<UpscaleUiState> = _state.asStateFlow()
    private var job: Job? = null

    /** The full-size result, kept for saving. Never drawn (the screen shows a crop), so it is freed as soon as it is replaced. */
    private var fullOutput: Bitmap? = null

    init {
        viewModelScope.launch {
            val catalog = withContext(Dispatchers.IO) { ModelCatalog.load(app.assets) }
            _state.update { it.copy(catalog = catalog, model = catalog.groups.firstOrNull()) }
        }
    }

    fun selectModel(model: ModelGroup) = _state.update { it.copy(model = model) }

    fun selectBackend(backend: Backend) = _state.update { it.copy(backend = backend) }

    fun selectThreads(threads: Int) = _state.update { it.copy(threads = threads) }

    fun pickPhoto(uri: Uri) {
        if (_state.value.busy) return
        viewModelScope.launch {
            try {
                val photo = withContext(Dispatchers.IO) {
                    val size = Photos.size(app.contentResolver, uri)
                    val sample = Integer.highestOneBit(maxOf(1, maxOf(size.width, size.height) / PREVIEW_SIDE))
                    Photo(uri, size, Photos.decode(app.contentResolver, uri, sample))
                }
                dropResult()
                _state.update { it.copy(photo = photo, result = null, notice = null, error = null) }
            } catch (e: Exception) {
                _state.update { it.copy(error = app.getString(R.string.error_open_photo, e.message ?: e.javaClass.simpleName)) }
            }
        }
    }

    fun upscale() {
        val start = _state.value
        val model = start.model ?: return
        val photo = start.photo ?: return
        if (start.busy) return
        val refusal = OutputBudget.refusal(photo.size.width, photo.size.height, model.scale, outputPixelBudget(app))
        if (refusal != null) {
            _state.update { it.copy(error = refusal, notice = null) }
            return
        }
        dropResult()
        _state.update { it.copy(progress = TileProgress(0, 0, 0.0), result = null, notice = null, error = null) }
        job = viewModelScope.launch {
            try {
                val result = run(model, photo, start.backend, start.threads)
                _state.update { it.copy(progress = null, result = result) }
            } catch (e: CancellationException) {
                val p = _state.value.progress
                val notice = if (p == null || p.total == 0) app.getString(R.string.cancelled_early)
                else app.getString(R.string.cancelled, p.done, p.total)
                _state.update { it.copy(progress = null, notice = notice) }
                throw e
            } catch (e: OutOfMemoryError) {
                _state.update { it.copy(progress = null, error = app.getString(R.string.error_memory)) }
            } catch (e: Exception) {
                _state.update { it.copy(progress = null, error = app.getString(R.string.error_upscale, e.message ?: e.javaClass.simpleName)) }
            }
        }
    }

    fun cancel() {
        job?.cancel()
    }

    fun save() {
        val output = fullOutput ?: return
        val model = _state.value.model ?: return
        if (_state.value.busy) return
        _state.update { it.copy(saving = true, notice = null, error = null) }
        viewModelScope.launch {
            try {
                withContext(Dispatchers.IO) {
                    Photos.saveToGallery(app, output, "pcarn_x${model.scale}_${System.currentTimeMillis()}")
                }
                _state.update { it.copy(saving = false, notice = app.getString(R.string.saved)) }
            } catch (e: Exception) {
                _state.update { it.copy(saving = false, error = app.getString(R.string.error_save, e.message ?: e.javaClass.simpleName)) }
            }
        }
    }

    fun saveRefused() = _state.update { it.copy(error = app.getString(R.string.error_storage_permission)) }

    private suspend fun run(model: ModelGroup, photo: Photo, backend: Backend, threads: Int): UpscaleResult {
        val started = SystemClock.elapsedRealtimeNanos()
        val source = withContext(Dispatchers.IO) { Photos.decode(app.contentResolver, photo.uri) }
        try {
            return withContext(ModelDispatcher) {
                openSession(model, source.height, source.width, backend, threads).use { engine ->
                    engine.plan.note?.let { why -> _state.update { it.copy(notice = app.getString(R.string.backend_fallback, why)) } }
                    val tileMs = ArrayList<Double>()
                    val output = upscaleTiled(engine, source) { p ->
                        tileMs.add(p.tileMs)
                        _state.update { it.copy(progress = p) }
                    }
                    fullOutput = output
                    val (before, after) = previews(source, output, model.scale)
                    UpscaleResult(
                        before, after, Size(output.height, output.width), LatencyStats.of(tileMs), tileMs.size, tileMs.first(),
                        engine.compileMs, (SystemClock.elapsedRealtimeNanos() - started) / 1e6, engine.plan.backend, threads, engine.plan.tile
                    )
                }
            }
        } finally {
            source.recycle()
        }
    }

    /**
     * The session for this photo: [ModelGroup.plan]'s file and tile shape for [backend]. A GPU or
     * NPU that cannot take it re-plans (NPU -> the plain file on the GPU -> the CPU), and the
     * plan's note says why on screen. Call on [ModelDispatcher].
     */
    private fun openSession(model: ModelGroup, height: Int, width: Int, backend: Backend, threads: Int): SrEngine {
        val soc = if (Build.VERSION.SDK_INT >= SOC_MODEL_API) Build.SOC_MODEL else null
        var plan = model.plan(height, width, backend, soc)
        while (true) {
            try {
                return SrEngine.open(app, plan, threads)
            } catch (e: BackendUnavailableException) {
                plan = when (plan.backend) {
                    Backend.NPU -> model.afterNpuFailure(height, width, e.message.orEmpty())
                    Backend.GPU -> model.plan(height, width, Backend.CPU, soc).let { RunPlan(it.sidecar, it.tile, it.backend, it.resize, "GPU not used: ${e.message}; running on the CPU") }
                    Backend.CPU -> throw e
                }
            }
        }
    }

    /** The centred 1:1 crop of the output, and the same region of the photo enlarged bilinearly. */
    private fun previews(source: Bitmap, output: Bitmap, scale: Int): Pair<Bitmap, Bitmap> {
        val r = OutputBudget.previewRegion(source.width, source.height, scale, PREVIEW_CROP)
        val lr = Bitmap.createBitmap(source, r.left, r.top, r.width, r.height)
        val before = Bitmap.createScaledBitmap(lr, scale * r.width, scale * r.height, true)
        if (lr !== source) lr.recycle()
        val after = Bitmap.createBitmap(output, scale * r.left, scale * r.top, scale * r.width, scale * r.height)
        return Pair(before, after)
    }

    private fun dropResult() {
        fullOutput?.recycle()
        fullOutput = null
    }

    override fun onCleared() {
        dropResult()
    }

    private companion object {
        /** Longest side of the photo preview shown before a run. */
        const val PREVIEW_SIDE = 1536

        /** Longest side, in output pixels, of the before/after crop. */
        const val PREVIEW_CROP = 1024
    }
}
