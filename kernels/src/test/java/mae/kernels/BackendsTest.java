package mae.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

/** Backends: names to backends, the installed CUDA stand-in, and one log line per choice. */
class BackendsTest {
    /** A backend that only has a name (the ops are not called here). */
    static Backend named(String describe) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (p, m, a) -> switch (m.getName()) {
                    case "device" -> "cuda";
                    case "describe" -> describe;
                    case "toString" -> describe;
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test void names_become_backends_and_an_installed_cuda_backend_stands_in_for_the_gpu() {
        List<LogRecord> log = new ArrayList<>();
        Logger jul = Logger.getLogger("mae.backend");
        Level level = jul.getLevel();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { log.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        jul.setLevel(Level.ALL);
        jul.addHandler(h);
        Backend was = Backends.install(null);
        try {
            assertSame(CpuBackend.INSTANCE, Backends.get("cpu"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.get("tpu"));
            assertTrue(e.getMessage().contains("unknown device 'tpu'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Backends.get(null));

            Backend one = named("stand-in one"), two = named("stand-in two");
            assertNull(Backends.install(one), "nothing was installed");
            assertTrue(Backends.cudaAvailable());
            assertEquals("stand-in one", Backends.describeCuda());
            log.clear();
            assertSame(one, Backends.get("cuda"));
            assertSame(one, Backends.get("cuda"));
            assertEquals(1, log.size(), "one line per choice, not per call");
            assertEquals(Level.INFO, log.get(0).getLevel());
            assertTrue(log.get(0).getMessage().contains("backend cuda: stand-in one"), log.get(0).getMessage());
            assertSame(one, Backends.install(two), "install returns the one it replaces");
            assertSame(two, Backends.get("cuda"));
            assertEquals(2, log.size(), "a new choice is logged");
            assertTrue(log.get(1).getMessage().contains("stand-in two"));
            assertSame(two, Backends.install(null));
            if (!mae.kernels.cuda.CudaBackend.available()) {
                assertFalse(Backends.cudaAvailable(), "no GPU and nothing installed");
                IllegalStateException x = assertThrows(IllegalStateException.class, () -> Backends.get("cuda"));
                assertTrue(x.getMessage().startsWith("CUDA is not available"), "the GPU backend's own error, not wrapped: " + x.getMessage());
                assertEquals(mae.kernels.cuda.CudaBackend.availability(), Backends.describeCuda());
            }
        } finally {
            Backends.install(was);
            jul.removeHandler(h);
            jul.setLevel(level);
        }
    }
}
