package mae.kernels;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place where a device name becomes a {@link Backend}: "cpu" is {@link CpuBackend}; "cuda" is
 * mae.kernels.cuda.CudaBackend, made on first use (only then are JCuda's native libraries loaded, so a CPU-only
 * run never loads one), or the backend a test installed (the emulated CUDA backend). Each choice is logged
 * once, to the System.Logger "mae.backend" (INFO for cuda, DEBUG for cpu).
 */
public final class Backends {
    private Backends() {}

    private static final System.Logger LOG = System.getLogger("mae.backend");
    private static final Map<String, Backend> CHOSEN = new ConcurrentHashMap<>();
    private static volatile Backend cudaOverride;

    /** The backend for "cpu" or "cuda"; for cuda without a usable GPU, IllegalStateException with the reason. */
    public static Backend get(String device) {
        Backend b = "cuda".equals(device) ? cuda() : "cpu".equals(device) ? CpuBackend.INSTANCE : null;
        if (b == null) throw new IllegalArgumentException("unknown device '" + device + "' (expected cpu or cuda)");
        if (CHOSEN.get(device) != b && CHOSEN.put(device, b) != b) LOG.log("cuda".equals(device) ? Level.INFO : Level.DEBUG, "backend " + device + ": " + b.describe());
        return b;
    }

    /** Whether "cuda" would give a backend (an installed one, or a usable GPU). Never throws. */
    public static boolean cudaAvailable() { return cudaOverride != null || (Boolean) gpu("available"); }

    /** The installed CUDA backend's description, the GPU's, or why CUDA is not usable. Never throws. */
    public static String describeCuda() {
        Backend o = cudaOverride;
        return o != null ? o.describe() : (String) gpu("availability");
    }

    /**
     * Makes "cuda" mean the given backend (null: the GPU again) and returns the one installed before. For tests
     * only: tensors made under one backend must not meet another's.
     */
    public static synchronized Backend install(Backend cuda) {
        Backend was = cudaOverride;
        cudaOverride = cuda;
        return was;
    }

    private static Backend cuda() {
        Backend o = cudaOverride;
        return o != null ? o : (Backend) gpu("gpu");
    }

    /**
     * Calls a static method of the GPU backend by name, so that no class of this package refers to the CUDA
     * package and a CPU-only run never loads it (CudaBuildTest checks the class files).
     */
    private static Object gpu(String method) {
        try {
            return Class.forName("mae.kernels.cuda.CudaBackend").getMethod(method).invoke(null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException) throw (RuntimeException) e.getCause();
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the CUDA backend is missing from the classpath: " + e);
        }
    }
}
