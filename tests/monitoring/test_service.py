"""The monitoring run on real SQLite and PostgreSQL: exposure, dedup across re-runs, escalation, the red freeze
exactly once through lending, contagion from a manually flagged core, and the queries other packages use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from puhui.lending import service as lending
from puhui.lending.store import CreditLineRow, LineChangeRow
from puhui.monitoring import service
from puhui.monitoring.signals import Catalogue, load_signals
from puhui.monitoring.store import AlertActionRow, AlertRow
from puhui.store.db import transaction
from puhui.store.idempotency import IdempotencyKey
from tests.lending._lendkit import open_line
from tests.monitoring._kit import AS_OF, uscc, write_chain, write_signals, write_table

A, B, C, D = uscc(101), uscc(102), uscc(103), uscc(104)
LATER = date(2026, 11, 30)


@pytest.fixture
def cat(tmp_path: Path) -> Catalogue:
    return load_signals(write_signals(tmp_path), check_indicators=False)


def _count(engine: Engine, model: type, *where: object) -> int:
    with transaction(engine, write=False) as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _freezes(engine: Engine, line_id: int) -> int:
    return _count(engine, LineChangeRow, LineChangeRow.line_id == line_id, LineChangeRow.kind == "freeze")


def _line_status(engine: Engine, line_id: int) -> str:
    return lending.get_line(engine, line_id)["status"]


def _alert(engine: Engine, who: str, signal_id: str) -> AlertRow:
    with transaction(engine, write=False) as s:
        return s.execute(select(AlertRow).where(AlertRow.uscc == who, AlertRow.signal_id == signal_id)).scalar_one()


def test_run_dedups_and_freezes_the_red_borrower_once(db_engine: Engine, tmp_path: Path, cat: Catalogue) -> None:
    line_a = open_line(db_engine, borrower=A)
    line_b = open_line(db_engine, borrower=B)
    open_line(db_engine, borrower=D)
    write_table(tmp_path, [
        {"uscc": A, "tax_sales_yoy_3m": -0.55, "pr_enforcement_open": 1, "reg_flag_inactive": False},
        {"uscc": B, "tax_sales_yoy_3m": -0.31, "pr_enforcement_open": 0, "reg_flag_inactive": False},
        {"uscc": C, "tax_sales_yoy_3m": None, "pr_enforcement_open": 0, "reg_flag_inactive": True},  # not exposed
        {"uscc": D, "tax_sales_yoy_3m": 0.10, "pr_enforcement_open": 0, "reg_flag_inactive": False},
    ])
    r1 = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    assert (r1.scope, r1.enterprises, r1.hits, r1.opened) == ("exposed", 3, 3, 3)
    assert r1.by_signal == {"sales_decline": {"yellow": 1, "orange": 1, "red": 0},
                            "enforcement_case": {"yellow": 0, "orange": 0, "red": 1}}
    assert r1.worst_by_tier == {"yellow": 1, "orange": 0, "red": 1}
    assert r1.actions == {"watch": 1, "reduce_review": 1, "freeze": 1}
    assert (r1.lines_frozen, _line_status(db_engine, line_a), _line_status(db_engine, line_b)) == (1, "frozen",
                                                                                                  "active")
    red = _alert(db_engine, A, "enforcement_case")
    assert (red.tier, red.status, red.action, red.source) == ("red", "actioned", "freeze", "signal")
    assert red.details["value"] == "1" and red.details["threshold"] == "1"
    key = f"monitoring:alert:{red.id}:line:{line_a}"
    assert _count(db_engine, IdempotencyKey, IdempotencyKey.key == key) == 1

    actions_before = _count(db_engine, AlertActionRow)
    r2 = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    assert (r2.opened, r2.unchanged, r2.lines_frozen, r2.actions) == (0, 3, 0, {})
    assert _count(db_engine, AlertRow) == 3 and _count(db_engine, AlertActionRow) == actions_before
    assert _freezes(db_engine, line_a) == 1

    assert service.worst_open_tier(db_engine, A) == "red"
    assert service.worst_open_tier(db_engine, C) is None
    assert [(a["signal_id"], a["tier"]) for a in service.open_alerts(db_engine, A)] == [
        ("enforcement_case", "red"), ("sales_decline", "orange")]
    assert [a["tier"] for a in service.open_alerts(db_engine, B)] == ["yellow"]

    r3 = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat, all_enterprises=True)
    assert (r3.scope, r3.enterprises, r3.opened) == ("all", 4, 1)  # C: deregistered, no line to freeze
    assert _alert(db_engine, C, "deregistered").status == "actioned"


def test_later_as_of_refreshes_escalates_and_respects_closed_spans(db_engine: Engine, tmp_path: Path,
                                                                   cat: Catalogue) -> None:
    line_b = open_line(db_engine, borrower=B)
    write_table(tmp_path, [{"uscc": B, "tax_sales_yoy_3m": -0.31}], AS_OF)
    write_table(tmp_path, [{"uscc": B, "tax_sales_yoy_3m": -0.62}], LATER)
    service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    first = _alert(db_engine, B, "sales_decline")
    r = service.run_monitoring(db_engine, tmp_path, LATER, catalogue=cat)
    assert (r.opened, r.refreshed, r.escalated) == (0, 1, 1)
    again = _alert(db_engine, B, "sales_decline")
    assert (again.id, again.tier, again.as_of, again.last_seen_as_of) == (first.id, "orange", AS_OF, LATER)
    kinds = [a["kind"] for a in service.get_alert(db_engine, first.id)["actions"]]
    assert kinds == ["watch", "escalated", "reduce_review"]
    # Re-running either date raises nothing new.
    for day in (AS_OF, LATER):
        assert service.run_monitoring(db_engine, tmp_path, day, catalogue=cat).opened == 0
    assert _count(db_engine, AlertRow) == 1

    service.do_close(db_engine, first.id, actor="staff:li", reason="customer confirmed seasonal dip",
                     code="false_positive", idempotency_key="close-1")
    assert service.worst_open_tier(db_engine, B) is None
    for day in (AS_OF, LATER):  # inside the closed alert's span: not raised again
        assert service.run_monitoring(db_engine, tmp_path, day, catalogue=cat).opened == 0
    write_table(tmp_path, [{"uscc": B, "tax_sales_yoy_3m": -0.62}], date(2026, 12, 31))
    r = service.run_monitoring(db_engine, tmp_path, date(2026, 12, 31), catalogue=cat)
    assert r.opened == 1 and _count(db_engine, AlertRow) == 2
    assert _line_status(db_engine, line_b) == "active"  # orange never freezes


def test_line_frozen_elsewhere_is_recorded_not_refrozen(db_engine: Engine, tmp_path: Path, cat: Catalogue) -> None:
    line_a = open_line(db_engine, borrower=A)
    lending.do_freeze_line(db_engine, line_a, on="2026-01-05", reason="customer request", idempotency_key="manual-1")
    write_table(tmp_path, [{"uscc": A, "pr_enforcement_open": 2}])
    r = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    assert (r.lines_frozen, r.freeze_skipped, r.actions) == (0, 1, {"freeze": 1})
    assert _freezes(db_engine, line_a) == 1
    assert _alert(db_engine, A, "enforcement_case").status == "actioned"


def test_contagion_from_a_flagged_core(db_engine: Engine, tmp_path: Path, cat: Catalogue) -> None:
    core, m80, m30, m05, noexp = uscc(1, "110108"), uscc(11), uscc(12), uscc(13), uscc(14)
    write_chain(tmp_path, core, [(m80, 1, None, "0.8"), (m30, 1, None, "0.3"), (m05, 1, None, "0.05"),
                                 (noexp, 1, None, "0.9")])
    line80 = open_line(db_engine, borrower=m80)
    line30 = open_line(db_engine, borrower=m30)
    open_line(db_engine, borrower=m05)
    write_table(tmp_path, [{"uscc": u, "tax_sales_yoy_3m": 0.05} for u in (m80, m30, m05, noexp)])
    flagged = service.do_flag(db_engine, core, tier="red", reason="核心企业债券违约", as_of=AS_OF, actor="staff:risk",
                              idempotency_key="flag-1")
    assert flagged.status == 201 and flagged.body["source"] == "manual"
    r = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    assert (r.contagion_cores, r.contagion_warnings) == (1, 2)
    w80 = _alert(db_engine, m80, f"contagion:{core}")
    w30 = _alert(db_engine, m30, f"contagion:{core}")
    assert (w80.tier, str(w80.score), w80.source, w80.details["dependence"]) == ("red", "0.800000", "contagion",
                                                                                  "0.800000")
    assert (w30.tier, str(w30.score)) == ("orange", "0.300000")
    assert service.worst_open_tier(db_engine, m05) is None and service.worst_open_tier(db_engine, noexp) is None
    assert (_line_status(db_engine, line80), _line_status(db_engine, line30)) == ("frozen", "active")
    assert _alert(db_engine, core, "manual").status == "actioned"  # red with no line: action complete
    again = service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    assert (again.opened, again.lines_frozen) == (0, 0) and _freezes(db_engine, line80) == 1


def test_staff_actions_are_audited_and_idempotent(db_engine: Engine, tmp_path: Path, cat: Catalogue) -> None:
    open_line(db_engine, borrower=B)
    write_table(tmp_path, [{"uscc": B, "tax_sales_yoy_3m": -0.5}])
    service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat)
    alert_id = _alert(db_engine, B, "sales_decline").id
    p1 = service.do_acknowledge(db_engine, alert_id, actor="staff:li", reason="calling the customer",
                                idempotency_key="ack-1")
    p2 = service.do_acknowledge(db_engine, alert_id, actor="staff:li", reason="calling the customer",
                                idempotency_key="ack-1")
    assert (p1.body["status"], p1.replayed, p2.replayed, p2.body) == ("acknowledged", False, True, p1.body)
    with transaction(db_engine, write=False) as s:
        audited = s.execute(text("SELECT action FROM audit_log WHERE entity = 'monitoring_alert' AND entity_id = :i "
                                 "ORDER BY id"), {"i": str(alert_id)}).scalars().all()
    assert audited == ["open_alert", "acknowledge_alert"]
    with transaction(db_engine, write=False) as s:
        assert s.execute(select(func.count()).select_from(CreditLineRow)
                         .where(CreditLineRow.status == "frozen")).scalar_one() == 0


def test_missing_indicator_table_is_a_clear_404(db_engine: Engine, tmp_path: Path, cat: Catalogue) -> None:
    from puhui.core.errors import NotFound

    with pytest.raises(NotFound) as ei:
        service.run_monitoring(db_engine, tmp_path, AS_OF, catalogue=cat, all_enterprises=True)
    assert ei.value.code == "indicator_table_missing"
