package mae.explain;

import mae.model.MaeConfig;
import mae.viz.Canvas;
import mae.viz.Colormap;
import mae.viz.ImageGrid;

/**
 * The report's pictures, drawn from the numbers of the run: the image and its patch grid, masks, noise and
 * loss heat maps, attention overlays. Small images are scaled up (nearest neighbour) so that a 28 px image
 * shows at 224 px; {@code cell} is one patch's side in picture pixels.
 */
final class Figures {
    static final int GRID = 0xFF4040, KEPT_OUTLINE = 0xFFFFFF, HIDDEN = 0xD8D8D8;

    final int C, S, p, g, L, scale, cell;

    Figures(MaeConfig cfg) {
        C = cfg.inChans(); S = cfg.imgSize(); p = cfg.patchSize(); g = cfg.grid(); L = cfg.numPatches();
        scale = Math.max(1, 224 / S);
        cell = p * scale;
    }

    /** The image, scaled up. */
    Canvas image(float[] px) { return Canvas.of(px, C, S, S, scale); }

    /**
     * The image with its patch grid and each patch's index (row * g + col). Three-digit indices need cells of 28 px:
     * a large image with small patches (224 px, patch 16) is drawn twice the size for them.
     */
    Canvas patches(float[] px) {
        int f = L > 100 && cell < 28 && S * scale * 2 <= 512 ? 2 : 1, c = cell * f;
        Canvas cv = Canvas.of(px, C, S, S, scale * f).grid(c, GRID);
        if (c < 14 || (L > 100 && c < 28)) return cv;
        for (int i = 0; i < L; i++) {
            int x = (i % g) * c + c / 2, y = (i / g) * c + c / 2, size = Math.min(14, c / 2);
            cv.text("" + i, x + 1, y + 1, size, 0x000000).text("" + i, x, y, size, 0xFFFF40);  // shadowed
        }
        return cv;
    }

    /** Visible patches as they are, removed ones filled with {@code fill} (or the other way round). */
    Canvas masked(float[] px, float[] mask, boolean showRemoved, float fill) {
        float[] rgb = rgb(px);
        for (int i = 0; i < L; i++) {
            boolean removed = mask[i] > 0.5f;
            if (removed != showRemoved) paintPatch(rgb, i, new float[]{fill, fill, fill}, 1f);
        }
        return Canvas.of(rgb, 3, S, S, scale).grid(cell, GRID);
    }

    /** The visible patches in the order the encoder sees them (ids_keep), each labelled with its patch index. */
    Canvas order(float[] px, int[] idsKeep) {
        int f = cell < 32 ? (32 + cell - 1) / cell : 1, c = cell * f;   // small patches drawn larger, so the labels fit
        int perRow = Math.min(idsKeep.length, Math.max(1, 900 / (c + 6))), rows = (idsKeep.length + perRow - 1) / perRow;
        Canvas cv = Canvas.blank(perRow * (c + 6) + 6, rows * (c + 22) + 4, 0xFFFFFF);
        Canvas full = f == 1 ? image(px) : Canvas.of(px, C, S, S, scale * f);
        for (int j = 0; j < idsKeep.length; j++) {
            int x = 6 + (j % perRow) * (c + 6), y = 20 + (j / perRow) * (c + 22), id = idsKeep[j];
            Canvas patch = Canvas.blank(c, c, 0);
            patch.paste(full, -(id % g) * c, -(id / g) * c);
            cv.paste(patch, x, y).text("#" + id, x + c / 2, y - 9, 12, 0x000000);
        }
        return cv;
    }

    /**
     * A value per patch as a heat map over the grid, normalized by {@code max}; patches where {@code shown} is
     * false are drawn light gray with a dash; those where {@code outlined} is true get a white frame.
     */
    Canvas heat(float[] values, float max, boolean[] shown, boolean[] outlined, String format) {
        Canvas cv = Canvas.blank(g * cell, g * cell, HIDDEN);
        for (int i = 0; i < L; i++) {
            int x = (i % g) * cell, y = (i / g) * cell;
            if (!shown[i]) { cv.text("-", x + cell / 2, y + cell / 2, 12, 0x888888); continue; }
            int c = Colormap.rgb(max > 0 ? values[i] / max : 0);
            cv.fill(x, y, cell, cell, c);
            if (cell >= 28) cv.text(String.format(java.util.Locale.ROOT, format, values[i]), x + cell / 2, y + cell / 2, Math.min(12, cell / 3), Colormap.textOn(c));
            if (outlined != null && outlined[i]) cv.outline(x, y, cell, cell, KEPT_OUTLINE, Math.max(2, cell / 12));
        }
        return cv.grid(cell, 0x606060);
    }

