package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class LatencyReportTest {
    @Test
    fun statisticsAreNumpys() {
        val stats = LatencyStats.of(listOf(10.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0))
        assertEquals(LatencyStats(1.0, 5.5, 9.1, 5.5, 10.0, Math.sqrt(8.25)).toJson().keys, stats.toJson().keys)
        assertEquals(5.5, stats.p50, 1e-12)
        assertEquals(9.1, stats.p90, 1e-12)
        assertEquals(Math.sqrt(8.25), stats.std, 1e-12)
    }

    @Test
    fun aFailedGpuRequestIsRecordedAsFailed() {
        val failed = LatencyResult(
            Fixtures.sidecar(Fixtures.FP32), null, Size(128, 128), "gpu", null, 20, 3, null, null, null,
            "failed", listOf("GPU compile failed"), "GPU compile failed"
        ).toJson()
        assertNull(failed["latency_ms"])
        assertEquals(mapOf("status" to "failed", "messages" to listOf("GPU compile failed")), failed["delegation"])
        assertEquals(listOf(128, 128), failed["input"])
    }

    /** The NPU row's delegated share is the compiled file's partition facts. */
    @Test
    fun anNpuResultCarriesItsPartitionFacts() {
        val stats = LatencyStats.of(listOf(2.0, 3.0))
        val npu = LatencyResult(
            Fixtures.sidecar(Fixtures.NPU_SM8650), null, Size(128, 128), "npu", null, 2, 1, stats, 900.0, 4.0,
            "unknown", emptyList(), null
        ).toJson()
        assertEquals(
            mapOf("status" to "full", "delegate_kernels" to 1, "delegated_ops" to 75, "cpu_ops" to 0, "messages" to emptyList<String>()),
            npu["delegation"]
        )
        assertEquals("npu", npu["backend"])
    }

    @Test
    fun timesAreUtc() {
        assertEquals("2026-01-02T03:04:05Z", LatencyReport.utc(1767323045000L))
    }

    @Test
    fun theBenchmarkInputIsFixedAndOpaque() {
        val a = LatencyReport.inputPixels(Size(8, 16))
        assertTrue(a.contentEquals(LatencyReport.inputPixels(Size(8, 16))))
        assertTrue(a.all { it ushr 24 == 0xFF })
        assertTrue(a.toSet().size > 100)
    }
}
