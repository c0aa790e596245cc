package mae.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `mae` command line. Each subcommand prints what it did; errors are one clear line and exit 1. */
@Command(name = "mae", mixinStandardHelpOptions = true, version = "mae 0.1.0",
        description = "A Masked Autoencoder on a from-scratch Java engine.",
        subcommands = {PretrainCommand.class, ProbeCommand.class, FinetuneCommand.class, StudyCommand.class, ReconstructCommand.class, ExplainCommand.class, ForwardCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("bench", bench());
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + message(ex));
            if (System.getenv("MAE_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl.execute(args);
    }

    /**
     * The bench command lives in the bench module (it depends on this one), which bin/mae puts on the class path:
     * found by name, or a stand-in that says what is missing.
     */
    static Object bench() {
        try {
            return Class.forName("mae.bench.BenchCommand").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            return new NoBench();
        }
    }

    @Command(name = "bench", description = "Measure the engine (needs the bench module on the class path, as bin/mae sets it).")
    static final class NoBench implements java.util.concurrent.Callable<Integer> {
        @Override public Integer call() {
            throw new IllegalStateException("bench: the bench module (mae.bench.BenchCommand) is not on the class path; run bin/mae bench");
        }
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** The project root (set by the bin/mae launcher), where data/ and runs/ live. */
    static java.nio.file.Path home() {
        return java.nio.file.Path.of(System.getProperty("mae.home", ".")).toAbsolutePath().normalize();
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }
}
