"""Idempotency keys (幂等键): a request that moves money is executed once, however often it is sent.

Every posting endpoint takes an `Idempotency-Key` header (IETF draft-ietf-httpapi-idempotency-key-header;
Fineract and Mambu do the same) and follows one contract, backed by the `idempotency_keys` table whose
unique constraint on (scope, key) makes concurrent claims safe on both engines:

- `claim(target, scope, key, fingerprint)` → `None`: the caller owns the key and does the work;
  → `StoredResponse`: the same request already completed, answer with the stored response (a replay);
  raises `Conflict(code="idempotency_in_flight")` (HTTP 409) while the first request is still running;
  raises `ValidationError(code="idempotency_key_reused")` (HTTP 422) when the key comes back with a
  different request (another fingerprint), as the IETF draft prescribes.
- `complete(target, scope, key, status=…, body=…)` stores the response and marks the key done.
- `release(target, scope, key)` gives up an in-flight claim so the client may retry.

`scope` says whose key it is and for what (e.g. `"partner:tax-portal:POST /v1/drawdowns"`): the same key
from two clients never clashes. The fingerprint is a digest of the request (`fingerprint(...)`).

Two ways to use it. **One transaction (preferred, for work that is all in the database):** pass the
Session of the business transaction; the claim, the postings and `complete` commit or roll back together,
so a failed request leaves no key behind, and a concurrent duplicate waits for the first to finish
(PostgreSQL: on the unique index; SQLite: on BEGIN IMMEDIATE) and then gets the replay::

    with transaction(engine) as s:
        if (replay := claim(s, scope, key, fp)) is not None:
            return replay
        ...  # postings, audit.record(s, ...)
        complete(s, scope, key, status=201, body=body)

**Two phases (when the work calls outside the database, e.g. a payment rail):** pass the Engine; the
claim commits at once (state `in_flight`), duplicates meanwhile get 409, and `complete(engine, …)` or
`release(engine, …)` ends it. A claim left in flight by a crashed process can be taken over after
`stale_after`. Bodies are stored as JSON: pass what you would send (Decimals become strings).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, Engine, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from puhui.core.errors import Conflict, ValidationError
from puhui.store.base import Base, IdMixin, TimestampMixin
from puhui.store.db import transaction
from puhui.store.types import JSON_TYPE, json_default, json_dumps, json_loads, utcnow

__all__ = [
    "DONE",
    "IN_FLIGHT",
    "IdempotencyKey",
    "Posted",
    "StoredResponse",
    "claim",
    "complete",
    "fingerprint",
    "purge",
    "release",
    "run_once",
]

IN_FLIGHT = "in_flight"
DONE = "done"
MAX_KEY_LENGTH = 255
MAX_SCOPE_LENGTH = 200

Target = Session | Engine | sessionmaker[Session]


class IdempotencyKey(IdMixin, TimestampMixin, Base):
    """One claimed key: the request's fingerprint, its state and, once done, the response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint(f"state IN ('{IN_FLIGHT}', '{DONE}')", name="state"),
    )

    scope: Mapped[str] = mapped_column(String(MAX_SCOPE_LENGTH))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_fingerprint: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default=IN_FLIGHT)
    response_status: Mapped[int | None] = mapped_column(Integer())
    response_body: Mapped[Any | None] = mapped_column(JSON_TYPE)


@dataclass(frozen=True)
class StoredResponse:
    """The response of a completed request, to be sent again unchanged (with `Idempotent-Replayed: true`)."""

    status: int
    body: Any


