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

    @Test void only_names_of_the_exact_temp_pattern_are_dead_writers() throws Exception {
        long dead = deadPid();
        assertTrue(TempFiles.deadWriter(".t." + dead + ".5.tmp", null));
        assertTrue(TempFiles.deadWriter(".t." + dead + ".5.tmp", "t"));
        assertFalse(TempFiles.deadWriter(".t." + dead + ".12345", null), "not ending in .tmp");
        assertFalse(TempFiles.deadWriter("t." + dead + ".5.tmp", null), "not hidden");
        assertFalse(TempFiles.deadWriter(".." + dead + ".5.tmp", null), "no target name");
        assertFalse(TempFiles.deadWriter(".t.5.tmp", "t"), "no pid");
        assertFalse(TempFiles.deadWriter(".t." + dead + "..tmp", null), "no random number");
        assertFalse(TempFiles.deadWriter(".t." + dead + ".x5.tmp", null), "a random part that is not a number");
        assertFalse(TempFiles.deadWriter(".t.x" + dead + ".5.tmp", null), "a pid that is not a number");
    }

    @Test void no_folder_means_nothing_to_remove() throws Exception {
        assertEquals(0, TempFiles.removeStaleIn(Path.of("w.safetensors").getParent()), "a bare file name has no parent");
        assertEquals(0, TempFiles.removeStaleIn(dir.resolve("missing")));
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        assertEquals(0, TempFiles.removeStaleIn(file));
    }
}
