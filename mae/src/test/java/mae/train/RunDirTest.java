package mae.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A run folder made ready, started over, refused and undone: what is removed and what is left. */
class RunDirTest {
    @TempDir Path tmp;

    static void touch(Path p) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, "x");
    }

    @Test void new_empty_restarted_and_refused_folders() throws IOException {
        RunDir fresh = new RunDir(tmp.resolve("a/b"));
        assertEquals(RunDir.Start.CREATED, fresh.prepareNew());
        assertTrue(Files.isDirectory(fresh.dir));
        assertEquals(RunDir.Start.EMPTY, fresh.prepareNew());

        RunDir old = new RunDir(tmp.resolve("old"));
        for (String f : new String[]{"run.json", "metrics.jsonl", "result.json", "loss.png", "reconstruction.png", "recon/epoch-001.png",
                "checkpoints/.tmp-step/weights.safetensors", "notes.txt"}) touch(old.dir.resolve(f));
        assertFalse(old.hasCheckpoint());
        assertEquals(RunDir.Start.RESTARTED, old.prepareNew());
        for (String gone : new String[]{"metrics.jsonl", "result.json", "loss.png", "reconstruction.png", "recon", "checkpoints"})
            assertFalse(Files.exists(old.dir.resolve(gone)), gone);
        assertTrue(Files.exists(old.dir.resolve("run.json")) && Files.exists(old.dir.resolve("notes.txt")), "run.json and other files stay");

        touch(old.dir.resolve("checkpoints/latest"));
        assertTrue(old.hasCheckpoint());
        assertEquals("--out " + old.dir + " holds another run; pass --resume " + old.dir + " to continue it, or choose another --out",
                assertThrows(IllegalArgumentException.class, old::prepareNew).getMessage());
        RunDir other = new RunDir(tmp.resolve("other"));
        touch(other.dir.resolve("photo.jpg"));
        assertEquals("--out " + other.dir + " is not empty; pass --resume " + other.dir + " to continue it, or choose another --out",
                assertThrows(IllegalArgumentException.class, other::prepareNew).getMessage());
        Path file = tmp.resolve("file");
        touch(file);
        assertEquals("--out " + file + " is a file, not a directory", assertThrows(IllegalArgumentException.class, () -> new RunDir(file).prepareNew()).getMessage());
    }

    @Test void a_failed_start_is_undone() throws IOException {
        RunDir made = new RunDir(tmp.resolve("made"));
        RunDir.Start s = made.prepareNew();
        touch(made.runJson());
        touch(made.dir.resolve("recon/x.png"));
        made.discardNew(s);
        assertFalse(Files.exists(made.dir), "a folder the run made is removed");

        RunDir kept = new RunDir(tmp.resolve("kept"));
        Files.createDirectories(kept.dir);
        RunDir.Start e = kept.prepareNew();
        touch(kept.runJson());
        touch(kept.metrics());
        touch(kept.dir.resolve("mine.txt"));
        kept.discardNew(e);
        assertTrue(Files.isDirectory(kept.dir), "a folder that was there stays");
        assertFalse(Files.exists(kept.runJson()) || Files.exists(kept.metrics()));
        assertTrue(Files.exists(kept.dir.resolve("mine.txt")));
        mae.io.AtomicFiles.deleteTree(tmp.resolve("nothing-here"));   // a missing folder is no error
    }
}
