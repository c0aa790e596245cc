package mae.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import mae.tensor.io.Safetensors.Entry;
import mae.tensor.io.TorchCheckpoint.Contents;
import mae.tensor.io.TorchCheckpoint.Omitted;
import mae.tensor.io.TorchCheckpoint.Opaque;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fixtures under src/test/resources/torch/ come from tests/reference/make_torch_fixtures.py (torch 1.13);
 * expected.safetensors holds every fixture tensor as written by PyTorch itself, made contiguous.
 */
class TorchCheckpointTest {
    private static final long[] ONE = {1};
    @TempDir Path dir;

    // ------------------------------------------------------------------------------------------ fixtures

    @Test
    void officialMaeCheckpointGivesTheModelWeightsAndPlainExtras() throws IOException {
        Contents c = TorchCheckpoint.read(fixture("mae_checkpoint.pth"));
        assertMatchesExpected("mae_checkpoint.pth", c);
        assertEquals(List.of("optimizer", "epoch", "scaler", "args"), List.copyOf(c.extras().keySet()));
        assertEquals(799L, c.extras().get("epoch"));
        assertEquals(Map.of("scale", 65536.0, "growth_factor", 2.0, "backoff_factor", 0.5, "growth_interval", 2000L, "_growth_tracker", 0L),
                c.extras().get("scaler"));
        Omitted optimizer = (Omitted) c.extras().get("optimizer");
        assertEquals("holds tensors, not read", optimizer.reason());

        Opaque args = (Opaque) c.extras().get("args");
        assertEquals("argparse.Namespace", args.className());
        Map<String, Object> a = args.attributes();
        assertEquals(List.of("batch_size", "epochs", "accum_iter", "model", "input_size", "mask_ratio", "norm_pix_loss", "weight_decay", "lr",
                "blr", "min_lr", "warmup_epochs", "data_path", "output_dir", "device", "seed", "resume", "start_epoch", "num_workers",
                "pin_mem", "world_size", "distributed"), List.copyOf(a.keySet()));
        assertEquals(64L, a.get("batch_size"));
        assertEquals("mae_vit_tiny_patch2", a.get("model"));
        assertEquals(0.75, a.get("mask_ratio"));
        assertEquals(1.5e-4, a.get("blr"));
        assertEquals(Boolean.TRUE, a.get("norm_pix_loss"));
        assertTrue(a.containsKey("lr") && a.get("lr") == null);
        assertEquals("", a.get("resume"));

        Safetensors.Contents st = c.toSafetensors();
        assertEquals(c.tensors(), st.tensors());
        assertEquals("799", st.metadata().get("epoch"));
        assertEquals("<holds tensors, not read>", st.metadata().get("optimizer"));
        assertTrue(st.metadata().get("args").startsWith("Namespace(batch_size=64, epochs=800, accum_iter=1, model='mae_vit_tiny_patch2', "),
                st.metadata().get("args"));
        assertTrue(st.metadata().get("args").contains(", mask_ratio=0.75, norm_pix_loss=True, weight_decay=0.05, lr=None, blr=0.00015, min_lr=0.0,"),
                st.metadata().get("args"));
        assertEquals("{'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000, '_growth_tracker': 0}",
                st.metadata().get("scaler"));
    }

    @Test
    void bareStateDictHoldsTheSameWeights() throws IOException {
        Contents bare = TorchCheckpoint.read(fixture("pytorch_model.bin"));
        assertMatchesExpected("pytorch_model.bin", bare);
        assertTrue(bare.extras().isEmpty(), "the state dict's _metadata attribute is dropped: " + bare.extras());
        Contents official = TorchCheckpoint.read(fixture("mae_checkpoint.pth"));
        assertEquals(List.copyOf(official.tensors().keySet()), List.copyOf(bare.tensors().keySet()));
        for (String name : bare.tensors().keySet()) {
            assertArrayEquals(official.tensors().get(name).floats(), bare.tensors().get(name).floats(), name);
        }
        assertEquals(List.of("cls_token", "pos_embed", "mask_token", "patch_embed.proj.weight", "patch_embed.proj.bias",
                "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
                "norm.weight", "norm.bias"), List.copyOf(bare.tensors().keySet()));
        assertArrayEquals(new int[] {8, 1, 2, 2}, bare.tensors().get("patch_embed.proj.weight").shape());
    }

    @Test
    void pickleProtocol4ReadsTheSame() throws IOException {
        Contents p4 = TorchCheckpoint.read(fixture("protocol4.pt")); // FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL
        assertMatchesExpected("protocol4.pt", p4);
        Contents p2 = TorchCheckpoint.read(fixture("pytorch_model.bin"));
        assertEquals(p2.tensors().keySet(), p4.tensors().keySet());
        for (String name : p2.tensors().keySet()) assertArrayEquals(p2.tensors().get(name).floats(), p4.tensors().get(name).floats(), name);
    }

