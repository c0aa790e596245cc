package mae.tensor.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TempFilesTest {
    @TempDir Path dir;

    /** The pid of a process that has ended. */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    List<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void a_write_removes_what_dead_writers_of_its_target_left_and_nothing_else() throws Exception {
        long dead = deadPid();
        Process alive = new ProcessBuilder("sleep", "30").start();
        try {
            for (String n : List.of(".w.safetensors." + dead + ".18446744073709551615.tmp",   // a killed writer of the target
                    ".w.safetensors." + alive.pid() + ".12.tmp",                                 // a writer still at work
                    ".other." + dead + ".5.tmp",                                                 // another target's
                    ".w.safetensors.77.tmp",                                                     // not our naming
                    "w.safetensors." + dead + ".5.tmp"))                                         // not hidden: not ours
                Files.writeString(dir.resolve(n), "x");
            Safetensors.write(dir.resolve("w.safetensors"), Map.of(), Map.of("t", Safetensors.Entry.f32(new int[]{1}, new float[]{1})));
            assertEquals(Stream.of(".other." + dead + ".5.tmp", ".w.safetensors." + alive.pid() + ".12.tmp", ".w.safetensors.77.tmp",
                    "w.safetensors", "w.safetensors." + dead + ".5.tmp").sorted().toList(), names());
            assertEquals(1, TempFiles.removeStaleIn(dir), "the other target's leftover, by folder");
            assertTrue(names().contains(".w.safetensors." + alive.pid() + ".12.tmp"), "a live writer's file is never touched");
        } finally {
            alive.destroyForcibly();
            alive.waitFor();
        }
        assertEquals(1, TempFiles.removeStale(dir.resolve("w.safetensors")), "once its writer is gone");
    }

    @Test void temp_files_are_named_for_their_process_and_target() throws Exception {
        Path t = TempFiles.create(dir.resolve("latest"));
        String n = t.getFileName().toString();
        assertTrue(n.startsWith(".latest." + ProcessHandle.current().pid() + ".") && n.endsWith(".tmp"), n);
        assertFalse(TempFiles.deadWriter(n, "latest"), "this process is alive");
        assertFalse(TempFiles.deadWriter(n, "other"));
        assertEquals(0, TempFiles.removeStaleIn(dir));
        assertTrue(Files.exists(t));
    }
}
