package mae.tensor.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The minimal JSON a safetensors header needs. Parsing yields LinkedHashMap (key order kept), List, String,
 * Long (integers), Double (other numbers), Boolean and NULL, so that callers can reject a wrong value by name.
 * Writing only needs {@link #quote(String)}.
 */
final class HeaderJson {
    /** Stands for JSON null (maps cannot hold Java null usefully). */
    static final Object NULL = new Object() { @Override public String toString() { return "null"; } };

    private static final int MAX_DEPTH = 64;

    /** A syntax error at a character position of the header text. */
    static final class ParseException extends Exception {
        ParseException(String message, int pos) { super(message + " at character " + pos); }
    }

    private final String s;
    private int pos;
    private int depth;

    private HeaderJson(String s) { this.s = s; }

    static Object parse(String text) throws ParseException {
        HeaderJson p = new HeaderJson(text);
        p.skipWhitespace();
        Object value = p.value();
        p.skipWhitespace();
        if (p.pos != text.length()) throw p.error("unexpected '" + text.charAt(p.pos) + "' after the top-level value");
        return value;
    }

    /** {@code text} as a JSON string literal, quotes included. */
    static String quote(String text) {
        StringBuilder b = new StringBuilder(text.length() + 2).append('"');
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
        return b.append('"').toString();
    }

    /** A short name of a parsed value's JSON type, for error messages. */
    static String typeName(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Long || v instanceof Double) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return "null";
    }

    private Object value() throws ParseException {
        if (pos >= s.length()) throw error("unexpected end of header");
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
        if (pos + 4 > s.length()) throw error("unexpected end of header in a \\u escape");
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

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private char peek() { return pos < s.length() ? s.charAt(pos) : '\0'; }

    private char next(String expected) throws ParseException {
        if (pos >= s.length()) throw error("unexpected end of header, expected " + expected);
        return s.charAt(pos++);
    }

    private void expect(char c) throws ParseException {
        char got = next("'" + c + "'");
        if (got != c) throw error(pos - 1, "expected '" + c + "' but found '" + got + "'");
    }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    private ParseException error(String message) { return error(pos, message); }

    private ParseException error(int at, String message) { return new ParseException(message, at); }
}
