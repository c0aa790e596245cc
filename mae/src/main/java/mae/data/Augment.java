package mae.data;

import mae.tensor.Rng;

/**
 * The MAE paper's pre-training augmentation: RandomResizedCrop (scale 0.2..1, aspect ratio 3/4..4/3,
 * torchvision's sampling: 10 tries, then a centre crop) resized bilinearly to the output size, a horizontal
 * flip with probability 0.5, then per-channel normalization. Optionally (fine-tuning on small images) a random
 * shift of up to {@code maxShift} pixels each way, the uncovered border filled with 0 (torchvision's RandomCrop with
 * that much zero padding): it moves the image without resampling it, so unlike a resized crop it leaves the training
 * images as sharp as the test images. All randomness comes from the {@link Rng} passed in, drawn in a fixed order
 * per image (crop, then flip, then the shift when there is one), so a saved Rng state reproduces a batch exactly.
 */
public final class Augment {
    private final int outH, outW, maxShift;
    private final double scaleMin, scaleMax, logRatioMin, logRatioMax, flipP;
    private final Normalization norm;

    /** The MAE defaults for size x size outputs. */
    public Augment(int size, Normalization norm) {
        this(size, size, 0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0, 0.5, norm);
    }

    public Augment(int outH, int outW, double scaleMin, double scaleMax, double ratioMin, double ratioMax, double flipP, Normalization norm) {
        this(outH, outW, scaleMin, scaleMax, ratioMin, ratioMax, flipP, 0, norm);
    }

    /** With random shifts of up to maxShift pixels along each axis (0: none). */
    public Augment(int outH, int outW, double scaleMin, double scaleMax, double ratioMin, double ratioMax, double flipP, int maxShift, Normalization norm) {
        if (outH <= 0 || outW <= 0) throw new IllegalArgumentException("augment: output size " + outH + "x" + outW + " must be positive");
        if (!(0 < scaleMin && scaleMin <= scaleMax && scaleMax <= 1)) throw new IllegalArgumentException("augment: scale range [" + scaleMin + ", " + scaleMax + "] must lie in (0, 1]");
        if (!(0 < ratioMin && ratioMin <= ratioMax)) throw new IllegalArgumentException("augment: ratio range [" + ratioMin + ", " + ratioMax + "] must be positive and ordered");
        if (!(0 <= flipP && flipP <= 1)) throw new IllegalArgumentException("augment: flip probability " + flipP + " must lie in [0, 1]");
        if (maxShift < 0 || maxShift >= Math.min(outH, outW))
            throw new IllegalArgumentException("augment: shift " + maxShift + " must be at least 0 and less than the output's side " + Math.min(outH, outW));
        this.outH = outH;
        this.outW = outW;
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.logRatioMin = Math.log(ratioMin);
        this.logRatioMax = Math.log(ratioMax);
        this.flipP = flipP;
        this.maxShift = maxShift;
        this.norm = norm;
    }

    /** The per-channel normalization applied after the crop. */
    public Normalization normalization() { return norm; }

    /** A crop rectangle of an image: rows [top, top + height), columns [left, left + width). */
    public record Crop(int top, int left, int height, int width) {}

