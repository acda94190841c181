package com.pcarnmobile.demo.core

/** Sidecars in src/test/resources/sidecars: real exporter output (tests/test_android_demo.py validates them against the schema). */
object Fixtures {
    const val FP32 = "pcarn_m_g4_x4_128x128_fp32.tflite.json"
    const val FP16 = "pcarn_m_g4_x4_128x128_fp16.tflite.json"
    const val INT8 = "pcarn_m_g4_x4_128x128_int8.tflite.json"
    const val UINT8_IO = "pcarn_m_g4_x4_128x128_int8_uint8io.tflite.json"
    const val DYNAMIC = "pcarn_m_g4_x2_dyn_fp32.tflite.json"
    const val NPU_SM8650 = "pcarn_m_g4_x4_128x128_int8_qualcomm_sm8650.tflite.json"

    fun text(name: String): String =
        Fixtures::class.java.getResource("/sidecars/$name")?.readText() ?: throw IllegalStateException("no fixture $name")

    fun sidecar(name: String): Sidecar = Sidecar.parse(text(name), name)

    /** [name]'s document after [edit], as text. */
    @Suppress("UNCHECKED_CAST")
    fun edited(name: String, edit: (MutableMap<String, Any?>) -> Unit): String {
        val doc = Json.parse(text(name)) as MutableMap<String, Any?>
        edit(doc)
        return Json.write(doc)
    }
}
