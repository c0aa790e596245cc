package mae.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.*;

/**
 * The CUDA runtime of mae.kernels: one device, one (primary) context, one stream, kernel modules loaded once.
 *
 * <p>{@link #available()} never throws: it tries to load JCuda's natives and initialize the driver once, and
 * {@link #reason()} then says why not ("no CUDA driver (libcuda.so.1 not found)", "no GPU", ...) or names the GPU.
 * JCuda's exceptions are switched on once, after a successful probe, so every later driver error throws.
 *
 * <p>Kernels come from class-path resources built by {@code kernels/src/main/cuda/build.sh}:
 * {@code mae/kernels/cuda/<family>.sm_90.cubin} on an sm_90 device (H100/H200), else
 * {@code <family>.sm_80.ptx}, which the driver compiles for the device at load (-Dmae.cuda.ptx=true forces the PTX).
 * A family's module is loaded on its first use; functions are looked up once and cached.
 *
 * <p>Everything runs on {@link #stream()}: kernels on one stream execute in order, which is also what lets the
 * {@link CudaAllocator} hand a freed buffer to the next kernel without waiting.
 * Nothing in the CPU path touches this class: it loads only when CUDA is asked for.
 */
public final class Cuda {
    private Cuda() {}

    /** Oldest compute capability supported: the tensor-core kernels use mma.sync for TF32 and BF16 (sm_80). */
    static final int MIN_MAJOR = 8;

