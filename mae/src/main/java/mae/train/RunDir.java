package mae.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A run directory: run.json (what made it, {@link RunOptions}), metrics.jsonl (one line per step, {@link Metrics}),
 * result.json, pictures (reconstruction.png, loss.png, recon/), and checkpoints/ ({@link Checkpoints}).
 */
public final class RunDir {
    public final Path dir;

    public RunDir(Path dir) { this.dir = dir; }

    public Path runJson() { return dir.resolve("run.json"); }
    public Path metrics() { return dir.resolve("metrics.jsonl"); }
    public Path resultJson() { return dir.resolve("result.json"); }

    /** Refuses a directory that holds files but no run of this project, or another run when not resuming. */
    public void prepareNew() throws IOException {
        if (Files.isRegularFile(dir)) throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent())
                    throw new IllegalArgumentException("--out " + dir + (Files.exists(runJson()) ? " holds another run" : " is not empty")
                            + "; pass --resume " + dir + " to continue it, or choose another --out");
            }
        }
        Files.createDirectories(dir);
    }
}
