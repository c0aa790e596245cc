package mae.data;

/**
 * Bilinear resampling of a crop of a [c, h, w] image to [c, outH, outW], separable, with pixel centres at
 * +0.5 (align_corners = false). When shrinking, the triangle filter widens with the scale factor (antialiasing,
 * as PIL's BILINEAR does), so a 2x smaller image averages rather than skips pixels. Only pixels inside the crop
 * contribute; weights are renormalized at its edges, so a constant crop stays constant (to float rounding).
 * The bicubic variant is PIL's BICUBIC (the official MAE evaluation transform's): the cubic convolution kernel
 * with a = -0.5 and support 2, widened the same way when shrinking.
 */
final class Resample {
    private Resample() {}

    /** The contributing source pixels and weights of each output pixel along one axis. */
    private record Axis(int[] start, float[][] weights) {}

    /**
     * Resizes {@code crop} of the image at {@code src[srcOff ..]} ([c, h, w]) into {@code dst[dstOff ..]}
     * ([c, outH, outW]), mirrored left-right when {@code flip}.
     */
    static void crop(float[] src, int srcOff, int c, int h, int w, Augment.Crop crop,
                     float[] dst, int dstOff, int outH, int outW, boolean flip) {
        crop(src, srcOff, c, h, w, crop, dst, dstOff, outH, outW, flip, false);
    }

    private static void crop(float[] src, int srcOff, int c, int h, int w, Augment.Crop crop,
                             float[] dst, int dstOff, int outH, int outW, boolean flip, boolean bicubic) {
        Axis ys = axis(crop.top(), crop.height(), outH, bicubic);
        Axis xs = axis(crop.left(), crop.width(), outW, bicubic);
        float[] rows = new float[crop.height() * outW]; // one channel after the horizontal pass: [cropH, outW]
        for (int ch = 0; ch < c; ch++) {
            int plane = srcOff + ch * h * w;
            for (int r = 0; r < crop.height(); r++) horizontal(src, plane + (crop.top() + r) * w, xs, rows, r * outW);
            vertical(rows, outW, ys, crop.top(), dst, dstOff + ch * outH * outW, flip);
        }
    }

    /** Resizes a whole [c, h, w] image to [c, outH, outW]. */
    static void resize(float[] src, int srcOff, int c, int h, int w, float[] dst, int dstOff, int outH, int outW) {
        crop(src, srcOff, c, h, w, new Augment.Crop(0, 0, h, w), dst, dstOff, outH, outW, false, false);
    }

    /** Resizes a whole [c, h, w] image to [c, outH, outW] with PIL's bicubic filter (values may leave [0, 1] slightly). */
    static void resizeBicubic(float[] src, int srcOff, int c, int h, int w, float[] dst, int dstOff, int outH, int outW) {
        crop(src, srcOff, c, h, w, new Augment.Crop(0, 0, h, w), dst, dstOff, outH, outW, false, true);
    }

    private static void horizontal(float[] src, int rowStart, Axis xs, float[] out, int outStart) {
        for (int x = 0; x < xs.start().length; x++) {
            float[] wt = xs.weights()[x];
            int s = rowStart + xs.start()[x];
            float sum = 0;
            for (int k = 0; k < wt.length; k++) sum += wt[k] * src[s + k];
            out[outStart + x] = sum;
        }
    }

    /** rows: [cropH, outW] whose row 0 is source row {@code top}; writes [outH, outW]. */
    private static void vertical(float[] rows, int outW, Axis ys, int top, float[] dst, int dstOff, boolean flip) {
        for (int y = 0; y < ys.start().length; y++) {
            float[] wt = ys.weights()[y];
            int r0 = ys.start()[y] - top;
            int outRow = dstOff + y * outW;
            for (int x = 0; x < outW; x++) {
                float sum = 0;
                for (int k = 0; k < wt.length; k++) sum += wt[k] * rows[(r0 + k) * outW + x];
                dst[outRow + (flip ? outW - 1 - x : x)] = sum;
            }
        }
    }

    /** Source pixels [offset, offset + length) sampled at {@code out} points; start indices are absolute. */
    private static Axis axis(int offset, int length, int out, boolean bicubic) {
        double scale = (double) length / out;
        double widen = Math.max(scale, 1.0);                 // the kernel is stretched by this when shrinking
        double support = bicubic ? 2 * widen : widen;        // half-width in source pixels
        int[] start = new int[out];
        float[][] weights = new float[out][];
        for (int i = 0; i < out; i++) {
            double centre = (i + 0.5) * scale; // in crop coordinates
            int lo = Math.max(0, (int) Math.floor(centre - support));
            int hi = Math.min(length, (int) Math.ceil(centre + support));
            double[] wt = new double[hi - lo];
            double total = 0;
            for (int k = lo; k < hi; k++)
                total += wt[k - lo] = bicubic ? cubic((k + 0.5 - centre) / widen) : Math.max(0, 1 - Math.abs((k + 0.5 - centre) / support));
            start[i] = offset + lo;
            weights[i] = normalized(wt, total);
        }
        return new Axis(start, weights);
    }

    /** PIL's bicubic convolution kernel, a = -0.5. */
    private static double cubic(double x) {
        double a = -0.5;
        x = Math.abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }

    private static float[] normalized(double[] wt, double total) {
        float[] out = new float[wt.length];
        for (int k = 0; k < wt.length; k++) out[k] = (float) (wt[k] / total);
        return out;
    }
}
