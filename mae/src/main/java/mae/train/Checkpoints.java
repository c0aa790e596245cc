package mae.train;

import mae.autograd.Var;
import mae.data.Normalization;
import mae.io.AtomicFiles;
import mae.io.JsonFile;
import mae.model.MaeConfig;
import mae.model.MaeModel;
import mae.model.Weights;
import mae.optim.AdamW;
import mae.tensor.Rng;
import mae.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A run's checkpoints: RUN/checkpoints/step-NNNNNNN/ with weights.safetensors (the model under the official MAE
 * names, its config and the data normalization in the metadata), optimizer.safetensors (the AdamW moments) and
 * state.json (step, epoch, optimizer steps, the generator's state): everything a resumed run needs to continue
 * bit-identically on the CPU. A checkpoint is written into a .tmp folder, renamed into place, and only then named
 * by checkpoints/latest (itself replaced atomically), so a run killed at any moment leaves its last complete
 * checkpoint intact. Only the latest is kept.
 */
public final class Checkpoints {
    private final Path dir;
    private Path lastWritten;

    /** The checkpoints of the run in runDir. */
    public Checkpoints(Path runDir) { this.dir = runDir.resolve("checkpoints"); }

    /**
     * Writes the checkpoint of step (weights, AdamW moments, generator state) and names it latest; returns its
     * folder. Only finite weights are written: an update that overflowed stops the run instead.
     */
    public Path save(long step, int epoch, MaeModel model, AdamW opt, Rng rng, Normalization norm) throws IOException {
        requireFinite(model, step);
        lastWritten = commit(step, into -> write(into, model, opt, rng, step, epoch, norm));
        return lastWritten;
    }

    /**
     * Restores the model, the optimizer and the generator from a checkpoint folder; returns its step. Everything
     * is checked before it is used, and errors name the file and the key: state.json's step must be the folder's
     * (step-0000004 holds step 4), the optimizer's step count the same, the generator's state not all zero; the
     * weights must be this run's config and finite, the optimizer moments present, shaped and finite.
     */
    public static long restore(Path ck, MaeModel model, AdamW opt, Rng rng) throws IOException {
        JsonFile st = JsonFile.read(ck.resolve("state.json"));    // numbers, or strings of them (older runs)
        long step = st.longValue("step"), named = stepOf(ck);
        if (step != named)
            throw new IllegalArgumentException(st.file() + ": \"step\" is " + step + ", but the checkpoint folder is " + ck.getFileName() + " (expected " + named + ")");
        long optSteps = st.longValue("optimizer_steps");
        if (optSteps != step)
            throw new IllegalArgumentException(st.file() + ": \"optimizer_steps\" is " + optSteps + ", expected " + step + " (one per step)");
        long epoch = st.longValue("epoch");
        if (epoch < 0 || epoch > step) throw new IllegalArgumentException(st.file() + ": \"epoch\" is " + epoch + ", expected 0.." + step);
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) s[i] = st.longValue("rng" + i);
        if ((s[0] | s[1] | s[2] | s[3]) == 0) throw new IllegalArgumentException(st.file() + ": \"rng0\"..\"rng3\" are all 0, not a generator state");

        Path w = ck.resolve("weights.safetensors");
        Safetensors.Contents c = Safetensors.read(w);
        MaeConfig saved = MaeConfig.fromMetadata(c.metadata(), w.toString());
        Map<String, String> want = new LinkedHashMap<>(model.cfg.toMetadata()), got = new LinkedHashMap<>(saved.toMetadata());
        want.remove("config_name");
        got.remove("config_name");
        if (!want.equals(got))
            throw new IllegalArgumentException(w + ": checkpoint of another config (" + saved + ") than this run's " + model.cfg);
        Path of = ck.resolve("optimizer.safetensors");
        Map<String, Safetensors.Entry> moments = Safetensors.read(of).tensors();
        Weights.assign(model.params, c.tensors(), w, List.of());
        opt.load(moments, optSteps, of.toString());
        rng.setState(s);
        return step;
    }

    /** The step a checkpoint folder's name says: step-0000004 -> 4. */
    static long stepOf(Path ck) {
        String n = ck.getFileName().toString();
        if (!NAME.matcher(n).matches()) throw new IllegalArgumentException(ck + ": not a checkpoint folder name (expected step-NNNNNNN)");
        return Long.parseLong(n.substring(5));
    }

    /** A checkpoint folder's name: step- and at least 7 digits. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("step-[0-9]{7,12}");

    /**
     * The last complete checkpoint (the one checkpoints/latest names), or null when there is none. latest must
     * name a checkpoint folder of this run (step-NNNNNNN, no path): anything else is an error naming the file.
     */
    public Path latest() throws IOException {
        Path latest = dir.resolve("latest");
        if (!Files.exists(latest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return null;
        if (!Files.isRegularFile(latest, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            throw new IllegalArgumentException(latest + ": not a plain file (expected one line naming a checkpoint folder, like step-0000004)");
        long size = Files.size(latest);
        if (size > 64) throw new IllegalArgumentException(latest + ": " + size + " bytes, not a checkpoint name (expected one line like step-0000004)");
        String name = new String(Files.readAllBytes(latest), StandardCharsets.UTF_8).trim();
        if (!NAME.matcher(name).matches())
            throw new IllegalArgumentException(latest + ": names " + mae.tensor.io.Json.quote(name) + ", not a checkpoint folder of this run (expected step-NNNNNNN)");
        Path c = dir.resolve(name);
        if (!Files.isDirectory(c)) throw new IOException(latest + " names " + c.getFileName() + ", which is missing");
        return c;
    }

    /** The checkpoint a failed run can go back to: the last one this process wrote, else the latest; null when none. */
    public Path lastGood() throws IOException { return lastWritten != null ? lastWritten : latest(); }

    /**
     * Resolves what a user passes as --checkpoint: a weights file (ours, or a released .pth, .bin or safetensors),
     * a checkpoint folder, a run folder (its latest checkpoint), or a downloaded Hugging Face / timm model folder
     * (its model.safetensors, else pytorch_model.bin). The result is a weights file.
     */
    public static Path resolveWeights(Path p) throws IOException {
        if (Files.isRegularFile(p)) return p;
        if (!Files.isDirectory(p)) throw new IllegalArgumentException("--checkpoint " + p + " does not exist");
        if (Files.isRegularFile(p.resolve("weights.safetensors"))) return p.resolve("weights.safetensors");
        for (String hub : List.of("model.safetensors", "pytorch_model.bin"))
            if (Files.isRegularFile(p.resolve(hub))) return p.resolve(hub);
        Path c = new Checkpoints(p).latest();
        if (c == null) throw new IllegalArgumentException("--checkpoint " + p + " holds no checkpoint (no weights.safetensors, no checkpoints/latest)");
        return c.resolve("weights.safetensors");
    }

    // ---------------------------------------------------------------- writing

    private void requireFinite(MaeModel model, long step) throws IOException {
        for (Map.Entry<String, Var> e : model.params.trainable().entrySet())
            for (float v : e.getValue().value().toArray())
                if (!Float.isFinite(v)) {
                    Path good = lastGood();
                    throw new IllegalStateException("parameter " + e.getKey() + " became " + v + " after step " + step + "; stopped without checkpointing. The last good checkpoint is "
                            + (good != null ? good : "none") + ". Try a lower --blr or a longer --warmup-epochs.");
                }
    }

    private static void write(Path into, MaeModel model, AdamW opt, Rng rng, long step, int epoch, Normalization norm) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(norm.toMetadata());
        meta.put("step", "" + step);
        Weights.save(into.resolve("weights.safetensors"), model, meta);
        Map<String, String> optMeta = new LinkedHashMap<>();
        optMeta.put("step", "" + opt.steps());
        Safetensors.write(into.resolve("optimizer.safetensors"), optMeta, opt.state());
        long[] s = rng.state();
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("step", step);
        st.put("epoch", epoch);
        st.put("optimizer_steps", opt.steps());
        for (int i = 0; i < s.length; i++) st.put("rng" + i, s[i]);
        JsonFile.write(into.resolve("state.json"), st);
    }

    private interface Writer { void write(Path into) throws IOException; }

    /** A new checkpoint folder, moved into place atomically, then named by latest; returns its final path. */
    private Path commit(long step, Writer writer) throws IOException {
        Files.createDirectories(dir);
        String name = String.format("step-%07d", step);
        Path tmp = dir.resolve(name + ".tmp"), fin = dir.resolve(name);
        AtomicFiles.deleteTree(tmp);
        Files.createDirectories(tmp);
        writer.write(tmp);
        AtomicFiles.deleteTree(fin);
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.writeString(dir.resolve("latest"), name + "\n");
        pruneExcept(name);
        return fin;
    }

    /** Keeps the latest checkpoint (and removes leftovers of interrupted writes: folders and temp files). */
    private void pruneExcept(String keep) throws IOException {
        mae.tensor.io.TempFiles.removeStaleIn(dir);
        List<Path> old = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().equals(keep)).forEach(old::add);
        }
        for (Path p : old) AtomicFiles.deleteTree(p);
    }
}
