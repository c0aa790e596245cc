package mae.study;

import mae.io.AtomicFiles;
import mae.io.JsonFile;
import mae.model.MaeConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A study's results written out: per claim a table (tables/CLAIM.md and .json) with the paper's figure beside
 * each row, a chart (CLAIM.png), all of it in study.md and study.json with the machine, date and command, and
 * index.html, a self-contained page with a short explanation of each claim and every run's reconstruction
 * (pictures/RUN.png, copied from the run folders so the page holds without them).
 */
final class StudyReport {
    private final Study.Results r;
    private final StudyOptions o;
    private final Path out;
    private final List<Table> tables = new ArrayList<>();

    private StudyReport(Study.Results r) {
        this.r = r;
        this.o = r.options();
        this.out = o.out();
    }

    static Path write(Study.Results r) throws IOException {
        StudyReport rep = new StudyReport(r);
        return rep.build();
    }

    // ---------------------------------------------------------------- statistics

    /** Mean and sample standard deviation over seeds (NaN values left out); n = 0 when nothing was measured. */
    record Stat(double mean, double sd, int n) {
        static Stat of(List<Double> values) {
            double s = 0;
            int n = 0;
            for (double v : values) if (Double.isFinite(v)) { s += v; n++; }
            if (n == 0) return new Stat(Double.NaN, Double.NaN, 0);
            double m = s / n, q = 0;
            for (double v : values) if (Double.isFinite(v)) q += (v - m) * (v - m);
            return new Stat(m, n > 1 ? Math.sqrt(q / (n - 1)) : Double.NaN, n);
        }

