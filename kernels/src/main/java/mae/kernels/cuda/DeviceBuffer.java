package mae.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import static jcuda.driver.JCudaDriver.*;

/**
 * A block of device memory from the {@link CudaAllocator}, holding floats or ints (4 bytes each).
 * {@link #close()} gives it back to the allocator's cache; the memory may be handed to the next allocation at
 * once, which is safe because every kernel runs on the one {@link Cuda#stream()} in order.
 * Copies to and from the host wait for the stream, so they see every kernel queued before them.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaAllocator owner;
    private final CUdeviceptr ptr;
    private final long bytes;      // asked for
    private final long capacity;   // the size class actually reserved
    private boolean released;

    DeviceBuffer(CudaAllocator owner, CUdeviceptr ptr, long bytes, long capacity) {
        this.owner = owner; this.ptr = ptr; this.bytes = bytes; this.capacity = capacity;
    }

    /** n floats (or ints) from the shared allocator, contents undefined. */
    public static DeviceBuffer allocate(long n) { return CudaAllocator.shared().allocate(4 * n); }

    /** A new buffer holding a copy of host. */
    public static DeviceBuffer of(float[] host) { return allocate(host.length).copyFrom(host); }

    public static DeviceBuffer of(int[] host) { return allocate(host.length).copyFrom(host); }

    /** n zeros. */
    public static DeviceBuffer zeros(long n) { return allocate(n).zero(); }

    public CUdeviceptr ptr() { check(); return ptr; }

    /** The device address of element {@code offset} (4-byte elements). */
    public CUdeviceptr at(long offset) {
        check();
        if (offset < 0 || offset * 4 > bytes) throw new IndexOutOfBoundsException("offset " + offset + " of " + length());
        return ptr.withByteOffset(4 * offset);
    }

    public long bytes() { return bytes; }
    long capacity() { return capacity; }
    /** Number of 4-byte elements. */
    public long length() { return bytes / 4; }

    public DeviceBuffer copyFrom(float[] src) { return copyFrom(src, 0); }

    /** Copies src into elements [offset, offset + src.length) (waits for the stream first). */
    public DeviceBuffer copyFrom(float[] src, long offset) {
        need(offset, src.length);
        Cuda.sync();
        if (src.length > 0) cuMemcpyHtoD(ptr.withByteOffset(4 * offset), Pointer.to(src), 4L * src.length);
        return this;
    }

    public DeviceBuffer copyFrom(int[] src) {
        need(src.length);
        Cuda.sync();
        cuMemcpyHtoD(ptr, Pointer.to(src), 4L * src.length);
        return this;
    }

    public float[] copyTo(float[] dst) { return copyTo(dst, 0); }

    /** Fills dst from elements [offset, offset + dst.length) (waits for the stream first). */
    public float[] copyTo(float[] dst, long offset) {
        need(offset, dst.length);
        Cuda.sync();
        if (dst.length > 0) cuMemcpyDtoH(Pointer.to(dst), ptr.withByteOffset(4 * offset), 4L * dst.length);
        return dst;
    }

    public int[] copyTo(int[] dst) {
        need(dst.length);
        Cuda.sync();
        cuMemcpyDtoH(Pointer.to(dst), ptr, 4L * dst.length);
        return dst;
    }

    public float[] toFloats() { return copyTo(new float[Math.toIntExact(length())]); }

    public int[] toInts() { return copyTo(new int[Math.toIntExact(length())]); }

    /** Sets every element to 0 (queued on the stream). */
    public DeviceBuffer zero() {
        check();
        if (bytes > 0) cuMemsetD32Async(ptr, 0, bytes / 4, Cuda.stream());
        return this;
    }

    public boolean isReleased() { return released; }

    /** Back to the allocator's cache. Idempotent. */
    @Override public void close() {
        if (!released) {
            released = true;
            owner.free(this);
        }
    }

    CUdeviceptr rawPtr() { return ptr; }

    private void check() {
        if (released) throw new IllegalStateException("device buffer of " + bytes + " bytes used after close()");
    }

    private void need(long n) { need(0, n); }

    private void need(long offset, long n) {
        check();
        if (offset < 0 || 4 * (offset + n) > bytes)
            throw new IllegalArgumentException("copy of " + n + " elements at offset " + offset + " with a device buffer of " + length());
    }

    @Override public String toString() { return "DeviceBuffer(" + length() + " x 4 bytes)"; }
}
