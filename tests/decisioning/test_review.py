"""The review queue: a referred application is assigned, then approved (never above the policy's offer)
or declined, by its assignee only; every action is audited; refused actions write nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from puhui.core.errors import Conflict, Forbidden, PolicyViolation, ValidationError
from puhui.decisioning import journey, review
from puhui.store.audit import AuditEntry
from puhui.store.db import transaction
from tests.decisioning import _journey_kit as kit

AS_OF = kit.AS_OF


@pytest.fixture(scope="module")
def online():
    e = kit.online_engine()
    yield e
    e.close()


def _referred(db: Engine, online, n: int = 1) -> list[dict]:
    out = []
    for uscc in kit.universe().pick("refer", n):
        kit.grant(db, uscc)
        out.append(journey.apply(db, online, uscc, kit.SCENARIO_ID, "5000000", AS_OF, "borrower:web",
                                 f"apply-{uscc}").body)  # fmt: skip
    return out


def _audit(db: Engine, case_id: int) -> list[tuple[str, str]]:
    with transaction(db, write=False) as s:
        return [
            (a.action, a.actor)
            for a in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "review_case", AuditEntry.entity_id == str(case_id))
                .order_by(AuditEntry.id)
            )
        ]


def test_assign_approve_lower_and_accept(db_engine: Engine, online) -> None:
    kit.setup_db(db_engine)
    app = _referred(db_engine, online)[0]
    provisional = Decimal(app["decision"]["policy_offer"]["limit"])
    queue = review.list_cases(db_engine)
    assert [c["case_id"] for c in queue] == [app["review_case"]["case_id"]]
    cid = queue[0]["case_id"]
    assert queue[0]["status"] == "open" and queue[0]["referral_reasons"] == "young_review"
    assert review.do_assign_case(db_engine, cid, assignee="officer:li", actor="lead:zhao",
                                 on=AS_OF).body["status"] == "assigned"  # fmt: skip
    before = kit.counts(db_engine)
    refused = [
        (lambda: review.do_approve_case(db_engine, cid, actor="officer:wang", reason="ok", on=AS_OF), Forbidden,
         "not_assignee"),
        (lambda: review.do_decline_case(db_engine, cid, actor="officer:wang", reason="no", on=AS_OF), Forbidden,
         "not_assignee"),
        (lambda: review.do_assign_case(db_engine, cid, assignee="officer:wang", actor="officer:wang", on=AS_OF),
         Forbidden, "not_assignee"),
        (lambda: review.do_approve_case(db_engine, cid, actor="officer:li", reason="ok", on=AS_OF,
                                        limit=provisional + Decimal("10000")), PolicyViolation, "limit_above_offer"),
        (lambda: review.do_approve_case(db_engine, cid, actor="officer:li", reason="  ", on=AS_OF), ValidationError,
         "reason_required"),
        (lambda: journey.accept(db_engine, app["application_id"], "法人", "early"), Conflict,
         "application_not_approved"),
    ]  # fmt: skip
    for call, error, code in refused:
        with pytest.raises(error) as e:
            call()
        assert e.value.code == code
        assert kit.counts(db_engine) == before, code
    lower = provisional - Decimal("10000")
    done = review.do_approve_case(db_engine, cid, actor="officer:li", reason="实地核实经营正常，审慎下调额度", on=AS_OF,
                                  limit=lower).body  # fmt: skip
    assert done["status"] == "approved" and done["decided_by"] == "officer:li"
    assert Decimal(done["offer"]["limit"]) == lower and done["offer"]["expires_on"] == "2026-07-30"
    with pytest.raises(Conflict) as e:
        review.do_decline_case(db_engine, cid, actor="officer:li", reason="changed my mind", on=AS_OF)
    assert e.value.code == "case_closed"
    assert _audit(db_engine, cid) == [("open_review_case", "borrower:web"), ("assign_case", "lead:zhao"),
                                      ("approve_case", "officer:li")]  # fmt: skip
    accepted = journey.accept(db_engine, app["application_id"], "法定代表人", "acc", actor="borrower:web").body
    assert accepted["status"] == "accepted" and Decimal(accepted["line"]["limit"]) == lower
    assert review.list_cases(db_engine) == []
    assert [c["case_id"] for c in review.list_cases(db_engine, status="approved")] == [cid]


def test_decline_and_handover(db_engine: Engine, online) -> None:
    kit.setup_db(db_engine)
    a, b = _referred(db_engine, online, 2)
    ca, cb = a["review_case"]["case_id"], b["review_case"]["case_id"]
    review.do_assign_case(db_engine, ca, assignee="officer:li", actor="officer:li", on=AS_OF)
    review.do_assign_case(db_engine, ca, assignee="officer:wang", actor="officer:li", on=AS_OF)  # hand over
    assert [c["case_id"] for c in review.list_cases(db_engine, assignee="officer:wang")] == [ca]
    out = review.do_decline_case(db_engine, ca, actor="officer:wang", reason="经营流水与申报不符", on=AS_OF).body
    assert out["status"] == "declined" and out["application"]["status"] == "declined"
    assert out["note"] == "经营流水与申报不符"
    assert _audit(db_engine, ca) == [("open_review_case", "borrower:web"), ("assign_case", "officer:li"),
                                     ("assign_case", "officer:li"), ("decline_case", "officer:wang")]  # fmt: skip
    before = kit.counts(db_engine)
    with pytest.raises(Forbidden) as e:  # approving an unassigned case: take it first
        review.do_approve_case(db_engine, cb, actor="officer:li", reason="ok", on=AS_OF)
    assert e.value.code == "not_assignee" and kit.counts(db_engine) == before
    with pytest.raises(Exception) as nf:
        review.do_assign_case(db_engine, 10**9, assignee="officer:li", actor="officer:li", on=AS_OF)
    assert getattr(nf.value, "code", None) == "case_not_found" and kit.counts(db_engine) == before
    # an approval without a limit offers min(requested, provisional)
    review.do_assign_case(db_engine, cb, assignee="officer:li", actor="officer:li", on=AS_OF)
    ok = review.do_approve_case(db_engine, cb, actor="officer:li", reason="核实无误", on=AS_OF).body
    assert Decimal(ok["offer"]["limit"]) == min(Decimal("5000000"), Decimal(b["decision"]["policy_offer"]["limit"]))
