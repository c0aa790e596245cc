package mae.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Every option of every command is checked before any work, in one place (OptionChecks), with one line. */
class CommandLineChecksTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    /** Exit code, stderr, seconds. */
    record Run(int rc, String err, double seconds) {}

    static Run run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        long t0 = System.nanoTime();
        try {
            int rc = Main.run(args);
            return new Run(rc, buf.toString(StandardCharsets.UTF_8).trim(), (System.nanoTime() - t0) / 1e9);
        } finally {
            System.setErr(err);
        }
    }

    static List<CommandLine> allCommands() {
        List<CommandLine> all = new ArrayList<>();
        List<CommandLine> todo = new ArrayList<>(List.of(Main.commandLine()));
        while (!todo.isEmpty()) {
            CommandLine c = todo.remove(0);
            all.add(c);
            todo.addAll(c.getSubcommands().values());
        }
        return all;
    }

    static final Set<Class<?>> NUMERIC = Set.of(int.class, long.class, float.class, double.class, Integer.class, Long.class, Float.class, Double.class);

    @Test void every_option_of_every_command_declares_what_it_allows() {
        List<String> unchecked = new ArrayList<>();
        int checked = 0;
        for (CommandLine c : allCommands()) {
            for (OptionSpec o : c.getCommandSpec().options()) {
                Field f = OptionChecks.field(o);
                if (f == null) continue;                                         // --help, --version
                Class<?> t = o.type();
                boolean range = f.isAnnotationPresent(Range.class), oneOf = f.isAnnotationPresent(OneOf.class);
                String where = c.getCommandSpec().qualifiedName() + " " + o.longestName();
                if (NUMERIC.contains(t)) { if (!range) unchecked.add(where + " (a number without @Range)"); else checked++; }
                else if (Collection.class.isAssignableFrom(t) && range) checked++;       // a list of numbers, each in range
                else if (t == String.class || Collection.class.isAssignableFrom(t)) { if (!oneOf) unchecked.add(where + " (text without @OneOf)"); else checked++; }
                else if (t != boolean.class && t != Boolean.class && t != Path.class) unchecked.add(where + " (type " + t.getSimpleName() + " has no check)");
                assertFalse(range && !NUMERIC.contains(t) && !Collection.class.isAssignableFrom(t), where + ": @Range on a " + t);
            }
        }
        assertEquals(List.of(), unchecked);
        assertTrue(checked > 40, "checked options: " + checked);
    }

    @Test void every_default_value_is_inside_its_range() {
        int commands = 0;
        for (CommandLine c : allCommands()) {
            List<String> args = new ArrayList<>();
            for (CommandLine p = c; p.getParent() != null; p = p.getParent()) args.add(0, p.getCommandName());
            for (OptionSpec o : c.getCommandSpec().options()) if (o.required()) { args.add(o.longestName()); args.add("x"); }
            for (CommandLine.Model.PositionalParamSpec p : c.getCommandSpec().positionalParameters()) if (p.required()) args.add("x");
            CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(new String[0]));
            assertDoesNotThrow(() -> OptionChecks.check(parsed), String.join(" ", args));
            commands++;
        }
        assertTrue(commands >= 10, "commands walked: " + commands);
    }

    /** A value outside its range: one line naming the flag and the range, exit 1, at once, nothing written. */
    static void refused(String expected, String... args) throws Exception {
        Run r = run(args);
        assertEquals(1, r.rc(), String.join(" ", args) + " -> " + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("error: " + expected), "'" + String.join(" ", args) + "' said: " + r.err() + "\nexpected: error: " + expected);
        assertTrue(r.seconds() < 3, "refused before any work: " + r.seconds() + " s");
        assertFalse(Files.exists(home.resolve("runs")), "no run folder or runs/latest");
    }

    @Test void pretrain_step_counts_and_sizes_are_checked_before_anything(@TempDir Path tmp) throws Exception {
        String out = tmp.resolve("run").toString();
        refused("--max-steps must be an integer from 1 to 1000000000, got 0", "pretrain", "--max-steps", "0", "--out", out);
        refused("--max-steps must be an integer from 1 to 1000000000, got -5", "pretrain", "--max-steps", "-5", "--out", out);
        refused("--epochs must be an integer from 1 to 1000000, got 0", "pretrain", "--epochs", "0", "--max-steps", "3", "--out", out);
        refused("--batch 65536 x --accum 65536 = 4294967296 images per step, more than 16777216", "pretrain", "--batch", "65536", "--accum", "65536", "--out", out);
        refused("--accum must be an integer from 1 to 65536, got 0", "pretrain", "--accum", "0", "--out", out);
        refused("--knn-bank must be an integer from 1 to 10000000, got 0", "pretrain", "--knn-bank", "0", "--out", out);
        refused("--checkpoint-every must be an integer from 0 to 1000000000 (0: only at epoch ends and the last step), got -1", "pretrain", "--checkpoint-every", "-1", "--out", out);
        assertFalse(Files.exists(tmp.resolve("run")));
    }

    @Test void nan_and_infinite_numbers_are_refused(@TempDir Path tmp) throws Exception {
        String out = tmp.resolve("run").toString();
        refused("--warmup-epochs must be a number in [0, 1000000], got NaN", "pretrain", "--warmup-epochs", "NaN", "--out", out);
        refused("--warmup-epochs must be a number in [0, 1000000], got Infinity", "pretrain", "--warmup-epochs", "Infinity", "--out", out);
        refused("--blr must be a finite number above 0, got Infinity", "pretrain", "--blr", "Infinity", "--out", out);
        refused("--blr must be a finite number above 0, got 0.0", "probe", "--blr", "0");
        refused("--mask-ratio must be a number in [0, 1), got NaN", "reconstruct", "--mask-ratio", "NaN", "--image", "x.png");
        refused("--layer-decay must be a number in (0, 1], got -0.5", "finetune", "--layer-decay", "-0.5");
    }

    @Test void evaluation_and_bench_options_are_checked_before_loading_anything() throws Exception {
        // The checkpoint does not exist: the flag's message proves the check came first.
        refused("--k must be an integer from 1 to 100000, got 0", "probe", "--method", "knn", "--k", "0", "--checkpoint", "/nonexistent");
        refused("--batch must be an integer from 1 to 65536, got 0", "probe", "--batch", "0", "--checkpoint", "/nonexistent");
        refused("--epochs must be a number in (0, 100000], got -1.0", "finetune", "--epochs", "-1", "--checkpoint", "/nonexistent");
        refused("--steps must be an integer from 1 to 100000, got 0", "bench", "step", "--steps", "0");
        refused("--batch must be an integer from 1 to 65536, got 0", "bench", "step", "--batch", "0");
        refused("--m must be an integer from 1 to 1048576, got 0", "bench", "gemm", "--m", "0");
        refused("bench gemm: A (1048576, 4096) is over 2^31 floats, more than one Java array holds", "bench", "gemm", "--m", "1048576", "--k", "4096", "--n", "8");
        refused("bench gemm: C (25216, 131072) is over 2^31 floats", "bench", "gemm", "--m", "25216", "--k", "8", "--n", "131072");
        refused("--against: /nonexistent/classes does not exist (expected a kernels/target/classes folder or a kernels jar)",
                "bench", "gemm", "--m", "8", "--n", "8", "--k", "8", "--against", "/nonexistent/classes");
        refused("--runs must be an integer from 1 to 1000, got 0", "bench", "peak", "--runs", "0");
        refused("--block must be an integer from -1 to 255 (-1 = the last block), got -2", "explain", "--block", "-2", "--out", "x", "--checkpoint", "/nonexistent");
        refused("--masking: unknown strategy 'spiral' (expected random, block or grid)", "explain", "--masking", "random,spiral", "--out", "x", "--checkpoint", "/nonexistent");
        refused("--feature: unknown feature 'max' (expected cls or mean)", "probe", "--feature", "max", "--checkpoint", "/nonexistent");
        refused("--config: unknown config 'huge'", "forward", "--config", "huge", "--weights", "w", "--inputs", "i", "--out", "o");
    }

    @Test void a_line_picocli_cannot_parse_is_one_line_and_exit_2() {
        for (String[] args : List.of(new String[]{"pretrain", "--batch", "abc"}, new String[]{"probe", "--k", "1e3"}, new String[]{"pretrain", "--bogus"},
                new String[]{"forward", "--weights", "w"})) {
            Run r = run(args);
            assertEquals(2, r.rc(), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains("--help lists the options"), r.err());
        }
        assertTrue(run("pretrain", "--batch", "abc").err().contains("'--batch': 'abc' is not an int"));
    }
}
