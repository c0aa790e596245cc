package mae.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The JMH report: units, thread counts and fractions of the limits, from a JMH JSON written the way JMH 1.37 writes it. */
class BenchReportTest {
    static String sample() throws Exception {
        return Files.readString(Path.of(BenchReportTest.class.getResource("/jmh-sample.json").toURI()));
    }

    @Test void each_counter_gets_its_unit_and_the_primary_score_stands_in_for_none() throws Exception {
        List<BenchReport.Row> rows = BenchReport.rows(sample(), "jmh-sample.json");
        assertEquals(4, rows.size());
        BenchReport.Row gemm = rows.get(0), ln = rows.get(1), step = rows.get(2), plain = rows.get(3);
        assertEquals("GFLOP/s", gemm.unit());
        assertEquals(419.43, gemm.score(), 1e-9, "the gflop counter, not the calls/s primary score");
        assertEquals(2, gemm.threads(), "-Dmae.threads=2 from the fork's JVM arguments");
        assertEquals("shape=1024x1024x1024, trans=NN", gemm.params());
        assertEquals("GB/s", ln.unit());
        assertTrue(Double.isNaN(ln.error()), "JMH's \"NaN\" error of a single iteration");
        assertEquals("images/s", step.unit());
        assertEquals(1, step.threads());
        assertEquals("calls/s", plain.unit());
        assertEquals(1234.5, plain.score(), 1e-9);
    }

    @Test void fractions_of_the_peak_and_the_bandwidth() throws Exception {
        String md = BenchReport.table(BenchReport.rows(sample(), "s"), 500.0, false, 64.0, false, "test machine", "jmh-sample.json");
        assertTrue(md.contains("| GemmBench.gemm | shape=1024x1024x1024, trans=NN | 2 | 419.4 | GFLOP/s | 13.4 | 84% of FMA peak |"), md);
        assertTrue(md.contains("| LayerNormBench.forward | shape=6400x192 | "), md);
        assertTrue(md.contains("| 49.2 | GB/s | n/a | 77% of bandwidth |"), md);   // 49.152 / 64
        String cached = BenchReport.table(BenchReport.rows(sample(), "s"), 500.0, false, 40.0, false, "test machine", "jmh-sample.json");
        assertTrue(cached.contains("| 49.2 | GB/s | n/a | 123% of bandwidth (in cache) |"), cached);
        assertTrue(md.contains("| 448.0 | images/s | 32.0 |  |"), md);
        assertTrue(md.contains("- FMA peak: 500.0 GFLOP/s (given"), md);
        assertTrue(md.contains("- machine: test machine"), md);
    }

    @Test void a_file_that_is_not_a_jmh_result_is_one_line_naming_it(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchReport.rows("{\"a\": 1}", "x.json"));
        assertEquals("x.json: expected JMH's JSON array of results, found an object", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchReport.rows("[{\"benchmark\": \"b\", \"primaryMetric\": {\"score\": \"fast\"}}]", "y.json"));
        assertTrue(e.getMessage().startsWith("y.json: ") && e.getMessage().contains("\"score\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchReport.rows("[1,", "z.json"));
        assertTrue(e.getMessage().startsWith("z.json: not JSON"), e.getMessage());
    }

    @Test void the_report_is_written_beside_the_json(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("r.json");
        Files.writeString(json, sample());
        BenchReport r = new BenchReport();
        r.file = json;
        r.peak = 500.0;
        r.bandwidth = 64.0;
        r.machine = "m";
        assertEquals(0, r.call());
        assertTrue(Files.readString(tmp.resolve("r.json.md")).contains("84% of FMA peak"));
        assertFalse(Files.exists(tmp.resolve("r.json.md.tmp")));
    }
}
