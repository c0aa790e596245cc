package mae.viz;

/**
 * A perceptually ordered colormap for heat maps (an approximation of matplotlib's viridis: dark purple for 0,
 * green, yellow for 1), by linear interpolation between nine fixed colours.
 */
public final class Colormap {
    private Colormap() {}

    private static final int[][] STOPS = {
            {68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
            {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37}};

    /** The colour of t in [0, 1] (clamped; NaN gives the colour of 0) as 0xRRGGBB. */
    public static int rgb(double t) {
        if (!(t > 0)) t = 0;
        if (t > 1) t = 1;
        double at = t * (STOPS.length - 1);
        int i = Math.min(STOPS.length - 2, (int) at);
        double f = at - i;
        int rgb = 0;
        for (int ch = 0; ch < 3; ch++) {
            int v = (int) Math.round(STOPS[i][ch] + f * (STOPS[i + 1][ch] - STOPS[i][ch]));
            rgb = rgb << 8 | v;
        }
        return rgb;
    }

    /** The same colour as three floats in [0, 1]. */
    public static float[] floats(double t) {
        int c = rgb(t);
        return new float[]{(c >> 16 & 0xFF) / 255f, (c >> 8 & 0xFF) / 255f, (c & 0xFF) / 255f};
    }

    /** Black or white, whichever reads better on a colour. */
    public static int textOn(int rgb) {
        double luma = 0.299 * (rgb >> 16 & 0xFF) + 0.587 * (rgb >> 8 & 0xFF) + 0.114 * (rgb & 0xFF);
        return luma > 140 ? 0x000000 : 0xFFFFFF;
    }
}
