"""Unique, valid identifiers for the synthetic universe: USCCs of enterprises and core enterprises,
resident ID numbers of legal representatives.

Uniqueness without coordination between chunks: each enterprise has a global index (chunk × chunk size +
position), and identifiers are bijective functions of it. The organisation-code body (USCC pos 9–16)
is an affine permutation of the index modulo 10⁸ (a multiplier coprime with 10⁸), written as 8 digits for
firms founded before the USCC reform (2015-10-01) and as "MA" + 6 base-31 characters after it, the
shape of codes issued since; core enterprises use indices from the top of the range. Check characters
come from `puhui.core.identifiers.make_usccs` (GB 11714 pos 17, GB 32100 MOD 31 pos 18). ID numbers
(GB 11643) take the birth date and sequence from a second affine permutation over (birth day × 1000
sequences), so no two representatives share a number; the address code is a district of the firm's
city (or, for one in seven, of another city: people move).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from puhui.core.errors import ConfigurationError
from puhui.core.identifiers import USCC_ALPHABET, make_rics, make_usccs

_BODY_SPACE = 10**8
_BODY_MULT = 73_939_133  # prime, coprime with 10^8
MAX_ENTERPRISES = 50_000_000
CORE_INDEX_BASE = _BODY_SPACE - 100_000  # core enterprise k uses global index CORE_INDEX_BASE + k
_USCC_REFORM = np.datetime64("2015-10-01").astype(np.int64)
_ALPHA = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)


def _offset(seed: int, salt: int, modulus: int) -> int:
    return (seed * 2_654_435_761 + salt * 40_503) % modulus


def org_bodies(global_index: np.ndarray, founding_day: np.ndarray, seed: int) -> np.ndarray:
    """8-character organisation-code bodies (`S8`), unique per global index."""
    idx = np.asarray(global_index, dtype=np.int64)
    if (idx < 0).any() or (idx >= _BODY_SPACE).any():
        raise ConfigurationError("enterprise index outside the USCC body space", code="synth_too_large")
    v = (idx * _BODY_MULT + _offset(seed, 1, _BODY_SPACE)) % _BODY_SPACE
    old = ((v[:, None] // 10 ** np.arange(7, -1, -1, dtype=np.int64)) % 10 + 48).astype(np.uint8)
    base31 = (v[:, None] // 31 ** np.arange(5, -1, -1, dtype=np.int64)) % 31
    new = np.concatenate(
        [np.broadcast_to(np.array([ord("M"), ord("A")], dtype=np.uint8), (len(v), 2)), _ALPHA[base31]], axis=1
    )
    m = np.where((np.asarray(founding_day) >= _USCC_REFORM)[:, None], new, old)
    return np.ascontiguousarray(m).view("S8").reshape(len(v))


def usccs(category: np.ndarray, region: np.ndarray, bodies: np.ndarray) -> np.ndarray:
    """USCCs (`<U18`) for 市场监管 (authority 9) registrations: category "1" 企业 or "2" 个体工商户."""
    return make_usccs("9", category, region, bodies)


def person_ids(
    global_index: np.ndarray, region: np.ndarray, last_day: date, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(ID numbers `<U18`, birth days since epoch) for legal representatives aged 23–62 at `last_day`."""
    idx = np.asarray(global_index, dtype=np.int64)
    hi = np.datetime64(date(last_day.year - 23, last_day.month, 1)).astype(np.int64)
    lo = np.datetime64(date(last_day.year - 62, last_day.month, 1)).astype(np.int64)
    n_days = int(hi - lo)
    space = n_days * 1000
    if (idx >= space).any():
        raise ConfigurationError("too many enterprises for unique ID numbers", code="synth_too_large")
    mult = next(p for p in (1_000_003, 1_000_033, 1_000_037, 1_000_039, 2_147_483_647) if math.gcd(p, space) == 1)
    v = (idx * mult + _offset(seed, 2, space)) % space
    birth = lo + v // 1000
    seq = v % 1000
    ids = make_rics(region, birth.astype("datetime64[D]"), seq)
    return ids, birth
