package mae.tensor;

import java.util.Arrays;

/**
 * A contiguous n-d tensor of int indices (argsort results, ids_keep, ids_restore, labels).
 * Never differentiated; written to safetensors as I64.
 */
public final class Index {
    private final int[] data;
    private final int[] shape;

    public Index(int[] data, int... shape) {
        if (Shapes.numel(shape) != data.length)
            throw new IllegalArgumentException("Index: " + data.length + " values do not fill shape " + Shapes.str(shape));
        this.data = data;
        this.shape = shape.clone();
    }

    public static Index ofLongs(long[] values, int... shape) {
        int[] d = new int[values.length];
        for (int i = 0; i < d.length; i++) {
            if (values[i] < Integer.MIN_VALUE || values[i] > Integer.MAX_VALUE)
                throw new IllegalArgumentException("Index: value " + values[i] + " at " + i + " does not fit an int");
            d[i] = (int) values[i];
        }
        return new Index(d, shape);
    }

    public int[] shape() { return shape.clone(); }
    public int size(int d) { return shape[Shapes.dim(d, shape.length, "Index.size")]; }
    public int dim() { return shape.length; }
    public int numel() { return data.length; }
    /** The backing array (row-major); do not modify. */
    public int[] data() { return data; }

    public int get(int... idx) {
        if (idx.length != shape.length) throw new IllegalArgumentException("Index.get: " + idx.length + " indices for shape " + Shapes.str(shape));
        int off = 0;
        for (int d = 0; d < idx.length; d++) {
            if (idx[d] < 0 || idx[d] >= shape[d]) throw new IndexOutOfBoundsException("Index.get: index " + idx[d] + " out of range for dim " + d + " of size " + shape[d]);
            off = off * shape[d] + idx[d];
        }
        return data[off];
    }

    public long[] toLongs() {
        long[] l = new long[data.length];
        for (int i = 0; i < l.length; i++) l[i] = data[i];
        return l;
    }

    /** Stable ascending argsort along the last dim. */
    public Index argsort() {
        int n = shape[shape.length - 1], rows = data.length / Math.max(1, n);
        int[] out = new int[data.length];
        long[] keys = new long[n];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) keys[j] = ((long) data[r * n + j] << 32) | j;
            Arrays.sort(keys);
            for (int j = 0; j < n; j++) out[r * n + j] = (int) keys[j];
        }
        return new Index(out, shape);
    }

    /** Elements [start, start+len) along the last dim, copied. */
    public Index narrowLast(int start, int len) {
        int n = shape[shape.length - 1], rows = data.length / Math.max(1, n);
        if (start < 0 || len < 0 || start + len > n)
            throw new IndexOutOfBoundsException("Index.narrowLast: [" + start + ", " + (start + len) + ") out of range for size " + n);
        int[] out = new int[rows * len];
        for (int r = 0; r < rows; r++) System.arraycopy(data, r * n + start, out, r * len, len);
        int[] s = shape.clone();
        s[s.length - 1] = len;
        return new Index(out, s);
    }

    @Override public String toString() {
        return "Index" + Shapes.str(shape) + (data.length <= 32 ? " " + Arrays.toString(data) : "");
    }
}
