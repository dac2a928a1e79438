"""Reader and writer for the IDX format used by (Fashion-)MNIST.

IDX files are tiny and simple, so they are read by hand (no library covers them): a
big-endian magic number ``0x0000TTDD`` (``TT`` = data type, ``DD`` = number of dimensions),
then one uint32 per dimension, then the raw values. Only unsigned bytes (type 0x08) occur in
MNIST-like datasets, and only those are supported.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from fmnist.atomic import atomic_write_bytes

UBYTE = 0x08


class IDXFormatError(ValueError):
    """The bytes are not a valid uint8 IDX file."""


def parse_idx(payload: bytes, *, source: str = "<bytes>", ndim: int | None = None) -> np.ndarray:
    """Parse decompressed IDX bytes into a uint8 array.

    Args:
        payload: the whole decompressed file.
        source: name used in error messages.
        ndim: if given, the number of dimensions the file must have (3 for images, 1 for labels).
    """
    if len(payload) < 4:
        raise IDXFormatError(f"{source}: {len(payload)} bytes is too short for an IDX header")
    zero, dtype, dims = struct.unpack(">HBB", payload[:4])
    if zero != 0 or dtype != UBYTE:
        raise IDXFormatError(
            f"{source}: bad magic number 0x{payload[:4].hex()} (expected 0x0000080{ndim or 'N'}: "
            "uint8 IDX); this is not an IDX image/label file"
        )
    if ndim is not None and dims != ndim:
        raise IDXFormatError(
            f"{source}: magic number says {dims} dimensions, expected {ndim} "
            f"({'images' if ndim == 3 else 'labels'} file); were images and labels swapped?"
        )
    header = 4 + 4 * dims
    if len(payload) < header:
        raise IDXFormatError(f"{source}: truncated header ({len(payload)} < {header} bytes)")
    shape = struct.unpack(f">{dims}I", payload[4:header])
    expected = int(np.prod(shape)) + header
    if len(payload) != expected:
        raise IDXFormatError(
            f"{source}: header declares shape {shape} = {expected} bytes, file has {len(payload)} "
            "bytes (truncated or trailing data)"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_payload(path: str | Path) -> bytes:
    """Return the decompressed bytes of an IDX file (``.gz`` or raw)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":  # not gzip: a raw IDX file
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX(.gz) file from disk into a uint8 array (magic number and sizes validated)."""
    return parse_idx(read_payload(path), source=str(path), ndim=ndim)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes (used by tests and for small custom datasets)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"IDX writer supports uint8 arrays only, got {array.dtype}")
    header = struct.pack(">HBB", 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzip it when the name ends in ``.gz`` (or ``compress``)."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)  # a reader never sees a half-written file
