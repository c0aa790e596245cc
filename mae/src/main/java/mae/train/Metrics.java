package mae.train;

import mae.io.AtomicFiles;
import mae.tensor.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * metrics.jsonl: one JSON object per optimizer step, {"step": 1, "epoch": 0.0010, "loss": 0.912345, "lr": 1.50000e-05,
 * "images_per_s": 231.0}, the numbers rounded as shown.
 */
public final class Metrics {
    private Metrics() {}

    public static void append(Path file, long step, double epoch, double loss, double lr, double imagesPerSecond) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("epoch", Json.number("%.4f", epoch));
        m.put("loss", Json.number("%.6f", loss));
        m.put("lr", Json.number("%.6g", lr));
        m.put("images_per_s", Json.number("%.1f", imagesPerSecond));
        Files.writeString(file, Json.line(m) + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Longest line read back from metrics.jsonl (ours are about 100 characters). */
    static final int MAX_LINE = 4096;

    /**
     * Drops the lines after a checkpoint's step (a resumed run redoes those steps) and a torn last line (the run
     * was killed while appending it), rewriting the file atomically; returns (step, loss) of the kept lines for the
     * loss curve. Every other line must be a metrics record with a step above the one before: anything else is an
     * error naming the file and the line, and then the file is left as it was. Returns (step, loss, lr) per line.
     */
    public static List<double[]> truncate(Path file, long upToStep) throws IOException {
        List<double[]> curve = new ArrayList<>();
        if (!Files.exists(file)) return curve;
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": not a plain file");
        StringBuilder kept = new StringBuilder();
        byte[] all = readBounded(file, upToStep);
        int n = 0, at = 0;
        long last = 0;
        while (at < all.length) {
            int end = at;
            while (end < all.length && all[end] != '\n') end++;
            boolean lastLine = end >= all.length;               // no newline after it: torn if unreadable
            String line = new String(all, at, end - at, StandardCharsets.UTF_8).strip();
            at = end + 1;
            n++;
            if (line.isEmpty()) continue;
            String where = file + ": line " + n;
            if (line.length() > MAX_LINE) throw new IllegalArgumentException(where + " is " + line.length() + " characters long, not a metrics record");
            Map<String, Object> m;
            try {
                m = Json.asObject(Json.parse(line), where);
            } catch (Json.ParseException | IllegalArgumentException e) {
                if (lastLine) continue;                          // a torn last line: the run was killed while writing it
                throw new IllegalArgumentException(where + " is not a metrics record (" + e.getMessage() + "): " + Json.quote(cut(line)));
            }
            if (!(m.get("step") instanceof Long step) || step < 1)
                throw new IllegalArgumentException(where + ": \"step\" is " + (m.get("step") == null ? "missing" : m.get("step")) + ", expected a positive integer");
            if (step <= last) throw new IllegalArgumentException(where + ": step " + step + " does not follow step " + last);
            last = step;
            if (step > upToStep) continue;
            curve.add(new double[]{step, number(m, "loss"), number(m, "lr")});
            kept.append(line).append('\n');
        }
        AtomicFiles.writeString(file, kept.toString());
        return curve;
    }

    /** The file, refused when far larger than the lines of upToStep steps can be (a few hundred bytes each). */
    private static byte[] readBounded(Path file, long upToStep) throws IOException {
        long size = Files.size(file), max = 64L * 1024 * 1024 + 2L * MAX_LINE * upToStep;
        if (size > max) throw new IllegalArgumentException(file + ": " + size + " bytes, more than the metrics of " + upToStep + " steps can hold");
        return Files.readAllBytes(file);
    }

    private static String cut(String s) { return s.length() > 80 ? s.substring(0, 80) + "..." : s; }

    private static double number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
