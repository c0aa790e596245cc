package mae.study;

import mae.eval.Finetune;
import mae.model.MaeConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class StudyOptionsTest {
    static StudyOptions defaults(Set<Claim> claims) {
        return new StudyOptions("fmnist", null, Path.of("out"), 1400, 64, 1.5e-3, 1, List.of(0.25, 0.5, 0.75, 0.9), List.of(1, 2, 4),
                List.of(true, false), List.of("random", "block", "grid"), claims, Finetune.Settings.pretrained(),
                Finetune.Settings.pretrained().forScratch(2e-3), 10000, 30, 10000, 10000, 0, 10);
    }

    @Test void the_default_grid_is_nine_runs_sharing_the_base_variant() {
        StudyOptions o = defaults(EnumSet.allOf(Claim.class));
        Variant base = new Variant(0.75, 2, true, "random");
        assertEquals(base, o.base());
        List<Variant> all = o.allVariants();
        assertEquals(9, all.size(), all.toString());                    // 4 ratios + depths 1, 4 + raw pixels + block, grid
        assertEquals(base, all.get(2));
        for (Claim c : List.of(Claim.MASK_RATIO, Claim.DECODER_DEPTH, Claim.TARGETS, Claim.MASKING, Claim.SCRATCH))
            assertTrue(o.variants(c).contains(base), c + " has the base row");
        assertEquals(List.of(new Variant(0.75, 1, true, "random"), base, new Variant(0.75, 4, true, "random")), o.variants(Claim.DECODER_DEPTH));
        assertEquals(4, defaults(EnumSet.of(Claim.MASK_RATIO)).allVariants().size());
        assertEquals(1, defaults(EnumSet.of(Claim.SCRATCH, Claim.SPEED)).allVariants().size());
    }

    @Test void variant_names_and_configs() {
        Variant v = new Variant(0.5, 4, false, "Block");
        assertEquals("mask0.5-dec4-pix-block", v.id());
        MaeConfig c = v.config(MaeConfig.named("fmnist"));
        assertEquals("fmnist-dec4", c.name());
        assertEquals(4, c.decoderDepth());
        assertFalse(c.normPixLoss());
        assertEquals(c.withNormPix(true), MaeConfig.named("fmnist-dec4"), "the name reads back as the same config");
        assertEquals("fmnist", new Variant(0.75, 2, true, "random").config(MaeConfig.named("fmnist")).name(), "the config's own depth keeps its name");
        assertThrows(IllegalArgumentException.class, () -> MaeConfig.named("nope-dec4"));
    }

    @Test void bad_grids_are_refused_before_anything_runs() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new StudyOptions("fmnist", null, Path.of("o"), 10, 8, 1e-3, 1, List.of(0.5, 0.99),
                List.of(2), List.of(true), List.of("random"), EnumSet.of(Claim.MASK_RATIO), Finetune.Settings.pretrained(), Finetune.Settings.pretrained(), 0, 1, 0, 0, 0, 1))
                .getMessage().contains("keeps 0 of 49"));
        assertThrows(IllegalArgumentException.class, () -> new StudyOptions("fmnist", null, Path.of("o"), 0, 8, 1e-3, 1, List.of(0.5),
                List.of(2), List.of(true), List.of("random"), EnumSet.of(Claim.MASK_RATIO), Finetune.Settings.pretrained(), Finetune.Settings.pretrained(), 0, 1, 0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new StudyOptions("fmnist", null, Path.of("o"), 10, 8, 1e-3, 1, List.of(0.5),
                List.of(2), List.of(true), List.of("diagonal"), EnumSet.of(Claim.MASKING), Finetune.Settings.pretrained(), Finetune.Settings.pretrained(), 0, 1, 0, 0, 0, 1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Claim.parse("speedup")).getMessage().contains("known: mask-ratio"));
    }

    @Test void the_paper_figures_sit_beside_the_matching_rows() {
        assertArrayEquals(new double[]{84.9, 73.5}, Claim.MASK_RATIO.paperFigures(new Variant(0.75, 2, true, "random"), false));
        assertNull(Claim.MASK_RATIO.paperFigures(new Variant(0.5, 2, true, "random"), false));
        assertArrayEquals(new double[]{84.8, 65.5}, Claim.DECODER_DEPTH.paperFigures(new Variant(0.75, 1, true, "random"), false));
        assertEquals(84.9, Claim.TARGETS.paperFigures(new Variant(0.75, 2, false, "random"), false)[0]);
        assertArrayEquals(new double[]{82.8, 63.9}, Claim.MASKING.paperFigures(new Variant(0.75, 2, true, "block"), false));
        assertArrayEquals(new double[]{83.9, 72.3}, Claim.MASKING.paperFigures(new Variant(0.5, 2, true, "block"), false));
        assertEquals(82.5, Claim.SCRATCH.paperFigures(new Variant(0.75, 2, true, "random"), true)[0]);
    }

    @Test void stats_over_seeds() {
        StudyReport.Stat s = StudyReport.Stat.of(List.of(0.80, 0.82, Double.NaN));
        assertEquals(0.81, s.mean(), 1e-12);
        assertEquals(Math.sqrt(0.0002), s.sd(), 1e-12);
        assertEquals(2, s.n());
        assertEquals("81.0 ± 1.4", StudyReport.pct(s));
        assertEquals("80.0", StudyReport.pct(StudyReport.Stat.of(List.of(0.8))));
        assertEquals("-", StudyReport.pct(StudyReport.Stat.of(List.of())));
        assertEquals("+2.0", StudyReport.diff(StudyReport.Stat.of(List.of(0.82)), StudyReport.Stat.of(List.of(0.80))));
        assertEquals("7 min 54 s", StudyReport.duration(474));
        assertEquals("1 h 05 min", StudyReport.duration(3900));
    }
}
