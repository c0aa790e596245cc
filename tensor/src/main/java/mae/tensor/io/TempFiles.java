package mae.tensor.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The temp files of atomic writes: {@code .NAME.PID.RANDOM.tmp} beside the target NAME, written, forced and
 * renamed over it. A process killed mid-write (kill -9) leaves its temp file behind; the next write of the same
 * target, or {@link #removeStale(Path)} on its folder, removes every such file whose process no longer runs,
 * so a leftover never stays for good and a live writer's file is never touched.
 */
public final class TempFiles {
    private TempFiles() {}

    /** A new, empty temp file beside target, named for this process. */
    public static Path create(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        return Files.createTempFile(dir, "." + target.getFileName() + "." + ProcessHandle.current().pid() + ".", ".tmp");
    }

    /** Removes the temp files of target left by processes that are gone; returns how many. Best effort. */
    public static int removeStale(Path target) {
        return remove(target.toAbsolutePath().getParent(), target.getFileName().toString());
    }

    /** Removes every stale temp file in dir, whatever its target; returns how many. Best effort. */
    public static int removeStaleIn(Path dir) {
        return remove(dir, null);
    }

    private static int remove(Path dir, String target) {
        if (dir == null || !Files.isDirectory(dir)) return 0;
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> deadWriter(p.getFileName().toString(), target))) {
            for (Path p : s) stale.add(p);
        } catch (IOException e) {
            return 0;
        }
        int n = 0;
        for (Path p : stale) {
            try {
                if (Files.isRegularFile(p) && Files.deleteIfExists(p)) n++;
            } catch (IOException ignored) {
                // another process removed it, or it cannot be removed: the next write tries again
            }
        }
        return n;
    }

    /** Whether name is ".TARGET.PID.RANDOM.tmp" (TARGET given, or any) of a process that no longer runs. */
    static boolean deadWriter(String name, String target) {
        if (!name.startsWith(".") || !name.endsWith(".tmp")) return false;
        String core = name.substring(1, name.length() - 4);                 // TARGET.PID.RANDOM
        int r = core.lastIndexOf('.'), p = r > 0 ? core.lastIndexOf('.', r - 1) : -1;
        if (p <= 0) return false;
        if (target != null && !core.substring(0, p).equals(target)) return false;
        String random = core.substring(r + 1);
        if (random.isEmpty() || !random.chars().allMatch(Character::isDigit)) return false;   // createTempFile's unsigned number
        long pid;
        try {
            pid = Long.parseLong(core.substring(p + 1, r));
        } catch (NumberFormatException e) {
            return false;
        }
        return pid != ProcessHandle.current().pid() && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
