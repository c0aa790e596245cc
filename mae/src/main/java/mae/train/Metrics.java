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

    /**
     * Drops the lines after a checkpoint's step (a resumed run redoes those steps) and a torn last line,
     * rewriting the file atomically; returns (step, loss) of the kept lines for the loss curve.
     */
    public static List<double[]> truncate(Path file, long upToStep) throws IOException {
        List<double[]> curve = new ArrayList<>();
        if (!Files.exists(file)) return curve;
        StringBuilder kept = new StringBuilder();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            Map<String, Object> m;
            try {
                if (!(Json.parse(line) instanceof Map<?, ?> o)) continue;
                m = Json.asObject(o, "");
            } catch (Json.ParseException e) {
                continue;                                  // a torn line: the run was killed while writing it
            }
            long step = (long) number(m, "step");
            if (step > upToStep) continue;
            curve.add(new double[]{step, number(m, "loss")});
            kept.append(line).append('\n');
        }
        AtomicFiles.writeString(file, kept.toString());
        return curve;
    }

    private static double number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
