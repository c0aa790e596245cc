package mae.explain;

import mae.autograd.Trace;
import mae.io.AtomicFiles;
import mae.model.MaeConfig;
import mae.model.Reconstruction;
import mae.tensor.Shapes;
import mae.tensor.Tensor;
import mae.viz.Html;
import mae.viz.ImageGrid;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an {@link Explainer.Explanation} as a self-contained HTML report: DIR/index.html with its PNGs beside
 * it, no script or style from outside, every number from the traced run. Files are written atomically.
 */
public final class Report {
    private final Explainer.Explanation e;
    private final MaeConfig cfg;
    private final Figures fig;
    private final Path dir;
    private final StringBuilder h = new StringBuilder();

    private Report(Explainer.Explanation e, Path dir) {
        this.e = e;
        this.cfg = e.cfg();
        this.fig = new Figures(cfg);
        this.dir = dir;
    }

    /** Writes the report into dir (created if needed); returns index.html. */
    public static Path write(Explainer.Explanation e, Path dir) throws IOException {
        if (Files.isRegularFile(dir)) throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
        Files.createDirectories(dir);
        Report r = new Report(e, dir);
        r.build();
        Path index = dir.resolve("index.html");
        AtomicFiles.writeString(index, r.h.toString());
        return index;
    }

    private void build() throws IOException {
        head();
        overview();
        glance();
        imageSection();
        maskingSection();
        stageSection();
        attentionSection();
        reconstructionSection();
        ratioSection();
        tail();
    }

    // ---------------------------------------------------------------- sections

