package mae.study;

import mae.viz.Html;

import java.nio.file.Files;
import java.util.List;
import java.util.Locale;

/**
 * The study's HTML page: the setup, then per claim what the paper reports, why it should hold, the table with
 * the paper's figure beside each row, the chart, what this study found and where it may differ; then every
 * run's reconstruction. Plain HTML with its PNGs beside it, nothing fetched from outside.
 */
final class StudyPage {
    private StudyPage() {}

    static String html(StudyReport rep) {
        Study.Results r = rep.results();
        StringBuilder h = new StringBuilder();
        h.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <title>MAE's claims, measured on Fashion-MNIST</title>
                <style>
                body { font-family: sans-serif; max-width: 1180px; margin: 1em auto; padding: 0 1em; color: #222; line-height: 1.45; }
                h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
                table { border-collapse: collapse; margin: .6em 0; } td, th { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
                th { background: #f0f0f0; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
                tr.base td:first-child { border-left: 4px solid #1f5fbf; } td.paper { color: #555; white-space: nowrap; }
                code { font-family: monospace; } figure { display: inline-block; margin: .4em 1em .8em 0; vertical-align: top; }
                figcaption { font-size: .88em; max-width: 420px; } .runs img { width: 360px; }
                .note { background: #fff6d8; border: 1px solid #e0c060; padding: .5em .8em; margin: .6em 0; }
                .here { background: #eef4ff; border: 1px solid #a8c0e8; padding: .5em .8em; margin: .6em 0; }
                </style></head>
                <body>
                <h1>MAE's claims, measured on Fashion-MNIST</h1>
                <p>The Masked Autoencoder paper (He et al., 2021) rests on a few measured claims. This page repeats each measurement at a
                small scale: every variant is pretrained with the same number of steps, then scored on the same held-out images by
                fine-tuning, by a linear probe and by k-nearest neighbours on frozen features. The paper's ImageNet numbers stand beside
                ours to compare the <em>trend</em>, not the values: the paper trains a 300 M-parameter ViT-L on 224-pixel images for
                800-1600 epochs, this study a small ViT on 28-pixel images for minutes.</p>
                """);
        h.append("<table id=\"setup\">\n");
        row(h, "date", esc(rep.date));
        row(h, "machine", esc(StudyReport.machine()));
        row(h, "command", "<code>" + esc(rep.commandLine()) + "</code>");
        row(h, "data", esc(r.data().description()));
        row(h, "model", esc(rep.modelLine()));
        row(h, "budget", esc(rep.budgetLine()));
        row(h, "evaluation", esc(rep.evalLine()));
        h.append("</table>\n<p>").append(esc(StudyReport.TIMES_NOTE)).append("</p>\n<p>Contents: ");
        for (StudyReport.Table t : rep.tables()) h.append("<a href=\"#claim-").append(t.claim().id).append("\">").append(esc(t.claim().title)).append("</a> &middot; ");
        if (r.speed() != null) h.append("<a href=\"#claim-speed\">").append(esc(Claim.SPEED.title)).append("</a> &middot; ");
        h.append("<a href=\"#runs\">the runs</a></p>\n");

        for (StudyReport.Table t : rep.tables()) claim(h, rep, t);
        if (r.speed() != null) speed(h, rep);
        runs(h, rep);
        h.append(Html.end("  document.body.setAttribute('data-tables', document.querySelectorAll('table.claim').length);\n"));
        return h.toString();
    }

    private static void claim(StringBuilder h, StudyReport rep, StudyReport.Table t) {
        Claim c = t.claim();
        h.append("<section id=\"claim-").append(c.id).append("\">\n<h2>").append(esc(c.title)).append("</h2>\n");
        h.append("<p><b>The paper</b> (ImageNet-1K, ViT-L). ").append(esc(c.paper)).append("</p>\n");
        h.append("<p><b>Why it should hold.</b> ").append(esc(c.why)).append("</p>\n");
        h.append("<table class=\"claim\" id=\"table-").append(c.id).append("\"><tr>");
        for (String head : StudyReport.HEADER) h.append("<th>").append(esc(head)).append("</th>");
        h.append("</tr>\n");
        for (StudyReport.Row x : t.rows()) {
            String[] cells = StudyReport.cells(c, x);
            h.append(x.base() && c != Claim.SCRATCH ? "<tr class=\"base\">" : "<tr>");
            for (int i = 0; i < cells.length; i++)
                h.append(i == 0 ? "<td>" : i == cells.length - 1 ? "<td class=\"paper\">" : "<td class=\"num\">").append(esc(cells[i])).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        h.append("<figure><img src=\"").append(t.chart()).append("\" alt=\"").append(esc(c.title)).append("\"><figcaption>")
                .append(esc(caption(c))).append("</figcaption></figure>\n");
        h.append("<p class=\"here\"><b>Here.</b> ").append(esc(t.verdict())).append("</p>\n");
        h.append("<p><b>Where this may differ from the paper.</b> ").append(esc(rep.differs(c))).append("</p>\n</section>\n");
    }

    private static String caption(Claim c) {
        return switch (c) {
            case MASK_RATIO -> "Top-1 accuracy against the masking ratio: fine-tuning above, frozen features (linear probe, kNN) below, as the paper's Figure 5 puts them. Bars: one standard deviation over seeds.";
            case SCRATCH -> "Fine-tuned MAE against the same ViT trained from scratch; the frozen random-init encoder shows what the probes give without any training.";
            default -> "Top-1 accuracy of each variant: fine-tuning, linear probe, kNN. Bars: one standard deviation over seeds; the axis starts above zero.";
        };
    }

    private static void speed(StringBuilder h, StudyReport rep) {
        Claim c = Claim.SPEED;
        h.append("<section id=\"claim-speed\">\n<h2>").append(esc(c.title)).append("</h2>\n");
        h.append("<p><b>The paper</b> (ImageNet-1K, ViT-L). ").append(esc(c.paper)).append("</p>\n");
        h.append("<p><b>Why it should hold.</b> ").append(esc(c.why)).append("</p>\n");
        h.append("<table id=\"table-speed\"><tr>");
        for (String head : StudyReport.SPEED_HEADER) h.append("<th>").append(esc(head)).append("</th>");
        h.append("</tr>\n");
        for (String[] row : rep.speedRows()) {
            h.append("<tr>");
            for (int i = 0; i < row.length; i++) h.append(i == 0 ? "<td>" : i == row.length - 1 ? "<td class=\"paper\">" : "<td class=\"num\">").append(esc(row[i])).append("</td>");
            h.append("</tr>\n");
        }
        h.append("</table>\n<figure><img src=\"speed.png\" alt=\"speed\"><figcaption>Median milliseconds per pretraining step with the encoder on the visible patches only and on all patches.</figcaption></figure>\n");
        h.append("<p class=\"here\"><b>Here.</b> ").append(esc(rep.speedVerdict())).append(" The explain report (<code>bin/mae explain</code>) follows the same count stage by stage.</p>\n");
        h.append("<p><b>Where this may differ from the paper.</b> ").append(esc(rep.differs(c))).append("</p>\n</section>\n");
    }

    private static void runs(StringBuilder h, StudyReport rep) {
        h.append("<section id=\"runs\">\n<h2>The runs</h2>\n<p>Every pretraining run is a normal run folder under <code>runs/</code> (run.json, metrics.jsonl,"
                + " loss.png, checkpoints, reconstructions); its scores are in its <code>study-eval.json</code>. Below, each run's reconstruction of 8"
                + " held-out images (original | masked | reconstruction | reconstruction with the visible patches pasted back).</p>\n<div class=\"runs\">\n");
        List<Study.RunResult> runs = rep.results().runs();
        for (Study.RunResult x : runs) {
            String name = x.dir().getFileName().toString();
            if (!Files.exists(rep.out().resolve("pictures/" + name + ".png"))) continue;
            h.append("<figure><img src=\"pictures/").append(esc(name)).append(".png\" alt=\"").append(esc(name)).append("\"><figcaption>")
                    .append(esc(x.variant().toString())).append(", seed ").append(x.seed())
                    .append(String.format(Locale.ROOT, ": fine-tune %.1f, linear %.1f, kNN %.1f", 100 * x.finetune(), 100 * x.linear(), 100 * x.knn()))
                    .append("</figcaption></figure>\n");
        }
        h.append("</div>\n</section>\n");
    }

    private static void row(StringBuilder h, String k, String v) { h.append("<tr><th>").append(k).append("</th><td>").append(v).append("</td></tr>\n"); }

    static String esc(String s) { return Html.esc(s); }
}
