"""The FastAPI application: routers, error mapping to problem+json, and docs served without a CDN.

Every error leaves as RFC 9457 `application/problem+json` with a stable `code`: a `PuhuiError` keeps its
own code and status; a request that fails FastAPI/Pydantic validation answers 422 `request_invalid`
naming each bad field; an unknown route 404. Only a bug answers 500, and even then with a problem body
and no internals. Swagger UI and ReDoc assets ship inside the `fastapi-offline` package, so `/docs`
works on a machine with no internet.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from puhui.core.errors import PuhuiError

log = logging.getLogger("puhui.api")

PROBLEM = "application/problem+json"


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://puhui.dev/problems/{code}", "title": code.replace("_", " "),
            "status": status, "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def _puhui_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PuhuiError)
    return JSONResponse(exc.to_problem(), status_code=exc.http_status, media_type=PROBLEM)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem(422, "request_invalid", detail, errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
    return problem(exc.status_code, code, str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "an internal error occurred; it has been logged")


def create_app() -> FastAPI:
    """Build the app with every router mounted."""
    app = FastAPIOffline(
        title="puhui 普惠 API",
        version="0.1.0",
        description="Online lending to small and micro enterprises: open API for partners, borrower and staff.",
    )
    app.add_exception_handler(PuhuiError, _puhui_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/v1/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # Routers import lazily: they depend on puhui.api.deps, which must not import this module back.
    from puhui.collateral.api import router as collateral_router
    from puhui.decisioning.api import router as journey_router
    from puhui.decisioning.api_records import router as records_router
    from puhui.indicators.api import router as profile_router
    from puhui.lending.api import router as lending_router
    from puhui.models.api import router as models_router
    from puhui.monitoring.api import router as monitoring_router
    from puhui.supplychain.api import router as supplychain_router

    for router in (profile_router, lending_router, collateral_router, supplychain_router, models_router,
                   records_router, monitoring_router, journey_router):
        app.include_router(router)
    return app
