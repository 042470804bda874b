"""Enterprise size classes (大中小微) under the MIIT 2011 standard, as versioned data and a pure classifier.

Source: 工业和信息化部、国家统计局、国家发展和改革委员会、财政部《中小企业划型标准规定》,
工信部联企业〔2011〕300号, issued and in force 2011-06-18. The standard lists sixteen industry groups; for
each it gives an upper bound below which a firm is an SME (中小微型企业) and the thresholds of the medium
(中型) and small (小型) classes, in persons employed (从业人员) and 万元 of operating revenue (营业收入)
or total assets (资产总额). The rule has a fixed shape that this module encodes once:

* **SME** when below **any** of the upper-bound criteria ("X人以下**或**营业收入Y万元以下"); otherwise large.
* **medium** when an SME meets **all** medium thresholds ("X人及以上，**且**营业收入Y万元及以上");
* **small** when an SME meets **all** small thresholds;
* **micro** otherwise — i.e. below **either** small threshold ("X人以下**或**营业收入Y万元以下").

"及以上" includes the number and "以下" excludes it (the standard's own wording; 民法典 Art 1259 reads the
bare "以下" as inclusive, but the standard pairs "以下" with "及以上" so that the classes do not overlap).
Use the enterprise's latest annual figures. Industry groups are keyed by GB/T 4754-2017 codes through
`miit_category`; group 16 (其他未列明行业) catches every code the list does not name — including 教育 and
卫生, which the standard does not name at all (an extension, flagged in `MIIT_2011.notes`). Amounts are
exact: `classify` takes `Decimal` yuan, `classify_many` takes integer fen, and thresholds are compared
in fen, so a boundary case is never decided by floating-point error. A revised standard (drafted since
2021) or the near-identical NBS 2017 statistical rules (国统字〔2017〕213号) would be a second
`SizeStandard` beside this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

import numpy as np

from puhui.core.errors import ValidationError


class SizeClass(StrEnum):
    """大型 | 中型 | 小型 | 微型 (plus `unknown` when a needed figure is missing)."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"
    UNKNOWN = "unknown"

    @property
    def zh(self) -> str:
        return _SIZE_ZH[self]


_SIZE_ZH = {
    SizeClass.LARGE: "大型",
    SizeClass.MEDIUM: "中型",
    SizeClass.SMALL: "小型",
    SizeClass.MICRO: "微型",
    SizeClass.UNKNOWN: "未知",
}


class Metric(StrEnum):
    """What a threshold measures: persons employed, operating revenue or total assets."""

    EMPLOYEES = "employees"  # 从业人员, persons
    REVENUE = "revenue"  # 营业收入, 万元 in the standard
    ASSETS = "assets"  # 资产总额, 万元 in the standard


_WAN_FEN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen


@dataclass(frozen=True)
class Criterion:
    """`metric ≥ threshold` (persons, or 万元 for money)."""

    metric: Metric
    threshold: int

    @property
    def threshold_fen(self) -> int:
        """The threshold in the unit of `classify_many`: persons, or fen for money."""
        return self.threshold if self.metric is Metric.EMPLOYEES else self.threshold * _WAN_FEN


@dataclass(frozen=True)
class IndustryRule:
    """One industry group of the standard: SME upper bound (any), medium and small thresholds (all)."""

    key: str
    zh: str
    en: str
    sme_below: tuple[Criterion, ...]  # an SME if below ANY of these
    medium: tuple[Criterion, ...]  # medium if ALL met
    small: tuple[Criterion, ...]  # small if ALL met; micro otherwise

    @property
    def metrics(self) -> frozenset[Metric]:
        return frozenset(c.metric for c in (*self.sme_below, *self.medium, *self.small))


@dataclass(frozen=True)
class SizeStandard:
    """A dated, sourced size-class standard: its industry rules and notes."""

    version: str
    title: str
    source: str
    effective: date
    rules: dict[str, IndustryRule]
    notes: tuple[str, ...] = ()

    def rule(self, category: str) -> IndustryRule:
        try:
            return self.rules[category]
        except KeyError:
            raise ValidationError(
                f"unknown industry group {category!r} for size standard {self.version}; known: {', '.join(self.rules)}",
                code="unknown_size_category",
                field="category",
            ) from None


def _r(key: str, zh: str, en: str, upper: str, medium: str, small: str) -> IndustryRule:
    """Compact row: each part 'metric=value' pairs joined by ','; e.g. 'employees=1000,revenue=40000'."""

    def parse(text: str) -> tuple[Criterion, ...]:
        out = []
        for part in text.split(","):
            m, v = part.split("=")
            out.append(Criterion(Metric(m), int(v)))
        return tuple(out)

    return IndustryRule(key, zh, en, parse(upper), parse(medium), parse(small))


_E, _R, _A = "employees", "revenue", "assets"

