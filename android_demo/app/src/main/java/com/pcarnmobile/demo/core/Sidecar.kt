package com.pcarnmobile.demo.core

/** A height and width in pixels. */
data class Size(val height: Int, val width: Int)

/** Element types a sidecar names (`input.dtype`, `output.dtype`). */
enum class DType(val key: String) {
    FLOAT32("float32"), FLOAT16("float16"), INT8("int8"), UINT8("uint8");

    companion object {
        fun of(key: String): DType? = values().firstOrNull { it.key == key }
    }
}

/** Integer tensors: real = scale * (q - zeroPoint). */
data class Quantization(val scale: Double, val zeroPoint: Int)

/** The `input` or `output` entry of a sidecar. */
data class TensorSpec(
    val name: String,
    val shape: List<Int>,
    val dtype: DType,
    val layout: String,
    val range: List<Double>,
    val quantization: Quantization?
)

/** A sidecar that breaks the contract: a key is missing or has the wrong type, or the version is unknown. */
class SidecarException(message: String) : Exception(message)

/** A file compiled ahead of time for one NPU (the sidecar's `npu` section): what picks it and what the screen says. */
data class NpuFacts(
    val vendor: String,
    /** The SoC it was compiled for, e.g. `SM8650`: compared with `Build.SOC_MODEL`, case-insensitive. */
    val soc: String,
    /** The plain file it was compiled from (beside it): the fallback on any other phone. */
    val sourceFile: String,
    val opsOnNpu: Int,
    val opsTotal: Int,
    val partitions: Int
)

/** What the app needs from a `<file>.tflite.json` sidecar (schema version 2; version 1 files read too). */
data class Sidecar(
    val file: String,
    val format: String,
    val precision: String,
    val variant: String,
    val scale: Int,
    val groups: Int,
    val input: TensorSpec,
    val output: TensorSpec,
    /** The fixed LR tile the file takes; null when its input size is dynamic. */
    val tile: Size?,
    val overlap: Int,
    val pad: String,
    /**
     * The most LR pixels one tile of a resizable file may have (`tiling.max_tile_area`); for a
     * resizable file without it (written before schema version 2), [TileShape.DEFAULT_MAX_TILE_AREA].
     * Null for a static file.
     */
    val maxTileArea: Long?,
    /** The `npu` section of a file compiled for one NPU; null for a plain file. */
    val npu: NpuFacts?,
    /** `graph.delegate_ready`: null when the sidecar does not say. */
    val delegateReady: Boolean?,
    val problems: List<String>,
    val verdict: String
) {
    /** Why this app cannot run the file, in one line; null when it can. */
    fun unusableReason(): String? {
        val tile = tile
        return when {
            format != "tflite" -> "a $format file, not TFLite"
            verdict != "OK" -> "parity verdict $verdict: the conversion does not compute what PyTorch computes"
            pad != "edge" -> "unknown tile padding '$pad'"
            tile == null && npu != null -> "an NPU file with a dynamic input size (NPU files are static)"
            tile == null -> tensorProblem(input, listOf(1, -1, -1, 3)) ?: tensorProblem(output, listOf(1, -1, -1, 3))
            else -> tensorProblem(input, listOf(1, tile.height, tile.width, 3))
                ?: tensorProblem(output, listOf(1, scale * tile.height, scale * tile.width, 3))
        }
    }

    /** The precision and, for int8 files with other I/O, the I/O type: `int8 (uint8 I/O)`. */
    fun precisionLabel(): String =
        if (precision == "int8" && input.dtype != DType.INT8) "$precision (${input.dtype.key} I/O)" else precision

    /** The file's settings in one short line, e.g. `x4 int8 (uint8 I/O), 128x128 tiles`. */
    fun label(): String = "x$scale ${precisionLabel()}, " + (tile?.let { "${it.height}x${it.width} tiles" } ?: "any tile size") +
        (npu?.let { " on the ${it.soc} NPU" } ?: "")

    private fun tensorProblem(t: TensorSpec, expected: List<Int>): String? = when {
        t.layout != "NHWC" -> "${t.name}: layout ${t.layout}, not NHWC"
        t.shape != expected -> "${t.name}: shape ${t.shape}, expected $expected from the tile and scale"
        t.range != listOf(0.0, 1.0) -> "${t.name}: value range ${t.range}, not [0, 1]"
        else -> PixelCodec.problem(t)
    }

    companion object {
        const val SCHEMA_VERSION = 2L

        /** Versions this app reads: 1 lacks only the optional `tiling.max_tile_area` and `npu`. */
        val READABLE_VERSIONS = listOf(1L, SCHEMA_VERSION)

        /** Parses sidecar [text]; [source] names it in error messages (the asset's name). */
        fun parse(text: String, source: String): Sidecar {
            val root = try {
                Json.parse(text)
            } catch (e: IllegalArgumentException) {
                throw SidecarException("$source: not JSON (${e.message})")
            }
            val doc = Fields(root as? Map<*, *> ?: throw SidecarException("$source: not a JSON object"), source)
            val version = doc.long(SidecarKeys.SCHEMA_VERSION)
            if (version !in READABLE_VERSIONS) {
                throw SidecarException("$source: sidecar schema version $version; this app reads versions ${READABLE_VERSIONS.joinToString(" and ")}")
            }
            val tile = doc.intsOrNull(SidecarKeys.TILE)
            if (tile != null && tile.size != 2) throw SidecarException("$source: '${SidecarKeys.TILE}' is not [H, W]")
            return Sidecar(
                file = doc.string(SidecarKeys.FILE),
                format = doc.string(SidecarKeys.FORMAT),
                precision = doc.string(SidecarKeys.PRECISION),
                variant = doc.string(SidecarKeys.VARIANT),
                scale = doc.long(SidecarKeys.SCALE).toInt(),
                groups = doc.long(SidecarKeys.GROUPS).toInt(),
                input = tensor(doc.obj(SidecarKeys.INPUT)),
                output = tensor(doc.obj(SidecarKeys.OUTPUT)),
                tile = tile?.let { Size(it[0], it[1]) },
                overlap = doc.long(SidecarKeys.OVERLAP).toInt(),
                pad = doc.string(SidecarKeys.PAD),
                maxTileArea = if (tile != null) null else doc.longOrNull(SidecarKeys.MAX_TILE_AREA) ?: TileShape.DEFAULT_MAX_TILE_AREA.toLong(),
                npu = if (doc.isNull(SidecarKeys.NPU)) null else NpuFacts(
                    vendor = doc.string(SidecarKeys.NPU_VENDOR),
                    soc = doc.string(SidecarKeys.NPU_SOC),
                    sourceFile = doc.string(SidecarKeys.NPU_SOURCE_FILE),
                    opsOnNpu = doc.long(SidecarKeys.NPU_OPS_ON_NPU).toInt(),
                    opsTotal = doc.long(SidecarKeys.NPU_OPS_TOTAL).toInt(),
                    partitions = doc.long(SidecarKeys.NPU_PARTITIONS).toInt()
                ),
                delegateReady = doc.booleanOrNull(SidecarKeys.DELEGATE_READY),
                problems = doc.stringsOrEmpty(SidecarKeys.PROBLEMS),
                verdict = doc.string(SidecarKeys.VERDICT)
            )
        }

        private fun tensor(t: Fields): TensorSpec {
            val dtypeKey = t.string(TensorKeys.DTYPE)
            val quantization = if (t.isNull(TensorKeys.QUANTIZATION)) null
            else Quantization(t.double(TensorKeys.QUANT_SCALE), t.long(TensorKeys.QUANT_ZERO_POINT).toInt())
            return TensorSpec(
                name = t.string(TensorKeys.NAME),
                shape = t.ints(TensorKeys.SHAPE),
                dtype = DType.of(dtypeKey) ?: t.fail(TensorKeys.DTYPE, "a known dtype (got '$dtypeKey')"),
                layout = t.string(TensorKeys.LAYOUT),
                range = t.doubles(TensorKeys.RANGE),
                quantization = quantization
            )
        }
    }
}

