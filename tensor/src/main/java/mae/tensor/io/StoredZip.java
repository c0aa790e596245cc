package mae.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip file, read with bounds checks, giving the byte range of STORED entries.
 *
 * <p>Only what {@code torch.save} writes is supported: a single-disk archive, zip64 or not, whose entries are
 * stored uncompressed. An entry that is compressed or encrypted is refused when it is used (never inflated, so a
 * zip bomb cannot expand). Every offset and size is checked against the file before it is used: an entry's data
 * must lie between its local header and the central directory. CRC-32s are not checked (that would cost a
 * second pass over every storage); a corrupted byte can change a value, never make a read leave its entry.
 */
final class StoredZip {
    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int EOCD_BYTES = 22;
    private static final int CENTRAL_BYTES = 46;
    private static final int LOCAL_BYTES = 30;
    /** Largest central directory read (about 500,000 entries; a ViT-H checkpoint has a few hundred). */
    static final long MAX_CENTRAL_DIRECTORY = 64L << 20;
    private static final long U32 = 0xFFFFFFFFL;

    /** One central-directory record. {@code size} is the uncompressed size. */
    record Item(String name, int method, int flags, long size, long compressedSize, long headerOffset) {}

    private final Path file;
    private final FileChannel ch;
    private final long fileSize;
    private final long centralStart;
    private final Map<String, Item> items;
    private final Map<String, Long> dataStarts = new HashMap<>();

    private StoredZip(Path file, FileChannel ch, long fileSize, long centralStart, Map<String, Item> items) {
        this.file = file;
        this.ch = ch;
        this.fileSize = fileSize;
        this.centralStart = centralStart;
        this.items = items;
    }

