package mae.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `mae` command line. Each subcommand prints what it did; errors are one clear line and exit 1. */
@Command(name = "mae", mixinStandardHelpOptions = true, version = "mae 0.1.0",
        description = "A Masked Autoencoder on a from-scratch Java engine.",
        subcommands = {PretrainCommand.class, ProbeCommand.class, FinetuneCommand.class, ReconstructCommand.class, ExplainCommand.class, ConvertCommand.class, ForwardCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main()).setOverwrittenOptionsAllowed(true); // the last of a repeated option wins
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + message(ex));
            if (System.getenv("MAE_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl.execute(args);
    }

    /** The error's message as one line: control characters (a name from a hostile file) escaped, cut at 2,000 characters. */
    static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) return t.getClass().getSimpleName();
        StringBuilder sb = new StringBuilder(Math.min(m.length(), 2010));
        int i = 0;
        for (; i < m.length() && sb.length() < 2000; i++) {
            char c = m.charAt(i);
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return i < m.length() ? sb + "..." : sb.toString();
    }

    /** The project root (set by the bin/mae launcher), where data/ and runs/ live. */
    static java.nio.file.Path home() {
        return java.nio.file.Path.of(System.getProperty("mae.home", ".")).toAbsolutePath().normalize();
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }
}
