package com.pcarnmobile.demo.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ColumnScope
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import com.pcarnmobile.demo.R
import com.pcarnmobile.demo.core.Backend
import com.pcarnmobile.demo.inference.Catalog
import com.pcarnmobile.demo.inference.ModelCatalog

/** What to do when assets/models/ offers nothing: the command that installs models, and why files were skipped. */
/**
 * Both screens' scrolling column: nothing until the catalog of installed models is read, the install
 * command when it is empty, else [content] and then the files that could not be used.
 */
@Composable
fun CatalogColumn(catalog: Catalog?, modifier: Modifier, content: @Composable ColumnScope.(Catalog) -> Unit) {
    Column(
        modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp)
    ) {
        if (catalog == null) return@Column
        if (catalog.models.isEmpty()) {
            ModelsMissing(catalog.skipped)
            return@Column
        }
        content(catalog)
        SkippedModels(catalog.skipped)
    }
}

@Composable
fun ModelsMissing(skipped: List<String>) {
    Card {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(stringResource(R.string.no_models_title), style = MaterialTheme.typography.titleMedium)
            Text(stringResource(R.string.no_models_body))
            SelectionContainer {
                Text(ModelCatalog.INSTALL_COMMAND, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.bodySmall)
            }
            Text(stringResource(R.string.no_models_then))
        }
    }
    SkippedModels(skipped)
}

/** One line per sidecar in assets/models/ the app does not offer, with the reason. */
@Composable
fun SkippedModels(skipped: List<String>) {
    for (line in skipped) {
        Text(stringResource(R.string.skipped_model, line), style = MaterialTheme.typography.bodySmall)
    }
}

/** A labelled row of chips, one selected. */
@Composable
fun <T> ChoiceRow(label: String, options: List<T>, selected: T?, text: (T) -> String, onSelect: (T) -> Unit, enabled: Boolean) {
    Row(
        Modifier.horizontalScroll(rememberScrollState()),
        horizontalArrangement = Arrangement.spacedBy(8.dp),
        verticalAlignment = Alignment.CenterVertically
    ) {
        Text(label, style = MaterialTheme.typography.labelLarge)
        for (option in options) {
            FilterChip(selected = option == selected, onClick = { onSelect(option) }, label = { Text(text(option)) }, enabled = enabled)
        }
    }
}

/** CPU (with its thread count) or GPU. */
@Composable
fun BackendChoice(backend: Backend, threads: Int, onBackend: (Backend) -> Unit, onThreads: (Int) -> Unit, enabled: Boolean) {
    ChoiceRow(stringResource(R.string.run_on), Backend.entries, backend, { it.name }, onBackend, enabled)
    if (backend == Backend.CPU) {
        ChoiceRow(stringResource(R.string.threads), threadChoices(), threads, { it.toString() }, onThreads, enabled)
    }
}

/** CPU threads offered: powers of two up to the phone's cores. */
fun threadChoices(): List<Int> = listOf(1, 2, 4, 8).filter { it <= Runtime.getRuntime().availableProcessors() }.ifEmpty { listOf(1) }

/** Four threads, or every core on phones with fewer. */
fun defaultThreads(): Int = threadChoices().last().coerceAtMost(4)

/** The run's information and error lines. */
@Composable
fun MessageLines(notice: String?, error: String?) {
    notice?.let { Text(it, color = MaterialTheme.colorScheme.tertiary) }
    error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
}
