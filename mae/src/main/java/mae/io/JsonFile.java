package mae.io;

import mae.tensor.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A run file holding one JSON object (run.json, state.json, result.json, probe-*.json): written atomically and
 * indented, read with typed getters. A getter also takes its value as a string holding it, the way files written
 * before the run files held numbers and booleans as such did ({"step": "12"} reads like {"step": 12}), so old run
 * folders still load and resume. Errors name the file and the key.
 */
public final class JsonFile {
    private final Path file;
    private final Map<String, Object> values;

    private JsonFile(Path file, Map<String, Object> values) { this.file = file; this.values = values; }

    /** Writes value (a map, usually) as indented JSON, atomically. */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.writeString(file, Json.pretty(value));
    }

    /** Largest run file read (ours are a few hundred bytes). */
    static final long MAX_BYTES = 1 << 20;

    /** Reads a file holding a JSON object; a missing, oversized or malformed one is an error naming the file. */
    public static JsonFile read(Path file) throws IOException {
        if (!java.nio.file.Files.isRegularFile(file))
            throw new IllegalArgumentException(file + (java.nio.file.Files.isDirectory(file) ? ": is a directory" : ": no such file") + ", expected a JSON file");
        long size = java.nio.file.Files.size(file);
        if (size > MAX_BYTES) throw new IllegalArgumentException(file + ": " + size + " bytes, more than a run file holds (" + MAX_BYTES + ")");
        return new JsonFile(file, Json.readObject(file));
    }

    public Path file() { return file; }

    public boolean has(String key) { return values.containsKey(key); }

    /** A string; null for JSON null, or for "" when emptyIsNull. */
    public String string(String key, boolean emptyIsNull) {
        Object v = get(key);
        if (v == Json.NULL) return null;
        if (!(v instanceof String s)) throw wrong(key, v, "a string");
        return emptyIsNull && s.isEmpty() ? null : s;
    }

    public String string(String key) { return string(key, false); }

    /** A string, or fallback when the key is absent. */
    public String stringOr(String key, String fallback) { return has(key) ? string(key) : fallback; }

    public long longValue(String key) {
        Object v = get(key);
        if (v instanceof Long l) return l;
        if (v instanceof String s) return parse(key, s, Long::parseLong, "an integer");
        throw wrong(key, v, "an integer");
    }

    public int intValue(String key) {
        long l = longValue(key);
        if (l != (int) l) throw new IllegalArgumentException(file + ": \"" + key + "\" is " + l + ", outside the int range");
        return (int) l;
    }

    /** A number (an integer too); a string holding one, "NaN" and "Infinity" included, as old files wrote them. */
    public double doubleValue(String key) {
        Object v = get(key);
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof String s) return parse(key, s, Double::parseDouble, "a number");
        throw wrong(key, v, "a number");
    }

    /** A boolean; a string reads as Boolean.parseBoolean does (the old files held "true" or "false"). */
    public boolean booleanValue(String key) {
        Object v = get(key);
        if (v instanceof Boolean b) return b;
        if (v instanceof String s) return Boolean.parseBoolean(s);
        throw wrong(key, v, "a boolean");
    }

    /** An array of numbers. */
    public double[] doubles(String key) {
        Object v = get(key);
        if (!(v instanceof java.util.List<?> l)) throw wrong(key, v, "an array of numbers");
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Number n)) throw new IllegalArgumentException(file + ": \"" + key + "\"[" + i + "] is " + Json.typeName(l.get(i)) + ", expected a number");
            out[i] = n.doubleValue();
        }
        return out;
    }

    /** An array of integers (64-bit). */
    public long[] longs(String key) {
        Object v = get(key);
        if (!(v instanceof java.util.List<?> l)) throw wrong(key, v, "an array of integers");
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long n)) throw new IllegalArgumentException(file + ": \"" + key + "\"[" + i + "] is " + (l.get(i) instanceof Number ? l.get(i) : Json.typeName(l.get(i))) + ", expected an integer");
            out[i] = n;
        }
        return out;
    }

    /** A JSON object of strings. */
    public Map<String, String> strings(String key) {
        Object v = get(key);
        if (!(v instanceof Map<?, ?> m)) throw wrong(key, v, "an object of strings");
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) throw new IllegalArgumentException(file + ": \"" + key + "\"." + e.getKey() + " is " + Json.typeName(e.getValue()) + ", expected a string");
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private Object get(String key) {
        if (!values.containsKey(key)) throw new IllegalArgumentException(file + ": no \"" + key + "\"");
        return values.get(key);
    }

    private <T> T parse(String key, String s, java.util.function.Function<String, T> f, String expected) {
        try {
            return f.apply(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": \"" + key + "\" is " + Json.quote(s) + ", expected " + expected);
        }
    }

    private IllegalArgumentException wrong(String key, Object v, String expected) {
        return new IllegalArgumentException(file + ": \"" + key + "\" is " + (v instanceof Number ? v : Json.typeName(v)) + ", expected " + expected);
    }
}