MIIT_2011 = SizeStandard(
    version="MIIT-2011",
    title="中小企业划型标准规定",
    source="工信部联企业〔2011〕300号 (工业和信息化部、国家统计局、国家发展改革委、财政部), Art 4",
    effective=date(2011, 6, 18),
    rules={
        r.key: r
        for r in (
            _r("agriculture", "农、林、牧、渔业", "agriculture, forestry, animal husbandry, fishery",
               f"{_R}=20000", f"{_R}=500", f"{_R}=50"),
            _r("industry", "工业", "industry (mining, manufacturing, utilities)",
               f"{_E}=1000,{_R}=40000", f"{_E}=300,{_R}=2000", f"{_E}=20,{_R}=300"),
            _r("construction", "建筑业", "construction",
               f"{_R}=80000,{_A}=80000", f"{_R}=6000,{_A}=5000", f"{_R}=300,{_A}=300"),
            _r("wholesale", "批发业", "wholesale", f"{_E}=200,{_R}=40000", f"{_E}=20,{_R}=5000", f"{_E}=5,{_R}=1000"),
            _r("retail", "零售业", "retail", f"{_E}=300,{_R}=20000", f"{_E}=50,{_R}=500", f"{_E}=10,{_R}=100"),
            _r("transport", "交通运输业", "transport",
               f"{_E}=1000,{_R}=30000", f"{_E}=300,{_R}=3000", f"{_E}=20,{_R}=200"),
            _r("warehousing", "仓储业", "warehousing",
               f"{_E}=200,{_R}=30000", f"{_E}=100,{_R}=1000", f"{_E}=20,{_R}=100"),
            _r("postal", "邮政业", "postal and courier",
               f"{_E}=1000,{_R}=30000", f"{_E}=300,{_R}=2000", f"{_E}=20,{_R}=100"),
            _r("accommodation", "住宿业", "accommodation",
               f"{_E}=300,{_R}=10000", f"{_E}=100,{_R}=2000", f"{_E}=10,{_R}=100"),
            _r("catering", "餐饮业", "catering", f"{_E}=300,{_R}=10000", f"{_E}=100,{_R}=2000", f"{_E}=10,{_R}=100"),
            _r("information_transmission", "信息传输业", "information transmission (telecom, internet)",
               f"{_E}=2000,{_R}=100000", f"{_E}=100,{_R}=1000", f"{_E}=10,{_R}=100"),
            _r("software", "软件和信息技术服务业", "software and IT services",
               f"{_E}=300,{_R}=10000", f"{_E}=100,{_R}=1000", f"{_E}=10,{_R}=50"),
            _r("real_estate_development", "房地产开发经营", "real estate development",
               f"{_R}=200000,{_A}=10000", f"{_R}=1000,{_A}=5000", f"{_R}=100,{_A}=2000"),
            _r("property_management", "物业管理", "property management",
               f"{_E}=1000,{_R}=5000", f"{_E}=300,{_R}=1000", f"{_E}=100,{_R}=500"),
            _r("leasing_business_services", "租赁和商务服务业", "leasing and business services",
               f"{_E}=300,{_A}=120000", f"{_E}=100,{_A}=8000", f"{_E}=10,{_A}=100"),
            _r("other", "其他未列明行业", "other industries not listed", f"{_E}=300", f"{_E}=100", f"{_E}=10"),
        )
    },
    notes=(
        "Thresholds in persons and 万元; '及以上' inclusive, '以下' exclusive.",
        "教育 (P) and 卫生 (Q84) are not named by the standard; classified here as 其他未列明行业.",
        "交通运输业 is read as GB/T 4754-2017 divisions 53–58 (the NBS 2017 rules exclude railways, 53).",
    ),
)  # fmt: skip
"""The MIIT 2011 standard (工信部联企业〔2011〕300号), the default for puhui."""


def miit_category(section: str, code: str = "") -> str:
    """The MIIT 2011 industry group of a GB/T 4754-2017 section letter and (optional) numeric code.

    `code` is the division (2 digits) or class (4 digits), e.g. ("F", "52"), ("K", "7020"), ("C", "34").
    The section alone suffices where the standard does not split it (A, B–D, E, L, and the rest).
    """
    s = section.strip().upper()
    c = code.strip()
    if len(s) != 1 or not s.isalpha() or (c and not c.isdigit()):
        raise ValidationError(
            f"bad GB/T 4754 code section={section!r} code={code!r}: a letter and digits expected",
            code="bad_industry_code",
            field="industry",
        )
    simple = {"A": "agriculture", "B": "industry", "C": "industry", "D": "industry", "E": "construction",
              "L": "leasing_business_services"}  # fmt: skip
    if s in simple:
        return simple[s]
    if s not in _BY_PREFIX:
        return "other"
    prefixes = _BY_PREFIX[s]
    for n in (3, 2):
        if len(c) >= n and c[:n] in prefixes:
            return prefixes[c[:n]]
    if s == "K" and c[:2] == "70" and len(c) >= 3:
        return "other"  # 房地产中介, 自有房地产经营, 其他房地产业
    return _need(s, c)


