"""Collateral line services on SQLite and PostgreSQL: apply → contract + pending mortgage → registry registers →
line opens (never before, 民法典 Art 402); refer/decline paths; idempotent replays; release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from puhui.collateral import service
from puhui.collateral.registry import FakeRegistry
from puhui.collateral.store import ApplicationRow, MortgageRow, ValuationRow
from puhui.core.errors import PolicyViolation, ValidationError
from puhui.lending import service as lending
from puhui.lending.store import CreditLineRow
from puhui.store import audit
from puhui.store.db import transaction
from tests.collateral._collkit import ON, SUBJECT, apply, key, valuation


def _count(engine: Engine, model: type) -> int:
    with transaction(engine, write=False) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_approve_register_open_release(db_engine: Engine) -> None:
    reg = FakeRegistry()
    p = apply(db_engine, reg)
    assert p.status == 201
    # 3,000,000 × (0.70 − 0.00, confidence 92) − 400,000 = 1,700,000
    assert p.body["decision"]["outcome"] == "approve" and p.body["decision"]["limit"] == "1700000.00"
    m = p.body["mortgage"]
    assert m["status"] == "pending" and m["max_amount"] == "1700000.00" and m["registry_application_no"]
    assert m["line_id"] is None and _count(db_engine, CreditLineRow) == 0
    assert p.body["valuation"]["value"] == "3000000.00" and p.body["valuation"]["model_version"] == "test-avm-1"
    # the registry has not decided: polling leaves it pending and opens no line
    r = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
    assert r.body["status"] == "pending" and _count(db_engine, CreditLineRow) == 0
    reg.approve(m["registry_application_no"], ON)
    r = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
    assert r.body["status"] == "registered" and r.body["certificate_no"] and r.body["line_id"]
    line = lending.get_line(db_engine, r.body["line_id"])
    assert line["limit"] == "1700000.00" and line["status"] == "active" and line["revolving"] is True
    # polling again changes nothing
    again = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
    assert again.body == r.body and _count(db_engine, CreditLineRow) == 1
    view = service.line_collateral(db_engine, r.body["line_id"])
    assert view["ltv"] == "0.7000" and view["breach"] is False and len(view["valuations"]) == 1
    with transaction(db_engine, write=False) as s:
        actions = [a.action for a in audit.history(s, "collateral_mortgage", m["mortgage_id"])]
    assert actions == ["create_mortgage", "file_mortgage", "register_mortgage", "secure_line"]
    # release: a drawn line cannot be released; once repaid (here: never drawn) it closes and releases
    lending.do_drawdown(db_engine, r.body["line_id"], amount="1000", on=ON, idempotency_key=key())
    with pytest.raises(PolicyViolation) as e:
        service.do_release_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON, reason="结清",
                                    idempotency_key=key())
    assert e.value.code == "secured_debt_outstanding"


def test_release_closes_the_line(db_engine: Engine) -> None:
    reg = FakeRegistry(auto_approve=True)
    m = apply(db_engine, reg).body["mortgage"]
    r = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
    k = key()
    rel = service.do_release_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON, reason="客户结清注销",
                                      idempotency_key=k)
    assert rel.body["status"] == "released" and rel.body["released_on"] == ON.isoformat()
    assert lending.get_line(db_engine, r.body["line_id"])["status"] == "closed"
    assert reg.status(m["registry_application_no"]).status == "released"
    replay = service.do_release_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON, reason="客户结清注销",
                                         idempotency_key=k)
    assert replay.replayed and replay.body == rel.body


def test_rejected_filing_never_opens_a_line(db_engine: Engine) -> None:
    reg = FakeRegistry()
    m = apply(db_engine, reg).body["mortgage"]
    reg.reject(m["registry_application_no"], ON, "产权存在查封")
    r = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
    assert r.body["status"] == "rejected" and r.body["line_id"] is None
    assert _count(db_engine, CreditLineRow) == 0


def test_refer_and_decline_sign_nothing(db_engine: Engine) -> None:
    reg = FakeRegistry()
    nv = apply(db_engine, reg, value=None, confidence=None, reason="stale_market")
    assert nv.body["decision"]["outcome"] == "refer" and nv.body["mortgage"] is None
    assert nv.body["application"]["reasons"] == ["avm_no_value", "avm_stale_market"]
    assert nv.body["valuation"]["value"] is None and nv.body["valuation"]["reason"] == "stale_market"
    dec = apply(db_engine, reg, value="1000000", existing="700000")
    assert dec.body["decision"]["outcome"] == "decline" and dec.body["application"]["reasons"] == ["no_equity"]
    assert dec.body["application"]["contract_id"] is None
    assert _count(db_engine, MortgageRow) == 0 and _count(db_engine, ApplicationRow) == 2
    assert _count(db_engine, ValuationRow) == 2  # the snapshot is kept even for a refusal


def test_replay_and_bad_input(db_engine: Engine) -> None:
    reg = FakeRegistry()
    k = key()
    first = apply(db_engine, reg, idem=k, application_no="APP-R1")
    again = apply(db_engine, reg, idem=k, application_no="APP-R1")
    assert again.replayed and again.body["application"] == first.body["application"]
    assert _count(db_engine, MortgageRow) == 1 and _count(db_engine, ValuationRow) == 1
    with pytest.raises(ValidationError) as e:
        apply(db_engine, reg, on=ON.replace(day=4))
    assert e.value.code == "valuation_date_in_future"
    with pytest.raises(ValidationError):
        apply(db_engine, reg, existing="-1")
    with pytest.raises(ValidationError) as e:  # product.yaml: a valuation at most 30 days old
        service.do_apply_collateral_line(
            db_engine, application_no="APP-OLD", borrower_id="B", subject=SUBJECT,
            valuation=valuation("3000000", as_of=ON - timedelta(days=31)), existing_mortgage=0, terms={},
            contract_text="t", signer="s", signed_at=datetime(2026, 1, 5, tzinfo=UTC), on=ON, registry=reg,
            idempotency_key=key())
    assert e.value.code == "stale_valuation"
    with pytest.raises(ValidationError) as e:
        service.do_apply_collateral_line(db_engine, application_no="X", borrower_id="B", subject={"area": 1},
                                         valuation=None, existing_mortgage=0, terms={}, contract_text="t",
                                         signer="s", signed_at=None, on=ON, registry=reg,  # type: ignore[arg-type]
                                         idempotency_key=key())
    assert e.value.code == "missing_unit"
    assert Decimal(first.body["decision"]["limit"]) == Decimal("1700000.00")


def test_concurrent_polls_open_one_line(db_engine: Engine) -> None:
    """Registration polls racing each other (a retry, a job and a user) never open two lines."""
    import threading

    from puhui.core.errors import Conflict

    reg = FakeRegistry(auto_approve=True)
    m = apply(db_engine, reg).body["mortgage"]
    outcomes: list[str] = []

    def poll() -> None:
        try:
            outcomes.append(service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON)
                            .body["status"])
        except Conflict as e:  # another poll holds the derived open-line key: retry later
            outcomes.append(e.code)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = service.do_register_mortgage(db_engine, m["mortgage_id"], registry=reg, on=ON).body
    assert _count(db_engine, CreditLineRow) == 1 and final["line_id"] is not None
    assert set(outcomes) <= {"registered", "idempotency_in_flight"} and "registered" in outcomes


def test_property_store_load_and_address_search(db_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Load one small city of a synthetic universe into the store (twice: idempotent) and find a unit by
    address, with a one-character typo in the compound name and the building given as a bare number."""
    import polars as pl

    from puhui.data.rawzone import RawZone
    from puhui.data.synth.config import SynthConfig
    from puhui.data.synth.property import generate_property

    home = tmp_path_factory.mktemp("propstore")
    generate_property(SynthConfig(compounds=300, seed=7), RawZone(home / "raw"))
    comps = pl.read_parquet(str(home / "raw" / "property_compounds" / "*.parquet"))
    city = comps.group_by("city_code").len().sort("len", "city_code")["city_code"][0]
    assert not service.has_property_store(db_engine)
    counts = service.load_property_store(db_engine, home, cities=[city])
    again = service.load_property_store(db_engine, home, cities=[city])
    assert counts == again and counts["property_cities"] == 1 and counts["property_units"] > 0
    assert counts["property_transactions"] > 0 and counts["property_listings"] > 0
    from puhui.collateral.store import TransactionRow

    txns = pl.read_parquet(str(home / "raw" / "property_transactions" / "*.parquet"))
    with transaction(db_engine, write=False) as s:
        t = s.scalars(select(TransactionRow).order_by(TransactionRow.txn_id).limit(1)).one()
    src = txns.filter(pl.col("txn_id") == t.txn_id).row(0, named=True)
    assert t.price == src["price"] and t.date == src["date"]  # exact to the fen
    assert service.has_property_store(db_engine)
    c = comps.filter(pl.col("city_code") == city).sort("compound_id").row(0, named=True)
    blds = pl.read_parquet(str(home / "raw" / "property_buildings" / "*.parquet"))
    b = blds.filter(pl.col("compound_id") == c["compound_id"]).sort("building_id").row(0, named=True)
    units = pl.read_parquet(str(home / "raw" / "property_units" / "*.parquet"))
    u = units.filter(pl.col("building_id") == b["building_id"]).sort("unit_id").row(0, named=True)
    typo = c["name"][:-1] + "X"
    found = service.search_units(db_engine, city=city, compound=typo, building=b["building_no"].removesuffix("号楼"),
                                 unit=u["room_no"] + "室")
    assert found and found[0]["unit_id"] == u["unit_id"] and found[0]["compound_id"] == c["compound_id"]
    assert found[0]["area"] == pytest.approx(u["area"])
    listed = service.search_units(db_engine, city=city, compound=c["name"])
    assert listed[0]["compound_id"] == c["compound_id"] and listed[0]["score"] == 1.0
    assert service.search_units(db_engine, city=city, compound="完全不存在的楼盘名字") == []
    with pytest.raises(ValidationError):
        service.search_units(db_engine, city=city, compound=" ")
