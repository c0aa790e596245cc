package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Elementwise;

/**
 * One static launcher per CUDA kernel, mirroring the CPU reference signatures (outputs, then inputs, then sizes)
 * but on device pointers. Pass {@code buffer.ptr()} or {@code buffer.at(offset)}; null where the CPU accepts null.
 * Every launch is queued on {@link Cuda#stream()} and returns at once; {@link DeviceBuffer#copyTo} waits.
 * Backward launchers ADD into their gradients, as on the CPU. Shapes are checked here, in the CPU's words.
 *
 * <p>Kernel sources: kernels/src/main/cuda/&lt;family&gt;.cu; each launcher names its kernel.
 */
public final class CudaKernels {
    private CudaKernels() {}

    static final int BLOCK = 256;

    /** Matmul input precision; accumulation is FP32 in all three. */
    public enum Precision {
        /** FP32 on the CUDA cores (matmul_f32_simt): exact FP32 products, slow. */
        FP32,
        /** Inputs rounded to TF32 (10-bit mantissa) on the tensor cores. */
        TF32,
        /** Inputs rounded to BF16 (7-bit mantissa) on the tensor cores. */
        BF16
    }

    /**
     * Where launches go instead of the GPU. Only tests of this package set one, through {@link #divert}: the
     * emulated CUDA backend runs each kernel on the CPU from the arguments the launcher passed, and the signature
     * test records them to compare with the committed PTX. In a program it is never set and every launch goes to
     * {@link Cuda.Kernel#launch}.
     */
    interface Launcher {
        /** One launch of kernel "family/name" with the arguments Cuda.Kernel.launch would marshal. */
        void launch(String kernel, int gridX, int gridY, int gridZ, int block, int smemBytes, Object[] args);

        /** The multiprocessor count the launchers size their grids for. */
        int smCount();

        /** The most dynamic shared memory a block may have (an H100's 227 KB unless a test says otherwise). */
        default int maxSharedMemoryOptin() { return 227 * 1024; }
    }

    private static volatile Launcher diverted;

    /** Test hook (package-private): sends every launch to l, or to the GPU again when l is null; returns the previous. */
    static Launcher divert(Launcher l) {
        Launcher was = diverted;
        diverted = l;
        return was;
    }

    /** Launches kernel family/name on the GPU, or hands it to the diverted launcher. */
    private static void launch(String family, String name, int gridX, int gridY, int gridZ, int block, int smemBytes, Object... args) {
        Launcher l = diverted;
        if (l != null) l.launch(family + "/" + name, gridX, gridY, gridZ, block, smemBytes, args);
        else Cuda.kernel(family, name).launch(gridX, gridY, gridZ, block, smemBytes, args);
    }

    /** The GPU's multiprocessor count (or the diverted launcher's). */
    private static int smCount() {
        Launcher l = diverted;
        return l != null ? l.smCount() : Cuda.smCount();
    }

    /** The most dynamic shared memory a block may have, on the GPU (or the diverted launcher's). */
    private static int maxSharedMemoryOptin() {
        Launcher l = diverted;
        return l != null ? l.maxSharedMemoryOptin() : Cuda.maxSharedMemoryOptin();
    }

    /** Blocks of a 1-d grid for grid-stride kernels over n elements: enough to fill the GPU, no more. */
    static int gridFor(long n, int block) {
        long blocks = (n + block - 1) / block;
        return (int) Math.max(1, Math.min(blocks, (long) smCount() * 16));
    }

