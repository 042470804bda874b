"""Consents (数据使用授权): an enterprise's consent to each purpose of data use, with expiry and revocation.

个人信息保护法 Art 13/14/29 and 征信业管理条例 Art 18 require consent **per purpose** before the bank pulls
data (a tax-bureau query, an enterprise credit report …). One `consents` row is one purpose granted by
one signer until `expires_on` (inclusive), unless revoked earlier; the evidence (the authorisation text
shown and the signer's identity) is kept as a SHA-256 (`evidence_sha256`), never the ID number itself, and
responses show an ID number only masked (前6后4). Granting again for a purpose adds a new row (the latest
live one counts); revoking sets `revoked_at` and is audited.

`check_consents(session, uscc, purposes, on)` is what a decision calls before any data pull: the live
consents of the enterprise on `on` for every purpose needed, or a 422 — `consent_missing` (never granted
or revoked) before `consent_expired` (granted, but every grant has expired), each naming the purposes.
The purposes a scenario needs are `Scenario.consent_purposes` (every data source it reads: `required` in a
scenario says whether the enterprise must *have* data there, not whether the bank may look). A soft
estimate (在线测额) needs the same purposes except the credit-bureau ones (`BUREAU_PURPOSES`), since it
makes no bureau query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound, PolicyViolation, ValidationError
from puhui.core.identifiers import mask_ric, validate_ric, validate_uscc
from puhui.decisioning.scenario import CONSENT_PURPOSES, SOURCE_PURPOSES
from puhui.decisioning.store import ConsentRow
from puhui.store import audit, idempotency
from puhui.store.db import get_for_update, transaction
from puhui.store.idempotency import Posted
from puhui.store.types import utcnow

__all__ = [
    "BUREAU_PURPOSES",
    "MAX_VALIDITY_DAYS",
    "check_consents",
    "do_grant_consents",
    "do_revoke_consent",
    "list_consents",
    "live_purposes",
]

BUREAU_PURPOSES: frozenset[str] = frozenset({"credit_bureau", "personal_credit"})
"""Purposes that pull a credit report (a hard query that stays on the report): not needed for an estimate."""

MAX_VALIDITY_DAYS = 3 * 366
"""Longest consent the bank accepts in one grant (bank policy: re-consent at least every three years)."""


def _evidence(uscc: str, purposes: Sequence[str], granted_by: str, id_number: str | None, text: str | None,
              expires_on: date, at: datetime) -> str:  # fmt: skip
    doc = {"uscc": uscc, "purposes": sorted(purposes), "granted_by": granted_by, "id_number": id_number,
           "text_sha256": None if text is None else hashlib.sha256(text.encode()).hexdigest(),
           "expires_on": expires_on.isoformat(), "granted_at": at.isoformat()}  # fmt: skip
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _status(row: ConsentRow, on: date) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if on > row.expires_on else "active"


def _json(row: ConsentRow, on: date, *, signer_masked: str | None = None) -> dict[str, Any]:
    out = {"consent_id": row.id, "uscc": row.uscc, "purpose": row.purpose,
           "purpose_zh": CONSENT_PURPOSES.get(row.purpose, ("", ""))[0], "sources": list(row.sources or []),
           "granted_by": row.granted_by, "granted_at": row.granted_at.isoformat(),
           "expires_on": row.expires_on.isoformat(),
           "revoked_at": None if row.revoked_at is None else row.revoked_at.isoformat(),
           "evidence_sha256": row.evidence_sha256, "status": _status(row, on)}  # fmt: skip
    if signer_masked is not None:
        out["signer_id_number"] = signer_masked
    return out


def _purposes(purposes: Iterable[str] | None, scenario_purposes: Sequence[str] | None) -> list[str]:
    wanted = list(dict.fromkeys([*(purposes or ()), *(scenario_purposes or ())]))
    if not wanted:
        raise ValidationError("name the purposes consented to (or the scenario whose purposes they are)",
                              code="purposes_required", field="purposes")  # fmt: skip
    unknown = [p for p in wanted if p not in CONSENT_PURPOSES]
    if unknown:
        raise ValidationError(f"unknown consent purposes {unknown}; known: {', '.join(CONSENT_PURPOSES)}",
                              code="unknown_purpose", field="purposes", unknown=unknown)  # fmt: skip
    return wanted


def do_grant_consents(engine: Engine, *, uscc: str, purposes: Iterable[str] | None = None,
                      scenario_purposes: Sequence[str] | None = None, granted_by: str, expires_on: date | str,
                      on: date | str, signer_id_number: str | None = None, evidence_text: str | None = None,
                      actor: str = "system", idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """授权: one consent row per purpose (explicit `purposes` and/or those a scenario needs), all in one
    transaction with their audit rows. 201 with the rows; `signer_id_number` is validated, hashed into the
    evidence and answered masked."""
    code = validate_uscc(uscc)
    wanted = _purposes(purposes, scenario_purposes)
    day = parse_date(on, field="on")
    until = parse_date(expires_on, field="expires_on")
    if until < day:
        raise ValidationError(f"expires_on {until} is before the date of the grant {day}",
                              code="consent_expiry_invalid", field="expires_on")  # fmt: skip
    if (until - day).days > MAX_VALIDITY_DAYS:
        raise ValidationError(f"a consent may last at most {MAX_VALIDITY_DAYS} days; {until} is "
                              f"{(until - day).days} days after {day}", code="consent_expiry_invalid",
                              field="expires_on")  # fmt: skip
    if not isinstance(granted_by, str) or not granted_by.strip() or len(granted_by) > 128:
        raise ValidationError("granted_by must be 1–128 characters (the signer's name or role)",
                              code="invalid_granted_by", field="granted_by")  # fmt: skip
    ric = None if signer_id_number is None else validate_ric(signer_id_number, today=day)
    masked = None if ric is None else mask_ric(ric)
    sources_of = {p: sorted(s for s, q in SOURCE_PURPOSES.items() if q == p) for p in wanted}

    def work(s: Session) -> dict[str, Any]:
        at = utcnow()
        evidence = _evidence(code, wanted, granted_by, ric, evidence_text, until, at)
        rows = []
        for p in wanted:
            row = ConsentRow(
                uscc=code,
                purpose=p,
                sources=sources_of[p],
                granted_by=granted_by.strip(),
                granted_at=at,
                expires_on=until,
                evidence_sha256=evidence,
                created_at=at,
            )
            s.add(row)
            rows.append(row)
        s.flush()
        for row in rows:
            audit.record(s, actor=actor, action="grant_consent", entity="consent", entity_id=row.id,
                         payload={"uscc": code, "purpose": row.purpose, "expires_on": until.isoformat(),
                                  "evidence_sha256": evidence}, business_date=day)  # fmt: skip
        return {"uscc": code, "consents": [_json(r, day, signer_masked=masked) for r in rows]}

    request = {"uscc": code, "purposes": wanted, "granted_by": granted_by, "expires_on": until.isoformat(),
               "on": day.isoformat(), "signer": None if ric is None else hashlib.sha256(ric.encode()).hexdigest(),
               "evidence_text_sha256": None if evidence_text is None
               else hashlib.sha256(evidence_text.encode()).hexdigest()}  # fmt: skip
    return idempotency.run_once(engine, scope=f"{actor}:decisioning.consent"[:200], action="grant_consents",
                                key=idempotency_key, request=request, status=201, work=work)  # fmt: skip


def do_revoke_consent(engine: Engine, consent_id: int, *, on: date | str, reason: str, actor: str = "system",
                      idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """撤回授权: the consent stops counting at once (PIPL Art 15); decisions already made stand. 200."""
    day = parse_date(on, field="on")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("a revocation needs a reason", code="reason_required", field="reason")

    def work(s: Session) -> dict[str, Any]:
        try:
            row = get_for_update(s, ConsentRow, consent_id)
        except NotFound:
            raise NotFound(f"consent {consent_id} does not exist", code="consent_not_found",
                           consent_id=consent_id) from None  # fmt: skip
        if row.revoked_at is not None:
            raise Conflict(f"consent {consent_id} was already revoked on {row.revoked_at.isoformat()}",
                           code="consent_already_revoked", consent_id=consent_id)  # fmt: skip
        row.revoked_at = utcnow()
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="revoke_consent",
            entity="consent",
            entity_id=row.id,
            payload={"uscc": row.uscc, "purpose": row.purpose, "reason": reason},
            business_date=day,
        )
        return _json(row, day)

    return idempotency.run_once(engine, scope=f"{actor}:decisioning.consent"[:200], action="revoke_consent",
                                key=idempotency_key, request={"consent_id": consent_id, "reason": reason},
                                status=200, work=work)  # fmt: skip


def list_consents(engine: Engine, uscc: str, *, on: date | str) -> dict[str, Any]:
    """Every consent of an enterprise (newest first) with its status on `on`, and the live purposes."""
    code = validate_uscc(uscc)
    day = parse_date(on, field="on")
    with transaction(engine, write=False) as s:
        rows = list(s.scalars(select(ConsentRow).where(ConsentRow.uscc == code).order_by(ConsentRow.id.desc())))
        items = [_json(r, day) for r in rows]
    return {
        "uscc": code,
        "on": day.isoformat(),
        "consents": items,
        "live_purposes": sorted({i["purpose"] for i in items if i["status"] == "active"}),
    }


def live_purposes(s: Session, uscc: str, on: date) -> dict[str, str]:
    """Purpose → `active` | `expired` (revoked grants are left out: they count as never granted)."""
    rows = s.execute(
        select(ConsentRow.purpose, ConsentRow.expires_on).where(
            ConsentRow.uscc == uscc, ConsentRow.revoked_at.is_(None)
        )
    ).all()
    out: dict[str, str] = {}
    for purpose, until in rows:
        if on <= until:
            out[purpose] = "active"
        else:
            out.setdefault(purpose, "expired")
    return out


def check_consents(s: Session, uscc: str, purposes: Sequence[str], on: date) -> tuple[str, ...]:
    """The purposes needed, if each has a live consent on `on`; else 422 `consent_missing` / `consent_expired`."""
    state = live_purposes(s, uscc, on)
    missing = [p for p in purposes if p not in state]
    expired = [p for p in purposes if state.get(p) == "expired"]
    if missing:
        raise PolicyViolation(f"no consent of {uscc} for {', '.join(missing)} "
                              f"({'、'.join(CONSENT_PURPOSES[p][0] for p in missing)}): grant it first",
                              code="consent_missing", uscc=uscc, missing=missing, expired=expired)  # fmt: skip
    if expired:
        raise PolicyViolation(f"the consent of {uscc} for {', '.join(expired)} expired before {on}: renew it",
                              code="consent_expired", uscc=uscc, expired=expired)  # fmt: skip
    return tuple(sorted(purposes))
