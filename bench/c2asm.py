#!/usr/bin/env python3
"""The machine code C2 made of one Java method, without an hsdis plugin.

  python3 bench/c2asm.py Gemm::micro [--out FILE.s] -- bin/mae bench gemm --m 1024 --n 1024 --k 1024
  MAE_JAVA_OPTS="-Xmx6g -XX:UseAVX=2" python3 bench/c2asm.py Gemm::micro -- bin/mae bench gemm ...   (the AVX2 code)

Runs the command with -XX:CompileCommand=print for the method (added to MAE_JAVA_OPTS, which bin/mae passes to
java), takes the hex dump of the method's last C2 compile (the JVM prints hex when it has no hsdis plugin; Debian's
libhsdis0-fcml lacks the decode_instructions_virtual entry JDK 17 asks for), disassembles it with objdump (Intel
syntax) and prints each backward branch's loop that holds vector FMAs: its instruction count by kind (FMAs, loads
and broadcasts, stores, the rest), then the loop itself. --out keeps the whole disassembly. Needs binutils (objdump).
Why: the count of a micro-kernel's loop against its FMAs is what a narrow front end pays (Gemm.micro's comment).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


def last_c2_hex(log, method):
    """Bytes and start address of the last 'Compiled method (c2)' block of method (not an OSR compile)."""
    blocks = re.split(r"\n(?==+ C[12]-compiled nmethod =+)", log)
    best = None
    for b in blocks:
        head = re.search(r"Compiled method \(c2\)\s+\d+\s+\d+\s+(%?)\s*\d+\s+(\S+)", b)
        if head and head.group(1) != "%" and head.group(2).endswith(method):
            best = b
    if best is None:
        return None, None
    code = {}
    for m in re.finditer(r"^\s+0x([0-9a-f]+):\s+([0-9a-f |]+)$", best, re.M):
        try:
            data = bytes.fromhex("".join(m.group(2).replace("|", " ").split()))
        except ValueError:
            continue
        for i, x in enumerate(data):
            code[int(m.group(1), 16) + i] = x
    if not code:
        return None, None
    lo, hi = min(code), max(code)
    return bytes(code.get(a, 0x90) for a in range(lo, hi + 1)), lo


def disassemble(blob, start):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(blob)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", "-M", "intel",
                              "--adjust-vma=" + hex(start), f.name], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(.*)$", line)
        if m and m.group(2).strip():
            rows.append((int(m.group(1), 16), m.group(2).strip()))
    return rows


def kind(ins):
    op = ins.split()[0]
    if op.startswith("vfmadd") or op.startswith("vfnmadd"):
        return "fma"
    if "PTR [" in ins and op.startswith("vmov") and ins.split(",")[0].endswith("]"):
        return "store"
    if op.startswith("vbroadcast") or ("PTR [" in ins and op.startswith("vmov")):
        return "load"
    return "other"


def loops(rows):
    """(start, end) of each backward jump's range that holds an FMA; innermost first."""
    at = {a: i for i, (a, _) in enumerate(rows)}
    found = []
    for i, (a, ins) in enumerate(rows):
        m = re.match(r"j\w+\s+0x([0-9a-f]+)", ins)
        if m:
            target = int(m.group(1), 16)
            if target < a and target in at and any(kind(x) == "fma" for _, x in rows[at[target]:i + 1]):
                found.append((at[target], i))
    return sorted(set(found), key=lambda r: r[1] - r[0])


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit(__doc__)
    cut = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("method", help="Class::method, e.g. Gemm::micro (the class's simple name is enough)")
    ap.add_argument("--out", help="write the whole disassembly here")
    a = ap.parse_args(argv[:cut])
    cmd = argv[cut + 1:]
    cls, _, meth = a.method.partition("::")
    env = dict(os.environ)
    env["MAE_JAVA_OPTS"] = (env.get("MAE_JAVA_OPTS", "") + " -XX:+UnlockDiagnosticVMOptions"
                            f" -XX:CompileCommand=print,*{cls}::{meth}").strip()
    log = subprocess.run(cmd, env=env, capture_output=True, text=True).stdout
    blob, start = last_c2_hex(log, f"{cls}::{meth}")
    if blob is None:
        sys.exit(f"c2asm: no C2 compile of {a.method} in the command's output (did the command run it long enough?)")
    rows = disassemble(blob, start)
    if a.out:
        with open(a.out, "w") as f:
            f.writelines(f"{addr:x}: {ins}\n" for addr, ins in rows)
    shown = loops(rows)
    if not shown:
        print(f"c2asm: {a.method}: {len(rows)} instructions, no loop with vector FMAs")
    for s, e in shown:
        body = [ins for _, ins in rows[s:e + 1]]
        n = {k: sum(1 for x in body if kind(x) == k) for k in ("fma", "load", "store", "other")}
        print(f"loop {rows[s][0]:x}-{rows[e][0]:x}: {len(body)} instructions: {n['fma']} FMAs, {n['load']} loads "
              f"and broadcasts, {n['store']} vector stores, {n['other']} other")
        for x in body:
            print("    " + x)


if __name__ == "__main__":
    main()