_T = "transport"
_BY_PREFIX: dict[str, dict[str, str]] = {
    "F": {"51": "wholesale", "52": "retail"},
    "G": {"53": _T, "54": _T, "55": _T, "56": _T, "57": _T, "58": _T, "59": "warehousing", "60": "postal"},
    "H": {"61": "accommodation", "62": "catering"},
    "I": {"63": "information_transmission", "64": "information_transmission", "65": "software"},
    "K": {"701": "real_estate_development", "702": "property_management"},
}
"""Sections the standard splits by division (2 digits) or class prefix (3 digits) of GB/T 4754-2017."""


def _need(section: str, code: str) -> str:
    raise ValidationError(
        f"GB/T 4754 section {section} needs its division/class code to pick the MIIT industry group (got {code!r})",
        code="bad_industry_code",
        field="industry",
    )


def classify(
    category: str,
    *,
    employees: int | None = None,
    revenue: Decimal | None = None,
    assets: Decimal | None = None,
    standard: SizeStandard = MIIT_2011,
) -> SizeClass:
    """The size class of one enterprise: employees (persons), revenue and assets (Decimal yuan, annual).

    Only the figures the industry's rule uses are needed; a needed figure that is missing raises
    ValidationError, as does a negative figure or a float amount.
    """
    rule = standard.rule(category)
    values: dict[Metric, int] = {}
    for metric, v in ((Metric.EMPLOYEES, employees), (Metric.REVENUE, revenue), (Metric.ASSETS, assets)):
        if metric not in rule.metrics:
            continue
        if v is None:
            raise ValidationError(
                f"size class of {category!r} needs {metric.value}", code="missing_size_figure", field=metric.value
            )
        if metric is Metric.EMPLOYEES:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValidationError("employees must be an integer", code="bad_size_figure", field="employees")
            values[metric] = v
        else:
            if not isinstance(v, (Decimal, int)) or isinstance(v, bool):
                raise ValidationError(
                    f"{metric.value} must be Decimal yuan, not {type(v).__name__}",
                    code="bad_size_figure",
                    field=metric.value,
                )
            values[metric] = int((Decimal(v) * 100).to_integral_value(rounding="ROUND_FLOOR"))
        if values[metric] < 0:
            raise ValidationError(f"{metric.value} must not be negative", code="bad_size_figure", field=metric.value)

    def meets(criteria: tuple[Criterion, ...]) -> bool:
        return all(values[c.metric] >= c.threshold_fen for c in criteria)

    if not any(values[c.metric] < c.threshold_fen for c in rule.sme_below):
        return SizeClass.LARGE
    if meets(rule.medium):
        return SizeClass.MEDIUM
    if meets(rule.small):
        return SizeClass.SMALL
    return SizeClass.MICRO


def classify_many(
    categories: np.ndarray,
    employees: np.ndarray,
    revenue_fen: np.ndarray,
    assets_fen: np.ndarray,
    standard: SizeStandard = MIIT_2011,
) -> np.ndarray:
    """Vectorised `classify`: parallel arrays (employees in persons, money in integer fen; −1 = missing).

    Returns an array of `SizeClass` values (strings); `unknown` where a figure the rule needs is missing.
    """
    categories = np.asarray(categories)
    figures = {
        Metric.EMPLOYEES: np.asarray(employees, dtype=np.int64),
        Metric.REVENUE: np.asarray(revenue_fen, dtype=np.int64),
        Metric.ASSETS: np.asarray(assets_fen, dtype=np.int64),
    }
    out = np.full(categories.shape, SizeClass.UNKNOWN.value, dtype=object)
    for key, rule in standard.rules.items():
        sel = categories == key
        if not sel.any():
            continue
        present = np.ones(int(sel.sum()), dtype=bool)
        for m in rule.metrics:
            present &= figures[m][sel] >= 0

        def meets(criteria: tuple[Criterion, ...], sel: np.ndarray = sel) -> np.ndarray:
            ok = np.ones(int(sel.sum()), dtype=bool)
            for c in criteria:
                ok &= figures[c.metric][sel] >= c.threshold_fen
            return ok

        below_any = np.zeros(int(sel.sum()), dtype=bool)
        for c in rule.sme_below:
            below_any |= figures[c.metric][sel] < c.threshold_fen
        cls = np.where(
            ~below_any,
            SizeClass.LARGE.value,
            np.where(meets(rule.medium), SizeClass.MEDIUM.value,
                     np.where(meets(rule.small), SizeClass.SMALL.value, SizeClass.MICRO.value)),
        )  # fmt: skip
        out[sel] = np.where(present, cls, SizeClass.UNKNOWN.value)
    unknown_cat = ~np.isin(categories, list(standard.rules))
    if unknown_cat.any():
        bad = sorted({str(x) for x in categories[unknown_cat]})
        raise ValidationError(
            f"unknown industry groups for {standard.version}: {', '.join(bad[:5])}",
            code="unknown_size_category",
            field="category",
        )
    return out.astype(str)
