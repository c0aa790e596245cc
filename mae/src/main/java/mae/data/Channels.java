package mae.data;

/** Converts one [c, h, w] image between gray (c = 1) and RGB (c = 3). */
final class Channels {
    /** ITU-R BT.601 luma weights, as PIL's convert("L"). */
    private static final float R = 0.299f, G = 0.587f, B = 0.114f;

    private Channels() {}

    /** The image [from, hw] as [to, hw]: gray is replicated to RGB, RGB becomes luma. Returns src when equal. */
    static float[] convert(float[] src, int from, int hw, int to) {
        if (from == to) return src;
        float[] out = new float[to * hw];
        if (from == 1 && to == 3) {
            for (int ch = 0; ch < 3; ch++) System.arraycopy(src, 0, out, ch * hw, hw);
        } else if (from == 3 && to == 1) {
            for (int i = 0; i < hw; i++) out[i] = R * src[i] + G * src[hw + i] + B * src[2 * hw + i];
        } else {
            throw new IllegalArgumentException("cannot convert " + from + " channels to " + to + " (only 1 and 3)");
        }
        return out;
    }

    static void checkSupported(int channels, String what) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException(what + ": channels must be 1 or 3, got " + channels);
    }
}
