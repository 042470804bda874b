"""The revalue job on SQLite and PostgreSQL, with a stub valuer whose values the test sets: an LTV breach
reduces or freezes the line through the lending core, a missing value flags without acting, a re-run skips."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from puhui.collateral import service
from puhui.collateral.jobs import revalue_all
from puhui.collateral.product import PRODUCT
from puhui.collateral.registry import FakeRegistry
from puhui.core.errors import NotFound
from puhui.core.regulatory import DatedSetting, SettingsBook
from puhui.lending import service as lending
from tests.collateral._collkit import ON, SUBJECT, apply, valuation


class StubValuer:
    """Values each unit at the figure the test sets (None = no value; an exception = a bad request)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.calls = 0

    def value(self, subject: dict[str, Any], as_of: date, today: date | None = None) -> Any:
        self.calls += 1
        v = self.values[subject["unit_id"]]
        if isinstance(v, Exception):
            raise v
        return valuation(v, 92 if v else None, as_of=as_of, reason="stale_market")


def _pledged(engine: Engine, unit: str, value: str = "3000000", existing: str = "400000") -> tuple[int, int]:
    reg = FakeRegistry(auto_approve=True)
    m = apply(engine, reg, value=value, existing=existing, subject={**SUBJECT, "unit_id": unit}).body["mortgage"]
    r = service.do_register_mortgage(engine, m["mortgage_id"], registry=reg, on=ON)
    return m["mortgage_id"], r.body["line_id"]


def _book(action: str) -> SettingsBook:
    names = PRODUCT.keys()
    entries = [e for k in names if k != "collateral_breach_action" for e in PRODUCT.history(k)]
    return SettingsBook([*entries, DatedSetting("collateral_breach_action", action, date(2020, 1, 1), "test")])


def test_breach_reduces_the_line_and_a_rerun_skips(db_engine: Engine) -> None:
    m1, l1 = _pledged(db_engine, "U-1")  # limit 1,700,000, existing 400,000
    m2, l2 = _pledged(db_engine, "U-2")
    m3, l3 = _pledged(db_engine, "U-3")
    stub = StubValuer()
    # U-1 falls to 2,500,000: (1,700,000 + 400,000) / 2,500,000 = 0.84 > 0.70;
    # supported = 2,500,000 × 0.70 − 400,000 = 1,350,000
    stub.values = {"U-1": "2500000", "U-2": "3100000", "U-3": None}
    res = revalue_all(db_engine, stub, as_of=ON, progress=False, product=_book("reduce"))
    assert (res.pledged, res.valued, res.no_value, res.breached, res.reduced, res.frozen) == (3, 2, 1, 1, 1, 0)
    assert lending.get_line(db_engine, l1)["limit"] == "1350000.00"
    assert lending.get_line(db_engine, l2)["limit"] == "1700000.00"
    assert lending.get_line(db_engine, l3)["limit"] == "1700000.00"  # no value: flagged, never acted on
    g1, g3 = service.get_mortgage(db_engine, m1), service.get_mortgage(db_engine, m3)
    assert g1["flagged"] and g1["flag_reason"] == "ltv_above_cap" and g1["last_ltv"] == "0.84"
    assert g3["flagged"] and g3["flag_reason"] == "revalue_no_value"
    assert not service.get_mortgage(db_engine, m2)["flagged"]
    view = service.line_collateral(db_engine, l1)
    assert [v["purpose"] for v in view["valuations"]] == ["application", "revalue"]
    # (1,350,000 + 400,000) / 2,500,000 = 0.70: at the cap after the reduction, no longer a breach
    assert view["ltv"] == "0.7000" and view["breach"] is False
    again = revalue_all(db_engine, stub, as_of=ON, progress=False)
    assert again.skipped == 3 and again.valued == 0 and stub.calls == 3


def test_breach_freezes_under_the_freeze_policy_and_errors_are_counted(db_engine: Engine) -> None:
    _, l1 = _pledged(db_engine, "U-1")
    _, l2 = _pledged(db_engine, "U-2")
    stub = StubValuer()
    stub.values = {"U-1": "2000000", "U-2": NotFound("unknown compound", code="unknown_compound")}
    res = revalue_all(db_engine, stub, as_of=ON, progress=False, product=_book("freeze"))
    assert res.frozen == 1 and res.errors == 1 and res.reduced == 0
    line = lending.get_line(db_engine, l1)
    assert line["status"] == "frozen" and line["limit"] == "1700000.00"
    assert lending.get_line(db_engine, l2)["status"] == "active"
    assert [r.get("error") for r in res.lines if r["line_id"] == l2] == ["unknown_compound"]


def test_pending_mortgages_are_not_pledged_yet(db_engine: Engine) -> None:
    apply(db_engine, FakeRegistry())  # filed, not registered: no mortgage right, no line (Art 402)
    stub = StubValuer()
    res = revalue_all(db_engine, stub, as_of=ON, progress=False)
    assert res.pledged == 0 and stub.calls == 0 and res.lines == []
