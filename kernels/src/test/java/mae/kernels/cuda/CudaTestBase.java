package mae.kernels.cuda;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Base of the GPU tests: tagged "cuda" (excluded from mvn test by the parent pom; bench/gpu-check.sh runs them),
 * and each test skips with Cuda.reason() where there is no GPU. Buffers made through dev() are freed after each test.
 */
@Tag("cuda")
abstract class CudaTestBase {
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    @BeforeEach void requireGpu() {
        Assumptions.assumeTrue(Cuda.available(), Cuda.reason());
    }

    @AfterEach void freeBuffers() {
        for (DeviceBuffer b : buffers) b.close();
        buffers.clear();
    }

    DeviceBuffer dev(float[] host) { DeviceBuffer b = DeviceBuffer.of(host); buffers.add(b); return b; }
    DeviceBuffer dev(int[] host) { DeviceBuffer b = DeviceBuffer.of(host); buffers.add(b); return b; }
    DeviceBuffer devZeros(long n) { DeviceBuffer b = DeviceBuffer.zeros(n); buffers.add(b); return b; }

    static float[] gaussian(Random r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * r.nextGaussian());
        return x;
    }

    static float[] uniform(Random r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return x;
    }

    /** Small integers in [lo, hi]: sums of these are exact in float below 2^24, whatever the order. */
    static float[] ints(Random r, int n, int lo, int hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + r.nextInt(hi - lo + 1);
        return x;
    }

    /** |got - ref| <= atol + rtol * |ref| everywhere; the message names the worst element. */
    static void assertClose(String what, float[] ref, float[] got, double atol, double rtol) {
        if (ref.length != got.length) fail(what + ": length " + got.length + ", expected " + ref.length);
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) got[i] - ref[i]);
            double tol = atol + rtol * Math.abs(ref[i]);
            boolean bad = !(err <= tol) && !(Float.isNaN(ref[i]) && Float.isNaN(got[i]))
                    && !(Float.isInfinite(ref[i]) && ref[i] == got[i]);
            double ratio = bad ? Double.POSITIVE_INFINITY : (tol == 0 ? 0 : err / tol);
            if (bad || ratio > worstRatio) { worstRatio = ratio; worst = i; }
            if (bad) break;
        }
        if (worst >= 0 && worstRatio > 1)
            fail(String.format("%s: element %d is %s, expected %s (atol %.3g, rtol %.3g)", what, worst,
                    got[worst], ref[worst], atol, rtol));
    }

    static void assertExact(String what, float[] ref, float[] got) { assertClose(what, ref, got, 0, 0); }
}
