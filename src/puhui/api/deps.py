"""Dependencies every router shares: the database engine, the acting principal, the Idempotency-Key.

The engine lives on `app.state.engine` (made from the configuration on first use when the app did not
set one, so tests and servers can inject their own). The actor comes from `X-Actor` until real
authentication replaces `get_actor` through FastAPI's dependency overrides. Posting endpoints call
`require_idempotency_key`, which answers 400 `idempotency_key_required` when the header is absent
(draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from puhui.core.errors import ValidationError
from puhui.store import make_engine
from puhui.store.idempotency import Posted
from puhui.store.types import json_dumps


class IdempotencyKeyMissing(ValidationError):
    """A posting without an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header: 400)."""

    code = "idempotency_key_required"
    http_status = 400


def get_engine(request: Request) -> Engine:
    """The app's database engine (`app.state.engine`), created from the configuration if absent."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        engine = make_engine()
        request.app.state.engine = engine
    return engine


def get_actor(x_actor: Annotated[str | None, Header()] = None) -> str:
    """Who is acting (audit trail, idempotency scope). Override with the authenticated principal."""
    actor = (x_actor or "api:anonymous").strip()
    if not actor or len(actor) > 128 or not actor.isprintable():
        raise ValidationError("X-Actor must be 1–128 printable characters", code="invalid_actor", field="X-Actor")
    return actor


def require_idempotency_key(key: str | None, what: str) -> str:
    """The Idempotency-Key header's value, or a 400 saying why `what` needs one."""
    if key is None or not key.strip():
        raise IdempotencyKeyMissing(f"{what}: send an Idempotency-Key header", field="Idempotency-Key")
    return key


class PayloadResponse(JSONResponse):
    """JSON rendered by the store's encoder: Decimals (and fractions read back from a stored body, which
    come back as Decimal) as strings, dates as ISO text, so money never passes through a float."""

    def render(self, content: Any) -> bytes:
        return json_dumps(content).encode("utf-8")


def respond(posted: Posted) -> JSONResponse:
    """The HTTP answer of an action; a stored replay says so in `Idempotent-Replayed: true`. The first answer
    and a replay render identically (both from the stored JSON)."""
    headers = {"Idempotent-Replayed": "true"} if posted.replayed else {}
    return PayloadResponse(posted.body, status_code=posted.status, headers=headers)


EngineDep = Annotated[Engine, Depends(get_engine)]
ActorDep = Annotated[str, Depends(get_actor)]
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
