package com.pcarnmobile.demo.core

/**
 * A small JSON reader and writer, so the core needs neither Android's org.json nor a library and
 * its tests run on a plain JVM.
 *
 * Objects read as `Map<String, Any?>` (in document order), arrays as `List<Any?>`, numbers as
 * `Long` when written without a fraction or exponent and as `Double` otherwise.
 */
object Json {
    fun parse(text: String): Any? = Reader(text).document()

    /** Maps, lists, strings, numbers, booleans and null; a non-finite number is refused. */
    fun write(value: Any?): String = StringBuilder().also { append(it, value) }.toString()

    private fun append(out: StringBuilder, value: Any?) {
        when (value) {
            null -> out.append("null")
            is String -> quote(out, value)
            is Boolean -> out.append(value)
            is Double -> out.append(finite(value))
            is Float -> out.append(finite(value.toDouble()))
            is Number -> out.append(value.toLong())
            is Map<*, *> -> {
                out.append('{')
                var first = true
                for ((k, v) in value) {
                    if (!first) out.append(',')
                    first = false
                    quote(out, k.toString())
                    out.append(':')
                    append(out, v)
                }
                out.append('}')
            }
            is Iterable<*> -> {
                out.append('[')
                var first = true
                for (v in value) {
                    if (!first) out.append(',')
                    first = false
                    append(out, v)
                }
                out.append(']')
            }
            else -> throw IllegalArgumentException("cannot write ${value.javaClass.simpleName} as JSON")
        }
    }

    private fun finite(value: Double): Double {
        require(!value.isNaN() && !value.isInfinite()) { "JSON has no $value" }
        return value
    }

    private fun quote(out: StringBuilder, s: String) {
        out.append('"')
        for (c in s) {
            when {
                c == '"' -> out.append("\\\"")
                c == '\\' -> out.append("\\\\")
                c == '\n' -> out.append("\\n")
                c == '\r' -> out.append("\\r")
                c == '\t' -> out.append("\\t")
                // c - '\u0000' is the char's code: Char.code needs Kotlin 1.5, the core compiles with 1.3
                c < ' ' -> out.append(String.format("\\u%04x", c - '\u0000'))
                else -> out.append(c)
            }
        }
        out.append('"')
    }

    private class Reader(private val text: String) {
        private var pos = 0

        fun document(): Any? {
            val value = value()
            skipSpace()
            if (pos != text.length) fail("unexpected text after the document")
            return value
        }

        private fun value(): Any? {
            skipSpace()
            if (pos >= text.length) fail("unexpected end")
            return when (text[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> number()
            }
        }

        private fun obj(): Map<String, Any?> {
            val map = LinkedHashMap<String, Any?>()
            pos++
            skipSpace()
            if (peek() == '}') {
                pos++
                return map
            }
            while (true) {
                skipSpace()
                if (peek() != '"') fail("expected a key")
                val key = string()
                skipSpace()
                expect(':')
                map[key] = value()
                skipSpace()
                if (peek() == ',') pos++ else {
                    expect('}')
                    return map
                }
            }
        }

        private fun array(): List<Any?> {
            val list = ArrayList<Any?>()
            pos++
            skipSpace()
            if (peek() == ']') {
                pos++
                return list
            }
            while (true) {
                list.add(value())
                skipSpace()
                if (peek() == ',') pos++ else {
                    expect(']')
                    return list
                }
            }
        }

        private fun string(): String {
            val out = StringBuilder()
            pos++
            while (true) {
                if (pos >= text.length) fail("unterminated string")
                val c = text[pos++]
                when {
                    c == '"' -> return out.toString()
                    c == '\\' -> {
                        if (pos >= text.length) fail("unterminated string")
                        when (val e = text[pos++]) {
                            '"', '\\', '/' -> out.append(e)
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000C')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                if (pos + 4 > text.length) fail("bad \\u escape")
                                out.append(text.substring(pos, pos + 4).toIntOrNull(16)?.toChar() ?: fail("bad \\u escape"))
                                pos += 4
                            }
                            else -> fail("bad escape \\$e")
                        }
                    }
                    else -> out.append(c)
                }
            }
        }

        private fun number(): Number {
            val start = pos
            while (pos < text.length && text[pos] in "+-0123456789.eE") pos++
            val token = text.substring(start, pos)
            if (pos == start) fail("unexpected character '${text[start]}'")
            val integral = token.none { it == '.' || it == 'e' || it == 'E' }
            val value: Number? = if (integral) token.toLongOrNull() else token.toDoubleOrNull()
            return value ?: fail("bad number '$token'")
        }

        private fun literal(word: String, value: Any?): Any? {
            if (!text.startsWith(word, pos)) fail("expected $word")
            pos += word.length
            return value
        }

        private fun expect(c: Char) {
            if (peek() != c) fail("expected '$c'")
            pos++
        }

        private fun peek(): Char? = if (pos < text.length) text[pos] else null

        private fun skipSpace() {
            while (pos < text.length && text[pos].isWhitespace()) pos++
        }

        private fun fail(why: String): Nothing = throw IllegalArgumentException("JSON at offset $pos: $why")
    }
}
