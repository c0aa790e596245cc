package mae.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * header ({@code {"__metadata__": {...}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}}),
 * then the little-endian data blob; offsets are relative to the blob start.
 *
 * <p>Reading accepts F32, F16, BF16, F64 (all converted to float32; F16 and BF16 exactly) and I64, I32 (as
 * long). It reads tensor by tensor in bounded chunks, so files far over 2 GiB load as long as each tensor fits
 * a Java array. Writing produces F32 and I64 only, atomically (temp file in the same directory, fsync, rename).
 */
public final class Safetensors {
    private static final String METADATA_KEY = "__metadata__";
    /** Upper bound on the header, as in the reference implementation (100 MB): guards against bogus lengths. */
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Largest Java array length that is safe on all JVMs. */
    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** Bytes read or written per I/O call. */
    private static final int CHUNK_BYTES = 1 << 22;

    private Safetensors() {}

    /** Element types this class knows, with their size in bytes. */
    enum Dtype {
        F32(4, true), F16(2, true), BF16(2, true), F64(8, true), I64(8, false), I32(4, false);

        final int bytes;
        final boolean isFloat;

        Dtype(int bytes, boolean isFloat) { this.bytes = bytes; this.isFloat = isFloat; }

        static Dtype of(String name) {
            for (Dtype d : values()) if (d.name().equals(name)) return d;
            return null;
        }
    }

    /**
     * One tensor. Floating dtypes (F32, F16, BF16, F64) hold {@code floats}, integer dtypes (I64, I32) hold
     * {@code longs}; the other array is null. Arrays are shared, not copied. A scalar has shape [].
     */
    public record Entry(String dtype, int[] shape, float[] floats, long[] longs) {
        public Entry {
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(shape, "shape");
            Dtype d = Dtype.of(dtype);
            if (d == null) throw new IllegalArgumentException("unknown dtype '" + dtype + "', expected one of " + Arrays.toString(Dtype.values()));
            long n = numel(shape);
            if (n > MAX_ELEMENTS) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements, more than a Java array holds");
            if (d.isFloat && (floats == null || longs != null)) throw new IllegalArgumentException("dtype " + dtype + " needs float data (floats set, longs null)");
            if (!d.isFloat && (longs == null || floats != null)) throw new IllegalArgumentException("dtype " + dtype + " needs integer data (longs set, floats null)");
            int length = d.isFloat ? floats.length : longs.length;
            if (length != n) throw new IllegalArgumentException("data has " + length + " values but shape " + Arrays.toString(shape) + " needs " + n);
        }

        public static Entry f32(int[] shape, float[] data) { return new Entry("F32", shape, data, null); }

        public static Entry i64(int[] shape, long[] data) { return new Entry("I64", shape, null, data); }

        /** Number of elements: the product of the shape (1 for a scalar). */
        public int numel() { return (int) numel(shape); }

        @Override public String toString() { return "Entry[" + dtype + " " + Arrays.toString(shape) + "]"; }

        private static long numel(int[] shape) {
            long n = 1;
            for (int dim : shape) {
                if (dim < 0) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
                n = Math.multiplyExact(n, (long) dim);
            }
            return n;
        }
    }

    /** A file's metadata (string to string) and its tensors in header order. */
    public record Contents(Map<String, String> metadata, LinkedHashMap<String, Entry> tensors) {}

    /** A tensor's header record: where its bytes are in the blob. */
    private record Slot(String name, Dtype dtype, int[] shape, long begin, long end) {}

    private record Header(Map<String, String> metadata, List<Slot> slots) {}

    // ------------------------------------------------------------------------------------------------ reading

    /** Reads and validates the whole file; every problem is a {@link SafetensorsException} naming the file. */
    public static Contents read(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new SafetensorsException(file, "is a directory, not a safetensors file");
        if (!Files.exists(file)) throw new SafetensorsException(file, "no such file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new SafetensorsException(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            long headerLength = readHeaderLength(file, ch, size);
            String text = decodeUtf8(file, readBytes(file, ch, 8, (int) headerLength));
            long blobStart = 8 + headerLength;
            Header header = parseHeader(file, text, size - blobStart);
            LinkedHashMap<String, Entry> tensors = new LinkedHashMap<>();
            for (Slot slot : header.slots()) tensors.put(slot.name(), readTensor(file, ch, blobStart, slot));
            return new Contents(header.metadata(), tensors);
        }
    }