    /** Reads and checks the central directory; {@code ch} stays owned by the caller. */
    static StoredZip open(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < EOCD_BYTES) throw error(file, "file is " + size + " bytes, too short for a zip archive");
        int tailLength = (int) Math.min(size, EOCD_BYTES + 0xFFFF + 20);
        long tailStart = size - tailLength;
        ByteBuffer tail = read(file, ch, tailStart, tailLength, "zip end record");
        int at = -1;
        for (int i = tailLength - EOCD_BYTES; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIG && i + EOCD_BYTES + u16(tail, i + 20) <= tailLength) { at = i; break; }
        }
        if (at < 0) throw error(file, "no zip end-of-central-directory record (file truncated, or not a zip archive)");
        long eocd = tailStart + at;
        int disk = u16(tail, at + 4), centralDisk = u16(tail, at + 6);
        long count = u16(tail, at + 10);
        long centralSize = tail.getInt(at + 12) & U32;
        long centralOffset = tail.getInt(at + 16) & U32;
        long centralLimit = eocd; // the central directory must end before this
        if (eocd >= 20 && readInt(file, ch, eocd - 20) == ZIP64_LOCATOR_SIG) {
            ByteBuffer loc = read(file, ch, eocd - 20, 20, "zip64 locator");
            long z = loc.getLong(8);
            if (z < 0 || z > eocd - 20 - 56) throw error(file, "zip64 end record offset " + Long.toUnsignedString(z) + " lies outside the file");
            ByteBuffer z64 = read(file, ch, z, 56, "zip64 end record");
            if (z64.getInt(0) != ZIP64_EOCD_SIG) throw error(file, "no zip64 end record at byte " + z + " (corrupt zip)");
            disk = z64.getInt(16);
            centralDisk = z64.getInt(20);
            count = z64.getLong(32);
            centralSize = z64.getLong(40);
            centralOffset = z64.getLong(48);
            centralLimit = z;
        } else if (count == 0xFFFF || centralSize == U32 || centralOffset == U32) {
            throw error(file, "zip end record needs zip64 fields, but there is no zip64 locator (corrupt zip)");
        }
        if (disk != 0 || centralDisk != 0) throw error(file, "multi-disk zip archives are not supported");
        if (centralOffset < 0 || centralSize < 0 || centralOffset > centralLimit || centralSize > centralLimit - centralOffset) {
            throw error(file, "zip central directory [" + Long.toUnsignedString(centralOffset) + ", +" + Long.toUnsignedString(centralSize)
                    + "] does not fit before the end record at byte " + centralLimit + " (truncated or corrupt zip)");
        }
        if (centralSize > MAX_CENTRAL_DIRECTORY) throw error(file, "zip central directory of " + centralSize + " bytes exceeds the " + MAX_CENTRAL_DIRECTORY + "-byte limit");
        if (count < 0 || count > centralSize / CENTRAL_BYTES) {
            throw error(file, "zip claims " + Long.toUnsignedString(count) + " entries, more than its " + centralSize + "-byte central directory holds");
        }
        ByteBuffer cd = read(file, ch, centralOffset, (int) centralSize, "zip central directory");
        Map<String, Item> items = new LinkedHashMap<>();
        int p = 0;
        for (long n = 0; n < count; n++) {
            if (p > centralSize - CENTRAL_BYTES || cd.getInt(p) != CENTRAL_SIG) throw error(file, "zip central directory entry " + n + " is corrupt");
            Item item = parseCentral(file, cd, p);
            if (items.putIfAbsent(item.name(), item) != null) throw error(file, "zip holds two entries named '" + item.name() + "'");
            p += CENTRAL_BYTES + u16(cd, p + 28) + u16(cd, p + 30) + u16(cd, p + 32);
        }
        return new StoredZip(file, ch, size, centralOffset, Collections.unmodifiableMap(items));
    }

    private static Item parseCentral(Path file, ByteBuffer cd, int p) throws IOException {
        int flags = u16(cd, p + 8), method = u16(cd, p + 10);
        long compressed = cd.getInt(p + 20) & U32, size = cd.getInt(p + 24) & U32;
        int nameLength = u16(cd, p + 28), extraLength = u16(cd, p + 30), commentLength = u16(cd, p + 32);
        long offset = cd.getInt(p + 42) & U32;
        int name = p + CENTRAL_BYTES, extra = name + nameLength;
        if ((long) extra + extraLength + commentLength > cd.capacity()) throw error(file, "zip central directory entry at byte " + p + " runs past its end");
        byte[] raw = new byte[nameLength];
        cd.get(name, raw);
        String entryName = utf8(file, raw);
        // zip64 extended information: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order
        for (int e = extra; e + 4 <= extra + extraLength; ) {
            int id = u16(cd, e), length = u16(cd, e + 2);
            int body = e + 4, end = body + length;
            if (end > extra + extraLength) throw error(file, "zip entry '" + entryName + "': extra field runs past its end");
            if (id == 1) {
                int q = body;
                if (size == U32) { if (q + 8 > end) throw zip64Short(file, entryName); size = cd.getLong(q); q += 8; }
                if (compressed == U32) { if (q + 8 > end) throw zip64Short(file, entryName); compressed = cd.getLong(q); q += 8; }
                if (offset == U32) { if (q + 8 > end) throw zip64Short(file, entryName); offset = cd.getLong(q); }
            }
            e = end;
        }
        if (size < 0 || compressed < 0 || offset < 0) throw error(file, "zip entry '" + entryName + "': size or offset over 2^63");
        return new Item(entryName, method, flags, size, compressed, offset);
    }

    private static IOException zip64Short(Path file, String name) {
        return error(file, "zip entry '" + name + "': zip64 extra field is too short");
    }

    Item item(String name) { return items.get(name); }

    Collection<Item> items() { return items.values(); }

    long fileSize() { return fileSize; }

    /** File offset of the entry's first data byte, after checking it is stored, unencrypted and inside the file. */
    long dataStart(Item it) throws IOException {
        Long known = dataStarts.get(it.name());
        if (known != null) return known;
        String where = "zip entry '" + it.name() + "': ";
        if ((it.flags() & 1) != 0) throw error(file, where + "is encrypted");
        if (it.method() != 0) {
            throw error(file, where + "is compressed (method " + it.method() + (it.method() == 8 ? ", deflate" : "")
                    + "); torch.save stores every entry uncompressed, so this file was repacked: refusing to decompress it");
        }
        if (it.compressedSize() != it.size()) {
            throw error(file, where + "is stored but its sizes differ (" + it.compressedSize() + " stored, " + it.size() + " declared)");
        }
        if (it.headerOffset() > centralStart - LOCAL_BYTES) throw error(file, where + "local header offset " + it.headerOffset() + " is past the entries area");
        ByteBuffer h = read(file, ch, it.headerOffset(), LOCAL_BYTES, where + "local header");
        if (h.getInt(0) != LOCAL_SIG) throw error(file, where + "no local header at byte " + it.headerOffset() + " (corrupt zip)");
        if (u16(h, 8) != 0) throw error(file, where + "local header says compressed (method " + u16(h, 8) + ")");
        int nameLength = u16(h, 26), extraLength = u16(h, 28);
        long start = it.headerOffset() + LOCAL_BYTES + nameLength + extraLength;
        if (start > centralStart || it.size() > centralStart - start) {
            throw error(file, where + "data [" + start + ", +" + it.size() + "] runs past the entries area, which ends at byte "
                    + centralStart + " (truncated or corrupt zip)");
        }
        byte[] localName = new byte[nameLength];
        read(file, ch, it.headerOffset() + LOCAL_BYTES, nameLength, where + "local header").get(localName);
        if (!Arrays.equals(localName, it.name().getBytes(StandardCharsets.UTF_8))) throw error(file, where + "local header names a different entry");
        dataStarts.put(it.name(), start);
        return start;
    }

    /** The whole entry, at most {@code maxBytes} long. */
    byte[] readAll(Item it, long maxBytes) throws IOException {
        long start = dataStart(it);
        if (it.size() > maxBytes) throw error(file, "zip entry '" + it.name() + "' is " + it.size() + " bytes, over the " + maxBytes + "-byte limit");
        byte[] out = new byte[(int) it.size()];
        readFully(file, ch, ByteBuffer.wrap(out), start, "zip entry '" + it.name() + "'");
        return out;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static TorchCheckpointException error(Path file, String message) {
        return new TorchCheckpointException(file, message);
    }

    private static int u16(ByteBuffer b, int at) { return b.getShort(at) & 0xFFFF; }

    private static String utf8(Path file, byte[] raw) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw error(file, "zip entry name is not valid UTF-8");
        }
    }

    private static int readInt(Path file, FileChannel ch, long position) throws IOException {
        return read(file, ch, position, 4, "zip record").getInt(0);
    }

    private static ByteBuffer read(Path file, FileChannel ch, long position, int length, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, b, position, what);
        return b.flip();
    }

    static void readFully(Path file, FileChannel ch, ByteBuffer b, long position, String what) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position);
            if (n < 0) throw error(file, what + ": unexpected end of file at byte " + position);
            position += n;
        }
    }
}
