package mae.tensor.io;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import mae.tensor.io.Safetensors.Dtype;
import mae.tensor.io.Safetensors.Entry;
import mae.tensor.io.Unpickler.Global;
import mae.tensor.io.Unpickler.Instance;
import mae.tensor.io.Unpickler.PickleException;
import mae.tensor.io.Unpickler.Tuple;

/**
 * Reads PyTorch checkpoints written by {@code torch.save} in its zip format (the default since PyTorch 1.6),
 * without running anything from the file.
 *
 * <p>The archive holds {@code <archive>/data.pkl}, a pickle of the saved object whose tensors refer by key to
 * storages, each a stored (uncompressed) entry {@code <archive>/data/<key>}; {@code <archive>/byteorder}, when
 * present, must say {@code little}. The pickle is read by {@link Unpickler}, which knows only the globals a state
 * dict uses: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code torch._utils._rebuild_parameter}, the storage types below, and {@code argparse.Namespace} (the official
 * MAE checkpoints' {@code args}), which becomes an {@link Opaque} value and is never constructed. Any other
 * global is refused by name, so a pickle naming {@code os.system} or {@code builtins.eval} is an error, not a call.
 *
 * <p>Storage types: {@code FloatStorage} (F32), {@code HalfStorage} (F16), {@code BFloat16Storage} (BF16) and
 * {@code DoubleStorage} (F64) give float32 values (F16 and BF16 exactly); {@code LongStorage} (I64) and
 * {@code IntStorage} (I32) give longs, as {@link Safetensors#read} does for those dtypes, so an integer buffer
 * such as a position-id table loads. Other storage types (bool, uint8, ...) are refused by name. Each
 * {@link Entry} keeps the source dtype's name and holds the values in row-major order: a tensor's storage offset,
 * size and stride are honoured, and a non-contiguous tensor (a transpose, a strided slice, an expand) is copied out
 * (from a memory-mapped window when it spans 1 MiB or more; at most 2 GiB). Contiguous tensors are read in 4 MiB
 * chunks.
 *
 * <p>Where the tensors come from: official MAE checkpoints keep the state dict under the top-level key
 * {@code model} (beside {@code epoch}, {@code args}, and in training checkpoints {@code optimizer} and
 * {@code scaler}); a Hugging Face {@code pytorch_model.bin} is the state dict itself. So if the top-level dict has
 * a dict under {@code model}, that is the state dict, otherwise the top-level dict is. Every other item, top-level
 * or in the state dict without being a tensor, is returned in {@link Contents#extras()} as a plain value: tensors
 * outside the state dict (an optimizer's moments) are never read.
 *
 * <p>Hostile files fail with a one-line {@link TorchCheckpointException} naming the file (and the tensor or entry
 * where there is one). No allocation is larger than the file justifies: entries and pickle lengths are checked
 * against the file before anything is allocated, each tensor must lie inside its storage entry, and the values
 * returned total at most file bytes + 2^20 elements, so a pickle that views one storage many times
 * cannot blow up memory. Files written by the legacy (pre-1.6) serializer are recognised and refused with the
 * one-line recipe to re-save them.
 */
