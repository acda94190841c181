package com.pcarnmobile.demo.ui

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import com.pcarnmobile.demo.R
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.LatencyResult
import com.pcarnmobile.demo.inference.BenchmarkSettings
import com.pcarnmobile.demo.inference.Catalog
import com.pcarnmobile.demo.inference.ModelCatalog
import com.pcarnmobile.demo.inference.ModelDispatcher
import com.pcarnmobile.demo.inference.measureLatency
import com.pcarnmobile.demo.inference.writeLatencyReport
import java.io.File
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

data class BenchmarkUiState(
    val catalog: Catalog? = null,
    /** Files (sidecar `file`) to measure. */
    val chosen: Set<String> = emptySet(),
    val settings: BenchmarkSettings = BenchmarkSettings(Backend.CPU, defaultThreads()),
    /** Non-null while running: which model and run. */
    val progress: String? = null,
    val results: List<LatencyResult> = emptyList(),
    /** The written latency result, once all chosen models are measured. */
    val report: File? = null,
    val error: String? = null
)

/** Measures the installed models one after the other and writes one latency result document. */
class BenchmarkViewModel(application: Application) : AndroidViewModel(application) {
    private val app: Application get() = getApplication()
    private val _state = MutableStateFlow(BenchmarkUiState())
    val state: StateFlow<BenchmarkUiState> = _state.asStateFlow()
    private var job: Job? = null

    init {
        viewModelScope.launch {
            val catalog = withContext(Dispatchers.IO) { ModelCatalog.load(app.assets) }
            _state.update { it.copy(catalog = catalog, chosen = catalog.models.map { m -> m.sidecar.file }.toSet()) }
        }
    }

    fun toggle(file: String) = _state.update { it.copy(chosen = if (file in it.chosen) it.chosen - file else it.chosen + file) }

    fun selectBackend(backend: Backend) = _state.update { it.copy(settings = it.settings.copy(backend = backend)) }

    fun selectThreads(threads: Int) = _state.update { it.copy(settings = it.settings.copy(threads = threads)) }

    fun run() {
        val start = _state.value
        val models = start.catalog?.models.orEmpty().filter { it.sidecar.file in start.chosen }
        if (models.isEmpty() || start.progress != null) return
        _state.update { it.copy(progress = app.getString(R.string.benchmark_compiling, models.first().sidecar.file), results = emptyList(), report = null, error = null) }
        job = viewModelScope.launch {
            try {
                val results = ArrayList<LatencyResult>()
                for (model in models) {
                    _state.update { it.copy(progress = app.getString(R.string.benchmark_compiling, model.sidecar.file)) }
                    val result = withContext(ModelDispatcher) {
                        measureLatency(app, model, start.settings) { run ->
                            _state.update { it.copy(progress = app.getString(R.string.benchmark_progress, model.sidecar.file, run, start.settings.runs)) }
                        }
                    }
                    results.add(result)
                    _state.update { it.copy(results = results.toList()) }
                }
                val report = withContext(Dispatchers.IO) { writeLatencyReport(app, results) }
                _state.update { it.copy(progress = null, report = report) }
            } catch (e: CancellationException) {
                _state.update { it.copy(progress = null, error = app.getString(R.string.benchmark_cancelled)) }
                throw e
            } catch (e: Exception) {
                _state.update { it.copy(progress = null, error = app.getString(R.string.error_benchmark, e.message ?: e.javaClass.simpleName)) }
            }
        }
    }

    fun cancel() {
        job?.cancel()
    }
}
