package mae.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import mae.kernels.Elementwise.Binary;
import mae.kernels.Elementwise.Unary;
import mae.kernels.cuda.CudaKernels.Precision;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs everywhere (no GPU): every launcher of {@link CudaKernels}, called with stand-in pointers while its launches
 * are recorded instead of run, passes its kernel exactly the parameters of the kernel's entry in the committed PTX
 * (count, and size at each position: .u64 for a pointer or a long long, .u32 for an int, .f32 for a float) and of
 * its signature in kernels/src/main/cuda (pointer, long long, int, float at each position, which the PTX cannot tell
 * apart). Arguments of one type swapped with each other are the emulated backend's to catch (EmulatedCudaKernelsTest).
 */
class CudaLaunchSignatureTest {
    record Launch(String kernel, int gridX, int gridY, int gridZ, int block, int smem, Object[] args) {}

    /** Records launches, runs nothing. */
    static final class Recorder implements CudaKernels.Launcher {
        final List<Launch> launches = new ArrayList<>();

        @Override public void launch(String kernel, int gx, int gy, int gz, int block, int smem, Object[] args) {
            launches.add(new Launch(kernel, gx, gy, gz, block, smem, args.clone()));
        }

        /** An H100's opt-in limit unless a test sets a smaller one (sm_86 and sm_89: 99 KB). */
        int sharedMemoryOptin = 227 * 1024;

        @Override public int smCount() { return 132; }

        @Override public int maxSharedMemoryOptin() { return sharedMemoryOptin; }
    }

    /** Kinds of a parameter: what the C signature says, and the PTX type it becomes. */
    enum Kind {
        PTR("u64"), I64("u64"), I32("u32"), F32("f32");
        final String ptx;
        Kind(String ptx) { this.ptx = ptx; }

        /** What Cuda.Kernel.launch passes for a Java argument (null is a null pointer; a Boolean an int). */
        static Kind of(Object a) {
            if (a == null || a instanceof CUdeviceptr || a instanceof DeviceBuffer) return PTR;
            if (a instanceof Long) return I64;
            if (a instanceof Integer || a instanceof Boolean) return I32;
            if (a instanceof Float) return F32;
            throw new IllegalArgumentException("argument of type " + a.getClass() + " cannot be passed to a kernel");
        }

        /** A C parameter declaration's kind. */
        static Kind ofC(String decl) {
            String d = decl.replace("const", " ").replace("__restrict__", " ").trim();
            if (d.contains("*")) return PTR;
            if (d.matches("long\\s+long\\s+\\w+")) return I64;
            if (d.matches("(unsigned\\s+)?int\\s+\\w+")) return I32;
            if (d.matches("float\\s+\\w+")) return F32;
            throw new IllegalArgumentException("unknown C parameter type: " + decl);
        }
    }

    static final List<String> FAMILIES = List.of("adamw", "attention", "elementwise", "gather", "gelu", "layernorm", "matmul", "reduce", "softmax");

