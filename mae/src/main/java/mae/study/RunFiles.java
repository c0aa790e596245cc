package mae.study;

import mae.tensor.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the study reads from a pretraining run folder. */
final class RunFiles {
    private RunFiles() {}

    /**
     * {steps, pretraining loss, seconds} from metrics.jsonl: the loss as the mean over the last tenth of the steps
     * (one batch's loss is noisy), the time as steps x batch / the last line's images/s (the average speed of the
     * run's last stretch: exact for a run that ran in one go, an estimate for a resumed one).
     */
    static double[] pretrainLoss(Path runDir) throws IOException {
        Path f = runDir.resolve("metrics.jsonl");
        List<double[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            try {
                if (Json.parse(line) instanceof Map<?, ?> m && m.get("step") instanceof Number s && m.get("loss") instanceof Number l)
                    rows.add(new double[]{s.doubleValue(), l.doubleValue(), m.get("images_per_s") instanceof Number ips ? ips.doubleValue() : Double.NaN});
            } catch (Json.ParseException e) {
                // a torn last line of a killed run
            }
        }
        if (rows.isEmpty()) throw new IOException(f + ": no steps recorded");
        int n = rows.size(), tail = Math.max(1, n / 10);
        double sum = 0;
        for (int i = n - tail; i < n; i++) sum += rows.get(i)[1];
        double steps = rows.get(n - 1)[0];
        int batch = mae.train.RunOptions.read(runDir).batch();
        return new double[]{steps, sum / tail, steps * batch / rows.get(n - 1)[2]};
    }
}
