"""Plausible Chinese names and addresses, built vectorised from the vocabulary.

Enterprises: city + 字号 (two characters) + industry word + 有限公司 (e.g. 苏州恒泰精密机械有限公司);
个体工商户: city + 市 + district + 字号 (or surname + 记) + shop word (e.g. 成都市锦江区张记面馆).
Persons: a surname drawn by frequency rank + one or two given-name characters. Addresses: province
(except municipalities) + city + district + road + number. Names can repeat across a large universe,
as they do in life across registration authorities; identifiers never do.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from puhui.data.synth.arrowkit import choice, codes, int_text, join
from puhui.data.synth.geography import CITIES, district_arrays
from puhui.data.synth.vocab import BRAND_CHARS, GIVEN_CHARS, INDUSTRIES, INDUSTRY_WORDS, ROADS, SHOP_WORDS, SURNAMES

_SURNAME_P = 1.0 / (np.arange(len(SURNAMES)) + 4.0) ** 1.1


def _chars(text: str) -> list[str]:
    return list(text)


def person_names(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """(full names, surnames)."""
    sur = codes(choice(rng, _SURNAME_P, n), _chars(SURNAMES))
    g1 = codes(rng.integers(0, len(GIVEN_CHARS), n), _chars(GIVEN_CHARS))
    g2 = codes(rng.integers(0, len(GIVEN_CHARS), n), _chars(GIVEN_CHARS))
    two = rng.random(n) < 0.7
    g2 = pc.if_else(pa.array(two), g2, pa.scalar(""))
    return join(sur, g1, g2), sur


def brands(rng: np.random.Generator, n: int) -> pa.Array:
    a = codes(rng.integers(0, len(BRAND_CHARS), n), _chars(BRAND_CHARS))
    b = codes(rng.integers(0, len(BRAND_CHARS), n), _chars(BRAND_CHARS))
    return join(a, b)


def _pick_words(rng: np.random.Generator, industry: np.ndarray, table: dict[str, tuple[str, ...]]) -> pa.Array:
    vocab: list[str] = []
    offsets, sizes = [], []
    for p in INDUSTRIES:
        words = table[p.key]
        offsets.append(len(vocab))
        sizes.append(len(words))
        vocab.extend(words)
    off = np.array(offsets)[industry]
    size = np.array(sizes)[industry]
    return codes(off + np.floor(rng.random(len(industry)) * size).astype(np.int64), vocab)


def city_names(city: np.ndarray) -> pa.Array:
    return codes(city, [c.name for c in CITIES])


def company_names(
    rng: np.random.Generator,
    industry: np.ndarray,
    city: np.ndarray,
    district: np.ndarray,
    individual: np.ndarray,
    surnames: pa.Array,
) -> pa.Array:
    """Registered names; `surnames` (one per firm) feed the 张记-style names of some 个体工商户."""
    n = len(industry)
    brand = brands(rng, n)
    cname = city_names(city)
    suffix = codes(choice(rng, np.array([0.88, 0.10, 0.02]), n), ["有限公司", "有限责任公司", "股份有限公司"])
    firm = join(cname, brand, _pick_words(rng, industry, INDUSTRY_WORDS), suffix)
    da = district_arrays()
    dname = codes(district, list(da.name))
    ji = rng.random(n) < 0.3
    shop_brand = pc.if_else(pa.array(ji), join(surnames, "记"), brand)
    shop = join(cname, "市", dname, shop_brand, _pick_words(rng, industry, SHOP_WORDS))
    return pc.if_else(pa.array(np.asarray(individual, dtype=bool)), shop, firm)


def addresses(rng: np.random.Generator, city: np.ndarray, district: np.ndarray) -> pa.Array:
    n = len(city)
    prov = codes(city, ["" if c.is_municipality else c.province_name for c in CITIES])
    da = district_arrays()
    road = codes(rng.integers(0, len(ROADS), n), list(ROADS))
    number = int_text(1 + np.floor(rng.pareto(1.2, n) * 20).astype(np.int64) % 999)
    return join(prov, city_names(city), "市", codes(district, list(da.name)), road, number, "号")
