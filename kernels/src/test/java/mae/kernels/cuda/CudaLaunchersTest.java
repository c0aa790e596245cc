package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.cuda.CudaKernels.Precision;
import mae.kernels.cuda.CudaLaunchSignatureTest.Launch;
import mae.kernels.cuda.CudaLaunchSignatureTest.Recorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The launchers' own rules, recorded without a GPU (launches diverted to a recorder with 132 SMs, an H100's):
 * sizes checked in the CPU's words, nothing launched for empty work, grids that cover the work (one warp per row
 * and 8 rows per block for the row kernels, grid-stride kernels capped at 16 blocks per SM), split sums that cover
 * every element once and accumulate only when split, and dynamic shared memory as attention.cu lays it out.
 */
class CudaLaunchersTest {
    static final CUdeviceptr P = new CUdeviceptr();
    static final int SMS = 132;
    private Recorder rec;
    private CudaKernels.Launcher was;

    @BeforeEach void record() { rec = new Recorder(); was = CudaKernels.divert(rec); }

    @AfterEach void restore() { CudaKernels.divert(was); }

    private Launch only(String kernel) {
        List<Launch> l = rec.launches.stream().filter(x -> x.kernel().equals(kernel)).toList();
        assertEquals(1, l.size(), "one launch of " + kernel + " in " + rec.launches.stream().map(Launch::kernel).toList());
        return l.get(0);
    }

