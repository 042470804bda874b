"""Early-warning signals (预警信号) as data: load and check `signals.yaml`, evaluate it on indicator values.

A `Signal` reads one indicator of the indicator library and compares it with a threshold per tier
(yellow 黄 → orange 橙 → red 红); an enterprise gets the most severe tier whose condition holds, and no
signal when the indicator is NULL (missing data is not a warning). The tiers carry a severity in [0, 1]
and the action they trigger (关注 watch list, 压降 limit-reduction review, 冻结 freeze); the contagion rule
(传染预警) lives in the same file. `load_signals` parses and validates the file — every problem raises
`ConfigurationError` naming the file and the field (`signals[3].tiers.orange`). Evaluation is pure and
comes in two shapes that agree by construction of the same comparison: `evaluate_frame` over a whole
indicator table (pandas, vectorised per signal: one NumPy comparison per tier) and `evaluate_one` over
one enterprise's indicator dict (the online path, exact `Decimal` comparisons).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from puhui.core.errors import ConfigurationError

__all__ = [
    "DEFAULT_SIGNALS",
    "Catalogue",
    "ContagionRule",
    "Hit",
    "Signal",
    "Tier",
    "TierSpec",
    "default_catalogue",
    "evaluate_frame",
    "evaluate_one",
    "evidence",
    "load_signals",
    "worst_tier",
]

DEFAULT_SIGNALS = Path(__file__).with_name("signals.yaml")

_ID = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
_ACTIONS = frozenset({"watch", "reduce_review", "freeze"})
_NUMERIC_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_OPS = frozenset({*_NUMERIC_OPS, "is"})


class Tier(StrEnum):
    """预警等级, least to most severe: yellow (watch), orange (review), red (act now)."""

    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: Any, *, field: str = "tier") -> Tier:
        from puhui.core.errors import ValidationError

        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValidationError(f"{field}: unknown tier {value!r}; use yellow, orange or red",
                                  code="unknown_tier", field=field) from None


_RANK = {Tier.YELLOW: 1, Tier.ORANGE: 2, Tier.RED: 3}
TIERS_MOST_SEVERE_FIRST = (Tier.RED, Tier.ORANGE, Tier.YELLOW)


def worst_tier(tiers: Iterable[Tier | str | None]) -> Tier | None:
    """The most severe of `tiers` (None when there is none)."""
    found = [Tier(t) for t in tiers if t is not None]
    return max(found, key=lambda t: t.rank) if found else None


@dataclass(frozen=True)
class TierSpec:
    """What a tier means and the action it triggers (watch | reduce_review | freeze)."""

    tier: Tier
    zh: str
    en: str
    severity: Decimal
    action: str
    action_zh: str
    action_en: str


@dataclass(frozen=True)
class Signal:
    """One signal: `indicator op threshold`, a threshold per tier (most severe first)."""

    id: str
    category: str
    zh: str
    en: str
    indicator: str
    op: str
    thresholds: tuple[tuple[Tier, Any], ...]  # most severe first; Decimal for numeric ops, bool for `is`
    action_zh: str = ""
    action_en: str = ""

    def tier_of(self, value: Any) -> tuple[Tier, Any] | None:
        """The tier `value` reaches and its threshold, or None (also for a missing value)."""
        if self.op == "is":
            test: Callable[[Any], bool] = lambda want: isinstance(value, bool) and value is want  # noqa: E731
        else:
            x, cmp = _decimal_value(value), _NUMERIC_OPS[self.op]
            test = lambda thr: x is not None and bool(cmp(x, thr))  # noqa: E731
        return next(((tier, thr) for tier, thr in self.thresholds if test(thr)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "zh": self.zh, "en": self.en, "indicator": self.indicator,
                "op": self.op, "tiers": {t.value: _jsonable(v) for t, v in self.thresholds},
                "action_zh": self.action_zh, "action_en": self.action_en}


@dataclass(frozen=True)
class ContagionRule:
    """传染预警: member score = dependence × core severity; the tier is the most severe `min_score` reached."""

    min_core_tier: Tier
    thresholds: tuple[tuple[Tier, Decimal], ...]  # most severe first
    action_zh: str = ""
    action_en: str = ""

    def tier_of(self, score: Decimal) -> Tier | None:
        for tier, min_score in self.thresholds:
            if score >= min_score:
                return tier
        return None


@dataclass(frozen=True)
class Catalogue:
    """The loaded `signals.yaml`: tiers, signals in file order, the contagion rule, where it came from."""

    version: str
    tiers: Mapping[Tier, TierSpec]
    signals: tuple[Signal, ...]
    contagion: ContagionRule
    file: str
    fingerprint: str

    def get(self, signal_id: str) -> Signal:
        for s in self.signals:
            if s.id == signal_id:
                return s
        raise ConfigurationError(f"unknown signal {signal_id!r}", code="unknown_signal", signal=signal_id)

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicator ids the signals read (each once, in file order)."""
        return tuple(dict.fromkeys(s.indicator for s in self.signals))

    def severity(self, tier: Tier) -> Decimal:
        return self.tiers[tier].severity


