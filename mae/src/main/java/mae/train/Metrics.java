package mae.train;

import mae.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** metrics.jsonl: one JSON object per optimizer step. */
public final class Metrics {
    private Metrics() {}

    public static void append(Path file, long step, double epoch, double loss, double lr, double imagesPerSecond) throws IOException {
        String line = String.format(Locale.ROOT, "{\"step\": %d, \"epoch\": %.4f, \"loss\": %.6f, \"lr\": %.6g, \"images_per_s\": %.1f}%n",
                step, epoch, loss, lr, imagesPerSecond);
        Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
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
            if (!line.startsWith("{") || !line.endsWith("}")) continue;
            long step = (long) number(line, "step");
            if (step > upToStep) continue;
            curve.add(new double[]{step, number(line, "loss")});
            kept.append(line).append('\n');
        }
        AtomicFiles.writeString(file, kept.toString());
        return curve;
    }

    static double number(String line, String key) {
        int i = line.indexOf("\"" + key + "\":");
        if (i < 0) return Double.NaN;
        int s = i + key.length() + 3, e = s;
        while (e < line.length() && ",}".indexOf(line.charAt(e)) < 0) e++;
        return Double.parseDouble(line.substring(s, e).trim());
    }
}
