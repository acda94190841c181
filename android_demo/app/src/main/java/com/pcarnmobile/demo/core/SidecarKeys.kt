package com.pcarnmobile.demo.core

/**
 * Every sidecar key the app reads (docs/export-contract.md), as dotted paths from the document
 * root. They live in this one file so tests/test_android_demo.py can check each against
 * pcarn_mobile/export/schema/sidecar-v1.schema.json (schema version 2): a renamed field fails `make test`, not a phone.
 */
object SidecarKeys {
    const val SCHEMA_VERSION = "schema_version"
    const val FILE = "file"
    const val FORMAT = "format"
    const val PRECISION = "precision"
    const val VARIANT = "variant"
    const val SCALE = "scale"
    const val GROUPS = "groups"
    const val INPUT = "input"
    const val OUTPUT = "output"
    const val TILE = "tiling.tile"
    const val OVERLAP = "tiling.overlap"
    const val PAD = "tiling.pad"
    const val MAX_TILE_AREA = "tiling.max_tile_area"
    const val DELEGATE_READY = "graph.delegate_ready"
    const val PROBLEMS = "graph.problems"
    const val VERDICT = "parity.verdict"
    const val NPU = "npu"
    const val NPU_VENDOR = "npu.vendor"
    const val NPU_SOC = "npu.soc"
    const val NPU_SOURCE_FILE = "npu.source_file"
    const val NPU_OPS_ON_NPU = "npu.ops_on_npu"
    const val NPU_OPS_TOTAL = "npu.ops_total"
    const val NPU_PARTITIONS = "npu.partitions"
}

/** Keys inside [SidecarKeys.INPUT] and [SidecarKeys.OUTPUT], as dotted paths from that object. */
object TensorKeys {
    const val NAME = "name"
    const val SHAPE = "shape"
    const val DTYPE = "dtype"
    const val LAYOUT = "layout"
    const val RANGE = "range"
    const val QUANTIZATION = "quantization"
    const val QUANT_SCALE = "quantization.scale"
    const val QUANT_ZERO_POINT = "quantization.zero_point"
}
