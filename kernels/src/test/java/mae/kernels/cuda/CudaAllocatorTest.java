package mae.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The caching allocator on a GPU: after a warm-up "step", the same shapes never reach cuMemAlloc. */
class CudaAllocatorTest extends CudaTestBase {
    @Test void steady_state_allocates_nothing_from_the_driver() {
        CudaAllocator a = CudaAllocator.shared();
        long[] sizes = {1, 1000, 768 * 768, 197 * 768 * 4, 7, 1000, 3 * 1024 * 1024};
        step(a, sizes);                                   // warm-up: may call cuMemAlloc
        CudaAllocator.Stats before = a.stats();
        for (int i = 0; i < 5; i++) step(a, sizes);
        CudaAllocator.Stats after = a.stats();
        assertEquals(before.driverAllocs(), after.driverAllocs(), "cuMemAlloc calls in steady state: " + after);
        assertEquals(before.requests() + 5L * sizes.length, after.requests());
        assertEquals(before.cacheHits() + 5L * sizes.length, after.cacheHits());
        assertEquals(before.bytesInUse(), after.bytesInUse(), "every buffer was given back");
    }

    private static void step(CudaAllocator a, long[] sizes) {
        DeviceBuffer[] live = new DeviceBuffer[sizes.length];
        for (int i = 0; i < sizes.length; i++) live[i] = a.allocate(4 * sizes[i]);
        for (int i = 0; i < sizes.length; i++) CudaKernels.fill(live[i].ptr(), i, sizes[i]);
        for (DeviceBuffer b : live) b.close();
    }

    @Test void recycled_buffers_hold_what_the_next_kernel_writes() {
        DeviceBuffer a = DeviceBuffer.allocate(1000);
        CudaKernels.fill(a.ptr(), 1f, 1000);
        a.close();
        DeviceBuffer b = DeviceBuffer.allocate(1000);   // same class: the block just freed, reused in stream order
        CudaKernels.fill(b.ptr(), 2f, 1000);
        float[] got = b.toFloats();
        b.close();
        for (float f : got) assertEquals(2f, f);
        assertThrows(IllegalStateException.class, b::ptr, "use after close");
    }

    @Test void trim_returns_the_cache_to_the_driver() {
        CudaAllocator a = CudaAllocator.shared();
        a.allocate(4096).close();
        assertTrue(a.stats().bytesCached() > 0);
        long frees = a.stats().driverFrees();
        a.trim();
        assertEquals(0, a.stats().bytesCached());
        assertTrue(a.stats().driverFrees() > frees);
    }
}
