package mae.bench;

import mae.cli.Range;
import mae.kernels.Parallel;
import mae.tensor.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Reads a JMH result file (`-rf json`) and writes what a reader wants from it: one row per benchmark and
 * parameter set, with the rate in its own unit (JMH prints every counter as "ops/s"): GFLOP/s from a
 * {@link Flops} counter, GB/s from a {@link Bytes} counter, images/s from {@link Images}; beside it the fraction
 * of this machine's measured FMA peak (compute) or STREAM triad bandwidth (memory), both measured here unless
 * given. The table goes to standard output and, as markdown, beside the JSON (FILE.md).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Turn a JMH JSON result (java -jar bench/target/benchmarks.jar ... -rf json -rff FILE) into a table "
                + "with GFLOP/s, GB/s or images/s, the kernel threads, and the %% of the measured FMA peak or memory bandwidth; "
                + "writes FILE.md beside it.")
public final class BenchReport implements Callable<Integer> {
    /** Floats per array of the bandwidth measurement: 3 x 128 MB, well above any last-level cache. */
    static final int BANDWIDTH_FLOATS = 32 << 20;

    @Parameters(index = "0", paramLabel = "FILE.json", description = "a JMH result in JSON") Path file;
    @Range(min = 0, max = 1e7, minOpen = true) @Option(names = "--peak", paramLabel = "GFLOPS", description = "the FMA peak in GFLOP/s (default: measured now, as bench peak)") Double peak;
    @Range(min = 0, max = 1e6, minOpen = true) @Option(names = "--bandwidth", paramLabel = "GBS", description = "the memory bandwidth in GB/s (default: measured now, STREAM triad)") Double bandwidth;
    /** The machine line of the report: the CPU model from /proc/cpuinfo unless set (tests). */
    String machine;

    /** One benchmark and parameter set. */
    record Row(String benchmark, String params, int threads, double score, double error, String unit, String kind) {}