@dataclass(frozen=True)
class Hit:
    """A signal that fired for one enterprise: its tier, the indicator value and the threshold it crossed."""

    uscc: str
    signal_id: str
    tier: Tier
    value: Any
    threshold: Any

    def details(self, signal: Signal) -> dict[str, Any]:
        return evidence(signal, self.value, self.threshold)


def evidence(signal: Signal, value: Any, threshold: Any) -> dict[str, Any]:
    """What an alert records of a hit: the indicator, its value (as text), the comparison, the texts."""
    return {"indicator": signal.indicator, "value": _jsonable(value), "op": signal.op,
            "threshold": _jsonable(threshold), "category": signal.category, "zh": signal.zh, "en": signal.en,
            "action_zh": signal.action_zh, "action_en": signal.action_en}


# ---- loading and validation -----------------------------------------------------------------------------


class _Check:
    """Raises ConfigurationError naming the file and the field."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, why: str) -> ConfigurationError:
        return ConfigurationError(f"{self.file}: {where}: {why}", code="invalid_signals", file=self.file,
                                  field=where)

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def text(self, m: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        v = m.get(key)
        if v is None and not required:
            return ""
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"{where}.{key}", "a non-empty text is required")
        return v.strip()

    def number(self, value: Any, where: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(where, f"expected a number, got {value!r}")
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(where, f"expected a number, got {value!r}") from None
        if not d.is_finite():
            raise self.fail(where, f"expected a finite number, got {value!r}")
        return d

    def unknown_keys(self, m: Mapping[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted(set(m) - allowed)
        if extra:
            raise self.fail(f"{where}.{extra[0]}", f"unknown field (allowed: {', '.join(sorted(allowed))})")


_SIGNAL_KEYS = {"id", "category", "zh", "en", "indicator", "op", "tiers", "action_zh", "action_en"}
_TIER_KEYS = {"zh", "en", "severity", "action", "action_zh", "action_en"}


def _tier_key(c: _Check, key: Any, where: str) -> Tier:
    try:
        return Tier(key)
    except ValueError:
        raise c.fail(f"{where}.{key}", "unknown tier (use yellow, orange, red)") from None


def _thresholds(c: _Check, raw: Any, op: str, where: str) -> tuple[tuple[Tier, Any], ...]:
    m = c.mapping(raw, where)
    if not m:
        raise c.fail(where, "at least one tier threshold is required")
    got: dict[Tier, Any] = {}
    for k, v in m.items():
        tier = _tier_key(c, k, where)
        if op == "is":
            if not isinstance(v, bool):
                raise c.fail(f"{where}.{k}", f"op 'is' needs true or false, got {v!r}")
            got[tier] = v
        else:
            got[tier] = c.number(v, f"{where}.{k}")
    ordered = tuple((t, got[t]) for t in TIERS_MOST_SEVERE_FIRST if t in got)
    if op == "is":
        if len({v for _, v in ordered}) != len(ordered):
            raise c.fail(where, "two tiers of an 'is' signal cannot share a value")
        return ordered
    # From the most severe tier down, each threshold must be strictly harder to reach than the next one.
    lower_is_worse = op in ("<", "<=")
    for (t1, v1), (t2, v2) in itertools.pairwise(ordered):
        ok = v1 < v2 if lower_is_worse else v1 > v2
        if not ok:
            rel = "below" if lower_is_worse else "above"
            raise c.fail(f"{where}.{t1.value}", f"threshold {v1} must be strictly {rel} the {t2.value} threshold "
                                                f"{v2} for op {op!r} (more severe tiers are harder to reach)")
    return ordered


def _tiers(c: _Check, raw: Any) -> dict[Tier, TierSpec]:
    m = c.mapping(raw, "tiers")
    out: dict[Tier, TierSpec] = {}
    for k, raw_spec in m.items():
        tier = _tier_key(c, k, "tiers")
        where = f"tiers.{k}"
        spec = c.mapping(raw_spec, where)
        c.unknown_keys(spec, _TIER_KEYS, where)
        sev = c.number(spec.get("severity"), f"{where}.severity")
        if not Decimal(0) < sev <= Decimal(1):
            raise c.fail(f"{where}.severity", f"must be in (0, 1], got {sev}")
        action = c.text(spec, "action", where)
        if action not in _ACTIONS:
            raise c.fail(f"{where}.action", f"unknown action {action!r} (use {', '.join(sorted(_ACTIONS))})")
        out[tier] = TierSpec(tier, c.text(spec, "zh", where), c.text(spec, "en", where), sev, action,
                             c.text(spec, "action_zh", where), c.text(spec, "action_en", where))
    missing = [t.value for t in Tier if t not in out]
    if missing:
        raise c.fail(f"tiers.{missing[0]}", "every tier (yellow, orange, red) must be defined")
    sev = [out[t].severity for t in (Tier.YELLOW, Tier.ORANGE, Tier.RED)]
    if not sev[0] < sev[1] < sev[2]:
        raise c.fail("tiers", f"severity must rise from yellow to red, got {[str(s) for s in sev]}")
    return out


def _signal(c: _Check, raw: Any, i: int, known: Collection[str] | None) -> Signal:
    where = f"signals[{i}]"
    m = c.mapping(raw, where)
    sid = m.get("id")
    if not isinstance(sid, str) or not _ID.match(sid):
        raise c.fail(f"{where}.id", f"must match {_ID.pattern}, got {sid!r}")
    where = f"signals[{i}] ({sid})"
    c.unknown_keys(m, _SIGNAL_KEYS, where)
    indicator = c.text(m, "indicator", where)
    if known is not None and indicator not in known:
        raise c.fail(f"{where}.indicator", f"unknown indicator {indicator!r} (not in the indicator library)")
    op = m.get("op")
    if op not in _OPS:
        raise c.fail(f"{where}.op", f"unknown op {op!r} (use {', '.join(sorted(_OPS))})")
    return Signal(id=sid, category=c.text(m, "category", where), zh=c.text(m, "zh", where),
                  en=c.text(m, "en", where), indicator=indicator, op=op,
                  thresholds=_thresholds(c, m.get("tiers"), op, f"{where}.tiers"),
                  action_zh=c.text(m, "action_zh", where, required=False),
                  action_en=c.text(m, "action_en", where, required=False))


def _contagion(c: _Check, raw: Any) -> ContagionRule:
    m = c.mapping(raw, "contagion")
    c.unknown_keys(m, {"min_core_tier", "tiers", "action_zh", "action_en"}, "contagion")
    try:
        min_core = Tier(m.get("min_core_tier"))
    except ValueError:
        raise c.fail("contagion.min_core_tier", f"unknown tier {m.get('min_core_tier')!r} (use yellow, orange, "
                                                "red)") from None
    thr = _thresholds(c, m.get("tiers"), ">=", "contagion.tiers")
    for t, v in thr:
        if not Decimal(0) < v <= Decimal(1):
            raise c.fail(f"contagion.tiers.{t.value}", f"a score threshold must be in (0, 1], got {v}")
    return ContagionRule(min_core, thr, c.text(m, "action_zh", "contagion", required=False),
                         c.text(m, "action_en", "contagion", required=False))


def load_signals(path: Path | str | None = None, *, indicators: Collection[str] | None = None,
                 check_indicators: bool = True) -> Catalogue:
    """Parse and validate a signals file (default: the shipped `signals.yaml`).

    Indicator ids are checked against `indicators` when given, else against the default indicator
    library (`check_indicators=False` skips the check, e.g. for a file meant for another library).
    """
    p = Path(path) if path is not None else DEFAULT_SIGNALS
    c = _Check(str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise c.fail("file", f"cannot read it ({e.strerror or e})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise c.fail(where, f"not valid YAML ({getattr(e, 'problem', None) or e})") from None
    doc = c.mapping(doc, "file")
    c.unknown_keys(doc, {"version", "tiers", "signals", "contagion"}, "file")
    version = doc.get("version")
    if not isinstance(version, (str, int)) or not str(version).strip():
        raise c.fail("version", "a version (e.g. the date of the change) is required")
    known = indicators
    if known is None and check_indicators:
        from puhui.indicators.library import default_library

        lib = default_library()
        known = {i.id for i in lib.indicators}
    tiers = _tiers(c, doc.get("tiers"))
    raw_signals = doc.get("signals")
    if not isinstance(raw_signals, list) or not raw_signals:
        raise c.fail("signals", "a non-empty list of signals is required")
    signals = tuple(_signal(c, s, i, known) for i, s in enumerate(raw_signals))
    seen: set[str] = set()
    for i, s in enumerate(signals):
        if s.id in seen:
            raise c.fail(f"signals[{i}].id", f"duplicate signal id {s.id!r}")
        seen.add(s.id)
    contagion = _contagion(c, doc.get("contagion"))
    fp = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Catalogue(str(version), tiers, signals, contagion, str(p), fp)


@cache
def default_catalogue() -> Catalogue:
    """The shipped `signals.yaml`, checked against the default indicator library (loaded once)."""
    return load_signals()


# ---- evaluation (pure) ----------------------------------------------------------------------------------


def _decimal_value(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))  # the shortest repr: -0.3 stays -0.3, as the float compare below sees it
    return None


def _jsonable(v: Any) -> Any:
    """A value for a JSON document: Decimals and numbers as text (counts read back as DOUBLE print whole)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if hasattr(v, "item"):  # NumPy scalars
        v = v.item()
        if isinstance(v, bool):
            return v
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def evaluate_one(uscc: str, values: Mapping[str, Any], catalogue: Catalogue) -> list[Hit]:
    """The signals that fire for one enterprise's indicator values (a missing indicator fires nothing)."""
    hits = []
    for s in catalogue.signals:
        found = s.tier_of(values.get(s.indicator))
        if found is not None:
            hits.append(Hit(uscc, s.id, found[0], values.get(s.indicator), found[1]))
    return hits


