package mae.tests;

import mae.tensor.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** bin/mae study end to end at smoke-test size on the embedded data: what it writes, reuse, resume, bad input. */
class StudyTest {
    static final List<String> RUNS = List.of("mask0.5-dec1-normpix-random-s0", "mask0.75-dec1-normpix-random-s0", "mask0.75-dec1-normpix-grid-s0");
    static final List<String> CLAIMS = List.of("mask-ratio", "decoder-depth", "targets", "masking", "scratch");

    @Test void a_small_study_writes_its_tables_charts_page_and_normal_run_folders() throws Exception {
        Path out = StudyFixture.out();
        for (String run : RUNS) {
            Path dir = out.resolve("runs").resolve(run);
            for (String f : List.of("run.json", "metrics.jsonl", "result.json", "reconstruction.png", "loss.png", "checkpoints/latest", "study-eval.json"))
                assertTrue(Files.exists(dir.resolve(f)), run + "/" + f);
            Map<String, Object> e = Json.readObject(dir.resolve("study-eval.json"));
            for (String k : List.of("finetune_accuracy", "linear_accuracy", "knn_accuracy", "pretrain_loss"))
                assertTrue(e.get(k) instanceof Number n && Double.isFinite(n.doubleValue()), run + ": " + k + " = " + e.get(k));
            assertEquals(200L, e.get("eval_images"), "every run is scored on the same held-out images");
            assertTrue(Files.exists(out.resolve("pictures/" + run + ".png")));
        }
        assertEquals(3, Files.list(out.resolve("runs")).filter(p -> !p.getFileName().toString().startsWith("scratch")).count(),
                "the base variant (mask 0.75, random) is shared by the claims, so 3 runs, not 5");
        Map<String, Object> scratch = Json.readObject(out.resolve("runs/scratch-s0/scratch.json"));
        assertTrue(((Number) scratch.get("same_compute_epochs")).doubleValue() > 0.5, "same compute trains longer than the fine-tuning schedule: " + scratch);
        for (String c : CLAIMS) {
            assertTrue(Files.exists(out.resolve(c + ".png")), c + ".png");
            String md = Files.readString(out.resolve("tables/" + c + ".md"));
            assertTrue(md.contains("| variant | pretraining loss | fine-tune top-1 (%) | linear top-1 (%) | kNN top-1 (%) |"), md);
            Map<String, Object> t = Json.readObject(out.resolve("tables/" + c + ".json"));
            assertEquals(c, t.get("claim"));
            assertFalse(((List<?>) t.get("rows")).isEmpty(), c + " has rows");
        }
        String mask = Files.readString(out.resolve("tables/mask-ratio.md"));
        assertTrue(mask.contains("| mask ratio 0.5 |") && mask.contains("| mask ratio 0.75 (base) |"), mask);
        assertTrue(mask.contains("84.9 / 73.5 (Fig. 5)"), "the paper's figure beside the 0.75 row: " + mask);
        String masking = Files.readString(out.resolve("tables/masking.md"));
        assertTrue(masking.contains("| grid 75% |") && masking.contains("84.0 / 66.0 (Table 1f)"), masking);
        String scratchMd = Files.readString(out.resolve("tables/scratch.md"));
        assertTrue(scratchMd.contains("from scratch, the same total compute") && scratchMd.contains("82.5 / - (Sec. 4)"), scratchMd);
        Map<String, Object> speed = Json.readObject(out.resolve("tables/speed.json"));
        Map<String, Object> measured = Json.asObject(speed.get("measured"), "measured");
        assertTrue(((Number) measured.get("encoder_macs_ratio")).doubleValue() > 2.5, "tiny at 0.75 keeps 4 of 16 patches: " + measured);
        assertTrue(Files.exists(out.resolve("speed.png")));

        Map<String, Object> study = Json.readObject(out.resolve("study.json"));
        for (String k : List.of("date", "machine", "command", "data", "protocol", "claims")) assertTrue(study.containsKey(k), "study.json has " + k);
        assertTrue(((String) study.get("command")).startsWith("bin/mae study --config tiny"), (String) study.get("command"));
        String md = Files.readString(out.resolve("study.md"));
        for (String c : List.of("A high mask ratio", "A light decoder", "Normalized-pixel targets", "Random masking", "from scratch", "Encoding only the visible"))
            assertTrue(md.contains(c), "study.md covers " + c);
        String html = Files.readString(out.resolve("index.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("<table class=\"claim\" id=\"table-mask-ratio\">"));
        assertTrue(StudyFixture.first().out().contains("page:   " + out.resolve("index.html")), StudyFixture.first().out());
    }

