package mae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `bench gemm --against PATH` and `bench attention --against PATH`: another build of the kernels, loaded in its own class loader, alternating call by
 * call with this one. Run against this build's own classes it prints both medians and a ratio; a folder without the
 * kernels is refused naming it. `bench gemm --of-peak`, `bench forward --of-peak` and `bench step --of-peak` pair each call with the FMA peak loop instead.
 * `bench tune` shows the autotune's final, which judges its finalists against each other call by call.
 */
class BenchPairTest {
    static final Path KERNELS = Path.of("..", "kernels", "target", "classes");

    @Test void two_builds_alternate_in_one_jvm_and_their_ratio_is_printed() {
        assertTrue(Files.isDirectory(KERNELS.resolve("mae/kernels")), "kernels classes at " + KERNELS.toAbsolutePath());
        String out = CommandLineHelpTest.out("bench", "gemm", "--m", "37", "--n", "29", "--k", "19", "--runs", "6", "--trans", "NT", "--against", KERNELS.toString());
        assertTrue(out.contains("gemm 37x29x19 NT, 6 alternating pairs"), out);
        assertTrue(out.matches("(?s).*this build: median [0-9.]+ GFLOP/s.*"), out);
        assertTrue(out.matches("(?s).*" + java.util.regex.Pattern.quote(KERNELS.toString()) + ": median [0-9.]+ GFLOP/s.*"), out);
        String last = out.strip().lines().reduce((x, y) -> y).orElseThrow();
        assertTrue(last.matches("ratio: [0-9]+\\.[0-9]{3}") && Double.parseDouble(last.substring(7)) > 0, out);
    }

    @Test void attention_pairs_two_builds_the_same_way_and_runs_alone() {
        String out = CommandLineHelpTest.out("bench", "attention", "--batch", "2", "--heads", "3", "--tokens", "5", "--head-dim", "8", "--runs", "4",
                "--against", KERNELS.toString());
        assertTrue(out.contains("attention B 2 H 3 T 5 hd 8, forward + backward, 4 alternating pairs"), out);
        assertTrue(out.matches("(?s).*" + java.util.regex.Pattern.quote(KERNELS.toString()) + ": median [0-9.]+ GFLOP/s.*"), out);
        String last = out.strip().lines().reduce((x, y) -> y).orElseThrow();
        assertTrue(last.matches("ratio: [0-9]+\\.[0-9]{3}") && Double.parseDouble(last.substring(7)) > 0, out);
        out = CommandLineHelpTest.out("bench", "attention", "--batch", "1", "--heads", "2", "--tokens", "3", "--head-dim", "4", "--runs", "3");
        assertTrue(out.contains("attention B 1 H 2 T 3 hd 4, forward + backward, 3 runs"), out);
        assertTrue(out.strip().lines().reduce((x, y) -> y).orElseThrow().matches("GFLOP/s: [0-9]+\\.[0-9]{2}"), out);
    }

    @Test void of_peak_pairs_each_call_with_the_peak_loop_and_prints_the_share() {
        String out = CommandLineHelpTest.out("bench", "gemm", "--m", "96", "--n", "64", "--k", "80", "--runs", "5", "--of-peak");
        assertTrue(out.matches("(?s).*gemm 96x64x80 NN, 5 pairs with the FMA peak loop \\([0-9]+ iterations, as many flops\\), threads [0-9]+.*"), out);
        assertTrue(out.matches("(?s).*this call: median [0-9.]+ GFLOP/s; peak loop: median [0-9.]+ GFLOP/s.*"), out);
        assertLastLineIsAShare(out);
        assertRefused("bench gemm: --against, --against-blas and --of-peak each pair the calls with something else; give one", "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--of-peak", "--against", KERNELS.toString());
        assertRefused("bench gemm: --against, --against-blas and --of-peak each pair the calls with something else; give one", "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--of-peak", "--against-blas");
    }

    @Test void forward_of_peak_pairs_each_pass_with_the_peak_loop() {
        String out = CommandLineHelpTest.out("bench", "forward", "--config", "fmnist", "--runs", "3", "--warmup", "1", "--of-peak");
        assertTrue(out.matches("(?s).*images/s: [0-9.]+ \\(the timed passes above\\).*"), out);
        assertTrue(out.contains("forward fmnist encoder, batch 1, 3 pairs with the FMA peak loop"), out);
        assertLastLineIsAShare(out);
        assertRefused("bench forward: --of-peak and --profile each take the timed passes' place after the run; give one", "bench", "forward", "--config", "fmnist", "--runs", "1", "--of-peak", "--profile");
    }

    /**
     * The step's flops come from a Trace of its forward; here they must equal bench/compare_torch.py's formula, written out
     * for the tiny config (patch 7 of a 28 px gray image: 16 patches of 49 values; D 32, depth 2; Dd 16, depth 1; MLP 4x),
     * batch 4, mask 0.75 (4 patches kept, 5 tokens with cls; 17 in the decoder).
     */
    @Test void step_of_peak_pairs_each_step_with_the_peak_loop_counting_flops_as_compare_torch_does() {
        String out = CommandLineHelpTest.out("bench", "step", "--config", "tiny", "--batch", "4", "--steps", "3", "--warmup", "1", "--of-peak");
        long b = 4, L = 16, pc = 49, D = 32, Dd = 16, te = 5, td = 17, r = 4;
        long embed = 2 * b * L * pc * D;
        long f = embed + 2 * b * te * (2 * D * D * (4 + 2 * r) + 4 * te * D) + 2 * b * te * D * Dd
                + b * td * (2 * Dd * Dd * (4 + 2 * r) + 4 * td * Dd) + 2 * b * td * Dd * pc;
        assertTrue(out.contains("(" + (3 * f - embed) + " FLOPs); images/s: "), 3 * f - embed + " expected in:\n" + out);
        assertTrue(out.matches("(?s).*images/s: [0-9.]+ \\(the timed steps above\\).*"), out);
        assertTrue(out.contains("step tiny batch 4 mask 0.75, 3 pairs with the FMA peak loop"), out);
        assertLastLineIsAShare(out);
        assertRefused("bench step: --of-peak and --profile each take the timed steps' place after the run; give one", "bench", "step", "--config", "tiny", "--steps", "1", "--of-peak", "--profile");
    }