    private static long readHeaderLength(Path file, FileChannel ch, long size) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(readBytes(file, ch, 0, 8)).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong();
        if (Long.compareUnsigned(n, size - 8) > 0) {
            throw new SafetensorsException(file, "header length " + Long.toUnsignedString(n) + " is larger than the "
                    + (size - 8) + " bytes that follow the length field (truncated or not a safetensors file?)");
        }
        if (n > MAX_HEADER_BYTES) throw new SafetensorsException(file, "header length " + n + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        return n;
    }

    private static String decodeUtf8(Path file, byte[] bytes) throws SafetensorsException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file, "header is not valid UTF-8", e);
        }
    }

    private static Header parseHeader(Path file, String text, long blobBytes) throws SafetensorsException {
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new SafetensorsException(file, "malformed JSON header: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) throw new SafetensorsException(file, "header is " + Json.typeName(root) + ", not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Slot> slots = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) metadata = parseMetadata(file, e.getValue());
            else slots.add(parseSlot(file, name, e.getValue(), blobBytes));
        }
        checkNoOverlap(file, slots);
        return new Header(metadata, slots);
    }

    private static Map<String, String> parseMetadata(Path file, Object value) throws SafetensorsException {
        if (!(value instanceof Map<?, ?> map)) throw new SafetensorsException(file, "__metadata__ is " + Json.typeName(value) + ", not an object");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsException(file, "metadata " + Json.quote((String) e.getKey()) + " is "
                        + Json.typeName(e.getValue()) + ", not a string");
            }
            metadata.put((String) e.getKey(), s);
        }
        return metadata;
    }

    private static Slot parseSlot(Path file, String name, Object value, long blobBytes) throws SafetensorsException {
        String where = "tensor '" + name + "': ";
        if (!(value instanceof Map<?, ?> fields)) throw new SafetensorsException(file, where + "entry is " + Json.typeName(value) + ", not an object");
        for (Object key : fields.keySet()) {
            if (!Set.of("dtype", "shape", "data_offsets").contains(key)) throw new SafetensorsException(file, where + "unknown field " + Json.quote((String) key));
        }
        if (!(fields.get("dtype") instanceof String dtypeName)) throw new SafetensorsException(file, where + "dtype is missing or not a string");
        Dtype dtype = Dtype.of(dtypeName);
        if (dtype == null) throw new SafetensorsException(file, where + "unknown dtype '" + dtypeName + "' (this reader knows " + Arrays.toString(Dtype.values()) + ")");
        int[] shape = intArray(file, where + "shape", fields.get("shape"), -1);
        long[] range = longArray(file, where + "data_offsets", fields.get("data_offsets"), 2);
        long begin = range[0], end = range[1];
        String offsetText = "data_offsets [" + begin + ", " + end + "]";
        if (begin > end) throw new SafetensorsException(file, where + offsetText + " begin after end");
        if (end > blobBytes) throw new SafetensorsException(file, where + offsetText + " end beyond the " + blobBytes + "-byte data blob (file truncated?)");
        long numel = numel(file, where, shape);
        long needed = numel * dtype.bytes;
        if (end - begin != needed) {
            throw new SafetensorsException(file, where + offsetText + " hold " + (end - begin) + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + needed);
        }
        return new Slot(name, dtype, shape, begin, end);
    }

    private static long numel(Path file, String where, int[] shape) throws SafetensorsException {
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > MAX_ELEMENTS) throw new SafetensorsException(file, where + "shape " + Arrays.toString(shape) + " has more elements than a Java array holds");
        }
        return n;
    }

    /** A JSON array of non-negative integers that fit an int; {@code length} -1 means any length. */
    private static int[] intArray(Path file, String what, Object value, int length) throws SafetensorsException {
        long[] longs = longArray(file, what, value, length);
        int[] ints = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            if (longs[i] > Integer.MAX_VALUE) throw new SafetensorsException(file, what + " " + Arrays.toString(longs) + " has a dimension over 2^31-1");
            ints[i] = (int) longs[i];
        }
        return ints;
    }

    private static long[] longArray(Path file, String what, Object value, int length) throws SafetensorsException {
        if (!(value instanceof List<?> list)) throw new SafetensorsException(file, what + " is missing or not an array");
        if (length >= 0 && list.size() != length) throw new SafetensorsException(file, what + " has " + list.size() + " elements, expected " + length);
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) throw new SafetensorsException(file, what + " " + list + " must hold non-negative integers");
            out[i] = v;
        }
        return out;
    }

    private static void checkNoOverlap(Path file, List<Slot> slots) throws SafetensorsException {
        List<Slot> sorted = new ArrayList<>(slots);
        sorted.removeIf(s -> s.begin() == s.end()); // empty tensors occupy no bytes
        sorted.sort(Comparator.comparingLong(Slot::begin));
        Slot reach = null; // the slot with the furthest end so far
        for (Slot s : sorted) {
            if (reach != null && s.begin() < reach.end()) {
                throw new SafetensorsException(file, "tensor '" + s.name() + "': data_offsets [" + s.begin() + ", " + s.end()
                        + "] overlap tensor '" + reach.name() + "' at [" + reach.begin() + ", " + reach.end() + "]");
            }
            if (reach == null || s.end() > reach.end()) reach = s;
        }
    }

    private static Entry readTensor(Path file, FileChannel ch, long blobStart, Slot slot) throws IOException {
        int numel = (int) ((slot.end() - slot.begin()) / slot.dtype().bytes);
        float[] floats = slot.dtype().isFloat ? new float[numel] : null;
        long[] longs = slot.dtype().isFloat ? null : new long[numel];
        int perChunk = CHUNK_BYTES / slot.dtype().bytes;
        ByteBuffer buf = ByteBuffer.allocate(Math.min(numel, perChunk) * slot.dtype().bytes).order(ByteOrder.LITTLE_ENDIAN);
        long position = blobStart + slot.begin();
        for (int done = 0; done < numel; ) {
            int count = Math.min(numel - done, perChunk);
            buf.clear().limit(count * slot.dtype().bytes);
            readFully(file, ch, buf, position, "tensor '" + slot.name() + "'");
            buf.flip();
            decode(slot.dtype(), buf, count, floats, longs, done);
            position += (long) count * slot.dtype().bytes;
            done += count;
        }
        return new Entry(slot.dtype().name(), slot.shape(), floats, longs);
    }

    private static void decode(Dtype dtype, ByteBuffer b, int count, float[] floats, long[] longs, int at) {
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(floats, at, count);
            case F64 -> { for (int i = 0; i < count; i++) floats[at + i] = (float) b.getDouble(); }
            case F16 -> { for (int i = 0; i < count; i++) floats[at + i] = halfToFloat(b.getShort()); }
            case BF16 -> { for (int i = 0; i < count; i++) floats[at + i] = Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16); }
            case I64 -> b.asLongBuffer().get(longs, at, count);
            case I32 -> { for (int i = 0; i < count; i++) longs[at + i] = b.getInt(); }
        }
    }

    /** IEEE 754 binary16 to float32, exact (subnormals, infinities and NaN included). */
    static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h >>> 15) << 31;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) { // zero or subnormal: mant * 2^-24, exact in float32
            float v = mant * 0x1.0p-24f;
            return sign == 0 ? v : -v;
        }
        if (exp == 31) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13)); // inf or NaN
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    private static byte[] readBytes(Path file, FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        readFully(file, ch, b, position, "header");
        return b.array();
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer b, long position, String what) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position);
            if (n < 0) throw new SafetensorsException(file, what + ": unexpected end of file at byte " + position);
            position += n;
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** An I/O step the tests can make fail between writing the temp file and renaming it. */
    @FunctionalInterface
    interface IoStep { void run() throws IOException; }

    /**
     * Writes F32 and I64 tensors in the given order, atomically: the file is either the complete new file or,
     * on any failure, left as it was. {@code metadata} may be null or empty (then no __metadata__ is written); its
     * keys are written sorted, whatever the map's own order, so the same contents always give the same bytes.
     */
    public static void write(Path file, Map<String, String> metadata, Map<String, Entry> tensors) throws IOException {
        write(file, metadata, tensors, () -> {});
    }

    static void write(Path file, Map<String, String> metadata, Map<String, Entry> tensors, IoStep beforeRename) throws IOException {
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        checkWritable(file, meta, tensors);
        byte[] header = headerBytes(meta, tensors);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = TempFiles.create(file);
        } catch (IOException e) {
            throw new SafetensorsException(file, "cannot create a temp file in " + dir + ": " + e, e);
        }
        try {
            writeContents(tmp, header, tensors);
            beforeRename.run();
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteAfterFailure(tmp, e);
            throw e instanceof SafetensorsException ? e : new SafetensorsException(file, "write failed: " + e, e);
        } catch (RuntimeException | Error e) {
            deleteAfterFailure(tmp, e);
            throw e;
        }
        syncDirectory(dir);
        TempFiles.removeStale(file);                           // what a killed writer of this file left behind
    }

    private static void deleteAfterFailure(Path tmp, Throwable failure) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    private static void checkWritable(Path file, Map<String, String> metadata, Map<String, Entry> tensors) throws SafetensorsException {
        if (tensors == null) throw new SafetensorsException(file, "tensors map is null");
        if (Files.isDirectory(file)) throw new SafetensorsException(file, "is a directory, cannot write a safetensors file there");
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (m.getKey() == null || m.getValue() == null) throw new SafetensorsException(file, "metadata " + m.getKey() + " has a null key or value");
        }
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            String name = t.getKey();
            if (name == null) throw new SafetensorsException(file, "a tensor has a null name");
            if (name.equals(METADATA_KEY)) throw new SafetensorsException(file, "tensor name '__metadata__' is reserved");
            if (t.getValue() == null) throw new SafetensorsException(file, "tensor '" + name + "': entry is null");
            String dtype = t.getValue().dtype();
            if (!dtype.equals("F32") && !dtype.equals("I64")) {
                throw new SafetensorsException(file, "tensor '" + name + "': dtype " + dtype + " cannot be written (this writer writes F32 and I64 only)");
            }
        }
    }

    /** The JSON header, padded with spaces so that 8 + its length is a multiple of 8. */
    private static byte[] headerBytes(Map<String, String> metadata, Map<String, Entry> tensors) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put(METADATA_KEY, new java.util.TreeMap<>(metadata));   // a fixed order: reproducible bytes
        long offset = 0;
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            Entry e = t.getValue();
            long bytes = (long) e.numel() * Dtype.of(e.dtype()).bytes;
            Map<String, Object> slot = new LinkedHashMap<>();
            slot.put("dtype", e.dtype());
            slot.put("shape", e.shape());
            slot.put("data_offsets", new long[]{offset, offset + bytes});
            header.put(t.getKey(), slot);
            offset += bytes;
        }
        byte[] raw = Json.compact(header).getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        Arrays.fill(padded, raw.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeContents(Path tmp, byte[] header, Map<String, Entry> tensors) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(ch, length);
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : tensors.values()) writeData(ch, e, buf);
            ch.force(true);
        }
        makeReadable(tmp);
    }

    private static void writeData(FileChannel ch, Entry e, ByteBuffer buf) throws IOException {
        int elementBytes = e.floats() != null ? 4 : 8;
        int perChunk = CHUNK_BYTES / elementBytes;
        for (int done = 0, numel = e.numel(); done < numel; ) {
            int count = Math.min(numel - done, perChunk);
            buf.clear();
            if (e.floats() != null) buf.asFloatBuffer().put(e.floats(), done, count);
            else buf.asLongBuffer().put(e.longs(), done, count);
            buf.limit(count * elementBytes);
            writeFully(ch, buf);
            done += count;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Temp files are created owner-only; a checkpoint should be readable like any other file (rw-r--r--). */
    private static void makeReadable(Path tmp) {
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException ignored) {
            // not a POSIX file system: keep the default permissions
        }
    }

    /** Makes the rename durable on Linux; file systems that cannot open a directory are skipped. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the data itself was forced before the rename
        }
    }
}