    /** torchvision's RandomResizedCrop.get_params for an h x w image. */
    public Crop sampleCrop(int h, int w, Rng rng) {
        double area = (double) h * w;
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * uniform(rng, scaleMin, scaleMax);
            double ratio = Math.exp(uniform(rng, logRatioMin, logRatioMax));
            int cw = (int) Math.rint(Math.sqrt(targetArea * ratio)); // rint: Python's round-half-even
            int chh = (int) Math.rint(Math.sqrt(targetArea / ratio));
            if (0 < cw && cw <= w && 0 < chh && chh <= h) {
                int top = rng.nextInt(h - chh + 1);
                int left = rng.nextInt(w - cw + 1);
                return new Crop(top, left, chh, cw);
            }
        }
        return centreCrop(h, w);
    }

    /** The fallback: the largest centred crop whose aspect ratio lies in the range. */
    private Crop centreCrop(int h, int w) {
        double inRatio = (double) w / h, ratioMin = Math.exp(logRatioMin), ratioMax = Math.exp(logRatioMax);
        int cw = w, chh = h;
        if (inRatio < ratioMin) chh = (int) Math.rint(w / ratioMin);
        else if (inRatio > ratioMax) cw = (int) Math.rint(h * ratioMax);
        return new Crop((h - chh) / 2, (w - cw) / 2, chh, cw);
    }

    /**
     * Fills {@code out} ([indices.length, c, outH, outW], longer is allowed) with augmented, normalized copies of
     * the images {@code indices} of {@code d}.
     */
    public void batch(Dataset d, int[] indices, float[] out, Rng rng) {
        int size = checkBatch(d, indices, out);
        float[] plane = maxShift > 0 ? new float[outH * outW] : null;      // one channel's copy for the shifts
        for (int k = 0; k < indices.length; k++) {
            Crop crop = sampleCrop(d.h(), d.w(), rng);
            boolean flip = rng.nextDouble() < flipP;
            Resample.crop(d.images(), d.offset(indices[k]), d.c(), d.h(), d.w(),
                    crop, out, k * size, outH, outW, flip);
            if (maxShift > 0) {
                int dy = rng.nextInt(2 * maxShift + 1) - maxShift, dx = rng.nextInt(2 * maxShift + 1) - maxShift;
                shift(out, k * size, d.c(), dy, dx, plane);
            }
            normalize(out, k * size, d.c());
        }
    }

    /** The evaluation transform: the whole image resized to the output size and normalized, no randomness. */
    public void evalBatch(Dataset d, int[] indices, float[] out) {
        int size = checkBatch(d, indices, out);
        for (int k = 0; k < indices.length; k++) {
            Resample.resize(d.images(), d.offset(indices[k]), d.c(), d.h(), d.w(), out, k * size, outH, outW);
            normalize(out, k * size, d.c());
        }
    }

    private int checkBatch(Dataset d, int[] indices, float[] out) {
        if (norm.channels() != d.c()) {
            throw new IllegalArgumentException("augment: normalization has " + norm.channels() + " channels but " + d.source() + " has " + d.c());
        }
        int size = d.c() * outH * outW;
        if (out.length < (long) indices.length * size) {
            throw new IllegalArgumentException("augment: output holds " + out.length + " values, a batch of " + indices.length + " x "
                    + d.c() + "x" + outH + "x" + outW + " needs " + (long) indices.length * size);
        }
        return size;
    }

    /**
     * Moves the [c, outH, outW] image at out[at ..] by dy rows and dx columns (down and right when positive):
     * pixel (y, x) takes the old pixel (y - dy, x - dx), or 0 where that lies outside the image. plane: outH x outW
     * floats of scratch.
     */
    void shift(float[] out, int at, int c, int dy, int dx, float[] plane) {
        int hw = outH * outW;
        for (int ch = 0; ch < c; ch++) {
            int p0 = at + ch * hw;
            System.arraycopy(out, p0, plane, 0, hw);
            java.util.Arrays.fill(out, p0, p0 + hw, 0f);
            for (int y = Math.max(0, dy); y < Math.min(outH, outH + dy); y++) {
                int x0 = Math.max(0, dx), x1 = Math.min(outW, outW + dx);
                System.arraycopy(plane, (y - dy) * outW + x0 - dx, out, p0 + y * outW + x0, x1 - x0);
            }
        }
    }

    /** out[at ..] is one [c, outH, outW] image. */
    private void normalize(float[] out, int at, int c) {
        int hw = outH * outW;
        for (int ch = 0; ch < c; ch++) {
            float mean = norm.mean()[ch], std = norm.std()[ch];
            for (int p = at + ch * hw; p < at + (ch + 1) * hw; p++) out[p] = (out[p] - mean) / std;
        }
    }

    private static double uniform(Rng rng, double lo, double hi) { return lo + (hi - lo) * rng.nextDouble(); }
}
