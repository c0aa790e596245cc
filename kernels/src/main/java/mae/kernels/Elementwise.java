package mae.kernels;

/**
 * Elementwise maps over strided n-d views. A view is (buffer, offset, strides) over a shared shape; a stride
 * of 0 broadcasts. The output is always contiguous in the given shape.
 */
public final class Elementwise {
    private Elementwise() {}

    public enum Unary {
        NEG, EXP, LOG, SQRT, RSQRT, TANH, ERF, ABS, RELU, SQUARE, RECIPROCAL;

        public float apply(float x) {
            switch (this) {
                case NEG: return -x;
                case EXP: return (float) Math.exp(x);
                case LOG: return (float) Math.log(x);
                case SQRT: return (float) Math.sqrt(x);
                case RSQRT: return (float) (1.0 / Math.sqrt(x));
                case TANH: return (float) Math.tanh(x);
                case ERF: return (float) Erf.erf(x);
                case ABS: return Math.abs(x);
                case RELU: return x > 0 ? x : 0;
                case SQUARE: return x * x;
                case RECIPROCAL: return 1f / x;
                default: throw new AssertionError(this);
            }
        }
    }

    public enum Binary {
        ADD, SUB, MUL, DIV, POW, MAX, MIN;

        public float apply(float a, float b) {
            switch (this) {
                case ADD: return a + b;
                case SUB: return a - b;
                case MUL: return a * b;
                case DIV: return a / b;
                case POW: return (float) Math.pow(a, b);
                case MAX: return Math.max(a, b);
                case MIN: return Math.min(a, b);
                default: throw new AssertionError(this);
            }
        }
    }

    /** out (contiguous, shape) = op(x viewed with xStrides from xOff). */
    public static void unary(Unary op, float[] out, int outOff, int[] shape, float[] x, int xOff, int[] xStrides) {
        int n = numel(shape);
        if (isContiguous(shape, xStrides)) {                  // split over the threads like binaryFlat: the same bits
            if (n < 2 * PARALLEL_MIN || KernelMode.reference()) unaryRange(op, out, outOff, x, xOff, n);
            else Parallel.forRange(n, PARALLEL_MIN, (i0, i1) -> unaryRange(op, out, outOff + i0, x, xOff + i0, i1 - i0));
            return;
        }
        int[] idx = new int[shape.length];
        int xi = xOff;
        for (int i = 0; i < n; i++) {
            out[outOff + i] = op.apply(x[xi]);
            xi = next(idx, shape, xStrides, xi);
        }
    }

