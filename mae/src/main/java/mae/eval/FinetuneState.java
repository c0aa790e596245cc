package mae.eval;

import mae.autograd.Var;
import mae.io.AtomicFiles;
import mae.io.JsonFile;
import mae.model.Weights;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.io.Json;
import mae.tensor.io.Safetensors;
import mae.vit.Params;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a fine-tuning keeps its state after each whole epoch, so that a killed run continues (finetune --resume)
 * and ends with the same bits as one never stopped. RESULT/finetune-state/ holds state.json (the run's identity:
 * checkpoint, data and settings; the phase, random-init baseline or pretrained encoder, with its epoch and
 * step; the generators; the running loss; the scores so far), encoder.safetensors and head.safetensors (the
 * weights), optimizer.safetensors (the AdamW moments) and order.safetensors (the image order, which each epoch
 * reshuffles in place). It is written as a .tmp folder and renamed into place, so a kill at any moment leaves the
 * previous epoch's state whole; a finished run deletes it.
 */
public final class FinetuneState {
    public static final String BASELINE = "baseline", PRETRAINED = "pretrained";

    private final Path dir;
    private final Map<String, String> identity;
    /** The random-init baseline's top-1 once it has finished (kept in every later state); null before. */
    private Double baselineAccuracy;
    private double secondsBefore;
    /** state.json as {@link #load} read it, for {@link #restore}. */
    private JsonFile loaded;
    private final long started = System.nanoTime();

    /** The state folder of a fine-tuning whose results go to resultDir; identity: what a resumed run must share. */
    public FinetuneState(Path resultDir, Map<String, String> identity) {
        this.dir = resultDir.resolve("finetune-state");
        this.identity = Map.copyOf(identity);
    }

    public Path dir() { return dir; }

    public boolean exists() throws IOException {
        recover();
        return Files.isRegularFile(dir.resolve("state.json"));
    }

