"""Chains from the raw zone, point in time: members, tenure, trade, dependence, the graph; chain limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from puhui.core.errors import NotFound, PolicyViolation, ValidationError
from puhui.data.rawzone import RawZone
from puhui.supplychain.chains import ChainLimit, ChainSource, LimitStatus, approve_limit
from tests.supplychain._kit import CORE, T1, T2, T3, T4, uscc

OTHER_CORE = uscc(2, "310104")


def _d(text: str) -> date:
    return date.fromisoformat(text)


def make_raw_zone(root: Path) -> ChainSource:
    """One core with a tier-1 supplier (T1), its tier-2 supplier (T2), a distributor (T3) known only from
    2026-03-10, and T4 in another core's chain; trade for T1 in Jan–Mar 2026."""
    zone = RawZone(root)
    zone.write_part("chain_core_enterprises", "p0", pa.table({
        "core_uscc": [CORE, OTHER_CORE], "name": ["北京核心制造集团有限公司", "上海核心"],
        "sector": ["automotive", "food"], "industry_section": ["C", "C"], "industry_code": ["C36", "C14"],
        "city_code": ["110100", "310100"], "annual_revenue": [Decimal("5000000000.00"), Decimal("800000000.00")],
        "employees": [5000, 900], "listed": [True, False], "rating": ["AAA", "AA"],
    }))
    zone.write_part("chain_relations", "p0", pa.table({
        "core_uscc": [CORE, CORE, CORE, OTHER_CORE],
        "member_uscc": [T1, T2, T3, T4],
        "role": ["supplier", "supplier", "distributor", "supplier"],
        "tier": [1, 2, 1, 1],
        "counterparty_uscc": [CORE, T1, CORE, OTHER_CORE],
        "since_date": [_d("2023-01-31"), _d("2025-05-15"), _d("2026-03-10"), _d("2024-01-01")],
        "share_of_business": [0.6, 0.5, 0.3, 0.9],
        "payment_terms_days": [60, 30, 30, 45],
    }))
    months = [_d("2026-01-01"), _d("2026-02-01"), _d("2026-03-01")]
    zone.write_part("chain_trade_monthly", "p0", pa.table({
        "core_uscc": [CORE] * 3, "member_uscc": [T1] * 3, "month": months, "counterparty_uscc": [CORE] * 3,
        "direction": ["sale"] * 3,
        "invoiced_amount": [Decimal("100000.00"), Decimal("200000.00"), Decimal("300000.00")],
        "invoices": [2, 3, 4],
        "paid_amount": [Decimal("100000.00"), Decimal("300000.00"), Decimal("0.00")],
        "avg_payment_days": [60.0, 70.0, None],
        "past_due_amount": [Decimal("0.00"), Decimal("0.00"), Decimal("12345.67")],
    }))
    return ChainSource(root)


def test_chain_is_read_point_in_time(tmp_path: Path) -> None:
    src = make_raw_zone(tmp_path)
    # 2026-03-06: February's trade is reported (month end + 5 days ≤ as of), March's is not; T3 not yet known.
    chain = src.chain(CORE, as_of=date(2026, 3, 6), window_months=12)
    assert [m.uscc for m in chain.members] == [T1, T2]  # by tier
    t1 = chain.member(T1)
    assert (t1.trade.months, t1.trade.invoiced, t1.trade.paid) == (2, Decimal("300000.00"), Decimal("400000.00"))
    assert t1.trade.last_month == date(2026, 2, 1) and t1.trade.past_due == Decimal("0.00")
    # invoice-weighted by payments: (100,000 × 60 + 300,000 × 70) / 400,000 = 67.5 days
    assert t1.trade.avg_payment_days == Decimal("67.5")
    assert t1.tenure_months(chain.as_of) == 37  # 2023-01-31 → 2026-02-28 is 37 months (民法典 Art 202)
    later = src.chain(CORE, as_of=date(2026, 4, 6), window_months=1)
    assert {m.uscc for m in later.members} == {T1, T2, T3}
    assert later.member(T1).trade.months == 1 and later.member(T1).trade.past_due == Decimal("12345.67")
    assert later.member(T3).trade.months == 0 and not later.is_member(T4)
    with pytest.raises(NotFound) as e:
        later.member(T4)
    assert e.value.code == "not_a_chain_member"


