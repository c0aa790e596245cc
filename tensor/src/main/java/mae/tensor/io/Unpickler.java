package mae.tensor.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted pickle reader: the opcodes a {@code torch.save} state dict needs, and nothing that runs code.
 *
 * <p>Globals ({@code GLOBAL}, {@code STACK_GLOBAL}) are looked up in an allow-list and become inert
 * {@link Global} values; anything else is refused by name. A global is never imported or called here:
 * {@code REDUCE} and {@code BINPERSID} go to the {@link Handler} (which decides what an allowed callable
 * means), {@code NEWOBJ} makes an opaque {@link Instance} (only for allow-listed classes), and {@code BUILD}
 * stores an instance's state or is ignored on an {@link OrderedDict}. Values are plain Java: {@code null},
 * {@link Boolean}, {@link Long} (or {@link BigInteger} past 64 bits), {@link Double}, {@link String},
 * {@link ArrayList} (list), {@link Tuple}, {@link LinkedHashMap} (dict), plus the handler's own objects.
 *
 * <p>Opcodes: PROTO, FRAME, STOP, MARK, POP, POP_MARK, NONE, NEWTRUE, NEWFALSE, BININT, BININT1, BININT2,
 * LONG1, BINFLOAT, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, EMPTY_DICT, DICT, EMPTY_LIST, LIST, EMPTY_TUPLE,
 * TUPLE, TUPLE1-3, SETITEM, SETITEMS, APPEND, APPENDS, BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET,
 * GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID. Any other byte is an error.
 *
 * <p>Hostile input ends in a {@link PickleException} with one line, never a runaway allocation: every length is
 * checked against the bytes left, the stack, memo and object count are capped, dict keys must be hashable
 * scalars or shallow tuples of them, and after STOP the result graph is checked for reference cycles and for
 * nesting deeper than {@link #MAX_DEPTH} (so code walking the result recursively cannot overflow the stack).
 */
final class Unpickler {
    /** Deepest container nesting accepted in the result (a state dict needs 3). */
    static final int MAX_DEPTH = 100;
    static final int MAX_STACK = 1_000_000;
    static final int MAX_MEMO = 1_000_000;
    static final int MAX_OBJECTS = 2_000_000;
    /** Longest GLOBAL module or name line. */
    private static final int MAX_GLOBAL_LINE = 256;
    /** Longest LONG1 integer in bytes (Python writes 8 or 9 bytes for any 64-bit value). */
    private static final int MAX_LONG_BYTES = 64;
    private static final int MAX_KEY_DEPTH = 8;

    /** A malformed or refused pickle; the message is one line and says where. */
    static final class PickleException extends Exception {
        PickleException(String message) { super(message); }
    }

    /** An allow-listed global, never resolved to code: only its name. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }

        @Override public String toString() { return qualified(); }
    }

    /** An immutable Python tuple. */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        int size() { return items.size(); }

        Object get(int i) { return items.get(i); }
    }

    /** A dict made by {@code collections.OrderedDict()}; attributes BUILD would set (a state dict's {@code _metadata}) are dropped. */
    static final class OrderedDict extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
    }

    /** An object of an allow-listed class made by NEWOBJ: never constructed, just its class name and BUILD state. */
    static final class Instance {
        final Global cls;
        final Tuple args;
        Object state;
        boolean built;

        Instance(Global cls, Tuple args) { this.cls = cls; this.args = args; }
    }

    /** What the allowed callables and persistent ids mean; the unpickler itself never gives them meaning. */
    interface Handler {
        /** REDUCE: {@code fn(*args)} for an allow-listed {@code fn}. */
        Object call(Global fn, Tuple args) throws PickleException;

        /** BINPERSID: the object a persistent id names. */
        Object persistentLoad(Object pid) throws PickleException;
    }

    private final ByteBuffer in;
    private final Set<String> allowedGlobals;
    private final Set<String> opaqueClasses;
    private final Handler handler;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    private int objects;
    private int opStart;

    /**
     * @param allowedGlobals "module.name" of every global the pickle may name (callables, storage types, classes)
     * @param opaqueClasses  the subset NEWOBJ may instantiate (as an opaque {@link Instance})
     */
    Unpickler(byte[] data, Set<String> allowedGlobals, Set<String> opaqueClasses, Handler handler) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.allowedGlobals = allowedGlobals;
        this.opaqueClasses = opaqueClasses;
        this.handler = handler;
    }

    /** Reads up to STOP and returns the top object; bytes after STOP are ignored, as Python does. */
    Object load() throws PickleException {
        while (true) {
            opStart = in.position();
            if (!in.hasRemaining()) throw fail("pickle ends at byte " + opStart + " without a STOP opcode (truncated?)");
            int op = in.get() & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) throw fail("pickle protocol " + proto + " is newer than 5");
                }
                case 0x95 -> { // FRAME: a length hint only
                    long n = in.remaining() >= 8 ? in.getLong() : -1;
                    if (n < 0 || n > in.remaining()) throw fail("FRAME of " + Long.toUnsignedString(n) + " bytes is longer than the rest of the pickle");
                }
                case '.' -> { // STOP
                    Object result = pop();
                    checkGraph(result);
                    return result;
                }
                case '(' -> { // MARK
                    if (marks.size() >= MAX_STACK) throw fail("more than " + MAX_STACK + " open MARKs");
                    marks.add(stack.size());
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) need(4).getInt());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (need(2).getShort() & 0xFFFF));
                case 0x8A -> push(long1());
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(need(8).getLong()))); // big-endian
                case 0x8C -> push(string(u8()));
                case 'X' -> push(string(need(4).getInt() & 0xFFFFFFFFL));
                case 0x8D -> push(string(need(8).getLong()));
                case '}' -> push(new LinkedHashMap<>());
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    LinkedHashMap<Object, Object> d = new LinkedHashMap<>();
                    putPairs(d, items);
                    push(d);
                }
                case ']' -> push(new ArrayList<>());
                case 'l' -> push(new ArrayList<>(popMark()));
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85 -> push(new Tuple(popN(1)));
                case 0x86 -> push(new Tuple(popN(2)));
                case 0x87 -> push(new Tuple(popN(3)));
                case 's' -> { // SETITEM
                    List<Object> kv = popN(2);
                    putPairs(target(Map.class, "SETITEM"), kv);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(target(Map.class, "SETITEMS"), items);
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    target(List.class, "APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    target(List.class, "APPENDS").addAll(items);
                }
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(need(4).getInt() & 0xFFFFFFFFL);
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> memoGet(u8());
                case 'j' -> memoGet(need(4).getInt() & 0xFFFFFFFFL);
                case 'c' -> push(global(line("GLOBAL module"), line("GLOBAL name")));
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), fn = pop();
                    if (!(fn instanceof Global g)) throw fail("REDUCE calls a " + typeName(fn) + ", not an allowed global");
                    if (!(args instanceof Tuple t)) throw fail("REDUCE arguments for " + g + " are a " + typeName(args) + ", not a tuple");
                    push(handler.call(g, t));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop(), cls = pop();
                    if (!(cls instanceof Global g) || !opaqueClasses.contains(g.qualified())) {
                        throw fail("NEWOBJ of " + (cls instanceof Global g ? g.qualified() : "a " + typeName(cls)) + " is not allowed");
                    }
                    if (!(args instanceof Tuple t)) throw fail("NEWOBJ arguments for " + g + " are a " + typeName(args) + ", not a tuple");
                    push(new Instance(g, t));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object target = peek("BUILD");
                    if (target instanceof OrderedDict) break; // OrderedDict attributes (a state dict's _metadata): ignored
                    if (!(target instanceof Instance inst)) throw fail("BUILD on a " + typeName(target) + " is not supported");
                    if (inst.built) throw fail("BUILD twice on one " + inst.cls + " object");
                    inst.state = state;
                    inst.built = true;
                }
                case 'Q' -> push(handler.persistentLoad(pop())); // BINPERSID
                default -> throw fail("unsupported pickle opcode 0x" + String.format("%02x", op)
                        + (op >= 0x20 && op < 0x7F ? " ('" + (char) op + "')" : "") + " (a state dict never needs it)");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ operands

    private PickleException fail(String message) {
        return new PickleException(message + " [at byte " + opStart + "]");
    }

    private ByteBuffer need(long n) throws PickleException {
        if (n > in.remaining()) {
            throw fail("pickle ends " + in.remaining() + " bytes after this opcode, which needs " + n + " (truncated?)");
        }
        return in;
    }

    private int u8() throws PickleException {
        return need(1).get() & 0xFF;
    }

    private Object long1() throws PickleException {
        int n = u8();
        if (n > MAX_LONG_BYTES) throw fail("LONG1 of " + n + " bytes (at most " + MAX_LONG_BYTES + " accepted)");
        byte[] le = new byte[n];
        need(n).get(le);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be); // two's complement, as LONG1 is
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String string(long n) throws PickleException {
        if (n < 0 || n > in.remaining()) {
            throw fail("string of " + Long.toUnsignedString(n) + " bytes is longer than the " + in.remaining() + " bytes left (truncated or corrupt)");
        }
        ByteBuffer slice = in.slice();
        slice.limit((int) n);
        in.position(in.position() + (int) n);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw fail("string is not valid UTF-8");
        }
    }

    /** One newline-terminated ASCII line of a GLOBAL opcode. */
    private String line(String what) throws PickleException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (!in.hasRemaining()) throw fail(what + " line is not terminated (truncated?)");
            int c = in.get() & 0xFF;
            if (c == '\n') return sb.toString();
            if (c < 0x20 || c >= 0x7F) throw fail(what + " holds byte 0x" + String.format("%02x", c) + ", not printable ASCII");
            if (sb.length() >= MAX_GLOBAL_LINE) throw fail(what + " is longer than " + MAX_GLOBAL_LINE + " characters");
            sb.append((char) c);
        }
    }

    private Global global(String module, String name) throws PickleException {
        String qualified = module + "." + name;
        if (!allowedGlobals.contains(qualified)) {
            String shown = qualified.length() > 120 ? qualified.substring(0, 120) + "..." : qualified;
            throw fail("refused global " + printable(shown) + ": not on the allow-list (" + hint(module) + ")");
        }
        return new Global(module, name);
    }

    private static String hint(String module) {
        if (module.startsWith("__torch__")) return "a TorchScript archive? save model.state_dict() with torch.save instead";
        return "this reader loads tensors and plain values only and never runs code from a file";
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------------ stack

    private void push(Object v) throws PickleException {
        if (stack.size() >= MAX_STACK) throw fail("pickle stack grows past " + MAX_STACK + " items");
        if (++objects > MAX_OBJECTS) throw fail("pickle pushes more than " + MAX_OBJECTS + " values");
        stack.add(v);
    }

    private Object pop() throws PickleException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw fail("stack underflow (nothing to pop" + (floor > 0 ? " above the MARK)" : ")"));
        return stack.remove(stack.size() - 1);
    }

    private Object peek(String op) throws PickleException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw fail(op + " on an empty stack");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popN(int n) throws PickleException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() - floor < n) throw fail("stack underflow (needs " + n + " items)");
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        List<Object> out = new ArrayList<>(top);
        top.clear();
        return out;
    }

    private List<Object> popMark() throws PickleException {
        if (marks.isEmpty()) throw fail("no MARK to pop to");
        int at = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(at, stack.size());
        List<Object> out = new ArrayList<>(top);
        top.clear();
        return out;
    }

    /** The container below the items just popped, which SETITEM(S) / APPEND(S) modify in place. */
    @SuppressWarnings("unchecked")
    private <T> T target(Class<T> type, String op) throws PickleException {
        Object t = peek(op);
        if (!type.isInstance(t)) throw fail(op + " on a " + typeName(t) + ", not a " + (type == Map.class ? "dict" : "list"));
        return (T) t;
    }

    private void putPairs(Map<Object, Object> d, List<Object> items) throws PickleException {
        if (items.size() % 2 != 0) throw fail("odd number of items (" + items.size() + ") for a dict");
        for (int i = 0; i < items.size(); i += 2) {
            Object key = items.get(i);
            checkHashable(key, 0);
            d.put(key, items.get(i + 1));
        }
    }

    /** Keys must hash without running into mutable or deep values: scalars, strings and shallow tuples of them. */
    private void checkHashable(Object key, int depth) throws PickleException {
        if (key == null || key instanceof String || key instanceof Long || key instanceof Boolean
                || key instanceof Double || key instanceof BigInteger || key instanceof Global) return;
        if (key instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) throw fail("dict key is a tuple nested deeper than " + MAX_KEY_DEPTH);
            for (Object o : t.items()) checkHashable(o, depth + 1);
            return;
        }
        throw fail("dict key is a " + typeName(key) + ", not a hashable value");
    }

    private void memoPut(long index) throws PickleException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) throw fail("memo grows past " + MAX_MEMO + " entries");
        memo.put(index, peek("PUT"));
    }

    private void memoGet(long index) throws PickleException {
        if (!memo.containsKey(index)) throw fail("memo index " + index + " was never stored (" + memo.size() + " entries stored)");
        push(memo.get(index));
    }

    // ------------------------------------------------------------------------------------------------ result check

    /**
     * Rejects reference cycles and nesting deeper than {@link #MAX_DEPTH}, in time linear in the graph: each
     * container is walked once, iteratively, and remembers its height.
     */
    private void checkGraph(Object root) throws PickleException {
        if (!isContainer(root)) return;
        IdentityHashMap<Object, Integer> height = new IdentityHashMap<>();
        IdentityHashMap<Object, Boolean> onPath = new IdentityHashMap<>();
        Deque<Frame> path = new ArrayDeque<>();
        path.push(new Frame(root, children(root)));
        onPath.put(root, true);
        while (!path.isEmpty()) {
            Frame f = path.peek();
            if (f.children.hasNext()) {
                Object c = f.children.next();
                if (!isContainer(c)) continue;
                if (onPath.containsKey(c)) throw fail("the unpickled object contains itself (a reference cycle); a state dict never does");
                Integer h = height.get(c);
                if (h != null) {
                    if (path.size() + h > MAX_DEPTH) throw tooDeep();
                    f.childHeight = Math.max(f.childHeight, h);
                    continue;
                }
                if (path.size() >= MAX_DEPTH) throw tooDeep();
                path.push(new Frame(c, children(c)));
                onPath.put(c, true);
            } else {
                path.pop();
                onPath.remove(f.node);
                int h = f.childHeight + 1;
                height.put(f.node, h);
                if (!path.isEmpty()) path.peek().childHeight = Math.max(path.peek().childHeight, h);
            }
        }
    }

    private PickleException tooDeep() {
        return fail("the unpickled object nests containers deeper than " + MAX_DEPTH + " levels");
    }

    private static final class Frame {
        final Object node;
        final Iterator<Object> children;
        int childHeight;

        Frame(Object node, Iterator<Object> children) { this.node = node; this.children = children; }
    }

    private static boolean isContainer(Object o) {
        return o instanceof Map || o instanceof List || o instanceof Tuple || o instanceof Instance;
    }

    private static Iterator<Object> children(Object o) {
        if (o instanceof Map<?, ?> m) {
            List<Object> all = new ArrayList<>(2 * m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) { all.add(e.getKey()); all.add(e.getValue()); }
            return all.iterator();
        }
        if (o instanceof Tuple t) return t.items().iterator();
        if (o instanceof Instance i) {
            List<Object> all = new ArrayList<>();
            all.add(i.args);
            all.add(i.state);
            return all.iterator();
        }
        @SuppressWarnings("unchecked") List<Object> list = (List<Object>) o;
        return new ArrayList<>(list).iterator();
    }

    /** Python-like type name for messages. */
    static String typeName(Object o) {
        if (o == null) return "None";
        if (o instanceof Boolean) return "bool";
        if (o instanceof Long || o instanceof BigInteger) return "int";
        if (o instanceof Double) return "float";
        if (o instanceof String) return "str";
        if (o instanceof Tuple) return "tuple";
        if (o instanceof List) return "list";
        if (o instanceof OrderedDict) return "OrderedDict";
        if (o instanceof Map) return "dict";
        if (o instanceof Global g) return "global " + g.qualified();
        if (o instanceof Instance i) return i.cls.qualified() + " object";
        return o.getClass().getSimpleName();
    }
}