    @Override public Integer call() throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file (expected a JMH -rf json result)");
        List<Row> rows = rows(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        int threads = Parallel.threads();
        double pk = peak != null ? peak : measuredPeak(threads), bw = bandwidth != null ? bandwidth : Peak.bandwidth(BANDWIDTH_FLOATS, 5, threads);
        String md = table(rows, pk, peak == null, bw, bandwidth == null, machine != null ? machine : cpuModel(), file.getFileName().toString());
        System.out.print(md);
        Path out = file.resolveSibling(file.getFileName() + ".md"), tmp = file.resolveSibling(file.getFileName() + ".md.tmp");
        Files.writeString(tmp, md, StandardCharsets.UTF_8);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + out);
        return 0;
    }

    static double measuredPeak(int threads) {
        for (int i = 0; i < 3; i++) Peak.gflops(5_000_000, threads);
        double[] g = new double[5];
        for (int i = 0; i < g.length; i++) g[i] = Peak.gflops(20_000_000, threads);
        return BenchCommand.median(g);
    }

    /** The rows of a JMH JSON result; errors name the file and what is missing. */
    static List<Row> rows(String text, String where) {
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException(where + ": not JSON: " + e.getMessage());
        }
        if (!(parsed instanceof List)) throw new IllegalArgumentException(where + ": expected JMH's JSON array of results, found " + Json.typeName(parsed));
        List<Row> rows = new ArrayList<>();
        for (Object o : (List<?>) parsed) {
            Map<String, Object> r = Json.asObject(o, where + ": a result");
            String bench = string(r, "benchmark", where);
            Map<String, Object> primary = Json.asObject(r.get("primaryMetric"), where + ": " + bench + ": primaryMetric");
            Map<String, Object> secondary = r.get("secondaryMetrics") instanceof Map ? Json.asObject(r.get("secondaryMetrics"), where) : Map.of();
            String params = params(r.get("params"));
            int threads = threadsOf(r.get("jvmArgs"));
            String[][] counters = {{"gflop", "GFLOP/s", "compute"}, {"gbyte", "GB/s", "memory"}, {"images", "images/s", "rate"}};
            boolean any = false;
            for (String[] c : counters)
                if (secondary.get(c[0]) instanceof Map) {
                    Map<String, Object> m = Json.asObject(secondary.get(c[0]), where);
                    rows.add(new Row(bench, params, threads, num(m, "score", where), num(m, "scoreError", where), c[1], c[2]));
                    any = true;
                }
            if (!any) rows.add(new Row(bench, params, threads, num(primary, "score", where), num(primary, "scoreError", where),
                    "calls/s", "rate"));
        }
        return rows;
    }

    /** -Dmae.threads=N from the fork's JVM arguments, else this machine's kernel threads (the run is assumed to be from here). */
    static int threadsOf(Object jvmArgs) {
        if (jvmArgs instanceof List)
            for (Object a : (List<?>) jvmArgs)
                if (a instanceof String && ((String) a).startsWith("-Dmae.threads="))
                    return Integer.parseInt(((String) a).substring("-Dmae.threads=".length()));
        return Parallel.threads();
    }

    private static String params(Object p) {
        if (!(p instanceof Map)) return "";
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) p).entrySet()) sb.append(sb.length() > 0 ? ", " : "").append(e.getKey()).append('=').append(e.getValue());
        return sb.toString();
    }

    private static String string(Map<String, Object> m, String key, String where) {
        if (!(m.get(key) instanceof String)) throw new IllegalArgumentException(where + ": a result without a \"" + key + "\" string");
        return (String) m.get(key);
    }

    private static double num(Map<String, Object> m, String key, String where) {
        Object v = m.get(key);
        if (v instanceof Number) return ((Number) v).doubleValue();
        if ("NaN".equals(v)) return Double.NaN;   // JMH writes "NaN" for the error of a single iteration
        throw new IllegalArgumentException(where + ": \"" + key + "\" is " + Json.typeName(v) + ", expected a number");
    }

    /** The markdown report: the machine and its limits, then one table row per result. */
    static String table(List<Row> rows, double peak, boolean peakMeasured, double bw, boolean bwMeasured, String machine, String source) {
        StringBuilder sb = new StringBuilder();
        sb.append("# JMH results: ").append(source).append("\n\n");
        sb.append(String.format(Locale.ROOT, "- machine: %s%n", machine));
        sb.append(String.format(Locale.ROOT, "- FMA peak: %.1f GFLOP/s (%s, %d threads)%n", peak, peakMeasured ? "measured now by the report" : "given", Parallel.threads()));
        sb.append(String.format(Locale.ROOT, "- memory bandwidth: %.1f GB/s (%s, STREAM triad)%n", bw, bwMeasured ? "measured now by the report" : "given"));
        sb.append("- a memory-bound rate above 100% of the bandwidth (marked \"in cache\") is a working set that fits in the L2 or L3 cache,\n"
                + "  which is faster than main memory; its bound is then the cache's bandwidth, which this report does not measure\n\n");
        sb.append("| benchmark | parameters | kernel threads | rate | unit | ± (99.9%) | % of limit |\n|---|---|---:|---:|---|---:|---:|\n");
        for (Row r : rows) {
            String pct = r.kind.equals("compute") ? String.format(Locale.ROOT, "%.0f%% of FMA peak", 100 * r.score / peak)
                    : r.kind.equals("memory") ? String.format(Locale.ROOT, "%.0f%% of bandwidth%s", 100 * r.score / bw, r.score > bw ? " (in cache)" : "") : "";
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %s | %s | %s |%n", shortName(r.benchmark), r.params, r.threads,
                    r.score, r.unit, Double.isNaN(r.error) ? "n/a" : String.format(Locale.ROOT, "%.1f", r.error), pct));
        }
        return sb.toString();
    }

    /** mae.bench.GemmBench.gemm -> GemmBench.gemm */
    static String shortName(String benchmark) {
        String[] p = benchmark.split("\\.");
        return p.length >= 2 ? p[p.length - 2] + "." + p[p.length - 1] : benchmark;
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim() + ", " + Runtime.getRuntime().availableProcessors() + " cores";
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }
}
