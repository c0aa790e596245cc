package mae.tensor.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The project's one JSON: safetensors headers, and the run files (run.json, state.json, result.json,
 * probe-*.json, metrics.jsonl).
 *
 * <p>{@link #parse} is strict, because a safetensors header may come from anywhere: nesting deeper than
 * {@value #MAX_DEPTH} levels, duplicate keys, raw control characters in strings, invalid escapes, integers that
 * do not fit in 64 bits and anything after the top-level value are errors with the character position. It yields
 * LinkedHashMap (key order kept), List, String, Long (integers), Double (other numbers), Boolean and {@link #NULL},
 * so that callers can reject a wrong value by name ({@link #typeName}).
 *
 * <p>The writers take nested maps (keys in insertion order, keys must be strings), lists and other collections,
 * int[], long[] and double[], strings, numbers, booleans, null (or {@link #NULL}) and {@link Decimal}. JSON has no
 * NaN or infinity: such a number is written as null. {@link #pretty} indents by two spaces (a run file),
 * {@link #line} writes one line with ", " and ": " (a JSON Lines record), {@link #compact} no spaces at all (a
 * safetensors header).
 */
public final class Json {
    /** Stands for JSON null (maps cannot hold Java null usefully). */
    public static final Object NULL = new Object() { @Override public String toString() { return "null"; } };

    /** The deepest nesting of objects and arrays that {@link #parse} accepts. */
    public static final int MAX_DEPTH = 64;

    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");

    /** A syntax error at a character position of the text. */
    public static final class ParseException extends Exception {
        ParseException(String message, int pos) { super(message + " at character " + pos); }
    }

    /**
     * A number written exactly as given, for values rounded on purpose (e.g. "0.0010" from %.4f): the text must
     * be a JSON number.
     */
    public record Decimal(String text) {
        public Decimal {
            if (text == null || !NUMBER.matcher(text).matches()) throw new IllegalArgumentException("not a JSON number: " + text);
        }
        @Override public String toString() { return text; }
    }

    /** v formatted with a java.util.Formatter format (Locale.ROOT) as a {@link Decimal}; {@link #NULL} when v is not finite. */
    public static Object number(String format, double v) {
        return Double.isFinite(v) ? new Decimal(String.format(Locale.ROOT, format, v)) : NULL;
    }

    private Json() {}

    // ---------------------------------------------------------------- reading

    /** Parses one JSON value (the whole text). */
    public static Object parse(String text) throws ParseException {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object value = p.value();
        p.skipWhitespace();
        if (p.pos != text.length()) throw p.error("unexpected '" + text.charAt(p.pos) + "' after the top-level value");
        return value;
    }

    /**
     * Reads a file holding one JSON object (UTF-8). Errors name the file: "FILE: malformed JSON: ..." or "FILE:
     * expected a JSON object, found an array".
     */
    public static Map<String, Object> readObject(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a directory, expected a JSON file");
        Object v;
        try {
            v = parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getMessage(), e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text, expected JSON", e);
        }
        return asObject(v, file.toString());
    }

    /** v as a JSON object; otherwise an error that starts with where. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v, String where) {
        if (!(v instanceof Map)) throw new IllegalArgumentException(where + ": expected a JSON object, found " + typeName(v));
        return (Map<String, Object>) v;
    }

    /** A short name of a parsed value's JSON type, for error messages. */
    public static String typeName(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Number) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return "null";
    }

    // ---------------------------------------------------------------- writing

    /** {@code text} as a JSON string literal, quotes included. */
    public static String quote(String text) {
        StringBuilder b = new StringBuilder(text.length() + 2);
        quote(text, b);
        return b.toString();
    }

    /** Indented by two spaces, one member or element per line, ending with a newline: a file of its own. */
    public static String pretty(Object value) { return new Writer("  ", ", ", ": ").write(value, 0).append('\n').toString(); }

    /** One line with ", " between members and ": " after keys, no newline: a JSON Lines record. */
    public static String line(Object value) { return new Writer(null, ", ", ": ").write(value, 0).toString(); }

    /** One line without spaces. */
    public static String compact(Object value) { return new Writer(null, ",", ":").write(value, 0).toString(); }

    private static void quote(String text, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }

    private static final class Writer {
        private final String indent, comma, colon;     // indent null: one line
        private final StringBuilder b = new StringBuilder();

        Writer(String indent, String comma, String colon) { this.indent = indent; this.comma = comma; this.colon = colon; }

        StringBuilder write(Object v, int depth) {
            if (depth > MAX_DEPTH) throw new IllegalArgumentException("JSON: nesting deeper than " + MAX_DEPTH + " (a cycle?)");
            if (v == null || v == NULL) b.append("null");
            else if (v instanceof String s) quote(s, b);
            else if (v instanceof Boolean || v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                    || v instanceof Decimal || v instanceof java.math.BigInteger) b.append(v);
            else if (v instanceof java.math.BigDecimal d) b.append(d.toString());
            else if (v instanceof Double d) b.append(Double.isFinite(d) ? d.toString() : "null");
            else if (v instanceof Float f) b.append(Float.isFinite(f) ? f.toString() : "null");
            else if (v instanceof Map<?, ?> m) {
                b.append('{');
                int i = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("JSON: object key " + e.getKey() + " is not a string");
                    separator(i++, depth + 1);
                    quote(k, b);
                    b.append(colon);
                    write(e.getValue(), depth + 1);
                }
                close(i, depth, '}');
            } else if (v instanceof Collection<?> c) array(new ArrayList<>(c), depth);
            else if (v instanceof int[] a) { List<Object> l = new ArrayList<>(); for (int x : a) l.add(x); array(l, depth); }
            else if (v instanceof long[] a) { List<Object> l = new ArrayList<>(); for (long x : a) l.add(x); array(l, depth); }
            else if (v instanceof double[] a) { List<Object> l = new ArrayList<>(); for (double x : a) l.add(x); array(l, depth); }
            else throw new IllegalArgumentException("JSON: cannot write a " + v.getClass().getName());
            return b;
        }

        private void array(List<?> l, int depth) {
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                separator(i, depth + 1);
                write(l.get(i), depth + 1);
            }
            close(l.size(), depth, ']');
        }

        private void separator(int i, int depth) {
            if (indent == null) { if (i > 0) b.append(comma); return; }
            if (i > 0) b.append(',');
            b.append('\n').append(indent.repeat(depth));
        }

        private void close(int n, int depth, char c) {
            if (indent != null && n > 0) b.append('\n').append(indent.repeat(depth));
            b.append(c);
        }
    }

    // ---------------------------------------------------------------- the parser

    private static final class Parser {
        private final String s;
        private int pos;
        private int depth;

        Parser(String s) { this.s = s; }

        Object value() throws ParseException {
            if (pos >= s.length()) throw error("unexpected end of text");
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", NULL);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected character '" + c + "'");
                }
            };
        }

        private Map<String, Object> object() throws ParseException {
            enter();
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') { pos++; depth--; return map; }
            while (true) {
                skipWhitespace();
                if (peek() != '"') throw error("expected a string key");
                int keyPos = pos;
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object v = value();
                if (map.put(key, v) != null) throw new ParseException("duplicate key " + quote(key), keyPos);
                skipWhitespace();
                char c = next("',' or '}'");
                if (c == '}') break;
                if (c != ',') throw error(pos - 1, "expected ',' or '}' but found '" + c + "'");
            }
            depth--;
            return map;
        }

        private List<Object> array() throws ParseException {
            enter();
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') { pos++; depth--; return list; }
            while (true) {
                skipWhitespace();
                list.add(value());
                skipWhitespace();
                char c = next("',' or ']'");
                if (c == ']') break;
                if (c != ',') throw error(pos - 1, "expected ',' or ']' but found '" + c + "'");
            }
            depth--;
            return list;
        }

        private String string() throws ParseException {
            pos++; // opening quote
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next("closing '\"'");
                if (c == '"') return b.toString();
                if (c < 0x20) throw error(pos - 1, "raw control character in a string");
                if (c != '\\') { b.append(c); continue; }
                char e = next("an escape character");
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> b.append(unicodeEscape());
                    default -> throw error(pos - 1, "invalid escape '\\" + e + "'");
                }
            }
        }

        private char unicodeEscape() throws ParseException {
            if (pos + 4 > s.length()) throw error("unexpected end of text in a \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(pos + i), 16);
                if (d < 0) throw error(pos + i, "invalid hex digit in a \\u escape");
                v = v * 16 + d;
            }
            pos += 4;
            return (char) v;
        }

        private Object number() throws ParseException {
            int start = pos;
            if (peek() == '-') pos++;
            if (!isDigit(peek())) throw error("expected a digit");
            if (peek() == '0') pos++;
            else while (isDigit(peek())) pos++;
            boolean integer = true;
            if (peek() == '.') {
                integer = false;
                pos++;
                if (!isDigit(peek())) throw error("expected a digit after '.'");
                while (isDigit(peek())) pos++;
            }
            if (peek() == 'e' || peek() == 'E') {
                integer = false;
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error("expected a digit in the exponent");
                while (isDigit(peek())) pos++;
            }
            String text = s.substring(start, pos);
            if (!integer) return Double.parseDouble(text);
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException ex) {
                throw error(start, "integer " + text + " does not fit in 64 bits");
            }
        }

        private Object literal(String word, Object value) throws ParseException {
            if (!s.startsWith(word, pos)) throw error("unexpected character '" + s.charAt(pos) + "'");
            pos += word.length();
            return value;
        }

        private void enter() throws ParseException {
            if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        }

        void skipWhitespace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        private char peek() { return pos < s.length() ? s.charAt(pos) : '\0'; }

        private char next(String expected) throws ParseException {
            if (pos >= s.length()) throw error("unexpected end of text, expected " + expected);
            return s.charAt(pos++);
        }

        private void expect(char c) throws ParseException {
            char got = next("'" + c + "'");
            if (got != c) throw error(pos - 1, "expected '" + c + "' but found '" + got + "'");
        }

        private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

        ParseException error(String message) { return error(pos, message); }

        private ParseException error(int at, String message) { return new ParseException(message, at); }
    }
}
