package com.pcarnmobile.demo.ui

import android.content.Context
import android.content.Intent
import androidx.compose.foundation.layout.Row
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import com.pcarnmobile.demo.R
import com.pcarnmobile.demo.core.LatencyResult
import java.io.File

/**
 * Times the installed models on a fixed input of their tile size and writes a latency result
 * (benchmarks/schema/latency-v1.schema.json, harness `android-app`) to the app's files, to share.
 */
@Composable
fun BenchmarkScreen(modifier: Modifier = Modifier, viewModel: BenchmarkViewModel = viewModel()) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    CatalogColumn(state.catalog, modifier) { catalog ->
        val running = state.progress != null
        for (model in catalog.models) {
            val file = model.sidecar.file
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(checked = file in state.chosen, onCheckedChange = { viewModel.toggle(file) }, enabled = !running)
                Text(model.sidecar.label())
            }
        }
        val settings = state.settings
        BackendChoice(settings.backend, settings.threads, viewModel::selectBackend, viewModel::selectThreads, enabled = !running)
        Text(stringResource(R.string.benchmark_plan, settings.runs, settings.warmup), style = MaterialTheme.typography.bodySmall)
        if (running) {
            Button(onClick = viewModel::cancel) { Text(stringResource(R.string.cancel)) }
            Text(state.progress.orEmpty())
        } else {
            Button(onClick = viewModel::run, enabled = state.chosen.isNotEmpty()) { Text(stringResource(R.string.run_benchmark)) }
        }
        for (result in state.results) {
            Text(resultLine(result), style = MaterialTheme.typography.bodyMedium)
        }
        MessageLines(null, state.error)
        state.report?.let { report ->
            Text(stringResource(R.string.report_written, report.name), style = MaterialTheme.typography.bodySmall)
            OutlinedButton(onClick = { share(context, report) }) { Text(stringResource(R.string.share)) }
        }
    }
}

@Composable
private fun resultLine(result: LatencyResult): String {
    val label = result.sidecar.label()
    val stats = result.stats
    return if (stats == null) {
        stringResource(R.string.result_failed, label, result.backend.uppercase(), result.error.orEmpty())
    } else {
        stringResource(R.string.result_line, label, result.backend.uppercase(), stats.p50, stats.min, stats.p90, result.compileMs ?: 0.0)
    }
}

/** Offers the latency JSON to any app that takes a file (mail, Drive, adb-less transfer to a laptop). */
private fun share(context: Context, report: File) {
    val uri = FileProvider.getUriForFile(context, "${context.packageName}.files", report)
    val send = Intent(Intent.ACTION_SEND)
        .setType("application/json")
        .putExtra(Intent.EXTRA_STREAM, uri)
        .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
    context.startActivity(Intent.createChooser(send, report.name))
}
