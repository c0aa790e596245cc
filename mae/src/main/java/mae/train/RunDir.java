package mae.train;

import mae.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A run directory: run.json (what made it), metrics.jsonl, pictures, and checkpoints/step-NNNNNNN/ with
 * weights.safetensors, optimizer.safetensors and state.json. A checkpoint is written into a .tmp folder,
 * renamed into place, and only then named by checkpoints/latest (itself replaced atomically), so a run killed
 * at any moment leaves its last complete checkpoint intact.
 */
public final class RunDir {
    public final Path dir;

    public RunDir(Path dir) { this.dir = dir; }

    public Path runJson() { return dir.resolve("run.json"); }
    public Path metrics() { return dir.resolve("metrics.jsonl"); }
    public Path checkpoints() { return dir.resolve("checkpoints"); }

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

    /** A new checkpoint directory, moved into place atomically; returns its final path. */
    public Path commitCheckpoint(long step, CheckpointWriter writer) throws IOException {
        Files.createDirectories(checkpoints());
        String name = String.format("step-%07d", step);
        Path tmp = checkpoints().resolve(name + ".tmp"), fin = checkpoints().resolve(name);
        deleteTree(tmp);
        Files.createDirectories(tmp);
        writer.write(tmp);
        deleteTree(fin);
        Files.move(tmp, fin, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.writeString(checkpoints().resolve("latest"), name + "\n");
        pruneExcept(name);
        return fin;
    }

    public interface CheckpointWriter { void write(Path into) throws IOException; }

    /** The last complete checkpoint, or null when there is none. */
    public Path latestCheckpoint() throws IOException {
        Path latest = checkpoints().resolve("latest");
        if (!Files.exists(latest)) return null;
        Path c = checkpoints().resolve(Files.readString(latest, StandardCharsets.UTF_8).trim());
        if (!Files.isDirectory(c)) throw new IOException(latest + " names " + c.getFileName() + ", which is missing");
        return c;
    }

    /** Keeps the latest checkpoint (and removes leftovers of interrupted writes). */
    private void pruneExcept(String keep) throws IOException {
        List<Path> old = new ArrayList<>();
        try (Stream<Path> s = Files.list(checkpoints())) {
            s.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().equals(keep)).forEach(old::add);
        }
        for (Path p : old) deleteTree(p);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.delete(q);
        }
    }

    /**
     * Resolves what a user passes as --checkpoint: a weights file, a checkpoint folder, or a run folder (its
     * latest checkpoint). The result is a weights.safetensors path.
     */
    public static Path resolveWeights(Path p) throws IOException {
        if (Files.isRegularFile(p)) return p;
        if (!Files.isDirectory(p)) throw new IllegalArgumentException("--checkpoint " + p + " does not exist");
        if (Files.isRegularFile(p.resolve("weights.safetensors"))) return p.resolve("weights.safetensors");
        Path c = new RunDir(p).latestCheckpoint();
        if (c == null) throw new IllegalArgumentException("--checkpoint " + p + " holds no checkpoint (no weights.safetensors, no checkpoints/latest)");
        return c.resolve("weights.safetensors");
    }
}
