package mae.kernels.cuda;

import mae.kernels.Backend;
import mae.kernels.Storage;

/** GPU memory of a tensor and its views: a {@link DeviceBuffer} from the caching allocator. */
final class CudaStorage extends Storage {
    private final Backend backend;
    final DeviceBuffer buf;

    CudaStorage(Backend backend, DeviceBuffer buf) {
        this.backend = backend;
        this.buf = buf;
    }

    @Override public Backend backend() { return backend; }
    @Override public long length() { return buf.length(); }
    @Override public String toString() { return "cuda storage of " + length() + " elements"; }
}