    /**
     * Every kernel these launchers can ask for, as "family/name"; CudaBuildTest checks that each is an entry of
     * the committed PTX, so a renamed or missing kernel fails on any machine, not only on a GPU.
     */
    static java.util.List<String> kernelNames() {
        java.util.List<String> n = new java.util.ArrayList<>(java.util.List.of(
                "elementwise/unary_f32", "elementwise/unary_strided_f32", "elementwise/binary_f32",
                "elementwise/binary_strided_f32", "elementwise/copy_strided_f32", "elementwise/add_bias_f32", "elementwise/fill_f32",
                "reduce/reduce_sum_rows_f32", "reduce/reduce_sum_mid_f32", "reduce/reduce_max_rows_f32", "reduce/reduce_max_mid_f32",
                "softmax/softmax_forward_f32", "softmax/softmax_backward_f32",
                "layernorm/layernorm_forward_f32", "layernorm/layernorm_backward_f32",
                "gelu/gelu_forward_f32", "gelu/gelu_backward_f32",
                "attention/attention_backward_dot_f32",
                "adamw/adamw_step_f32",
                "gather/gather_f32", "gather/scatter_add_f32",
                "matmul/matmul_f32_simt"));
        for (int hd : ATTENTION_HEAD_WIDTHS)
            for (String w : new String[]{"forward", "backward_dq", "backward_dkv"}) n.add("attention/attention_" + w + "_hd" + hd);
        for (Precision p : new Precision[]{Precision.TF32, Precision.BF16})
            for (boolean ta : new boolean[]{false, true})
                for (boolean tb : new boolean[]{false, true})
                    for (boolean pipe : new boolean[]{false, true}) n.add("matmul/" + matmulKernel(p, ta, tb, pipe));
        return n;
    }

    /** matmul.cu's v3 (pipe) or v2 kernel for a precision and layout: matmul_[pipe_]{tf32,bf16}_{n,t}{n,t}. */
    static String matmulKernel(Precision p, boolean transA, boolean transB, boolean pipe) {
        return "matmul_" + (pipe ? "pipe_" : "") + (p == Precision.TF32 ? "tf32" : "bf16") + "_"
                + (transA ? 't' : 'n') + (transB ? 't' : 'n');
    }

    /**
     * Slices of K for a TF32/BF16 product of few tiles: (M, N) with fewer 128 x 128 tiles of C than the GPU has
     * multiprocessors leaves most of it idle while each block walks all of K (the weight gradient dW = dY^T X of a
     * ViT-B projection, 768 x 768: 36 tiles on an H200's 132 SMs, 24 TFLOP/s at K = 12,800 where large products reach
     * 100-119). As many slices as fill two blocks per SM (v3's residency), each at least 512 of K, at most 16;
     * 1: no split. CudaBackend runs the slices as one batched product into a scratch and sums them in order.
     * On an H200 it took a ViT-B step's linear backward from 49.4 to 38.8 ms (batch 64). Products under 2^28
     * multiply-adds stay whole: about 10 us of tensor-core work, where a second launch and the sum would cost as much
     * as they save (fmnist's dW, 192 x 192 x 2,176, is 80 M).
     */
    static volatile long splitKMinMacs = 1L << 28;   // a test lowers it to split the emulator's small products

    static int splitK(int M, int N, int K) {
        long tiles = (long) ((M + 127) / 128) * ((N + 127) / 128);
        int sms = smCount();
        if (tiles >= sms || (long) M * N * K < splitKMinMacs) return 1;
        return (int) Math.max(1, Math.min(16, Math.min(2L * sms / tiles, K / 512)));
    }

    /** v3's dynamic shared memory: matmul.cu's PIPE_SMEM_BYTES, 3 stages x (A, B) x 4608 floats. */
    static final int MATMUL_PIPE_SMEM = 3 * 2 * 4608 * 4;

    /** Test hook (package-private): false sends TF32 and BF16 matmuls to v2 even where v3 fits. */
    static volatile boolean matmulPipe = true;

    private static void positive(String op, String what, long v) {
        if (v < 0) throw new IllegalArgumentException(op + ": " + what + " = " + v + " must be >= 0");
    }

    // ----------------------------------------------------------------------------------------------- elementwise

