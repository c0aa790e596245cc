package mae.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by the tensor ops: sizes, strides, dims, broadcasting. */
public final class Shapes {
    private Shapes() {}

    public static int numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative size in shape " + str(shape));
            n *= s;
        }
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + str(shape) + " has over 2^31 elements");
        return (int) n;
    }

    public static int[] contiguousStrides(int[] shape) {
        int[] st = new int[shape.length];
        int s = 1;
        for (int d = shape.length - 1; d >= 0; d--) { st[d] = s; s *= shape[d]; }
        return st;
    }

    /** Normalizes a possibly negative dim against rank r, or fails naming the op. */
    public static int dim(int d, int r, String op) {
        int dd = d < 0 ? d + r : d;
        if (dd < 0 || dd >= r) throw new IndexOutOfBoundsException(op + ": dim " + d + " out of range for a tensor of rank " + r);
        return dd;
    }

    /** Numpy broadcasting of two shapes; a pair of sizes that are unequal and not 1 is an error naming the op. */
    public static int[] broadcast(int[] a, int[] b, String op) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
            out[i] = Math.max(da, db);
            if (da == 0 || db == 0) out[i] = 0;
        }
        return out;
    }

    public static String str(int[] shape) { return Arrays.toString(shape).replace(" ", ""); }

    public static int prod(int[] shape, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }
}
