package mae.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The `mae` command line. Each subcommand prints what it did. Every error is one line on stderr: a bad value for
 * an option, or a failure while the command runs, is "error: WHAT" and exit 1; a command line picocli cannot parse
 * (an unknown option, "abc" for a number) is "error: WHAT (bin/mae CMD --help lists the options)" and exit 2.
 * MAE_DEBUG=1 adds the stack trace.
 */
@Command(name = "mae", mixinStandardHelpOptions = true, version = "mae 0.1.0",
        description = "A Masked Autoencoder on a from-scratch Java engine.",
        subcommands = {PretrainCommand.class, ProbeCommand.class, FinetuneCommand.class, StudyCommand.class, ReconstructCommand.class, ExplainCommand.class, ConvertCommand.class, ForwardCommand.class},
        footer = {"", "First steps (each command reads the run the one before wrote):",
                "  bin/mae pretrain                  pretrain the fmnist MAE (~8 min, 2 cores)",
                "  bin/mae probe                     its linear-probe accuracy vs random init",
                "  bin/mae explain --index 0 --out explain     then open explain/index.html"})
public final class Main implements Runnable {
    /** Kernel threads: applied before the command runs; every command inherits the option. */
    @Range(min = 1, max = mae.kernels.Parallel.MAX_THREADS)
    @Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
            description = "kernel threads (default: one per core the JVM may use)")
    Integer threads;
    @Option(names = "--no-progress", scope = CommandLine.ScopeType.INHERIT,
            description = "plain progress lines instead of a live bar, also on a terminal (default: a bar on a terminal, lines otherwise)")
    boolean noProgress;
    @Option(names = "--no-autotune", scope = CommandLine.ScopeType.INHERIT,
            description = "GEMM block sizes from the cache sizes alone, without the one-time measurement on first use (default: measured once per machine and cached)")
    boolean noAutotune;

    /** The command line of this run, as the user would type it ("bin/mae probe --method knn"), for results files. */
    private static volatile String invocation = "bin/mae";

    /** Longest error line printed; the rest is cut (a file name can be long). */
    static final int MAX_MESSAGE = 2000;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        invocation = invocation(args);
        CommandLine cl = commandLine();
        cl.setExecutionStrategy(parsed -> {
            try {
                OptionChecks.check(parsed);                   // every option's value, before any work
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ExecutionException(parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1), e.getMessage(), e);
            }
            Main main = parsed.commandSpec().commandLine().getCommand();
            int threadsBefore = mae.kernels.Parallel.threads();
            if (main.threads != null) mae.kernels.Parallel.setThreads(main.threads);
            mae.io.Progress.allowBars(!main.noProgress);
            if (main.noAutotune) System.setProperty("mae.gemm.autotune", "false");   // read on the first GEMM
            try {
                return new CommandLine.RunLast().execute(parsed);
            } finally {                                       // in-process callers (tests) get the count they had
                mae.kernels.Parallel.setThreads(threadsBefore);
            }
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> fail(cmd.getErr(), ex));
        cl.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine c = ex.getCommandLine();
            String m = message(ex);
            if (ex.getArgSpec() instanceof picocli.CommandLine.Model.OptionSpec o)   // picocli names an option by its longest name
                m = m.replace("'" + o.longestName() + "'", "'" + OptionChecks.typedName(o) + "'");
            c.getErr().println("error: " + oneLine(m) + " (bin/" + c.getCommandSpec().qualifiedName() + " --help lists the options)");
            if (System.getenv("MAE_DEBUG") != null) ex.printStackTrace(c.getErr());
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        try {
            return cl.execute(args);
        } catch (Throwable t) {                              // an Error (out of memory) passes picocli's handlers
            return fail(cl.getErr(), t);
        }
    }

    /** "bin/mae probe --method knn": the arguments as typed, each quoted where the shell needs it. */
    static String invocation(String... args) {
        StringBuilder b = new StringBuilder("bin/mae");
        for (String a : args) b.append(' ').append(a.matches("[A-Za-z0-9_./:=,+@%-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        return b.toString();
    }

    /** The command line of the running command (bin/mae and its arguments). */
    public static String invocation() { return invocation; }

    /** Every command, the bench command included where its module is on the class path (for run and for tests). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("bench", bench());
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins
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

    private static int fail(java.io.PrintWriter err, Throwable ex) {
        err.println("error: " + oneLine(message(ex)));
        if (System.getenv("MAE_DEBUG") != null) ex.printStackTrace(err);
        err.flush();
        return 1;
    }

    /**
     * What went wrong, naming the file where the exception knows one: the file-system exceptions carry the path
     * and only sometimes the reason ("/x/y" alone for a missing file).
     */
    static String message(Throwable t) {
        if (t instanceof OutOfMemoryError)
            return "out of memory (" + t.getMessage() + "): the Java heap is too small for this command (raise -Xmx, e.g. MAE_JAVA_OPTS=-Xmx16g)";
        if (t instanceof StackOverflowError) return "internal error: stack overflow (MAE_DEBUG=1 prints the stack trace)";
        if (t instanceof FileSystemException f) {
            String file = f.getFile(), other = f.getOtherFile() != null ? " -> " + f.getOtherFile() : "";
            String reason = f.getReason() != null ? f.getReason()
                    : t instanceof NoSuchFileException ? "no such file or directory"
                    : t instanceof AccessDeniedException ? "permission denied"
                    : t instanceof FileAlreadyExistsException ? "already exists"
                    : t instanceof DirectoryNotEmptyException ? "directory not empty"
                    : t instanceof NotDirectoryException ? "not a directory"
                    : t.getClass().getSimpleName();
            return (file != null ? file + other + ": " : "") + reason;
        }
        String m = t.getMessage();
        boolean bug = t instanceof NullPointerException || t instanceof IndexOutOfBoundsException || t instanceof ArithmeticException
                || t instanceof ClassCastException || t instanceof NegativeArraySizeException || t instanceof ArrayStoreException;
        if (bug) return "internal error: " + t.getClass().getSimpleName() + (m == null ? "" : ": " + m) + " (MAE_DEBUG=1 prints the stack trace)";
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** The message on one line: control characters escaped, cut at {@link #MAX_MESSAGE} characters. */
    static String oneLine(String m) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < m.length() && b.length() < MAX_MESSAGE; i++) {
            char c = m.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c == '\r') b.append("\\r");
            else if (c == '\t') b.append("\\t");
            else if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return i < m.length() ? b + "..." : b.toString();
    }

    /** The project root (set by the bin/mae launcher), where data/ and runs/ live. */
    static java.nio.file.Path home() {
        return java.nio.file.Path.of(System.getProperty("mae.home", ".")).toAbsolutePath().normalize();
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }
}
