package mae.kernels;

/** A CPU storage: a float array in the Java heap, read and written in place by the CPU kernels. */
public final class HostStorage extends Storage {
    public final float[] data;

    public HostStorage(float[] data) { this.data = data; }

    @Override public Backend backend() { return CpuBackend.INSTANCE; }
    @Override public long length() { return data.length; }
    @Override public String toString() { return "cpu storage of " + data.length + " elements"; }
}