    /**
     * `bench tune` shows every candidate's rates, then its final: the first round's 4 best, each one's speed against the
     * others in the same moments; the winner named after it is the fastest finalist, and the last line is that blocking.
     */
    @Test void tune_shows_the_final_and_its_fastest_finalist_wins() {
        String out = CommandLineHelpTest.out("bench", "tune", "--rounds", "1");
        java.util.List<String> lines = out.strip().lines().toList();
        int f = 0;
        while (f < lines.size() && !lines.get(f).startsWith("the final: the 4 best, back to back in 7 rounds")) f++;
        assertTrue(f < lines.size(), out);
        java.util.Map<String, Double> finalists = new java.util.LinkedHashMap<>();
        for (String line : lines.subList(f + 1, f + 5)) {
            String[] p = line.trim().split("\\s+");
            double v = Double.parseDouble(p[1]);
            assertTrue(v > 0 && v < 10, line);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(p[0] + " ")), "a finalist among the candidates: " + line + "\n" + out);
            finalists.put(p[0], v);
        }
        String winner = lines.get(f + 5).replaceFirst("^the winner (\\S+) with each k block.*", "$1");
        double best = java.util.Collections.max(finalists.values());
        assertEquals(best, finalists.get(winner), "the winner is a fastest finalist (as printed, 3 decimals): " + out);
        assertTrue(lines.get(lines.size() - 1).matches("best: " + winner.substring(0, winner.lastIndexOf(',')) + ",[0-9]+"), out);
    }

    /** The last line of an --of-peak run: 'of peak: X', a positive share with 3 decimals. */
    private static void assertLastLineIsAShare(String out) {
        String last = out.strip().lines().reduce((x, y) -> y).orElseThrow();
        assertTrue(last.matches("of peak: [0-9]+\\.[0-9]{3}") && Double.parseDouble(last.substring(9)) > 0, out);
    }

    /** The command exits 1 with this error. */
    private static void assertRefused(String error, String... args) {
        CommandLineChecksTest.Run r = CommandLineChecksTest.run(args);
        assertEquals(1, r.rc(), r.err());
        assertTrue(r.err().startsWith("error: " + error), r.err());
    }

    /**
     * `bench gemm --against-blas`: OpenBLAS's sgemm in this JVM (a JNI shim compiled on first use), checked to give the
     * same product before the pairs, for each transpose (a binding that swapped one would time another product, and
     * the check would refuse it). Skipped, saying why, where there is no C compiler or no libopenblas.so.0.
     */
    @Test void openblas_and_this_build_agree_and_alternate_in_one_jvm() {
        for (String trans : new String[]{"NN", "NT", "TN", "TT"}) {
            String[] args = {"bench", "gemm", "--m", "37", "--n", "29", "--k", "19", "--runs", "4", "--trans", trans, "--against-blas"};
            Both r = both(args);
            org.junit.jupiter.api.Assumptions.assumeFalse(r.err().contains("cannot run the C compiler"), "no C compiler here: " + r.err());
            org.junit.jupiter.api.Assumptions.assumeFalse(r.err().contains("cannot open shared object file"), "no libopenblas.so.0 here: " + r.err());
            assertEquals(0, r.rc(), r.err());
            assertTrue(r.out().matches("(?s)OpenBLAS .*\\| core \\S+ \\(libopenblas.so.0\\): the same product as this build \\(max \\|difference\\| .*"), r.out());
            assertTrue(r.out().contains("gemm 37x29x19 " + trans + ", 4 alternating pairs"), r.out());
            String last = r.out().strip().lines().reduce((x, y) -> y).orElseThrow();
            assertTrue(last.matches("ratio: [0-9]+\\.[0-9]{3}") && Double.parseDouble(last.substring(7)) > 0, r.out());
        }
    }

    record Both(int rc, String out, String err) {}

    /** The command's exit code, standard output and standard error. */
    private static Both both(String... args) {
        java.io.PrintStream was = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            CommandLineChecksTest.Run r = CommandLineChecksTest.run(args);
            return new Both(r.rc(), buf.toString(java.nio.charset.StandardCharsets.UTF_8), r.err());
        } finally {
            System.setOut(was);
        }
    }

    @Test void a_blas_library_that_is_not_there_is_refused_naming_it(@TempDir Path empty) {
        Path lib = empty.resolve("libnothing.so");
        assertRefused("--against-blas: " + lib + " does not exist", "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--against-blas", lib.toString());
    }

    @Test void a_folder_without_the_kernels_is_refused_naming_it(@TempDir Path empty) {
        assertRefused("--against: " + empty + " holds no mae.kernels.Gemm", "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--against", empty.toString());
        assertRefused("--against: " + empty.resolve("missing") + " does not exist", "bench", "attention", "--runs", "1", "--against", empty.resolve("missing").toString());
    }
}