        static Stat none() { return new Stat(Double.NaN, Double.NaN, 0); }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mean", mean); m.put("sd", sd); m.put("n", n);
            return m;
        }
    }

    /** One row of a claim's table. */
    record Row(String label, String runs, boolean base, Stat loss, Stat finetune, Stat linear, Stat knn, Stat pretrainSeconds,
               Stat finetuneSeconds, double[] paper) {}

    /** A claim's table and what it says. */
    record Table(Claim claim, List<Row> rows, String verdict, String chart) {}

    // ---------------------------------------------------------------- building

    private Path build() throws IOException {
        Files.createDirectories(out.resolve("tables"));
        for (Claim c : Claim.values()) {
            if (!o.claims().contains(c) || c == Claim.SPEED) continue;
            List<Row> rows = rows(c);
            tables.add(new Table(c, rows, verdict(c, rows), chart(c, rows)));
        }
        if (r.speed() != null) speedChart();
        copyPictures();
        for (Table t : tables) {
            AtomicFiles.writeString(out.resolve("tables/" + t.claim().id + ".md"), markdown(t));
            JsonFile.write(out.resolve("tables/" + t.claim().id + ".json"), json(t));
        }
        if (r.speed() != null) {
            AtomicFiles.writeString(out.resolve("tables/speed.md"), speedMarkdown());
            JsonFile.write(out.resolve("tables/speed.json"), speedJson());
        }
        AtomicFiles.writeString(out.resolve("study.md"), studyMarkdown());
        JsonFile.write(out.resolve("study.json"), studyJson());
        Path index = out.resolve("index.html");
        AtomicFiles.writeString(index, StudyPage.html(this));
        return index;
    }

    List<Row> rows(Claim c) {
        List<Row> rows = new ArrayList<>();
        Variant base = o.base();
        for (Variant v : o.variants(c)) {
            List<Study.RunResult> runs = new ArrayList<>();
            for (Study.RunResult x : r.runs()) if (x.variant().equals(v)) runs.add(x);
            String label = c == Claim.SCRATCH ? "MAE pre-training + fine-tuning" : label(c, v);
            rows.add(new Row(label, v.id(), v.equals(base), stat(runs, Study.RunResult::pretrainLoss), stat(runs, Study.RunResult::finetune),
                    stat(runs, Study.RunResult::linear), stat(runs, Study.RunResult::knn), stat(runs, Study.RunResult::pretrainSeconds),
                    stat(runs, Study.RunResult::finetuneSeconds), c.paperFigures(v, false)));
        }
        if (c == Claim.SCRATCH && !r.scratch().isEmpty()) {
            List<Study.ScratchResult> s = r.scratch();
            double epochs = s.get(0).finetuneEpochs(), more = s.get(0).sameComputeEpochs();
            rows.add(new Row("from scratch, the fine-tuning schedule (" + Variant.ratio(epochs) + " epochs)", "scratch", false, Stat.none(),
                    stat(s, Study.ScratchResult::sameSchedule), Stat.none(), Stat.none(), Stat.none(), stat(s, Study.ScratchResult::sameScheduleSeconds), null));
            rows.add(new Row(String.format(Locale.ROOT, "from scratch, the same total compute (%.1f epochs)", more), "scratch", false, Stat.none(),
                    stat(s, Study.ScratchResult::sameCompute), Stat.none(), Stat.none(), Stat.none(), stat(s, Study.ScratchResult::sameComputeSeconds),
                    c.paperFigures(base, true)));
            rows.add(new Row("random-init encoder, frozen (no training)", "scratch", false, Stat.none(), Stat.none(),
                    stat(s, Study.ScratchResult::randomLinear), stat(s, Study.ScratchResult::randomKnn), Stat.none(), Stat.none(), null));
        }
        return rows;
    }

    static String label(Claim c, Variant v) {
        return switch (c) {
            case MASK_RATIO -> "mask ratio " + Variant.ratio(v.maskRatio());
            case DECODER_DEPTH -> v.decoderDepth() + (v.decoderDepth() == 1 ? " block" : " blocks");
            case TARGETS -> v.normPix() ? "normalized pixels (per patch)" : "raw pixels";
            case MASKING -> v.masking() + " " + Math.round(100 * v.maskRatio()) + "%";
            default -> v.id();
        };
    }

    /** The mean and spread of f over runs (pretraining runs or from-scratch baselines alike). */
    private static <T> Stat stat(List<T> runs, java.util.function.ToDoubleFunction<T> f) {
        List<Double> v = new ArrayList<>();
        for (T x : runs) v.add(f.applyAsDouble(x));
        return Stat.of(v);
    }

    // ---------------------------------------------------------------- what each table says

    /** One standard error of an accuracy p measured on the held-out images, in points. */
    double standardError(double p) { return 100 * Math.sqrt(Math.max(p * (1 - p), 1e-4) / r.data().eval().n()); }

    String noise(List<Row> rows) {
        double p = Double.NaN;
        for (Row x : rows) if (x.finetune().n() > 0) { p = x.finetune().mean(); break; }
        if (Double.isNaN(p)) return "";
        double se = standardError(p);
        return String.format(Locale.ROOT, " On %,d held-out images one accuracy near %.0f%% has a standard error of %.2f points, so a difference"
                + " between two rows needs about %.1f points (2 x sqrt(2) standard errors) before it is more than noise%s.",
                r.data().eval().n(), 100 * p, se, 2 * Math.sqrt(2) * se, o.seeds() > 1 ? "; the +- columns are the spread over seeds" : "");
    }

    String verdict(Claim c, List<Row> rows) {
        String n = noise(rows);
        switch (c) {
            case MASK_RATIO -> {
                Row ft = best(rows, Row::finetune), lin = best(rows, Row::linear), knn = best(rows, Row::knn);
                if (ft == null) return "Nothing measured." + n;
                return String.format(Locale.ROOT, "Best fine-tuning at %s (%s), best linear probe at %s, best kNN at %s. The paper's best is 0.75 for both.%s",
                        tail(ft.label()), pct(ft.finetune()), lin == null ? "-" : tail(lin.label()), knn == null ? "-" : tail(knn.label()), n);
            }
            case DECODER_DEPTH -> {
                Row ft = best(rows, Row::finetune), lin = best(rows, Row::linear);
                if (ft == null) return "Nothing measured." + n;
                return String.format(Locale.ROOT, "Fine-tuning spans %.1f points across the depths (the paper: 0.1), best with %s; the linear probe is"
                        + " best with %s (the paper: deeper is better, +8 points from 1 to 8 blocks).%s", spread(rows, Row::finetune), ft.label(),
                        lin == null ? "-" : lin.label(), n);
            }
            case TARGETS -> {
                Row norm = find(rows, "normalized"), raw = find(rows, "raw");
                if (norm == null || raw == null) return "Needs both targets (--norm-pix on,off)." + n;
                return String.format(Locale.ROOT, "Normalized minus raw pixels: fine-tuning %s, linear probe %s, kNN %s points (the paper: +0.5 on fine-tuning).%s",
                        diff(norm.finetune(), raw.finetune()), diff(norm.linear(), raw.linear()), diff(norm.knn(), raw.knn()), n);
            }
            case MASKING -> {
                Row rnd = find(rows, "random");
                if (rnd == null) return "Needs random masking in --masking to compare against." + n;
                StringBuilder sb = new StringBuilder("Random minus the others:");
                for (Row x : rows)
                    if (x != rnd) sb.append(String.format(Locale.ROOT, " %s: fine-tuning %s, linear %s;", x.label(), diff(rnd.finetune(), x.finetune()), diff(rnd.linear(), x.linear())));
                sb.setLength(sb.length() - 1);
                return sb.append(" (the paper: random beats block 75% by 2.1 / 9.6 points and grid by 0.9 / 7.5).").append(n).toString();
            }
            case SCRATCH -> {
                if (rows.size() < 3) return "No from-scratch baseline measured." + n;
                Row mae = rows.get(0), same = rows.get(1), compute = rows.get(2);
                return String.format(Locale.ROOT, "MAE minus from scratch: %s points against the same fine-tuning schedule, %s against the same total"
                        + " compute (the paper: +2.4 for ViT-L against its improved from-scratch recipe).%s", diff(mae.finetune(), same.finetune()),
                        diff(mae.finetune(), compute.finetune()), n);
            }
            default -> { return ""; }
        }
    }

    /** Where the trend may part from the paper's, and why (with this config's sizes). */
    String differs(Claim c) {
        MaeConfig m = o.baseConfig();
        int L = m.numPatches(), g = m.grid();
        return switch (c) {
            case MASK_RATIO -> String.format(Locale.ROOT, "The images are %d pixels wide: %d patches of %d x %d, of which 75%% masking leaves %d and 90%% leaves %d"
                    + " (ImageNet at 224 px: 196 patches, 49 and 19 left). The garments are centred silhouettes on black, so many patches are blank and"
                    + " any ratio reconstructs them trivially, and a short run may favour the ratio that learns fastest rather than the one that learns best.",
                    m.imgSize(), L, m.patchSize(), m.patchSize(), m.lenKeep(0.75), m.lenKeep(0.9));
            case DECODER_DEPTH -> String.format(Locale.ROOT, "The encoder has %d blocks (ViT-L: 24), so the decoder is a large share of the model; in a short run a"
                    + " deeper decoder is more weights to train in the same steps, which can hide the linear-probe gain the paper sees after 800 epochs.", m.depth());
            case TARGETS -> "Most Fashion-MNIST patches are black background: their normalized target is 0 and their loss is trivial, while raw"
                    + " targets weigh silhouettes and brightness. At this scale the difference may be within a few standard errors.";
            case MASKING -> String.format(Locale.ROOT, "On a %d x %d grid a block of removed patches is a large part of the garment, and grid masking at 75%%"
                    + " keeps one patch of every 2 x 2 cell; both effects are stronger than on ImageNet's 14 x 14 grid, in either direction.", g, g);
            case SCRATCH -> "The paper's from-scratch ViT-L trains for hundreds of epochs with strong regularization; here both sides get minutes."
                    + " Fashion-MNIST is small and simple, so a small ViT from scratch does well, and MAE's advantage is expected to grow with"
                    + " model size and pretraining length rather than show fully here.";
            case SPEED -> String.format(Locale.ROOT, "The model is small: layer norms, the loss and the decoder (which always sees all %d positions) are a larger"
                    + " part of each step than in ViT-L, so the wall-clock gain can fall below the encoder's multiply-add ratio.", L);
        };
    }

    private static String tail(String label) { return label.substring(label.lastIndexOf(' ') + 1); }

    private static Row best(List<Row> rows, java.util.function.Function<Row, Stat> f) {
        Row b = null;
        for (Row x : rows) if (f.apply(x).n() > 0 && (b == null || f.apply(x).mean() > f.apply(b).mean())) b = x;
        return b;
    }

    private static double spread(List<Row> rows, java.util.function.Function<Row, Stat> f) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Row x : rows) if (f.apply(x).n() > 0) { lo = Math.min(lo, f.apply(x).mean()); hi = Math.max(hi, f.apply(x).mean()); }
        return hi >= lo ? 100 * (hi - lo) : Double.NaN;
    }

    private static Row find(List<Row> rows, String prefix) {
        for (Row x : rows) if (x.label().startsWith(prefix)) return x;
        return null;
    }

    static String diff(Stat a, Stat b) {
        if (a.n() == 0 || b.n() == 0) return "-";
        return String.format(Locale.ROOT, "%+.1f", 100 * (a.mean() - b.mean()));
    }

    // ---------------------------------------------------------------- charts and pictures

    private String chart(Claim c, List<Row> rows) throws IOException {
        String file = c.id + ".png";
        Path png = out.resolve(file);
        if (c == Claim.MASK_RATIO) {
            double[] x = new double[rows.size()];
            List<Variant> vs = o.variants(c);
            for (int i = 0; i < x.length; i++) x[i] = vs.get(i).maskRatio();
            StudyCharts.maskRatio(png, "Accuracy vs masking ratio (as the paper's Figure 5)", x, series("fine-tuning", rows, Row::finetune),
                    List.of(series("linear probe", rows, Row::linear), series("kNN", rows, Row::knn)));
            return file;
        }
        List<String> cats = new ArrayList<>();
        for (Row x : rows) cats.add(shortLabel(x.label()));
        String title = switch (c) {
            case DECODER_DEPTH -> "Decoder depth (as the paper's Table 1a)";
            case TARGETS -> "Reconstruction target (as the paper's Table 1d)";
            case MASKING -> "Mask sampling (as the paper's Table 1f)";
            case SCRATCH -> "MAE vs training from scratch";
            default -> c.title;
        };
        StudyCharts.bars(png, title, null, cats, List.of(series("fine-tuning", rows, Row::finetune), series("linear probe", rows, Row::linear), series("kNN", rows, Row::knn)));
        return file;
    }

    private static String shortLabel(String label) {
        return label.replace("from scratch, the fine-tuning schedule", "scratch, same schedule").replace("from scratch, the same total compute", "scratch, same compute")
                .replace("random-init encoder, frozen (no training)", "random-init, frozen").replace("MAE pre-training + fine-tuning", "MAE");
    }

    private static StudyCharts.Series series(String name, List<Row> rows, java.util.function.Function<Row, Stat> f) {
        double[] m = new double[rows.size()], s = new double[rows.size()];
        for (int i = 0; i < m.length; i++) { m[i] = f.apply(rows.get(i)).mean(); s[i] = f.apply(rows.get(i)).sd(); }
        return new StudyCharts.Series(name, m, s);
    }

    private void speedChart() throws IOException {
        SpeedCheck.Result s = r.speed();
        MaeConfig cfg = o.base().config(o.baseConfig());
        StudyCharts.plainBars(out.resolve("speed.png"), String.format(Locale.ROOT, "One pretraining step, batch %d (%.2fx faster)", s.batch(), s.wallSpeedup()),
                "milliseconds per step (median)", List.of("encoder on the " + cfg.lenKeep(s.ratio()) + " visible patches", "encoder on all " + cfg.numPatches() + " patches"),
                new double[]{s.msVisible(), s.msAll()});
    }

    /** Each run's reconstruction.png as pictures/RUN.png. */
    private void copyPictures() throws IOException {
        Files.createDirectories(out.resolve("pictures"));
        for (Study.RunResult x : r.runs()) {
            Path src = x.dir().resolve("reconstruction.png");
            if (Files.exists(src)) Files.copy(src, out.resolve("pictures/" + x.dir().getFileName() + ".png"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---------------------------------------------------------------- formats

    static String pct(Stat s) {
        if (s.n() == 0) return "-";
        return s.n() > 1 && Double.isFinite(s.sd()) ? String.format(Locale.ROOT, "%.1f ± %.1f", 100 * s.mean(), 100 * s.sd())
                : String.format(Locale.ROOT, "%.1f", 100 * s.mean());
    }

    static String loss(Stat s) {
        if (s.n() == 0) return "-";
        return s.n() > 1 && Double.isFinite(s.sd()) ? String.format(Locale.ROOT, "%.3f ± %.3f", s.mean(), s.sd()) : String.format(Locale.ROOT, "%.3f", s.mean());
    }

    static String time(Stat s) { return s.n() == 0 ? "-" : duration(s.mean()); }

    static String duration(double sec) {
        if (!Double.isFinite(sec)) return "-";
        if (sec < 60) return String.format(Locale.ROOT, "%.0f s", sec);
        long t = Math.round(sec);
        if (t < 3600) return String.format(Locale.ROOT, "%d min %02d s", t / 60, t % 60);
        return String.format(Locale.ROOT, "%d h %02d min", t / 3600, (t % 3600) / 60);
    }

    static String paper(Claim c, double[] p) {
        if (p == null) return "-";
        String ft = Double.isNaN(p[0]) ? "-" : String.format(Locale.ROOT, "%.1f", p[0]), lin = Double.isNaN(p[1]) ? "-" : String.format(Locale.ROOT, "%.1f", p[1]);
        return ft + " / " + lin + " (" + c.paperSource() + ")";
    }

    static final String[] HEADER = {"variant", "pretraining loss", "fine-tune top-1 (%)", "linear top-1 (%)", "kNN top-1 (%)", "pretraining time",
            "fine-tuning time", "paper: fine-tune / linear"};

    static String[] cells(Claim c, Row x) {
        return new String[]{x.label() + (x.base() && c != Claim.SCRATCH ? " (base)" : ""), loss(x.loss()), pct(x.finetune()), pct(x.linear()),
                pct(x.knn()), time(x.pretrainSeconds()), time(x.finetuneSeconds()), paper(c, x.paper())};
    }

    private String markdown(Table t) {
        StringBuilder sb = new StringBuilder();
        sb.append("### ").append(t.claim().title).append("\n\n");
        sb.append("The paper (ImageNet-1K, ViT-L): ").append(t.claim().paper).append("\n\n");
        sb.append('|');
        for (String h : HEADER) sb.append(' ').append(h).append(" |");
        sb.append("\n|");
        for (int i = 0; i < HEADER.length; i++) sb.append(i == 0 ? "---|" : "---:|");
        sb.append('\n');
        for (Row x : t.rows()) {
            sb.append('|');
            for (String cell : cells(t.claim(), x)) sb.append(' ').append(cell.replace("|", "/")).append(" |");
            sb.append('\n');
        }
        sb.append("\nHere: ").append(t.verdict()).append("\n\n");
        sb.append("Where this may differ from the paper: ").append(differs(t.claim())).append("\n\n");
        sb.append("![").append(t.claim().title).append("](").append(t.chart()).append(")\n");
        return sb.toString();
    }

    private Map<String, Object> json(Table t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("claim", t.claim().id);
        m.put("title", t.claim().title);
        m.put("paper", t.claim().paper);
        m.put("paper_source", t.claim().paperSource());
        List<Object> rows = new ArrayList<>();
        for (Row x : t.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("label", x.label()); row.put("runs", x.runs()); row.put("base", x.base());
            row.put("pretrain_loss", x.loss().toJson()); row.put("finetune_accuracy", x.finetune().toJson());
            row.put("linear_accuracy", x.linear().toJson()); row.put("knn_accuracy", x.knn().toJson());
            row.put("pretrain_seconds", x.pretrainSeconds().toJson()); row.put("finetune_seconds", x.finetuneSeconds().toJson());
            row.put("paper_finetune", x.paper() == null ? Double.NaN : x.paper()[0]);
            row.put("paper_linear", x.paper() == null ? Double.NaN : x.paper()[1]);
            rows.add(row);
        }
        m.put("rows", rows);
        m.put("verdict", t.verdict());
        m.put("differs", differs(t.claim()));
        m.put("chart", t.chart());
        return m;
    }

    String[][] speedRows() {
        SpeedCheck.Result s = r.speed();
        MaeConfig cfg = o.base().config(o.baseConfig());
        return new String[][]{
                {"encoder on the visible patches only (MAE)", (cfg.lenKeep(s.ratio()) + 1) + "", String.format(Locale.ROOT, "%,d", s.encoderMacsVisible()),
                        String.format(Locale.ROOT, "%,d", s.macsVisible()), String.format(Locale.ROOT, "%.1f", s.msVisible()), "-"},
                {"encoder on all patches (as with mask tokens)", (cfg.numPatches() + 1) + "", String.format(Locale.ROOT, "%,d", s.encoderMacsAll()),
                        String.format(Locale.ROOT, "%,d", s.macsAll()), String.format(Locale.ROOT, "%.1f", s.msAll()), "-"},
                {"ratio (all / visible)", "", String.format(Locale.ROOT, "%.2fx", s.encoderMacsRatio()), String.format(Locale.ROOT, "%.2fx", s.macsRatio()),
                        String.format(Locale.ROOT, "%.2fx", s.wallSpeedup()), "3.3x FLOPs (Table 1c); 2.8-4.1x wall-clock (Table 2)"}};
    }

    static final String[] SPEED_HEADER = {"pretraining step", "tokens in the encoder", "encoder multiply-adds per image", "forward multiply-adds per image",
            "ms per step (forward + backward + AdamW)", "paper"};

    String speedVerdict() {
        SpeedCheck.Result s = r.speed();
        return String.format(Locale.ROOT, "At mask %s the encoder does %.2fx fewer multiply-adds and the whole forward %.2fx fewer; a training step of batch"
                + " %d is %.2fx faster in wall-clock time (median of %d alternating steps each).", Variant.ratio(s.ratio()), s.encoderMacsRatio(), s.macsRatio(),
                s.batch(), s.wallSpeedup(), s.steps());
    }

    private String speedMarkdown() {
        StringBuilder sb = new StringBuilder("### ").append(Claim.SPEED.title).append("\n\nThe paper (ImageNet-1K, ViT-L): ").append(Claim.SPEED.paper).append("\n\n|");
        for (String h : SPEED_HEADER) sb.append(' ').append(h).append(" |");
        sb.append("\n|---|---:|---:|---:|---:|---|\n");
        for (String[] row : speedRows()) {
            sb.append('|');
            for (String cell : row) sb.append(' ').append(cell).append(" |");
            sb.append('\n');
        }
        sb.append("\nHere: ").append(speedVerdict()).append("\n\nWhere this may differ from the paper: ").append(differs(Claim.SPEED)).append("\n\n![speed](speed.png)\n");
        return sb.toString();
    }

    private Map<String, Object> speedJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("claim", Claim.SPEED.id);
        m.put("title", Claim.SPEED.title);
        m.put("paper", Claim.SPEED.paper);
        m.put("paper_source", Claim.SPEED.paperSource());
        m.put("measured", r.speed().toJson());
        m.put("verdict", speedVerdict());
        m.put("differs", differs(Claim.SPEED));
        m.put("chart", "speed.png");
        return m;
    }

    // ---------------------------------------------------------------- the whole study

    final String date = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));

    String commandLine() {
        StringBuilder sb = new StringBuilder("bin/mae study");
        List<String> args = r.command();
        if (!args.isEmpty() && args.get(0).equals("study")) args = args.subList(1, args.size());
        for (String a : args) sb.append(' ').append(a.matches("[A-Za-z0-9_./,:=+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        return sb.toString();
    }

    /**
     * The wall times in the tables are each run's own, taken as it ran: a study that was stopped and continued on
     * another JVM, or that shared the machine for a while, mixes speeds, so its times are not a comparison.
     */
    static final String TIMES_NOTE = "Pretraining and fine-tuning times are each run's wall time as it ran: they compare only runs made on the same JVM"
            + " with nothing else running (a study continued on another JVM, or sharing the machine, mixes speeds); the speed claim is the controlled timing.";

    /** The machine in one line: CPU model, cores, memory, OS, Java. */
    static String machine() {
        String cpu = "unknown CPU", mem = "";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8))
                if (l.startsWith("model name")) { cpu = l.substring(l.indexOf(':') + 1).trim(); break; }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.UTF_8))
                if (l.startsWith("MemTotal")) { mem = String.format(Locale.ROOT, ", %.0f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0); break; }
        } catch (IOException | RuntimeException e) {
            // not Linux: the JVM's view below still says enough
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores" + mem + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                + ", Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")";
    }

    String modelLine() {
        MaeConfig c = o.baseConfig();
        return String.format(Locale.ROOT, "%s: %d px images, %d px patches (%d x %d), encoder %d wide x %d blocks, decoder %d wide x %d blocks (base)",
                c.name(), c.imgSize(), c.patchSize(), c.grid(), c.grid(), c.embedDim(), c.depth(), c.decoderEmbedDim(), c.decoderDepth());
    }

    String budgetLine() {
        return String.format(Locale.ROOT, "%,d steps of batch %d per pretraining run (blr %s, AdamW, warmup 5%% + cosine), %d seed(s) per variant",
                o.budget(), o.batch(), Double.toString(o.blr()), o.seeds());
    }

    String evalLine() {
        return String.format(Locale.ROOT, "fine-tuning: %s, on %s training images (from scratch: blr %s, no layer decay); linear probe: cls feature, %d epochs of SGD on %s; kNN: k = %d, cosine,"
                        + " mean-pooled patch features, bank of %s", o.finetune().describe(), count(r.data().first(o.ftTrainLimit()).n()),
                Double.toString(o.scratchFinetune().blr()), o.probeEpochs(),
                count(r.data().first(o.probeTrainLimit()).n()), StudyOptions.KNN_K, count(r.data().first(o.knnBank()).n()));
    }

    private static String count(int n) { return String.format(Locale.ROOT, "%,d", n); }

    private String studyMarkdown() {
        StringBuilder sb = new StringBuilder("# MAE's claims, measured on Fashion-MNIST\n\n");
        sb.append("| | |\n|---|---|\n");
        sb.append("| date | ").append(date).append(" |\n| machine | ").append(machine()).append(" |\n| command | `").append(commandLine()).append("` |\n");
        sb.append("| data | ").append(r.data().description()).append(" |\n| model | ").append(modelLine()).append(" |\n| budget | ").append(budgetLine())
                .append(" |\n| evaluation | ").append(evalLine()).append(" |\n\n");
        sb.append("The paper's numbers (ImageNet-1K, ViT-L, 224 px, 800-1600 epochs) are there to compare trends, not values. ")
                .append(TIMES_NOTE).append("\n\n");
        for (Table t : tables) sb.append(markdown(t)).append('\n');
        if (r.speed() != null) sb.append(speedMarkdown());
        return sb.toString();
    }

    private Map<String, Object> studyJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", date);
        m.put("machine", machine());
        m.put("command", commandLine());
        m.put("data", r.data().description());
        m.put("model", modelLine());
        m.put("budget_steps", o.budget());
        m.put("batch", o.batch());
        m.put("seeds", o.seeds());
        m.put("protocol", o.protocol());
        List<Object> claims = new ArrayList<>();
        for (Table t : tables) claims.add(json(t));
        if (r.speed() != null) claims.add(speedJson());
        m.put("claims", claims);
        List<Object> runs = new ArrayList<>();
        for (Study.RunResult x : r.runs()) runs.add(out.relativize(x.dir()).toString());
        m.put("runs", runs);
        return m;
    }

    /**
     * Copies what a study's results are (the page, study.md/json, tables, charts, reconstructions; not the run folders
     * with their checkpoints) into dir, e.g. a folder of the repository to commit; returns dir/index.html.
     */
    static Path publish(Path out, Path dir) throws IOException {
        Files.createDirectories(dir.resolve("tables"));
        Files.createDirectories(dir.resolve("pictures"));
        try (java.util.stream.Stream<Path> s = Files.walk(out)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path rel = out.relativize(p);
                String first = rel.getNameCount() > 0 ? rel.getName(0).toString() : "";
                boolean top = rel.getNameCount() == 1 && (p.toString().endsWith(".png") || p.toString().endsWith(".html") || p.toString().endsWith(".md")
                        || p.toString().endsWith(".json"));
                if (Files.isRegularFile(p) && (top || (rel.getNameCount() == 2 && (first.equals("tables") || first.equals("pictures")))))
                    Files.copy(p, dir.resolve(rel.toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir.resolve("index.html");
    }

    // accessors for the page
    Study.Results results() { return r; }
    List<Table> tables() { return tables; }
    Path out() { return out; }
}