    @Test
    void viewsAreCopiedOutInRowMajorOrder() throws IOException {
        Contents c = TorchCheckpoint.read(fixture("views.pt"));
        assertMatchesExpected("views.pt", c);
        Map<String, Entry> t = c.tensors();
        // base = arange(24).reshape(4, 6) * 0.5 - 3
        assertArrayEquals(new float[] {-3, 0, 3, 6, -2.5f, 0.5f, 3.5f, 6.5f}, Arrays.copyOf(t.get("transposed").floats(), 8));
        assertArrayEquals(new int[] {6, 4}, t.get("transposed").shape());
        assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f}, t.get("rows").floats());
        assertArrayEquals(new float[] {-2, 1, 4, 7}, t.get("column").floats());
        assertArrayEquals(new float[] {1, 1.5f, 2, 4, 4.5f, 5, 7, 7.5f, 8}, t.get("block").floats());
        assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, -2, -2, -2}, t.get("expanded").floats());
        assertArrayEquals(new int[] {4, 2, 3}, t.get("permuted").shape());
        assertArrayEquals(new int[] {}, t.get("scalar").shape());
        assertArrayEquals(new float[] {3.25f}, t.get("scalar").floats());
        assertArrayEquals(new int[] {0, 3}, t.get("empty").shape());
        assertEquals(0, t.get("empty").floats().length);
        assertEquals("I64", t.get("position_ids").dtype());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6}, t.get("position_ids").longs());
        assertNull(t.get("position_ids").floats());
        assertEquals("I32", t.get("int32").dtype());
        assertArrayEquals(new long[] {-7, 0, Integer.MAX_VALUE}, t.get("int32").longs());
        assertEquals("F64", t.get("double").dtype());
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 0f, 2.5f}, t.get("double").floats());
        assertTrue(c.extras().isEmpty());
    }

    @Test
    void float16AndBfloat16AreExact() throws IOException {
        Contents c = TorchCheckpoint.read(fixture("half.pt"));
        assertMatchesExpected("half.pt", c);
        float[] f16 = c.tensors().get("f16").floats();
        assertEquals("F16", c.tensors().get("f16").dtype());
        assertArrayEquals(new float[] {1, -2.5f, 65504, 0x1p-24f, 1023 * 0x1p-24f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0x1p-14f},
                Arrays.copyOf(f16, 9));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(f16[7]));
        assertEquals("BF16", c.tensors().get("bf16").dtype());
        assertArrayEquals(new float[] {1, -2.5f}, Arrays.copyOf(c.tensors().get("bf16").floats(), 2));
        assertArrayEquals(new int[] {5, 3}, c.tensors().get("f16_t").shape());
        assertArrayEquals(new int[] {3, 2}, c.tensors().get("bf16_cols").shape());
    }

    @Test
    void legacyFormatIsRefusedWithTheResaveRecipe() {
        Path file = fixture("legacy.pt");
        String m = assertError(file, "legacy torch.save format");
        assertTrue(m.contains("torch.save(torch.load(f), f2)"), m);
    }

    @Test
    void picklesNamingOsSystemOrEvalAreRefusedByName() {
        // written by torch.save from objects whose __reduce__ returns (os.system, ...) and (eval, ...): pickle
        // protocol 2 spells them posix.system and __builtin__.eval
        assertError(fixture("evil_os_system.pt"), "data.pkl: refused global posix.system: not on the allow-list");
        assertError(fixture("evil_eval.pt"), "data.pkl: refused global __builtin__.eval: not on the allow-list");
    }

    @Test
    void handMadeOsSystemAndBuiltinsEvalAreRefusedAndNeverRun() throws IOException {
        Path marker = dir.resolve("pwned");
        byte[] system = PickleBytes.proto2().emptyDict().str("model")
                .global("os", "system").str("touch " + marker).op(0x85).op('R').op('s').stop().bytes();
        assertError(checkpoint("sys.pt", system, Map.of()), "refused global os.system");
        byte[] eval = new PickleBytes().op(0x80).raw(4).emptyDict().str("model")
                .str("builtins").str("eval").op(0x93).str("open('" + marker + "', 'w')").op(0x85).op('R').op('s').stop().bytes();
        assertError(checkpoint("eval.pt", eval, Map.of()), "refused global builtins.eval");
        assertFalse(Files.exists(marker));
    }

    // ------------------------------------------------------------------------------------------ hand-made archives

    @Test
    void handMadeArchiveWithoutZip64Reads() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) data.putFloat(i * 1.5f);
        byte[] pickle = PickleBytes.stateDict("w", "FloatStorage", "0", 6, 1, new long[] {2, 2}, new long[] {1, 2});
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        entries.put("archive/data/0", data.array());
        Contents c = TorchCheckpoint.read(checkpoint("ok.pt", pickle, entries));
        // elements 1 + [0, 1] * 1 + [0, 1] * 2 in row-major order: 1, 3, 2, 4
        assertArrayEquals(new float[] {1.5f, 4.5f, 3f, 6f}, c.tensors().get("w").floats());
    }

    @Test
    void largeTensorsAreReadInChunksAndLargeViewsMapped() throws IOException {
        int rows = 1500, cols = 1000; // 6 MB of F32: more than one 4 MiB read chunk, and a view spanning over 1 MiB (mapped)
        ByteBuffer data = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) data.putFloat(i);
        ByteBuffer half = ByteBuffer.allocate(rows * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * cols; i++) half.putShort((short) (0x3C00 + (i % 1024))); // 1 + (i % 1024) / 1024
        PickleBytes p = PickleBytes.proto2().emptyDict().mark()
                .str("full").tensor("FloatStorage", "0", (long) rows * cols, 0, new long[] {rows, cols}, new long[] {cols, 1})
                .str("t").tensor("FloatStorage", "0", (long) rows * cols, 1, new long[] {cols - 1, rows}, new long[] {1, cols})
                .str("h").tensor("HalfStorage", "1", (long) rows * cols, 0, new long[] {rows * cols}, ONE)
                .op('u').stop();
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data/0", data.array());
        entries.put("archive/data/1", half.array());
        Contents c = TorchCheckpoint.read(checkpoint("large.pt", p.bytes(), entries));
        float[] full = c.tensors().get("full").floats();
        for (int i = 0; i < full.length; i++) if (full[i] != i) throw new AssertionError("full[" + i + "] = " + full[i]);
        float[] t = c.tensors().get("t").floats(); // t[j][r] = element 1 + j + r * cols
        for (int j = 0; j < cols - 1; j++) {
            for (int r = 0; r < rows; r++) {
                if (t[j * rows + r] != 1 + j + r * cols) throw new AssertionError("t[" + j + "][" + r + "] = " + t[j * rows + r]);
            }
        }
        float[] h = c.tensors().get("h").floats();
        for (int i = 0; i < h.length; i++) if (h[i] != 1 + (i % 1024) / 1024f) throw new AssertionError("h[" + i + "] = " + h[i]);
    }

    @Test
    void truncatedZip() throws IOException {
        byte[] all = Files.readAllBytes(fixture("mae_checkpoint.pth"));
        assertError(write("half.pth", Arrays.copyOf(all, all.length / 2)), "no zip end-of-central-directory record (file truncated");
        assertError(write("short.pth", Arrays.copyOf(all, all.length - 10)), "no zip end-of-central-directory record");
        assertError(write("tiny.pth", Arrays.copyOf(all, 10)), "10 bytes, too short for a zip archive");
        assertError(write("empty.pth", new byte[0]), "0 bytes, too short");
    }

    @Test
    void centralDirectoryOutsideTheFile() throws IOException {
        byte[] zip = zipBytes(Map.of("archive/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes()), false);
        int eocd = zip.length - 22;
        byte[] far = zip.clone();
        ByteBuffer.wrap(far).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 16, 0x7FFFFFF0);
        assertError(write("far.pt", far), "does not fit before the end record");
        byte[] many = zip.clone();
        ByteBuffer.wrap(many).order(ByteOrder.LITTLE_ENDIAN).putShort(eocd + 10, (short) 0xFFFE);
        assertError(write("many.pt", many), "zip claims 65534 entries");
        byte[] zip64 = zip.clone();
        ByteBuffer.wrap(zip64).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 12, -1);
        assertError(write("z64.pt", zip64), "needs zip64 fields, but there is no zip64 locator");
    }

    @Test
    void localHeaderPointingPastTheData() throws IOException {
        byte[] zip = zipBytes(Map.of("archive/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes()), false);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int central = b.getInt(zip.length - 22 + 16);
        b.putInt(central + 42, central - 10); // local header offset inside the central directory
        assertError(write("local.pt", zip), "zip entry 'archive/data.pkl': local header offset");
    }

    @Test
    void duplicateEntryNames() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes());
        entries.put("archive/data/0", new byte[4]);
        entries.put("archive/data/1", new byte[4]);
        byte[] zip = zipBytes(entries, false);
        byte[] from = "archive/data/1".getBytes(StandardCharsets.US_ASCII), to = "archive/data/0".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + from.length <= zip.length; i++) {
            if (Arrays.equals(zip, i, i + from.length, from, 0, from.length)) System.arraycopy(to, 0, zip, i, to.length);
        }
        assertError(write("dup.pt", zip), "zip holds two entries named 'archive/data/0'");
    }

    @Test
    void compressedEntriesAreNeverInflated() throws IOException {
        Map<String, byte[]> pkl = Map.of("archive/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes());
        assertError(write("deflated.pt", zipBytes(pkl, true)),
                "zip entry 'archive/data.pkl': is compressed (method 8, deflate); torch.save stores every entry uncompressed");
        // a zip bomb: 64 MiB of zeros deflated to about 64 KiB, as a storage; refused before one byte is inflated
        Map<String, byte[]> bomb = new LinkedHashMap<>();
        bomb.put("archive/data.pkl", PickleBytes.stateDict("w", "FloatStorage", "0", 16L << 20, 0, new long[] {16L << 20}, ONE));
        bomb.put("archive/data/0", new byte[64 << 20]);
        Path file = write("bomb.pt", zipBytesMixed(bomb, "archive/data/0"));
        assertTrue(Files.size(file) < 1 << 20, "bomb is small on disk");
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertError(file, "zip entry 'archive/data/0': is compressed"));
    }

    @Test
    void notATorchCheckpoint() throws IOException {
        assertError(write("other.zip", zipBytes(Map.of("readme.txt", new byte[3]), false)), "no <archive>/data.pkl entry: not a torch.save checkpoint");
        assertError(write("script.pt", zipBytes(Map.of("m/constants.pkl", new byte[3]), false)), "a TorchScript archive?");
        assertError(write("garbage.pt", "this is not a checkpoint at all, no".getBytes(StandardCharsets.US_ASCII)), "no zip end-of-central-directory");
        assertError(write("pickle.pkl", PickleBytes.proto2().emptyDict().stop().bytes()), "a bare pickle, not a torch.save zip checkpoint");
        Map<String, byte[]> two = new LinkedHashMap<>();
        two.put("a/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes());
        two.put("b/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes());
        assertError(write("two.pt", zipBytes(two, false)), "zip holds two checkpoints");
        assertError(checkpoint("list.pt", PickleBytes.proto2().emptyList().stop().bytes(), Map.of()), "the saved object is a list, not a dict");
        assertError(checkpoint("key.pt", PickleBytes.proto2().emptyDict().integer(3).integer(4).op('s').stop().bytes(), Map.of()),
                "state dict key 3 is not a string");
    }

    @Test
    void namesFromTheFileCannotBreakTheMessageLine() throws IOException {
        byte[] pickle = PickleBytes.stateDict("evil\nname\r" + "x".repeat(5000), "FloatStorage", "7", 1, 0, ONE, ONE);
        String m = assertError(checkpoint("names.pt", pickle, Map.of()), "tensor 'evil\\u000aname\\u000dxxx");
        assertTrue(m.endsWith("...': its storage entry 'archive/data/7' is missing from the zip") && m.length() < 400, m);
        assertTrue(TorchCheckpointException.oneLine("y".repeat(5000)).length() == 2003);
        byte[] zip = zipBytes(Map.of("a\nb/data.pkl", PickleBytes.proto2().emptyList().stop().bytes()), true);
        assertError(write("entry.pt", zip), "zip entry 'a\\u000ab/data.pkl': is compressed");
    }

    @Test
    void bigEndianCheckpointsAreRefused() throws IOException {
        Map<String, byte[]> entries = Map.of("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        assertError(checkpoint("be.pt", PickleBytes.proto2().emptyDict().stop().bytes(), entries), "written on a big-endian machine");
        Map<String, byte[]> odd = Map.of("archive/byteorder", "middle".getBytes(StandardCharsets.US_ASCII));
        assertError(checkpoint("odd.pt", PickleBytes.proto2().emptyDict().stop().bytes(), odd), "byteorder entry says 'middle'");
    }

    @Test
    void missingStorageEntryNamesTheTensor() throws IOException {
        byte[] pickle = PickleBytes.stateDict("blocks.0.attn.qkv.weight", "FloatStorage", "1", 4, 0, new long[] {4}, ONE);
        assertError(checkpoint("missing.pt", pickle, Map.of("archive/data/0", new byte[16])),
                "tensor 'blocks.0.attn.qkv.weight': its storage entry 'archive/data/1' is missing from the zip");
    }

    @Test
    void storageShorterThanItsTensor() throws IOException {
        byte[] pickle = PickleBytes.stateDict("w", "FloatStorage", "0", 4, 2, new long[] {3}, ONE);
        assertError(checkpoint("short.pt", pickle, Map.of("archive/data/0", new byte[16])),
                "tensor 'w': storage offset 2, size [3] and stride [1] reach element 4, but its storage 'archive/data/0' holds 4");
        byte[] strided = PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {3, 1});
        assertError(checkpoint("strided.pt", strided, Map.of("archive/data/0", new byte[16])), "reach element 4");
        // the persistent id promises more elements than the entry has bytes
        byte[] more = PickleBytes.stateDict("w", "FloatStorage", "0", 8, 0, new long[] {8}, ONE);
        assertError(checkpoint("more.pt", more, Map.of("archive/data/0", new byte[16])),
                "tensor 'w': storage entry 'archive/data/0' is 16 bytes but holds 8 F32 elements, which need 32");
        byte[] huge = PickleBytes.stateDict("w", "HalfStorage", "0", Long.MAX_VALUE, 0, new long[] {1}, ONE);
        assertError(checkpoint("huge.pt", huge, Map.of("archive/data/0", new byte[16])), "which need over 2^63");
    }

    @Test
    void absurdShapes() throws IOException {
        Map<String, byte[]> storage = Map.of("archive/data/0", new byte[16]);
        assertError(checkpoint("neg.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {-1, 4}, new long[] {4, 1}), storage),
                "tensor 'w': size [-1, 4] / stride [4, 1] has a negative value");
        assertError(checkpoint("negstride.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 3, new long[] {4}, new long[] {-1}), storage),
                "has a negative value");
        long big = Integer.MAX_VALUE - 8;
        assertError(checkpoint("overflow.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {big, big, big}, new long[] {0, 0, 0}), storage),
                "tensor 'w': size [2147483639, 2147483639, 2147483639] has more elements than a Java array holds");
        assertError(checkpoint("dim.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {1L << 40}, new long[] {0}), storage),
                "has a dimension over 2^31");
        assertError(checkpoint("extent.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {3}, new long[] {Long.MAX_VALUE}), storage),
                "reach element past 2^63");
        assertError(checkpoint("rank.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, 0, new long[] {1, 1}, ONE), storage),
                "size [1, 1] and stride [1] differ in length");
        assertError(checkpoint("offset.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 4, -1, ONE, ONE), storage),
                "storage offset -1 is not a non-negative int");
        // an empty tensor may have any offset and stride: it reads nothing
        Contents empty = TorchCheckpoint.read(checkpoint("empty.pt",
                PickleBytes.stateDict("w", "FloatStorage", "0", 4, 100, new long[] {0, 1L << 30}, new long[] {1L << 40, 5}), storage));
        assertArrayEquals(new int[] {0, 1 << 30}, empty.tensors().get("w").shape());
    }

    @Test
    void moreElementsThanTheFileJustifiesAreRefusedBeforeAllocating() throws IOException {
        // one 4-byte storage expanded (stride 0) to 2^28 elements: 1 GiB of floats from a 400-byte file
        Map<String, byte[]> storage = Map.of("archive/data/0", new byte[4]);
        Path file = checkpoint("expand.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, new long[] {1L << 28}, new long[] {0}), storage);
        assertError(file, "tensor 'w': 268435456 elements would take the tensors read past");
        // many views of one storage: each fits, together they are refused when the budget runs out
        PickleBytes p = PickleBytes.proto2().emptyDict().mark();
        for (int i = 0; i < 4; i++) p.str("v" + i).tensor("FloatStorage", "0", 1, 0, new long[] {300_000}, new long[] {0});
        Path views = checkpoint("views.pt", p.op('u').stop().bytes(), storage);
        assertError(views, "tensor 'v3': 300000 elements would take the tensors read past");
    }

    @Test
    void refusedStorageTypesAndMisusedGlobals() throws IOException {
        Map<String, byte[]> storage = Map.of("archive/data/0", new byte[4]);
        assertError(checkpoint("bool.pt", PickleBytes.stateDict("w", "BoolStorage", "0", 4, 0, ONE, ONE), storage), "refused global torch.BoolStorage");
        byte[] callStorage = PickleBytes.proto2().emptyDict().str("w").global("torch", "FloatStorage").emptyTuple().op('R').op('s').stop().bytes();
        assertError(checkpoint("call.pt", callStorage, storage), "global torch.FloatStorage cannot be called");
        byte[] callNs = PickleBytes.proto2().emptyDict().str("args").global("argparse", "Namespace").emptyTuple().op('R').op('s').stop().bytes();
        assertError(checkpoint("ns.pt", callNs, storage), "global argparse.Namespace cannot be called");
        byte[] pid = PickleBytes.proto2().emptyDict().str("w").mark().str("storage").global("collections", "OrderedDict").str("0").str("cpu").integer(1)
                .op('t').op('Q').op('s').stop().bytes();
        assertError(checkpoint("pid.pt", pid, storage), "persistent id names storage type collections.OrderedDict");
        byte[] badKey = PickleBytes.proto2().emptyDict().str("w").mark().str("storage").global("torch", "FloatStorage").str("../../etc/passwd")
                .str("cpu").integer(1).op('t').op('Q').op('s').stop().bytes();
        assertError(checkpoint("key.pt", badKey, storage), "storage key '../../etc/passwd' is not 1-64 letters");
        byte[] twoTypes = PickleBytes.proto2().emptyDict().mark()
                .str("a").tensor("FloatStorage", "0", 1, 0, ONE, ONE).str("b").tensor("HalfStorage", "0", 2, 0, ONE, ONE).op('u').stop().bytes();
        assertError(checkpoint("types.pt", twoTypes, storage), "storage '0' is named as 1 F32 and as 2 F16");
        byte[] param = PickleBytes.proto2().emptyDict().str("w").global("torch._utils", "_rebuild_parameter").str("x").bool(false).emptyDict()
                .op(0x87).op('R').op('s').stop().bytes();
        assertError(checkpoint("param.pt", param, storage), "_rebuild_parameter expects (tensor, requires_grad, hooks), got (str, bool, dict)");
    }

    @Test
    void rebuildParameterGivesTheTensor() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f).putFloat(-1f);
        byte[] pickle = PickleBytes.proto2().emptyDict().str("p").global("torch._utils", "_rebuild_parameter")
                .tensor("FloatStorage", "0", 2, 0, new long[] {2}, ONE).bool(true).global("collections", "OrderedDict").emptyTuple().op('R')
                .op(0x87).op('R').op('s').stop().bytes();
        Contents c = TorchCheckpoint.read(checkpoint("param.pt", pickle, Map.of("archive/data/0", data.array())));
        assertArrayEquals(new float[] {2.5f, -1f}, c.tensors().get("p").floats());
    }

    @Test
    void hostilePicklesInsideAnArchiveGiveOneLine() throws IOException {
        assertError(checkpoint("op.pt", PickleBytes.proto2().op(0xFF).bytes(), Map.of()), "data.pkl: unsupported pickle opcode 0xff");
        assertError(checkpoint("memo.pt", PickleBytes.proto2().binget(3).stop().bytes(), Map.of()), "data.pkl: memo index 3 was never stored");
        assertError(checkpoint("trunc.pt", PickleBytes.proto2().emptyDict().bytes(), Map.of()), "data.pkl: pickle ends at byte 3 without a STOP");
        PickleBytes deep = PickleBytes.proto2().emptyDict().str("x").emptyList().binput(0).op('0');
        for (int i = 0; i < 10_000; i++) deep.emptyList().binget(0).op('a').binput(0).op('0');
        assertError(checkpoint("deep.pt", deep.binget(0).op('s').stop().bytes(), Map.of()),
                "data.pkl: the unpickled object nests containers deeper than 100 levels");
    }

    @Test
    void sharedSubtreesInExtrasStayCheap() throws IOException {
        // extras[x] = L90 with L(i+1) = [L(i), L(i)]: 2^90 leaves if walked naively
        PickleBytes p = PickleBytes.proto2().emptyDict().str("x").emptyList().binput(0).op('0');
        for (int i = 0; i < 90; i++) p.emptyList().mark().binget(0).binget(0).op('e').binput(0).op('0');
        byte[] pickle = p.binget(0).op('s').stop().bytes();
        Contents c = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> TorchCheckpoint.read(checkpoint("dag.pt", pickle, Map.of())));
        assertEquals(new Omitted("too large to convert, not read"), c.extras().get("x"));
    }

    @Test
    void oversizedPickleIsRefusedBeforeItIsRead() throws IOException {
        byte[] pickle = new byte[(int) TorchCheckpoint.MAX_PICKLE_BYTES + 1];
        assertError(checkpoint("bigpkl.pt", pickle, Map.of()), "zip entry 'archive/data.pkl' is 16777217 bytes, over the 16777216-byte limit");
    }

    /** Random byte changes and cuts of real checkpoints: each read succeeds or fails with one checked line, quickly. */
    @Test
    void corruptedFixturesFailCleanly() throws IOException {
        java.util.Random random = new java.util.Random(20240601);
        int failures = 0;
        for (String name : List.of("mae_checkpoint.pth", "views.pt", "half.pt", "protocol4.pt")) {
            byte[] original = Files.readAllBytes(fixture(name));
            for (int round = 0, rounds = Integer.getInteger("mae.fuzz.rounds", 150); round < rounds; round++) {
                byte[] bytes = original.clone();
                int changes = 1 + random.nextInt(4);
                for (int k = 0; k < changes; k++) bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                if (round % 10 == 0) bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                Path file = write("fuzz.pt", bytes);
                try {
                    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> TorchCheckpoint.read(file), name + " round " + round);
                } catch (Exception e) {
                    failures++;
                    String m = e.getMessage();
                    assertTrue(e instanceof TorchCheckpointException && !m.contains("\n") && !m.contains("internal error"), name + " round " + round + ": " + e);
                }
            }
        }
        assertTrue(failures > 0, "some corruptions are caught");
    }

    @Test
    void floatsRenderAsPythonReprs() {
        // each pair checked against Python 3: repr(float(x))
        String[][] cases = {{"1.5e-4", "0.00015"}, {"1e-8", "1e-08"}, {"65536", "65536.0"}, {"1.5e16", "1.5e+16"}, {"1e16", "1e+16"},
                {"123456789012345.6", "123456789012345.6"}, {"-0.001", "-0.001"}, {"-2.5e-300", "-2.5e-300"}, {"0.1", "0.1"}, {"-0.0", "-0.0"}};
        for (String[] c : cases) assertEquals(c[1], TorchCheckpoint.pythonFloat(Double.parseDouble(c[0])), c[0]);
        assertEquals("inf", TorchCheckpoint.pythonFloat(Double.POSITIVE_INFINITY));
        assertEquals("nan", TorchCheckpoint.pythonFloat(Double.NaN));
        assertEquals("1e-10", TorchCheckpoint.pythonFloat(1e-10));
        assertEquals("-1.5e-10", TorchCheckpoint.pythonFloat(-1.5e-10));
    }


    // ------------------------------------------------------------------------------------------ edges

    @Test
    void barePicklesOfEveryProtocolAndLengthAreNamed() throws IOException {
        assertError(write("two.pkl", new byte[] {(byte) 0x80, 2}), "a bare pickle, not a torch.save zip checkpoint");
        assertError(write("p5.pkl", new PickleBytes().op(0x80).raw(5).emptyDict().stop().bytes()), "a bare pickle");
        String m = assertError(write("other.zip", zipBytes(Map.of("readme.txt", new byte[3]), false)), "not a torch.save checkpoint");
        assertFalse(m.contains("TorchScript"), "no TorchScript hint without a constants.pkl: " + m);
        assertError(write("nested.pt", zipBytes(Map.of("a/b/data.pkl", PickleBytes.proto2().emptyDict().stop().bytes()), false)),
                "no <archive>/data.pkl entry");
    }

    @Test
    void persistentIdsAndCallsOfTheWrongShapeAreRefused() throws IOException {
        Map<String, byte[]> storage = Map.of("archive/data/0", new byte[4]);
        for (int extra : new int[] {-1, 1}) {
            PickleBytes p = PickleBytes.proto2().emptyDict().str("w").mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu");
            if (extra > 0) p.integer(1).integer(2);
            assertError(checkpoint("pid" + extra + ".pt", p.op('t').op('Q').op('s').stop().bytes(), storage),
                    "persistent id ('storage', torch.FloatStorage, '0', 'cpu'" + (extra > 0 ? ", 1, 2)" : ")") + " is not ('storage', type, key, location, numel)");
        }
        byte[] blob = PickleBytes.proto2().emptyDict().str("w").mark().str("blob").global("torch", "FloatStorage").str("0").str("cpu").integer(1)
                .op('t').op('Q').op('s').stop().bytes();
        assertError(checkpoint("blob.pt", blob, storage), "persistent id ('blob', torch.FloatStorage, '0', 'cpu', 1) is not ('storage', type, key, location, numel)");
        byte[] negative = PickleBytes.stateDict("w", "FloatStorage", "0", -1, 0, ONE, ONE);
        assertError(checkpoint("neg.pt", negative, storage), "storage '0' has element count -1, not a non-negative int");
        byte[] dictArgs = PickleBytes.proto2().emptyDict().str("d").global("collections", "OrderedDict").integer(1).op(0x85).op('R').op('s').stop().bytes();
        assertError(checkpoint("od.pt", dictArgs, storage), "collections.OrderedDict called with 1 arguments");
        for (int n : new int[] {5, 6, 7, 8}) {
            PickleBytes p = PickleBytes.proto2().emptyDict().str("w").global("torch._utils", "_rebuild_tensor_v2").mark();
            p.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1).op('t').op('Q');
            p.integer(0).tuple(1).tuple(1);
            for (int i = 3; i < n - 1; i++) p.bool(false);
            byte[] pickle = p.op('t').op('R').op('s').stop().bytes();
            Path file = checkpoint("args" + n + ".pt", pickle, storage);
            if (n == 6 || n == 7) assertArrayEquals(new float[] {0}, TorchCheckpoint.read(file).tensors().get("w").floats(), n + " arguments");
            else assertError(file, "_rebuild_tensor_v2 called with " + n + " arguments, expected 6 or 7");
        }
    }

    @Test
    void tensorLimitsAtTheirExactEdges() throws IOException {
        Map<String, byte[]> one = Map.of("archive/data/0", new byte[4]);
        // a shape of exactly 2^31 - 9 elements passes the shape check (and is then refused for the output budget)
        assertError(checkpoint("max.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, new long[] {Integer.MAX_VALUE - 8}, new long[] {0}), one),
                "tensor 'w': 2147483639 elements would take the tensors read past");
        assertError(checkpoint("need.pt", PickleBytes.stateDict("w", "HalfStorage", "0", Long.MAX_VALUE / 2, 0, ONE, ONE), one),
                "holds 4611686018427387903 F16 elements, which need 9223372036854775806");
        assertError(checkpoint("zero.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 0, 0, new long[] {0}, ONE), one),
                "storage entry 'archive/data/0' is 4 bytes but holds 0 F32 elements, which need 0");
        Contents empty = TorchCheckpoint.read(checkpoint("empty.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 100, new long[] {0}, ONE), one));
        assertArrayEquals(new int[] {0}, empty.tensors().get("w").shape(), "an empty tensor reads nothing, whatever its offset");
        long[] ones64 = new long[64], ones65 = new long[65];
        Arrays.fill(ones64, 1);
        Arrays.fill(ones65, 1);
        Contents rank64 = TorchCheckpoint.read(checkpoint("r64.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, ones64, ones64), one));
        assertEquals(64, rank64.tensors().get("w").shape().length);
        assertError(checkpoint("r65.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, ones65, ones65), one),
                "tensor 'w': size is a tuple, not a tuple of at most 64 ints");
        String name = "n".repeat(200);
        String m = assertError(checkpoint("name.pt", PickleBytes.stateDict(name, "FloatStorage", "1", 1, 0, ONE, ONE), one),
                "tensor '" + name + "': its storage entry");
        assertFalse(m.contains("..."), "a 200-character name is shown whole: " + m);
    }

    @Test
    void theOutputBudgetIsTheFileSizePlus2To20Elements() throws IOException {
        Map<String, byte[]> one = Map.of("archive/data/0", new byte[4]);
        long numel = 1L << 20;
        Path file = null;
        for (int i = 0; i < 5; i++) {                                           // the file size depends (a little) on the count it holds
            file = checkpoint("budget.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, new long[] {numel}, new long[] {0}), one);
            if (numel == Files.size(file) + (1L << 20)) break;
            numel = Files.size(file) + (1L << 20);
        }
        assertEquals((int) numel, TorchCheckpoint.read(file).tensors().get("w").floats().length, "exactly the budget");
        Path over = checkpoint("over.pt", PickleBytes.stateDict("w", "FloatStorage", "0", 1, 0, new long[] {numel + 1}, new long[] {0}), one);
        assertEquals(Files.size(file), Files.size(over));
        assertError(over, (numel + 1) + " elements would take the tensors read past " + numel + " elements");
    }

    @Test
    void aStridedViewFarIntoItsStorageReadsOnlyItsSpan() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(4000).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 1000; i++) data.putFloat(i);
        byte[] pickle = PickleBytes.stateDict("w", "FloatStorage", "0", 1000, 900, new long[] {2, 2}, new long[] {1, 2});
        Contents c = TorchCheckpoint.read(checkpoint("far.pt", pickle, Map.of("archive/data/0", data.array())));
        assertArrayEquals(new float[] {900, 902, 901, 903}, c.tensors().get("w").floats());
    }

    @Test
    void rowsExpandedFromOneAreRepeatedNotReadOnward() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
        byte[] pickle = PickleBytes.stateDict("w", "FloatStorage", "0", 2, 0, new long[] {3, 2}, new long[] {0, 1});
        Contents c = TorchCheckpoint.read(checkpoint("rows.pt", pickle, Map.of("archive/data/0", data.array())));
        assertArrayEquals(new float[] {1.5f, -2f, 1.5f, -2f, 1.5f, -2f}, c.tensors().get("w").floats());
    }

    @Test
    void aViewSpanningOver2GiBOfItsStorageIsRefusedBeforeItIsMapped() throws IOException {
        long n = (1L << 29) + 4;                                             // F32 elements: 2 GiB + 16 bytes, a sparse file on disk
        byte[] pickle = PickleBytes.stateDict("w", "FloatStorage", "0", n, 0, new long[] {2, 2}, new long[] {1, 1L << 29});
        String[] names = {"archive/data.pkl", "archive/data/0"};
        long[] sizes = {pickle.length, n * 4}, offsets = new long[2];
        Path file = dir.resolve("span.pt");
        try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            for (int i = 0; i < 2; i++) {
                offsets[i] = r.getFilePointer();
                byte[] name = names[i].getBytes(StandardCharsets.US_ASCII);
                ByteBuffer h = ByteBuffer.allocate(30 + name.length).order(ByteOrder.LITTLE_ENDIAN);
                h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putInt(0).putInt(0)
                        .putInt((int) sizes[i]).putInt((int) sizes[i]).putShort((short) name.length).putShort((short) 0).put(name);
                r.write(h.array());
                if (i == 0) r.write(pickle);
                else r.seek(r.getFilePointer() + sizes[i]);
            }
            long cd = r.getFilePointer();
            for (int i = 0; i < 2; i++) {
                byte[] name = names[i].getBytes(StandardCharsets.US_ASCII);
                ByteBuffer c = ByteBuffer.allocate(46 + name.length).order(ByteOrder.LITTLE_ENDIAN);
                c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0).putInt(0).putInt(0)
                        .putInt((int) sizes[i]).putInt((int) sizes[i]).putShort((short) name.length).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) offsets[i]).put(name);
                r.write(c.array());
            }
            ByteBuffer e = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
            e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 2).putShort((short) 2)
                    .putInt((int) (r.getFilePointer() - cd)).putInt((int) cd).putShort((short) 0);
            r.write(e.array());
        }
        assertError(file, "tensor 'w': non-contiguous, spans 2147483656 bytes of its storage; at most 2 GiB is supported");
    }

    @Test
    void extrasOfEveryKindAndTheNodeLimitExactly() throws IOException {
        byte[] pickle = PickleBytes.proto2().emptyDict().mark()
                .str("storage").mark().str("storage").global("torch", "FloatStorage").str("9").str("cpu").integer(1).op('t').op('Q')
                .str("class").global("torch", "FloatStorage")
                .str("betas").binfloat(0.9).binfloat(0.95).op(0x86)
                .str("milestones").emptyList().mark().integer(1).integer(2).op('e')
                .str("odd").global("argparse", "Namespace").emptyTuple().op(0x81).emptyList().op('b')
                .op('u').stop().bytes();
        Map<String, Object> x = TorchCheckpoint.read(checkpoint("extras.pt", pickle, Map.of())).extras();
        assertEquals(new Omitted("holds tensors, not read"), x.get("storage"));
        assertEquals(new Opaque("torch.FloatStorage", Map.of()), x.get("class"));
        assertEquals(List.of(0.9, 0.95), x.get("betas"));
        assertEquals(List.of(1L, 2L), x.get("milestones"));
        assertEquals(new Omitted("argparse.Namespace with a non-dict state, not read"), x.get("odd"));
        for (int n : new int[] {99_999, 100_000}) {                               // the list and its items: 100,000 nodes are converted
            PickleBytes p = PickleBytes.proto2().emptyDict().str("x").emptyList().mark();
            for (int i = 0; i < n; i++) p.integer(i % 200);
            Object v = TorchCheckpoint.read(checkpoint("nodes.pt", p.op('e').op('s').stop().bytes(), Map.of())).extras().get("x");
            if (n == 99_999) assertEquals(n, ((List<?>) v).size());
            else assertEquals(new Omitted("too large to convert, not read"), v);
        }
    }

    @Test
    void valuesAreDescribedShortlyInMessages() {
        Unpickler.Global g = new Unpickler.Global("torch", "FloatStorage");
        assertEquals("torch.FloatStorage", TorchCheckpoint.describe(g));
        String s40 = "s".repeat(40);
        assertEquals("'" + s40 + "'", TorchCheckpoint.describe(s40));
        assertEquals("'" + s40 + "...'", TorchCheckpoint.describe(s40 + "t"));
        assertEquals("'a?b'", TorchCheckpoint.describe("a\nb"));
        assertEquals("7", TorchCheckpoint.describe(7L));
        assertEquals("true", TorchCheckpoint.describe(true));
        assertEquals("0.5", TorchCheckpoint.describe(0.5));
        assertEquals("null", TorchCheckpoint.describe(null));
        assertEquals("(1,)", TorchCheckpoint.describe(new Unpickler.Tuple(List.of(1L))));
        assertEquals("()", TorchCheckpoint.describe(new Unpickler.Tuple(List.of())));
        assertEquals("(tuple, dict, list, 'x', torch.FloatStorage)",
                TorchCheckpoint.describe(new Unpickler.Tuple(List.of(new Unpickler.Tuple(List.of()), Map.of(), List.of(), "x", g))));
        assertEquals("(1, 2, 3, 4, 5, 6, 7, 8)", TorchCheckpoint.describe(new Unpickler.Tuple(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L))));
        assertEquals("a tuple", TorchCheckpoint.describe(new Unpickler.Tuple(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L))));
        assertEquals("a list", TorchCheckpoint.describe(List.of(1L)));
    }

    @Test
    void renderingStopsAt100LevelsInEveryContainerAndCutsPast10000Characters() {
        Object list = "end", key = "end", value = "end", attr = "end";
        for (int i = 0; i < 101; i++) {
            list = List.of(list);
            key = Map.of(key, 0L);
            value = Map.of("k", value);
            attr = new Opaque("argparse.Namespace", Map.of("a", attr));
        }
        assertEquals("[".repeat(101) + "..." + "]".repeat(101), TorchCheckpoint.render(list));
        assertEquals("{".repeat(100) + "{...: ...}" + ": 0}".repeat(100), TorchCheckpoint.render(key));
        assertEquals("{'k': ".repeat(100) + "{...: ...}" + "}".repeat(100), TorchCheckpoint.render(value));
        assertEquals("Namespace(a=".repeat(101) + "..." + ")".repeat(101), TorchCheckpoint.render(attr));
        String s = "x".repeat(9998);
        assertEquals("'" + s + "'", TorchCheckpoint.render(s), "10,000 characters are not cut");
        assertEquals("'" + s + "x", TorchCheckpoint.render(s + "x").substring(0, 10000));
        assertTrue(TorchCheckpoint.render(s + "x").endsWith("x..."));
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("lr", 0.5);
        attributes.put("name", "x");
        assertEquals("Namespace(lr=0.5, name='x')", new Opaque("argparse.Namespace", attributes).toString());
    }

    // ------------------------------------------------------------------------------------------ helpers

    private Path fixture(String name) {
        try {
            return Path.of(TorchCheckpointTest.class.getResource("/torch/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Compares every tensor with expected.safetensors, bit for bit, and the order and dtypes with its metadata. */
    private void assertMatchesExpected(String fixture, Contents c) throws IOException {
        Safetensors.Contents expected = Safetensors.read(fixture("expected.safetensors"));
        List<String> names = new java.util.ArrayList<>();
        for (String nameAndType : expected.metadata().get(fixture).split(",")) {
            String name = nameAndType.substring(0, nameAndType.lastIndexOf(':'));
            String dtype = nameAndType.substring(nameAndType.lastIndexOf(':') + 1);
            names.add(name);
            Entry want = expected.tensors().get(fixture + "/" + name), got = c.tensors().get(name);
            assertEquals(dtype, got.dtype(), name);
            assertArrayEquals(want.shape(), got.shape(), name);
            if (want.floats() != null) assertArrayEquals(want.floats(), got.floats(), name);
            else assertArrayEquals(want.longs(), got.longs(), name);
        }
        assertEquals(names, List.copyOf(c.tensors().keySet()));
    }

    private String assertError(Path file, String expectedPart) {
        IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e instanceof TorchCheckpointException, e.toString());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedPart), "expected '" + expectedPart + "' in: " + e.getMessage());
        return e.getMessage();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    /** A zip of {@code archive/data.pkl} plus the given entries, all stored. */
    private Path checkpoint(String name, byte[] pickle, Map<String, byte[]> entries) throws IOException {
        Map<String, byte[]> all = new LinkedHashMap<>();
        all.put("archive/data.pkl", pickle);
        all.putAll(entries);
        return write(name, zipBytes(all, false));
    }

    private static byte[] zipBytes(Map<String, byte[]> entries, boolean deflate) throws IOException {
        return zipBytesMixed(entries, deflate ? null : "");
    }

    /** Entries stored, except {@code deflated} (every entry when null). */
    private static byte[] zipBytesMixed(Map<String, byte[]> entries, String deflated) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                if (deflated == null || deflated.equals(e.getKey())) {
                    z.setMethod(ZipEntry.DEFLATED);
                } else {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(e.getValue().length);
                    z.setCompressedSize(e.getValue().length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
