package mae.bench;

import mae.kernels.cuda.Cublas;
import mae.kernels.cuda.Cuda;
import mae.kernels.cuda.CudaKernels;
import mae.kernels.cuda.DeviceBuffer;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import mae.kernels.cuda.CudaKernels.Precision;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static jcuda.driver.JCudaDriver.*;

/**
 * A few-minute GPU benchmark (bench/gpu-check.sh runs it after the cuda tests):
 * <ul>
 *   <li>our matmul vs cuBLAS (JCublas, same compute type) at the ViT-B/MAE linear shapes: M = 256*50 (encoder,
 *       visible tokens) and 256*197 (decoder / full) rows, N, K in {768, 2304, 3072}, as nn.Linear runs them
 *       (X (M, K) times W^T, W (N, K): transB), plus square 4096; TF32 and BF16;</li>
 *   <li>fused attention forward and backward at T = 50 and 197, hd 64, 256 x 12 heads.</li>
 * </ul>
 * Times are CUDA events around 10 launches after 2 warm-ups. The error column compares a sample of our output
 * (the first 2^20 elements) with cuBLAS in FP32: max |ours - fp32| / max |fp32|.
 * usage: GpuBench [--quick | --probe]   (--quick: M = 256*50 only, N = K = 768 and 3072; --probe: print the
 * device and whether cuBLAS loads, exit 0 when both are there)
 */
public final class GpuBench {
    private GpuBench() {}

    static final int WARMUP = 2, REPS = 10;

    record Row(String op, String shape, String precision, double oursMs, double oursTflops, double theirsTflops,
               double maxRelErr) {}

    public static void main(String[] args) {
        Locale.setDefault(Locale.ROOT);
        boolean quick = args.length > 0 && args[0].equals("--quick");
        boolean probe = args.length > 0 && args[0].equals("--probe");
        if (!Cuda.available()) {
            System.out.println("GpuBench: CUDA not available: " + Cuda.reason());
            System.exit(2);
        }
        if (probe) {   // bench/gpu-check.sh step 1: the device, where the kernels come from, cuBLAS
            System.out.println("CUDA: " + Cuda.reason() + "; cuBLAS: " + Cublas.reason());
            System.exit(Cublas.available() ? 0 : 3);
        }
        System.out.println("GpuBench on " + Cuda.reason());
        boolean cublas = Cublas.available();
        if (!cublas) System.out.println("GpuBench: no cuBLAS baseline: " + Cublas.reason());
        List<Row> rows = new ArrayList<>();
        int[] ms = quick ? new int[]{256 * 50} : new int[]{256 * 50, 256 * 197};
        int[] nk = quick ? new int[]{768, 3072} : new int[]{768, 2304, 3072};
        for (int M : ms)
            for (int N : nk)
                for (int K : nk) matmulRows(rows, M, N, K, false, true, cublas);
        matmulRows(rows, 4096, 4096, 4096, false, false, cublas);
        for (int T : new int[]{50, 197}) attentionRows(rows, 256 * 12, T, 64, cublas);

        String name = Cuda.deviceName();
        boolean hopper = name.contains("H100") || name.contains("H200");
        System.out.println();
        System.out.println("=== GpuBench summary (" + name + "); ours/cuBLAS > 1 means faster"
                + (hopper ? "; % of dense peak: TF32 495, BF16 990, FP32 67 TFLOP/s (SXM)" : "") + " ===");
        System.out.printf("%-16s %-24s %-5s %9s %9s %9s %8s %7s %10s%n", "op", "shape", "prec", "ours ms",
                "TFLOP/s", "cuBLAS", "ours/cuB", "%peak", "rel.err");
        for (Row r : rows) {
            double peak = r.precision.equals("TF32") ? 495 : r.precision.equals("BF16") ? 990 : 67;
            System.out.printf("%-16s %-24s %-5s %9.3f %9.1f %9s %8s %7s %10s%n", r.op, r.shape, r.precision, r.oursMs,
                    r.oursTflops, Double.isNaN(r.theirsTflops) ? "-" : String.format("%.1f", r.theirsTflops),
                    Double.isNaN(r.theirsTflops) ? "-" : String.format("%.2f", r.oursTflops / r.theirsTflops),
                    hopper ? String.format("%.0f%%", 100 * r.oursTflops / peak) : "-",
                    Double.isNaN(r.maxRelErr) ? "-" : String.format("%.2e", r.maxRelErr));
        }
    }

    interface Work { void run(); }

    /** Milliseconds per call, by CUDA events around REPS calls after WARMUP. */
    static double time(Work w) {
        for (int i = 0; i < WARMUP; i++) w.run();
        CUevent start = new CUevent(), stop = new CUevent();
        cuEventCreate(start, 0);
        cuEventCreate(stop, 0);
        cuEventRecord(start, Cuda.stream());
        for (int i = 0; i < REPS; i++) w.run();
        cuEventRecord(stop, Cuda.stream());
        cuEventSynchronize(stop);
        float[] ms = {0};
        cuEventElapsedTime(ms, start, stop);
        cuEventDestroy(start);
        cuEventDestroy(stop);
        return ms[0] / REPS;
    }