    @Test void empty_work_launches_nothing() {
        CudaKernels.unary(Unary.EXP, P, P, 0);
        CudaKernels.unaryStrided(Unary.EXP, P, new int[]{0, 3}, P, new int[]{3, 1});
        CudaKernels.copyStrided(P, new int[]{3, 1}, new int[]{2, 0}, P, new int[]{3, 1});
        CudaKernels.binary(Binary.ADD, P, P, P, 0);
        CudaKernels.binaryStrided(Binary.ADD, P, new int[]{4, 0}, P, new int[]{0, 1}, P, new int[]{0, 1});
        CudaKernels.addBias(P, P, P, 0, 3);
        CudaKernels.addBias(P, P, P, 4, 0);
        CudaKernels.fill(P, 1f, 0);
        CudaKernels.sum(P, P, 0, 5, 1);
        CudaKernels.sum(P, P, 3, 5, 0);
        CudaKernels.max(P, P, P, 0, 5, 1);
        CudaKernels.max(P, P, P, 3, 5, 0);
        CudaKernels.softmaxForward(P, P, 0, 4);
        CudaKernels.softmaxForward(P, P, 3, 0);
        CudaKernels.softmaxBackward(P, P, P, 0, 4);
        CudaKernels.softmaxBackward(P, P, P, 3, 0);
        CudaKernels.layerNormForward(P, P, P, P, P, P, 0, 4, 1e-5f);
        CudaKernels.layerNormBackward(P, P, P, P, P, P, P, P, 0, 4);
        CudaKernels.geluForward(P, P, 0);
        CudaKernels.geluBackward(P, P, P, 0);
        CudaKernels.attentionForward(P, P, P, P, P, 0, 5, 64, 1f);
        CudaKernels.attentionForward(P, P, P, P, P, 2, 0, 64, 1f);
        CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, 0, 5, 64, 1f);
        CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, 2, 0, 64, 1f);   // without D: nothing allocated either
        CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, 0, 5, 64, 1f);
        CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, 2, 0, 64, 1f);
        CudaKernels.adamwStep(P, P, P, P, 0, 1, 1e-3f, 0.9f, 0.95f, 1e-8f, 0f);
        CudaKernels.gather(P, P, P, 0, 3, 4, 5, 1);
        CudaKernels.gather(P, P, P, 2, 3, 0, 5, 1);
        CudaKernels.scatterAdd(P, P, P, 2, 3, 4, 0, 1);
        CudaKernels.matmul(false, false, 0, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.TF32);
        CudaKernels.matmul(false, false, 3, 0, 5, 1f, P, 5, P, 1, 0f, P, 1, Precision.FP32);
        CudaKernels.matmul(false, false, 3, 4, 5, 1f, P, 5, 0, P, 4, 0, 0f, P, 4, 0, 0, Precision.BF16);
        assertEquals(List.of(), rec.launches.stream().map(Launch::kernel).toList());
    }

    @Test void a_sum_over_an_empty_axis_writes_zeros() {
        CudaKernels.sum(P, P, 3, 0, 5);
        Launch f = only("elementwise/fill_f32");
        assertEquals(0f, f.args()[1]);
        assertEquals(15L, f.args()[2]);
        assertEquals(1, rec.launches.size());
    }

    static void refused(String what, Executable e, String... words) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e, what);
        for (String w : words) assertTrue(x.getMessage().contains(w), what + ": '" + x.getMessage() + "' should name " + w);
    }

    @Test void negative_sizes_are_refused_naming_the_launcher_and_the_size() {
        refused("unary", () -> CudaKernels.unary(Unary.EXP, P, P, -1), "unary", "n = -1");
        refused("binary", () -> CudaKernels.binary(Binary.ADD, P, P, P, -2), "binary", "n = -2");
        refused("addBias rows", () -> CudaKernels.addBias(P, P, P, -1, 3), "addBias", "rows = -1");
        refused("addBias C", () -> CudaKernels.addBias(P, P, P, 2, -3), "addBias", "C = -3");
        refused("fill", () -> CudaKernels.fill(P, 0f, -1), "fill", "n = -1");
        refused("sum outer", () -> CudaKernels.sum(P, P, -1, 2, 3), "sum", "outer = -1");
        refused("sum n", () -> CudaKernels.sum(P, P, 1, -2, 3), "sum", "n = -2");
        refused("sum inner", () -> CudaKernels.sum(P, P, 1, 2, -3), "sum", "inner = -3");
        refused("max n", () -> CudaKernels.max(P, P, P, 1, 0, 1), "max", "n = 0");
        refused("max outer", () -> CudaKernels.max(P, P, P, -1, 2, 1), "max", "outer = -1");
        refused("max inner", () -> CudaKernels.max(P, P, P, 1, 2, -1), "max", "inner = -1");
        refused("softmax rows", () -> CudaKernels.softmaxForward(P, P, -1, 2), "softmaxForward", "rows = -1");
        refused("softmax cols", () -> CudaKernels.softmaxForward(P, P, 1, -2), "softmaxForward", "cols = -2");
        refused("softmax backward rows", () -> CudaKernels.softmaxBackward(P, P, P, -1, 2), "softmaxBackward", "rows = -1");
        refused("softmax backward cols", () -> CudaKernels.softmaxBackward(P, P, P, 1, -2), "softmaxBackward", "cols = -2");
        refused("layer norm rows", () -> CudaKernels.layerNormForward(P, P, P, P, P, P, -1, 4, 1e-5f), "layerNormForward", "rows = -1");
        refused("layer norm C", () -> CudaKernels.layerNormForward(P, P, P, P, P, P, 1, 0, 1e-5f), "layerNormForward", "C = 0");
        refused("layer norm backward rows", () -> CudaKernels.layerNormBackward(P, P, P, P, P, P, P, P, -1, 4), "layerNormBackward", "rows = -1");
        refused("layer norm backward C", () -> CudaKernels.layerNormBackward(P, P, P, P, P, P, P, P, 1, 0), "layerNormBackward", "C = 0");
        refused("gelu", () -> CudaKernels.geluForward(P, P, -1), "geluForward", "n = -1");
        refused("gelu backward", () -> CudaKernels.geluBackward(P, P, P, -1), "geluBackward", "n = -1");
        refused("attention BH", () -> CudaKernels.attentionForward(P, P, P, P, P, -1, 2, 64, 1f), "attentionForward", "BH = -1");
        refused("attention T", () -> CudaKernels.attentionForward(P, P, P, P, P, 1, -2, 64, 1f), "attentionForward", "T = -2");
        refused("attention hd", () -> CudaKernels.attentionForward(P, P, P, P, P, 1, 2, 48, 1f), "attentionForward", "48");
        refused("attention backward BH", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, -1, 2, 64, 1f), "attentionBackward", "BH = -1");
        refused("attention backward T", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, 1, -2, 64, 1f), "attentionBackward", "T = -2");
        refused("attention backward hd", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, 1, 2, 16, 1f), "attentionBackward", "16");
        refused("attention backward hd, D allocated", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, 1, 2, 16, 1f), "attentionBackward", "16");
        refused("attention backward BH, D allocated", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, -1, 2, 64, 1f), "attentionBackward", "BH = -1");
        refused("attention backward T, D allocated", () -> CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, 1, -2, 64, 1f), "attentionBackward", "T = -2");
        refused("adamw n", () -> CudaKernels.adamwStep(P, P, P, P, -1, 1, 1f, 0.9f, 0.9f, 1e-8f, 0f), "adamwStep", "n = -1");
        refused("adamw t", () -> CudaKernels.adamwStep(P, P, P, P, 4, 0, 1f, 0.9f, 0.9f, 1e-8f, 0f), "adamwStep", "t = 0");
        for (String op : new String[]{"gather", "scatterAdd"}) {
            boolean g = op.equals("gather");
            refused(op + " outer", () -> gatherOrScatter(g, -1, 2, 3, 4, 1), op, "outer = -1");
            refused(op + " S", () -> gatherOrScatter(g, 1, -2, 3, 4, 1), op, "S = -2");
            refused(op + " J", () -> gatherOrScatter(g, 1, 2, -3, 4, 1), op, "J = -3");
            refused(op + " inner", () -> gatherOrScatter(g, 1, 2, 3, -4, 1), op, "inner = -4");
            refused(op + " idxInner", () -> gatherOrScatter(g, 1, 2, 3, 4, 2), op, "idxInner = 2");
        }
        refused("strides", () -> CudaKernels.unaryStrided(Unary.EXP, P, new int[]{2, -3}, P, new int[]{3, 1}), "negative dim");
        assertEquals(List.of(), rec.launches, "nothing launched");
    }

    private static void gatherOrScatter(boolean gather, int outer, int S, int J, int inner, int idxInner) {
        if (gather) CudaKernels.gather(P, P, P, outer, S, J, inner, idxInner);
        else CudaKernels.scatterAdd(P, P, P, outer, S, J, inner, idxInner);
    }

    @Test void matmul_refuses_what_its_kernels_cannot_do() {
        refused("negative M", () -> CudaKernels.matmul(false, false, -1, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.FP32), "negative size");
        refused("negative K", () -> CudaKernels.matmul(false, false, 3, 4, -5, 1f, P, 5, P, 4, 0f, P, 4, Precision.FP32), "negative size");
        refused("negative batch", () -> CudaKernels.matmul(false, false, 3, 4, 5, 1f, P, 5, 0, P, 4, 0, 0f, P, 4, 0, -1, Precision.FP32), "negative size");
        // leading dimensions: at least the stored row width; exactly that is fine
        for (boolean ta : new boolean[]{false, true})
            for (boolean tb : new boolean[]{false, true}) {
                int lda = ta ? 3 : 5, ldb = tb ? 5 : 4;
                CudaKernels.matmul(ta, tb, 3, 4, 5, 1f, P, lda, P, ldb, 0f, P, 4, Precision.TF32);
                refused("lda " + ta + tb, () -> CudaKernels.matmul(ta, tb, 3, 4, 5, 1f, P, lda - 1, P, ldb, 0f, P, 4, Precision.TF32), "leading dimension");
                refused("ldb " + ta + tb, () -> CudaKernels.matmul(ta, tb, 3, 4, 5, 1f, P, lda, P, ldb - 1, 0f, P, 4, Precision.TF32), "leading dimension");
                refused("ldc " + ta + tb, () -> CudaKernels.matmul(ta, tb, 3, 4, 5, 1f, P, lda, P, ldb, 0f, P, 3, Precision.TF32), "leading dimension");
            }
        assertEquals(4, rec.launches.size());
        refused("batch", () -> CudaKernels.matmul(false, false, 3, 4, 5, 1f, P, 5, 0, P, 4, 0, 0f, P, 4, 0, 65536, Precision.TF32), "batch > 65535");
        CudaKernels.matmul(false, false, 3, 4, 5, 1f, P, 5, 0, P, 4, 0, 0f, P, 4, 0, 65535, Precision.TF32);
        assertEquals(65535, rec.launches.get(4).gridZ());
        // one grid row per 64 (FP32) or 128 (tensor cores) rows of C, at most 65,535
        CudaKernels.matmul(false, false, 65535 * 64, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.FP32);
        assertEquals(65535, rec.launches.get(5).gridY());
        refused("M FP32", () -> CudaKernels.matmul(false, false, 65535 * 64 + 1, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.FP32), "M too large");
        CudaKernels.matmul(false, false, 65535 * 128, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.BF16);
        assertEquals(65535, rec.launches.get(6).gridY());
        refused("M BF16", () -> CudaKernels.matmul(false, false, 65535 * 128 + 1, 4, 5, 1f, P, 5, P, 4, 0f, P, 4, Precision.BF16), "M too large");
        CudaKernels.matmul(false, false, 65, 129, 5, 1f, P, 5, P, 129, 0f, P, 129, Precision.FP32);
        Launch l = rec.launches.get(7);
        assertEquals(List.of(3, 2, 1), List.of(l.gridX(), l.gridY(), l.gridZ()), "FP32: 64 x 64 tiles of C");
        CudaKernels.matmul(false, false, 129, 257, 5, 1f, P, 5, P, 257, 0f, P, 257, Precision.TF32);
        l = rec.launches.get(8);
        assertEquals(List.of(3, 2, 1), List.of(l.gridX(), l.gridY(), l.gridZ()), "tensor cores: 128 x 128 tiles of C");
    }

    /** TF32 and BF16 go to v3 (cp.async, 110,592 bytes of shared memory) where the device allows it, else to v2. */
    @Test void matmul_takes_the_pipelined_kernel_only_where_its_shared_memory_fits() {
        CudaKernels.matmul(false, true, 129, 257, 5, 1f, P, 5, P, 5, 0f, P, 257, Precision.TF32);
        CudaKernels.matmul(true, false, 129, 257, 5, 1f, P, 129, P, 257, 0f, P, 257, Precision.BF16);
        rec.sharedMemoryOptin = 99 * 1024;   // an RTX 30x0 or 40x0 (sm_86, sm_89)
        CudaKernels.matmul(false, true, 129, 257, 5, 1f, P, 5, P, 5, 0f, P, 257, Precision.TF32);
        rec.sharedMemoryOptin = CudaKernels.MATMUL_PIPE_SMEM;
        CudaKernels.matmul(false, true, 129, 257, 5, 1f, P, 5, P, 5, 0f, P, 257, Precision.TF32);
        List<String> got = new ArrayList<>();
        for (Launch l : rec.launches) got.add(l.kernel() + " " + l.smem());
        assertEquals(List.of("matmul/matmul_pipe_tf32_nt 110592", "matmul/matmul_pipe_bf16_tn 110592",
                "matmul/matmul_tf32_nt 0", "matmul/matmul_pipe_tf32_nt 110592"), got);
    }

    /**
     * The launcher's MATMUL_PIPE_SMEM is matmul.cu's PIPE_SMEM_BYTES for the stages the committed PTX is built with: a
     * launch with less than the kernel indexes would read and write past its shared memory.
     */
    @Test void the_pipelined_kernels_shared_memory_is_matmul_cu_s() throws IOException {
        String src = Files.readString(CudaBuildTest.requireSources().resolve("matmul.cu"));
        assertTrue(src.contains("#define PIPE_SMEM_BYTES (TC_STAGES * 2 * PIPE_TILE * 4)"), "matmul.cu's PIPE_SMEM_BYTES formula changed");
        int stages = define(src, "TC_STAGES"), tile = define(src, "PIPE_TILE");
        assertEquals(stages * 2 * tile * 4, CudaKernels.MATMUL_PIPE_SMEM, "TC_STAGES " + stages + ", PIPE_TILE " + tile);
    }

    private static int define(String src, String name) {
        Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(src);
        assertTrue(m.find(), "no #define " + name + " in matmul.cu");
        return Integer.parseInt(m.group(1));
    }

    /** Split-K on 132 SMs: the ViT-B weight gradients of few tiles, enough slices for 2 blocks per SM, 512 of K each. */
    @Test void few_tile_products_are_split_along_k() {
        assertEquals(6, CudaKernels.splitK(768, 768, 3200), "36 tiles: 264 / 36 = 7 slices, but K / 512 = 6");
        assertEquals(7, CudaKernels.splitK(768, 768, 12800), "36 tiles, long K: 7 slices");
        assertEquals(2, CudaKernels.splitK(768, 2304, 12800), "108 tiles");
        assertEquals(1, CudaKernels.splitK(3072, 768, 12800), "144 tiles fill the GPU");
        assertEquals(1, CudaKernels.splitK(768, 768, 1000), "K too short to slice");
        assertEquals(16, CudaKernels.splitK(64, 64, 100_000), "at most 16 slices");
        assertEquals(1, CudaKernels.splitK(192, 192, 2176), "under 2^28 multiply-adds (fmnist's dW): whole");
    }

    /** Grid-stride kernels: ceil(n / 256) blocks of 256, at most 16 per SM, at least 1. */
    @Test void grid_stride_launches_use_enough_blocks_to_cover_or_fill_the_gpu() {
        long[] ns = {1, 255, 256, 257, 16L * SMS * 256, 16L * SMS * 256 + 1, 3_000_000_000L};
        for (long n : ns) {
            rec.launches.clear();
            CudaKernels.unary(Unary.EXP, P, P, n);
            long want = Math.min((n + 255) / 256, 16L * SMS);
            assertEquals(want, only("elementwise/unary_f32").gridX(), "n = " + n);
            assertEquals(256, only("elementwise/unary_f32").block());
        }
    }

    /** One warp per row, 8 rows per 256-thread block: ceil(rows / 8) blocks. */
    @Test void row_kernels_launch_a_block_per_eight_rows() {
        for (int rows : new int[]{1, 8, 9, 1001}) {
            rec.launches.clear();
            int want = (rows + 7) / 8;
            CudaKernels.softmaxForward(P, P, rows, 5);
            CudaKernels.softmaxBackward(P, P, P, rows, 5);
            CudaKernels.layerNormForward(P, P, P, P, P, P, rows, 5, 1e-5f);
            CudaKernels.max(P, P, P, rows, 5, 1);
            CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, rows, 1, 32, 1f);   // the dot kernel: BH x T rows
            for (String k : new String[]{"softmax/softmax_forward_f32", "softmax/softmax_backward_f32", "layernorm/layernorm_forward_f32",
                    "reduce/reduce_max_rows_f32", "attention/attention_backward_dot_f32"})
                assertEquals(want, only(k).gridX(), k + ", rows " + rows);
        }
    }

    /** Layer norm backward: about two blocks per SM (each sums its rows' dw, db), shared memory for dw and db only when asked. */
    @Test void layer_norm_backward_grid_and_shared_memory() {
        CudaKernels.layerNormBackward(P, P, P, P, P, P, P, P, 100, 6);
        assertEquals(13, only("layernorm/layernorm_backward_f32").gridX());
        assertEquals(2 * 6 * 4, only("layernorm/layernorm_backward_f32").smem());
        rec.launches.clear();
        CudaKernels.layerNormBackward(P, P, P, P, P, P, P, P, 100_000, 6);
        assertEquals(2 * SMS, only("layernorm/layernorm_backward_f32").gridX());
        for (CUdeviceptr[] dwdb : new CUdeviceptr[][]{{null, P}, {P, null}, {null, null}}) {
            rec.launches.clear();
            CudaKernels.layerNormBackward(P, dwdb[0], dwdb[1], P, P, P, P, P, 10, 6);
            assertEquals(dwdb[0] == null && dwdb[1] == null ? 0 : 48, only("layernorm/layernorm_backward_f32").smem());
        }
    }

    /**
     * Split sums: the chunks of the summed axis (grid x for rows, z for the middle axis) cover it exactly once
     * (none empty), the output is zeroed first and accumulated only when there is more than one; one grid row
     * per outer index (at most 65,535) and, for the middle axis, 32 columns per block.
     */
    @Test void split_sums_cover_the_axis_once_and_accumulate_only_when_split() {
        int[][] shapes = {{1, 1, 1}, {1, 4096, 1}, {1, 4097, 1}, {1, 1_000_000, 1}, {7, 100_000, 1}, {2 * SMS, 100_000, 1},
                {70_000, 10, 1}, {1, 64, 5}, {1, 65, 5}, {1, 100_000, 33}, {3, 500, 40}, {70_000, 100, 2}, {1, 100_000, 9000}};
        for (int[] s : shapes) {
            rec.launches.clear();
            int outer = s[0], n = s[1], inner = s[2];
            CudaKernels.sum(P, P, outer, n, inner);
            boolean rows = inner == 1;
            Launch l = only(rows ? "reduce/reduce_sum_rows_f32" : "reduce/reduce_sum_mid_f32");
            int chunks = rows ? l.gridX() : l.gridZ(), chunk = (Integer) l.args()[rows ? 4 : 5];
            boolean acc = (Boolean) l.args()[rows ? 5 : 6];
            String at = java.util.Arrays.toString(s) + ": " + chunks + " chunks of " + chunk;
            assertTrue(chunk >= 1 && (long) (chunks - 1) * chunk < n && (long) chunks * chunk >= n, at);
            assertEquals(chunks > 1, acc, at);
            assertEquals(Math.min(outer, 65535), l.gridY(), at);
            if (!rows) assertEquals((inner + 31) / 32, l.gridX(), at);
            long fills = rec.launches.stream().filter(x -> x.kernel().equals("elementwise/fill_f32")).count();
            assertEquals(chunks > 1 ? 1 : 0, fills, at);
            if (chunks > 1) {
                assertEquals("elementwise/fill_f32", rec.launches.get(0).kernel(), "zeroed before the sum: " + at);
                assertEquals((long) outer * inner, rec.launches.get(0).args()[2], at);
            }
            if (rows && outer >= 2 * SMS) assertEquals(1, chunks, "enough rows to fill the GPU: no split, " + at);
        }
        // a single long row is split (else one block would sum it), and so is a short wide middle axis
        rec.launches.clear();
        CudaKernels.sum(P, P, 1, 1_000_000, 1);
        assertTrue(only("reduce/reduce_sum_rows_f32").gridX() > 1);
        rec.launches.clear();
        CudaKernels.sum(P, P, 1, 100_000, 33);
        assertTrue(only("reduce/reduce_sum_mid_f32").gridZ() > 1);
    }

    /**
     * The dynamic shared memory of each attention kernel, from the layout comments in attention.cu ("// smem: sQ
     * [BR][HD], sK [BC][HD+1], ..." above the forward, dq and dkv kernels, in that order) with its tile sizes
     * (AT_BR = AT_W x AT_R rows, AT_BC columns, AT_W warps of AT_R rows).
     */
    @Test void attention_shared_memory_is_the_layout_of_attention_cu() throws IOException {
        String src = Files.readString(CudaBuildTest.requireSources().resolve("attention.cu"));
        Map<String, Integer> def = new java.util.HashMap<>();
        Matcher d = Pattern.compile("#define AT_(\\w+) (\\d+)").matcher(src);
        while (d.find()) def.put(d.group(1), Integer.parseInt(d.group(2)));
        def.put("BR", def.get("W") * def.get("R"));
        List<String> layouts = new ArrayList<>();
        Matcher m = Pattern.compile("// smem: (.*)").matcher(src);
        while (m.find()) layouts.add(m.group(1));
        assertEquals(3, layouts.size(), "forward, dq, dkv layouts");
        String[] which = {"forward", "dq", "dkv"};
        for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS)
            for (int w = 0; w < 3; w++) {
                long floats = 0;
                Matcher arr = Pattern.compile("s\\w+ ((?:\\[[^]]+])+)").matcher(layouts.get(w));
                while (arr.find()) {
                    long size = 1;
                    Matcher dim = Pattern.compile("\\[([^]]+)]").matcher(arr.group(1));
                    while (dim.find()) {
                        String e = dim.group(1).trim();
                        int plus = e.endsWith("+1") ? 1 : 0;
                        String name = plus == 1 ? e.substring(0, e.length() - 2) : e;
                        size *= (name.equals("HD") ? hd : def.get(name)) + plus;
                    }
                    floats += size;
                }
                assertEquals(4 * floats, CudaKernels.attentionSmem(which[w], hd), which[w] + " hd " + hd + ": " + layouts.get(w));
            }
        assertThrows(AssertionError.class, () -> CudaKernels.attentionSmem("nope", 64));
        // and the launches ask for it: a block per 16 query (or key) rows of each of the BH slices
        CudaKernels.attentionForward(P, P, P, P, P, 3, 33, 64, 0.125f);
        Launch f = only("attention/attention_forward_hd64");
        assertEquals(3 * 3, f.gridX());
        assertEquals(128, f.block());
        assertEquals(CudaKernels.attentionSmem("forward", 64), f.smem());
        CudaKernels.attentionBackward(P, P, P, P, P, P, P, P, P, P, 3, 33, 64, 0.125f);
        assertEquals(CudaKernels.attentionSmem("dq", 64), only("attention/attention_backward_dq_hd64").smem());
        assertEquals(CudaKernels.attentionSmem("dkv", 64), only("attention/attention_backward_dkv_hd64").smem());
        assertEquals(9, only("attention/attention_backward_dkv_hd64").gridX());
        rec.launches.clear();
        CudaKernels.attentionForward(P, P, P, P, P, 3, 32, 64, 0.125f);
        assertEquals(3 * 2, only("attention/attention_forward_hd64").gridX(), "32 rows: exactly 2 tiles of 16");
        refused("huge attention", () -> CudaKernels.attentionForward(P, P, P, P, P, 1 << 20, 1 << 20, 64, 1f), "too large");
        rec.launches.clear();
        CudaKernels.attentionForward(P, P, P, P, P, Integer.MAX_VALUE, 16, 64, 1f);
        assertEquals(Integer.MAX_VALUE, only("attention/attention_forward_hd64").gridX(), "the largest grid the driver takes");
    }

    @Test void precision_names_and_the_diverted_launcher() {
        assertEquals(Precision.FP32, CudaBackend.precision("FP32"));
        assertEquals(Precision.TF32, CudaBackend.precision("tf32"));
        assertEquals(Precision.BF16, CudaBackend.precision("bf16"));
        refused("precision", () -> CudaBackend.precision("fp16"), "-Dmae.cuda.matmul=fp16", "fp32, tf32 or bf16");
        assertEquals(Precision.TF32, CudaBackend.PRECISION, "TF32 unless -Dmae.cuda.matmul says otherwise");
        Recorder other = new Recorder();
        assertSame(rec, CudaKernels.divert(other), "divert returns the launcher it replaces");
        assertSame(other, CudaKernels.divert(rec));
    }
}
