package mae.kernels;

/**
 * Memory that holds a tensor's values, owned by one {@link Backend}: a host array ({@link HostStorage}) or
 * device memory (mae.kernels.cuda.CudaStorage). Tensors and their views share a storage; each view keeps its
 * own offset, shape and strides. Elements are 4 bytes (floats, or ints for index buffers).
 */
public abstract class Storage {
    /** The backend that made this storage and runs every op on it. */
    public abstract Backend backend();

    /** Elements. */
    public abstract long length();
}
