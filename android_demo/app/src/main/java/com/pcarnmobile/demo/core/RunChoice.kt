package com.pcarnmobile.demo.core

/** Where a model runs. */
enum class Backend { CPU, GPU, NPU }

/** The first Android release whose `Build.SOC_MODEL` names the SoC (Android 12). */
const val SOC_MODEL_API = 31

/**
 * What runs one photo: [sidecar]'s file at input shape [tile] on [backend]. [resize]: the file is
 * resizable and the session resizes its input to [tile] (CPU only). [note]: why this is not what
 * was asked for (a fallback), in one line for the screen; null when it is.
 */
data class RunPlan(val sidecar: Sidecar, val tile: Size, val backend: Backend, val resize: Boolean, val note: String?)

/**
 * The files the catalogue offers as one model: the same scale, precision, variant, groups and I/O
 * types, differing only in input shape (`convert --android-demo` installs several static shapes
 * and a resizable file) or compiled for one NPU. Per photo and backend, [plan] picks the file and
 * tile shape that compute the fewest pixels the backend allows ([TileShape]):
 *
 * - CPU: the resizable file at [TileShape.bestFree] within its `max_tile_area`, else the static
 *   shape [TileShape.bestFixed] picks;
 * - GPU: static files only (a GPU session keeps one fixed shape), [TileShape.bestFixed];
 * - NPU: the file compiled for this phone's SoC ([NpuChoice]), best fixed shape among those.
 *
 * Where the backend cannot run this model, the plan falls back (NPU -> GPU -> CPU) and says why.
 */
class ModelGroup(val files: List<Sidecar>) {
    init {
        require(files.isNotEmpty()) { "an empty model group" }
        require(files.all { key(it) == key(files[0]) }) { "files of different models in one group: ${files.map { it.file }}" }
    }

    val scale: Int get() = files[0].scale
    private val plain = files.filter { it.npu == null }
    private val resizable = plain.firstOrNull { it.tile == null }
    private val static = plain.filter { it.tile != null }
    private val npuFiles = files.filter { it.npu != null }

    fun precisionLabel(): String = files[0].precisionLabel()

    /** e.g. `x4 int8, 128x128 / 184x184 tiles or any size, NPU: SM8650`. */
    fun label(): String {
        val shapes = static.map { "${it.tile!!.height}x${it.tile.width}" } + listOfNotNull(resizable?.let { "any size" })
        val npus = npuFiles.map { it.npu!!.soc }.distinct()
        return "x$scale ${precisionLabel()}, ${shapes.joinToString(" / ")}" + (if (npus.isEmpty()) "" else ", NPU: ${npus.joinToString()}")
    }

    /** The plan for a [height]x[width] photo on [backend]; [soc] is `Build.SOC_MODEL` (null below API 31). */
    fun plan(height: Int, width: Int, backend: Backend, soc: String?): RunPlan = when (backend) {
        Backend.NPU -> npuPlan(height, width, soc)
        Backend.GPU -> gpuPlan(height, width, null)
        Backend.CPU -> cpuPlan(height, width, null)
    }

    /** The plan once the NPU failed to start ([why]): the plain files on the GPU, else the CPU. */
    fun afterNpuFailure(height: Int, width: Int, why: String): RunPlan =
        gpuPlan(height, width, "the NPU could not start ($why)")

    private fun npuPlan(height: Int, width: Int, soc: String?): RunPlan {
        return when (val pick = NpuChoice.pick(npuFiles, soc)) {
            is NpuChoice.Pick.Files -> {
                val chosen = best(height, width, pick.files)
                RunPlan(chosen, chosen.tile!!, Backend.NPU, resize = false, note = null)
            }
            is NpuChoice.Pick.None -> gpuPlan(height, width, pick.why)
        }
    }

    private fun gpuPlan(height: Int, width: Int, why: String?): RunPlan {
        if (static.isEmpty()) {
            return cpuPlan(height, width, listOfNotNull(why, "a resizable file runs on the CPU only (a GPU session keeps one fixed shape)").joinToString("; "))
        }
        val chosen = best(height, width, static)
        val note = why?.let { "$it; running the plain file on the GPU" }
        return RunPlan(chosen, chosen.tile!!, Backend.GPU, resize = false, note = note)
    }

    private fun cpuPlan(height: Int, width: Int, why: String?): RunPlan {
        val note = why?.let { "$it; running on the CPU" }
        resizable?.let {
            val tile = TileShape.bestFree(height, width, it.overlap, it.maxTileArea ?: TileShape.DEFAULT_MAX_TILE_AREA.toLong())
            return RunPlan(it, tile, Backend.CPU, resize = true, note = note)
        }
        val chosen = best(height, width, static)
        return RunPlan(chosen, chosen.tile!!, Backend.CPU, resize = false, note = note)
    }

    /** The static file whose shape [TileShape.bestFixed] picks for the photo. */
    private fun best(height: Int, width: Int, candidates: List<Sidecar>): Sidecar {
        val shape = TileShape.bestFixed(height, width, candidates.map { it.tile!! }, candidates[0].overlap)
        return candidates.first { it.tile == shape }
    }

    companion object {
        /** What makes two files the same model: all but the input shape and the NPU compilation. */
        fun key(s: Sidecar): List<Any?> =
            listOf(s.scale, s.precision, s.variant, s.groups, s.input.dtype, s.output.dtype, s.overlap)

        /** Groups [sidecars] into models, in the order each model first appears. */
        fun of(sidecars: List<Sidecar>): List<ModelGroup> =
            sidecars.groupBy(::key).values.map(::ModelGroup)
    }
}

/**
 * Which NPU file a phone runs: the one whose `npu.soc` equals `Build.SOC_MODEL`, compared
 * case-insensitively (files are named `<plain stem>_qualcomm_<soc lower-case>.tflite`, the sidecar
 * holds the upper-case name). Anything else gets the reason in one line.
 */
object NpuChoice {
    sealed class Pick {
        class Files(val files: List<Sidecar>) : Pick()
        class None(val why: String) : Pick()
    }

    fun pick(npuFiles: List<Sidecar>, soc: String?): Pick {
        val known = npuFiles.map { it.npu!!.soc }.distinct().sorted()
        return when {
            npuFiles.isEmpty() -> Pick.None("no NPU file is installed for this model (convert --npu qualcomm:SOC)")
            soc == null -> Pick.None("this phone's SoC is unknown (Android 12 or later names it)")
            else -> {
                val matching = npuFiles.filter { it.npu!!.soc.equals(soc.trim(), ignoreCase = true) }
                if (matching.isEmpty()) Pick.None("no NPU file for this phone's SoC $soc (installed: ${known.joinToString()})")
                else Pick.Files(matching)
            }
        }
    }

    /** The compiled file's name for [plainFile] and [soc]: TEAM's `<plain stem>_qualcomm_<soc lower-case>.tflite`. */
    fun fileName(plainFile: String, soc: String): String =
        "${plainFile.removeSuffix(".tflite")}_qualcomm_${soc.lowercase()}.tflite"
}
