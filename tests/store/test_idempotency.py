"""The idempotency contract of every posting endpoint, including concurrent duplicates on both engines.

Status codes follow draft-ietf-httpapi-idempotency-key-header §2.7: a request while the first is still
processed → 409 Conflict; the same key with a different payload → 422 Unprocessable Content.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from puhui.core.errors import Conflict, ValidationError
from puhui.store import audit, transaction, utcnow
from puhui.store.audit import AuditEntry
from puhui.store.idempotency import (
    DONE,
    IN_FLIGHT,
    IdempotencyKey,
    StoredResponse,
    claim,
    complete,
    fingerprint,
    purge,
    release,
)

SCOPE = "partner:tax-portal:POST /v1/drawdowns"
THREADS = 8


def test_first_claim_proceeds_then_replays_the_stored_response(db_engine: Engine) -> None:
    fp = fingerprint("POST", "/v1/drawdowns", {"amount": "1000.00"})
    assert claim(db_engine, SCOPE, "k-1", fp) is None
    complete(db_engine, SCOPE, "k-1", status=201, body={"loan_id": 9, "amount": Decimal("1000.00")})
    replay = claim(db_engine, SCOPE, "k-1", fp)
    assert replay == StoredResponse(status=201, body={"loan_id": 9, "amount": "1000.00"})
    assert claim(db_engine, SCOPE, "k-1", fp) == replay  # and again, unchanged
    with transaction(db_engine, write=False) as s:
        row = s.scalars(select(IdempotencyKey)).one()
    assert (row.state, row.response_status, row.request_fingerprint) == (DONE, 201, fp)
    assert row.updated_at >= row.created_at


def test_in_flight_is_409_and_reuse_with_another_request_is_422(db_engine: Engine) -> None:
    assert claim(db_engine, SCOPE, "k-2", "fp-a") is None
    with pytest.raises(Conflict) as busy:
        claim(db_engine, SCOPE, "k-2", "fp-a")
    assert (busy.value.code, busy.value.http_status) == ("idempotency_in_flight", 409)
    with pytest.raises(ValidationError) as reused:
        claim(db_engine, SCOPE, "k-2", "fp-b")
    assert (reused.value.code, reused.value.http_status) == ("idempotency_key_reused", 422)
    complete(db_engine, SCOPE, "k-2", status=200, body=None)
    with pytest.raises(ValidationError, match="different request"):
        claim(db_engine, SCOPE, "k-2", "fp-b")


def test_scopes_keep_keys_apart(db_engine: Engine) -> None:
    assert claim(db_engine, "partner:a", "same-key", "fp") is None
    assert claim(db_engine, "partner:b", "same-key", "other-fp") is None


def test_release_lets_the_client_retry_and_complete_needs_a_claim(db_engine: Engine) -> None:
    assert claim(db_engine, SCOPE, "k-3", "fp") is None
    assert release(db_engine, SCOPE, "k-3") is True
    assert release(db_engine, SCOPE, "k-3") is False
    with pytest.raises(Conflict) as err:
        complete(db_engine, SCOPE, "k-3", status=201, body={})
    assert err.value.code == "idempotency_not_claimed"
    assert claim(db_engine, SCOPE, "k-3", "fp") is None
    complete(db_engine, SCOPE, "k-3", status=201, body={})
    with pytest.raises(Conflict):
        complete(db_engine, SCOPE, "k-3", status=201, body={})  # a done key cannot be completed twice
    assert release(db_engine, SCOPE, "k-3") is False  # nor released


def test_a_stale_claim_can_be_taken_over(db_engine: Engine) -> None:
    assert claim(db_engine, SCOPE, "k-4", "fp") is None
    with pytest.raises(Conflict):
        claim(db_engine, SCOPE, "k-4", "fp", stale_after=timedelta(minutes=5))
    with transaction(db_engine) as s:
        s.scalars(select(IdempotencyKey)).one().updated_at = utcnow() - timedelta(minutes=10)
    assert claim(db_engine, SCOPE, "k-4", "fp", stale_after=timedelta(minutes=5)) is None
    with pytest.raises(Conflict):  # taken over means in flight again, freshly
        claim(db_engine, SCOPE, "k-4", "fp", stale_after=timedelta(minutes=5))


def test_purge_removes_only_old_completed_keys(db_engine: Engine) -> None:
    for k in ("old", "new", "running"):
        claim(db_engine, SCOPE, k, "fp")
    complete(db_engine, SCOPE, "old", status=200, body={})
    complete(db_engine, SCOPE, "new", status=200, body={})
    with transaction(db_engine) as s:
        s.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "old")).one().updated_at = utcnow() - timedelta(
            days=2
        )
    assert purge(db_engine, older_than=utcnow() - timedelta(days=1)) == 1
    with transaction(db_engine, write=False) as s:
        assert sorted(s.scalars(select(IdempotencyKey.key))) == ["new", "running"]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey"])
def test_malformed_keys_are_refused(db_engine: Engine, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        claim(db_engine, SCOPE, key, "fp")
    assert err.value.code == "idempotency_key_invalid"


def test_fingerprint_is_canonical_json_sha256() -> None:
    # Golden value computed independently: sha256 of the canonical text written out by hand.
    canonical = '["POST","/v1/drawdowns",{"amount":"1000.00","line_id":7}]'
    assert fingerprint("POST", "/v1/drawdowns", {"line_id": 7, "amount": Decimal("1000.00")}) == (
        hashlib.sha256(canonical.encode()).hexdigest()
    )
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"amount": "2.00"}) != fingerprint({"amount": "2.0"})


def _race(work) -> list[object]:
    barrier = threading.Barrier(THREADS)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            out: object = work()
        except Exception as e:  # collected: the outcomes are the assertion
            out = e
        with lock:
            results.append(out)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_two_phase_claims_admit_exactly_one(db_engine: Engine) -> None:
    results = _race(lambda: claim(db_engine, SCOPE, "race", "fp"))
    owners = [r for r in results if r is None]
    busy = [r for r in results if isinstance(r, Conflict) and r.code == "idempotency_in_flight"]
    assert (len(owners), len(busy)) == (1, THREADS - 1), results
    complete(db_engine, SCOPE, "race", status=201, body={"ok": True})
    assert _race(lambda: claim(db_engine, SCOPE, "race", "fp")) == [StoredResponse(201, {"ok": True})] * THREADS


def test_concurrent_duplicates_in_one_transaction_post_once_and_replay(db_engine: Engine) -> None:
    """The posting pattern: claim, post, audit and complete in one transaction; duplicates wait and replay."""
    executed = []

    def post() -> StoredResponse:
        with transaction(db_engine) as s:
            replay = claim(s, SCOPE, "drawdown-1", "fp")
            if replay is not None:
                return replay
            executed.append(1)
            audit.record(
                s,
                actor="partner:tax-portal",
                action="drawdown",
                entity="credit_line",
                entity_id=1,
                payload={"amount": Decimal("100.00")},
            )
            body = {"loan_id": 1, "amount": Decimal("100.00")}
            complete(s, SCOPE, "drawdown-1", status=201, body=body)
            return StoredResponse(201, body)

    results = _race(post)
    assert len(executed) == 1
    # The owner answers with its own body; every duplicate gets the stored (JSON) copy of it.
    owner = {"loan_id": 1, "amount": Decimal("100.00")}
    stored = StoredResponse(201, {"loan_id": 1, "amount": "100.00"})
    assert [r for r in results if r != stored] == [StoredResponse(201, owner)]
    with transaction(db_engine, write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 1
        assert s.scalars(select(IdempotencyKey.state)).one() == DONE


def test_a_failed_posting_leaves_no_claim_behind(db_engine: Engine) -> None:
    with pytest.raises(ValueError, match="over limit"), transaction(db_engine) as s:
        assert claim(s, SCOPE, "k-5", "fp") is None
        raise ValueError("over limit")
    assert claim(db_engine, SCOPE, "k-5", "fp") is None  # the retry proceeds
    with transaction(db_engine, write=False) as s:
        assert s.scalars(select(IdempotencyKey.state)).one() == IN_FLIGHT
