package mae.tests;

import mae.io.AtomicFiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child process for the kill -9 tests: starts replacing args[0] atomically (as a checkpoint names itself in
 * checkpoints/latest), creates args[1] once the new content is in its temp file, then waits to be killed.
 */
public final class KilledWriter {
    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]), ready = Path.of(args[1]);
        AtomicFiles.write(target, out -> {
            out.write("step-0000099\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            Files.createFile(ready);
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