    private static boolean probed, ok;
    private static String reason = "CUDA not probed yet";
    private static CUdevice device;
    private static CUcontext context;
    private static CUstream stream;
    private static String name = "";
    private static int ccMajor, ccMinor, smCount, maxSmemOptin, driverVersion;
    private static long totalMem;
    private static boolean useCubin;
    private static final Map<String, CUmodule> modules = new HashMap<>();
    private static final Map<String, Kernel> kernels = new HashMap<>();
    private static final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);

    /** True when a usable GPU is there; probes once, never throws. */
    public static synchronized boolean available() {
        if (!probed) {
            probed = true;
            try {
                ok = probe();
            } catch (Throwable t) {        // natives that load but misbehave: report, never throw
                ok = false;
                reason = "CUDA probe failed: " + t;
            }
        }
        return ok;
    }

    /** Why CUDA is not available, or the GPU's description when it is. */
    public static synchronized String reason() {
        available();
        return reason;
    }

    private static boolean probe() {
        int rc;
        try {
            rc = JCudaDriver.cuInit(0);   // first touch: loads JCuda's driver natives, which need libcuda.so.1
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String m = String.valueOf(e.getMessage());
            reason = m.contains("libcuda.so") ? "no CUDA driver (libcuda.so.1 not found)"
                    : "JCuda natives failed to load: " + firstLine(m);
            return false;
        }
        if (rc == CUresult.CUDA_ERROR_NO_DEVICE) { reason = "no GPU (cuInit: CUDA_ERROR_NO_DEVICE)"; return false; }
        if (rc != CUresult.CUDA_SUCCESS) { reason = "cuInit failed: " + CUresult.stringFor(rc); return false; }
        int[] count = {0};
        rc = cuDeviceGetCount(count);
        if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) { reason = "no GPU"; return false; }
        int ordinal = Integer.getInteger("mae.cuda.device", 0);
        if (ordinal < 0 || ordinal >= count[0]) { reason = "no GPU " + ordinal + " (" + count[0] + " found)"; return false; }

        JCudaDriver.setExceptionsEnabled(true);   // from here on every driver error throws CudaException
        device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) len++;
        name = new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        ccMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        smCount = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxSmemOptin = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] mem = {0};
        cuDeviceTotalMem(mem, device);
        totalMem = mem[0];
        int[] dv = {0};
        cuDriverGetVersion(dv);
        driverVersion = dv[0];
        if (ccMajor < MIN_MAJOR) {
            reason = "GPU " + name + " has compute capability " + ccMajor + "." + ccMinor
                    + "; the kernels need " + MIN_MAJOR + ".0 or newer";
            return false;
        }
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);   // the primary context: the one JCublas (runtime API) uses too
        cuCtxSetCurrent(context);
        bound.set(true);
        stream = new CUstream();
        cuStreamCreate(stream, 0);
        useCubin = ccMajor == 9 && ccMinor == 0 && !Boolean.getBoolean("mae.cuda.ptx");
        reason = String.format("%s (sm_%d%d, %d SMs, %.0f GiB, driver %d.%d, kernels from %s)", name, ccMajor, ccMinor,
                smCount, totalMem / (double) (1L << 30), driverVersion / 1000, driverVersion % 1000 / 10,
                useCubin ? "sm_90 cubin" : "compute_80 PTX");
        return true;
    }

    private static int attribute(int attr) {
        int[] v = {0};
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Throws IllegalStateException with the reason when CUDA is not available; binds the context to this thread. */
    public static void require() {
        if (!available()) throw new IllegalStateException("CUDA not available: " + reason());
        if (!bound.get()) {
            cuCtxSetCurrent(context);
            bound.set(true);
        }
    }

    public static CUstream stream() { require(); return stream; }
    public static String deviceName() { require(); return name; }
    public static int smCount() { require(); return smCount; }
    public static int computeCapability() { require(); return ccMajor * 10 + ccMinor; }
    /** Largest dynamic shared memory a block may ask for after opting in (227 KB on H100). */
    public static int maxSharedMemoryOptin() { require(); return maxSmemOptin; }

    /** Waits for everything queued on the stream. */
    public static void sync() { require(); cuStreamSynchronize(stream); }

    /** The kernel {@code name} of module {@code family} (the .cu file's base name), loaded and cached once. */
    public static synchronized Kernel kernel(String family, String name) {
        require();
        String key = family + "/" + name;
        Kernel k = kernels.get(key);
        if (k == null) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module(family), name);
            k = new Kernel(key, f);
            kernels.put(key, k);
        }
        return k;
    }

    private static CUmodule module(String family) {
        CUmodule m = modules.get(family);
        if (m != null) return m;
        String res = "/mae/kernels/cuda/" + family + (useCubin ? ".sm_90.cubin" : ".sm_80.ptx");
        byte[] image;
        try (InputStream in = Cuda.class.getResourceAsStream(res)) {
            if (in == null) throw new IllegalStateException("CUDA module " + res + " is not on the class path;"
                    + " run kernels/src/main/cuda/build.sh where nvcc is");
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("reading CUDA module " + res, e);
        }
        if (!useCubin) image = java.util.Arrays.copyOf(image, image.length + 1);   // PTX must end with a 0 byte
        m = new CUmodule();
        cuModuleLoadData(m, image);
        modules.put(family, m);
        return m;
    }

    /** The driver's limits on a grid (x up to 2^31 - 1, y and z up to 65,535); the emulated launches check them too. */
    static void checkGrid(String kernel, int gridX, int gridY, int gridZ) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0 || gridY > 65535 || gridZ > 65535)
            throw new IllegalArgumentException(kernel + ": bad grid (" + gridX + ", " + gridY + ", " + gridZ + ")");
    }

    /** One kernel function, with the launch helper. */
    public static final class Kernel {
        final String name;
        final CUfunction function;
        private int dynamicSmemLimit = 48 * 1024;

        Kernel(String name, CUfunction function) { this.name = name; this.function = function; }

        /**
         * Launches on the stream. Arguments in the kernel's signature order: CUdeviceptr (null passes a null
         * pointer), Integer (int), Long (long long), Float (float), Boolean (int 0/1).
         */
        public void launch(int gridX, int gridY, int gridZ, int block, int smemBytes, Object... args) {
            require();
            checkGrid(name, gridX, gridY, gridZ);
            if (smemBytes > dynamicSmemLimit) {
                synchronized (this) {
                    if (smemBytes > maxSmemOptin)
                        throw new IllegalArgumentException(name + ": needs " + smemBytes
                                + " bytes of shared memory, the device allows " + maxSmemOptin);
                    cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            smemBytes);
                    dynamicSmemLimit = smemBytes;
                }
            }
            Pointer[] ps = new Pointer[args.length];
            for (int i = 0; i < args.length; i++) ps[i] = param(args[i], i);
            cuLaunchKernel(function, gridX, gridY, gridZ, block, 1, 1, smemBytes, stream, Pointer.to(ps), null);
        }

        private Pointer param(Object a, int i) {
            if (a == null) return Pointer.to(new CUdeviceptr());
            if (a instanceof CUdeviceptr) return Pointer.to((CUdeviceptr) a);
            if (a instanceof DeviceBuffer) return Pointer.to(((DeviceBuffer) a).ptr());
            if (a instanceof Integer) return Pointer.to(new int[]{(Integer) a});
            if (a instanceof Long) return Pointer.to(new long[]{(Long) a});
            if (a instanceof Float) return Pointer.to(new float[]{(Float) a});
            if (a instanceof Boolean) return Pointer.to(new int[]{(Boolean) a ? 1 : 0});
            throw new IllegalArgumentException(name + ": argument " + i + " has unsupported type " + a.getClass());
        }

        @Override public String toString() { return name; }
    }
}
