package mae.tensor.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The zip reader against archives built byte by byte here (the zip format: local headers and data, the central
 * directory, optionally the zip64 end record and locator, the end record), valid ones at the edges of what it
 * accepts and each corruption it must refuse with a one-line reason.
 */
class StoredZipTest {
    @TempDir Path dir;

    /** One entry as written: name, data, and the fields a test may falsify. */
    static final class E {
        String name;
        byte[] data;
        int method = 0, flags = 0, localMethod = 0;
        Long csize, size, offset;                  // central values when not the real ones
        boolean zip64Size, zip64Csize, zip64Offset; // write 0xFFFFFFFF and the real value in a zip64 extra field
        int zip64Trim;                              // bytes cut from the end of that extra field
        String localName;
        int extraLength = -1;                       // declared length of the central extra field, when not the real one

        E(String name, String data) { this.name = name; this.data = data.getBytes(StandardCharsets.UTF_8); }
    }

    /** A zip of the entries; zip64 writes the zip64 end record and locator (the end record's fields then 0xFFFF...). */
    static byte[] zip(List<E> entries, boolean zip64, String comment, Consumer<ByteBuffer> patchEocd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long[] offsets = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            E e = entries.get(i);
            offsets[i] = out.size();
            byte[] name = (e.localName != null ? e.localName : e.name).getBytes(StandardCharsets.UTF_8);
            ByteBuffer h = le(30 + name.length);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) e.flags).putShort((short) e.localMethod).putInt(0).putInt(0)
                    .putInt(e.data.length).putInt(e.data.length).putShort((short) name.length).putShort((short) 0).put(name);
            out.writeBytes(h.array());
            out.writeBytes(e.data);
        }
        long cdStart = out.size();
        for (int i = 0; i < entries.size(); i++) {
            E e = entries.get(i);
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            long size = e.size != null ? e.size : e.data.length, csize = e.csize != null ? e.csize : e.data.length;
            long offset = e.offset != null ? e.offset : offsets[i];
            ByteBuffer x = le(4 + 24);
            int n = 0;
            if (e.zip64Size) { x.putLong(4 + 8 * n++, size); }
            if (e.zip64Csize) { x.putLong(4 + 8 * n++, csize); }
            if (e.zip64Offset) { x.putLong(4 + 8 * n++, offset); }
            int xlen = n == 0 ? 0 : 4 + 8 * n - e.zip64Trim;
            x.putShort(0, (short) 1).putShort(2, (short) (xlen - 4));
            ByteBuffer c = le(46 + name.length + xlen);
            c.putInt(0x02014b50).putShort((short) 45).putShort((short) 20).putShort((short) e.flags).putShort((short) e.method).putInt(0).putInt(0)
                    .putInt((int) (e.zip64Csize ? 0xFFFFFFFFL : csize)).putInt((int) (e.zip64Size ? 0xFFFFFFFFL : size))
                    .putShort((short) name.length).putShort((short) (e.extraLength >= 0 ? e.extraLength : xlen)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) (e.zip64Offset ? 0xFFFFFFFFL : offset)).put(name);
            c.put(x.array(), 0, xlen);
            out.writeBytes(c.array());
        }
        long cdSize = out.size() - cdStart;
        if (zip64) {
            long z = out.size();
            ByteBuffer r = le(56);
            r.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(entries.size()).putLong(entries.size()).putLong(cdSize).putLong(cdStart);
            out.writeBytes(r.array());
            ByteBuffer loc = le(20);
            loc.putInt(0x07064b50).putInt(0).putLong(z).putInt(1);
            out.writeBytes(loc.array());
        }
        byte[] cm = comment.getBytes(StandardCharsets.UTF_8);
        ByteBuffer eocd = le(22 + cm.length);
        eocd.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? 0xFFFF : entries.size())).putShort((short) (zip64 ? 0xFFFF : entries.size()))
                .putInt((int) (zip64 ? 0xFFFFFFFFL : cdSize)).putInt((int) (zip64 ? 0xFFFFFFFFL : cdStart)).putShort((short) cm.length).put(cm);
        if (patchEocd != null) patchEocd.accept(eocd);
        out.writeBytes(eocd.array());
        return out.toByteArray();
    }

    static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    static List<E> two() { return new ArrayList<>(List.of(new E("arch/data.pkl", "PICKLE"), new E("arch/data/0", "12345678"))); }

    Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("z" + System.nanoTime() + ".zip");
        Files.write(f, bytes);
        return f;
    }

    /** Opens the archive and reads every entry; returns the entries' contents. */
    List<String> readAll(byte[] bytes) throws IOException {
        Path f = file(bytes);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            StoredZip z = StoredZip.open(f, ch);
            List<String> out = new ArrayList<>();
            for (StoredZip.Item it : z.items()) out.add(it.name() + "=" + new String(z.readAll(it, 1000), StandardCharsets.UTF_8));
            for (StoredZip.Item it : z.items()) assertEquals(z.dataStart(it), z.dataStart(it), "cached");
            assertEquals(bytes.length, z.fileSize());
            return out;
        }
    }

    void refused(byte[] bytes, String... words) throws IOException {
        TorchCheckpointException e = assertThrows(TorchCheckpointException.class, () -> readAll(bytes));
        for (String w : words) assertTrue(e.getMessage().contains(w), "'" + e.getMessage() + "' should say " + w);
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test void valid_archives_plain_zip64_and_with_a_comment() throws IOException {
        List<String> want = List.of("arch/data.pkl=PICKLE", "arch/data/0=12345678");
        assertEquals(want, readAll(zip(two(), false, "", null)));
        assertEquals(want, readAll(zip(two(), true, "", null)));
        assertEquals(want, readAll(zip(two(), false, "a comment with PK\u0005\u0006 inside", null)));
        assertEquals(want, readAll(zip(two(), false, "c".repeat(0xFFFF), null)), "the longest comment");
        List<E> z = two();
        for (E e : z) { e.zip64Size = true; e.zip64Csize = true; e.zip64Offset = true; }
        assertEquals(want, readAll(zip(z, true, "", null)), "every field from the zip64 extra field");
        z = two();
        z.get(1).zip64Offset = true;
        assertEquals(want, readAll(zip(z, false, "", null)), "only the offset in the extra field");
        List<E> empty = new ArrayList<>();
        assertEquals(List.of(), readAll(zip(empty, false, "", null)), "an empty archive (22 bytes)");
    }

    @Test void end_records_that_do_not_add_up_are_refused() throws IOException {
        refused(new byte[21], "21 bytes, too short");
        refused(new byte[100], "no zip end-of-central-directory record");
        byte[] shortComment = zip(two(), false, "abc", b -> b.putShort(20, (short) 4));   // claims one byte past the end
        refused(shortComment, "no zip end-of-central-directory record");
        refused(zip(two(), false, "", b -> b.putShort(4, (short) 1)), "multi-disk");
        refused(zip(two(), false, "", b -> b.putShort(6, (short) 1)), "multi-disk");
        refused(zip(two(), false, "", b -> b.putShort(10, (short) 0xFFFF)), "needs zip64 fields");
        refused(zip(two(), false, "", b -> b.putInt(12, -1)), "needs zip64 fields");
        refused(zip(two(), false, "", b -> b.putInt(16, -1)), "needs zip64 fields");
        byte[] good = zip(two(), false, "", null);
        int cdSize = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(good.length - 10);
        int cdStart = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(good.length - 6);
        refused(zip(two(), false, "", b -> b.putInt(16, cdStart + 1)), "does not fit before the end record");
        refused(zip(two(), false, "", b -> b.putInt(12, cdSize + 1)), "does not fit before the end record");
        refused(zip(two(), false, "", b -> b.putShort(10, (short) 3)), "claims 3 entries");
        refused(zip(two(), false, "", b -> b.putShort(10, (short) 2).putInt(12, cdSize - 1)), "runs past its end");
        refused(zip(two(), false, "", b -> b.putInt(16, cdStart + 2).putInt(12, cdSize - 2)), "entry 0 is corrupt");
    }

    @Test void zip64_end_records_are_checked() throws IOException {
        byte[] z = zip(two(), true, "", null);
        int loc = z.length - 22 - 20;
        ByteBuffer b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc + 8, loc - 55);                                       // the zip64 record would run into the locator
        refused(b.array(), "zip64 end record offset", "outside the file");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc + 8, -1);
        refused(b.array(), "outside the file");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc + 8, 0);
        refused(b.array(), "no zip64 end record at byte 0");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(loc - 56 + 16, 1);
        refused(b.array(), "multi-disk");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc - 56 + 32, -1);
        refused(b.array(), "claims");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc - 56 + 48, -5);
        refused(b.array(), "does not fit");
        b = ByteBuffer.wrap(z.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(loc - 56 + 40, (64L << 20) + 1).putLong(loc - 56 + 48, 0);
        refused(b.array(), "does not fit");
    }

    @Test void central_entries_are_checked() throws IOException {
        List<E> z = two();
        z.get(1).name = "arch/data.pkl";
        z.get(1).localName = "arch/data.pkl";
        refused(zip(z, false, "", null), "two entries named 'arch/data.pkl'");
        z = two();
        z.get(1).zip64Size = true;
        z.get(1).zip64Trim = 1;
        refused(zip(z, false, "", null), "zip64 extra field is too short");
        z = two();
        z.get(1).zip64Size = true;
        z.get(1).zip64Csize = true;
        z.get(1).zip64Trim = 8;
        refused(zip(z, false, "", null), "zip64 extra field is too short");
        z = two();
        z.get(1).zip64Offset = true;
        z.get(1).zip64Trim = 4;
        refused(zip(z, false, "", null), "zip64 extra field is too short");
        z = two();
        z.get(1).zip64Size = true;
        z.get(1).size = -1L;
        refused(zip(z, false, "", null), "over 2^63");
        z = two();
        z.get(0).zip64Size = true;
        z.get(0).extraLength = 10;                                           // declares less than the field it holds
        refused(zip(z, false, "", null), "extra field runs past its end");
        z = two();
        z.get(1).extraLength = 200;
        refused(zip(z, false, "", null), "runs past its end");
        byte[] bad = zip(two(), false, "", null);
        String s = new String(bad, StandardCharsets.ISO_8859_1);
        int at = s.lastIndexOf("arch/data/0");
        bad[at] = (byte) 0xC3;                                               // a lone UTF-8 lead byte
        bad[at + 1] = (byte) 0x28;
        refused(bad, "not valid UTF-8");
    }

    @Test void entries_are_read_only_when_stored_and_inside_the_file() throws IOException {
        List<E> z = two();
        z.get(1).flags = 1;
        refused(zip(z, false, "", null), "'arch/data/0': is encrypted");
        z = two();
        z.get(1).method = 8;
        refused(zip(z, false, "", null), "is compressed (method 8, deflate)", "refusing to decompress");
        z = two();
        z.get(1).method = 12;
        TorchCheckpointException e = assertThrows(TorchCheckpointException.class, () -> readAll(zip(two12(), false, "", null)));
        assertTrue(e.getMessage().contains("(method 12)"), e.getMessage());
        z = two();
        z.get(1).csize = 7L;
        refused(zip(z, false, "", null), "sizes differ (7 stored, 8 declared)");
        z = two();
        z.get(1).localMethod = 8;
        refused(zip(z, false, "", null), "local header says compressed (method 8)");
        z = two();
        z.get(1).localName = "arch/data/1";
        refused(zip(z, false, "", null), "local header names a different entry");
        z = two();
        z.get(1).offset = 3L;
        refused(zip(z, false, "", null), "no local header at byte 3");
        byte[] good = zip(two(), false, "", null);
        int cdStart = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(good.length - 6);
        z = two();
        z.get(1).offset = (long) cdStart - 29;
        refused(zip(z, false, "", null), "local header offset", "past the entries area");
        z = two();
        z.get(1).size = 9L;
        z.get(1).csize = 9L;
        refused(zip(z, false, "", null), "runs past the entries area");
        z = two();
        z.get(0).size = 10_000L;
        z.get(0).csize = 10_000L;
        refused(zip(z, false, "", null), "runs past the entries area");
        Path f = file(zip(two(), false, "", null));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            StoredZip sz = StoredZip.open(f, ch);
            StoredZip.Item it = sz.item("arch/data/0");
            assertEquals(8, sz.readAll(it, 8).length, "exactly the limit");
            TorchCheckpointException x = assertThrows(TorchCheckpointException.class, () -> sz.readAll(it, 7));
            assertTrue(x.getMessage().contains("is 8 bytes, over the 7-byte limit"), x.getMessage());
            assertNull(sz.item("nope"));
        }
    }


    @Test void an_empty_entry_with_an_empty_name_may_end_the_entries_area() throws IOException {
        List<E> z = two();
        z.add(new E("", ""));                                  // local header: the last 30 bytes before the central directory; record: 46 bytes
        assertEquals(List.of("arch/data.pkl=PICKLE", "arch/data/0=12345678", "="), readAll(zip(z, false, "", null)));
        z = two();
        z.add(new E("arch/data/1", ""));                       // data starting where the central directory starts
        assertEquals(List.of("arch/data.pkl=PICKLE", "arch/data/0=12345678", "arch/data/1="), readAll(zip(z, false, "", null)));
    }

    @Test void a_count_past_the_records_and_fields_past_the_directory_are_refused() throws IOException {
        List<E> z = List.of(new E("arch/" + "x".repeat(40), "a"), new E("arch/" + "y".repeat(40), "b"));   // 2 records of 91 bytes: room for 3 by size
        refused(zip(z, false, "", b -> b.putShort(10, (short) 3)), "zip central directory entry 2 is corrupt");
        byte[] bytes = zip(two(), false, "", null);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int last = b.getInt(bytes.length - 6) + 46 + "arch/data.pkl".length();
        assertEquals(0x02014b50, b.getInt(last));
        b.putShort(last + 32, (short) 200);                    // a comment longer than what is left of the directory
        refused(bytes, "zip central directory entry at byte 59 runs past its end");
        z = two();
        z.get(1).zip64Size = true;
        z.get(1).zip64Trim = 8;                                // a zip64 field of no bytes
        refused(zip(z, false, "", null), "zip entry 'arch/data/0': zip64 extra field is too short");
    }

    @Test void zip64_fields_one_at_a_time() throws IOException {
        List<String> want = List.of("arch/data.pkl=PICKLE", "arch/data/0=12345678");
        List<E> z = two();
        z.get(1).zip64Csize = true;
        assertEquals(want, readAll(zip(z, false, "", null)), "only the stored size in the extra field");
        z.get(1).csize = -1L;
        refused(zip(z, false, "", null), "zip entry 'arch/data/0': size or offset over 2^63");
        z = two();
        z.get(1).zip64Offset = true;
        z.get(1).offset = -1L;
        refused(zip(z, false, "", null), "zip entry 'arch/data/0': size or offset over 2^63");
    }

    @Test void a_zip64_locator_at_the_very_start_is_still_followed() throws IOException {
        ByteBuffer b = le(42);
        b.putInt(0x07064b50).putInt(0).putLong(0).putInt(1);                             // locator at byte 0, pointing at byte 0
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt(0).putShort((short) 0);
        refused(b.array(), "zip64 end record offset 0 lies outside the file");
    }

    /** An end record at the end of a sparse file of 64 MiB + 22 bytes + slack, claiming a central directory of cdSize bytes at 0. */
    Path sparseZip(long cdSize) throws IOException {
        Path f = dir.resolve("sparse" + cdSize + ".zip");
        long length = (64L << 20) + 64;
        try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(length);
            r.seek(length - 22);
            ByteBuffer e = le(22);
            e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt((int) cdSize).putInt(0).putShort((short) 0);
            r.write(e.array());
        }
        return f;
    }

    @Test void the_central_directory_may_be_64_MiB_and_no_more() throws IOException {
        Path ok = sparseZip(64L << 20);
        try (FileChannel ch = FileChannel.open(ok, StandardOpenOption.READ)) {
            assertTrue(StoredZip.open(ok, ch).items().isEmpty(), "a 64 MiB directory is read");
        }
        Path over = sparseZip((64L << 20) + 1);
        try (FileChannel ch = FileChannel.open(over, StandardOpenOption.READ)) {
            TorchCheckpointException e = assertThrows(TorchCheckpointException.class, () -> StoredZip.open(over, ch));
            assertTrue(e.getMessage().contains("zip central directory of 67108865 bytes exceeds the 67108864-byte limit"), e.getMessage());
        }
    }

    static List<E> two12() {
        List<E> z = two();
        z.get(1).method = 12;
        return z;
    }
}
