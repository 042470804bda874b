"""The customer profile (客户画像): who an enterprise is and what its indicators say, as of a date.

A profile has the enterprise's identity as registered on the date (name, legal form, founding date,
places, GB/T 4754-2017 industry, status), its MIIT 2011 size class (`puhui.data.sizeclass`, from the
latest annual report, else from insured headcount and invoiced sales), the sources that describe it,
every indicator grouped by dimension with its **percentile within the industry section** — the
mid-rank share of peers in the same section of the batch table of the same as-of with a lower value,
so 50 is the median firm — and its flags: the boolean warning indicators that are TRUE (cross-source
inconsistencies, public records, bureau and tax warnings), red first. The legal representative's name
is masked (personal data).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from puhui.core.errors import ValidationError
from puhui.core.regions import province_name
from puhui.data.sizeclass import MIIT_2011, SizeClass, classify, miit_category
from puhui.indicators.batch import indicator_table_path, read_manifest
from puhui.indicators.library import IndicatorType, Library, Severity
from puhui.indicators.online import IndicatorValues, OnlineEngine

__all__ = ["INDUSTRY_SECTIONS", "PeerIndex", "Profile", "build_profile"]

INDUSTRY_SECTIONS: dict[str, tuple[str, str]] = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water supply"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail trade"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Scientific research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water conservancy, environment and public facilities"),
    "O": ("居民服务、修理和其他服务业", "Resident services, repair and other services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration, social security and social organisations"),
    "T": ("国际组织", "International organisations"),
}
"""GB/T 4754-2017 sections (门类)."""

_SEVERITY_ORDER = {Severity.RED: 0, Severity.ORANGE: 1, Severity.YELLOW: 2}


class Industry(BaseModel):
    section: str
    section_zh: str
    section_en: str
    code: str = Field(description="GB/T 4754-2017 division or class code as registered")


class SizeInfo(BaseModel):
    size_class: str = Field(description="large | medium | small | micro | unknown (MIIT 2011)")
    zh: str
    standard: str
    basis: str | None = Field(description="annual_report | indicators | None when unknown")


class SourceInfo(BaseModel):
    source: str
    zh: str
    en: str
    present: bool


class IndicatorItem(BaseModel):
    id: str
    zh: str
    en: str
    value: Any = Field(description="number, text or boolean; amounts as strings exact to the fen; null when unknown")
    type: str
    unit: str
    window: str
    risk: str = Field(description="the direction of more risk: higher | lower | none")
    percentile: float | None = Field(description="0–100 within the industry section (mid-rank); null without peers")


class DimensionItem(BaseModel):
    id: str
    zh: str
    en: str
    indicators: list[IndicatorItem]


class Flag(BaseModel):
    id: str
    severity: str
    zh: str
    en: str
    dimension: str
    description: str


class PercentileBasis(BaseModel):
    as_of: date
    section: str
    peers: int = Field(description="enterprises of the same industry section in the batch table")


class Profile(BaseModel):
    """客户画像: identity, size, sources, indicators by dimension with industry percentiles, and flags."""

    uscc: str
    as_of: date
    name: str
    entity_type: str
    legal_rep: str = Field(description="masked: surname and asterisks")
    founding_date: date
    status: str
    status_date: date | None
    province: str
    province_name: str | None
    city_code: str
    industry: Industry
    size: SizeInfo
    sources: list[SourceInfo]
    dimensions: list[DimensionItem]
    flags: list[Flag]
    percentile_basis: PercentileBasis | None
    computed_from: str = Field(description="batch (the indicator table of the date) | computed (online)")
    notes: list[str] = []


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


class PeerIndex:
    """Sorted values per (industry section, indicator) from the batch table of one as-of, for percentiles."""

    def __init__(self, home: Path, as_of: date, library: Library) -> None:
        self.as_of = as_of
        self.library = library
        folder = indicator_table_path(home, as_of)
        manifest = read_manifest(folder)
        self.available = bool(manifest and manifest.get("status") == "complete")
        self._values: dict[str, np.ndarray] = {}
        self._sections: np.ndarray = np.array([], dtype=object)
        self._sorted: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        if self.available:
            numeric = [i.id for i in library.indicators if i.type.numeric]
            parts = sorted(folder.glob("part-*.parquet"))
            cols = ["reg_industry_section", *numeric]
            tables = [pq.read_table(p, columns=cols) for p in parts]
            self._sections = np.concatenate([t.column("reg_industry_section").to_numpy(zero_copy_only=False)
                                             for t in tables]) if tables else self._sections  # fmt: skip
            for name in numeric:
                self._values[name] = np.concatenate(
                    [t.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False) for t in tables]
                ) if tables else np.array([])  # fmt: skip

    def peers(self, section: str) -> int:
        return int((self._sections == section).sum()) if self.available else 0

    def percentile(self, section: str, indicator: str, value: Any) -> float | None:
        """Mid-rank percentile (0–100) of `value` among the section's non-null values; None without peers."""
        if not self.available or value is None or indicator not in self._values:
            return None
        key = (section, indicator)
        with self._lock:
            arr = self._sorted.get(key)
            if arr is None:
                vals = self._values[indicator][self._sections == section]
                arr = self._sorted[key] = np.sort(vals[~np.isnan(vals)])
        if arr.size == 0:
            return None
        x = float(value)
        below = np.searchsorted(arr, x, side="left")
        equal = np.searchsorted(arr, x, side="right") - below
        return round(100.0 * (below + 0.5 * equal) / arr.size, 1)


