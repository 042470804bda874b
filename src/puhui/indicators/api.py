"""HTTP surface of the indicator library: `GET /v1/enterprises/{uscc}/profile?as_of=YYYY-MM-DD`.

A thin router: it parses, calls `build_profile` on the online engine of PUHUI_HOME and lets the app's
handlers turn the typed errors into problem+json — 422 for a malformed USCC (naming the failed check) or
a bad, future or too early as-of date, 404 for an enterprise not in the data or not yet registered.
The engine is a dependency (`get_engine`) so tests and other apps can supply their own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel

from puhui.indicators.online import OnlineEngine
from puhui.indicators.profile import Profile, build_profile

__all__ = ["get_engine", "router"]

router = APIRouter(prefix="/v1", tags=["profiles"])

_ENGINES: dict[Path, OnlineEngine] = {}
_LOCK = threading.Lock()


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is returned (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    details: dict[str, Any] | None = None


def get_engine() -> OnlineEngine:
    """The online engine of PUHUI_HOME, one per process (it holds the serving store and caches)."""
    from puhui.config import paths

    home = paths().home
    with _LOCK:
        engine = _ENGINES.get(home)
        if engine is None:
            engine = _ENGINES[home] = OnlineEngine(home)
        return engine


_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "content": {"application/problem+json": {}},
          "description": "enterprise_not_found | enterprise_not_registered"},
    422: {"model": Problem, "content": {"application/problem+json": {}},
          "description": "uscc_* (the failed check) | invalid_date | as_of_in_future | as_of_before_data"},
}  # fmt: skip


@router.get("/enterprises/{uscc}/profile", response_model=Profile, responses=_PROBLEMS,
            summary="Customer profile (客户画像) of an enterprise as of a date")  # fmt: skip
def enterprise_profile(
    uscc: Annotated[str, PathParam(description="统一社会信用代码 (GB 32100-2015), 18 characters")],
    engine: Annotated[OnlineEngine, Depends(get_engine)],
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today (Asia/Shanghai)")] = None,
) -> Profile:
    """Identity, MIIT size class, sources present, every indicator by dimension with its percentile within
    the industry section, and the flags raised — using only data known on `as_of`."""
    day = as_of if as_of is not None else engine.clock.today()
    return build_profile(engine, uscc, day)
