package com.pcarnmobile.demo.inference

import android.content.res.AssetManager
import com.pcarnmobile.demo.core.ModelGroup
import com.pcarnmobile.demo.core.NpuChoice
import com.pcarnmobile.demo.core.Sidecar
import com.pcarnmobile.demo.core.SidecarException
import com.pcarnmobile.demo.core.TensorCheck
import com.pcarnmobile.demo.core.TfliteTensors
import java.nio.ByteBuffer

/** A model file installed in the APK's `assets/models/`, with its sidecar. */
data class InstalledModel(val sidecar: Sidecar) {
    val assetPath: String get() = SrEngine.assetPath(sidecar)
}

/**
 * What `assets/models/` holds: every runnable file (the benchmark times each), the same files as
 * models (the upscale screen offers each once, its file and tile shape chosen per photo), and one
 * line for each file it cannot run.
 */
data class Catalog(val models: List<InstalledModel>, val groups: List<ModelGroup>, val skipped: List<String>)

/**
 * Lists the models at run time from their sidecars (`*.tflite.json`), so whatever
 * `python -m pcarn_mobile.convert --target tflite --android-demo` installed is offered and
 * nothing about a model is hard-coded here. Each file's own tensors are read and checked against
 * its sidecar ([TensorCheck]) before it is offered: a mismatch is its one line, never a run.
 */
object ModelCatalog {
    const val DIR = "models"
    const val INSTALL_COMMAND = "python -m pcarn_mobile.convert --target tflite --android-demo"
    private const val SIDECAR_SUFFIX = ".tflite.json"
    private val PRECISION_ORDER = listOf("fp32", "fp16", "int8")

    /** Reads every sidecar and file header; call off the main thread. */
    fun load(assets: AssetManager): Catalog {
        val names = assets.list(DIR).orEmpty().toSet()
        val models = ArrayList<InstalledModel>()
        val skipped = ArrayList<String>()
        for (name in names.filter { it.endsWith(SIDECAR_SUFFIX) }.sorted()) {
            val sidecar = try {
                Sidecar.parse(assets.open("$DIR/$name").bufferedReader().use { it.readText() }, name)
            } catch (e: SidecarException) {
                skipped.add(e.message.orEmpty())
                continue
            }
            val npu = sidecar.npu
            val reason = when {
                sidecar.file !in names -> "${sidecar.file} is missing next to its sidecar"
                npu != null && sidecar.file != NpuChoice.fileName(npu.sourceFile, npu.soc) ->
                    "${sidecar.file}: an NPU file should be named ${NpuChoice.fileName(npu.sourceFile, npu.soc)}"
                else -> sidecar.unusableReason()?.let { "${sidecar.file}: $it" } ?: tensorMismatch(assets, sidecar)
            }
            if (reason == null) models.add(InstalledModel(sidecar)) else skipped.add(reason)
        }
        models.sortWith(compareBy({ it.sidecar.scale }, { PRECISION_ORDER.indexOf(it.sidecar.precision) }, { it.sidecar.label() }))
        return Catalog(models, ModelGroup.of(models.map { it.sidecar }), skipped)
    }

    private fun tensorMismatch(assets: AssetManager, sidecar: Sidecar): String? = try {
        val bytes = assets.open("$DIR/${sidecar.file}").use { it.readBytes() }
        val (inputs, outputs) = TfliteTensors.read(ByteBuffer.wrap(bytes))
        TensorCheck.mismatch(sidecar, inputs, outputs)
    } catch (e: IllegalArgumentException) {
        "${sidecar.file}: ${e.message}"
    }
}
