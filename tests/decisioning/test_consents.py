"""Consents per purpose: grant, list, revoke, check (missing before expired); bad input writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.decisioning.consents import check_consents, do_grant_consents, do_revoke_consent, list_consents
from puhui.store.db import transaction
from tests.decisioning._journey_kit import counts

USCC = "91110108551385082Q"  # cn_domain §2.1 test vector
RIC = "11010519491231002X"  # GB 11643-1999 example number (check character X)


def _grant(engine: Engine, *, purposes: tuple[str, ...] = ("tax_data", "credit_bureau"), on: date = date(2026, 6, 1),
           expires_on: date = date(2026, 12, 31), key: str | None = None, **kw: object):  # fmt: skip
    return do_grant_consents(
        engine,
        uscc=USCC,
        purposes=purposes,
        granted_by="法定代表人 王五",
        expires_on=expires_on,
        on=on,
        actor="borrower:web",
        idempotency_key=key,
        **kw,
    )  # type: ignore[arg-type]


def test_grant_list_and_mask(db_engine: Engine) -> None:
    posted = _grant(db_engine, signer_id_number=RIC, evidence_text="本人同意贵行查询税务及征信数据")
    assert posted.status == 201
    rows = posted.body["consents"]
    assert [r["purpose"] for r in rows] == ["tax_data", "credit_bureau"]
    assert rows[0]["signer_id_number"] == "110105********002X"  # 前6后4, never the whole number
    assert RIC not in str(posted.body)
    assert rows[0]["evidence_sha256"] == rows[1]["evidence_sha256"] and len(rows[0]["evidence_sha256"]) == 64
    assert set(rows[1]["sources"]) == {"bureau_enterprise_accounts", "bureau_enterprise_queries",
                                       "bureau_enterprise_guarantees"}  # fmt: skip
    listed = list_consents(db_engine, USCC, on=date(2026, 7, 1))
    assert listed["live_purposes"] == ["credit_bureau", "tax_data"]
    assert {c["status"] for c in listed["consents"]} == {"active"}
    later = list_consents(db_engine, USCC, on=date(2027, 1, 1))  # the day after expires_on
    assert later["live_purposes"] == [] and {c["status"] for c in later["consents"]} == {"expired"}


def test_check_missing_expired_and_renewed(db_engine: Engine) -> None:
    _grant(db_engine, purposes=("tax_data",), expires_on=date(2026, 6, 15))
    with transaction(db_engine, write=False) as s:
        with pytest.raises(PolicyViolation) as e:
            check_consents(s, USCC, ("tax_data", "credit_bureau"), date(2026, 6, 30))
        assert e.value.code == "consent_missing" and e.value.details["missing"] == ["credit_bureau"]
        assert e.value.details["expired"] == ["tax_data"]
        with pytest.raises(PolicyViolation) as e:
            check_consents(s, USCC, ("tax_data",), date(2026, 6, 16))
        assert e.value.code == "consent_expired" and e.value.http_status == 422
        assert check_consents(s, USCC, ("tax_data",), date(2026, 6, 15)) == ("tax_data",)  # inclusive
    _grant(db_engine, purposes=("tax_data",), on=date(2026, 6, 20), expires_on=date(2027, 6, 19))
    with transaction(db_engine, write=False) as s:
        assert check_consents(s, USCC, ("tax_data",), date(2026, 6, 30)) == ("tax_data",)


def test_revoke(db_engine: Engine) -> None:
    rows = _grant(db_engine).body["consents"]
    bureau = next(r for r in rows if r["purpose"] == "credit_bureau")
    out = do_revoke_consent(
        db_engine, bureau["consent_id"], on=date(2026, 6, 5), reason="客户撤回", actor="borrower:web"
    )
    assert out.body["status"] == "revoked" and out.body["revoked_at"]
    with transaction(db_engine, write=False) as s, pytest.raises(PolicyViolation) as e:
        check_consents(s, USCC, ("tax_data", "credit_bureau"), date(2026, 6, 10))
    assert e.value.code == "consent_missing" and e.value.details["missing"] == ["credit_bureau"]
    before = counts(db_engine)
    with pytest.raises(Conflict) as c:
        do_revoke_consent(db_engine, bureau["consent_id"], on=date(2026, 6, 5), reason="again", actor="borrower:web")
    assert c.value.code == "consent_already_revoked"
    assert counts(db_engine) == before


def test_replay_with_key_writes_once(db_engine: Engine) -> None:
    first = _grant(db_engine, key="consent-1")
    n = counts(db_engine)
    again = _grant(db_engine, key="consent-1")
    assert again.replayed and again.body == first.body
    assert counts(db_engine) == n and n["consents"] == 2


BAD = [
    ({"uscc": "91110108551385082X"}, ValidationError, "uscc_check"),
    ({"purposes": ("tax_data", "horoscope")}, ValidationError, "unknown_purpose"),
    ({"purposes": ()}, ValidationError, "purposes_required"),
    ({"expires_on": date(2026, 5, 1)}, ValidationError, "consent_expiry_invalid"),
    ({"expires_on": date(2031, 1, 1)}, ValidationError, "consent_expiry_invalid"),
    ({"signer_id_number": "110105194912310021"}, ValidationError, "ric_check"),
]


def test_bad_input_writes_nothing(db_engine: Engine) -> None:
    _grant(db_engine)  # something there already, so "unchanged" is not "empty"
    before = counts(db_engine)
    for kw, error, code in BAD:
        args = {"uscc": USCC, "purposes": ("tax_data",), "granted_by": "法定代表人", "expires_on": date(2026, 12, 31),
                "on": date(2026, 6, 1), "actor": "borrower:web", **kw}  # fmt: skip
        with pytest.raises(error) as e:
            do_grant_consents(db_engine, **args)
        assert e.value.code == code, kw
        assert counts(db_engine) == before, kw
