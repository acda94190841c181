package com.pcarnmobile.demo.ui

import android.Manifest
import android.content.pm.PackageManager
import android.os.Build
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import com.pcarnmobile.demo.R
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.core.ModelGroup
import com.pcarnmobile.demo.inference.TileProgress

/** Pick a photo, choose the model and where it runs, upscale in tiles, compare, save. */
@Composable
fun UpscaleScreen(modifier: Modifier = Modifier, viewModel: UpscaleViewModel = viewModel()) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    val pickPhoto = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        uri?.let(viewModel::pickPhoto)
    }
    val storagePermission = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) viewModel.save() else viewModel.saveRefused()
    }
    CatalogColumn(state.catalog, modifier) { catalog ->
        val running = state.progress != null
        ModelChoice(catalog.groups, state.model, viewModel::selectModel, enabled = !running)
        BackendChoice(state.backend, state.threads, viewModel::selectBackend, viewModel::selectThreads, enabled = !running)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(
                onClick = { pickPhoto.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) },
                enabled = !state.busy
            ) { Text(stringResource(R.string.pick_photo)) }
            if (running) {
                Button(onClick = viewModel::cancel) { Text(stringResource(R.string.cancel)) }
            } else {
                Button(onClick = viewModel::upscale, enabled = state.photo != null && !state.busy) { Text(stringResource(R.string.upscale)) }
            }
        }
        state.photo?.let { photo ->
            val scale = state.model?.scale ?: 1
            Text(stringResource(R.string.photo_size, photo.size.width, photo.size.height, scale, scale * photo.size.width, scale * photo.size.height))
        }
        state.progress?.let { Progress(it) }
        MessageLines(state.notice, state.error)
        val result = state.result
        if (result != null) {
            BeforeAfter(result.before, result.after)
            Text(resultSummary(result), style = MaterialTheme.typography.bodySmall)
            Button(
                onClick = {
                    val needsPermission = Build.VERSION.SDK_INT < Build.VERSION_CODES.Q &&
                        ContextCompat.checkSelfPermission(context, Manifest.permission.WRITE_EXTERNAL_STORAGE) != PackageManager.PERMISSION_GRANTED
                    if (needsPermission) storagePermission.launch(Manifest.permission.WRITE_EXTERNAL_STORAGE) else viewModel.save()
                },
                enabled = !state.busy
            ) { Text(stringResource(R.string.save)) }
        } else {
            state.photo?.let { photo ->
                val preview = remember(photo.preview) { photo.preview.asImageBitmap() }
                Image(preview, stringResource(R.string.photo), Modifier.fillMaxWidth(), contentScale = ContentScale.FillWidth)
            }
        }
    }
}

/** Scale first (when several are installed), then the precisions and I/O variants at that scale. */
@Composable
private fun ModelChoice(models: List<ModelGroup>, selected: ModelGroup?, onSelect: (ModelGroup) -> Unit, enabled: Boolean) {
    val scales = models.map { it.scale }.distinct()
    val scale = selected?.scale ?: scales.first()
    if (scales.size > 1) {
        ChoiceRow(stringResource(R.string.scale), scales, scale, { "x$it" }, { s -> onSelect(models.first { it.scale == s }) }, enabled)
    }
    val variants = models.filter { it.scale == scale }
    val ambiguous = variants.groupBy { it.precisionLabel() }.any { it.value.size > 1 }
    ChoiceRow(
        stringResource(R.string.precision), variants, selected,
        { if (ambiguous) it.label() else it.precisionLabel() }, onSelect, enabled
    )
    selected?.let { group ->
        val s = group.files.first()
        val ready = when (s.delegateReady) {
            true -> stringResource(R.string.delegate_ready)
            false -> stringResource(R.string.not_delegate_ready)
            null -> stringResource(R.string.delegate_unknown)
        }
        Text(stringResource(R.string.model_details, group.label(), s.overlap, ready), style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
private fun Progress(progress: TileProgress) {
    if (progress.total == 0) {
        LinearProgressIndicator(Modifier.fillMaxWidth())
        Text(stringResource(R.string.preparing))
    } else {
        LinearProgressIndicator(progress = { progress.done.toFloat() / progress.total }, modifier = Modifier.fillMaxWidth())
        Text(stringResource(R.string.tile_progress, progress.done, progress.total, progress.tileMs))
    }
}

@Composable
private fun resultSummary(result: UpscaleResult): String {
    val where = when (result.ranOn) {
        Backend.NPU -> stringResource(R.string.on_npu)
        Backend.GPU -> stringResource(R.string.on_gpu)
        Backend.CPU -> stringResource(R.string.on_cpu, result.threads)
    }
    return stringResource(
        R.string.result_summary,
        result.output.width, result.output.height, result.tiles, result.tile.height, result.tile.width, where,
        result.perTile.p50, result.perTile.min, result.perTile.max, result.firstTileMs,
        result.totalMs / 1000, result.compileMs
    )
}