    /** Attention weights over the patches drawn on the image: visible patches tinted by weight / max, removed ones gray. */
    Canvas attention(float[] px, float[] weightPerPatch, boolean[] visible) {
        return Canvas.of(attentionPixels(px, weightPerPatch, visible), 3, S, S, scale).grid(cell, 0x303030);
    }

    /** The overlay at image resolution, [3, S, S]. */
    float[] attentionPixels(float[] px, float[] w, boolean[] visible) {
        float max = 0;
        for (int i = 0; i < L; i++) if (visible[i]) max = Math.max(max, w[i]);
        float[] rgb = rgb(px);
        for (int i = 0; i < L; i++) {
            if (!visible[i]) { paintPatch(rgb, i, new float[]{0.35f, 0.35f, 0.35f}, 0.9f); continue; }
            paintPatch(rgb, i, Colormap.floats(max > 0 ? w[i] / max : 0), 0.6f);
        }
        return rgb;
    }

    /**
     * All blocks (rows) x heads and their mean (columns), smaller: each map at about 112 px (small images scaled up,
     * large ones averaged down by a whole factor, so a ViT-L's 24 x 17 maps of 224 px images stay a few MB).
     */
    ImageGrid attentionGrid(float[][][] overlays, int heads) {
        String[] titles = new String[heads + 1];
        for (int h = 0; h < heads; h++) titles[h] = "head " + h;
        titles[heads] = "mean";
        int shrink = Math.max(1, (S + 111) / 112), side = S / shrink;
        String[] blocks = new String[overlays.length];
        for (int b = 0; b < blocks.length; b++) blocks[b] = "block " + b;
        ImageGrid grid = new ImageGrid(overlays.length, heads + 1, 3, side, side, Math.max(1, 112 / side)).border(3).titles(titles).rowLabels(blocks);
        for (int b = 0; b < overlays.length; b++)
            for (int h = 0; h <= heads; h++) grid.set(b, h, shrink == 1 ? overlays[b][h] : shrink(overlays[b][h], shrink), 0);
        return grid;
    }

    /** An RGB [3, S, S] picture averaged over f x f blocks: [3, S / f, S / f]. */
    float[] shrink(float[] rgb, int f) {
        int side = S / f;
        float[] out = new float[3 * side * side];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++) {
                    float sum = 0;
                    for (int dy = 0; dy < f; dy++)
                        for (int dx = 0; dx < f; dx++) sum += rgb[c * S * S + (y * f + dy) * S + x * f + dx];
                    out[(c * side + y) * side + x] = sum / (f * f);
                }
        return out;
    }

    /** The colormap from 0 (left) to 1 (right). */
    static Canvas colorbar() {
        Canvas cv = Canvas.blank(256, 14, 0xFFFFFF);
        for (int x = 0; x < 256; x++) cv.fill(x, 0, 1, 14, Colormap.rgb(x / 255.0));
        return cv;
    }

    /** Gray [1, S, S] or RGB [3, S, S] pixels as RGB. */
    float[] rgb(float[] px) {
        if (C == 3) return px.clone();
        float[] out = new float[3 * S * S];
        for (int c = 0; c < 3; c++) System.arraycopy(px, 0, out, c * S * S, S * S);
        return out;
    }

    /** Blends a colour over patch i of an RGB [3, S, S] image: alpha * colour + (1 - alpha) * pixel. */
    void paintPatch(float[] rgb, int i, float[] colour, float alpha) {
        int r0 = (i / g) * p, c0 = (i % g) * p;
        for (int c = 0; c < 3; c++)
            for (int y = r0; y < r0 + p; y++)
                for (int x = c0; x < c0 + p; x++) {
                    int at = c * S * S + y * S + x;
                    rgb[at] = alpha * colour[c] + (1 - alpha) * rgb[at];
                }
    }
}