def test_dependence_passes_through_the_tier_one_member(tmp_path: Path) -> None:
    chain = make_raw_zone(tmp_path).chain(CORE, as_of=date(2026, 4, 6))
    dep = chain.dependence()
    assert dep[T1] == Decimal("0.6") and dep[T3] == Decimal("0.3")
    assert dep[T2] == Decimal("0.300000")  # 50 % of its sales to T1, which sells 60 % to the core


def test_graph_edges_follow_the_goods(tmp_path: Path) -> None:
    g = make_raw_zone(tmp_path).chain(CORE, as_of=date(2026, 4, 6)).graph()
    assert g["core"]["name"] == "北京核心制造集团有限公司" and g["tiers"] == {"1": 2, "2": 1}
    assert g["nodes"][0]["id"] == CORE and len(g["nodes"]) == 4
    edges = {(e["source"], e["target"]) for e in g["edges"]}
    assert edges == {(T1, CORE), (T2, T1), (CORE, T3)}  # supplier → buyer; core → distributor
    assert all(isinstance(e["invoiced"], str) for e in g["edges"])  # money as text


def test_cores_memberships_and_missing_data(tmp_path: Path) -> None:
    src = make_raw_zone(tmp_path)
    assert [c.uscc for c in src.cores()] == sorted([CORE, OTHER_CORE])
    assert src.core(CORE).rating == "AAA"
    assert [m["core"] for m in src.memberships(T1, as_of=date(2026, 1, 1))] == [CORE]
    with pytest.raises(NotFound) as e:
        src.core(T1)
    assert e.value.code == "unknown_core_enterprise"
    with pytest.raises(NotFound) as e:
        ChainSource(tmp_path / "nothing").cores()
    assert e.value.code == "source_missing"
    with pytest.raises(ValidationError):
        src.chain(CORE, as_of=date(2026, 1, 1), window_months=0)


def test_chain_limit_rules() -> None:
    lim = approve_limit(CORE, 100_000, valid_from=date(2025, 7, 1), valid_to=date(2025, 12, 31))
    lim.check_issue(100_000, date(2025, 7, 1))
    with pytest.raises(PolicyViolation) as e:
        lim.check_issue(100_001, date(2025, 7, 1))
    assert e.value.code == "over_chain_limit" and e.value.details["available"] == "1000.00"
    used = lim.draw(60_000)
    assert used.available_fen == 40_000
    cut = approve_limit(CORE, 50_000, valid_from=date(2025, 7, 1), valid_to=date(2025, 12, 31), current=used)
    assert (cut.outstanding_fen, cut.available_fen) == (60_000, 0)  # cut below the outstanding: nothing new
    with pytest.raises(PolicyViolation) as e:
        lim.check_issue(1, date(2026, 1, 1))
    assert e.value.code == "chain_limit_not_in_force"
    frozen = approve_limit(CORE, 100_000, valid_from=date(2025, 7, 1), valid_to=date(2025, 12, 31), status="frozen")
    assert frozen.status is LimitStatus.FROZEN
    with pytest.raises(PolicyViolation) as e:
        frozen.check_issue(1, date(2025, 7, 1))
    assert e.value.code == "chain_limit_frozen"
    for bad in ({"limit_fen": -1}, {"valid_to": date(2025, 6, 1)}, {"status": "open"}):
        kwargs = {"limit_fen": 1, "valid_from": date(2025, 7, 1), "valid_to": date(2025, 12, 31), **bad}
        with pytest.raises(ValidationError):
            approve_limit(CORE, **kwargs)  # type: ignore[arg-type]
    assert isinstance(used.restore(60_000), ChainLimit) and used.restore(60_000).outstanding_fen == 0


def test_the_synthetic_universe_reads(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The chain reader on a small generated universe: every core has members, dependence is a share."""
    from puhui.data.synth.config import SynthConfig
    from puhui.data.synth.runner import run_synth

    home = tmp_path_factory.mktemp("chain-universe")
    run_synth(SynthConfig(enterprises=2_000, months=12, chunk_size=2_000, compounds=100, property_years=2),
              home=home, fresh=True, console=None)
    src = ChainSource(home / "raw")
    cores = src.cores()
    assert len(cores) >= 50
    chain = src.chain(cores[0].uscc, as_of=date(2026, 11, 1))
    assert chain.members and all(0 <= d <= 1 for d in chain.dependence().values())
    assert {m.tier for m in chain.members} <= {1, 2}