def fingerprint(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of `parts` (e.g. method, path, parsed body): equal requests, equal digest.

    Canonical: keys sorted, no whitespace, Decimals as strings, so `{"a": 1, "b": "2.00"}` and the same
    mapping in another order give the same fingerprint, while `"2.00"` and `"2.0"` do not.
    """
    text = json.dumps(parts, default=json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check(scope: str, key: str, fp: str | None = None) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters, got {key!r}",
            code="idempotency_key_invalid",
            field="Idempotency-Key",
        )
    if not isinstance(scope, str) or not scope or len(scope) > MAX_SCOPE_LENGTH:
        raise ValidationError(
            f"idempotency scope must be 1–{MAX_SCOPE_LENGTH} characters", code="idempotency_scope_invalid"
        )
    if fp is not None and (not isinstance(fp, str) or not fp or len(fp) > 128):
        raise ValidationError("request fingerprint must be 1–128 characters", code="idempotency_fingerprint_invalid")


def _run(target: Target, fn: Any) -> Any:
    """Run `fn(session)` in the caller's session, or in a transaction of its own on an engine."""
    if isinstance(target, Session):
        return fn(target)
    with transaction(target) as s:
        return fn(s)


def _where(scope: str, key: str) -> Any:
    return (IdempotencyKey.scope == scope) & (IdempotencyKey.key == key)


def claim(
    target: Target,
    scope: str,
    key: str,
    fingerprint: str,
    *,
    stale_after: timedelta | None = None,
) -> StoredResponse | None:
    """Claim (scope, key) for a request with `fingerprint`: None to proceed, or the stored response to replay.

    Raises `Conflict(code="idempotency_in_flight")` while another request holds the key (unless its claim
    is older than `stale_after`, which is then taken over) and `ValidationError(code="idempotency_key_reused")`
    when the key was used for a different request.
    """
    _check(scope, key, fingerprint)

    def _claim(s: Session) -> StoredResponse | None:
        now = utcnow()
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # INSERT … ON CONFLICT DO NOTHING: on PostgreSQL it waits for a concurrent uncommitted claim of
        # the same key to commit or roll back, and never aborts the surrounding transaction.
        table = IdempotencyKey.__table__
        stmt = (
            insert(table)
            .values(
                scope=scope, key=key, request_fingerprint=fingerprint, state=IN_FLIGHT, created_at=now, updated_at=now
            )
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(table.c.id)
        )
        if s.execute(stmt).scalar_one_or_none() is not None:
            return None
        row = s.execute(
            select(IdempotencyKey).where(_where(scope, key)).execution_options(populate_existing=True)
        ).scalar_one()
        if row.request_fingerprint != fingerprint:
            raise ValidationError(
                f"Idempotency-Key {key!r} was already used for a different request",
                code="idempotency_key_reused",
                field="Idempotency-Key",
                scope=scope,
            )
        if row.state == DONE:
            return StoredResponse(status=int(row.response_status or 200), body=row.response_body)
        if stale_after is not None and row.updated_at < now - stale_after:
            taken = s.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == row.id,
                    IdempotencyKey.state == IN_FLIGHT,
                    IdempotencyKey.updated_at == row.updated_at,
                )
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken == 1:
                return None
        raise Conflict(
            f"a request with Idempotency-Key {key!r} is still being processed; retry later",
            code="idempotency_in_flight",
            scope=scope,
            claimed_at=row.updated_at.isoformat(),
        )

    return _run(target, _claim)


def complete(target: Target, scope: str, key: str, *, status: int, body: Any) -> None:
    """Store the response of the request that claimed (scope, key) and mark the key done.

    Raises `Conflict(code="idempotency_not_claimed")` if the key is not in flight (never claimed,
    already completed, or released).
    """
    _check(scope, key)

    def _complete(s: Session) -> None:
        done = s.execute(
            update(IdempotencyKey)
            .where(_where(scope, key), IdempotencyKey.state == IN_FLIGHT)
            .values(state=DONE, response_status=int(status), response_body=body, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise Conflict(
                f"Idempotency-Key {key!r} is not in flight in {scope!r}", code="idempotency_not_claimed", scope=scope
            )

    _run(target, _complete)


def release(target: Target, scope: str, key: str) -> bool:
    """Drop an in-flight claim (the work failed before any effect) so the client can retry; True if dropped."""
    _check(scope, key)

    def _release(s: Session) -> bool:
        stmt = delete(IdempotencyKey).where(_where(scope, key), IdempotencyKey.state == IN_FLIGHT)
        return s.execute(stmt.execution_options(synchronize_session=False)).rowcount == 1

    return bool(_run(target, _release))


def purge(target: Target, *, older_than: datetime) -> int:
    """Delete completed keys last touched before `older_than` (keys are kept for a retention window)."""

    def _purge(s: Session) -> int:
        stmt = delete(IdempotencyKey).where(IdempotencyKey.state == DONE, IdempotencyKey.updated_at < older_than)
        return int(s.execute(stmt.execution_options(synchronize_session=False)).rowcount)

    return int(_run(target, _purge))


@dataclass(frozen=True)
class Posted:
    """The answer of a state-changing action: HTTP-style status, JSON body, and whether it is a stored replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def run_once(engine: Engine, *, scope: str, action: str, key: str | None, request: Any, status: int,
             work: Callable[[Session], dict[str, Any]]) -> Posted:
    """Run `work` in one writing transaction behind the idempotency key (when one is given).

    The request's fingerprint is `fingerprint(action, request)`, so the same key sent with another body
    is refused rather than replayed.
    Claim, work, audit and completion commit together, so a failed request leaves no key behind and a
    replay returns exactly the stored body (`work`'s result round-tripped through JSON).
    """
    fp = fingerprint(action, request)
    with transaction(engine) as s:
        if key is not None:
            replay = claim(s, scope, key, fp)
            if replay is not None:
                return Posted(replay.status, replay.body, True)
        body = json_loads(json_dumps(work(s)))
        if key is not None:
            complete(s, scope, key, status=status, body=body)
    return Posted(status, body)