    /** A kill between the two renames of {@link #commit} leaves the previous state as .old: it becomes the state again. */
    private void recover() throws IOException {
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        if (!Files.exists(dir) && Files.isRegularFile(old.resolve("state.json"))) Files.move(old, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The training loop's state at the end of a whole epoch: what its next step needs. */
    public record Snapshot(String phase, int epoch, int step, Params enc, Params head, AdamW opt, Rng rng, Rng drop, int[] order,
                           double runningLoss, double lastLoss, double[] curve) {}

    /** What {@link #load} found: the phase to continue and, when it had begun, its snapshot's numbers. */
    public record Saved(String phase, int epoch, int step, double runningLoss, double lastLoss, double[] curve, Double baselineAccuracy) {}

    /**
     * Reads state.json and checks it belongs to this run: every identity entry must match, and a mismatch is an
     * error naming the file and each differing entry. The tensors are restored later, by {@link #restore}.
     */
    public Saved load() throws IOException {
        recover();
        JsonFile st = JsonFile.read(dir.resolve("state.json"));
        Map<String, String> saved = st.strings("identity");
        List<String> diff = new ArrayList<>();
        for (String k : identity.keySet())
            if (!identity.get(k).equals(saved.get(k))) diff.add(k + " " + (saved.containsKey(k) ? Json.quote(saved.get(k)) : "(none)") + " there, " + Json.quote(identity.get(k)) + " now");
        for (String k : saved.keySet()) if (!identity.containsKey(k)) diff.add(k + " " + Json.quote(saved.get(k)) + " there, (none) now");
        if (!diff.isEmpty())
            throw new IllegalArgumentException(st.file() + ": the saved fine-tuning is another run's (" + String.join("; ", diff)
                    + "); give the same options to continue it, or leave out --resume to start over (which replaces it)");
        String phase = st.string("phase");
        if (!phase.equals(BASELINE) && !phase.equals(PRETRAINED))
            throw new IllegalArgumentException(st.file() + ": \"phase\" is " + Json.quote(phase) + ", expected \"" + BASELINE + "\" or \"" + PRETRAINED + "\"");
        int epoch = st.intValue("epoch"), step = st.intValue("step");
        if (epoch < 0 || step < epoch) throw new IllegalArgumentException(st.file() + ": \"epoch\" " + epoch + " and \"step\" " + step + " do not fit (0 <= epoch <= step)");
        String b = st.string("baseline_accuracy", true);
        baselineAccuracy = b == null ? null : Double.valueOf(b);
        secondsBefore = st.doubleValue("seconds");
        loaded = st;
        return new Saved(phase, epoch, step, st.doubleValue("running_loss"), st.doubleValue("last_loss"), st.doubles("curve"), baselineAccuracy);
    }

    /**
     * Puts the tensors and generators of the state {@link #load} read into a fresh training loop's objects: every
     * tensor is checked first (name, shape, finite values), errors name the file.
     */
    public void restore(Params enc, Params head, AdamW opt, Rng rng, Rng drop, int[] order) throws IOException {
        if (loaded == null) throw new IllegalStateException("restore before load");
        Path e = dir.resolve("encoder.safetensors"), h = dir.resolve("head.safetensors"), o = dir.resolve("optimizer.safetensors"), ord = dir.resolve("order.safetensors");
        Weights.assign(enc, Safetensors.read(e).tensors(), e, List.of());
        Weights.assign(head, Safetensors.read(h).tensors(), h, List.of());
        opt.load(Safetensors.read(o).tensors(), loaded.longValue("optimizer_steps"), o.toString());
        Safetensors.Entry saved = Safetensors.read(ord).tensors().get("order");
        if (saved == null || saved.longs() == null || saved.longs().length != order.length)
            throw new IllegalArgumentException(ord + ": expected an I64 tensor 'order' of " + order.length + " image indices");
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < seen.length; i++) {
            long v = saved.longs()[i];
            if (v < 0 || v >= seen.length || seen[(int) v]) throw new IllegalArgumentException(ord + ": 'order' is not a permutation of 0.." + (seen.length - 1) + " (index " + i + " holds " + v + ")");
            seen[(int) v] = true;
            order[i] = (int) v;
        }
        rng.setState(generator(loaded, "rng"));
        drop.setState(generator(loaded, "drop"));
    }

    private static long[] generator(JsonFile st, String key) {
        long[] words = st.longs(key);
        if (words.length != 4 || (words[0] | words[1] | words[2] | words[3]) == 0)
            throw new IllegalArgumentException(st.file() + ": \"" + key + "\" is not a generator state (4 words, not all 0)");
        return words;
    }

    /** The baseline has finished with this top-1: the pretrained encoder's phase starts next (at its epoch 0). */
    public void baselineDone(double accuracy) throws IOException {
        baselineAccuracy = accuracy;
        commit(null, PRETRAINED, seconds(), tmp -> { });
    }

    /** Writes the state after a whole epoch. */
    public void save(Snapshot s) throws IOException {
        commit(s, s.phase(), seconds(), tmp -> {
            Safetensors.write(tmp.resolve("encoder.safetensors"), Map.of(), tensors(s.enc()));
            Safetensors.write(tmp.resolve("head.safetensors"), Map.of(), tensors(s.head()));
            Safetensors.write(tmp.resolve("optimizer.safetensors"), Map.of("step", "" + s.opt().steps()), s.opt().state());
            long[] order = new long[s.order().length];
            for (int i = 0; i < order.length; i++) order[i] = s.order()[i];
            Safetensors.write(tmp.resolve("order.safetensors"), Map.of(), Map.of("order", Safetensors.Entry.i64(new int[]{order.length}, order)));
        });
    }

    /** The run's time so far: this launch's and, when it continues a saved state, the launches' before it. */
    public double seconds() { return secondsBefore + (System.nanoTime() - started) / 1e9; }

    /** The run finished: its state goes. */
    public void delete() throws IOException { AtomicFiles.deleteTree(dir); }

    private interface Tensors { void write(Path tmp) throws IOException; }

    private void commit(Snapshot s, String phase, double seconds, Tensors tensors) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        tensors.write(tmp);
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("identity", new LinkedHashMap<>(identity));
        st.put("phase", phase);
        st.put("epoch", s == null ? 0 : s.epoch());
        st.put("step", s == null ? 0 : s.step());
        st.put("baseline_accuracy", baselineAccuracy == null ? Json.NULL : Double.toString(baselineAccuracy));
        st.put("seconds", seconds);
        if (s != null) {
            st.put("optimizer_steps", s.opt().steps());
            st.put("rng", s.rng().state());
            st.put("drop", s.drop().state());
            st.put("running_loss", s.runningLoss());
            st.put("last_loss", s.lastLoss());
            st.put("curve", s.curve());
        } else {
            st.put("running_loss", 0.0);
            st.put("last_loss", 0.0);
            st.put("curve", new double[0]);
        }
        JsonFile.write(tmp.resolve("state.json"), st);
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        AtomicFiles.deleteTree(old);
        if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.deleteTree(old);
    }

    private static Map<String, Safetensors.Entry> tensors(Params ps) {
        Map<String, Safetensors.Entry> m = new LinkedHashMap<>();
        for (Map.Entry<String, Var> p : ps.all().entrySet())
            m.put(p.getKey(), Safetensors.Entry.f32(p.getValue().shape(), p.getValue().value().toArray()));
        return m;
    }
}
