package mae.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix multiply on row-major buffers:
 * {@code C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C}, where op(X) is X or X^T.
 * A is stored (M, K) with row stride lda, or (K, M) when transA; B is (K, N) with stride ldb, or (N, K) when transB.
 *
 * <p>{@link #ref} is the plain-loop reference and test oracle; {@link #gemm} is the fast path (Vector API,
 * several threads), checked against the reference in tests.
 */
public final class Gemm {
    private Gemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Fast path on unless -Dmae.gemm=ref. */
    static final boolean FAST = !"ref".equals(System.getProperty("mae.gemm"));

    /** Plain triple loop: the definition. Accumulates in double so that it can serve as an oracle. */
    public static void ref(boolean transA, boolean transB, int M, int N, int K, float alpha,
                           float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                           float beta, float[] C, int cOff, int ldc) {
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                double acc = 0;
                for (int k = 0; k < K; k++) {
                    float a = transA ? A[aOff + k * lda + m] : A[aOff + m * lda + k];
                    float b = transB ? B[bOff + n * ldb + k] : B[bOff + k * ldb + n];
                    acc += (double) a * b;
                }
                int c = cOff + m * ldc + n;
                C[c] = (float) (alpha * acc + (beta == 0 ? 0 : beta * C[c]));
            }
        }
    }

    /** Same contract as {@link #ref}; dispatches to the fast kernel unless disabled. */
    public static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                            float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                            float beta, float[] C, int cOff, int ldc) {
        run(blocking(M, N, K), transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, null, 0, C, cOff, ldc);
    }

    /**
     * C (M, N) = alpha op(A) op(B) + bias, the N values of bias[biasOff ..] added to every row (null: none), as in a
     * linear layer's y = x W^T + b. C is written once and never read: the bias goes in where the first k block's
     * sums are stored, instead of a pass over C before the product. The bits are those of copying the bias into
     * C and calling {@link #gemm} with beta 1 (the same additions in the same order).
     */
    public static void gemmBias(boolean transA, boolean transB, int M, int N, int K, float alpha,
                                float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                                float[] bias, int biasOff, float[] C, int cOff, int ldc) {
        run(blocking(M, N, K), transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, 0f, bias, biasOff, C, cOff, ldc);
    }

    private static GemmBlocking blocking(int M, int N, int K) {
        return (long) M * N * K < (1 << 18) ? SMALL : GemmBlocking.current();
    }

    /** gemm with a given blocking (the autotune, tests). */
    static void gemm(GemmBlocking g, boolean transA, boolean transB, int M, int N, int K, float alpha,
                     float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                     float beta, float[] C, int cOff, int ldc) {
        run(g, transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, null, 0, C, cOff, ldc);
    }

    /**
     * The fast path. With beta 0 (and with a bias, which comes with beta 0) C is overwritten: the first k block
     * stores 0 + sums, or bias + sums, where a beta of 1 adds C + sums, so there is no clearing pass over C on one
     * thread before the product, and C is not read (for the K = 128-192 products of the fmnist step, C is as large
     * as both operands together). Other betas scale C first.
     */
    static void run(GemmBlocking g, boolean transA, boolean transB, int M, int N, int K, float alpha,
                    float[] A, int aOff, int lda, float[] B, int bOff, int ldb,
                    float beta, float[] bias, int biasOff, float[] C, int cOff, int ldc) {
        if (!FAST || KernelMode.reference()) {
            if (bias != null) { fillRows(C, cOff, ldc, M, N, bias, biasOff); beta = 1f; }
            ref(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
            return;
        }
        if (M == 0 || N == 0) return;
        boolean overwrite = beta == 0;
        if (K == 0 || alpha == 0) {
            if (bias != null) fillRows(C, cOff, ldc, M, N, bias, biasOff); else scale(C, cOff, ldc, M, N, beta);
            return;
        }
        if (!overwrite) scale(C, cOff, ldc, M, N, beta);
        boolean few = fewRowsOrder(g, transA, M, N, K);
        if ((long) M * N * K < (1 << 18)) {     // tiny products stay on the calling thread
            blocked(g, transA, transB, 0, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, overwrite, bias, biasOff, few);
        } else if (N >= WIDE && (transA ? M <= N : M < 3L * N && !(M > N && 4L * K * N <= splitL2Bytes))) {
            if (sharePanel && Parallel.threads() > 1 && !few)   // rows over one shared B panel
                sharedPanel(g, transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, overwrite, bias, biasOff);
            else Parallel.forRange((N + NR - 1) / NR, 4, (s0, s1) -> {            // columns split, in whole slivers
                int n0 = s0 * NR, n1 = Math.min(N, s1 * NR);
                blocked(g, transA, transB, 0, M, n1 - n0, K, alpha, A, aOff, lda, B, transB ? bOff + n0 * ldb : bOff + n0, ldb, C, cOff + n0, ldc,
                        overwrite, bias, biasOff + n0, few);
            });
        } else {                                // rows split over the threads, at least 4 slivers each
            Parallel.forRange(M, 4 * MR, (m0, m1) -> blocked(g, transA, transB, m0, m1, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc,
                    overwrite, bias, biasOff, fewRowsOrder(g, transA, m1 - m0, N, K)));
        }
    }

    /** Every row of the (M, N) block of C at cOff = bias[biasOff .. biasOff + N). */
    private static void fillRows(float[] C, int cOff, int ldc, int M, int N, float[] bias, int biasOff) {
        for (int m = 0; m < M; m++) System.arraycopy(bias, biasOff, C, cOff + m * ldc, N);
    }

    /**
     * From this many columns the threads split C by columns: each then packs only its own columns of B (half the
     * packing, and a B block half the size, nearer its core's L2). Split by rows, each thread packs the whole
     * (KC x NC) block. (Where each thread's part would run in the usual order, {@link #sharedPanel} now takes the
     * columns split's place: rows over one B panel the threads pack together; the figures below predate it.) Paired
     * in one JVM on the 2-core VM (KC 256 then): 1024^3 +4-5%, 512^3 +3%, 2048^3 +2%; the MAE shapes with N of 512 to
     * 768 within +-2%. Every element of C is computed the same way either way.
     * Not for a transposed A taller than wide (a weight gradient, dW = dY^T X, of a layer with more outputs than
     * inputs): split by columns, each thread packs all of A, and packing a transposed A (strided reads) costs more
     * than packing B; split by rows, each packs its own rows of A. ViT-B decoder fc1's dW, TN 2048 x 512 x 1576,
     * in alternating launches on the 2-core VM (another JVM busy on both cores, so only the ratio counts):
     * columns 137.8, 146.4, 144.9 against rows 165.4, 182.1 GFLOP/s (rows measured at N = 511, one column less);
     * quiet, with the in-place read below: 297-304 -> 354-397 (bench/results/2026-12-01-vm-amd-epyc-gemm-weight-gradients.md).
     * Nor for a plain A three or more times taller than B is wide: split by columns each thread packs all of A (M x K),
     * split by rows all of B (K x N), and from M = 3N the first costs more than a B block half the size gains. This
     * build against the columns-from-512 one, call by call in one JVM on the Zen 4 VM (2 threads, one blocking, median
     * per-call ratio of 61): fmnist's 6400 x 512 x 128 NN 1.10, NT 1.32; ViT-B decoder 1576 x 512 x 512 NT 1.12, x 2048
     * NT 1.01, NN 0.97, x 1536 NN 0.99. Toggling the split in one JVM (medians of 101, columns / rows, GFLOP/s): nearer
     * square the columns win, between neither clearly: 1664 x 768 x 192 NN 144 / 155 and 99 / 99 (two launches), 1576 x 768 x 512 NT
     * 168 / 168, 1576 x 1536 x 512 NT 175 / 165, 2048 x 1024 x 1024 NN 173 / 168, 1024^3 192 / 186
     * (bench/results/2026-12-01-vm-amd-epyc-f25m17-split.md).
     * Nor for a plain A taller than B is wide whose whole B (K x N) fits in one core's L2: then a B half the size gains
     * nothing, and each thread packing half of A instead of all of it packs less (M K / 2 + N K < M K + N K / 2 when
     * M > N). Split by rows from M >= 2N, paired against the columns (101 calls, Zen 4 VM, L2 1 MiB): fmnist's encoder
     * qkv 1664 x 576 x 192 NT 1.049 and fc1 1664 x 768 x 192 NT 1.065 (B 432 and 576 KiB), while ViT-B's decoder
     * 1576 x 768 x 512 NT, whose B (1.5 MiB) does not fit, read 0.992; this rule against the build before it, the same
     * way: 1.081 and 1.054, the unchanged paths 1.009-1.011 (bench/results/2026-12-01-vm-amd-epyc-f25m17-split-l2.md).
     */
    static final int WIDE = 512;

    /**
     * The bytes of B up to which a plain A taller than wide is split by rows (above): this core's L2. Tests set it to 0
     * or Long.MAX_VALUE to reach either split on any machine.
     */
    static long splitL2Bytes = CacheSizes.machine().l2();

    // ---------------------------------------------------------------- the blocked kernel
    // Goto/BLIS loop nest: for each (KC x NC) block of op(B), packed into NR-wide slivers, and each (MC x KC)
    // block of op(A), packed into MR-tall slivers (alpha folded in), an MR x NR micro-kernel keeps its tile of
    // C in 2 x MR vector registers while streaming the two slivers. Packing also absorbs the transposes.

    static final int L = S.length();
    static final int MR = 6, NR = 2 * L;
    /**
     * Rows per packed sliver of A: 12 where there are 32 vector registers (AVX-512), for {@link #micro12}, else MR.
     * Which kernel runs is the blocking's choice ({@link GemmBlocking#rows}): the 6-row one runs on each half of a
     * 12-row sliver.
     */
    static final int PR = L >= 16 ? 2 * MR : MR;
    /** The blocking of tiny products (under 2^18 multiply-adds), which need no autotune to start. */
    static final GemmBlocking SMALL = new GemmBlocking(512, 96, 1024, "tiny products");
    // MR x NR = 6 x 2 vectors: 12 accumulators + 2 B vectors + 1 broadcast A value = 15 vector registers, within the
    // 16 of AVX2, so this kernel holds its tile in registers on any x86-64 with FMA; the vector width sets NR (32
    // floats with AVX-512, 16 with AVX2). With AVX-512's 32 registers the packed path can run 12 x 2 vectors
    // (micro12, PR = 12; the blocking's rows decide, and the autotune tries both): half the B loads per FMA. On the 2-core Zen 4 VM (AVX-512 on 256-bit pipes), in L1 on one
    // thread: the 6-row kernel 84-101 GFLOP/s, the 12-row one 106-115 of a 115.7 peak; 1024^3 NN at KC 512 MC 96,
    // alternating launches, 1 thread 74-80 -> 86-87, 2 threads 139-142 -> 153-158 (JDK 17), 1 thread 79-87 -> 91-94
    // (JDK 25). Its A sliver is one stream of 12 values per k: read as two 6-row slivers (two streams) the same
    // kernel ran at 74 on JDK 25, whose C2 then keeps fewer values in registers. A packed k-major too (the slivers'
    // strides become constants): row-major packing read it as 6 streams kc apart. KC, MC, NC come from GemmBlocking.

    /** Per thread: the packed A block, the packed B panel, the edge tile; regrown when a blocking needs more. */
    private static final ThreadLocal<float[][]> PACKS = ThreadLocal.withInitial(() -> new float[][]{new float[0], new float[0], new float[PR * NR]});

    /**
     * This thread's packing buffers, the A block and B panel grown to at least these many floats; the A block has L
     * floats more, where {@link #packTransposedA}'s last vector spills.
     */
    private static float[][] packs(int aFloats, int bFloats) {
        float[][] packs = PACKS.get();
        if (packs[0].length < aFloats + L) packs[0] = new float[aFloats + L];
        if (packs[1].length < bFloats) packs[1] = new float[bFloats];
        return packs;
    }

    /**
     * Where the columns split (above) would run each thread's part in the usual order: the rows split instead, over
     * one packed B panel that the threads pack together. For each (KC x NC) block of op(B), in one {@link
     * Parallel#forItems} over two sets, each thread takes the block's next {@link #PACK_ROWS} rows to pack into the
     * calling thread's panel until none is left, waits for the rows the others took, then takes the rows' MC blocks
     * over the whole panel, each the next one when it is free (on a VM whose host slows one vCPU, or a core slower than
     * another, the faster thread takes more blocks; which thread packs or runs a block does not change its bits).
     * The packing was a forRange of its own before, each thread a fixed half of the slivers, and a second one ran the
     * blocks: the first ended when the slowest thread had packed its half, and a worker asleep since the last call (on the
     * Zen 4 VM, started 41 us after the caller at the median, 108 at the 90th percentile, timed apart) held everyone up
     * by that much; now the caller packs what a late worker has not taken. Rows, not slivers: a chunk of 2 slivers reads
     * 128 bytes of each of B's rows, and 1024^3 then read 0.978-0.987 against the halves. `bench gemm --against` the
     * halves' build, one blocking for both (41 pairs, 2 threads, Zen 4 VM), with packRowsB's tiles: AVX2 stand-in
     * (-XX:UseAVX=2) 1024^3 NN 1.025, TN 512 x 2048 x 1576 1.020, the NT shapes 0.999-1.005; AVX-512 1.013, 1.026, NT
     * 0.995-1.020. Paired with the halves split in one JVM (`bench gemm
     * --against` 631a1ea, 2-core Zen 3 VM in a noisy phase, per-call ratio medians of 41-61): 1024^3 0.973, 1.171, 1.074,
     * 1.141, 1.079; NN 1664 x 768 x 192 1.249, 1.013, 1.001, 1.049; NT 1664 x 576 x 192 1.001. Each thread packs about
     * half of A and half of B, where split by columns it packed all of A and half of B, and split by rows all of B and
     * half of A. The same k blocks, kernel and
     * order as the columns split: the same bits. `bin/mae bench gemm --against` the columns split's build (Zen 4 VM, 2
     * threads, KC 1024 MC 96, per-call ratio medians of 41-61): 1024^3 NN 1.042, 1.025, 1.037 (a fourth launch 0.979);
     * 2048^3 1.016; ViT-B decoder's NT 1576 x 768 x 512 1.094, 1576 x 1536 x 512 1.022, 1576 x 512 x 2048 1.005, 1576 x 2048
     * x 512 0.990, 1576 x 512 x 512 0.988, NN 1576 x 512 x 2048 1.002, 1576 x 2048 x 512 1.005, TN 512 x 2048 x 1576 1.002.
     * Not where each thread's rows take the few-rows order (NT 400 x 3072 x 768, toggled in one JVM: 0.942), whose B
     * slivers are packed as they are used. With more threads the packing saved grows (not measured: no machine here has
     * more than 2 cores): split by columns, each of n threads packs all of A for 1/n of the product.
     */
    private static void sharedPanel(GemmBlocking g, boolean ta, boolean tb, int M, int N, int K, float alpha,
                                    float[] A, int aOff, int lda, float[] B, int bOff, int ldb, float[] C, int cOff, int ldc,
                                    boolean overwrite, float[] bias, int biasOff) {
        final int KC = g.kc(), NC = g.nc(), MC = g.mc();
        float[] bp = panel(KC * NC);
        boolean touch = touches(g, (M + Parallel.threads() - 1) / Parallel.threads(), N, K);
        // The rows in blocks of whole slivers that shrink towards the end (rowBlocks). Before them: blocks as even as
        // slivers allow, their count a multiple of the threads, which had beaten MC blocks with a short last one
        // (`bench gemm --against`, 61 pairs, 2 threads, Zen 3 VM, KC 1024 MC 96: 1024^3 1.057, NT 400 x 2304 x 768 1.026,
        // 400 x 3072 x 768 1.044). The shrinking blocks against those (AVX2 stand-in on the Zen 4 VM, KC 1024 MC 96, 61
        // pairs): 1024^3 1.053, 1.003, 1.025, and over eight shapes with 41 pairs 0.989-1.014 (AVX2) and 0.991-1.045 (AVX-512),
        // within the spread; a floor of an eighth of MC instead of a quarter read 1.000-1.012, no clearer.
        int[] blocks = rowBlocks((M + PR - 1) / PR, MC / PR, Parallel.threads());
        for (int jc = 0; jc < N; jc += NC) {
            int nc = Math.min(NC, N - jc), jc0 = jc;
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc), pc0 = pc;
                boolean first = overwrite && pc == 0;
                Parallel.forItems((kc + PACK_ROWS - 1) / PACK_ROWS, (c, c1) -> {                    // the panel, PACK_ROWS rows at a time
                    int k0 = c * PACK_ROWS;
                    packB(tb, B, bOff, ldb, pc0 + k0, Math.min(PACK_ROWS, kc - k0), jc0, nc, bp, k0 * NR, kc);
                }, blocks.length - 1, (b0, b1) ->                                                     // then blocks of rows
                        rowsOnPanel(g, ta, blocks[b0] * PR, Math.min(M, blocks[b1] * PR), N, K, jc0, nc, pc0, kc,
                                alpha, A, aOff, lda, bp, C, cOff, ldc, first, bias, biasOff, false, touch));
            }
        }
    }

    /**
     * {@link #sharedPanel}'s blocks of rows, in slivers: block i is slivers [b[i], b[i + 1]). Each is a share of what is
     * left, shrinking towards the end (guided scheduling): up to cap slivers (MC rows) while much is left, then a
     * (2 threads)-th of the rest, but not under a quarter of cap. The threads take the blocks in turn, so the last ones
     * decide how unevenly they finish: in blocks of one size (2 threads, 1024 rows, 12 blocks of 14-15 slivers, AVX2 stand-in
     * on the Zen 4 VM) one thread ended its last block 0.5-1.1 ms after the other, 4-8% of a 13 ms call, as the host
     * slowed one vCPU or the other.
     */
    static int[] rowBlocks(int slivers, int cap, int threads) {
        int[] b = new int[slivers + 1];
        int n = 0;
        for (int at = 0; at < slivers; n++) {
            int left = slivers - at;
            at += Math.min(left, Math.min(cap, Math.max(Math.max(1, cap / 4), (left + 2 * threads - 1) / (2 * threads))));
            b[n + 1] = at;
        }
        return java.util.Arrays.copyOf(b, n + 1);
    }

    /**
     * The columns (of a thread's part of C) up to which a transposed A with alpha 1 is read in place ({@link #blocked}):
     * 6 slivers of B. Packing it costs a pass over A and saves something on every sliver that reads the packed copy,
     * so the count of slivers decides. Toggled call by call in one JVM (2-core Zen 3 VM, AVX2, NR 16, 2 threads, medians
     * of 31-41 pairs, in place / packed, with the vector packTransposedA), by slivers: TN 192 x 16 x 6272 (1 sliver: the patch
     * embedding's weight gradient) 1.41, 768 x 32 x 1664 (2) 1.31, 192 x 32 x 6272 1.20, 192 x 48 x 6272 (3) 1.15, 192 x
     * 64 x 6272 (4) 1.12, 768 x 96 x 1664 (6) 1.03; 8 slivers: 384 x 128 x 6400 1.03-1.10, 512 x 128 x 6400 0.95, 128 x
     * 128 x 6400 0.90-0.92, 16 x 128 x 6400 0.80; 12: 768 x 192 x 1664 0.95-0.96, 576 x 192 x 1664 0.94-0.97, 192 x 192 x
     * 1664 1.00, 128 x 192 x 1664 0.82; 16 (a thread's half of 128 x 512 x 6400, 2048 x 256 x 1576) 0.90, 0.84. On the
     * Zen 4 VM (AVX-512, NR 32) reading in place had won at 4 and 6 slivers ({@link #blocked}'s comment); 7 and 8 were not measured
     * there, and now pack.
     */
    static final int IN_PLACE_COLUMNS = 6 * NR;

    /**
     * Rows of a k block that {@link #sharedPanel}'s threads take in turn to pack: 16 chunks of a KC 1024 block, each
     * some tens of microseconds' work, so that no thread waits long for another's last chunk (not tuned: 64 was the first tried).
     */
    static final int PACK_ROWS = 64;

    /** Whether a row-major A with few columns is read in place (above): where micro4x4 runs; tests set it on AVX2 too. */
    static boolean rowsInPlace = PR > MR;

    /** Whether {@link #sharedPanel} runs where it applies; tests turn it off to compare its bits with the columns split's. */
    static boolean sharePanel = true;

    /** The calling thread's shared B panel for {@link #sharedPanel}, grown to at least n floats. */
    private static float[] panel(int n) {
        float[] p = PANEL.get();
        if (p.length < n) PANEL.set(p = new float[n]);
        return p;
    }

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Rows [m0, m1) of C; overwrite: the first k block stores (bias or 0) + sums instead of adding to C; few: the few-rows
     * order where A is packed ({@link #fewRowsOrder}, decided by the caller on the whole product's columns).
     */
    private static void blocked(GemmBlocking g, boolean ta, boolean tb, int m0, int m1, int N, int K, float alpha,
                                float[] A, int aOff, int lda, float[] B, int bOff, int ldb, float[] C, int cOff, int ldc,
                                boolean overwrite, float[] bias, int biasOff, boolean few) {
        final int MC = g.mc(), NC = g.nc();
        // With few columns (a transposed A up to IN_PLACE_COLUMNS, a row-major one up to 256) A with alpha 1 is read
        // in place: packing it would cost about as much as the
        // multiply, each packed value being used only N / NR times (e.g. the 16 outputs of a 4 x 4 x 1 patch). Row-major
        // A is read as 6 row streams, or with AVX-512 as 4 row streams against two B slivers at once (micro4x4); a
        // transposed A (a weight gradient dY^T X, K the rows of the batch) as one stream of 6 neighbouring values per k, lda apart (the fmnist decoder's weight gradients, TN 384 x 128 x 6400 and
        // 512 x 128 x 6400: 276-299 -> 353-354 and 239-291 -> 326-332 GFLOP/s, quiet alternating launches, bench/results/
        // 2026-12-01-vm-amd-epyc-gemm-weight-gradients.md), or of 12 by micro12 where it runs (Zen 4 VM, alternating
        // launches: TN 384 x 128 x 6400 120-136 -> 172, 768 x 192 x 400 146-149 -> 195 GFLOP/s). Wider products pack
        // A, since 6 rows a large power-of-two stride apart fight over the same L1 sets. A partial last sliver is packed.
        // Packing row-major A for micro12 at these widths was no faster on the Zen 4 VM (fmnist's NT and NN shapes,
        // alternating launches, within the launches' spread of +-20%). A row-major A is read in place only where
        // micro4x4 runs: with AVX2's 16 registers its 6 row streams take microRows, whose offsets from a parameter
        // cost the front end more than packing does. Toggled call by call in one JVM (2-core Zen 3 VM, AVX2, medians
        // of 41 pairs, packed / in place), 1 thread: NN 1664 x 192 x 192 1.159, 1664 x 192 x 768 1.171, 6400 x 128 x
        // 128 1.162, 6400 x 128 x 512 0.985; NT 1664 x 192 x 192 1.193, 6400 x 128 x 128 1.256, 6400 x 128 x 512 0.944;
        // 2 threads 1.227, 1.252, 1.215, 1.042; 1.091, 1.166, 1.069. A transposed A stays in place up to
        // IN_PLACE_COLUMNS, where the count of B slivers decides (its measurements are above).
        boolean direct = alpha == 1f && (ta ? N <= IN_PLACE_COLUMNS : N <= 256 && rowsInPlace);
        final int KC = direct && ta ? g.kcInPlace() : g.kc();        // a transposed A read in place has a k block of its own (GemmBlocking)
        if (!direct && few) {
            fewRows(g, ta, tb, m0, m1, N, K, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, overwrite, bias, biasOff);
            return;
        }
        float[] bp = packs(MC * KC, KC * NC)[1];
        for (int jc = 0; jc < N; jc += NC) {
            int nc = Math.min(NC, N - jc);
            for (int pc = 0; pc < K; pc += KC) {
                int kc = Math.min(KC, K - pc);
                packB(tb, B, bOff, ldb, pc, kc, jc, nc, bp, 0, kc);
                rowsOnPanel(g, ta, m0, m1, N, K, jc, nc, pc, kc, alpha, A, aOff, lda, bp, C, cOff, ldc, overwrite && pc == 0, bias, biasOff, direct,
                        touches(g, m1 - m0, N, K));
            }
        }
    }

    /**
     * Rows [m0, m1) of C's columns [jc, jc + nc) over the k block [pc, pc + kc), op(B)'s (kc x nc) block packed in bp:
     * for each MC block of rows, op(A)'s block packed (unless read in place: direct) and the tiles. first: the tiles are
     * stored as (bias or 0) + sums. N and K are the whole product's (they decide whether C's blocks are touched first).
     */
    private static void rowsOnPanel(GemmBlocking g, boolean ta, int m0, int m1, int N, int K, int jc, int nc, int pc, int kc, float alpha,
                                    float[] A, int aOff, int lda, float[] bp, float[] C, int cOff, int ldc, boolean first,
                                    float[] bias, int biasOff, boolean direct, boolean touch) {
        final int MC = g.mc();
        float[][] packs = packs(MC * kc, 0);
        float[] ap = packs[0], edge = packs[2];
        boolean twelve = g.rows() > MR;
        for (int ic = m0; ic < m1; ic += MC) {
            int mc = Math.min(MC, m1 - ic);
            if (!direct) packA(ta, A, aOff, lda, ic, mc, pc, kc, alpha, ap);
            if (touch) touch(C, cOff + ic * ldc + jc, ldc, mc, nc, edge);
            for (int jr = 0; jr < nc; ) {
                boolean pair = direct && !ta && PR > MR && jr + 2 * NR <= nc;    // two slivers at once: micro4x4 (AVX-512)
                for (int ir = 0; ir < mc; ) {
                    int left = mc - ir, nr = Math.min(NR, nc - jr), co = cOff + (ic + ir) * ldc + jc + jr, bc = biasOff + jc + jr;
                    if (!direct) {
                        tile(twelve, kc, ap, ir * kc, bp, jr * kc, C, co, ldc, Math.min(PR, left), nr, edge, first, bias, bc);
                        ir += PR;
                    } else if (pair && left >= 4) {
                        micro4x4(kc, A, aOff + (ic + ir) * lda + pc, lda, bp, jr * kc, (jr + NR) * kc, C, co, ldc, first, bias, bc);
                        ir += 4;
                    } else if (pair) {                              // the last rows, fewer than 4: packed, each sliver on its own
                        packA(false, A, aOff, lda, ic + ir, left, pc, kc, 1f, ap);
                        micro(kc, ap, 0, PR, bp, jr * kc, C, co, ldc, left, NR, edge, first, bias, bc);
                        micro(kc, ap, 0, PR, bp, (jr + NR) * kc, C, co + NR, ldc, left, NR, edge, first, bias, bc + NR);
                        ir += 4;
                    } else if (ta && twelve && left >= PR) {     // 12 neighbouring values per k, lda apart: micro12's one stream
                        micro12(kc, A, aOff + pc * lda + ic + ir, lda, bp, jr * kc, C, co, ldc, PR, nr, edge, first, bias, bc);
                        ir += PR;
                    } else {
                        int mr = Math.min(MR, left);
                        if (mr == MR && ta) micro(kc, A, aOff + pc * lda + ic + ir, lda, bp, jr * kc, C, co, ldc, mr, nr, edge, first, bias, bc);
                        else if (mr == MR) microRows(kc, A, aOff + (ic + ir) * lda + pc, lda, 1, bp, jr * kc, C, co, ldc, mr, nr, edge, first, bias, bc);
                        else {
                            packA(ta, A, aOff, lda, ic + ir, mr, pc, kc, 1f, ap);
                            micro(kc, ap, 0, PR, bp, jr * kc, C, co, ldc, mr, nr, edge, first, bias, bc);
                        }
                        ir += MR;
                    }
                }
                jr += pair ? 2 * NR : NR;
            }
        }
    }

    /**
     * B slivers that {@link #fewRows} packs at a time. A plain B (row-major (K, N): the backward's dY W) packed a sliver
     * at a time is read 64 bytes per row, its rows N floats apart: a page per row. The few-rows order with one sliver
     * against the shared panel (toggled call by call in one JVM, Zen 3 VM, KC 1024 MC 48, 2 threads, medians of 21-31
     * pairs): NN 400 x 3072 x 768 0.92, 197 x 3072 x 1024 0.86; with 4 slivers 1.01-1.08 and 1.11-1.16 (8: 0.98-1.07,
     * 1.07-1.15; 16: 1.01-1.06, 1.09-1.17). A transposed B (x W^T) streams either way: NT 197 x 3072 x 1024 1.14 with 1 and with 4, 400 x
     * 3072 x 768 1.10 with both.
     */
    static final int FEW_ROWS_CHUNK = 4;

    /**
     * The few-rows order, for when all rows of this thread, packed, about fit in L2 ({@link #fewRowsBytes}), or the product
     * is much wider than tall ({@link #fewRowsWidth}): for each k block,
     * A is packed once (all its rows), and each chunk of B slivers is packed just before its use and used at once by every
     * row sliver, from L1/L2. The usual order packs a whole (KC x NC) block of B first, which goes out to L3 and is read
     * back once per MC block of A: for few rows, packing B is a large part of the work and that round trip is its
     * cost. Paired call by call in one JVM on the Zen 4 VM (2 threads, KC 1024, the same blocking in both orders):
     * ViT-L's fc1, NT 197 x 4096 x 1024, 105-112 -> 137-144 GFLOP/s; qkv 197 x 3072 x 1024 119 -> 145; forced where A is 1.2 MiB
     * (400 x 2304 x 768) 168 -> 180; with A larger still no gain (400 x 768 x 3072: 150 / 147, 1664 x 768 x 192: 164 / 161).
     * Each element gets the same sums in the same order as in the usual order (the same k blocks): the same bits, so
     * a row's values do not depend on how many rows share the call (one image or a batch). That is why the k block
     * stays the blocking's KC here, although a longer one was faster where the autotune chose 512 (JDK 25, paired,
     * NT 197 x 4096 x 1024 at KC 1024 / 512: 140 / 132 GFLOP/s; JDK 17 chose 1024).
     */
    private static void fewRows(GemmBlocking g, boolean ta, boolean tb, int m0, int m1, int N, int K, float alpha,
                                float[] A, int aOff, int lda, float[] B, int bOff, int ldb, float[] C, int cOff, int ldc,
                                boolean overwrite, float[] bias, int biasOff) {
        final int KC = g.kc(), mc = m1 - m0;
        float[][] packs = packs(padded(mc) * KC, KC * NR * FEW_ROWS_CHUNK);
        float[] ap = packs[0], bp = packs[1], edge = packs[2];
        boolean twelve = g.rows() > MR;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = Math.min(KC, K - pc);
            packA(ta, A, aOff, lda, m0, mc, pc, kc, alpha, ap);                          // all rows: (padded(mc) x kc)
            boolean first = overwrite && pc == 0;
            for (int j0 = 0, j1; j0 < N; j0 = j1) {
                j1 = Math.min(N, j0 + FEW_ROWS_CHUNK * NR);
                packB(tb, B, bOff, ldb, pc, kc, j0, j1 - j0, bp, 0, kc);                 // a chunk of slivers
                for (int jr = j0; jr < j1; jr += NR) {
                    int nr = Math.min(NR, N - jr), bc = biasOff + jr, bo = (jr - j0) * kc;
                    for (int ir = 0; ir < mc; ir += PR)
                        tile(twelve, kc, ap, ir * kc, bp, bo, C, cOff + (m0 + ir) * ldc + jr, ldc, Math.min(PR, mc - ir), nr, edge, first, bias, bc);
                }
            }
        }
    }

    /**
     * Reads one value in every cache line of C's (mc x nc) block at co, so that the block's lines are in cache before
     * its tiles store to them. The micro-kernel's 2 x 12 vector stores at the end of a tile stall when their lines are
     * not in cache: 12 x 32 tiles of kc 128 on one thread (Zen 4 VM, JDK 17, the kernel called alone, alternating in
     * one JVM) ran at 111 GFLOP/s into one tile (L1), 103 over a 147 KiB C (L2), 87-98 over a 9.7 MiB C (memory),
     * and reading each (96 x 384) block's lines first, a dense pass the hardware prefetchers stream, gave 1.08x the
     * latter. A store costs the same wherever K is, so it is the short products that lose: fmnist's decoder at
     * kc 128. What was read goes to sink[0] (a scratch value), so that the reads are not dropped; C's bits are
     * untouched, NaN included (as integers: no floating-point work on whatever C held).
     */
    private static void touch(float[] C, int co, int ldc, int mc, int nc, float[] sink) {
        int h = 0;
        for (int r = 0; r < mc; r++) {
            int c = co + r * ldc, last = c + nc - 1;
            for (; c < last; c += LINE_FLOATS) h ^= Float.floatToRawIntBits(C[c]);
            h ^= Float.floatToRawIntBits(C[last]);
        }
        sink[0] = h;
    }

    /**
     * When {@link #blocked} touches C's blocks first ({@link #touch}): K at most TOUCH_MAX_K, this thread's part of C
     * larger than touchAboveBytes (its L2: C not in cache when the call starts, as for a layer's fresh output), and
     * one block (MC x NC of C) at most touchBlockBytes (a quarter of its L2, so that the block stays there beside
     * A's). Paired call by call in one JVM against the build without it (`bench gemm --against`, 2 threads, Zen 4 VM,
     * per-call ratio medians of 41): fmnist's NT 6400 x 384 x 128 1.083, 6400 x 512 x 128 1.069 and 1.131, 6400 x 128
     * x 128 1.078, 6400 x 128 x 512 1.016, NN 6400 x 128 x 384 1.048, 6400 x 512 x 128 1.093; its encoder's 1664-row
     * products 0.987-1.020. Without the two bounds, ViT-B's 1576 x 3072 x 768 NT read 0.937 (a 576 KiB block of C in
     * a 1 MiB L2: it pushed A's block out) and 1024^3 0.98-1.00 (K 1024: its stores are a small share of the work).
     */
    static final int TOUCH_MAX_K = 512;

    /** Whether a thread's part of `rows` rows of C touches its blocks first (above). */
    private static boolean touches(GemmBlocking g, int rows, int N, int K) {
        return K <= TOUCH_MAX_K && 4L * rows * N > touchAboveBytes && 4L * Math.min(g.mc(), rows) * Math.min(g.nc(), N) <= touchBlockBytes;
    }
    /** The floats of a 64-byte cache line (every x86-64 core's): {@link #touch} reads one per line, and the row's last. */
    static final int LINE_FLOATS = 16;
    static long touchAboveBytes = CacheSizes.machine().l2(), touchBlockBytes = CacheSizes.machine().l2() / 4;

    /** Rows rounded up to whole packed slivers. */
    static int padded(int rows) { return (rows + PR - 1) / PR * PR; }

    /**
     * The bytes of packed A up to which {@link #blocked} takes the few-rows order: 1.25 times this core's L2 (measured
     * above: a gain up to 1.2 MiB of A on a 1 MiB L2, none from 1.3 MiB). The ViT-B encoder's products on its 400
     * visible tokens (batch 8) pack 1.2 MiB of A per thread (408 x 768 floats): at the L2 itself they stayed in the
     * usual order; at 1.25 L2, paired call by call against that (`bench gemm --against`, 41 pairs, Zen 4 VM, 2
     * threads, the same build against itself reading 0.965-0.970): NT 400 x 2304 x 768 (qkv) 1.058 and 1.047, 400 x
     * 3072 x 768 (fc1) 1.053 and 1.110, 400 x 768 x 768 0.99-1.01 (NT, NN), TN 768 x 768 x 400 1.037. Tests set it to
     * 0 or Long.MAX_VALUE to reach either order on any machine.
     */
    static long fewRowsBytes = CacheSizes.machine().l2() * 5 / 4;

    /**
     * How many times wider than tall (N / rows) a product with a row-major A takes the few-rows order whatever A's
     * bytes. Its cost against the usual order's shared panel: each thread packs all of A (A's packing per multiply-add
     * grows as 1 / N) and A streams from L3 once per chunk of B; the shared panel writes the whole (KC x NC) block of B
     * out to L3 and reads it back once per block of rows (B's round trip per multiply-add grows as 1 / M). So the shape's
     * ratio decides, not A's bytes. {@link #fewRows} packs B {@link #FEW_ROWS_CHUNK} slivers at a time. On the 2-core Zen 3
     * VM (L2 512 KiB; KC 1024 MC 48, 2 threads; A packed 0.8-1.6 MiB, above fewRowsBytes' 640 KiB), the few-rows order
     * against the shared panel, toggled call by call in one JVM (medians of 21-41 pairs, in a host's noisy phases):
     * N >= 4 rows: ViT-L on one image (197 rows) NT qkv 1.14-1.20, fc1 1.18, proj 1.12, fc2 1.09, NN 197 x 3072 x 1024
     * 1.11-1.16; ViT-B's encoder at batch 8 (400 rows) NT qkv 1.08-1.17, fc1 1.06-1.10, NN 400 x 2304 x 768 1.04-1.28, 400 x
     * 3072 x 768 1.01-1.08; below: NN 400 x 768 x 3072 0.88-0.94, 400 x 768 x 2304 0.95-1.17, 1024^3 0.90-0.98, NT 1024 x 1024 x
     * 768 0.97, 1664 x 768 x 192 0.96, 6400 x 512 x 128 0.88. This build against the one before it (two builds alternating
     * at one blocking, 31-41 pairs): NT 197 x 3072 x 1024 1.20, x 4096 x 1024 1.15, x 1024 x 1024 1.04-1.05, x 1024 x 4096 1.11-1.16;
     * 400 x 2304 x 768 1.04-1.05, 400 x 3072 x 768 1.05-1.06; NN 400 x 2304 x 768 0.99-1.03, 400 x 3072 x 768 0.97-1.03; the
     * unchanged paths 0.97-1.03. A transposed A (a weight gradient, TN) stays in the usual order: packing it costs more,
     * and the few-rows order read 0.86-0.96 (TN 768 x 3072 x 400, 768 x 2304 x 400). Tests set it to 0 or
     * Integer.MAX_VALUE with fewRowsBytes.
     */
    static int fewRowsWidth = 4;

    /**
     * Whether rows of op(A) take the few-rows order ({@link #fewRows}): packed for one k block they fit in {@link
     * #fewRowsBytes}, or A is row-major and the N columns are at least {@link #fewRowsWidth} times the rows; and not
     * where the usual order touches C's blocks first ({@link #touches}). The few-rows order runs down all the rows for
     * each sliver of B, so a block of C to touch would be all the rows' (fmnist's 832 rows a thread x 128 columns of a
     * chunk: 426 KiB beside A's 645 KiB in a 1 MiB L2), and it stores to C's lines cold. Where the touch applies (K
     * at most 512, a large C), the usual order with it was the faster, toggled call by call in one JVM (Zen 4 VM, KC
     * 1024 MC 48, 2 threads, medians of 101 pairs, few-rows / usual time): fmnist's encoder NN 1664 x 576 x 192
     * 1.033 and 1.063, NT 1.047 and 1.053; the usual order without the touch against with it 1.053, 1.035 (NN, NT),
     * 1664 x 768 x 192 1.032, 1.041: the touch is the difference. This build against the one before it (`bench gemm
     * --against`, one blocking, 61 pairs, three launches; this / that speed): NN 1664 x 576 x 192 1.094, 1.074, 1.075,
     * NT 1.015, 1.040, 1.067; 1664 x 768 x 192 NN 1.046, 1.030, 1.044, NT 1.028, 1.061, 1.091; NN 1024 x 1024 x 256
     * (now the shared panel, which touches, where the columns split took the few-rows order) 1.063, 1.049, 1.053; the
     * unchanged NN 1664 x 192 x 768 1.020, 1.026, 1.013.
     */
    static boolean fewRowsOrder(GemmBlocking g, boolean ta, int rows, int N, int K) {
        return (4L * padded(rows) * Math.min(K, g.kc()) <= fewRowsBytes || !ta && N >= (long) fewRowsWidth * rows) && !touches(g, rows, N, K);
    }

    /**
     * One packed sliver of A (mr <= PR rows, from ap[ao]) times one packed sliver of B into C's tile: the 12-row kernel
     * where the blocking runs it and more than 6 rows are left, else the 6-row one on each half of the sliver. A last
     * sliver of at most 6 rows runs the 6-row kernel on the first half of its 12-row layout: half the padded work
     * (ViT-L's 197 tokens: 16 full slivers and 5 rows). ViT-L fc1, NT 197 x 3072 x 1024, the two builds alternating
     * in one JVM on the Zen 4 VM: per-call ratio median 1.014 and 1.068 (the same build against itself: 1.020 and 1.053).
     */
    private static void tile(boolean twelve, int kc, float[] ap, int ao, float[] bp, int bo, float[] C, int co, int ldc, int mr, int nr,
                             float[] t, boolean first, float[] bias, int bc) {
        if (mr > MR && twelve) { micro12(kc, ap, ao, PR, bp, bo, C, co, ldc, mr, nr, t, first, bias, bc); return; }
        micro(kc, ap, ao, PR, bp, bo, C, co, ldc, Math.min(MR, mr), nr, t, first, bias, bc);
        if (mr > MR) micro(kc, ap, ao + MR, PR, bp, bo, C, co + MR * ldc, ldc, mr - MR, nr, t, first, bias, bc);
    }

    /**
     * op(A)[ic.., pc..] packed k-major in PR-row slivers (sliver s: for each k, its PR values at ap[s * PR * kc + k * PR]),
     * alpha folded in, zero rows padding the last sliver: the micro-kernel reads one stream of PR values per k. A stored
     * transposed is packed the same way by {@link #packTransposedA}, which reads it along its rows.
     *
     * <p>A row-major A is copied PACK_K columns at a time, each of the sliver's rows in turn: the values one row writes
     * lie PR floats apart, so a whole row at once (kc 1024) wrote over all of a 48 KiB sliver, more than an L1d of 32
     * KiB, and each of the 12 rows brought its lines back from L2; a 128-column chunk writes 6 KiB, which stays in L1
     * for all 12 rows. Toggled call by call in one JVM against the whole-row loop (Zen 4 VM, blocking KC 1024 MC 96,
     * medians of 41-61 rounds): 1024^3 NN on 2 threads 1.031 and 1.015, 1024 x 512 x 1024 on one thread 1.025 (64
     * columns: 1.018, 1.016, 1.027); `bin/mae bench gemm --against` the build before (61 pairs, 2 threads, its own
     * blocking): 1024^3 1.012 and 1.005, NN 1576 x 768 x 3072 1.011, NT 1576 x 3072 x 768 1.002, 1664 x 768 x 192 1.000,
     * 6400 x 512 x 128 1.005. A small gain against a large bound: skipping A's packing altogether (wrong sums) gave
     * 1.056 (1024^3, 2 threads) and 1.095 (1024 x 512 x 1024, one thread).
     */
    private static void packA(boolean ta, float[] A, int aOff, int lda, int ic, int mc, int pc, int kc, float alpha, float[] ap) {
        if (ta) { packTransposedA(A, aOff, lda, ic, mc, pc, kc, alpha, ap); return; }
        for (int s0 = 0; s0 < mc; s0 += PR) {
            int rows = Math.min(PR, mc - s0), base = s0 * kc;
            if (alpha == 1f && rows == PR) { packPairs(A, aOff + (ic + s0) * lda + pc, lda, kc, ap, base); continue; }
            for (int k0 = 0; k0 < kc; k0 += PACK_K) {
                int k1 = Math.min(kc, k0 + PACK_K);
                for (int r = 0; r < rows; r++)
                    for (int k = k0, src = aOff + (ic + s0 + r) * lda + pc, dst = base + k0 * PR + r; k < k1; k++, dst += PR) ap[dst] = alpha * A[src + k];
            }
            for (int r = rows; r < PR; r++)
                for (int k = 0, dst = base + r; k < kc; k++, dst += PR) ap[dst] = 0f;
        }
    }

    /**
     * One full sliver of {@link #packA} with alpha 1: the PR rows (kc values each, lda apart from src) into
     * ap[base + k PR + r], two rows and two k at a time ({@link RawReads#putPairs}), half the loads and stores of
     * copying value by value, in PACK_K-column chunks as packA. Store-bound before: 0.46 ns per value, about one
     * store per cycle; now 0.25 (a 96 x 512 block of a (., 512) A, as 6400 x 128 x 512 NN packs it, in L2, one thread,
     * Zen 3 VM, JDK 17, medians of 9 rounds of 2000; the same bits). An odd kc's last column is copied value by value.
     */
    private static void packPairs(float[] A, int src, int lda, int kc, float[] ap, int base) {
        RawReads.check("A block", A, src, PR, lda, kc, 1);                       // the unchecked reads below stay in it
        RawReads.check("packed A", ap, base, 1, 0, kc * PR, 1);                  // and the writes
        int even = kc & ~1;
        for (int k0 = 0; k0 < even; k0 += PACK_K) {
            int k1 = Math.min(even, k0 + PACK_K);
            for (int r = 0; r < PR; r += 2) {
                long x0 = RawReads.at(src + r * lda), x1 = x0 + 4L * lda, d = RawReads.at(base + k0 * PR + r);
                for (int k = k0; k < k1; k += 2, d += 8L * PR) {
                    RawReads.putPairs(ap, d, PR, RawReads.getLong(A, x0 + 4L * k), RawReads.getLong(A, x1 + 4L * k));
                }
            }
        }
        if (even < kc)
            for (int r = 0; r < PR; r++) ap[base + even * PR + r] = A[src + r * lda + even];
    }

    /** Columns of a row-major A that {@link #packA} copies per row in turn (see there). */
    static final int PACK_K = 128;

    /**
     * packA for A stored (K, M): row r of op(A) is column ic + r of the storage. Packed k-major per PR-row sliver
     * (sliver s: for each k, its PR values at ap[s * PR * kc + k * PR]), so each k reads PR neighbouring values of one
     * row of A and writes them in one run; zero rows pad the last sliver. A whole sliver moves a vector per k: L >= PR
     * values read and stored, the L - PR past the sliver's PR landing where the next k's (or the next sliver's) values
     * go next, so they are overwritten in order; the last k's spill needs L - PR floats past the block ({@link #packs}
     * leaves them). The scalar loop this replaces (kept for partial slivers and a sliver whose last read would run past
     * A) cost 0.79-0.85 ns per value, the vector one 0.21-0.24 (Zen 4 VM, one thread, a 400 x 768 block of a (768, 400)
     * A, as the ViT-B encoder's weight gradients pack dY^T; JDK 17, medians of 31).
     */
    private static void packTransposedA(float[] A, int aOff, int lda, int ic, int mc, int pc, int kc, float alpha, float[] ap) {
        for (int s0 = 0; s0 < mc; s0 += PR) {
            int rows = Math.min(PR, mc - s0), base = s0 * kc, src = aOff + pc * lda + ic + s0;
            if (rows == PR && L >= PR && src + (kc - 1L) * lda + L <= A.length && base + kc * PR + L - PR <= ap.length) {
                for (int k = 0, dst = base; k < kc; k++, src += lda, dst += PR) FloatVector.fromArray(S, A, src).mul(alpha).intoArray(ap, dst);
                continue;
            }
            for (int k = 0; k < kc; k++, src += lda) {
                int dst = base + k * PR;
                for (int r = 0; r < rows; r++) ap[dst + r] = alpha * A[src + r];
                for (int r = rows; r < PR; r++) ap[dst + r] = 0f;
            }
        }
    }

    /**
     * op(B)[pc.., jc..] (kc x nc) into NR-column slivers from bp[bpOff]: sliver s holds, for each k, NR values at bp[bpOff
     * + s NR stride + k NR] (zero padded); stride is kc for a whole panel, more where the rows are a part of a longer one
     * ({@link #sharedPanel}'s chunks). A transposed B
     * (stored (N, K): a linear layer's weight) is read along its rows, each stored row filling one column of the
     * sliver: reading it down its columns instead took one cache line, and often a TLB entry, per value, which
     * made packing cost more than the multiply when few rows of A share the packed block (a ViT-L encoder on the
     * 50 visible tokens of one image: 2-3x slower). Several stored rows at a time, so that each k writes neighbouring
     * values instead of 1 per cache line of the sliver: four rows 0.74-0.81 -> 0.42-0.43 ns per value on JDK 17, 1.01 ->
     * 0.84 on JDK 25 (Zen 4 VM, one thread, a 512 x 1152 block of a 1152 x 768 weight, as the ViT-B encoder's qkv packs);
     * eight rows 0.511 -> 0.425 and 0.663 -> 0.499 (a 1152 x 768 block, one thread, alternating), and in the GEMM, toggled
     * call by call (2 threads, medians of 41-61): NT 400 x 2304 x 768 1.058, 1.011, 1.024, 1.032, NT 1576 x 2048 x 512
     * 1.033, 1.010, 1.029, 1.017, NT 197 x 3072 x 1024 1.011, 1664 x 768 x 192 1.008; sixteen rows were no better (1.016
     * and 1.010-1.022 at the first two). `bench gemm --against` the four-row build (61 pairs): 1.018, 1.012, 1.035 at the
     * first three, NT 1664 x 576 x 192 0.998.
     */
    private static void packB(boolean tb, float[] B, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp, int bpOff, int stride) {
        if (!tb) { packRowsB(B, bOff, ldb, pc, kc, jc, nc, bp, bpOff, stride); return; }
        for (int jr = 0; jr < nc; jr += NR) {
            int base = bpOff + jr * stride, cols = Math.min(NR, nc - jr), c = 0;
            for (; c + 8 <= cols; c += 8)          // 8 stored rows at a time: each k writes 8 neighbours of the sliver's row
                eightRowsB(B, bOff + (jc + jr + c) * ldb + pc, ldb, kc, bp, base + c);
            for (; c < cols; c++)
                for (int k = 0, src = bOff + (jc + jr + c) * ldb + pc, dst = base + c; k < kc; k++, dst += NR) bp[dst] = B[src + k];
            if (cols < NR) for (int k = 0; k < kc; k++) java.util.Arrays.fill(bp, base + k * NR + cols, base + (k + 1) * NR, 0f);
        }
    }

    /**
     * 8 stored rows of a transposed B (kc values each, ldb apart from src) into 8 neighbouring columns of a sliver,
     * bp[dst + k NR + r]: two rows and two k at a time ({@link RawReads#putPairs}), as {@link #packPairs} moves A. An odd kc's
     * last k is copied value by value. Against the value-by-value loop, one blocking for both (KC 1024 MC 96), call by
     * call in one JVM (41 pairs, 2 threads, Zen 3 VM, the same bits): NT 197 x 3072 x 1024 (ViT-L's fc1 on one image)
     * 1.057, 400 x 2304 x 768 1.017, 1664 x 768 x 192 1.021, 1576 x 2048 x 512 1.011.
     */
    private static void eightRowsB(float[] B, int src, int ldb, int kc, float[] bp, int dst) {
        RawReads.check("B block", B, src, 8, ldb, kc, 1);                        // the unchecked reads below stay in it
        RawReads.check("packed B", bp, dst, 8, 1, kc, NR);                        // and the writes
        int even = kc & ~1;
        long r0 = RawReads.at(src), l = 4L * ldb, d = RawReads.at(dst);
        for (int k = 0; k < even; k += 2, d += 8L * NR) {
            long o = r0 + 4L * k;
            for (int r = 0; r < 8; r += 2) {
                RawReads.putPairs(bp, d + 4L * r, NR, RawReads.getLong(B, o + r * l), RawReads.getLong(B, o + (r + 1) * l));
            }
        }
        if (even < kc)
            for (int r = 0; r < 8; r++) bp[dst + even * NR + r] = B[src + r * ldb + even];
    }

    /**
     * packB for B stored (K, N): 8 of its rows at a time, each read once, left to right, a sliver's NR values at a time
     * into that sliver's rows k (sliver s at bp[bpOff + s NR stride]; the last one zero padded). Sliver by sliver instead
     * (NR values of each of the kc rows, then the next NR), the rows were read kc times 128 bytes apart: a weight
     * gradient's B is the layer's input, saved in the forward and out of cache by the backward. Toggled call by call in
     * one JVM on cold operands (8 copies of each, Zen 4 VM, 2 threads, medians of 61 pairs): TN 128 x 512 x 6400 1.035,
     * 512 x 128 x 6400 1.006, 768 x 192 x 1664 1.043 (fmnist's weight gradients). One row at a time, each k wrote one
     * line in each of the slivers, NR kc floats apart: with KC 1024 and AVX2 64 KiB apart, the same L1 set for all.
     * 8 rows write 8 neighbouring lines of a sliver in turn. Packing half of a 1024 x 1024 B (one thread, AVX2, medians
     * of 40): 148 -> 74 us with B in cache, 395 -> 322 us with the caches flushed before each.
     */
    private static void packRowsB(float[] B, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp, int bpOff, int stride) {
        int whole = nc - nc % NR;
        for (int k0 = 0; k0 < kc; k0 += 8) {
            int k1 = Math.min(kc, k0 + 8);
            for (int jr = 0; jr < whole; jr += NR)
                for (int k = k0, src = bOff + (pc + k0) * ldb + jc + jr, dst = bpOff + jr * stride + k0 * NR; k < k1; k++, src += ldb, dst += NR) {
                    FloatVector.fromArray(S, B, src).intoArray(bp, dst);
                    FloatVector.fromArray(S, B, src + L).intoArray(bp, dst + L);
                }
            if (whole < nc)
                for (int k = k0, src = bOff + (pc + k0) * ldb + jc + whole, dst = bpOff + whole * stride + k0 * NR; k < k1; k++, src += ldb, dst += NR) {
                    System.arraycopy(B, src, bp, dst, nc - whole);
                    java.util.Arrays.fill(bp, dst + nc - whole, dst + NR, 0f);
                }
        }
    }

    // ---------------------------------------------------------------- A's reads in micro and microRows
    /** Fences where AVX2's 16 vector registers are too few for C2 to load a k step's 6 A values before their FMAs. */
    private static final boolean FENCES = L < 16;

    /**
     * Whether {@link #micro} runs two k steps per turn of its loop (JDK 17's C2, and wherever 32 vector registers need
     * no fences) or one (AVX2 on later JDKs), or as -Dmae.gemm.steps=1 or 2 says: see micro.
     */
    static final boolean TWO_STEPS = Integer.getInteger("mae.gemm.steps", !FENCES || Runtime.version().feature() <= 17 ? 2 : 1) == 2;

    /**
     * Where FENCES: a load-load fence, which x86 compiles to no instruction but C2 schedules no load across, so that each
     * row's broadcast stays after the previous row's load (it orders loads only: the FMAs may still come later, which is
     * why JDK 25 spilled with two steps per turn; see {@link #micro}).
     */
    private static void fence() {
        if (FENCES) java.lang.invoke.VarHandle.loadLoadFence();
    }

    /** micro12's fence between rows: always (micro12 runs only where there are 32 vector registers; see its comment). */
    private static void rowFence() {
        java.lang.invoke.VarHandle.loadLoadFence();
    }

    /** A's value at byte offset p of a (RawReads), broadcast to a vector. */
    private static FloatVector a(float[] a, long p) {
        return FloatVector.broadcast(S, RawReads.get(a, p));
    }

    /**
     * C[MR x NR tile] += A sliver . B sliver over kc: A's 6 values of step k at a[ao + k aks ..+ 6] (a packed sliver:
     * aks = PR; 6 neighbouring columns of a transposed A read in place: aks = lda); B sliver packed (kc x NR). Only
     * the (mr x nr) valid part of the tile is written. first: the tile is stored as (bias[bc + column] or 0) + sums,
     * C not read.
     *
     * <p>The loop: A read through Unsafe ({@link #a}) after one bounds check per call (RawReads), B's index the loop
     * variable, and where there are only 16 vector registers (AVX2) a load-load fence after every row ({@link #fence}).
     * Why, read with hsdis and timed on a 2-core AMD EPYC (Zen 3, AVX2) VM: with array reads C2 compiled a k step to 37
     * instructions per 12 FMAs, two bounds checks on A and their index arithmetic among them, where gcc compiles the
     * same kernel to 23; this host's front end bounds that (the C loop padded to 37 instructions ran at 41-48 GFLOP/s
     * against 69-81 unpadded; README, the Zen 3 section). Through Unsafe alone C2 loads all 6 of a step's A values
     * before their FMAs, and AVX2 has no registers for them: accumulators spill to the stack (31-34 GFLOP/s). A fence
     * keeps each broadcast after the loads before it: no instruction, and no spill. Before the fences, a compare that
     * never matched after every second row split the step into blocks (59 instructions per 24 FMAs, against 47 with
     * the fences); JDK 25's C2 moved all five compares to the top of the loop and spilled 7 accumulators, so that the
     * engine ran at a third of its JDK 17 speed there. `bench gemm --against` the compares' build (41 pairs, 2 threads,
     * Zen 3 VM): JDK 17 1024^3 1.056, NT 1664 x 768 x 192 1.056, TN 768 x 192 x 1664 1.035, NN 6400 x 128 x 512 1.005,
     * 400 x 2304 x 768 1.021; JDK 25 3.608, 3.350, 1.636, 2.398, 3.382.
     * Two k steps per turn on JDK 17, one on later JDKs ({@link #TWO_STEPS}): with two, JDK 25's C2 still scheduled the
     * second step's loads ahead of the first step's FMAs and spilled 3 accumulators; one step per turn has none, but on
     * JDK 17 it costs a loop test per 12 FMAs. One step against two (`bench gemm --against`, 41 pairs, 2 threads): JDK 17
     * 1024^3 0.963 and 0.947, NT 1664 x 768 x 192 0.976, 0.975, TN 768 x 192 x 1664 0.965, 0.914, NN 6400 x 128 x 512
     * 0.915, 0.997; JDK 25 1024^3 1.553 (one thread), 1.464 (two). JDK 18-24 were not measured; they get one step, the
     * loop that ran well on both. With AVX-512 (no fences: 32 registers hold the 6 values) two steps on every JDK, as
     * before: on the Zen 4 VM, 1024^3 paired call by call with the peak loop (`bench gemm --of-peak`, alternating
     * launches) read 0.868 and 0.857 of peak on JDK 25 against 0.865 and 0.858 on JDK 17; one step there not measured.
     * Each row of a step is spelled out in both loops, not a helper: a helper cannot return two updated accumulators without
     * boxing them.
     * Not four steps per turn: four (compares after every second row, 11 per turn) ran at 9 GFLOP/s against
     * two's 92-98 in a scratch harness (Zen 3 VM, kc 256): C2 then hoisted the turn's broadcasts ahead of their
     * FMAs and kept accumulators and broadcasts on the stack inside the loop.
     */
    private static void micro(int kc, float[] a, int ao, int aks, float[] bp, int bo, float[] C, int co, int ldc, int mr, int nr, float[] t,
                              boolean first, float[] bias, int bc) {
        RawReads.check("A sliver", a, ao, MR, 1, kc, aks);
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, x;
        long pa = RawReads.at(ao), step = 4L * aks;
        int b = bo;
        if (TWO_STEPS)
            for (int bEnd = bo + (kc & ~1) * NR; b < bEnd; b += 2 * NR, pa += 2 * step) {       // two k steps per turn
                FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L);
                x = a(a, pa);      c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); fence();
                x = a(a, pa + 4);  c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); fence();
                x = a(a, pa + 8);  c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); fence();
                x = a(a, pa + 12); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); fence();
                x = a(a, pa + 16); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); fence();
                x = a(a, pa + 20); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); fence();
                long q = pa + step;
                b0 = FloatVector.fromArray(S, bp, b + NR); b1 = FloatVector.fromArray(S, bp, b + NR + L);
                x = a(a, q);       c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); fence();
                x = a(a, q + 4);   c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); fence();
                x = a(a, q + 8);   c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); fence();
                x = a(a, q + 12);  c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); fence();
                x = a(a, q + 16);  c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); fence();
                x = a(a, q + 20);  c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); fence();
            }
        for (int bEnd = bo + kc * NR; b < bEnd; b += NR, pa += step) {     // one k step per turn: all of them, or an odd kc's last
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L);
            x = a(a, pa);      c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); fence();
            x = a(a, pa + 4);  c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); fence();
            x = a(a, pa + 8);  c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); fence();
            x = a(a, pa + 12); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); fence();
            x = a(a, pa + 16); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); fence();
            x = a(a, pa + 20); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); fence();
        }
        // The tile is added to a base: C itself, or in a first k block the bias (or zeros), read with row stride 0,
        // so that one store path serves both (C = base + sums: the bits of adding to a C that held the bias or 0).
        float[] base = !first ? C : bias != null ? bias : ZEROS;
        int bo0 = !first ? co : bias != null ? bc : 0, bs = !first ? ldc : 0;
        if (mr == MR && nr == NR) {
            c00.add(FloatVector.fromArray(S, base, bo0)).intoArray(C, co); c01.add(FloatVector.fromArray(S, base, bo0 + L)).intoArray(C, co + L);
            c10.add(FloatVector.fromArray(S, base, bo0 + bs)).intoArray(C, co + ldc); c11.add(FloatVector.fromArray(S, base, bo0 + bs + L)).intoArray(C, co + ldc + L);
            c20.add(FloatVector.fromArray(S, base, bo0 + 2 * bs)).intoArray(C, co + 2 * ldc); c21.add(FloatVector.fromArray(S, base, bo0 + 2 * bs + L)).intoArray(C, co + 2 * ldc + L);
            c30.add(FloatVector.fromArray(S, base, bo0 + 3 * bs)).intoArray(C, co + 3 * ldc); c31.add(FloatVector.fromArray(S, base, bo0 + 3 * bs + L)).intoArray(C, co + 3 * ldc + L);
            c40.add(FloatVector.fromArray(S, base, bo0 + 4 * bs)).intoArray(C, co + 4 * ldc); c41.add(FloatVector.fromArray(S, base, bo0 + 4 * bs + L)).intoArray(C, co + 4 * ldc + L);
            c50.add(FloatVector.fromArray(S, base, bo0 + 5 * bs)).intoArray(C, co + 5 * ldc); c51.add(FloatVector.fromArray(S, base, bo0 + 5 * bs + L)).intoArray(C, co + 5 * ldc + L);
            return;
        }
        // Spelled out: an array of the accumulators would box them all and slow the whole kernel down.
        c00.intoArray(t, 0); c01.intoArray(t, L); c10.intoArray(t, 2 * L); c11.intoArray(t, 3 * L);
        c20.intoArray(t, 4 * L); c21.intoArray(t, 5 * L); c30.intoArray(t, 6 * L); c31.intoArray(t, 7 * L);
        c40.intoArray(t, 8 * L); c41.intoArray(t, 9 * L); c50.intoArray(t, 10 * L); c51.intoArray(t, 11 * L);
        storeEdge(t, mr, nr, base, bo0, bs, C, co, ldc);
    }

    /**
     * {@link #micro} on 6 rows of A read in place, lda apart: A element (r, k) at a[ao + r lda + k aks], its loop as
     * micro's. Its one caller passes aks = 1; it stays a parameter because the loop indexed by ao + k alone read 0.60x
     * (`bench gemm --against`, Zen 3 VM, NN 1664 x 192 x 768, one thread; not looked into). A method of its own: micro
     * as this method with row stride 1 read 0.78-0.86x against the two (1024^3, NN 1664 x 192 x 768, TN 768 x 192 x 1664,
     * 2 threads, Zen 3 VM), its row offsets then in registers rather than in the broadcasts' addresses.
     */
    private static void microRows(int kc, float[] a, int ao, int lda, int aks, float[] bp, int bo, float[] C, int co, int ldc, int mr, int nr, float[] t,
                              boolean first, float[] bias, int bc) {
        RawReads.check("A sliver", a, ao, MR, lda, kc, aks);
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, x;
        long pa = RawReads.at(ao), step = 4L * aks, r1 = 4L * lda, r2 = 2 * r1, r3 = 3 * r1, r4 = 4 * r1, r5 = 5 * r1;
        int b = bo;
        for (int bEnd = bo + (kc & ~1) * NR; b < bEnd; b += 2 * NR, pa += 2 * step) {       // two k steps per turn
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L);
            x = a(a, pa);      c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); fence();
            x = a(a, pa + r1); c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); fence();
            x = a(a, pa + r2); c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); fence();
            x = a(a, pa + r3); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); fence();
            x = a(a, pa + r4); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); fence();
            x = a(a, pa + r5); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); fence();
            long q = pa + step;
            b0 = FloatVector.fromArray(S, bp, b + NR); b1 = FloatVector.fromArray(S, bp, b + NR + L);
            x = a(a, q);       c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); fence();
            x = a(a, q + r1);  c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); fence();
            x = a(a, q + r2);  c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); fence();
            x = a(a, q + r3);  c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); fence();
            x = a(a, q + r4);  c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); fence();
            x = a(a, q + r5);  c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); fence();
        }
        if ((kc & 1) != 0) {                                                                 // an odd kc's last step
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L);
            x = a(a, pa);      c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = a(a, pa + r1); c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = a(a, pa + r2); c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = a(a, pa + r3); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = a(a, pa + r4); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = a(a, pa + r5); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        // The tile is added to a base: C itself, or in a first k block the bias (or zeros), read with row stride 0,
        // so that one store path serves both (C = base + sums: the bits of adding to a C that held the bias or 0).
        float[] base = !first ? C : bias != null ? bias : ZEROS;
        int bo0 = !first ? co : bias != null ? bc : 0, bs = !first ? ldc : 0;
        if (mr == MR && nr == NR) {
            c00.add(FloatVector.fromArray(S, base, bo0)).intoArray(C, co); c01.add(FloatVector.fromArray(S, base, bo0 + L)).intoArray(C, co + L);
            c10.add(FloatVector.fromArray(S, base, bo0 + bs)).intoArray(C, co + ldc); c11.add(FloatVector.fromArray(S, base, bo0 + bs + L)).intoArray(C, co + ldc + L);
            c20.add(FloatVector.fromArray(S, base, bo0 + 2 * bs)).intoArray(C, co + 2 * ldc); c21.add(FloatVector.fromArray(S, base, bo0 + 2 * bs + L)).intoArray(C, co + 2 * ldc + L);
            c30.add(FloatVector.fromArray(S, base, bo0 + 3 * bs)).intoArray(C, co + 3 * ldc); c31.add(FloatVector.fromArray(S, base, bo0 + 3 * bs + L)).intoArray(C, co + 3 * ldc + L);
            c40.add(FloatVector.fromArray(S, base, bo0 + 4 * bs)).intoArray(C, co + 4 * ldc); c41.add(FloatVector.fromArray(S, base, bo0 + 4 * bs + L)).intoArray(C, co + 4 * ldc + L);
            c50.add(FloatVector.fromArray(S, base, bo0 + 5 * bs)).intoArray(C, co + 5 * ldc); c51.add(FloatVector.fromArray(S, base, bo0 + 5 * bs + L)).intoArray(C, co + 5 * ldc + L);
            return;
        }
        // Spelled out: an array of the accumulators would box them all and slow the whole kernel down.
        c00.intoArray(t, 0); c01.intoArray(t, L); c10.intoArray(t, 2 * L); c11.intoArray(t, 3 * L);
        c20.intoArray(t, 4 * L); c21.intoArray(t, 5 * L); c30.intoArray(t, 6 * L); c31.intoArray(t, 7 * L);
        c40.intoArray(t, 8 * L); c41.intoArray(t, 9 * L); c50.intoArray(t, 10 * L); c51.intoArray(t, 11 * L);
        storeEdge(t, mr, nr, base, bo0, bs, C, co, ldc);
    }

    /**
     * {@link #micro} for 12 rows (12 x NR, 24 accumulators + 2 B vectors + 1 broadcast = 27 of AVX-512's 32 registers):
     * each B vector loaded serves 12 FMAs instead of 6. A's 12 values of step k at a[ao + k aks ..+ 12]: a packed
     * sliver (aks = PR; rows past mr are its zero padding) or 12 whole rows of a transposed A read in place (aks = lda).
     * The stores are written out, as in micro: through a store helper taking vectors, C2 did not inline the helper
     * here and boxed the 24 accumulators (1024^3 at 18 GFLOP/s instead of 150-169 on the Zen 4 VM). micro used one
     * until a JDK 25 launch ran every 6-row candidate of its autotune at 14-15 GFLOP/s (other launches 110-160): the
     * same failure by its size, though not confirmed as its cause (not seen again in three launches since).
     *
     * <p>A is read as in micro (Unsafe after one bounds check, a pointer stepped by aks) with a load-load fence after
     * each row, which on x86 emits nothing but keeps each broadcast beside its FMAs. With array reads C2 compiled a k
     * step to 55 instructions per 24 FMAs (two bounds checks, an imul for k aks); now 45: 14 loads and broadcasts and 7
     * others, on JDK 17 and 25 alike (bench/c2asm.py). A 6-wide front end (Zen 4) had room for either; a 4-wide one
     * issuing a step in 12 cycles, as two 512-bit FMA pipes would, did not for 55 (predicted, not measured: no such
     * machine lent). Paired against the array-read build (`bench gemm --against`, Zen 4 VM, 2 threads, medians of
     * launches): JDK 17 1024^3 1.002 (five launches 0.994-1.019), TN 768 x 192 x 1664 (A in place) 1.064 (1.057-1.134),
     * TN 192 x 768 x 1664 1.078, NT 1664 x 768 x 192 0.974 and 1.018, NN 6400 x 128 x 512 1.017 and 1.022; JDK 25
     * 1024^3 0.984 (0.914-0.989), TN 768 x 192 x 1664 1.001 (0.984-1.060), NT 1664 x 768 x 192 1.003.
     */
    private static void micro12(int kc, float[] a, int ao, int aks, float[] bp, int bo, float[] C, int co, int ldc, int mr, int nr, float[] t,
                                boolean first, float[] bias, int bc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z,
                c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z, c90 = z, c91 = z, ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        RawReads.check("A sliver", a, ao, PR, 1, kc, aks);
        long pa = RawReads.at(ao), step = 4L * aks;
        for (int b = bo, bEnd = bo + kc * NR; b < bEnd; b += NR, pa += step) {
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L), x;
            x = a(a, pa + 0);  c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); rowFence();
            x = a(a, pa + 4);  c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); rowFence();
            x = a(a, pa + 8);  c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); rowFence();
            x = a(a, pa + 12); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); rowFence();
            x = a(a, pa + 16); c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); rowFence();
            x = a(a, pa + 20); c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); rowFence();
            x = a(a, pa + 24); c60 = b0.fma(x, c60); c61 = b1.fma(x, c61); rowFence();
            x = a(a, pa + 28); c70 = b0.fma(x, c70); c71 = b1.fma(x, c71); rowFence();
            x = a(a, pa + 32); c80 = b0.fma(x, c80); c81 = b1.fma(x, c81); rowFence();
            x = a(a, pa + 36); c90 = b0.fma(x, c90); c91 = b1.fma(x, c91); rowFence();
            x = a(a, pa + 40); ca0 = b0.fma(x, ca0); ca1 = b1.fma(x, ca1); rowFence();
            x = a(a, pa + 44); cb0 = b0.fma(x, cb0); cb1 = b1.fma(x, cb1); rowFence();
        }
        float[] base = !first ? C : bias != null ? bias : ZEROS;
        int bo0 = !first ? co : bias != null ? bc : 0, bs = !first ? ldc : 0;
        if (mr == PR && nr == NR) {
            c00.add(FloatVector.fromArray(S, base, bo0)).intoArray(C, co); c01.add(FloatVector.fromArray(S, base, bo0 + L)).intoArray(C, co + L);
            c10.add(FloatVector.fromArray(S, base, bo0 + bs)).intoArray(C, co + ldc); c11.add(FloatVector.fromArray(S, base, bo0 + bs + L)).intoArray(C, co + ldc + L);
            c20.add(FloatVector.fromArray(S, base, bo0 + 2 * bs)).intoArray(C, co + 2 * ldc); c21.add(FloatVector.fromArray(S, base, bo0 + 2 * bs + L)).intoArray(C, co + 2 * ldc + L);
            c30.add(FloatVector.fromArray(S, base, bo0 + 3 * bs)).intoArray(C, co + 3 * ldc); c31.add(FloatVector.fromArray(S, base, bo0 + 3 * bs + L)).intoArray(C, co + 3 * ldc + L);
            c40.add(FloatVector.fromArray(S, base, bo0 + 4 * bs)).intoArray(C, co + 4 * ldc); c41.add(FloatVector.fromArray(S, base, bo0 + 4 * bs + L)).intoArray(C, co + 4 * ldc + L);
            c50.add(FloatVector.fromArray(S, base, bo0 + 5 * bs)).intoArray(C, co + 5 * ldc); c51.add(FloatVector.fromArray(S, base, bo0 + 5 * bs + L)).intoArray(C, co + 5 * ldc + L);
            c60.add(FloatVector.fromArray(S, base, bo0 + 6 * bs)).intoArray(C, co + 6 * ldc); c61.add(FloatVector.fromArray(S, base, bo0 + 6 * bs + L)).intoArray(C, co + 6 * ldc + L);
            c70.add(FloatVector.fromArray(S, base, bo0 + 7 * bs)).intoArray(C, co + 7 * ldc); c71.add(FloatVector.fromArray(S, base, bo0 + 7 * bs + L)).intoArray(C, co + 7 * ldc + L);
            c80.add(FloatVector.fromArray(S, base, bo0 + 8 * bs)).intoArray(C, co + 8 * ldc); c81.add(FloatVector.fromArray(S, base, bo0 + 8 * bs + L)).intoArray(C, co + 8 * ldc + L);
            c90.add(FloatVector.fromArray(S, base, bo0 + 9 * bs)).intoArray(C, co + 9 * ldc); c91.add(FloatVector.fromArray(S, base, bo0 + 9 * bs + L)).intoArray(C, co + 9 * ldc + L);
            ca0.add(FloatVector.fromArray(S, base, bo0 + 10 * bs)).intoArray(C, co + 10 * ldc); ca1.add(FloatVector.fromArray(S, base, bo0 + 10 * bs + L)).intoArray(C, co + 10 * ldc + L);
            cb0.add(FloatVector.fromArray(S, base, bo0 + 11 * bs)).intoArray(C, co + 11 * ldc); cb1.add(FloatVector.fromArray(S, base, bo0 + 11 * bs + L)).intoArray(C, co + 11 * ldc + L);
            return;
        }
        c00.intoArray(t, 0); c01.intoArray(t, L); c10.intoArray(t, 2 * L); c11.intoArray(t, 3 * L);
        c20.intoArray(t, 4 * L); c21.intoArray(t, 5 * L); c30.intoArray(t, 6 * L); c31.intoArray(t, 7 * L);
        c40.intoArray(t, 8 * L); c41.intoArray(t, 9 * L); c50.intoArray(t, 10 * L); c51.intoArray(t, 11 * L);
        c60.intoArray(t, 12 * L); c61.intoArray(t, 13 * L); c70.intoArray(t, 14 * L); c71.intoArray(t, 15 * L);
        c80.intoArray(t, 16 * L); c81.intoArray(t, 17 * L); c90.intoArray(t, 18 * L); c91.intoArray(t, 19 * L);
        ca0.intoArray(t, 20 * L); ca1.intoArray(t, 21 * L); cb0.intoArray(t, 22 * L); cb1.intoArray(t, 23 * L);
        storeEdge(t, mr, nr, base, bo0, bs, C, co, ldc);
    }

    /**
     * {@link #micro} on two neighbouring B slivers at once, for row-major A read in place (the direct path, N <= 256)
     * where there are 32 vector registers: a 4 x 2 NR tile in 16 accumulators + 4 B vectors + 1 broadcast, each A value
     * broadcast serving 4 FMAs instead of 2, A read as 4 row streams. Paired call by call in one JVM against the 6 x NR
     * kernel on the Zen 4 VM (2 threads unless named, 101 calls, median per-call ratio): fmnist's 6400 x 128 x 128 NN
     * 1.12 (one thread 1.19), NT 1.14; 1664 x 192 x 192 NN 1.18 (one thread 1.15), NT 1.26; 1664 x 192 x 768 NN 1.27, NT
     * 1.19; 6400 x 128 x 512 NN 1.23, NT 1.20; 1664 x 192 x 576 NN 1.29. A 6 x 2 NR tile (24 accumulators, 29
     * registers live) was slower than the 6 x NR kernel, 0.88-0.98 on one thread: C2 kept two of its accumulators on
     * the stack, a load and a store each per k (-XX:CompileCommand=print). Whole tiles only: 4 rows, 2 NR columns; B
     * slivers at bp[bo] and bp[bo2]; A row r, step k at a[ao + r lda + k] (the row bases fixed, so the JIT drops the
     * bounds checks from the loop).
     */
    private static void micro4x4(int kc, float[] a, int ao, int lda, float[] bp, int bo, int bo2, float[] C, int co, int ldc,
                                 boolean first, float[] bias, int bc) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z;
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int k = 0; k < kc; k++) {
            int b = bo + k * NR, d = bo2 + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, b), b1 = FloatVector.fromArray(S, bp, b + L),
                    b2 = FloatVector.fromArray(S, bp, d), b3 = FloatVector.fromArray(S, bp, d + L), x;
            x = FloatVector.broadcast(S, a[a0 + k]); c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[a1 + k]); c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[a2 + k]); c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[a3 + k]); c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
        }
        float[] base = !first ? C : bias != null ? bias : ZEROS;
        int o = !first ? co : bias != null ? bc : 0, bs = !first ? ldc : 0, p = base == ZEROS ? 0 : NR;   // p: the second sliver's offset in base
        c00.add(FloatVector.fromArray(S, base, o)).intoArray(C, co); c01.add(FloatVector.fromArray(S, base, o + L)).intoArray(C, co + L);
        c02.add(FloatVector.fromArray(S, base, o + p)).intoArray(C, co + NR); c03.add(FloatVector.fromArray(S, base, o + p + L)).intoArray(C, co + NR + L);
        o += bs; co += ldc;
        c10.add(FloatVector.fromArray(S, base, o)).intoArray(C, co); c11.add(FloatVector.fromArray(S, base, o + L)).intoArray(C, co + L);
        c12.add(FloatVector.fromArray(S, base, o + p)).intoArray(C, co + NR); c13.add(FloatVector.fromArray(S, base, o + p + L)).intoArray(C, co + NR + L);
        o += bs; co += ldc;
        c20.add(FloatVector.fromArray(S, base, o)).intoArray(C, co); c21.add(FloatVector.fromArray(S, base, o + L)).intoArray(C, co + L);
        c22.add(FloatVector.fromArray(S, base, o + p)).intoArray(C, co + NR); c23.add(FloatVector.fromArray(S, base, o + p + L)).intoArray(C, co + NR + L);
        o += bs; co += ldc;
        c30.add(FloatVector.fromArray(S, base, o)).intoArray(C, co); c31.add(FloatVector.fromArray(S, base, o + L)).intoArray(C, co + L);
        c32.add(FloatVector.fromArray(S, base, o + p)).intoArray(C, co + NR); c33.add(FloatVector.fromArray(S, base, o + p + L)).intoArray(C, co + NR + L);
    }

    /** An edge tile's valid (mr x nr) part, from its accumulators spilled to t (row stride NR): C = base + t. */
    private static void storeEdge(float[] t, int mr, int nr, float[] base, int bo0, int bs, float[] C, int co, int ldc) {
        for (int r = 0; r < mr; r++)
            for (int c = 0; c < nr; c++) C[co + r * ldc + c] = base[bo0 + r * bs + c] + t[r * NR + c];
    }

    /** The base of a first k block without a bias: two vectors of zeros. */
    private static final float[] ZEROS = new float[NR];

    /** C = beta C over an (M, N) block (beta 0 clears, ignoring NaN in C as BLAS does). */
    private static void scale(float[] C, int cOff, int ldc, int M, int N, float beta) {
        if (beta == 1) return;
        for (int m = 0; m < M; m++) {
            int c0 = cOff + m * ldc;
            if (beta == 0) java.util.Arrays.fill(C, c0, c0 + N, 0f);
            else for (int n = 0; n < N; n++) C[c0 + n] *= beta;
        }
    }

    /** Dot product of two contiguous runs, vectorized. */
    public static float dot(float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, nv = S.loopBound(n);
        for (; i < nv; i += S.length())
            acc = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc);
        float s = Vec.lanesInOrder(acc);
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }
}
