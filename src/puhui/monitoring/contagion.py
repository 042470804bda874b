"""传染预警 (contagion): a core enterprise's distress raises a warning on each exposed member of its chain.

Pure. A distressed core (`CoreDistress`: its own worst signal tier, an open alert or a manual flag) reaches
every member of its supply chain in proportion to how much the member's business hangs on it —
`supplychain.Chain.dependence()`, in [0, 1] (tier 1: its share of business with the core; tier 2: that
share through its tier-1 counterparty). The member's score is `dependence × severity(core tier)`,
quantised to 6 places, and its tier the most severe whose `min_score` the score reaches
(`signals.yaml` → `contagion.tiers`, inclusive). A member without exposure (when an exposure set is given),
a member whose score reaches no tier, the core itself, and a core below `min_core_tier` produce nothing.
A member of two distressed chains gets one warning per core.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from puhui.core.errors import ValidationError
from puhui.monitoring.signals import Catalogue, Tier

__all__ = ["CoreDistress", "MemberWarning", "contagion_signal_id", "contagion_warnings"]

_SCORE_PLACES = Decimal("0.000001")


def contagion_signal_id(core: str) -> str:
    """The signal id of a contagion warning from `core` (one open warning per member and core)."""
    return f"contagion:{core}"


@dataclass(frozen=True)
class CoreDistress:
    """A core enterprise in distress: its tier and why (signal, alert or manual flag)."""

    core: str
    tier: Tier
    source: str = "signal"
    alert_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class MemberWarning:
    """A member's contagion warning: tier, score = dependence × core severity, and what it came from."""

    member: str
    core: str
    tier: Tier
    score: Decimal
    dependence: Decimal
    core_tier: Tier
    core_source: str
    core_alert_ids: tuple[int, ...] = ()

    @property
    def signal_id(self) -> str:
        return contagion_signal_id(self.core)

    def details(self, catalogue: Catalogue) -> dict[str, Any]:
        rule = catalogue.contagion
        return {"core": self.core, "core_tier": self.core_tier.value, "core_source": self.core_source,
                "core_alert_ids": list(self.core_alert_ids), "dependence": str(self.dependence),
                "core_severity": str(catalogue.severity(self.core_tier)), "score": str(self.score),
                "thresholds": {t.value: str(v) for t, v in rule.thresholds}, "category": "contagion",
                "zh": "核心企业风险传染", "en": "Contagion from a core enterprise",
                "action_zh": rule.action_zh, "action_en": rule.action_en}


def contagion_warnings(
    distressed: Iterable[CoreDistress],
    dependence: Mapping[str, Mapping[str, Decimal]],
    catalogue: Catalogue,
    *,
    exposed: Collection[str] | None = None,
) -> list[MemberWarning]:
    """Member warnings from distressed cores; `dependence[core][member]` is `Chain.dependence()` of each core.

    `exposed`: the members the bank has exposure to (credit lines, vouchers); None means every member.
    Sorted by member, then core.
    """
    rule = catalogue.contagion
    worst: dict[str, CoreDistress] = {}
    for d in distressed:
        prev = worst.get(d.core)
        if prev is None or d.tier.rank > prev.tier.rank:
            worst[d.core] = d
    out: list[MemberWarning] = []
    for core, d in worst.items():
        if d.tier.rank < rule.min_core_tier.rank:
            continue
        severity = catalogue.severity(d.tier)
        for member, raw in dependence.get(core, {}).items():
            if member == core or (exposed is not None and member not in exposed):
                continue
            dep = Decimal(raw)
            if not Decimal(0) <= dep <= Decimal(1):
                raise ValidationError(f"dependence of {member} on {core} must be in [0, 1], got {dep}",
                                      code="invalid_dependence", member=member, core=core)
            score = (dep * severity).quantize(_SCORE_PLACES)
            tier = rule.tier_of(score)
            if tier is not None:
                out.append(MemberWarning(member, core, tier, score, dep, d.tier, d.source, d.alert_ids))
    out.sort(key=lambda w: (w.member, w.core))
    return out
