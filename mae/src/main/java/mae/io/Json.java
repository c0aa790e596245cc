package mae.io;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Flat JSON objects of string values (run.json, state.json, result.json): all this project writes. */
public final class Json {
    private Json() {}

    public static String flat(Map<String, String> m) {
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, String> e : m.entrySet()) {
            sb.append("  ").append(quote(e.getKey())).append(": ").append(quote(e.getValue()));
            sb.append(++i < m.size() ? ",\n" : "\n");
        }
        return sb.append("}\n").toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** Parses what {@link #flat} writes (string values only); errors name the file. */
    public static Map<String, String> parseFlat(String text, Path file) {
        Map<String, String> m = new LinkedHashMap<>();
        int[] pos = {skip(text, 0)};
        expect(text, pos, '{', file);
        pos[0] = skip(text, pos[0]);
        if (pos[0] < text.length() && text.charAt(pos[0]) == '}') return m;
        while (true) {
            String k = string(text, pos, file);
            pos[0] = skip(text, pos[0]);
            expect(text, pos, ':', file);
            pos[0] = skip(text, pos[0]);
            m.put(k, string(text, pos, file));
            pos[0] = skip(text, pos[0]);
            if (pos[0] < text.length() && text.charAt(pos[0]) == ',') { pos[0] = skip(text, pos[0] + 1); continue; }
            expect(text, pos, '}', file);
            return m;
        }
    }

    private static int skip(String t, int i) { while (i < t.length() && Character.isWhitespace(t.charAt(i))) i++; return i; }

    private static void expect(String t, int[] pos, char c, Path file) {
        if (pos[0] >= t.length() || t.charAt(pos[0]) != c)
            throw new IllegalArgumentException(file + ": malformed JSON at offset " + pos[0] + " (expected '" + c + "')");
        pos[0]++;
    }

    private static String string(String t, int[] pos, Path file) {
        expect(t, pos, '"', file);
        StringBuilder sb = new StringBuilder();
        while (pos[0] < t.length()) {
            char c = t.charAt(pos[0]++);
            if (c == '"') return sb.toString();
            if (c == '\\' && pos[0] < t.length()) {
                char e = t.charAt(pos[0]++);
                if (e == 'n') sb.append('\n');
                else if (e == 'u' && pos[0] + 4 <= t.length()) { sb.append((char) Integer.parseInt(t.substring(pos[0], pos[0] + 4), 16)); pos[0] += 4; }
                else sb.append(e);
            } else sb.append(c);
        }
        throw new IllegalArgumentException(file + ": malformed JSON (unterminated string)");
    }
}
