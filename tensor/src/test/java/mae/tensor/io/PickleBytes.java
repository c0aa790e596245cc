package mae.tensor.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes byte by byte, for hand-made (and hostile) test pickles. Nothing here runs them. */
final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static PickleBytes proto2() { return new PickleBytes().op(0x80).raw(2); }

    PickleBytes op(int opcode) { out.write(opcode); return this; }

    PickleBytes raw(int... bytes) { for (int b : bytes) out.write(b); return this; }

    PickleBytes raw(byte[] bytes) { out.writeBytes(bytes); return this; }

    PickleBytes le(long value, int bytes) {
        for (int i = 0; i < bytes; i++) out.write((int) (value >>> (8 * i)));
        return this;
    }

    PickleBytes mark() { return op('('); }

    PickleBytes stop() { return op('.'); }

    /** BINUNICODE. */
    PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').le(b.length, 4).raw(b);
    }

    /** BININT1, BININT2 or BININT (signed 32-bit), as Python picks, or LONG1 past 32 bits. */
    PickleBytes integer(long v) {
        if (v >= 0 && v < 256) return op('K').raw((int) v);
        if (v >= 0 && v < 65536) return op('M').le(v, 2);
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) return op('J').le(v, 4);
        return op(0x8A).raw(8).le(v, 8);
    }

    PickleBytes bool(boolean b) { return op(b ? 0x88 : 0x89); }

    PickleBytes none() { return op('N'); }

    PickleBytes binfloat(double d) {
        return op('G').raw(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putDouble(d).array());
    }

    /** GLOBAL 'module\nname\n'. */
    PickleBytes global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    PickleBytes tuple(long... ints) {
        mark();
        for (long v : ints) integer(v);
        return op('t');
    }

    PickleBytes emptyTuple() { return op(')'); }

    PickleBytes emptyDict() { return op('}'); }

    PickleBytes emptyList() { return op(']'); }

    PickleBytes binput(int i) { return op('q').raw(i); }

    PickleBytes binget(int i) { return op('h').raw(i); }

    /**
     * {@code _rebuild_tensor_v2((storage pid), offset, size, stride, False, OrderedDict())} on the stack:
     * what torch.save writes for one tensor.
     */
    PickleBytes tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset).tuple(size).tuple(stride).bool(false);
        global("collections", "OrderedDict").emptyTuple().op('R');
        return op('t').op('R');
    }

    /** A whole pickle: {name: tensor} as torch.save writes a one-entry state dict. */
    static byte[] stateDict(String name, String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        return proto2().emptyDict().str(name).tensor(storageType, key, numel, offset, size, stride).op('s').stop().bytes();
    }

    byte[] bytes() { return out.toByteArray(); }
}
