"""Vectorised builders of Arrow columns for the generator: exact money, dates, codes, ids and strings.

Money: yuan arrays are rounded half-away-from-zero to the fen and written straight into a decimal128(18,2)
buffer (two's-complement 128-bit little-endian), so no float ever reaches the raw zone and no Python
`Decimal` is built per row. Strings are assembled from vocabularies with `take` and joined element-wise
in Arrow's C++ kernels, or built from fixed-width ASCII byte matrices with `from_buffers`; dates are day
counts since 1970-01-01. Nothing here loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

AMOUNT_TYPE = pa.decimal128(18, 2)
_MAX_FEN = 10**16 - 1  # decimal(18,2) holds at most 16 integer digits


def to_fen(yuan: np.ndarray) -> np.ndarray:
    """Yuan (float) → integer fen, rounded half away from zero (四舍五入) and clipped at ≥ 0 … max."""
    y = np.asarray(yuan, dtype=np.float64) * 100.0
    fen = np.trunc(y + np.copysign(0.5, y))
    return np.clip(np.nan_to_num(fen, nan=0.0), -_MAX_FEN, _MAX_FEN).astype(np.int64)


def fen_array(fen: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Integer fen → decimal128(18,2); `valid` False marks nulls."""
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    n = len(fen)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63  # sign extension into the high word
    arr = pa.Array.from_buffers(AMOUNT_TYPE, n, [None, pa.py_buffer(words.tobytes())])
    if valid is not None:
        arr = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), arr, pa.scalar(None, AMOUNT_TYPE))
    return arr


def amount(yuan: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Float yuan → exact decimal(18,2) money, negatives floored at 0 (money fields are non-negative)."""
    return fen_array(np.maximum(to_fen(yuan), 0), valid)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Days since 1970-01-01 → date32 (null where `valid` is False)."""
    d = pa.array(np.asarray(days, dtype=np.int32), pa.int32()).cast(pa.date32())
    if valid is not None:
        d = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), d, pa.scalar(None, pa.date32()))
    return d


def codes(idx: np.ndarray, vocab: Sequence[str], valid: np.ndarray | None = None) -> pa.Array:
    """Indices into a vocabulary → strings (null where `valid` is False)."""
    out = pa.array(list(vocab), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))
    if valid is not None:
        out = pc.if_else(pa.array(np.asarray(valid, dtype=bool)), out, pa.scalar(None, pa.string()))
    return out


def ascii_matrix_to_strings(m: np.ndarray) -> pa.Array:
    """An (n, w) uint8 matrix of ASCII codes → a string array of n strings of width w."""
    m = np.ascontiguousarray(m, dtype=np.uint8)
    n, w = m.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(m.tobytes()))


def padded(num: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal text of at least `width` characters."""
    return pc.utf8_lpad(int_text(num), width=width, padding="0")


def ids(prefix: str, num: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded number, e.g. ids("PR", [7], 6) → "PR000007"."""
    return join(prefix, padded(num, width))


def int_text(num: np.ndarray) -> pa.Array:
    """Integers → their decimal text."""
    return pa.array(np.asarray(num, dtype=np.int64)).cast(pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays (and literal strings)."""
    n = next(len(p) for p in parts if not isinstance(p, str))
    arrays = [pa.array([p] * n, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def strings(values: np.ndarray) -> pa.Array:
    """A numpy unicode array → Arrow strings."""
    return pa.array(np.asarray(values).astype(str), pa.string())


def month_starts(first: np.datetime64, n: int) -> np.ndarray:
    """`n` consecutive months from `first` (datetime64[M]) as days since epoch of their first day."""
    months = np.asarray(first, dtype="datetime64[M]") + np.arange(n)
    return months.astype("datetime64[D]").astype(np.int64)


def rows(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(firm, month) indices of the True cells of an (n, T) mask, firm-major (sorted by firm, then month)."""
    fi, ti = np.nonzero(mask)
    return fi.astype(np.int64), ti.astype(np.int64)


def ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-parent counts: (parent index of each child, position of the child within its parent)."""
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(parent)) - starts[parent]
    return parent, pos


def choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probabilities `p` (inverse-CDF on one uniform per draw)."""
    cdf = np.cumsum(np.asarray(p, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def choice_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One index per row of an (n, k) probability matrix."""
    cdf = np.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(p))[:, None]
    return np.minimum((u >= cdf).sum(axis=1), p.shape[1] - 1)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def dec31(year: np.ndarray) -> np.ndarray:
    """Days since epoch of 31 December of each year."""
    y = np.asarray(year, dtype=np.int64) - 1970 + 1
    return y.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - 1
