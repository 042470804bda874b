"""The journey service on a real database and a tiny synthetic universe: estimate, apply, accept.

Expected outcomes and limits come from the batch indicator rows through the test policy's rules written
out in `_journey_kit.expected` (not from the engine); bad input is refused with its code and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from puhui.core.errors import Conflict, PolicyViolation, ServiceUnavailable, ValidationError
from puhui.decisioning import journey
from puhui.decisioning.store import ApplicationRow, DecisionRow, OfferRow, ReviewCaseRow
from puhui.lending import service as lending
from puhui.store.audit import AuditEntry
from puhui.store.db import transaction
from tests.decisioning import _journey_kit as kit

AS_OF = kit.AS_OF


@pytest.fixture(scope="module")
def online():
    e = kit.online_engine()
    yield e
    e.close()


@pytest.fixture
def db(db_engine: Engine) -> Engine:
    kit.setup_db(db_engine)
    return db_engine


def _apply(db: Engine, online, uscc: str, amount: str = "5000000", key: str | None = None, **kw):
    return journey.apply(db, online, uscc, kw.pop("scenario_id", kit.SCENARIO_ID), amount, kw.pop("as_of", AS_OF),
                         "borrower:web", key or f"apply-{uscc}-{amount}")  # fmt: skip


def test_approve_records_everything_in_one_go(db: Engine, online) -> None:
    u = kit.universe()
    uscc = u.pick("approve")[0]
    limit = kit.expected_limit(u.rows[uscc])
    kit.grant(db, uscc)
    before = kit.counts(db)
    posted = _apply(db, online, uscc, "5000000")  # more than any offer: capped to the policy limit
    b = posted.body
    assert posted.status == 201 and b["status"] == "approved" and b["reasons"] == []
    assert Decimal(b["offer"]["limit"]) == limit and b["capped_to_offer"] is True
    assert b["offer"]["expires_on"] == "2026-07-30"  # offer_validity_days 30 from the decision date
    assert b["model"]["version"] == "sme_pd-v1" and b["decision"]["arm"] == "champion"
    after = kit.counts(db)
    assert {t: after[t] - before[t] for t in ("decisions", "applications", "offers", "review_cases")} == \
        {"decisions": 1, "applications": 1, "offers": 1, "review_cases": 0}  # fmt: skip
    with transaction(db, write=False) as s:
        d = s.get(DecisionRow, b["decision"]["decision_id"])
        assert d.channel == "application" and d.outcome == "approve" and d.limit == limit
        assert d.inputs["indicators"]["reg_capital"] == str(u.rows[uscc]["reg_capital"])
        assert sorted(d.inputs["consents"]) == ["credit_bureau", "registration"]
    # a smaller request is what the line will be; replaying the first request answers the same body
    again = _apply(db, online, uscc, "5000000")
    assert again.replayed and again.body == b
    small = _apply(db, online, uscc, "20000.00")
    assert small.body["offer"]["limit"] == "20000.00" and small.body["capped_to_offer"] is False
    with transaction(db, write=False) as s:  # the newer offer superseded the older one
        assert s.get(OfferRow, b["offer"]["offer_id"]).status == "superseded"


def test_decline_and_refer(db: Engine, online) -> None:
    u = kit.universe()
    young, bureau, refer = u.pick("decline_young")[0], u.pick("decline_bureau")[0], u.pick("refer")[0]
    for x in (young, bureau, refer):
        kit.grant(db, x)
    d1 = _apply(db, online, young).body
    assert d1["status"] == "declined" and "operating_under_2y" in [r["code"] for r in d1["reasons"]]
    assert d1["offer"] is None and d1["review_case"] is None
    assert all(r["zh"] and r["en"] for r in d1["reasons"])
    d2 = _apply(db, online, bureau).body
    assert d2["status"] == "declined" and "bureau_overdue" in [r["code"] for r in d2["reasons"]]
    r = _apply(db, online, refer).body
    assert r["status"] == "referred" and [x["code"] for x in r["reasons"]] == ["young_review"]
    assert r["review_case"]["status"] == "open" and r["offer"] is None
    assert Decimal(r["decision"]["policy_offer"]["limit"]) == kit.expected_limit(u.rows[refer])  # provisional


def test_estimate_is_soft(db: Engine, online) -> None:
    u = kit.universe()
    bureau, ok = u.pick("decline_bureau")[0], u.pick("approve")[0]
    kit.grant(db, bureau, purposes=("registration",))  # no bureau consent: an estimate needs none
    kit.grant(db, ok, purposes=("registration",))
    before = kit.counts(db)
    e = journey.estimate(db, online, bureau, kit.SCENARIO_ID, AS_OF, actor="borrower:web").body
    # the bureau's 30+ DPD is not seen: the estimate is likely, while the application would decline
    assert e["bureau_query"] is False and e["indicative"] is True
    assert "bureau_overdue" not in [r["code"] for r in e["reasons"]]
    e2 = journey.estimate(db, online, ok, kit.SCENARIO_ID, AS_OF, actor="borrower:web").body
    assert e2["outcome"] == "likely"
    hi = Decimal(e2["limit_range"]["high"])
    assert hi == kit.expected_limit(u.rows[ok])
    assert Decimal(e2["limit_range"]["low"]) <= hi and e2["annual_rate_range"]["low"] <= e2["annual_rate_range"]["high"]
    after = kit.counts(db)
    assert after["decisions"] == before["decisions"] + 2
    assert (after["applications"], after["offers"]) == (before["applications"], before["offers"])
    with transaction(db, write=False) as s:
        rows = s.scalars(select(DecisionRow).where(DecisionRow.id.in_((e["estimate_id"], e2["estimate_id"])))).all()
        assert {r.channel for r in rows} == {"estimate"}
        assert all(r.inputs["sources"].get("bureau_enterprise_accounts") is False for r in rows)
    # and the formal application still needs the bureau consent
    with pytest.raises(PolicyViolation) as err:
        _apply(db, online, ok)
    assert err.value.code == "consent_missing" and err.value.details["missing"] == ["credit_bureau"]


def test_accept_opens_one_line(db: Engine, online) -> None:
    u = kit.universe()
    uscc = u.pick("approve")[0]
    kit.grant(db, uscc)
    app = _apply(db, online, uscc, "300000").body
    at = datetime(2026, 6, 30, 10, 0, tzinfo=UTC)
    out = journey.accept(db, app["application_id"], "法定代表人 测试", "acc-1", signed_at=at, actor="borrower:web")
    b = out.body
    assert out.status == 200 and b["status"] == "accepted" and b["contract_id"] and b["line_id"]
    assert b["line"]["limit"] == "300000.00" and b["line"]["valid_from"] == "2026-06-30"
    assert b["line"]["valid_to"] == "2027-06-29" and b["line"]["revolving"] is True
    contract = lending.get_contract(db, b["contract_id"])
    assert contract["verified"] and contract["contract_no"] == f"PH-{app['application_id']}"
    assert contract["terms"]["annual_rate"].startswith(app["offer"]["annual_rate"])
    n = kit.counts(db)
    replay = journey.accept(db, app["application_id"], "法定代表人 测试", "acc-1", signed_at=at, actor="borrower:web")
    assert replay.replayed and replay.body == b and kit.counts(db) == n
    with pytest.raises(Conflict) as e:
        journey.accept(db, app["application_id"], "法定代表人 测试", "acc-2", actor="borrower:web")
    assert e.value.code == "already_accepted" and kit.counts(db) == n
    # the line is a lending line: draw on it
    loan = lending.do_drawdown(db, b["line_id"], amount="100000", on=AS_OF, idempotency_key="dd-1",
                               actor="borrower:web")  # fmt: skip
    assert loan.status == 201


def test_interrupted_accept_completes(db: Engine, online) -> None:
    """The first attempt signed the contract and died; the retry picks it up and opens exactly one line."""
    u = kit.universe()
    uscc = u.pick("approve")[0]
    kit.grant(db, uscc)
    app = _apply(db, online, uscc, "200000").body
    aid = app["application_id"]
    offer = app["offer"]
    lending.do_sign_contract(
        db,
        contract_no=f"PH-{aid}",
        borrower_id=uscc,
        text="合同",
        signer="法定代表人 测试",
        terms={
            "limit": offer["limit"],
            "valid_from": "2026-06-30",
            "valid_to": "2027-06-29",
            "annual_rate": offer["annual_rate"],
            "methods": offer["methods"],
        },
        signed_at=datetime(2026, 6, 30, tzinfo=UTC),
        on=AS_OF,
        idempotency_key="k:contract",
    )
    out = journey.accept(db, aid, "法定代表人 测试", "k", actor="borrower:web").body
    assert out["status"] == "accepted"
    c = kit.counts(db)
    assert c["loan_contracts"] == 1 and c["credit_lines"] == 1


def test_bad_input_writes_nothing(db: Engine, online) -> None:
    u = kit.universe()
    ok, declined, refer = u.pick("approve")[0], u.pick("decline_young")[0], u.pick("refer")[0]
    for x in (ok, declined, refer):
        kit.grant(db, x)
    kit.grant(db, u.pick("approve", 2)[1], purposes=("registration", "credit_bureau"), expires_on=date(2026, 6, 15))
    approved = _apply(db, online, ok, "100000").body
    refused = _apply(db, online, declined).body
    referred = _apply(db, online, refer).body
    stale = u.pick("approve", 2)[1]
    before = kit.counts(db)
    cases = [
        (lambda: _apply(db, online, "91110108551385082X"), ValidationError, "uscc_check"),
        (lambda: _apply(db, online, "1234"), ValidationError, "uscc_length"),
        (lambda: _apply(db, online, u.pick("approve", 3)[2]), PolicyViolation, "consent_missing"),
        (lambda: _apply(db, online, stale), PolicyViolation, "consent_expired"),
        (lambda: _apply(db, online, ok, scenario_id="no_such_loan"), ValidationError, "unknown_scenario"),
        (lambda: _apply(db, online, ok, "100.00"), PolicyViolation, "amount_below_minimum"),
        (lambda: _apply(db, online, ok, "-5"), ValidationError, "non_positive_amount"),
        (lambda: _apply(db, online, ok, "10000.001"), ValidationError, "sub_fen_amount"),
        (lambda: _apply(db, online, ok, "100000", key=f"apply-{ok}-100000", as_of=date(2026, 6, 29)),
         ValidationError, "idempotency_key_reused"),
        (lambda: journey.apply(db, online, ok, kit.SCENARIO_ID, "100000", AS_OF, "borrower:web", None),
         ValidationError, "idempotency_key_required"),
        (lambda: journey.accept(db, refused["application_id"], "法人", "a1"), Conflict, "application_not_approved"),
        (lambda: journey.accept(db, referred["application_id"], "法人", "a2"), Conflict, "application_not_approved"),
        (lambda: journey.accept(db, approved["application_id"], "法人", "a3", on=date(2026, 7, 31)),
         PolicyViolation, "offer_expired"),
        (lambda: journey.accept(db, 10**9, "法人", "a4"), Exception, "application_not_found"),
        (lambda: journey.accept(db, approved["application_id"], " ", "a5"), ValidationError, "invalid_signer"),
    ]  # fmt: skip
    for call, error, code in cases:
        with pytest.raises(error) as e:
            call()
        assert getattr(e.value, "code", None) == code, (code, e.value)
        assert kit.counts(db) == before, code
    with transaction(db, write=False) as s:
        assert s.get(ApplicationRow, approved["application_id"]).status == "approved"


def test_no_champion_is_503(db_engine: Engine, online) -> None:
    kit.setup_db(db_engine, with_model=False)
    uscc = kit.universe().pick("approve")[0]
    kit.grant(db_engine, uscc)
    before = kit.counts(db_engine)
    with pytest.raises(ServiceUnavailable) as e:
        _apply(db_engine, online, uscc)
    assert e.value.code == "no_champion_model" and e.value.http_status == 503
    assert kit.counts(db_engine) == before
    with transaction(db_engine, write=False) as s:
        assert s.scalars(select(ReviewCaseRow)).first() is None
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "apply")).first() is None


def test_one_row_scoring_matches_the_frame_path() -> None:
    """`journey.score_one` (no pandas) gives exactly what `scoring.score_registered` gives, row by row, on a
    scorecard with numerical, categorical, boolean and missing inputs."""
    import numpy as np
    import pandas as pd

    from puhui.decisioning.facts import facts_from_row
    from puhui.decisioning.scoring import score_registered
    from puhui.models.scorecard import Scorecard

    u = kit.universe()
    rows = list(u.rows.values())
    feats = ["reg_age_months", "bur_worst_dpd_12m", "reg_capital", "tax_grade", "reg_industry_section",
             "reg_is_manufacturer", "tax_sales_12m"]  # fmt: skip
    df = pd.DataFrame([{f: r[f] for f in feats} for r in rows])
    for f in ("reg_age_months", "bur_worst_dpd_12m", "reg_capital", "tax_sales_12m", "reg_is_manufacturer"):
        df[f] = pd.to_numeric(df[f].astype(object), errors="coerce").astype("float64")
    rng = np.random.default_rng(5)
    y = ((df["reg_age_months"] < 60) & (rng.random(len(df)) < 0.5)) | (rng.random(len(df)) < 0.1)
    card = Scorecard.fit(df, y.to_numpy().astype(int), features=feats,
                         kinds={f: ("categorical" if f in ("tax_grade", "reg_industry_section") else "numerical")
                                for f in feats})  # fmt: skip
    assert {"tax_grade", "reg_industry_section"} & set(card.features)  # the categorical path is exercised

    class Reg:  # the registry entry's shape: name, version, load()
        name, version = "sme_pd", "sme_pd-test"

        def __init__(self, model: object) -> None:
            self.model = model

        def load(self) -> object:
            return self.model

    facts = [facts_from_row(r, AS_OF) for r in rows]
    for model in (card, u.card):
        slow = score_registered(Reg(model), facts)
        for f, want in zip(facts, slow, strict=True):
            got = journey.score_one(Reg(model), f)
            assert got.score == pytest.approx(want.score, abs=1e-9) and got.pd == pytest.approx(want.pd, rel=1e-12)
            assert got.reasons == want.reasons, f.uscc


def test_concurrent_accepts_open_one_line(db: Engine, online) -> None:
    """Two acceptances of the same application at once (different keys): one line, the other refused."""
    from concurrent.futures import ThreadPoolExecutor

    from puhui.core.errors import PuhuiError

    uscc = kit.universe().pick("approve")[0]
    kit.grant(db, uscc)
    aid = _apply(db, online, uscc, "150000").body["application_id"]

    def go(key: str) -> str:
        try:
            return journey.accept(db, aid, "法定代表人", key, actor="borrower:web").body["status"]
        except PuhuiError as e:
            return e.code

    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(go, ["k1", "k2"]))
    assert got.count("accepted") == 1, got
    other = next(g for g in got if g != "accepted")
    assert other in ("accept_in_progress", "already_accepted", "store_busy"), got
    c = kit.counts(db)
    assert (c["loan_contracts"], c["credit_lines"]) == (1, 1)