def evaluate_frame(frame: Any, catalogue: Catalogue, *, uscc_column: str = "uscc") -> Any:
    """Every signal over an indicator table (a pandas DataFrame): one row per (enterprise, signal) that fires.

    Columns of the result: `uscc`, `signal_id`, `tier`, `value`, `threshold` (sorted by uscc, then the
    signal's order in the file). A signal whose indicator column is absent raises ConfigurationError.
    """
    import numpy as np
    import pandas as pd

    missing = [s.indicator for s in catalogue.signals if s.indicator not in frame.columns]
    if missing:
        raise ConfigurationError(f"the indicator table has no column for {sorted(set(missing))}",
                                 code="indicator_missing", indicators=sorted(set(missing)))
    usccs = frame[uscc_column].to_numpy(dtype=object)
    parts = []
    for order, s in enumerate(catalogue.signals):
        col = frame[s.indicator]
        assigned = np.zeros(len(frame), dtype=bool)
        if s.op == "is":
            b = col.astype("boolean")
            raw = b.to_numpy(dtype=object, na_value=None)
            for tier, want in s.thresholds:
                m = (b == want).fillna(False).to_numpy(dtype=bool) & ~assigned
                assigned |= m
                if m.any():
                    parts.append(pd.DataFrame({"uscc": usccs[m], "signal_id": s.id, "tier": tier.value,
                                               "value": raw[m], "threshold": want, "_o": order}))
            continue
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        valid = np.isfinite(x)
        cmp = _NUMERIC_OPS[s.op]
        for tier, thr in s.thresholds:
            with np.errstate(invalid="ignore"):
                m = valid & ~assigned & cmp(x, float(thr))
            assigned |= m
            if m.any():
                parts.append(pd.DataFrame({"uscc": usccs[m], "signal_id": s.id, "tier": tier.value,
                                           "value": x[m], "threshold": thr, "_o": order}))
    if not parts:
        return pd.DataFrame({"uscc": [], "signal_id": [], "tier": [], "value": [], "threshold": []})
    out = pd.concat(parts, ignore_index=True).sort_values(["uscc", "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)
