package mae.explain;

import mae.model.MaeConfig;
import mae.viz.ImageGrid;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** attention-all.png names its rows (blocks) and columns (heads and their mean). */
class AttentionGridLabelsTest {
    @Test void rows_are_blocks_and_columns_heads() {
        MaeConfig cfg = MaeConfig.named("tiny");
        Figures f = new Figures(cfg);
        int S = cfg.imgSize(), blocks = cfg.depth(), heads = cfg.numHeads();
        float[][][] overlays = new float[blocks][heads + 1][3 * S * S];
        ImageGrid g = f.attentionGrid(overlays, heads);
        assertTrue(g.labelWidth() > 0, "a band of row labels (block 0, block 1, ...)");
        assertTrue(g.titleHeight() > 0, "column titles (head 0, ..., mean)");
        ImageGrid unlabelled = new ImageGrid(blocks, heads + 1, 3, S, S, Math.max(1, 112 / S)).border(3);
        assertEquals(unlabelled.width() + g.labelWidth(), g.width());
    }
}