    @Test void running_the_same_study_again_reuses_every_run_and_gives_the_same_tables(@TempDir Path tmp) throws Exception {
        Path out = StudyFixture.out(), pub = tmp.resolve("docs/study");
        String before = Files.readString(out.resolve("tables/mask-ratio.json"));
        ExplainFixture.Result r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(out, "--publish", pub.toString()).toArray(new String[0]));
        assertEquals(0, r.rc(), r.err());
        for (String run : RUNS) assertTrue(r.out().contains(run) && r.out().contains("evaluated before, reused"), r.out());
        assertTrue(r.out().contains("from scratch, seed 0: trained before, reused"), r.out());
        assertTrue(r.out().contains("speed: measured before, reused"), r.out());
        assertFalse(r.out().contains("pretraining ("), "no run pretrained again: " + r.out());
        assertEquals(before, Files.readString(out.resolve("tables/mask-ratio.json")));
        // --publish: the results without the run folders (checkpoints), ready to commit.
        for (String f : List.of("index.html", "study.md", "study.json", "mask-ratio.png", "speed.png", "tables/masking.md", "tables/speed.json",
                "pictures/" + RUNS.get(0) + ".png"))
            assertTrue(Files.exists(pub.resolve(f)), "published " + f);
        assertFalse(Files.exists(pub.resolve("runs")), "no run folders published");
    }

    @Test void a_killed_study_resumes_runs_from_their_checkpoints_and_restarts_ones_without(@TempDir Path tmp) throws Exception {
        // A copy of the finished study, then damage as a kill leaves it: one run lost its end (result and evaluation,
        // its checkpoint stays), another died before its first checkpoint (run.json and a few metrics only).
        Path out = tmp.resolve("study");
        copyTree(StudyFixture.out(), out);
        Path resumed = out.resolve("runs/mask0.5-dec1-normpix-random-s0"), restarted = out.resolve("runs/mask0.75-dec1-normpix-grid-s0");
        Files.delete(resumed.resolve("result.json"));
        Files.delete(resumed.resolve("study-eval.json"));
        StudyFixture.deleteTree(restarted.resolve("checkpoints"));
        Files.delete(restarted.resolve("study-eval.json"));
        ExplainFixture.Result r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(out).toArray(new String[0]));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("resuming pretraining (6 steps) in " + resumed), r.out());
        assertTrue(r.out().contains("pretraining (6 steps) in " + restarted), r.out());
        assertTrue(r.out().contains("mask 0.75, decoder depth 1, norm-pix targets, random masking, seed 0: evaluated before, reused"), r.out());
        for (Path p : List.of(resumed, restarted)) assertTrue(Files.exists(p.resolve("study-eval.json")) && Files.exists(p.resolve("checkpoints/latest")), p.toString());
        // The restarted run is a fresh run of the same options: the same weights as the original (CPU runs are deterministic).
        assertArrayEquals(lossColumn(StudyFixture.out().resolve("runs/mask0.75-dec1-normpix-grid-s0")), lossColumn(restarted));
    }

    @Test void bad_input_is_one_line_and_a_foreign_run_folder_is_refused(@TempDir Path tmp) throws Exception {
        ExplainFixture.Result r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(tmp.resolve("a"), "--claims", "mask-ratio,nope").toArray(new String[0]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("unknown claim 'nope'"), r.err());
        r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(tmp.resolve("b"), "--mask-ratios", "0.5,1.0").toArray(new String[0]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("--mask-ratios"), r.err());
        r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(tmp.resolve("c"), "--ft-layer-decay", "2").toArray(new String[0]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("--ft-layer-decay must be a number in (0, 1], got 2.0"), r.err());   // checked with every option, before any work
        // A run folder of the study that holds a run with other options (here another budget) is not overwritten.
        Path out = tmp.resolve("d");
        copyTree(StudyFixture.out(), out);
        r = ExplainFixture.run(StudyFixture.home(), StudyFixture.args(out, "--budget", "7").toArray(new String[0]));
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("holds a run with other options than this study's (maxSteps 6, not 7)"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    static double[] lossColumn(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().mapToDouble(l -> {
            try {
                return ((Number) Json.asObject(Json.parse(l), "line").get("loss")).doubleValue();
            } catch (Json.ParseException e) {
                throw new IllegalStateException(e);
            }
        }).toArray();
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
    }
}
