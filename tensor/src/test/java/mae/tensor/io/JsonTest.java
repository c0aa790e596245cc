package mae.tensor.io;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    static Object parse(String s) throws Json.ParseException { return Json.parse(s); }

    static String parseError(String s) {
        return assertThrows(Json.ParseException.class, () -> Json.parse(s), s).getMessage();
    }

    @Test void parses_every_json_type_keeping_key_order() throws Exception {
        Object v = parse(" {\"z\": 1, \"a\": [true, false, null, -0.5e2, \"\\u00e9\\n\\\"\\/\"], \"m\": {}, \"l\": [], \"big\": -9223372036854775808} ");
        Map<String, Object> m = Json.asObject(v, "test");
        assertEquals(List.of("z", "a", "m", "l", "big"), List.copyOf(m.keySet()));
        assertEquals(1L, m.get("z"));
        assertEquals(List.of(true, false, Json.NULL, -50.0, "\u00e9\n\"/"), m.get("a"));
        assertEquals(Map.of(), m.get("m"));
        assertEquals(List.of(), m.get("l"));
        assertEquals(Long.MIN_VALUE, m.get("big"));
        assertEquals("a number", Json.typeName(m.get("z")));
        assertEquals("an array", Json.typeName(m.get("a")));
        assertEquals("null", Json.typeName(Json.NULL));
    }

    @Test void rejects_hostile_or_malformed_text_with_the_position() {
        assertEquals("nesting deeper than 64 at character 64", parseError("[".repeat(65) + "]".repeat(65)));
        assertDoesNotThrow(() -> parse("[".repeat(64) + "]".repeat(64)));
        assertEquals("duplicate key \"a\" at character 9", parseError("{\"a\": 1, \"a\": 2}"));
        assertEquals("raw control character in a string at character 2", parseError("\"a\nb\""));
        assertEquals("invalid escape '\\x' at character 3", parseError("\"a\\x\""));
        assertEquals("integer 9223372036854775808 does not fit in 64 bits at character 0", parseError("9223372036854775808"));
        assertEquals("unexpected 'x' after the top-level value at character 3", parseError("{} x"));
        assertEquals("unexpected end of text, expected ',' or '}' at character 7", parseError("{\"a\": 1"));
        assertEquals("unexpected end of text at character 0", parseError(""));
        assertEquals("unexpected character 'N' at character 0", parseError("NaN"));
        assertEquals("expected a digit at character 1", parseError("-"));
        assertEquals("expected a digit after '.' at character 2", parseError("1."));
        assertEquals("expected a string key at character 1", parseError("{1: 2}"));
    }

    @Test void writes_pretty_line_and_compact_and_reads_back_the_same_values() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "tab\there \"q\" \\ \u0001");
        m.put("i", 3);
        m.put("l", -4L);
        m.put("d", 0.1);
        m.put("e", 1e-4);
        m.put("b", false);
        m.put("n", null);
        m.put("list", List.of(1, "two", List.of()));
        m.put("shape", new int[]{2, 3});
        m.put("offsets", new long[]{0, 1L << 40});
        m.put("nested", Map.of("k", Map.of()));
        assertEquals("{\"s\":\"tab\\there \\\"q\\\" \\\\ \\u0001\",\"i\":3,\"l\":-4,\"d\":0.1,\"e\":1.0E-4,\"b\":false,\"n\":null,"
                + "\"list\":[1,\"two\",[]],\"shape\":[2,3],\"offsets\":[0,1099511627776],\"nested\":{\"k\":{}}}", Json.compact(m));
        Map<String, Object> small = new LinkedHashMap<>();
        small.put("a", List.of(1, 2));
        small.put("b", Map.of("c", "d"));
        small.put("e", Map.of());
        assertEquals("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n    \"c\": \"d\"\n  },\n  \"e\": {}\n}\n", Json.pretty(small));
        assertEquals("{\"a\": [1, 2], \"b\": {\"c\": \"d\"}, \"e\": {}}", Json.line(small));

        for (String text : new String[]{Json.pretty(m), Json.line(m), Json.compact(m)}) {
            Map<String, Object> back = Json.asObject(Json.parse(text), "x");
            assertEquals(m.get("s"), back.get("s"));
            assertEquals(3L, back.get("i"));
            assertEquals(-4L, back.get("l"));
            assertEquals(0.1, back.get("d"));
            assertEquals(1e-4, back.get("e"));
            assertEquals(false, back.get("b"));
            assertSame(Json.NULL, back.get("n"));
            assertEquals(List.of(1L, "two", List.of()), back.get("list"));
            assertEquals(List.of(2L, 3L), back.get("shape"));
            assertEquals(List.of(0L, 1L << 40), back.get("offsets"));
            assertEquals(Map.of("k", Map.of()), back.get("nested"));
        }
    }

    @Test void numbers_that_json_cannot_hold_are_null_and_decimals_are_written_as_given() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nan", Double.NaN);
        m.put("inf", Float.NEGATIVE_INFINITY);
        m.put("epoch", Json.number("%.4f", 0.001));
        m.put("lr", Json.number("%.6g", 1.5e-5));
        m.put("gone", Json.number("%.1f", Double.POSITIVE_INFINITY));
        assertEquals("{\"nan\": null, \"inf\": null, \"epoch\": 0.0010, \"lr\": 1.50000e-05, \"gone\": null}", Json.line(m));
        assertEquals(1.5e-5, Json.asObject(Json.parse(Json.line(m)), "x").get("lr"));
        assertThrows(IllegalArgumentException.class, () -> new Json.Decimal("1,5"));
        assertThrows(IllegalArgumentException.class, () -> new Json.Decimal("NaN"));
        assertThrows(IllegalArgumentException.class, () -> new Json.Decimal("01"));
        assertThrows(IllegalArgumentException.class, () -> Json.compact(Map.of(1, 2)), "keys are strings");
        assertThrows(IllegalArgumentException.class, () -> Json.compact(new Object()));
    }
}
