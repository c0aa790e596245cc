package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.CudaException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.*;

/**
 * A caching allocator for device memory: sizes are rounded up to a size class, freed blocks wait in a free list
 * per class, and an allocation takes from that list before it asks the driver. A training step that allocates
 * the same shapes every time therefore calls cuMemAlloc only during its first step ({@link Stats#driverAllocs}
 * stays flat afterwards; the tests check this).
 *
 * <p>Reuse without synchronization is safe because all work runs in order on the one {@link Cuda#stream()}:
 * a kernel that gets a recycled block runs after every kernel that used it before.
 * On out-of-memory the cache is released ({@link #trim()}) and the allocation tried once more.
 */
public final class CudaAllocator {
    private static CudaAllocator shared;

    /** The process-wide allocator. */
    public static synchronized CudaAllocator shared() {
        if (shared == null) shared = new CudaAllocator();
        return shared;
    }

    /** Counters since creation; bytes are size-class bytes. */
    public record Stats(long requests, long cacheHits, long driverAllocs, long driverFrees,
                        long bytesInUse, long bytesCached, long peakBytesInUse) {}

    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private long requests, cacheHits, driverAllocs, driverFrees, bytesInUse, bytesCached, peak;

    /**
     * The size class of a request: at least 256 bytes; above that the next multiple of a quarter of the
     * enclosing power of two (bytes in (2^k, 2^(k+1)] round up to a multiple of 2^(k-2)), so at most 25% is wasted
     * and there are only four classes per doubling.
     */
    public static long sizeClass(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes);
        if (bytes <= 256) return 256;
        long p = Long.highestOneBit(bytes - 1);          // bytes in (p, 2p]
        long step = Math.max(256, p / 4);
        return (bytes + step - 1) / step * step;
    }

    public synchronized DeviceBuffer allocate(long bytes) {
        Cuda.require();
        long cls = sizeClass(bytes);
        requests++;
        ArrayDeque<CUdeviceptr> list = free.get(cls);
        CUdeviceptr p;
        if (list != null && !list.isEmpty()) {
            p = list.pop();
            cacheHits++;
            bytesCached -= cls;
        } else {
            p = driverAlloc(cls);
        }
        bytesInUse += cls;
        peak = Math.max(peak, bytesInUse);
        return new DeviceBuffer(this, p, bytes, cls);
    }

    private CUdeviceptr driverAlloc(long cls) {
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, cls);
        } catch (CudaException e) {
            if (!e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) throw e;
            trim();
            try {
                cuMemAlloc(p, cls);
            } catch (CudaException again) {
                throw new IllegalStateException("CUDA out of memory allocating " + cls + " bytes with "
                        + bytesInUse + " in use", again);
            }
        }
        driverAllocs++;
        return p;
    }

    synchronized void free(DeviceBuffer b) {
        long cls = b.capacity();
        free.computeIfAbsent(cls, k -> new ArrayDeque<>()).push(b.rawPtr());
        bytesInUse -= cls;
        bytesCached += cls;
    }

    /** Returns every cached block to the driver (waits for the stream first). */
    public synchronized void trim() {
        Cuda.sync();
        for (Map.Entry<Long, ArrayDeque<CUdeviceptr>> e : free.entrySet()) {
            for (CUdeviceptr p : e.getValue()) {
                cuMemFree(p);
                driverFrees++;
                bytesCached -= e.getKey();
            }
            e.getValue().clear();
        }
    }

    public synchronized Stats stats() {
        return new Stats(requests, cacheHits, driverAllocs, driverFrees, bytesInUse, bytesCached, peak);
    }
}
