package mae.tests;

import mae.tensor.io.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * pretrain, probe and finetune write their numbers into results/ (markdown and JSON) with the machine, the date,
 * the command and the commit: where the README's accuracy tables come from.
 */
class ResultsFilesTest {
    static String savedHome;
    @TempDir static Path home;

    @BeforeAll static void home() { savedHome = System.getProperty("mae.home"); System.setProperty("mae.home", home.toString()); }
    @AfterAll static void restore() { if (savedHome == null) System.clearProperty("mae.home"); else System.setProperty("mae.home", savedHome); }

    static List<Path> results(String what) throws Exception {
        try (Stream<Path> s = Files.list(home.resolve("results"))) {
            return s.filter(p -> p.getFileName().toString().contains("-" + what)).sorted().toList();
        }
    }

    @Test void every_evaluating_command_writes_a_results_file(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        SummaryLinesTest.stdout(PretrainTest.args(out, "--max-steps", "2"));                    // exit 0 checked there
        List<Path> pre = results("pretrain-tiny");
        assertEquals(2, pre.size(), "an .md and a .json: " + pre);
        Map<String, Object> j = Json.readObject(pre.get(0));
        Map<String, Object> result = Json.readObject(out.resolve("result.json"));
        assertEquals(result.get("knn_accuracy"), ((Map<?, ?>) j.get("numbers")).get("knn_accuracy"), "the run's own number");
        assertTrue(((String) j.get("command")).startsWith("bin/mae pretrain --config tiny"), (String) j.get("command"));
        Map<?, ?> machine = (Map<?, ?>) j.get("machine");
        for (String k : List.of("cpu", "cores", "memory", "os", "java", "kernel_threads", "host")) assertNotNull(machine.get(k), k);
        assertTrue(((String) j.get("date")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d"), (String) j.get("date"));
        assertNotNull(j.get("commit"));
        String md = Files.readString(pre.get(1));
        assertTrue(md.startsWith("# pretrain tiny: 2 steps of batch 16"), md);
        assertTrue(md.contains("- command: `bin/mae pretrain --config tiny") && md.contains("- machine: ") && md.contains("- date: "), md);

        String o = SummaryLinesTest.stdout(List.of("probe", "--checkpoint", out.toString(), "--method", "knn", "--data", PretrainTest.DATA, "--train-limit", "300"));
        List<Path> probe = results("probe-knn");
        assertEquals(2, probe.size(), probe.toString());
        Map<String, Object> pj = Json.readObject(probe.get(0));
        String last = o.strip().lines().reduce((a, b) -> b).orElseThrow();
        assertEquals(last, String.format(java.util.Locale.ROOT, "accuracy: %.4f", (Double) ((Map<?, ?>) pj.get("numbers")).get("accuracy")), "the last line is still the accuracy");
        Map<?, ?> settings = (Map<?, ?>) pj.get("settings");
        assertTrue(((String) settings.get("pretraining")).startsWith("tiny, step 2 of 2 steps: batch 16 x accum 1"), String.valueOf(settings.get("pretraining")));
        assertEquals(300L, settings.get("train_images"));
    }
}