    /** "family/name" -> the PTX types of its parameters, from the committed sm_80 PTX. */
    static Map<String, List<String>> ptxParams() throws IOException {
        Map<String, List<String>> m = new LinkedHashMap<>();
        Pattern entry = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)"), param = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+\\w+");
        for (String f : FAMILIES) {
            byte[] ptx = CudaBuildTest.resource(f + ".sm_80.ptx");
            assertNotNull(ptx, f + ".sm_80.ptx");
            Matcher e = entry.matcher(new String(ptx, StandardCharsets.US_ASCII));
            while (e.find()) {
                List<String> types = new ArrayList<>();
                Matcher p = param.matcher(e.group(2));
                while (p.find()) types.add(p.group(1));
                m.put(f + "/" + e.group(1), types);
            }
        }
        return m;
    }

    /**
     * "family/name" -> the kinds of its C parameters, from kernels/src/main/cuda/family.cu: each extern "C"
     * __global__ function, a macro-made name (attention_forward_hd##HD, or the macro parameter NAME of matmul.cu)
     * standing for the PTX entries it makes.
     */
    static Map<String, List<Kind>> cParams(Set<String> entries) throws IOException {
        Path dir = CudaBuildTest.requireSources();
        Pattern global = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?([\\w#]+)\\s*\\(([^)]*)\\)");
        Map<String, List<Kind>> m = new LinkedHashMap<>();
        for (String f : FAMILIES) {
            String src = Files.readString(dir.resolve(f + ".cu")).replace("\\\n", " ");
            Matcher g = global.matcher(src);
            Map<String, List<Kind>> literal = new LinkedHashMap<>(), pattern = new LinkedHashMap<>();
            while (g.find()) {
                List<Kind> kinds = new ArrayList<>();
                for (String decl : g.group(2).split(",")) kinds.add(Kind.ofC(decl));
                String name = g.group(1);
                if (name.contains("##")) pattern.put(name.replaceAll("##\\w+", "\\\\w+"), kinds);
                else if (entries.contains(f + "/" + name)) literal.put(name, kinds);
                else pattern.put("\\w+", kinds);                           // a macro parameter: the family's other entries
            }
            for (String e : entries) {
                if (!e.startsWith(f + "/")) continue;
                String name = e.substring(f.length() + 1);
                List<Kind> k = literal.get(name);
                if (k == null)
                    for (Map.Entry<String, List<Kind>> p : pattern.entrySet())
                        if (name.matches(p.getKey()) && (k == null || !p.getKey().equals("\\w+"))) k = p.getValue();
                assertNotNull(k, "no C signature for " + e + " in " + f + ".cu");
                m.put(e, k);
            }
        }
        return m;
    }

    /** Calls every launcher, with every kernel variant it can choose, on stand-in pointers (nothing runs). */
    static List<Launch> launchEverything() {
        Recorder rec = new Recorder();
        CudaKernels.Launcher was = CudaKernels.divert(rec);
        try {
            CUdeviceptr p = new CUdeviceptr();
            CudaKernels.unary(Unary.EXP, p, p, 10);
            CudaKernels.unaryStrided(Unary.EXP, p, new int[]{2, 3}, p, new int[]{1, 2});
            CudaKernels.unaryStrided(null, p, new int[]{2, 3}, p, new int[]{1, 2});
            CudaKernels.copyStrided(p, new int[]{1, 2}, new int[]{2, 3}, p, new int[]{3, 1});
            CudaKernels.binary(Binary.ADD, p, p, p, 10);
            CudaKernels.binaryStrided(Binary.MUL, p, new int[]{2, 3}, p, new int[]{1, 2}, p, new int[]{0, 1});
            CudaKernels.addBias(p, p, p, 4, 3);
            CudaKernels.fill(p, 1f, 10);
            CudaKernels.sum(p, p, 3, 10, 1);
            CudaKernels.sum(p, p, 1, 100_000, 1);         // split rows: zero-fill, then accumulate
            CudaKernels.sum(p, p, 3, 10, 5);
            CudaKernels.sum(p, p, 1, 5000, 7);            // split middle axis
            CudaKernels.max(p, p, p, 3, 10, 1);
            CudaKernels.max(p, p, p, 3, 10, 5);
            CudaKernels.softmaxForward(p, p, 3, 4);
            CudaKernels.softmaxBackward(p, p, p, 3, 4);
            CudaKernels.layerNormForward(p, p, p, p, p, p, 3, 4, 1e-5f);
            CudaKernels.layerNormBackward(p, p, p, p, p, p, p, p, 3, 4);
            CudaKernels.layerNormBackward(p, null, null, p, p, p, p, p, 3, 4);
            CudaKernels.geluForward(p, p, 10);
            CudaKernels.geluBackward(p, p, p, 10);
            for (int hd : CudaKernels.ATTENTION_HEAD_WIDTHS) {
                CudaKernels.attentionForward(p, p, p, p, p, 2, 20, hd, 0.1f);
                CudaKernels.attentionBackward(p, p, p, p, p, p, p, p, p, p, 2, 20, hd, 0.1f);
            }
            CudaKernels.adamwStep(p, p, p, p, 10, 1, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.05f);
            CudaKernels.gather(p, p, p, 2, 3, 4, 5, 1);
            CudaKernels.scatterAdd(p, p, p, 2, 3, 4, 5, 5);
            for (boolean pipe : new boolean[]{true, false}) {   // v3, and v2 by the test hook
                CudaKernels.matmulPipe = pipe;
                for (Precision pr : Precision.values())
                    for (boolean ta : new boolean[]{false, true})
                        for (boolean tb : new boolean[]{false, true})
                            CudaKernels.matmul(ta, tb, 3, 4, 5, 1f, p, ta ? 3 : 5, 0, p, tb ? 5 : 4, 0, 0f, p, 4, 0, 1, pr);
            }
        } finally {
            CudaKernels.matmulPipe = true;
            CudaKernels.divert(was);
        }
        return rec.launches;
    }

    /** What is wrong with a launch's arguments against the kernel's PTX types and C kinds; null when nothing. */
    static String mismatch(Launch l, List<String> ptx, List<Kind> c) {
        if (ptx == null) return l.kernel() + " is not an entry of the committed PTX";
        if (l.args().length != ptx.size()) return l.kernel() + ": " + l.args().length + " arguments, the PTX entry takes " + ptx.size();
        if (c.size() != ptx.size()) return l.kernel() + ": the C signature has " + c.size() + " parameters, the PTX " + ptx.size() + " (rebuild the PTX)";
        for (int i = 0; i < ptx.size(); i++) {
            Kind k = Kind.of(l.args()[i]);
            if (!k.ptx.equals(ptx.get(i))) return l.kernel() + ": argument " + i + " is " + k + " (." + k.ptx + "), the PTX parameter ." + ptx.get(i);
            if (k != c.get(i)) return l.kernel() + ": argument " + i + " is " + k + ", the C parameter " + c.get(i);
        }
        return null;
    }

    @Test void every_launcher_passes_its_kernel_the_parameters_of_the_committed_ptx_and_the_cuda_source() throws IOException {
        Map<String, List<String>> ptx = ptxParams();
        Map<String, List<Kind>> c = cParams(ptx.keySet());
        List<Launch> launches = launchEverything();
        Set<String> launched = new TreeSet<>();
        for (Launch l : launches) {
            assertNull(mismatch(l, ptx.get(l.kernel()), c.get(l.kernel())));
            launched.add(l.kernel());
        }
        assertEquals(new TreeSet<>(CudaKernels.kernelNames()), launched, "every kernel a launcher can ask for was launched here");
        assertEquals(new TreeSet<>(ptx.keySet()), launched, "and every entry of the PTX has its launcher");
    }

    /** The check itself: a long where the kernel takes an int, a missing argument, an int for a pointer are reported. */
    @Test void a_launch_that_does_not_fit_the_signature_is_reported() throws IOException {
        Map<String, List<String>> ptx = ptxParams();
        Map<String, List<Kind>> c = cParams(ptx.keySet());
        CUdeviceptr p = new CUdeviceptr();
        String k = "elementwise/add_bias_f32";
        assertNull(mismatch(new Launch(k, 1, 1, 1, 256, 0, new Object[]{p, p, p, 4, 3}), ptx.get(k), c.get(k)));
        assertTrue(mismatch(new Launch(k, 1, 1, 1, 256, 0, new Object[]{p, p, p, 4L, 3}), ptx.get(k), c.get(k)).contains("argument 3"));
        assertTrue(mismatch(new Launch(k, 1, 1, 1, 256, 0, new Object[]{p, p, p, 4}), ptx.get(k), c.get(k)).contains("4 arguments"));
        assertTrue(mismatch(new Launch(k, 1, 1, 1, 256, 0, new Object[]{p, p, 7, 4, 3}), ptx.get(k), c.get(k)).contains("argument 2"));
        String u = "elementwise/unary_f32";                               // (float* out, const float* x, long long n, int op)
        assertTrue(mismatch(new Launch(u, 1, 1, 1, 256, 0, new Object[]{p, 10L, p, 1}), ptx.get(u), c.get(u)).contains("the C parameter PTR"),
                "a long long and a pointer swapped: the same PTX type, told apart by the C signature");
        assertTrue(mismatch(new Launch("elementwise/nope", 1, 1, 1, 256, 0, new Object[0]), ptx.get("elementwise/nope"), null).contains("not an entry"));
        assertEquals(List.of(Kind.PTR, Kind.PTR, Kind.I64, Kind.I32), c.get(u));
        assertEquals(List.of("u64", "u64", "u64", "u32"), ptx.get(u));
    }
}
