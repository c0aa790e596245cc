"""Minimal safetensors reader/writer (numpy based), written from the format description.

File layout: 8-byte little-endian unsigned header length n, then n bytes of UTF-8 JSON
{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 "__metadata__": {"key": "string value", ...}}, then the raw little-endian tensor bytes;
offsets are relative to the first byte after the header.

Supported: F32, F64, I64, I32, F16 (read and write), BF16 (read only, returned as float32).
"""
import json
import os
import struct
import tempfile

import numpy as np

_NP_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
}
_WRITE_CODES = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("uint8"): "U8",
}


def read(path):
    """Returns (tensors: dict name -> numpy array, metadata: dict str -> str)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds file size")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = dict(header.pop("__metadata__", None) or {})
    tensors = {}
    for name, info in header.items():
        dtype = info["dtype"]
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        if not (0 <= begin <= end <= len(data)):
            raise ValueError(f"{path}: bad data_offsets for {name}")
        buf = data[begin:end]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if dtype == "BF16":
            if len(buf) != 2 * count:
                raise ValueError(f"{path}: size mismatch for {name}")
            u16 = np.frombuffer(buf, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32).reshape(shape)
        elif dtype in _NP_DTYPES:
            dt = _NP_DTYPES[dtype]
            if len(buf) != dt.itemsize * count:
                raise ValueError(f"{path}: size mismatch for {name}")
            arr = np.frombuffer(buf, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))
        else:
            raise ValueError(f"{path}: unsupported dtype {dtype} for {name}")
        tensors[name] = arr.copy()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes numpy arrays (or torch tensors) atomically; tensors stored sorted by name.

    The dtype of each array is kept (float64 arrays are written as F64): cast before calling.
    """
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = tensors[name]
        if hasattr(arr, "detach"):  # torch tensor
            arr = arr.detach().cpu().numpy()
        arr = np.asarray(arr)
        code = _WRITE_CODES.get(arr.dtype)
        if code is None:
            raise ValueError(f"unsupported dtype {arr.dtype} for {name}")
        b = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)  # pad header so data starts 8-byte aligned
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(hbytes)))
            f.write(hbytes)
            for b in chunks:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; use ordinary file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
