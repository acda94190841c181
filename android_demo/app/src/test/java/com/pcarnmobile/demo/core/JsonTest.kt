package com.pcarnmobile.demo.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class JsonTest {
    @Test
    fun readsEveryKindOfValue() {
        val doc = Json.parse("""{"a": [1, -2.5, 1e3, true, false, null], "b": {"c": "x\"\\\n\u00e9"}, "d": []}""")
        assertEquals(
            mapOf("a" to listOf(1L, -2.5, 1000.0, true, false, null), "b" to mapOf("c" to "x\"\\\n\u00e9"), "d" to emptyList<Any?>()),
            doc
        )
    }

    @Test
    fun writesWhatItReads() {
        val doc = mapOf("s" to "tab\tquote\"", "n" to listOf(1, 2.5, -3L), "m" to mapOf("z" to null, "t" to true))
        assertEquals(
            mapOf("s" to "tab\tquote\"", "n" to listOf(1L, 2.5, -3L), "m" to mapOf("z" to null, "t" to true)),
            Json.parse(Json.write(doc))
        )
    }

    @Test
    fun brokenDocumentsSayWhere() {
        for (text in listOf("{", "[1,]", "{\"a\" 1}", "tru", "\"open", "1 2", "{\"a\": 01x}")) {
            try {
                Json.parse(text)
                fail("parsed $text")
            } catch (e: IllegalArgumentException) {
                assertTrue(e.message, e.message!!.startsWith("JSON at offset"))
            }
        }
    }

    @Test(expected = IllegalArgumentException::class)
    fun nonFiniteNumbersAreRefused() {
        Json.write(listOf(Double.NaN))
    }
}
