package com.pcarnmobile.demo.inference

import android.content.res.AssetManager
import com.pcarnmobile.demo.core.Sidecar
import com.pcarnmobile.demo.core.SidecarException

/** A model installed in the APK's `assets/models/`, with its sidecar. */
data class InstalledModel(val sidecar: Sidecar) {
    val assetPath: String get() = "${ModelCatalog.DIR}/${sidecar.file}"
}

/** What `assets/models/` holds: the models the app can run, and one line for each file it cannot. */
data class Catalog(val models: List<InstalledModel>, val skipped: List<String>)

/**
 * Lists the models at run time from their sidecars (`*.tflite.json`), so whatever
 * `python -m pcarn_mobile.convert --target tflite --android-demo` installed is offered and
 * nothing about a model is hard-coded here.
 */
object ModelCatalog {
    const val DIR = "models"
    const val INSTALL_COMMAND = "python -m pcarn_mobile.convert --target tflite --android-demo"
    private const val SIDECAR_SUFFIX = ".tflite.json"
    private val PRECISION_ORDER = listOf("fp32", "fp16", "int8")

    /** Reads every sidecar; call off the main thread. */
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
            val reason = when {
                sidecar.file !in names -> "${sidecar.file} is missing next to its sidecar"
                else -> sidecar.unusableReason()?.let { "${sidecar.file}: $it" }
            }
            if (reason == null) models.add(InstalledModel(sidecar)) else skipped.add(reason)
        }
        models.sortWith(compareBy({ it.sidecar.scale }, { PRECISION_ORDER.indexOf(it.sidecar.precision) }, { it.sidecar.label() }))
        return Catalog(models, skipped)
    }
}