_PEERS: OrderedDict[tuple[str, date, str], PeerIndex] = OrderedDict()
_PEERS_LOCK = threading.Lock()


def peer_index(home: Path, as_of: date, library: Library) -> PeerIndex:
    """A cached PeerIndex (the two most recent as-of dates per home are kept)."""
    folder = indicator_table_path(home, as_of)
    manifest = read_manifest(folder) or {}
    key = (str(Path(home).resolve()), as_of, f"{manifest.get('raw_fingerprint')}/{manifest.get('status')}")
    with _PEERS_LOCK:
        idx = _PEERS.get(key)
        if idx is None:
            idx = _PEERS[key] = PeerIndex(home, as_of, library)
            while len(_PEERS) > 2:
                _PEERS.popitem(last=False)
        return idx


def size_class(values: IndicatorValues, section: str, industry_code: str) -> SizeInfo:
    """MIIT 2011 size class from the latest annual report, else from insured headcount and invoiced sales."""
    try:
        category = miit_category(section, industry_code)
    except ValidationError:
        return SizeInfo(size_class=SizeClass.UNKNOWN.value, zh=SizeClass.UNKNOWN.zh, standard=MIIT_2011.version,
                        basis=None)  # fmt: skip
    v = values.values
    attempts = (
        ("annual_report", v.get("ar_employees"), v.get("ar_revenue"), v.get("ar_total_assets")),
        ("indicators", v.get("si_headcount_latest") or v.get("pay_headcount_latest"), v.get("tax_sales_12m"),
         v.get("ar_total_assets")),
    )  # fmt: skip
    for basis, employees, revenue, assets in attempts:
        try:
            cls = classify(
                category, employees=None if employees is None else int(employees),
                revenue=None if revenue is None else Decimal(revenue),
                assets=None if assets is None else Decimal(assets),
            )  # fmt: skip
        except ValidationError:
            continue
        return SizeInfo(size_class=cls.value, zh=cls.zh, standard=MIIT_2011.version, basis=basis)
    return SizeInfo(size_class=SizeClass.UNKNOWN.value, zh=SizeClass.UNKNOWN.zh, standard=MIIT_2011.version,
                    basis=None)  # fmt: skip


def _json_value(value: Any, itype: IndicatorType) -> Any:
    if value is None:
        return None
    if itype is IndicatorType.AMOUNT:
        return str(value)  # exact to the fen; a float would not be
    return value


def build_profile(engine: OnlineEngine, uscc: str, as_of: date | str) -> Profile:
    """The profile of `uscc` as of `as_of` (typed errors for a bad USCC or date, NotFound for an unknown firm)."""
    values = engine.indicators(uscc, as_of)
    ident = engine.identity(values.uscc, values.as_of)
    library = engine.library
    section = str(ident["industry_section"])
    peers = peer_index(engine.home, values.as_of, library)
    notes: list[str] = []
    basis = None
    if peers.available:
        basis = PercentileBasis(as_of=values.as_of, section=section, peers=peers.peers(section))
    else:
        notes.append(f"no indicator table for {values.as_of.isoformat()}: run `puhui indicators --as-of "
                     f"{values.as_of.isoformat()}` to rank indicators within the industry")  # fmt: skip
    dimensions = []
    flags: list[Flag] = []
    for d in library.dimensions:
        items = []
        for ind in library.for_dimension(d.id):
            value = values.values[ind.id]
            pct = peers.percentile(section, ind.id, value) if ind.type.numeric else None
            items.append(IndicatorItem(
                id=ind.id, zh=ind.zh, en=ind.en, value=_json_value(value, ind.type), type=ind.type.value,
                unit=ind.unit, window=ind.window, risk=ind.risk.value, percentile=pct,
            ))  # fmt: skip
            if ind.flag is not None and value is True:
                flags.append(Flag(id=ind.id, severity=ind.flag.value, zh=ind.zh, en=ind.en, dimension=d.id,
                                  description=ind.description))  # fmt: skip
        dimensions.append(DimensionItem(id=d.id, zh=d.zh, en=d.en, indicators=items))
    flags.sort(key=lambda f: (_SEVERITY_ORDER[Severity(f.severity)], f.dimension, f.id))
    zh, en = INDUSTRY_SECTIONS.get(section, ("", ""))
    region = str(ident["region_code"])
    return Profile(
        uscc=values.uscc, as_of=values.as_of, name=str(ident["name"]), entity_type=str(ident["entity_type"]),
        legal_rep=mask_name(ident.get("legal_rep_name")), founding_date=ident["founding_date"],
        status=str(ident["status"]), status_date=ident.get("status_date"), province=region[:2],
        province_name=province_name(region[:2]), city_code=str(ident["city_code"]),
        industry=Industry(section=section, section_zh=zh, section_en=en, code=str(ident["industry_code"])),
        size=size_class(values, section, str(ident["industry_code"])),
        sources=[SourceInfo(source=s, zh=library.sources[s].contract.zh, en=library.sources[s].contract.en,
                            present=p) for s, p in values.sources.items()],
        dimensions=dimensions, flags=flags, percentile_basis=basis, computed_from=values.origin, notes=notes,
    )  # fmt: skip