    /** n pseudo-random values in [-1, 1), from a host block of at most 2^22 tiled over the buffer. */
    static DeviceBuffer random(long n, long seed) {
        DeviceBuffer b = DeviceBuffer.allocate(n);
        int block = (int) Math.min(n, 1 << 22);
        float[] h = new float[block];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < block; i++) h[i] = (float) (2 * r.nextDouble() - 1);
        Cuda.sync();
        for (long off = 0; off < n; off += block) {
            long len = Math.min(block, n - off);
            cuMemcpyHtoD(b.at(off), Pointer.to(h), 4 * len);
        }
        return b;
    }

    static float[] head(DeviceBuffer b, int n) {
        float[] h = new float[(int) Math.min(n, b.length())];
        Cuda.sync();
        cuMemcpyDtoH(Pointer.to(h), b.ptr(), 4L * h.length);
        return h;
    }

    static double maxRelErr(float[] got, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            num = Math.max(num, Math.abs(got[i] - ref[i]));
            den = Math.max(den, Math.abs(ref[i]));
        }
        return den == 0 ? num : num / den;
    }

    static void matmulRows(List<Row> rows, int M, int N, int K, boolean ta, boolean tb, boolean cublas) {
        int lda = ta ? M : K, ldb = tb ? K : N;
        double flop = 2.0 * M * N * K;
        String shape = M + "x" + N + "x" + K + (tb ? " (B^T)" : "");
        try (DeviceBuffer A = random((long) M * K, 1); DeviceBuffer B = random((long) K * N, 2);
             DeviceBuffer C = DeviceBuffer.allocate((long) M * N); DeviceBuffer R = DeviceBuffer.allocate((long) M * N)) {
            float[] ref = null;
            if (cublas) {
                Cublas.gemm(ta, tb, M, N, K, 1f, A.ptr(), lda, 0, B.ptr(), ldb, 0, 0f, R.ptr(), N, 0, 1, Precision.FP32);
                ref = head(R, 1 << 20);
            }
            for (Precision p : new Precision[]{Precision.TF32, Precision.BF16}) {
                double ours = time(() -> CudaKernels.matmul(ta, tb, M, N, K, 1f, A.ptr(), lda, 0, B.ptr(), ldb, 0,
                        0f, C.ptr(), N, 0, 1, p));
                double err = ref == null ? Double.NaN : maxRelErr(head(C, 1 << 20), ref);
                double theirs = cublas ? time(() -> Cublas.gemm(ta, tb, M, N, K, 1f, A.ptr(), lda, 0, B.ptr(), ldb, 0,
                        0f, R.ptr(), N, 0, 1, p)) : Double.NaN;
                Row row = new Row("matmul", shape, p.toString(), ours, flop / ours / 1e9,
                        cublas ? flop / theirs / 1e9 : Double.NaN, err);
                System.out.printf("%s %s %s: ours %.3f ms, cuBLAS %s ms, rel.err %.2e%n", row.op, shape, p, ours,
                        cublas ? String.format("%.3f", theirs) : "-", err);
                rows.add(row);
            }
        }
    }

    /**
     * Attention at (BH, T, hd). FLOPs by the FlashAttention convention: forward 4 BH T^2 hd (q k^T and P v),
     * backward 2.5x that (five T x T x hd products). The cuBLAS column is a floor, not a twin: the forward's two
     * batched GEMMs in FP32 (q k^T into a (BH, T, T) buffer, then S v), without the softmax between them.
     */
    static void attentionRows(List<Row> rows, int BH, int T, int hd, boolean cublas) {
        long n = (long) BH * T * hd;
        float scale = (float) (1 / Math.sqrt(hd));
        double fwdFlop = 4.0 * BH * T * (double) T * hd, bwdFlop = 2.5 * fwdFlop;
        String shape = "BH " + BH + " T " + T + " hd " + hd;
        try (DeviceBuffer q = random(n, 3); DeviceBuffer k = random(n, 4); DeviceBuffer v = random(n, 5);
             DeviceBuffer out = DeviceBuffer.allocate(n); DeviceBuffer lse = DeviceBuffer.allocate((long) BH * T);
             DeviceBuffer dout = random(n, 6); DeviceBuffer dq = DeviceBuffer.zeros(n); DeviceBuffer dk = DeviceBuffer.zeros(n);
             DeviceBuffer dv = DeviceBuffer.zeros(n)) {
            double fwd = time(() -> CudaKernels.attentionForward(out.ptr(), lse.ptr(), q.ptr(), k.ptr(), v.ptr(), BH, T, hd, scale));
            double bwd = time(() -> CudaKernels.attentionBackward(dq.ptr(), dk.ptr(), dv.ptr(), dout.ptr(), q.ptr(), k.ptr(),
                    v.ptr(), out.ptr(), lse.ptr(), BH, T, hd, scale));
            double floor = Double.NaN;
            if (cublas) {
                try (DeviceBuffer S = DeviceBuffer.allocate((long) BH * T * T)) {
                    long st = (long) T * hd, ss = (long) T * T;
                    floor = time(() -> {
                        Cublas.gemm(false, true, T, T, hd, scale, q.ptr(), hd, st, k.ptr(), hd, st, 0f, S.ptr(), T, ss, BH, Precision.FP32);
                        Cublas.gemm(false, false, T, hd, T, 1f, S.ptr(), T, ss, v.ptr(), hd, st, 0f, out.ptr(), hd, st, BH, Precision.FP32);
                    });
                }
            }
            System.out.printf("attention %s: forward %.3f ms, backward %.3f ms, cuBLAS 2-GEMM floor %s ms%n", shape, fwd, bwd,
                    cublas ? String.format("%.3f", floor) : "-");
            rows.add(new Row("attention fwd", shape, "FP32", fwd, fwdFlop / fwd / 1e9, fwdFlop / floor / 1e9, Double.NaN));
            rows.add(new Row("attention bwd", shape, "FP32", bwd, bwdFlop / bwd / 1e9, Double.NaN, Double.NaN));
            rows.add(new Row("attention f+b", shape, "FP32", fwd + bwd, (fwdFlop + bwdFlop) / (fwd + bwd) / 1e9, Double.NaN, Double.NaN));
        }
    }
}