    private void head() {
        h.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <title>MAE explained: one image through the model</title>
                <style>
                body { font-family: sans-serif; max-width: 1180px; margin: 1em auto; padding: 0 1em; color: #222; line-height: 1.4; }
                h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
                table { border-collapse: collapse; margin: .6em 0; } td, th { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
                th { background: #f0f0f0; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
                td.shape, code { font-family: monospace; white-space: nowrap; }
                tr.encoder td:first-child { border-left: 4px solid #4a7fd0; } tr.decoder td:first-child { border-left: 4px solid #d08a4a; }
                tr.loss td:first-child { border-left: 4px solid #999; }
                figure { display: inline-block; margin: .4em 1em .8em 0; vertical-align: top; } figcaption { font-size: .88em; max-width: 460px; }
                .note { background: #fff6d8; border: 1px solid #e0c060; padding: .5em .8em; margin: .6em 0; }
                .missing { background: #fde8e8; border: 1px solid #d08080; padding: .5em .8em; margin: .6em 0; }
                .big { font-size: 1.15em; font-weight: bold; } details summary { cursor: pointer; color: #555; }
                .glance figure { margin-right: .6em; } .glance img { width: 200px; } .glance figcaption { max-width: 200px; }
                </style></head>
                <body>
                <h1>MAE explained: one image through the model</h1>
                """);
    }

    private void overview() {
        Explainer.Request r = e.request();
        h.append("<table id=\"run\">");
        row("checkpoint", "<code>" + esc(e.checkpoint().weights().toString()) + "</code>");
        row("model", esc(cfg.name()) + ": " + cfg.imgSize() + " px images, " + cfg.inChans() + " channel(s), patch " + cfg.patchSize()
                + " (" + cfg.grid() + " x " + cfg.grid() + " = " + cfg.numPatches() + " patches); encoder " + cfg.embedDim() + " wide x "
                + cfg.depth() + " blocks, " + cfg.numHeads() + " heads; decoder " + cfg.decoderEmbedDim() + " x " + cfg.decoderDepth()
                + ", " + cfg.decoderNumHeads() + " heads; norm-pix targets " + (cfg.normPixLoss() ? "on" : "off"));
        row("image", esc(e.subject().source()));
        row("masking", "mask ratio " + num(r.maskRatio()) + ", strategies " + esc(strategies()) + ", seed " + r.seed());
        row("normalization", "mean " + Arrays.toString(e.normalization().mean()) + ", std " + Arrays.toString(e.normalization().std()));
        h.append("</table>\n");
        for (String n : e.notes()) h.append("<p class=\"note\">Note: ").append(esc(n)).append("</p>\n");
        if (!e.checkpoint().hasDecoder())
            h.append("<p class=\"missing\" id=\"decoder-missing\">No decoder: ").append(esc(e.checkpoint().missing())).append("</p>\n");
    }

    /** The main pass in five pictures and the encoder saving in one line (the pictures are those of the sections below). */
    private void glance() throws IOException {
        Explainer.Pass p = e.main();
        String s = name(p);
        int b = e.request().block();
        h.append("<h2>At a glance</h2>\n<div class=\"glance\">\n");
        image("patches.png", "the image, cut into " + cfg.numPatches() + " patches");
        image("kept-" + s + ".png", p.masking().lenKeep() + " patches kept (" + s + " masking, ratio " + num(p.ratio()) + ")");
        image("attention-b" + b + "-mean.png", "where the cls token looks (block " + b + ", mean over heads)");
        if (e.checkpoint().hasDecoder()) {
            figure("glance-reconstruction.png", fig.image(p.pictures().pasted().toArray()), "the reconstruction, visible patches pasted back");
            image("loss-" + s + ".png", String.format(Locale.ROOT, "per-patch loss; %.4f on the removed patches", p.pictures().loss()));
        }
        h.append("</div>\n<p class=\"big\">Encoding only the ").append(p.masking().lenKeep()).append(" visible patches costs the encoder ")
                .append(macs(p.macs("encoder"))).append(" multiply-adds instead of ").append(macs(e.encoderMacsAllPatches()))
                .append(String.format(Locale.ROOT, " (%.2fx fewer).</p>%n", (double) e.encoderMacsAllPatches() / p.macs("encoder")));
    }

    private void imageSection() throws IOException {
        float[] px = e.subject().pixels();
        h.append("<h2>1. The image and its patches</h2>\n<p>The model cuts the ").append(cfg.imgSize()).append(" x ").append(cfg.imgSize())
                .append(" image into ").append(cfg.numPatches()).append(" patches of ").append(cfg.patchSize()).append(" x ").append(cfg.patchSize())
                .append(" pixels, numbered row by row. Pictures are scaled up ").append(fig.scale).append("x.</p>\n");
        figure("image.png", fig.image(px), "the image as the model gets it (" + cfg.imgSize() + " px)");
        figure("patches.png", fig.patches(px), cfg.grid() + " x " + cfg.grid() + " patch grid, patch index = row * " + cfg.grid() + " + column");
    }

    private void maskingSection() throws IOException {
        h.append("<h2>2. Masking: noise, kept and removed patches</h2>\n<p>Each patch draws a noise value; the patches with the <b>")
                .append(cfg.lenKeep(e.request().maskRatio())).append(" smallest</b> values are kept (len_keep = floor(")
                .append(cfg.numPatches()).append(" x (1 - ").append(num(e.request().maskRatio())).append("))), the others removed. ")
                .append("Block and grid masking shape the noise so that the removed patches form blobs or a regular pattern.</p>\n");
        for (Explainer.Pass p : e.strategies()) maskingOf(p);
    }

    private void maskingOf(Explainer.Pass p) throws IOException {
        String s = name(p);
        float[] noise = p.noise().toArray(), mask = p.mask();
        boolean[] kept = kept(mask), all = new boolean[cfg.numPatches()];
        Arrays.fill(all, true);
        float max = 0;
        for (float v : noise) max = Math.max(max, v);
        h.append("<h3>").append(s).append(" masking</h3>\n");
        figure("noise-" + s + ".png", fig.heat(noise, max, all, kept, "%.2f"), "the noise per patch (white frame: kept)");
        figure("kept-" + s + ".png", fig.masked(e.subject().pixels(), mask, false, 0.5f), p.masking().lenKeep() + " kept patches (removed ones gray)");
        figure("removed-" + s + ".png", fig.masked(e.subject().pixels(), mask, true, 0.85f), (cfg.numPatches() - p.masking().lenKeep()) + " removed patches: what the decoder must predict");
        figure("order-" + s + ".png", fig.order(e.subject().pixels(), p.idsKeep()), "the kept patches in the order the encoder gets them (ids_keep)");
        h.append("<p>ids_keep = <code style=\"white-space: normal\">").append(Arrays.toString(p.idsKeep())).append("</code></p>\n");
    }

    private void stageSection() {
        Explainer.Pass p = e.main();
        h.append("<h2>3. Stage by stage</h2>\n<p>The engine's forward pass on this image (").append(name(p)).append(" masking, ratio ")
                .append(num(p.ratio())).append("), recorded op by op by <code>mae.autograd.Trace</code>. Shapes are ")
                .append(esc(legend(p))).append(". Multiply-adds count the matrix products (linear layers, attention); ")
                .append("elementwise ops, norms and softmax are not counted.</p>\n");
        h.append("<table id=\"stages\"><tr><th>#</th><th>part</th><th>stage</th><th>what it does (<i>in this run</i>)</th><th>shape in symbols</th>")
                .append("<th>output shape</th><th>ops</th><th>multiply-adds</th><th>share</th></tr>\n");
        long total = p.trace().macs();
        List<Trace.Stage> stages = p.trace().stages();
        for (int i = 0; i < stages.size(); i++) stageRow(i, stages.get(i), total, p);
        h.append("</table>\n");
        if (!e.checkpoint().hasDecoder())
            h.append("<p class=\"missing\">The decoder stages (decoder embedding, mask tokens, unshuffle, decoder blocks, prediction) ")
                    .append("and the loss are missing: the checkpoint has no decoder.</p>\n");
        savings(p);
    }

    private void stageRow(int i, Trace.Stage s, long total, Explainer.Pass p) {
        String part = Explainer.part(s.name());
        h.append("<tr class=\"").append(part).append("\"><td class=\"num\">").append(i + 1).append("</td><td>").append(part)
                .append("</td><td>").append(esc(s.name())).append("</td><td>").append(esc(s.meaning())).append("<br><i>")
                .append(esc(Stages.detail(s, p, e))).append("</i></td><td class=\"shape\">").append(esc(Stages.symbolic(s.name())))
                .append("</td><td class=\"shape\">").append(s.shape() == null ? "-" : Shapes.str(s.shape())).append("</td><td>")
                .append(ops(s)).append("</td><td class=\"num\">").append(macs(s.macs())).append("</td><td class=\"num\">")
                .append(total > 0 ? String.format(Locale.ROOT, "%.1f%%", 100.0 * s.macs() / total) : "-").append("</td></tr>\n");
    }

    private static final String COLORBAR = "colour scale of the heat maps: 0 (left) to the map's largest value (right)";
    private static final List<String> VIEWS = List.of("reshape", "permute", "transpose", "narrow", "expand", "squeeze", "unsqueeze");

    /** The computing ops by name with counts (views only counted), and the full list with shapes behind a fold. */
    private static String ops(Trace.Stage s) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        int views = 0;
        for (Trace.Op o : s.ops()) if (VIEWS.contains(o.name())) views++; else counts.merge(o.name(), 1, Integer::sum);
        StringBuilder sum = new StringBuilder();
        counts.forEach((k, v) -> sum.append(sum.length() > 0 ? ", " : "").append(esc(k)).append(v > 1 ? " x" + v : ""));
        if (views > 0) sum.append(sum.length() > 0 ? " + " : "").append(views).append(views > 1 ? " views" : " view");
        StringBuilder sb = new StringBuilder("<details><summary>").append(sum).append("</summary><code>");
        for (Trace.Op o : s.ops()) sb.append(esc(o.toString())).append(o.macs() > 0 ? " (" + macs(o.macs()) + " MACs)" : "").append("<br>");
        return sb.append("</code></details>").toString();
    }

    private void savings(Explainer.Pass p) {
        long enc = p.macs("encoder"), dec = p.macs("decoder"), all = e.encoderMacsAllPatches();
        int keep = p.masking().lenKeep(), L = cfg.numPatches();
        h.append("<table id=\"macs\"><tr><th></th><th>multiply-adds</th></tr>\n");
        macRow("encoder, " + keep + " visible patches + cls (this run)", enc);
        if (e.checkpoint().hasDecoder()) macRow("decoder, all " + L + " patches + cls (this run)", dec);
        macRow("encoder if it saw all " + L + " patches (mask ratio 0, traced the same way)", all);
        h.append("</table>\n<p class=\"big\" id=\"saving\">Encoding only the visible patches: ").append(macs(enc)).append(" instead of ")
                .append(macs(all)).append(" multiply-adds in the encoder, ").append(String.format(Locale.ROOT, "%.2fx", (double) all / enc))
                .append(" fewer.</p>\n");
        if (e.checkpoint().hasDecoder())
            h.append("<p>Whole forward pass: ").append(macs(enc + dec)).append(" multiply-adds; with every patch in the encoder it would be ")
                    .append(macs(all + dec)).append(String.format(Locale.ROOT, " (%.2fx). ", (double) (all + dec) / (enc + dec)))
                    .append("The paper measures the same effect in training time (2.8x to 4.1x, Table 2).</p>\n");
    }

    private void attentionSection() throws IOException {
        int b = e.request().block(), hd = e.request().head(), H = cfg.numHeads();
        Explainer.Pass p = e.main();
        AttentionMaps.Maps m = e.attention().get(b);
        boolean[] visible = kept(p.mask());
        h.append("<h2>4. Attention: where the cls token looks</h2>\n<p>Attention probabilities of encoder block ").append(b)
                .append(", recomputed from that block's own <code>norm1</code> and <code>attn.qkv</code> on its input from the traced pass. ")
                .append("Multiplied by v and sent through the block's <code>attn.proj</code> they reproduce the block's attention output to max |difference| ")
                .append(String.format(Locale.ROOT, "%.2e", m.maxAbsDiff())).append(". Removed patches are gray: the encoder never saw them. Colours run from purple (0) to yellow (the map's largest weight).</p>\n");
        figure("attention-b" + b + "-h" + hd + ".png", fig.attention(e.subject().pixels(), perPatch(m.row(hd, 0), p), visible),
                "block " + b + ", head " + hd + ": " + clsCaption(m.row(hd, 0), p));
        figure("attention-b" + b + "-mean.png", fig.attention(e.subject().pixels(), perPatch(m.meanRow(0), p), visible),
                "block " + b + ", mean over the " + H + " heads: " + clsCaption(m.meanRow(0), p));
        float[][][] overlays = new float[cfg.depth()][H + 1][];
        for (int k = 0; k < cfg.depth(); k++) {
            AttentionMaps.Maps mk = e.attention().get(k);
            for (int j = 0; j <= H; j++)
                overlays[k][j] = fig.attentionPixels(e.subject().pixels(), perPatch(j < H ? mk.row(j, 0) : mk.meanRow(0), p), visible);
        }
        grid("attention-all.png", fig.attentionGrid(overlays, H), "every encoder block (rows, block 0 at the top) and head (columns): the cls token's attention over the visible patches; each map scaled to its own maximum");
        figure("colorbar.png", Figures.colorbar(), COLORBAR);
    }

    /** The cls row over the T = 1 + keep tokens -> a weight per patch in grid order (removed patches 0). */
    private float[] perPatch(float[] clsRow, Explainer.Pass p) {
        float[] w = new float[cfg.numPatches()];
        int[] keep = p.idsKeep();
        for (int j = 0; j < keep.length; j++) w[keep[j]] = clsRow[1 + j];
        return w;
    }

    private String clsCaption(float[] clsRow, Explainer.Pass p) {
        int best = 1;
        for (int j = 1; j < clsRow.length; j++) if (clsRow[j] > clsRow[best]) best = j;
        return String.format(Locale.ROOT, "cls -> itself %.3f, -> the %d visible patches %.3f in all; most: patch #%d (%.3f)",
                clsRow[0], clsRow.length - 1, 1 - clsRow[0], p.idsKeep()[best - 1], clsRow[best]);
    }

    private void reconstructionSection() throws IOException {
        h.append("<h2>5. Reconstruction and per-patch loss</h2>\n");
        if (!e.checkpoint().hasDecoder()) {
            h.append("<p class=\"missing\">No reconstruction and no loss: the checkpoint has no decoder (see above).</p>\n");
            return;
        }
        h.append("<p>The decoder predicts every patch").append(cfg.normPixLoss() ? " (in per-patch normalized units, shown de-normalized with each patch's own mean and variance)" : "")
                .append("; the loss is the mean squared error over the <b>removed</b> patches only. Visible patches are gray in the loss map: they do not count.</p>\n");
        for (Explainer.Pass p : e.strategies()) reconstructionOf(p);
        image("colorbar.png", COLORBAR);
    }

    private void reconstructionOf(Explainer.Pass p) throws IOException {
        String s = name(p);
        Path png = dir.resolve("reconstruction-" + s + ".png");
        Reconstruction.write(png, p.pictures(), Reconstruction.caption(e.subject().source(), p.ratio(), s, p.pictures().loss(), cfg.normPixLoss()));
        h.append("<h3>").append(s).append(" masking</h3>\n");
        image(png.getFileName().toString(), "original | masked | reconstruction | reconstruction with the visible patches pasted back");
        boolean[] removed = kept(p.mask());
        for (int i = 0; i < removed.length; i++) removed[i] = !removed[i];
        float max = 0;
        for (int i = 0; i < removed.length; i++) if (removed[i]) max = Math.max(max, p.patchLoss()[i]);
        figure("loss-" + s + ".png", fig.heat(p.patchLoss(), max, removed, null, "%.2f"),
                String.format(Locale.ROOT, "per-patch loss over the grid, 0 to %.3f; the loss of this pass (mean over the removed patches): %.4f", max, p.pictures().loss()));
    }

    private void ratioSection() throws IOException {
        h.append("<h2>6. The same image at several mask ratios</h2>\n<table id=\"ratios\"><tr><th>mask ratio</th><th>visible patches</th>")
                .append("<th>encoder multiply-adds</th><th>decoder multiply-adds</th><th>loss</th><th>").append(e.checkpoint().hasDecoder()
                        ? "masked | reconstruction | + visible" : "kept patches").append("</th></tr>\n");
        for (Explainer.Pass p : e.sweep()) ratioRow(p);
        h.append("</table>\n");
    }

    private void ratioRow(Explainer.Pass p) throws IOException {
        String file = "ratio-" + num(p.ratio()) + ".png";
        if (p.pictures() != null) {
            Reconstruction.Pictures pic = p.pictures();
            int scale = Math.max(1, 112 / cfg.imgSize());
            ImageGrid g = new ImageGrid(1, 3, cfg.inChans(), cfg.imgSize(), cfg.imgSize(), scale).border(2);
            Tensor[] cols = {pic.masked(), pic.reconstruction(), pic.pasted()};
            for (int c = 0; c < 3; c++) g.set(0, c, cols[c].toArray(), 0);
            g.write(dir.resolve(file));
        } else fig.masked(e.subject().pixels(), p.mask(), false, 0.5f).write(dir.resolve(file));
        h.append("<tr><td class=\"num\">").append(num(p.ratio())).append("</td><td class=\"num\">").append(p.masking().lenKeep()).append(" of ")
                .append(cfg.numPatches()).append("</td><td class=\"num\">").append(macs(p.macs("encoder"))).append("</td><td class=\"num\">")
                .append(p.pictures() == null ? "-" : macs(p.macs("decoder"))).append("</td><td class=\"num\">")
                .append(p.pictures() == null ? "-" : String.format(Locale.ROOT, "%.4f", p.pictures().loss())).append("</td><td><img src=\"")
                .append(file).append("\" alt=\"mask ratio ").append(num(p.ratio())).append("\"></td></tr>\n");
    }

    private void tail() { h.append(Html.end("")); }

    // ---------------------------------------------------------------- helpers

    private void figure(String file, mae.viz.Canvas cv, String caption) throws IOException {
        cv.write(dir.resolve(file));
        image(file, caption);
    }

    private void grid(String file, ImageGrid g, String caption) throws IOException {
        g.write(dir.resolve(file));
        image(file, caption);
    }

    private void image(String file, String caption) {
        h.append("<figure><img src=\"").append(file).append("\" alt=\"").append(esc(caption)).append("\"><figcaption>")
                .append(esc(caption)).append("</figcaption></figure>\n");
    }

    private void row(String k, String v) { h.append("<tr><th>").append(k).append("</th><td>").append(v).append("</td></tr>\n"); }

    private void macRow(String k, long v) { h.append("<tr><td>").append(esc(k)).append("</td><td class=\"num\">").append(macs(v)).append("</td></tr>\n"); }

    private String legend(Explainer.Pass p) {
        return "N = 1 image, L = " + cfg.numPatches() + " patches, keep = " + p.masking().lenKeep() + ", D = " + cfg.embedDim()
                + ", Dd = " + cfg.decoderEmbedDim() + ", p*p*C = " + cfg.patchDim();
    }

    private String strategies() {
        StringBuilder sb = new StringBuilder();
        for (Explainer.Pass p : e.strategies()) sb.append(sb.length() > 0 ? ", " : "").append(name(p));
        return sb.toString();
    }

    private static boolean[] kept(float[] mask) {
        boolean[] k = new boolean[mask.length];
        for (int i = 0; i < mask.length; i++) k[i] = mask[i] < 0.5f;
        return k;
    }

    static String name(Explainer.Pass p) { return p.strategy().name().toLowerCase(Locale.ROOT); }

    static String macs(long n) { return String.format(Locale.ROOT, "%,d", n); }

    static String num(double x) {
        String s = String.format(Locale.ROOT, "%.4f", x).replaceAll("0+$", "");
        return s.endsWith(".") ? s + "0" : s;
    }

    static String esc(String s) { return Html.esc(s); }
}
