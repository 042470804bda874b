"""Contagion weights worked by hand: score = dependence × core severity, tier by the thresholds of the file.

Test thresholds (tests/monitoring/_kit.py): yellow ≥ 0.10, orange ≥ 0.25, red ≥ 0.60; severities yellow 0.25,
orange 0.50, red 1.00; cores count from orange. So a core in red gives dependence 0.8 → 0.8 red,
0.3 → 0.3 orange, 0.05 → 0.05 nothing; a core in orange gives 0.8 → 0.4 orange, 0.3 → 0.15 yellow,
0.2 → 0.10 yellow (inclusive), 0.19 → 0.095 nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from puhui.core.errors import ValidationError
from puhui.monitoring.contagion import CoreDistress, contagion_warnings
from puhui.monitoring.signals import Catalogue, Tier, load_signals
from puhui.supplychain.chains import ChainSource
from tests.monitoring._kit import uscc, write_chain, write_signals

CORE = uscc(1, "110108")
M80, M30, M05, NOEXP = uscc(11), uscc(12), uscc(13), uscc(14)
DEP = {CORE: {M80: Decimal("0.8"), M30: Decimal("0.3"), M05: Decimal("0.05"), NOEXP: Decimal("0.9")}}
EXPOSED = {M80, M30, M05}


@pytest.fixture
def cat(tmp_path: Path) -> Catalogue:
    return load_signals(write_signals(tmp_path), check_indicators=False)


def _tiers(warnings: list) -> dict[str, tuple[str, str]]:
    return {w.member: (w.tier.value, str(w.score)) for w in warnings}


def test_core_in_red(cat: Catalogue) -> None:
    out = contagion_warnings([CoreDistress(CORE, Tier.RED)], DEP, cat, exposed=EXPOSED)
    assert _tiers(out) == {M80: ("red", "0.800000"), M30: ("orange", "0.300000")}
    assert all(w.signal_id == f"contagion:{CORE}" and w.core_tier is Tier.RED for w in out)


def test_core_in_orange(cat: Catalogue) -> None:
    dep = {CORE: {**DEP[CORE], uscc(15): Decimal("0.2"), uscc(16): Decimal("0.19")}}
    out = contagion_warnings([CoreDistress(CORE, Tier.ORANGE)], dep, cat,
                             exposed=EXPOSED | {uscc(15), uscc(16)})
    assert _tiers(out) == {M80: ("orange", "0.400000"), M30: ("yellow", "0.150000"),
                           uscc(15): ("yellow", "0.100000")}


def test_member_without_exposure_gets_nothing_unless_all(cat: Catalogue) -> None:
    assert NOEXP not in _tiers(contagion_warnings([CoreDistress(CORE, Tier.RED)], DEP, cat, exposed=EXPOSED))
    everyone = _tiers(contagion_warnings([CoreDistress(CORE, Tier.RED)], DEP, cat, exposed=None))
    assert everyone[NOEXP] == ("red", "0.900000")


def test_yellow_core_is_below_the_minimum_and_worst_distress_counts(cat: Catalogue) -> None:
    assert contagion_warnings([CoreDistress(CORE, Tier.YELLOW)], DEP, cat, exposed=EXPOSED) == []
    out = contagion_warnings([CoreDistress(CORE, Tier.ORANGE), CoreDistress(CORE, Tier.RED, "manual")], DEP, cat,
                             exposed=EXPOSED)
    assert _tiers(out)[M80] == ("red", "0.800000") and out[0].core_source == "manual"


def test_bad_dependence_is_refused(cat: Catalogue) -> None:
    with pytest.raises(ValidationError) as ei:
        contagion_warnings([CoreDistress(CORE, Tier.RED)], {CORE: {M80: Decimal("1.2")}}, cat)
    assert ei.value.code == "invalid_dependence"


def test_tier_two_weight_goes_through_the_tier_one_member(tmp_path: Path, cat: Catalogue) -> None:
    # T2 sells 50% to M80, which sells 60% to the core: dependence 0.5 × 0.6 = 0.3 (Chain.dependence()).
    t1, t2 = M80, uscc(21)
    write_chain(tmp_path, CORE, [(t1, 1, None, "0.6"), (t2, 2, t1, "0.5")])
    chain = ChainSource(tmp_path / "raw").chain(CORE, as_of=date(2026, 10, 31))
    out = contagion_warnings([CoreDistress(CORE, Tier.RED)], {CORE: chain.dependence()}, cat)
    assert _tiers(out) == {t1: ("red", "0.600000"), t2: ("orange", "0.300000")}
