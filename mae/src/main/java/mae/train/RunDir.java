package mae.train;

import mae.io.AtomicFiles;
import mae.tensor.io.TempFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /** What {@link #prepareNew()} found at the directory. */
    public enum Start {
        /** Nothing was there: the directory is new (and removed again if the run fails before it trains). */
        CREATED,
        /** An empty directory. */
        EMPTY,
        /** A run that never wrote a checkpoint (killed or stopped early): its files were cleared for a fresh start. */
        RESTARTED
    }

    /**
     * Makes the directory ready for a new run. Refuses a file, a directory that holds files but no run of this
     * project, and a run with a checkpoint (it can be resumed); a run without any checkpoint holds nothing to
     * keep, so it starts over.
     */
    public Start prepareNew() throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        if (Files.isDirectory(dir)) {
            boolean empty;
            try (Stream<Path> s = Files.list(dir)) {
                empty = s.findAny().isEmpty();
            }
            if (empty) return Start.EMPTY;
            if (Files.isRegularFile(runJson()) && !hasCheckpoint()) {
                clearForRestart();
                return Start.RESTARTED;
            }
            throw new IllegalArgumentException("--out " + dir + (Files.exists(runJson()) ? " holds another run" : " is not empty")
                    + "; pass --resume " + dir + " to continue it, or choose another --out");
        }
        Files.createDirectories(dir);
        return Start.CREATED;
    }

    /** Whether the run has (or claims) a complete checkpoint: checkpoints/latest exists. */
    public boolean hasCheckpoint() {
        return Files.exists(dir.resolve("checkpoints/latest"), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Removes what a run that never checkpointed wrote besides run.json: its metrics, pictures, result, the
     * leftovers of an interrupted checkpoint and temp files of killed writers. Other files are left alone.
     */
    public void clearForRestart() throws IOException {
        for (String f : List.of("metrics.jsonl", "result.json", "loss.png", "reconstruction.png")) Files.deleteIfExists(dir.resolve(f));
        AtomicFiles.deleteTree(dir.resolve("recon"));
        AtomicFiles.deleteTree(dir.resolve("checkpoints"));
        TempFiles.removeStaleIn(dir);
    }

    /** Undoes {@link #prepareNew()} after a failure before the first step: no run folder is left behind. */
    public void discardNew(Start start) throws IOException {
        if (start == Start.CREATED) AtomicFiles.deleteTree(dir);
        else {
            clearForRestart();
            Files.deleteIfExists(runJson());
        }
    }
}
