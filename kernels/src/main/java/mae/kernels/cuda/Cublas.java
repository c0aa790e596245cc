package mae.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

import static jcuda.cudaDataType.CUDA_R_32F;

/**
 * JCublas as a second baseline for {@link CudaKernels#matmul}: the same row-major contract, computed by cuBLAS
 * (column-major) as C^T = op(B)^T op(A)^T, on {@link Cuda#stream()}. Used by the tests and by the bench module's GpuBench.
 * Precision maps to cuBLAS compute types on FP32 data: FP32 -> CUBLAS_COMPUTE_32F (plain sgemm),
 * TF32 -> CUBLAS_COMPUTE_32F_FAST_TF32, BF16 -> CUBLAS_COMPUTE_32F_FAST_16BF.
 *
 * <p>JCublas 12.6's natives need libcublas.so.12; on a CUDA 13 machine ../shared/device/cublas12-compat provides
 * a forwarder to libcublas.so.13 (its first results are compared with our own kernels in the tests).
 */
public final class Cublas {
    private Cublas() {}

    private static boolean probed, ok;
    private static String reason = "cuBLAS not probed yet";
    private static cublasHandle handle;

    /** True when JCublas loads and a handle can be created; never throws. */
    public static synchronized boolean available() {
        if (probed) return ok;
        probed = true;
        if (!Cuda.available()) { reason = Cuda.reason(); return false; }
        try {
            Cuda.require();
            JCublas2.setExceptionsEnabled(true);
            handle = new cublasHandle();
            JCublas2.cublasCreate(handle);
            JCublas2.cublasSetStream(handle, new cudaStream_t(Cuda.stream()));
            ok = true;
            reason = "cuBLAS ready";
        } catch (Throwable t) {
            String m = String.valueOf(t.getMessage());
            reason = m.contains("libcublas.so") ? "no cuBLAS (libcublas.so.12 not found; on CUDA 13 use ../shared/device/cublas12-compat)"
                    : "cuBLAS failed: " + m.split("\n")[0];
        }
        return ok;
    }

    public static synchronized String reason() { available(); return reason; }

    /** Row-major batched GEMM, same arguments as {@link CudaKernels#matmul}. */
    public static synchronized void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                                         CUdeviceptr A, int lda, long strideA, CUdeviceptr B, int ldb, long strideB,
                                         float beta, CUdeviceptr C, int ldc, long strideC, int batch,
                                         CudaKernels.Precision precision) {
        if (!available()) throw new IllegalStateException("cuBLAS not available: " + reason);
        Cuda.require();
        int compute;
        switch (precision) {
            case FP32: compute = cublasComputeType.CUBLAS_COMPUTE_32F; break;
            case TF32: compute = cublasComputeType.CUBLAS_COMPUTE_32F_FAST_TF32; break;
            default: compute = cublasComputeType.CUBLAS_COMPUTE_32F_FAST_16BF; break;
        }
        // Row-major C (M, N) is column-major C^T (N, M) = op(B)^T (N, K) op(A)^T (K, M).
        int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        Pointer pa = Pointer.to(new float[]{alpha}), pb = Pointer.to(new float[]{beta});
        JCublas2.cublasGemmStridedBatchedEx_new(handle, opB, opA, N, M, K, pa,
                B, CUDA_R_32F, ldb, strideB, A, CUDA_R_32F, lda, strideA, pb,
                C, CUDA_R_32F, ldc, strideC, batch, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
    }
}