    /** out (n) = op(x (n)), contiguous. elementwise.cu unary_f32. */
    public static void unary(Elementwise.Unary op, CUdeviceptr out, CUdeviceptr x, long n) {
        positive("unary", "n", n);
        if (n == 0) return;
        launch("elementwise", "unary_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, n, op.ordinal());
    }

    /**
     * out (contiguous, shape) = op(x viewed with xStrides), op null for a plain copy. elementwise.cu unary_strided_f32.
     * Any rank whose dims merge down to 4 or fewer.
     */
    public static void unaryStrided(Elementwise.Unary op, CUdeviceptr out, int[] shape, CUdeviceptr x, int[] xStrides) {
        long n = numel(shape);
        if (n == 0) return;
        int[][] c = collapse("unaryStrided", shape, xStrides);
        int[] s = c[0], xs = c[1];
        launch("elementwise", "unary_strided_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, n,
                op == null ? -1 : op.ordinal(), s[0], s[1], s[2], s[3], xs[0], xs[1], xs[2], xs[3]);
    }

    /**
     * out viewed with outStrides = x viewed with xStrides, over shape (a slice assignment), as
     * Elementwise.copyStrided. elementwise.cu copy_strided_f32.
     */
    public static void copyStrided(CUdeviceptr out, int[] outStrides, int[] shape, CUdeviceptr x, int[] xStrides) {
        long n = numel(shape);
        if (n == 0) return;
        int[][] c = collapse("copyStrided", shape, outStrides, xStrides);
        int[] s = c[0], os = c[1], xs = c[2];
        launch("elementwise", "copy_strided_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, n,
                s[0], s[1], s[2], s[3], os[0], os[1], os[2], os[3], xs[0], xs[1], xs[2], xs[3]);
    }

    /** out (n) = op(a (n), b (n)), contiguous. elementwise.cu binary_f32. */
    public static void binary(Elementwise.Binary op, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b, long n) {
        positive("binary", "n", n);
        if (n == 0) return;
        launch("elementwise", "binary_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, a, b, n, op.ordinal());
    }

    /** out (contiguous, shape) = op(a, b), each a strided view over shape (0 strides broadcast). binary_strided_f32. */
    public static void binaryStrided(Elementwise.Binary op, CUdeviceptr out, int[] shape,
                                     CUdeviceptr a, int[] aStrides, CUdeviceptr b, int[] bStrides) {
        long n = numel(shape);
        if (n == 0) return;
        int[][] c = collapse("binaryStrided", shape, aStrides, bStrides);
        int[] s = c[0], as = c[1], bs = c[2];
        launch("elementwise", "binary_strided_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, a, b, n,
                op.ordinal(), s[0], s[1], s[2], s[3], as[0], as[1], as[2], as[3], bs[0], bs[1], bs[2], bs[3]);
    }

    /** out (rows, C) = x (rows, C) + bias (C); out may be x. elementwise.cu add_bias_f32. */
    public static void addBias(CUdeviceptr out, CUdeviceptr x, CUdeviceptr bias, int rows, int C) {
        positive("addBias", "rows", rows); positive("addBias", "C", C);
        long n = (long) rows * C;
        if (n == 0) return;
        launch("elementwise", "add_bias_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, bias, rows, C);
    }

    /** out (n) = value. elementwise.cu fill_f32. */
    public static void fill(CUdeviceptr out, float value, long n) {
        positive("fill", "n", n);
        if (n == 0) return;
        launch("elementwise", "fill_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, value, n);
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dim in shape " + java.util.Arrays.toString(shape));
            n *= s;
        }
        return n;
    }

    /**
     * Shape and strides brought to rank 4 for the strided kernels: {@link #merge}d, then padded with leading 1s.
     * Throws if more than 4 dims remain.
     */
    static int[][] collapse(String op, int[] shape, int[]... strides) {
        for (int[] st : strides)
            if (st.length != shape.length)
                throw new IllegalArgumentException(op + ": strides " + java.util.Arrays.toString(st)
                        + " do not match shape " + java.util.Arrays.toString(shape));
        int[][] m = merge(shape, strides);
        int r = m[0].length;
        if (r > 4)
            throw new IllegalArgumentException(op + ": shape " + java.util.Arrays.toString(shape)
                    + " with these strides needs rank " + r + " after merging; the CUDA kernel takes at most 4");
        int[][] outp = new int[m.length][4];
        for (int i = 0; i < 4; i++) {
            int d = i - (4 - r);
            for (int v = 0; v < m.length; v++) outp[v][i] = d < 0 ? (v == 0 ? 1 : 0) : m[v][d];
        }
        return outp;
    }

    /**
     * The shape and each view's strides with size-1 dims dropped and neighbouring dims merged where every view
     * is contiguous across them: {shape, strides of view 0, strides of view 1, ...}, of the merged rank.
     */
    public static int[][] merge(int[] shape, int[]... strides) {
        int r = 0;
        int[] s = new int[shape.length];
        int[][] t = new int[strides.length][shape.length];
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            boolean merge = r > 0;
            for (int v = 0; v < strides.length && merge; v++)
                merge = t[v][r - 1] == strides[v][d] * shape[d];
            if (merge) {
                s[r - 1] *= shape[d];
                for (int v = 0; v < strides.length; v++) t[v][r - 1] = strides[v][d];
            } else {
                s[r] = shape[d];
                for (int v = 0; v < strides.length; v++) t[v][r] = strides[v][d];
                r++;
            }
        }
        int[][] out = new int[1 + strides.length][];
        out[0] = java.util.Arrays.copyOf(s, r);
        for (int v = 0; v < strides.length; v++) out[1 + v] = java.util.Arrays.copyOf(t[v], r);
        return out;
    }

    // ------------------------------------------------------------------------------------------------- reduce

    /** out (outer, inner) = sum over n of x (outer, n, inner). reduce.cu reduce_sum_rows_f32 / reduce_sum_mid_f32. */
    public static void sum(CUdeviceptr out, CUdeviceptr x, int outer, int n, int inner) {
        positive("sum", "outer", outer); positive("sum", "n", n); positive("sum", "inner", inner);
        if ((long) outer * inner == 0) return;
        if (n == 0) { fill(out, 0f, (long) outer * inner); return; }
        int sms = smCount();
        if (inner == 1) {
            int chunks = outer >= 2 * sms ? 1 : (int) Math.min((n + 4095) / 4096, (4L * sms + outer - 1) / outer);
            chunks = Math.max(1, chunks);
            int chunk = (n + chunks - 1) / chunks;
            chunks = (n + chunk - 1) / chunk;
            if (chunks > 1) fill(out, 0f, outer);
            launch("reduce", "reduce_sum_rows_f32", chunks, Math.min(outer, 65535), 1, BLOCK, 0,
                    out, x, outer, n, chunk, chunks > 1);
        } else {
            int gx = (inner + 31) / 32, gy = Math.min(outer, 65535);
            long blocks = (long) gx * gy;
            int chunks = blocks >= 2L * sms ? 1 : (int) Math.min(Math.min((n + 63) / 64, 65535), (4L * sms + blocks - 1) / blocks);
            chunks = Math.max(1, chunks);
            int chunk = (n + chunks - 1) / chunks;
            chunks = (n + chunk - 1) / chunk;
            if (chunks > 1) fill(out, 0f, (long) outer * inner);
            launch("reduce", "reduce_sum_mid_f32", gx, gy, chunks, BLOCK, 0, out, x, outer, n, inner, chunk, chunks > 1);
        }
    }

    /** out, arg (outer, inner) = max over n and its first index (NaN wins). reduce.cu reduce_max_rows_f32 / _mid_f32. */
    public static void max(CUdeviceptr out, CUdeviceptr arg, CUdeviceptr x, int outer, int n, int inner) {
        if (n <= 0) throw new IllegalArgumentException("max: n = " + n + " must be >= 1");
        positive("max", "outer", outer); positive("max", "inner", inner);
        long total = (long) outer * inner;
        if (total == 0) return;
        if (inner == 1) launch("reduce", "reduce_max_rows_f32", (outer + 7) / 8, 1, 1, BLOCK, 0, out, arg, x, outer, n);
        else launch("reduce", "reduce_max_mid_f32", gridFor(total, BLOCK), 1, 1, BLOCK, 0, out, arg, x, outer, n, inner);
    }

    // ------------------------------------------------------------------------------------------------ softmax

    /** out (rows, cols) = softmax of each row of x. softmax.cu softmax_forward_f32. */
    public static void softmaxForward(CUdeviceptr out, CUdeviceptr x, int rows, int cols) {
        positive("softmaxForward", "rows", rows); positive("softmaxForward", "cols", cols);
        if (rows == 0 || cols == 0) return;
        launch("softmax", "softmax_forward_f32", (rows + 7) / 8, 1, 1, BLOCK, 0, out, x, rows, cols);
    }

    /** dx (rows, cols) += y * (dy - sum(dy * y)). softmax.cu softmax_backward_f32. */
    public static void softmaxBackward(CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr y, int rows, int cols) {
        positive("softmaxBackward", "rows", rows); positive("softmaxBackward", "cols", cols);
        if (rows == 0 || cols == 0) return;
        launch("softmax", "softmax_backward_f32", (rows + 7) / 8, 1, 1, BLOCK, 0, dx, dy, y, rows, cols);
    }

    // ---------------------------------------------------------------------------------------------- layer norm

    /** out (rows, C) = layer norm of x with w, b (C); saves mean, rstd (rows). layernorm.cu layernorm_forward_f32. */
    public static void layerNormForward(CUdeviceptr out, CUdeviceptr mean, CUdeviceptr rstd, CUdeviceptr x,
                                        CUdeviceptr w, CUdeviceptr b, int rows, int C, float eps) {
        positive("layerNormForward", "rows", rows);
        if (C <= 0) throw new IllegalArgumentException("layerNormForward: C = " + C + " must be >= 1");
        if (rows == 0) return;
        launch("layernorm", "layernorm_forward_f32", (rows + 7) / 8, 1, 1, BLOCK, 0, out, mean, rstd, x, w, b, rows, C, eps);
    }

    /** Adds dx (rows, C), dw (C), db (C), each may be null. layernorm.cu layernorm_backward_f32. */
    public static void layerNormBackward(CUdeviceptr dx, CUdeviceptr dw, CUdeviceptr db, CUdeviceptr dout,
                                         CUdeviceptr x, CUdeviceptr w, CUdeviceptr mean, CUdeviceptr rstd,
                                         int rows, int C) {
        positive("layerNormBackward", "rows", rows);
        if (C <= 0) throw new IllegalArgumentException("layerNormBackward: C = " + C + " must be >= 1");
        if (rows == 0) return;
        int grid = Math.min((rows + 7) / 8, 2 * smCount());
        int smem = (dw != null || db != null) ? 2 * C * 4 : 0;
        launch("layernorm", "layernorm_backward_f32", grid, 1, 1, BLOCK, smem, dx, dw, db, dout, x, w, mean, rstd, rows, C);
    }

    // ---------------------------------------------------------------------------------------------------- gelu

    /** out (n) = x Phi(x). gelu.cu gelu_forward_f32. */
    public static void geluForward(CUdeviceptr out, CUdeviceptr x, long n) {
        positive("geluForward", "n", n);
        if (n == 0) return;
        launch("gelu", "gelu_forward_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, n);
    }

    /** dx (n) += dout * gelu'(x). gelu.cu gelu_backward_f32. */
    public static void geluBackward(CUdeviceptr dx, CUdeviceptr dout, CUdeviceptr x, long n) {
        positive("geluBackward", "n", n);
        if (n == 0) return;
        launch("gelu", "gelu_backward_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, dx, dout, x, n);
    }

    // ----------------------------------------------------------------------------------------------- attention

    /** Head widths with a compiled kernel (attention.cu ATTENTION_HD). */
    public static final int[] ATTENTION_HEAD_WIDTHS = {32, 64, 80, 128};
    static final int ATT_ROWS = 16, ATT_THREADS = 128;

    static void checkHeadWidth(String op, int hd) {
        for (int w : ATTENTION_HEAD_WIDTHS) if (w == hd) return;
        throw new IllegalArgumentException(op + ": head width " + hd + " has no CUDA kernel; compiled for "
                + java.util.Arrays.toString(ATTENTION_HEAD_WIDTHS));
    }

    /** Dynamic shared memory of attention.cu's kernels, in bytes (mirrors the layout comments there). */
    static int attentionSmem(String which, int hd) {
        switch (which) {
            case "forward": return (80 * hd + 32 + 512) * 4;
            case "dq": return (96 * hd + 64 + 512) * 4;
            case "dkv": return (96 * hd + 64 + 64 + 1024) * 4;
            default: throw new AssertionError(which);
        }
    }

    private static int attentionGrid(String op, int BH, int T) {
        long g = (long) BH * ((T + ATT_ROWS - 1) / ATT_ROWS);
        if (g > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": BH " + BH + " x T " + T + " too large");
        return (int) g;
    }

    /**
     * out (BH, T, hd) = softmax(q k^T * scale) v; lse (BH, T). q, k, v contiguous (BH, T, hd).
     * attention.cu attention_forward_hd{32,64,80,128}.
     */
    public static void attentionForward(CUdeviceptr out, CUdeviceptr lse, CUdeviceptr q, CUdeviceptr k,
                                        CUdeviceptr v, int BH, int T, int hd, float scale) {
        checkHeadWidth("attentionForward", hd);
        positive("attentionForward", "BH", BH); positive("attentionForward", "T", T);
        if (BH == 0 || T == 0) return;
        launch("attention", "attention_forward_hd" + hd, attentionGrid("attentionForward", BH, T), 1, 1,
                ATT_THREADS, attentionSmem("forward", hd), out, lse, q, k, v, T, scale);
    }

    /**
     * Adds dq, dk, dv (BH, T, hd) given dout and the forward's out and lse. Three kernels: attention_backward_dot_f32
     * (D = rowsum(dout * out) into a scratch buffer), attention_backward_dq_hdX, attention_backward_dkv_hdX.
     */
    public static void attentionBackward(CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv, CUdeviceptr dout,
                                         CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr out,
                                         CUdeviceptr lse, int BH, int T, int hd, float scale) {
        checkHeadWidth("attentionBackward", hd);
        positive("attentionBackward", "BH", BH); positive("attentionBackward", "T", T);
        if (BH == 0 || T == 0) return;
        try (DeviceBuffer D = DeviceBuffer.allocate(Math.multiplyExact(BH, T))) {
            attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, D.ptr(), BH, T, hd, scale);
        }
    }

    /** {@link #attentionBackward} with the scratch buffer D (BH x T floats) given: its contents are overwritten. */
    public static void attentionBackward(CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv, CUdeviceptr dout,
                                         CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr out,
                                         CUdeviceptr lse, CUdeviceptr D, int BH, int T, int hd, float scale) {
        checkHeadWidth("attentionBackward", hd);
        positive("attentionBackward", "BH", BH); positive("attentionBackward", "T", T);
        if (BH == 0 || T == 0) return;
        int rows = Math.multiplyExact(BH, T);
        int grid = attentionGrid("attentionBackward", BH, T);
        launch("attention", "attention_backward_dot_f32", (rows + 7) / 8, 1, 1, BLOCK, 0, D, dout, out, rows, hd);
        launch("attention", "attention_backward_dq_hd" + hd, grid, 1, 1, ATT_THREADS, attentionSmem("dq", hd),
                dq, dout, q, k, v, lse, D, T, scale);
        launch("attention", "attention_backward_dkv_hd" + hd, grid, 1, 1, ATT_THREADS, attentionSmem("dkv", hd),
                dk, dv, dout, q, k, v, lse, D, T, scale);
    }

    // -------------------------------------------------------------------------------------------------- adamw

    /**
     * One AdamW step over n elements (t counts from 1), bias corrections computed here exactly as AdamW.step does.
     * adamw.cu adamw_step_f32.
     */
    public static void adamwStep(CUdeviceptr p, CUdeviceptr g, CUdeviceptr m, CUdeviceptr v, long n, long t,
                                 float lr, float beta1, float beta2, float eps, float wd) {
        positive("adamwStep", "n", n);
        if (t < 1) throw new IllegalArgumentException("adamwStep: step t = " + t + " must count from 1");
        if (n == 0) return;
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float stepSize = lr / bc1;
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = 1 - lr * wd;
        launch("adamw", "adamw_step_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, p, g, m, v, n,
                beta1, beta2, eps, stepSize, bc2Sqrt, decay);
    }

    // ------------------------------------------------------------------------------------------------- gather

    private static void gatherArgs(String op, int outer, int S, int J, int inner, int idxInner) {
        positive(op, "outer", outer); positive(op, "S", S); positive(op, "J", J); positive(op, "inner", inner);
        if (idxInner != 1 && idxInner != inner)
            throw new IllegalArgumentException(op + ": idxInner = " + idxInner + " must be 1 or inner = " + inner);
    }

    /** out (outer, J, inner) = x (outer, S, inner) gathered along S by idx (outer, J, idxInner). gather.cu gather_f32. */
    public static void gather(CUdeviceptr out, CUdeviceptr x, CUdeviceptr idx, int outer, int S, int J, int inner, int idxInner) {
        gatherArgs("gather", outer, S, J, inner, idxInner);
        long n = (long) outer * J * inner;
        if (n == 0) return;
        launch("gather", "gather_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, out, x, idx,
                outer, S, J, inner, idxInner);
    }

    /** dx (outer, S, inner) += dout scattered by idx: the backward of gather. gather.cu scatter_add_f32. */
    public static void scatterAdd(CUdeviceptr dx, CUdeviceptr dout, CUdeviceptr idx, int outer, int S, int J, int inner, int idxInner) {
        gatherArgs("scatterAdd", outer, S, J, inner, idxInner);
        long n = (long) outer * J * inner;
        if (n == 0) return;
        launch("gather", "scatter_add_f32", gridFor(n, BLOCK), 1, 1, BLOCK, 0, dx, dout, idx,
                outer, S, J, inner, idxInner);
    }

    // ------------------------------------------------------------------------------------------------- matmul

    /**
     * C[b] (M, N) = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for b < batch, row-major, as Gemm.gemm;
     * A[b] = A + b * strideA elements (likewise B, C). A is (M, K) with row stride lda, or (K, M) when transA;
     * B is (K, N) with stride ldb, or (N, K) when transB. beta == 0 ignores C.
     * matmul.cu: matmul_f32_simt (FP32), matmul_pipe_{tf32,bf16}_{n,t}{n,t} (TF32, BF16), or
     * matmul_{tf32,bf16}_{n,t}{n,t} where the device cannot give a block v3's shared memory.
     */
    public static void matmul(boolean transA, boolean transB, int M, int N, int K, float alpha,
                              CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                              float beta, CUdeviceptr C, int ldc, long strideC, int batch, Precision precision) {
        String shapes = " (M " + M + ", N " + N + ", K " + K + ", transA " + transA + ", transB " + transB
                + ", lda " + lda + ", ldb " + ldb + ", ldc " + ldc + ", batch " + batch + ")";
        if (M < 0 || N < 0 || K < 0 || batch < 0) throw new IllegalArgumentException("matmul: negative size" + shapes);
        if (lda < Math.max(1, transA ? M : K) || ldb < Math.max(1, transB ? K : N) || ldc < Math.max(1, N))
            throw new IllegalArgumentException("matmul: leading dimension too small" + shapes);
        if (batch > 65535) throw new IllegalArgumentException("matmul: batch > 65535" + shapes);
        if (M == 0 || N == 0 || batch == 0) return;
        if (precision == Precision.FP32) {
            int gy = (M + 63) / 64;
            if (gy > 65535) throw new IllegalArgumentException("matmul: M too large for the FP32 kernel" + shapes);
            launch("matmul", "matmul_f32_simt", (N + 63) / 64, gy, batch, BLOCK, 0, transA, transB, M, N, K, alpha,
                    A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC);
            return;
        }
        int gy = (M + 127) / 128;
        if (gy > 65535) throw new IllegalArgumentException("matmul: M too large" + shapes);
        // v3 where a block may have its 110,592 bytes of shared memory (sm_80, sm_90), else v2 (sm_86, sm_89: 99 KB)
        // (BF16 X W^T would be faster on v2, whose float4 loads of BF16 reach 98-141 TFLOP/s on an H200 against v3's
        // 80-100; one rule kept instead: BF16 tiles staged as BF16 in v3 is the way to that speed)
        boolean pipe = matmulPipe && maxSharedMemoryOptin() >= MATMUL_PIPE_SMEM;
        launch("matmul", matmulKernel(precision, transA, transB, pipe), (N + 127) / 128, gy, batch, BLOCK,
                pipe ? MATMUL_PIPE_SMEM : 0, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC);
    }

    /** Unbatched matmul. */
    public static void matmul(boolean transA, boolean transB, int M, int N, int K, float alpha,
                              CUdeviceptr A, int lda, CUdeviceptr B, int ldb, float beta, CUdeviceptr C, int ldc,
                              Precision precision) {
        matmul(transA, transB, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, precision);
    }
}