/** Typed access to one JSON object by dotted path; every failure names the file and the path. */
private class Fields(private val map: Map<*, *>, private val where: String, private val prefix: String = "") {
    private fun raw(path: String): Any? = path.split('.').fold(map as Any?) { node, key -> (node as? Map<*, *>)?.get(key) }

    fun fail(path: String, what: String): Nothing =
        throw SidecarException("$where: '$prefix$path' is missing or not $what")

    fun isNull(path: String): Boolean = raw(path) == null

    fun string(path: String): String = raw(path) as? String ?: fail(path, "a string")

    fun long(path: String): Long = raw(path) as? Long ?: fail(path, "an integer")

    /** Null when absent or null; a value of another type is a breach. */
    fun longOrNull(path: String): Long? = if (isNull(path)) null else long(path)

    fun double(path: String): Double = (raw(path) as? Number)?.toDouble() ?: fail(path, "a number")

    fun obj(path: String): Fields = Fields(raw(path) as? Map<*, *> ?: fail(path, "an object"), where, "$prefix$path.")

    fun ints(path: String): List<Int> = intsOrNull(path) ?: fail(path, "a list of integers")

    fun intsOrNull(path: String): List<Int>? {
        val list = raw(path) as? List<*> ?: return null
        return list.map { (it as? Long)?.toInt() ?: fail(path, "a list of integers") }
    }

    fun doubles(path: String): List<Double> {
        val list = raw(path) as? List<*> ?: fail(path, "a list of numbers")
        return list.map { (it as? Number)?.toDouble() ?: fail(path, "a list of numbers") }
    }

    fun booleanOrNull(path: String): Boolean? = raw(path) as? Boolean

    fun stringsOrEmpty(path: String): List<String> = (raw(path) as? List<*>)?.map { it.toString() } ?: emptyList()
}