public final class TorchCheckpoint {
    /** Largest data.pkl read (a state dict's takes about 100 bytes per tensor: tens of kB for a ViT-H). */
    static final long MAX_PICKLE_BYTES = 16L << 20;
    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** Output budget beyond the file size, in elements: room for small expanded (stride-0) tensors. */
    private static final long OUTPUT_SLACK_ELEMENTS = 1L << 20;
    private static final int CHUNK_BYTES = 1 << 22;
    /** Non-contiguous tensors spanning at least this many bytes are memory-mapped rather than read into the heap. */
    private static final long MAP_THRESHOLD = 1L << 20;
    /** Limits on converting a non-tensor item to plain values. */
    private static final int MAX_EXTRA_NODES = 100_000;
    private static final int MAX_RENDER_CHARS = 10_000;

    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static final Pattern ARCHIVE_NAME = Pattern.compile("[^/]{1,255}");
    /** What a legacy torch.save file starts with after PROTO n: LONG1 0x1950a86a20f9469cfc6c, its magic number. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
    private static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
    private static final String ORDERED_DICT = "collections.OrderedDict";
    private static final String NAMESPACE = "argparse.Namespace";
    private static final Map<String, Dtype> STORAGE_TYPES = Map.of(
            "torch.FloatStorage", Dtype.F32,
            "torch.HalfStorage", Dtype.F16,
            "torch.BFloat16Storage", Dtype.BF16,
            "torch.DoubleStorage", Dtype.F64,
            "torch.LongStorage", Dtype.I64,
            "torch.IntStorage", Dtype.I32);
    private static final Set<String> ALLOWED_GLOBALS;

    static {
        java.util.HashSet<String> allowed = new java.util.HashSet<>(STORAGE_TYPES.keySet());
        allowed.addAll(List.of(REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT, NAMESPACE));
        ALLOWED_GLOBALS = Set.copyOf(allowed);
    }

    private TorchCheckpoint() {}

    /**
     * What a checkpoint holds: the state dict's tensors in file order, and every other item (top-level items
     * beside {@code model}, and non-tensor values inside the state dict, keyed {@code model.<name>} when the state
     * dict is under {@code model}) as plain values: {@code null}, {@link Boolean}, {@link Long}, {@link BigInteger},
     * {@link Double}, {@link String}, {@link List} (lists and tuples), {@link Map}, {@link Opaque}, or
     * {@link Omitted} for what is not simple (tensors inside, too large).
     */
    public record Contents(LinkedHashMap<String, Entry> tensors, Map<String, Object> extras) {
        /**
         * The same tensors as a {@link Safetensors.Contents}, with each extra rendered as Python-like text in the
         * metadata (e.g. {@code epoch -> "799"}, {@code args -> "Namespace(batch_size=64, ...)"}).
         */
        public Safetensors.Contents toSafetensors() {
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : extras.entrySet()) metadata.put(e.getKey(), render(e.getValue()));
            return new Safetensors.Contents(metadata, tensors);
        }
    }

    /** An object of a class this reader never constructs (an {@code argparse.Namespace}): its class and attributes. */
    public record Opaque(String className, Map<String, Object> attributes) {
        @Override public String toString() { return render(this); }
    }

    /** A non-tensor item not converted to plain values, and why (e.g. "holds tensors, not read"). */
    public record Omitted(String reason) {
        @Override public String toString() { return "<" + reason + ">"; }
    }

    /** A storage named by a persistent id: the zip entry {@code data/<key>} holding {@code numel} elements. */
    private record StorageRef(String key, Dtype dtype, long numel) {}

    /** The arguments of {@code _rebuild_tensor_v2}, checked only when the tensor is read (so errors can name it). */
    private record TensorRef(Tuple args) {}

    // ------------------------------------------------------------------------------------------------ reading

    /** Reads the checkpoint; every problem is a one-line {@link TorchCheckpointException} naming the file. */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            checkNotLegacy(file, ch);
            StoredZip zip = StoredZip.open(file, ch);
            String archive = archiveName(file, zip);
            checkByteOrder(file, zip, archive);
            Object root = unpickle(file, zip.readAll(zip.item(archive + "/data.pkl"), MAX_PICKLE_BYTES));
            return new Reader(file, ch, zip, archive).contents(root);
        } catch (TorchCheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new TorchCheckpointException(file, "cannot read: " + e, e);
        } catch (RuntimeException e) { // every input is meant to be checked above; if one slips through, still one line
            throw new TorchCheckpointException(file, "internal error in the reader (please report): " + e, e);
        }
    }

    private static void checkNotLegacy(Path file, FileChannel ch) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(2 + LEGACY_MAGIC.length);
        while (head.hasRemaining() && ch.read(head, head.position()) > 0) { /* fill */ }
        byte[] bytes = Arrays.copyOf(head.array(), head.position());
        boolean pickle = bytes.length >= 2 && (bytes[0] & 0xFF) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
        if (pickle && bytes.length == head.capacity() && Arrays.equals(Arrays.copyOfRange(bytes, 2, bytes.length), LEGACY_MAGIC)) {
            throw new TorchCheckpointException(file, "legacy torch.save format (written with _use_new_zipfile_serialization=False or before "
                    + "PyTorch 1.6), which this reader does not read; re-save it in Python with torch.save(torch.load(f), f2), "
                    + "the default zip serialization, and read f2");
        }
        if (pickle) {
            throw new TorchCheckpointException(file, "a bare pickle, not a torch.save zip checkpoint (an old torch.save file? "
                    + "re-save it in Python with torch.save(torch.load(f), f2) and read f2)");
        }
    }

    /** The archive's top folder: the one holding data.pkl (torch names it after the file, or "archive"). */
    private static String archiveName(Path file, StoredZip zip) throws IOException {
        String found = null;
        for (StoredZip.Item it : zip.items()) {
            String n = it.name();
            if (!n.endsWith("/data.pkl")) continue;
            String dir = n.substring(0, n.length() - "/data.pkl".length());
            if (!ARCHIVE_NAME.matcher(dir).matches()) continue;
            if (found != null) throw new TorchCheckpointException(file, "zip holds two checkpoints ('" + found + "/data.pkl' and '" + n + "')");
            found = dir;
        }
        if (found == null) {
            boolean script = zip.items().stream().anyMatch(it -> it.name().endsWith("/constants.pkl"));
            throw new TorchCheckpointException(file, "no <archive>/data.pkl entry: not a torch.save checkpoint"
                    + (script ? " (a TorchScript archive? save model.state_dict() with torch.save instead)" : ""));
        }
        return found;
    }

    private static void checkByteOrder(Path file, StoredZip zip, String archive) throws IOException {
        StoredZip.Item it = zip.item(archive + "/byteorder");
        if (it == null) return; // older writers: little-endian
        String order = new String(zip.readAll(it, 16), StandardCharsets.US_ASCII).trim();
        if (order.equals("little")) return;
        if (order.equals("big")) throw new TorchCheckpointException(file, "checkpoint was written on a big-endian machine; only little-endian storages are supported");
        throw new TorchCheckpointException(file, "byteorder entry says '" + order.replaceAll("[^ -~]", "?") + "', expected 'little'");
    }

    private static Object unpickle(Path file, byte[] pickle) throws TorchCheckpointException {
        Map<String, StorageRef> storages = new HashMap<>();
        Unpickler.Handler handler = new Unpickler.Handler() {
            @Override public Object call(Global fn, Tuple args) throws PickleException {
                switch (fn.qualified()) {
                    case ORDERED_DICT -> {
                        if (args.size() != 0) throw new PickleException("collections.OrderedDict called with " + args.size() + " arguments (a state dict passes none)");
                        return new Unpickler.OrderedDict();
                    }
                    case REBUILD_TENSOR -> {
                        if (args.size() < 6 || args.size() > 7) throw new PickleException(REBUILD_TENSOR + " called with " + args.size() + " arguments, expected 6 or 7");
                        return new TensorRef(args);
                    }
                    case REBUILD_PARAMETER -> {
                        if (args.size() != 3 || !(args.get(0) instanceof TensorRef t)) {
                            throw new PickleException(REBUILD_PARAMETER + " expects (tensor, requires_grad, hooks), got " + describeArgs(args));
                        }
                        return t;
                    }
                    default -> throw new PickleException("global " + fn + " cannot be called");
                }
            }

            @Override public Object persistentLoad(Object pid) throws PickleException {
                return storage(pid, storages);
            }
        };
        try {
            return new Unpickler(pickle, ALLOWED_GLOBALS, Set.of(NAMESPACE), handler).load();
        } catch (PickleException e) {
            throw new TorchCheckpointException(file, "data.pkl: " + e.getMessage());
        }
    }

    /** A persistent id {@code ('storage', <storage type>, key, location, numel)}; a key names one storage only. */
    private static StorageRef storage(Object pid, Map<String, StorageRef> seen) throws PickleException {
        if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new PickleException("persistent id " + describe(pid) + " is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof Global type) || !STORAGE_TYPES.containsKey(type.qualified())) {
            throw new PickleException("persistent id names storage type " + describe(t.get(1)) + ", expected one of " + STORAGE_TYPES.keySet());
        }
        if (!(t.get(2) instanceof String key) || !STORAGE_KEY.matcher(key).matches()) {
            throw new PickleException("storage key " + describe(t.get(2)) + " is not 1-64 letters, digits or '_'");
        }
        if (!(t.get(4) instanceof Long numel) || numel < 0) {
            throw new PickleException("storage '" + key + "' has element count " + describe(t.get(4)) + ", not a non-negative int");
        }
        StorageRef ref = new StorageRef(key, STORAGE_TYPES.get(type.qualified()), numel);
        StorageRef before = seen.putIfAbsent(key, ref);
        if (before != null && !before.equals(ref)) {
            throw new PickleException("storage '" + key + "' is named as " + before.numel() + " " + before.dtype() + " and as " + numel + " " + ref.dtype());
        }
        return before != null ? before : ref;
    }

    // ------------------------------------------------------------------------------------------------ tensors

    /** Turns the unpickled object into tensors and extras, reading each state-dict tensor from its storage. */
    private static final class Reader {
        private final Path file;
        private final FileChannel ch;
        private final StoredZip zip;
        private final String archive;
        private final long outputBudget;
        private long outputUsed;
        private int extraNodes;

        Reader(Path file, FileChannel ch, StoredZip zip, String archive) {
            this.file = file;
            this.ch = ch;
            this.zip = zip;
            this.archive = archive;
            this.outputBudget = zip.fileSize() + OUTPUT_SLACK_ELEMENTS;
        }

        Contents contents(Object root) throws IOException {
            if (!(root instanceof Map<?, ?> top)) {
                throw new TorchCheckpointException(file, "the saved object is a " + Unpickler.typeName(root) + ", not a dict (a state dict or {'model': state dict})");
            }
            Map<?, ?> stateDict = top;
            String prefix = "";
            if (top.get("model") instanceof Map<?, ?> model) {
                stateDict = model;
                prefix = "model.";
            }
            LinkedHashMap<String, Entry> tensors = new LinkedHashMap<>();
            Map<String, Object> extras = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : stateDict.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new TorchCheckpointException(file, "state dict key " + describe(e.getKey()) + " is not a string");
                }
                if (e.getValue() instanceof TensorRef t) tensors.put(name, tensor(name, t));
                else extras.put(prefix + name, plain(e.getValue()));
            }
            if (stateDict != top) {
                for (Map.Entry<?, ?> e : top.entrySet()) {
                    if ("model".equals(e.getKey())) continue;
                    extras.put(e.getKey() instanceof String s ? s : render(plain(e.getKey())), plain(e.getValue()));
                }
            }
            return new Contents(tensors, Collections.unmodifiableMap(extras));
        }

        private Entry tensor(String name, TensorRef ref) throws IOException {
            String where = "tensor '" + clip(name) + "': ";
            Tuple a = ref.args();
            if (!(a.get(0) instanceof StorageRef storage)) throw new TorchCheckpointException(file, where + "storage is a " + Unpickler.typeName(a.get(0)));
            if (!(a.get(1) instanceof Long offset) || offset < 0) throw new TorchCheckpointException(file, where + "storage offset " + describe(a.get(1)) + " is not a non-negative int");
            long[] size = longs(a.get(2), where + "size");
            long[] stride = longs(a.get(3), where + "stride");
            if (size.length != stride.length) {
                throw new TorchCheckpointException(file, where + "size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in length");
            }
            int[] shape = new int[size.length];
            boolean empty = false;
            for (int i = 0; i < size.length; i++) {
                if (size[i] < 0 || stride[i] < 0) {
                    throw new TorchCheckpointException(file, where + "size " + Arrays.toString(size) + " / stride " + Arrays.toString(stride) + " has a negative value");
                }
                if (size[i] > MAX_ELEMENTS) throw new TorchCheckpointException(file, where + "size " + Arrays.toString(size) + " has a dimension over 2^31");
                shape[i] = (int) size[i];
                empty |= size[i] == 0;
            }
            long numel = empty ? 0 : 1;
            for (int i = 0; i < size.length && !empty; i++) {
                if (numel > MAX_ELEMENTS / size[i]) {
                    throw new TorchCheckpointException(file, where + "size " + Arrays.toString(size) + " has more elements than a Java array holds");
                }
                numel *= size[i];
            }
            Dtype dtype = storage.dtype();
            String entryName = archive + "/data/" + storage.key();
            StoredZip.Item item = zip.item(entryName);
            if (item == null) throw new TorchCheckpointException(file, where + "its storage entry '" + entryName + "' is missing from the zip");
            long base = zip.dataStart(item); // stored, unencrypted, inside the file: checked before anything is allocated
            long needed = storage.numel() > Long.MAX_VALUE / dtype.bytes ? -1 : storage.numel() * dtype.bytes;
            if (item.size() != needed) {
                throw new TorchCheckpointException(file, where + "storage entry '" + entryName + "' is " + item.size() + " bytes but holds "
                        + storage.numel() + " " + dtype + " elements, which need " + (needed < 0 ? "over 2^63" : needed));
            }
            long last = offset; // highest element index the tensor touches
            if (numel > 0) {
                try {
                    for (int i = 0; i < size.length; i++) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                } catch (ArithmeticException e) {
                    last = Long.MAX_VALUE;
                }
                if (last >= storage.numel()) {
                    throw new TorchCheckpointException(file, where + "storage offset " + offset + ", size " + Arrays.toString(size) + " and stride "
                            + Arrays.toString(stride) + " reach element " + (last == Long.MAX_VALUE ? "past 2^63" : String.valueOf(last))
                            + ", but its storage '" + entryName + "' holds " + storage.numel());
                }
            }
            if (numel > outputBudget - outputUsed) {
                throw new TorchCheckpointException(file, where + numel + " elements would take the tensors read past " + outputBudget
                        + " elements, more than this " + zip.fileSize() + "-byte file justifies (tensors viewing one storage many times?)");
            }
            outputUsed += numel;
            float[] floats = dtype.isFloat ? new float[(int) numel] : null;
            long[] longValues = dtype.isFloat ? null : new long[(int) numel];
            if (numel > 0) {
                if (isContiguous(size, stride)) readContiguous(name, dtype, base + offset * dtype.bytes, (int) numel, floats, longValues);
                else gather(name, dtype, base, offset, last, size, stride, floats, longValues);
            }
            return new Entry(dtype.name(), shape, floats, longValues);
        }

        private long[] longs(Object value, String what) throws IOException {
            if (!(value instanceof Tuple t) || t.size() > 64) throw new TorchCheckpointException(file, what + " is " + describe(value) + ", not a tuple of at most 64 ints");
            long[] out = new long[t.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(t.get(i) instanceof Long v)) throw new TorchCheckpointException(file, what + " " + describe(value) + " holds a " + Unpickler.typeName(t.get(i)));
                out[i] = v;
            }
            return out;
        }

        private void readContiguous(String name, Dtype dtype, long position, int numel, float[] floats, long[] longValues) throws IOException {
            int perChunk = CHUNK_BYTES / dtype.bytes;
            ByteBuffer buf = ByteBuffer.allocate(Math.min(numel, perChunk) * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int done = 0; done < numel; ) {
                int count = Math.min(numel - done, perChunk);
                buf.clear().limit(count * dtype.bytes);
                StoredZip.readFully(file, ch, buf, position, "tensor '" + clip(name) + "'");
                buf.flip();
                switch (dtype) {
                    case F32 -> buf.asFloatBuffer().get(floats, done, count);
                    case I64 -> buf.asLongBuffer().get(longValues, done, count);
                    default -> { for (int i = 0; i < count; i++) put(dtype, buf, i * dtype.bytes, floats, longValues, done + i); }
                }
                position += (long) count * dtype.bytes;
                done += count;
            }
        }

        /** Copies a strided view out in row-major order from the storage span it touches (mapped when large). */
        private void gather(String name, Dtype dtype, long base, long offset, long last, long[] size, long[] stride,
                            float[] floats, long[] longValues) throws IOException {
            long spanBytes = (last - offset + 1) * dtype.bytes;
            if (spanBytes > Integer.MAX_VALUE) {
                throw new TorchCheckpointException(file, "tensor '" + clip(name) + "': non-contiguous, spans " + spanBytes + " bytes of its storage; at most 2 GiB is supported");
            }
            long start = base + offset * dtype.bytes;
            ByteBuffer span;
            if (spanBytes >= MAP_THRESHOLD) {
                span = ch.map(FileChannel.MapMode.READ_ONLY, start, spanBytes);
            } else {
                span = ByteBuffer.allocate((int) spanBytes);
                StoredZip.readFully(file, ch, span, start, "tensor '" + clip(name) + "'");
            }
            span.order(ByteOrder.LITTLE_ENDIAN);
            int dims = size.length;
            long[] index = new long[dims];
            int inner = (int) size[dims - 1];
            long innerStride = stride[dims - 1] * dtype.bytes;
            long rowStart = 0; // byte position in span of element (index[0..dims-2], 0)
            for (int out = 0, total = floats != null ? floats.length : longValues.length; out < total; ) {
                long p = rowStart;
                for (int j = 0; j < inner; j++, p += innerStride) put(dtype, span, (int) p, floats, longValues, out++);
                for (int d = dims - 2; d >= 0; d--) { // odometer over the outer dimensions
                    rowStart += stride[d] * dtype.bytes;
                    if (++index[d] < size[d]) break;
                    rowStart -= size[d] * stride[d] * dtype.bytes;
                    index[d] = 0;
                }
            }
        }

        private static void put(Dtype dtype, ByteBuffer b, int at, float[] floats, long[] longValues, int i) {
            switch (dtype) {
                case F32 -> floats[i] = b.getFloat(at);
                case F64 -> floats[i] = (float) b.getDouble(at);
                case F16 -> floats[i] = Safetensors.halfToFloat(b.getShort(at));
                case BF16 -> floats[i] = Float.intBitsToFloat((b.getShort(at) & 0xFFFF) << 16);
                case I64 -> longValues[i] = b.getLong(at);
                case I32 -> longValues[i] = b.getInt(at);
            }
        }

        /** A non-tensor value as plain Java values, or {@link Omitted} when it holds tensors or is too large. */
        private Object plain(Object v) {
            try {
                return convert(v, 0);
            } catch (NotPlain e) {
                return new Omitted(e.getMessage());
            }
        }

        private static final class NotPlain extends Exception {
            NotPlain(String reason) { super(reason, null, false, false); }
        }

        private Object convert(Object v, int depth) throws NotPlain {
            if (++extraNodes > MAX_EXTRA_NODES) throw new NotPlain("too large to convert, not read");
            if (depth > Unpickler.MAX_DEPTH) throw new NotPlain("nested too deeply, not read");
            if (v == null || v instanceof Boolean || v instanceof Long || v instanceof BigInteger || v instanceof Double || v instanceof String) return v;
            if (v instanceof TensorRef || v instanceof StorageRef) throw new NotPlain("holds tensors, not read");
            if (v instanceof Global g) return new Opaque(g.qualified(), Map.of());
            if (v instanceof Tuple t) return convertList(t.items(), depth);
            if (v instanceof List<?> l) return convertList(l, depth);
            if (v instanceof Map<?, ?> m) {
                Map<Object, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) out.put(convert(e.getKey(), depth + 1), convert(e.getValue(), depth + 1));
                return Collections.unmodifiableMap(out);
            }
            if (v instanceof Instance i) {
                Map<String, Object> attributes = new LinkedHashMap<>();
                if (i.state instanceof Map<?, ?> m) {
                    for (Map.Entry<?, ?> e : m.entrySet()) attributes.put(String.valueOf(e.getKey()), convert(e.getValue(), depth + 1));
                } else if (i.state != null) {
                    throw new NotPlain(i.cls + " with a non-dict state, not read");
                }
                return new Opaque(i.cls.qualified(), Collections.unmodifiableMap(attributes));
            }
            throw new NotPlain(Unpickler.typeName(v) + ", not read");
        }

        private List<Object> convertList(List<?> items, int depth) throws NotPlain {
            List<Object> out = new ArrayList<>(items.size());
            for (Object o : items) out.add(convert(o, depth + 1));
            return Collections.unmodifiableList(out);
        }
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ text

    private static String describeArgs(Tuple args) {
        List<String> types = new ArrayList<>();
        for (Object o : args.items()) types.add(Unpickler.typeName(o));
        return "(" + String.join(", ", types) + ")";
    }

    /** A name from the file, cut to 200 characters for a message. */
    private static String clip(String name) {
        return name.length() > 200 ? name.substring(0, 200) + "..." : name;
    }

    /** A short description of an unpickled value for error messages. */
    static String describe(Object v) {
        if (v instanceof Global g) return g.qualified();
        if (v instanceof String s) return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s).replaceAll("[^ -~]", "?") + "'";
        if (v instanceof Long || v instanceof Boolean || v instanceof Double || v == null) return String.valueOf(v);
        if (v instanceof Tuple t && t.size() <= 8) {
            List<String> parts = new ArrayList<>();
            for (Object o : t.items()) parts.add(o instanceof Tuple || o instanceof Map || o instanceof List ? Unpickler.typeName(o) : describe(o));
            return "(" + String.join(", ", parts) + (t.size() == 1 ? ",)" : ")");
        }
        return "a " + Unpickler.typeName(v);
    }

    /** A double as Python's repr writes it: 0.00015, 65536.0, 1e-08, 1.5e+16, inf, nan. */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        java.math.BigDecimal bd = new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = bd.precision() - bd.scale() - 1; // decimal exponent of the leading digit
        if (exponent < -4 || exponent >= 16) {
            String digits = bd.unscaledValue().abs().toString();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
        }
        String plain = bd.toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }

    /** Python-like text of a plain value, cut at {@value #MAX_RENDER_CHARS} characters. */
    static String render(Object v) {
        StringBuilder sb = new StringBuilder();
        render(v, sb, 0);
        return sb.length() > MAX_RENDER_CHARS ? sb.substring(0, MAX_RENDER_CHARS) + "..." : sb.toString();
    }

    private static void render(Object v, StringBuilder sb, int depth) {
        if (sb.length() > MAX_RENDER_CHARS) return;
        if (depth > Unpickler.MAX_DEPTH) { sb.append("..."); return; }
        if (v == null) sb.append("None");
        else if (v instanceof Boolean b) sb.append(b ? "True" : "False");
        else if (v instanceof String s) sb.append('\'').append(s.replace("\\", "\\\\").replace("'", "\\'")).append('\'');
        else if (v instanceof Double d) sb.append(pythonFloat(d));
        else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size() && sb.length() <= MAX_RENDER_CHARS; i++) { if (i > 0) sb.append(", "); render(l.get(i), sb, depth + 1); }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (sb.length() > MAX_RENDER_CHARS) break;
                sb.append(sep);
                render(e.getKey(), sb, depth + 1);
                sb.append(": ");
                render(e.getValue(), sb, depth + 1);
                sep = ", ";
            }
            sb.append('}');
        } else if (v instanceof Opaque o) {
            sb.append(o.className().substring(o.className().lastIndexOf('.') + 1)).append('(');
            String sep = "";
            for (Map.Entry<String, Object> e : o.attributes().entrySet()) {
                if (sb.length() > MAX_RENDER_CHARS) break;
                sb.append(sep).append(e.getKey()).append('=');
                render(e.getValue(), sb, depth + 1);
                sep = ", ";
            }
            sb.append(')');
        } else sb.append(v);
    }
}