    private static void unaryRange(Unary op, float[] out, int o, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) out[o + i] = op.apply(x[xo + i]);
    }

    /** out (contiguous, shape) = op(a, b), each input a strided view over the same shape (0 strides broadcast). */
    public static void binary(Binary op, float[] out, int outOff, int[] shape,
                              float[] a, int aOff, int[] aStrides, float[] b, int bOff, int[] bStrides) {
        int n = numel(shape);
        if (isContiguous(shape, aStrides) && isContiguous(shape, bStrides)) {
            binaryFlat(op, out, outOff, a, aOff, b, bOff, n);
            return;
        }
        int r = shape.length;
        if (n == 0) return;
        if (r == 0) { out[outOff] = op.apply(a[aOff], b[bOff]); return; }
        int last = shape[r - 1], rows = n / Math.max(1, last);
        if (rows < 2 || n < 2 * PARALLEL_MIN || KernelMode.reference()) {
            binaryRows(op, out, outOff, shape, a, aOff, aStrides, b, bOff, bStrides, 0, rows);
            return;
        }
        Parallel.forRange(rows, Math.max(1, PARALLEL_MIN / Math.max(1, last)),
                (r0, r1) -> binaryRows(op, out, outOff, shape, a, aOff, aStrides, b, bOff, bStrides, r0, r1));
    }

    /**
     * Rows [r0, r1) of a strided {@link #binary}: a row is the last dim, run as one loop over the op (a plain
     * indexed loop where both operands are unit-stride and the row has 64 values or more, or where one is a broadcast
     * value); the outer dims advance by an index counter started at row r0. Against the loop with the op chosen per
     * element on one thread, paired call by call in one JVM (Zen 4 VM, 201 calls, 2 threads): the loss's pred - target,
     * pred a view that drops the cls token, at ViT-B (8, 196, 768) 2.9x, its target's t - mean 4.1x; at fmnist
     * (128, 49, 16) 1.16x and 1.46x. Rows of 16 through the plain loop (binaryRange, which binaryFlat also calls with
     * long runs) were 3.7x slower on one thread than the per-element loop: hence the 64.
     */
    private static void binaryRows(Binary op, float[] out, int outOff, int[] shape, float[] a, int aOff, int[] aStrides,
                                   float[] b, int bOff, int[] bStrides, int r0, int r1) {
        int r = shape.length, last = shape[r - 1], as = aStrides[r - 1], bs = bStrides[r - 1];
        int[] idx = new int[r - 1];
        int ai = aOff, bi = bOff;
        for (int d = r - 2, rest = r0; d >= 0; d--) {                    // row r0's index and positions
            idx[d] = rest % shape[d];
            rest /= shape[d];
            ai += idx[d] * aStrides[d];
            bi += idx[d] * bStrides[d];
        }
        for (int row = r0, o = outOff + r0 * last; row < r1; row++, o += last) {
            if (as == 1 && bs == 1 && last >= 64) binaryRange(op, out, o, a, ai, b, bi, last);
            else if (as == 1 && bs == 0) binaryScalar(op, out, o, a, ai, b[bi], last);
            else for (int j = 0; j < last; j++) out[o + j] = op.apply(a[ai + j * as], b[bi + j * bs]);
            for (int d = r - 2; d >= 0; d--) {
                ai += aStrides[d]; bi += bStrides[d];
                if (++idx[d] < shape[d]) break;
                ai -= aStrides[d] * shape[d]; bi -= bStrides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    /** out[o ..+ n] = op(a[ao ..+ n], b): a row against one broadcast value (a per-row mean, a scalar). */
    private static void binaryScalar(Binary op, float[] out, int o, float[] a, int ao, float b, int n) {
        switch (op) {
            case ADD: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] + b; break;
            case SUB: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] - b; break;
            case MUL: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] * b; break;
            case DIV: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] / b; break;
            default: for (int i = 0; i < n; i++) out[o + i] = op.apply(a[ao + i], b);
        }
    }

    /** Elements per thread below which a split costs more than it saves (a pool round trip is about a microsecond). */
    static final int PARALLEL_MIN = 1 << 15;

    /** Same-shape contiguous operands: split over the threads (element by element, so the same bits either way). */
    static void binaryFlat(Binary op, float[] out, int o, float[] a, int ao, float[] b, int bo, int n) {
        if (n < 2 * PARALLEL_MIN || KernelMode.reference()) { binaryRange(op, out, o, a, ao, b, bo, n); return; }
        Parallel.forRange(n, PARALLEL_MIN, (i0, i1) -> binaryRange(op, out, o + i0, a, ao + i0, b, bo + i0, i1 - i0));
    }

    private static void binaryRange(Binary op, float[] out, int o, float[] a, int ao, float[] b, int bo, int n) {
        switch (op) {
            case ADD: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] + b[bo + i]; break;
            case SUB: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] - b[bo + i]; break;
            case MUL: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] * b[bo + i]; break;
            case DIV: for (int i = 0; i < n; i++) out[o + i] = a[ao + i] / b[bo + i]; break;
            default: for (int i = 0; i < n; i++) out[o + i] = op.apply(a[ao + i], b[bo + i]);
        }
    }

    /** Copies a strided view into a contiguous buffer. */
    public static void copy(float[] out, int outOff, int[] shape, float[] x, int xOff, int[] xStrides) {
        int n = numel(shape);
        if (isContiguous(shape, xStrides)) { System.arraycopy(x, xOff, out, outOff, n); return; }
        int r = shape.length;
        int last = shape[r - 1], ls = xStrides[r - 1];
        int rows = n / Math.max(1, last);
        int[] idx = new int[r - 1];
        int xi = xOff, o = outOff;
        for (int row = 0; row < rows; row++) {
            if (ls == 1) System.arraycopy(x, xi, out, o, last);
            else for (int j = 0; j < last; j++) out[o + j] = x[xi + j * ls];
            o += last;
            for (int d = r - 2; d >= 0; d--) {
                xi += xStrides[d];
                if (++idx[d] < shape[d]) break;
                xi -= xStrides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    /** Copies a strided view into another strided view of the same shape (e.g. a slice of a larger tensor). */
    public static void copyStrided(float[] out, int outOff, int[] outStrides, int[] shape, float[] x, int xOff, int[] xStrides) {
        int n = numel(shape), r = shape.length;
        if (n == 0) return;
        if (r == 0) { out[outOff] = x[xOff]; return; }
        int last = shape[r - 1], ls = xStrides[r - 1], os = outStrides[r - 1];
        int rows = n / last;
        int[] idx = new int[r - 1];
        int xi = xOff, o = outOff;
        for (int row = 0; row < rows; row++) {
            if (ls == 1 && os == 1) System.arraycopy(x, xi, out, o, last);
            else for (int j = 0; j < last; j++) out[o + j * os] = x[xi + j * ls];
            for (int d = r - 2; d >= 0; d--) {
                xi += xStrides[d]; o += outStrides[d];
                if (++idx[d] < shape[d]) break;
                xi -= xStrides[d] * shape[d]; o -= outStrides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    /** Advances a row-major index counter over shape; returns the next strided position. */
    static int next(int[] idx, int[] shape, int[] strides, int pos) {
        for (int d = shape.length - 1; d >= 0; d--) {
            pos += strides[d];
            if (++idx[d] < shape[d]) return pos;
            pos -= strides[d] * shape[d];
            idx[d] = 0;
        }
        return pos;
    }

    public static int numel(int[] shape) {
        int n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    /** True when strides are the row-major strides of shape (dims of size 1 may have any stride). */
    public static boolean isContiguous(int[] shape, int[] strides) {
        int expect = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expect) return false;
            expect *= shape[d];
        }
        return true;
    }
}
