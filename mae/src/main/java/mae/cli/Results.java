package mae.cli;

import mae.io.AtomicFiles;
import mae.io.JsonFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The results files of pretrain, probe and finetune: results/DATE-TIME-HOST-WHAT.md and .json under the project
 * root, like the speed results under bench/results: the numbers with the machine, the date, the exact command and
 * the commit they were measured with, so that every accuracy the README shows comes from a file in the repository.
 * The .json holds the same as the .md: {"what", "date", "command", "commit", "machine", "wall_seconds", "numbers":
 * {...}, "settings": {...}}.
 */
final class Results {
    private Results() {}

    /** One file's content: a title line, the numbers (a table), the settings and notes. */
    static final class Entry {
        final String what, title;
        final Map<String, Object> numbers = new LinkedHashMap<>(), settings = new LinkedHashMap<>();
        final List<String[]> rows = new ArrayList<>();           // the table: label, value
        double wallSeconds = Double.NaN;

        Entry(String what, String title) { this.what = what; this.title = title; }

        /** A number shown with four decimals (accuracies, losses); integers as they are. */
        Entry number(String key, String label, Object value) { return number(key, label, value, "%.4f"); }

        /** A number shown in the table with {@code format} (e.g. "%.1f"), stored as shown. */
        Entry number(String key, String label, Object value, String format) {
            boolean real = value instanceof Double || value instanceof Float;
            numbers.put(key, real ? mae.tensor.io.Json.number(format, ((Number) value).doubleValue()) : value);
            rows.add(new String[]{label, real ? String.format(Locale.ROOT, format, ((Number) value).doubleValue()) : String.valueOf(value)});
            return this;
        }

        /** A setting; paths under the project root are shown relative to it. */
        Entry setting(String key, Object value) {
            if (value instanceof String s) value = s.replace(Main.home() + "/", "");
            settings.put(key, value == null ? mae.tensor.io.Json.NULL : value);
            return this;
        }
    }

    /** Writes the two files under home/results; returns the .md. */
    static Path write(Path home, Entry e) throws IOException {
        ZonedDateTime now = ZonedDateTime.now();
        Path dir = home.resolve("results");
        Files.createDirectories(dir);
        String stem = now.format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss")) + "-" + slug(host()) + "-" + slug(e.what);
        Map<String, Object> json = new LinkedHashMap<>();
        String date = now.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx")), command = Main.invocation(), commit = commit(home);
        Map<String, Object> machine = machine();
        json.put("what", e.what); json.put("title", e.title); json.put("date", date); json.put("command", command); json.put("commit", commit);
        json.put("machine", machine);
        if (!Double.isNaN(e.wallSeconds)) json.put("wall_seconds", mae.tensor.io.Json.number("%.1f", e.wallSeconds));
        json.put("numbers", e.numbers);
        json.put("settings", e.settings);
        JsonFile.write(dir.resolve(stem + ".json"), json);

        StringBuilder md = new StringBuilder("# ").append(e.title).append("\n\n");
        md.append("- date: ").append(date).append('\n');
        md.append("- command: `").append(command).append("`\n");
        md.append("- commit: ").append(commit).append('\n');
        md.append("- machine: ").append(machine.get("cpu")).append(", ").append(machine.get("cores")).append(" cores for the JVM, ")
                .append(machine.get("memory")).append(", ").append(machine.get("os")).append(", ").append(machine.get("java"))
                .append("; kernel threads ").append(machine.get("kernel_threads")).append("; host ").append(machine.get("host"))
                .append("; load average at the end ").append(machine.get("load_average")).append('\n');
        if (!Double.isNaN(e.wallSeconds)) md.append(String.format(Locale.ROOT, "- wall time: %.0f s%n", e.wallSeconds));
        md.append("\n| | |\n|---|---:|\n");
        for (String[] r : e.rows) md.append("| ").append(r[0]).append(" | ").append(r[1]).append(" |\n");
        md.append("\nSettings: ");
        List<String> s = new ArrayList<>();
        e.settings.forEach((k, v) -> s.add(k + " " + (v == mae.tensor.io.Json.NULL ? "-" : v)));
        md.append(String.join(", ", s)).append(".\n\nThe same in JSON: ").append(stem).append(".json\n");
        Path mdFile = dir.resolve(stem + ".md");
        AtomicFiles.writeString(mdFile, md.toString());
        return mdFile;
    }

    static String slug(String s) {
        String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        return t.isEmpty() ? "x" : t.length() > 40 ? t.substring(0, 40) : t;
    }

    /** The machine: CPU model, cores, memory, OS, Java, kernel threads, host, load. */
    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", procField("/proc/cpuinfo", "model name", System.getProperty("os.arch")));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        String mem = procField("/proc/meminfo", "MemTotal", null);
        m.put("memory", mem == null ? "memory unknown" : String.format(Locale.ROOT, "%.0f GiB", Long.parseLong(mem.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("kernel_threads", mae.kernels.Parallel.threads());
        m.put("host", host());
        String load = firstLine("/proc/loadavg", "unknown");                // 1, 5 and 15 minutes
        m.put("load_average", String.join(" ", java.util.Arrays.asList(load.split("\\s+")).subList(0, Math.min(3, load.split("\\s+").length))));
        return m;
    }

    static String host() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) h = firstLine("/etc/hostname", null);
        if (h == null || h.isBlank()) {
            try { h = java.net.InetAddress.getLocalHost().getHostName(); } catch (IOException e) { h = "host"; }
        }
        return h.trim();
    }

    private static String firstLine(String file, String fallback) {
        try {
            List<String> l = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
            return l.isEmpty() ? fallback : l.get(0).trim();
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }

    private static String procField(String file, String key, String fallback) {
        try {
            for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
                int c = line.indexOf(':');
                if (c > 0 && line.substring(0, c).trim().equals(key)) return line.substring(c + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the fallback
        }
        return fallback;
    }

    /**
     * "7cec5c1", or "7cec5c1 with uncommitted changes to README.md, docs/mae.md" (the first five), from git in the
     * project root; "unknown (no git)" without git.
     */
    static String commit(Path home) {
        String head = git(home, "rev-parse", "--short", "HEAD");
        if (head == null) return "unknown (no git)";
        String dirty = git(home, "status", "--porcelain", "--untracked-files=no");
        if (dirty == null || dirty.isBlank()) return head;
        List<String> files = new ArrayList<>();
        for (String line : dirty.split("\n")) if (line.length() > 3) files.add(line.substring(3).trim());
        return head + " with uncommitted changes to " + String.join(", ", files.subList(0, Math.min(5, files.size())))
                + (files.size() > 5 ? " and " + (files.size() - 5) + " more" : "");
    }

    private static String git(Path home, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", home.toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) { p.destroy(); return null; }
            return new String(out, StandardCharsets.UTF_8).stripTrailing();   // porcelain lines start with a space
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
