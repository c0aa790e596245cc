package mae.tensor.io;

import mae.tensor.io.Safetensors.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The JSON reader and writer and the safetensors reader and writer at their edges: every refusal, and just inside it. */
class IoEdgesTest {
    @TempDir Path dir;

    static void parseError(String text, String... words) {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(text), text);
        for (String w : words) assertTrue(e.getMessage().contains(w), text + ": '" + e.getMessage() + "' should say " + w);
    }

    @Test void json_reads_whitespace_anywhere_and_every_number_form() throws Exception {
        Object v = Json.parse(" \t\n{ \"a\" : [ 1 , -2 , 3.5 ] ,\r\n \"b\" : { } , \"c\" : [ ] , \"d\" : { \"e\" : null } } \n");
        assertEquals("{a=[1, -2, 3.5], b={}, c=[], d={e=null}}", v.toString());
        assertEquals(0L, Json.parse("-0"));
        assertEquals(1e5, Json.parse("1e+5"));
        assertEquals(1.5e-3, Json.parse("1.5E-3"));
        assertEquals(-25.0, Json.parse("-2.5e1"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(true, Json.parse("true"));
        assertEquals(false, Json.parse("false"));
        assertSame(Json.NULL, Json.parse("null"));
        assertEquals("é A \uffff\"\\/\b\f\n\r\t", Json.parse("\"\\u00e9 \\u0041 \\uFFFF\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
    }

    @Test void json_refuses_malformed_text_saying_where() {
        parseError("[1 2]", "expected ',' or ']' but found '2'", "character 3");
        parseError("{\"a\" 1}", "expected ':' but found '1'", "character 5");
        parseError("{\"a\":1 \"b\":2}", "expected ',' or '}' but found '\"'", "character 7");
        parseError("{1:2}", "expected a string key", "character 1");
        parseError("{\"a\":1,}", "expected a string key");
        parseError("[1,]", "unexpected character ']'");
        parseError("{\"a\":1, \"a\":2}", "duplicate key \"a\"", "character 8");
        parseError("tru", "unexpected character 't'");
        parseError("nul", "unexpected character 'n'");
        parseError("[1", "unexpected end of text, expected ',' or ']'");
        parseError("{\"a\":1", "unexpected end of text, expected ',' or '}'");
        parseError("\"\\u004", "unexpected end of text in a \\u escape");
        parseError("\"\\u0041", "unexpected end of text, expected closing '\"'");
        parseError("\"\\u00G1\"", "invalid hex digit", "character 5");
        parseError("\"\\q\"", "invalid escape '\\q'");
        parseError("\"a\u0001\"", "raw control character", "character 2");
        parseError("-", "expected a digit");
        parseError("-a", "expected a digit");
        parseError("1.", "expected a digit after '.'");
        parseError("1e", "expected a digit in the exponent");
        parseError("1e+", "expected a digit in the exponent");
        parseError("01", "unexpected '1' after the top-level value");
        parseError("99999999999999999999", "does not fit in 64 bits", "character 0");
        parseError("[] x", "unexpected 'x'", "character 3");
        parseError("", "unexpected end of text");
        parseError("@", "unexpected character '@'");
    }

    @Test void json_nesting_is_limited_for_objects_and_arrays() throws Exception {
        String arrays = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertNotNull(Json.parse(arrays));
        parseError("[" + arrays + "]", "nesting deeper than 64");
        StringBuilder o = new StringBuilder();
        for (int i = 0; i < Json.MAX_DEPTH; i++) o.append("{\"k\":");
        o.append("1").append("}".repeat(Json.MAX_DEPTH));
        assertNotNull(Json.parse(o.toString()));
        parseError("{\"k\":" + o + "}", "nesting deeper than 64");
        // empty objects and arrays at the deepest level leave the depth where it was: siblings fit too
        String empties = "[".repeat(Json.MAX_DEPTH - 2) + "[{}, {}, [], []]" + "]".repeat(Json.MAX_DEPTH - 2);
        assertNotNull(Json.parse(empties));
    }

    @Test void json_writes_every_type_in_each_layout() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("i", new int[]{1, 2});
        m.put("l", new long[]{3});
        m.put("d", new double[]{0.5, Double.NaN});
        m.put("e", new ArrayList<>());
        m.put("o", new LinkedHashMap<>());
        m.put("n", null);
        m.put("x", List.of(Json.NULL, true, (short) 4, (byte) 5, 6, 7L, 1.5f, Float.POSITIVE_INFINITY, 2.5, new BigDecimal("1.10"),
                new BigInteger("123456789012345678901234567890"), new Json.Decimal("0.0010"), "s\"q"));
        assertEquals("{\"i\":[1,2],\"l\":[3],\"d\":[0.5,null],\"e\":[],\"o\":{},\"n\":null,"
                + "\"x\":[null,true,4,5,6,7,1.5,null,2.5,1.10,123456789012345678901234567890,0.0010,\"s\\\"q\"]}", Json.compact(m));
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("a", List.of(1, 2));
        l.put("b", new LinkedHashMap<>(Map.of("c", Json.NULL)));
        assertEquals("{\"a\": [1, 2], \"b\": {\"c\": null}}", Json.line(l));
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("a", List.of(1, List.of()));
        p.put("b", new LinkedHashMap<>(Map.of("c", 2)));
        p.put("e", new LinkedHashMap<>());
        assertEquals("{\n  \"a\": [\n    1,\n    []\n  ],\n  \"b\": {\n    \"c\": 2\n  },\n  \"e\": {}\n}\n", Json.pretty(p));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.compact(Map.of(1, 2)));
        assertTrue(e.getMessage().contains("object key 1 is not a string"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.compact(new Object()));
        assertTrue(e.getMessage().contains("cannot write a java.lang.Object"), e.getMessage());
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        e = assertThrows(IllegalArgumentException.class, () -> Json.compact(cycle));
        assertTrue(e.getMessage().contains("nesting deeper than 64"), e.getMessage());
        Object deep = 1;
        for (int i = 0; i < Json.MAX_DEPTH; i++) deep = List.of(deep);
        assertEquals("[".repeat(Json.MAX_DEPTH) + "1" + "]".repeat(Json.MAX_DEPTH), Json.compact(deep), "64 levels are written");
        assertThrows(IllegalArgumentException.class, () -> new Json.Decimal("1."));
        assertThrows(IllegalArgumentException.class, () -> new Json.Decimal(null));
        assertSame(Json.NULL, Json.number("%.2f", Double.NaN));
        assertEquals("2.50", Json.number("%.2f", 2.5).toString());
        assertEquals("null", Json.NULL.toString());
    }

    @Test void json_type_names_and_files() throws IOException {
        assertEquals("an object", Json.typeName(Map.of()));
        assertEquals("an array", Json.typeName(List.of()));
        assertEquals("a string", Json.typeName("x"));
        assertEquals("a number", Json.typeName(1L));
        assertEquals("a boolean", Json.typeName(true));
        assertEquals("null", Json.typeName(Json.NULL));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.asObject(List.of(), "run.json"));
        assertEquals("run.json: expected a JSON object, found an array", e.getMessage());
        Path f = dir.resolve("a.json");
        Files.writeString(f, "{\"k\": [1]}");
        assertEquals(Map.of("k", List.of(1L)), Json.readObject(f));
        Files.writeString(f, "[1]");
        e = assertThrows(IllegalArgumentException.class, () -> Json.readObject(f));
        assertTrue(e.getMessage().endsWith("expected a JSON object, found an array") && e.getMessage().startsWith(f.toString()), e.getMessage());
        Files.writeString(f, "{\"k\": }");
        e = assertThrows(IllegalArgumentException.class, () -> Json.readObject(f));
        assertTrue(e.getMessage().startsWith(f + ": malformed JSON: unexpected character '}'"), e.getMessage());
    }

    // ---------------------------------------------------------------- safetensors

    /** A safetensors file with this header text (padded to 8) and blob. */
    Path raw(String header, byte[] blob) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + blob.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(blob);
        Path f = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    static void refused(Executable e, String... words) {
        Exception x = assertThrows(Exception.class, e);
        assertTrue(x instanceof SafetensorsException || x instanceof IllegalArgumentException, x.toString());
        for (String w : words) assertTrue(x.getMessage().contains(w), "'" + x.getMessage() + "' should say " + w);
    }

    @Test void safetensors_slots_must_not_overlap_but_may_touch_and_nest_in_any_order() throws IOException {
        byte[] blob = new byte[32];
        // listed out of order, touching at 8 and 16, an empty tensor inside another's bytes: fine
        Path ok = raw("{\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", blob);
        assertEquals(List.of("c", "a", "e", "b"), List.copyOf(Safetensors.read(ok).tensors().keySet()));
        // a long tensor, then a short one inside it, then one that overlaps only the long one
        Path nested = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", blob);
        refused(() -> Safetensors.read(nested), "overlap tensor 'a'");
        Path late = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", blob);
        refused(() -> Safetensors.read(late), "tensor 'a'", "overlap tensor 'b'");
        // the second tensor (not at 0) checked for its size too
        Path size = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,16]}}", blob);
        refused(() -> Safetensors.read(size), "hold 12 bytes", "needs 8");
        Path sized = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[4,20]}}", new byte[20]);
        assertArrayEquals(new long[2], Safetensors.read(sized).tensors().get("b").longs());
    }

    @Test void safetensors_numbers_in_the_header_are_checked() throws IOException {
        byte[] blob = new byte[8];
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,0]}}", blob)), "dimension over 2^31-1");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647],\"data_offsets\":[0,0]}}", blob)), "more elements than a Java array holds");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483639],\"data_offsets\":[0,0]}}", blob)), "hold 0 bytes");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", blob)), "non-negative integers");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", blob)), "non-negative integers");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", blob)), "1 elements, expected 2");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", blob)), "3 elements, expected 2");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", blob)), "non-negative integers");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}}", blob)), "not an array");
        assertEquals(0, Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", blob)).tensors().get("a").numel());
        assertEquals(2, Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", blob)).tensors().get("a").numel(), "the blob's last byte");
        refused(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", blob)), "end beyond the 8-byte data blob");
    }

    @Test void safetensors_header_length_and_file_size() throws IOException {
        Path seven = dir.resolve("seven");
        Files.write(seven, new byte[7]);
        refused(() -> Safetensors.read(seven), "7 bytes, shorter than the 8-byte header length");
        Path exact = raw("{}", new byte[0]);                                     // the header fills the rest exactly
        assertTrue(Safetensors.read(exact).tensors().isEmpty());
        byte[] b = Files.readAllBytes(exact);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 3);
        Files.write(exact, b);
        refused(() -> Safetensors.read(exact), "header length 3 is larger than the 2 bytes");
        ByteBuffer big = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).put("{}  ".getBytes());
        Path huge = dir.resolve("huge");
        Files.write(huge, big.array());
        refused(() -> Safetensors.read(huge), "larger than");
    }

    @Test void safetensors_writing_checks_pads_to_eight_and_leaves_a_readable_file() throws IOException {
        Path f = dir.resolve("w.safetensors");
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("a", Entry.f32(new int[]{3}, new float[]{1, 2, 3}));
        t.put("b", Entry.i64(new int[]{1}, new long[]{7}));
        Safetensors.write(f, Map.of("k", "v"), t);
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        assertTrue(header.trim().length() > n - 8, "padded with fewer than 8 spaces: " + n + " for " + header.trim().length());
        assertEquals(8 + n + 12 + 8, bytes.length);
        if (f.getFileSystem().supportedFileAttributeViews().contains("posix"))
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));

        refused(() -> Safetensors.write(f, null, null), "tensors map is null");
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        refused(() -> Safetensors.write(f, nullValue, t), "null key or value");
        Map<String, String> nullKey = new LinkedHashMap<>();
        nullKey.put(null, "v");
        refused(() -> Safetensors.write(f, nullKey, t), "null key or value");
        Map<String, Entry> bad = new LinkedHashMap<>();
        bad.put(null, t.get("a"));
        refused(() -> Safetensors.write(f, null, bad), "null name");
        bad.clear();
        bad.put("__metadata__", t.get("a"));
        refused(() -> Safetensors.write(f, null, bad), "reserved");
        bad.clear();
        bad.put("x", null);
        refused(() -> Safetensors.write(f, null, bad), "entry is null");
        bad.clear();
        bad.put("x", new Entry("F16", new int[]{1}, new float[]{1}, null));
        refused(() -> Safetensors.write(f, null, bad), "F16 cannot be written");
        assertArrayEquals(new float[]{1, 2, 3}, Safetensors.read(f).tensors().get("a").floats(), "a refused write leaves the file");

        SafetensorsException own = new SafetensorsException(f, "from the step");
        SafetensorsException thrown = assertThrows(SafetensorsException.class, () -> Safetensors.write(f, null, t, () -> { throw own; }));
        assertSame(own, thrown, "a SafetensorsException is not wrapped");
        thrown = assertThrows(SafetensorsException.class, () -> Safetensors.write(f, null, t, () -> { throw new IOException("disk full"); }));
        assertTrue(thrown.getMessage().contains("write failed: java.io.IOException: disk full"), thrown.getMessage());
    }

    @Test void entries_check_their_data() {
        refused(() -> new Entry("F32", new int[]{2}, new float[3], null), "3 values", "needs 2");
        refused(() -> new Entry("F32", new int[]{1}, null, new long[1]), "needs float data");
        refused(() -> new Entry("F32", new int[]{1}, new float[1], new long[1]), "needs float data");
        refused(() -> new Entry("I64", new int[]{1}, new float[1], null), "needs integer data");
        refused(() -> new Entry("I64", new int[]{1}, new float[1], new long[1]), "needs integer data");
        refused(() -> new Entry("F32", new int[]{-1}, new float[0], null), "negative dimension");
        refused(() -> new Entry("F32", new int[]{Integer.MAX_VALUE - 7}, new float[0], null), "more than a Java array holds");
        refused(() -> new Entry("Q8", new int[]{1}, new float[1], null), "unknown dtype 'Q8'");
        assertEquals(0, new Entry("F32", new int[]{0, 3}, new float[0], null).numel());
        assertEquals(1, new Entry("I64", new int[0], null, new long[1]).numel());
        assertEquals("Entry[F32 [2, 1]]", Entry.f32(new int[]{2, 1}, new float[2]).toString());
    }

    @Test void json_refuses_a_directory_by_name() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.readObject(dir));
        assertEquals(dir + ": is a directory, expected a JSON file", e.getMessage());
    }

    @Test void safetensors_reading_names_a_directory_a_missing_file_and_an_empty_header() throws IOException {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.read(dir));
        assertTrue(e.getMessage().contains("is a directory, not a safetensors file"), e.getMessage());
        e = assertThrows(SafetensorsException.class, () -> Safetensors.read(dir.resolve("none.safetensors")));
        assertTrue(e.getMessage().contains("none.safetensors") && e.getMessage().contains("no such file"), e.getMessage());
        Path eight = dir.resolve("eight");
        Files.write(eight, new byte[8]);                                         // header length 0, nothing after it
        e = assertThrows(SafetensorsException.class, () -> Safetensors.read(eight));
        assertTrue(e.getMessage().contains("malformed JSON header"), "8 bytes are long enough for the length field: " + e.getMessage());
    }

    @Test void safetensors_header_over_the_100_MB_limit_is_refused_before_it_is_read() throws IOException {
        Path f = dir.resolve("sparse.safetensors");
        try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(8 + 100_000_001L + 8);                                   // sparse: takes no disk space
            r.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array());
        }
        refused(() -> Safetensors.read(f), "header length 100000001 exceeds the 100000000-byte limit");
    }

    @Test void safetensors_overlaps_are_found_after_the_furthest_end_moves() throws IOException {
        // a, then b ending further than a, then c overlapping b only
        Path f = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[16]);
        refused(() -> Safetensors.read(f), "tensor 'c': data_offsets [8, 16] overlap tensor 'b' at [4, 12]");
    }

    @Test void safetensors_writing_refuses_a_directory_and_cleans_up_after_any_failure() throws IOException {
        Map<String, Entry> t = Map.of("a", Entry.f32(new int[]{1}, new float[]{1}));
        refused(() -> Safetensors.write(dir, null, t), "is a directory, cannot write a safetensors file there");
        Path f = dir.resolve("w.safetensors");
        Safetensors.write(f, null, t);
        IllegalStateException bug = new IllegalStateException("a bug in the step");
        assertSame(bug, assertThrows(IllegalStateException.class, () -> Safetensors.write(f, null, Map.of("b", t.get("a")), () -> { throw bug; })));
        try (var s = Files.list(dir)) {
            assertEquals(List.of("w.safetensors"), s.map(p -> p.getFileName().toString()).toList(), "the temp file is removed after an unchecked failure");
        }
        assertEquals(List.of("a"), List.copyOf(Safetensors.read(f).tensors().keySet()), "the old file stays");
        // the temp file cannot be removed (a non-empty folder took its place): that failure is kept as suppressed
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Safetensors.write(f, null, t, () -> {
            try (var s = Files.list(dir)) {
                Path tmp = s.filter(p -> p.getFileName().toString().startsWith(".w.safetensors.")).findFirst().orElseThrow();
                Files.delete(tmp);
                Files.createDirectory(tmp);
                Files.writeString(tmp.resolve("x"), "x");
            }
            throw new IOException("disk gone");
        }));
        assertTrue(e.getMessage().contains("write failed: java.io.IOException: disk gone"), e.getMessage());
        Throwable[] suppressed = e.getCause().getSuppressed();
        assertEquals(1, suppressed.length);
        assertTrue(suppressed[0] instanceof java.nio.file.DirectoryNotEmptyException, suppressed[0].toString());
    }

    @Test void entries_may_hold_up_to_2_to_the_31_minus_9_values() {
        refused(() -> new Entry("F32", new int[]{Integer.MAX_VALUE - 8}, new float[1], null), "data has 1 values but shape [2147483639] needs 2147483639");
        refused(() -> new Entry("F32", new int[]{Integer.MAX_VALUE - 7}, new float[1], null), "more than a Java array holds");
    }
}
