"""The review queue (人工审查): referred applications worked by credit officers.

An application the engine refers opens a case (`open`). An officer takes it (`assign`: the case becomes
`assigned` to that officer; only the current assignee may hand an assigned case to someone else), then
either **approves** it with a reason — optionally at a *lower* limit, never above the provisional offer the
policy computed (422 `limit_above_offer`; no provisional offer → 409 `no_offer_to_approve`) — which writes
an open offer valid for the scenario's offer validity from the day of approval and makes the application
`approved` (the borrower accepts it as any approval), or **declines** it with a reason (application
`declined`). Approve and decline are for the assignee only (403 `not_assignee`); a closed case answers 409
`case_closed`. The engine's decision record is immutable and keeps its `refer`; the officer's decision is
the case row and its audit entry (who, when, why, which limit). Each action is one transaction with its
audit row, optionally behind an Idempotency-Key.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, Forbidden, NotFound, PolicyViolation, ValidationError
from puhui.decisioning.journey import plain
from puhui.decisioning.store import REVIEW_STATUSES, ApplicationRow, DecisionRow, ReviewCaseRow
from puhui.store import audit, idempotency
from puhui.store.db import get_for_update, transaction
from puhui.store.idempotency import Posted
from puhui.store.types import utcnow

__all__ = ["do_approve_case", "do_assign_case", "do_decline_case", "get_case", "list_cases"]


def _case_json(s: Session, case: ReviewCaseRow) -> dict[str, Any]:
    app = s.get(ApplicationRow, case.application_id)
    d = None if app is None or app.decision_id is None else s.get(DecisionRow, app.decision_id)
    return plain({
        "case_id": case.id, "application_id": case.application_id, "status": case.status,
        "assignee": case.assignee, "referral_reasons": case.reason, "note": case.note,
        "decided_by": case.decided_by, "decided_at": None if case.decided_at is None else case.decided_at.isoformat(),
        "created_at": case.created_at.isoformat(),
        "application": None if app is None else {
            "uscc": app.uscc, "scenario_id": app.scenario_id, "status": app.status,
            "requested_amount": None if app.requested_amount is None else str(app.requested_amount),
            "offer_id": app.offer_id},
        "decision": None if d is None else {
            "decision_id": d.id, "outcome": d.outcome, "grade": d.grade, "pd": d.pd, "reasons": d.reasons,
            "provisional_offer": d.offer},
    })  # fmt: skip


def list_cases(engine: Engine, *, status: str | None = None, assignee: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
    """Cases oldest first (a queue), by status (default: open and assigned) and assignee."""
    if status is not None and status not in REVIEW_STATUSES:
        raise ValidationError(f"status must be one of {REVIEW_STATUSES}", code="invalid_status", field="status")
    with transaction(engine, write=False) as s:
        stmt = select(ReviewCaseRow).order_by(ReviewCaseRow.id).limit(max(1, min(int(limit), 1000)))
        stmt = stmt.where(ReviewCaseRow.status == status) if status else \
            stmt.where(ReviewCaseRow.status.in_(("open", "assigned")))  # fmt: skip
        if assignee:
            stmt = stmt.where(ReviewCaseRow.assignee == assignee)
        return [_case_json(s, c) for c in s.scalars(stmt)]


def get_case(engine: Engine, case_id: int) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        case = s.get(ReviewCaseRow, case_id)
        if case is None:
            raise NotFound(f"review case {case_id} does not exist", code="case_not_found", case_id=case_id)
        return _case_json(s, case)


def _lock(s: Session, case_id: int) -> ReviewCaseRow:
    try:
        case = get_for_update(s, ReviewCaseRow, case_id)
    except NotFound:
        raise NotFound(f"review case {case_id} does not exist", code="case_not_found", case_id=case_id) from None
    if case.status in ("approved", "declined"):
        raise Conflict(f"review case {case_id} is already {case.status}", code="case_closed", case_id=case_id,
                       status=case.status)  # fmt: skip
    return case


def _officer(officer: str, field: str) -> str:
    if not isinstance(officer, str) or not officer.strip() or len(officer) > 128:
        raise ValidationError(f"{field} must be 1–128 characters", code="invalid_officer", field=field)
    return officer.strip()


def _reason(reason: str | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("an officer's decision needs a reason", code="reason_required", field="reason")
    if len(reason) > 2000:
        raise ValidationError("reason is at most 2000 characters", code="reason_too_long", field="reason")
    return reason.strip()


def _must_be_assignee(case: ReviewCaseRow, actor: str) -> None:
    if case.status != "assigned" or case.assignee != actor:
        held = f"assigned to {case.assignee}" if case.assignee else "not assigned"
        raise Forbidden(f"review case {case.id} is {held}; only its assignee may decide it", code="not_assignee",
                        case_id=case.id,
                        assignee=case.assignee)  # fmt: skip


def _run(engine: Engine, actor: str, action: str, key: str | None, request: dict[str, Any], work: Any) -> Posted:
    return idempotency.run_once(engine, scope=f"{actor}:decisioning.review.{action}"[:200], action=action, key=key,
                                request=request, status=200, work=work)  # fmt: skip


def do_assign_case(engine: Engine, case_id: int, *, assignee: str, actor: str, on: date | str,
                   idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """分案: give an open case to `assignee` (or, by its assignee, hand an assigned case over)."""
    who = _officer(assignee, "assignee")
    day = parse_date(on, field="on")

    def work(s: Session) -> dict[str, Any]:
        case = _lock(s, case_id)
        if case.status == "assigned" and case.assignee != actor:
            raise Forbidden(f"review case {case_id} is assigned to {case.assignee}; only they may hand it over",
                            code="not_assignee", case_id=case_id, assignee=case.assignee)  # fmt: skip
        before = case.assignee
        case.status, case.assignee = "assigned", who
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="assign_case",
            entity="review_case",
            entity_id=case.id,
            payload={"from": before, "to": who},
            business_date=day,
        )
        return _case_json(s, case)

    return _run(engine, actor, "assign", idempotency_key, {"case_id": case_id, "assignee": who}, work)


def do_approve_case(engine: Engine, case_id: int, *, actor: str, reason: str, on: date | str,
                    limit: Decimal | str | int | None = None,
                    idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """核准: the assignee approves, at the provisional limit or lower; an offer is written for the borrower."""
    from puhui.decisioning.journey import new_offer
    from puhui.lending.contracts import parse_amount

    why = _reason(reason)
    day = parse_date(on, field="on")
    wanted = None if limit is None else parse_amount(limit, "limit")

    def work(s: Session) -> dict[str, Any]:
        case = _lock(s, case_id)
        _must_be_assignee(case, actor)
        app = get_for_update(s, ApplicationRow, case.application_id)
        d = s.get(DecisionRow, app.decision_id) if app.decision_id is not None else None
        if d is None or not d.offer:
            raise Conflict(f"the decision behind case {case_id} computed no offer (e.g. no model score): it cannot "
                           "be approved here; decline it or have the application decided again",
                           code="no_offer_to_approve", case_id=case_id)  # fmt: skip
        policy_limit = Decimal(str(d.offer["limit"]))
        requested = app.requested_amount if app.requested_amount is not None else policy_limit
        amount = wanted if wanted is not None else min(requested, policy_limit)
        if amount > policy_limit:
            raise PolicyViolation(f"the officer may lower the limit, never raise it: {amount} is above the "
                                  f"{policy_limit} the policy computed", code="limit_above_offer",
                                  field="limit", policy_limit=str(policy_limit))  # fmt: skip
        validity = date.fromisoformat(d.offer["expires_on"]) - d.as_of
        offer = new_offer(s, uscc=app.uscc, scenario_id=app.scenario_id, decision_id=d.id, offer=d.offer,
                          limit=amount, as_of=day, expires_on=day + max(validity, timedelta(days=1)))  # fmt: skip
        app.status, app.offer_id, app.expires_on, app.decided_at = "approved", offer.id, offer.expires_on, utcnow()
        case.status, case.decided_by, case.decided_at, case.note = "approved", actor, utcnow(), why
        s.flush()
        audit.record(s, actor=actor, action="approve_case", entity="review_case", entity_id=case.id,
                     payload={"application_id": app.id, "limit": str(amount), "policy_limit": str(policy_limit),
                              "reason": why, "offer_id": offer.id}, business_date=day)  # fmt: skip
        out = _case_json(s, case)
        out["offer"] = {"offer_id": offer.id, "limit": str(offer.limit), "expires_on": offer.expires_on.isoformat()}
        return out

    request = {"case_id": case_id, "reason": why, "limit": None if wanted is None else str(wanted)}
    return _run(engine, actor, "approve", idempotency_key, request, work)


def do_decline_case(engine: Engine, case_id: int, *, actor: str, reason: str, on: date | str,
                    idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """否决: the assignee declines; the application is declined with the officer's reason."""
    why = _reason(reason)
    day = parse_date(on, field="on")

    def work(s: Session) -> dict[str, Any]:
        case = _lock(s, case_id)
        _must_be_assignee(case, actor)
        app = get_for_update(s, ApplicationRow, case.application_id)
        app.status, app.decided_at = "declined", utcnow()
        case.status, case.decided_by, case.decided_at, case.note = "declined", actor, utcnow(), why
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="decline_case",
            entity="review_case",
            entity_id=case.id,
            payload={"application_id": app.id, "reason": why},
            business_date=day,
        )
        return _case_json(s, case)

    return _run(engine, actor, "decline", idempotency_key, {"case_id": case_id, "reason": why}, work)
