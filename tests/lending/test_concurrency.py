"""Concurrent drawdowns never overdraw a line; concurrent duplicates post once (real PostgreSQL, threads)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from puhui.core.errors import PuhuiError
from puhui.lending import service
from puhui.lending.classification import FiveClass
from puhui.lending.ledger import LOANS_BY_CLASS
from puhui.store import load_models, make_engine
from tests.lending._lendkit import books, gl, key, open_line, reconcile


def _engine(url: str, threads: int) -> Engine:
    engine = make_engine(url, pool_size=threads, max_overflow=0) if url.startswith("postgresql") else make_engine(url)
    load_models().create_all(engine)
    return engine


def _race(n: int, fn: object) -> list[object]:
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait()
        try:
            return fn(i)  # type: ignore[operator]
        except PuhuiError as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.mark.parametrize(("url_fixture", "threads"), [("pg_url", 50), ("sqlite_url", 20)])
def test_concurrent_drawdowns_never_exceed_the_limit(request: pytest.FixtureRequest, url_fixture: str,
                                                     threads: int) -> None:
    engine = _engine(request.getfixturevalue(url_fixture), threads)
    limit = Decimal(30000) * (threads * 2 // 3)  # room for exactly two thirds of them
    line_id = open_line(engine, limit=str(limit))
    out = _race(threads, lambda i: service.do_drawdown(engine, line_id, amount="30000", on="2026-01-05",
                                                       idempotency_key=f"race-{i}"))
    codes = Counter(getattr(o, "code", "ok") for o in out)
    ok = codes.pop("ok", 0)
    assert ok == threads * 2 // 3 and set(codes) <= {"over_limit"}, codes
    line = service.get_line(engine, line_id)
    assert Decimal(line["drawn_principal"]) == Decimal(30000) * ok <= limit
    assert line["available"] == "0.00"
    assert gl(engine, LOANS_BY_CLASS[FiveClass.NORMAL]) == Decimal(30000) * ok
    assert books(engine)["loans"] == ok
    reconcile(engine)
    engine.dispose()


def test_concurrent_duplicates_post_once(pg_url: str) -> None:
    engine = _engine(pg_url, 10)
    line_id = open_line(engine)
    k = key()
    out = _race(10, lambda _: service.do_drawdown(engine, line_id, amount="1234.56", on="2026-01-05",
                                                  idempotency_key=k))
    assert all(isinstance(o, service.Posted) for o in out), out
    assert sum(not o.replayed for o in out) == 1  # type: ignore[attr-defined]
    assert len({o.body["loan_id"] for o in out}) == 1  # type: ignore[attr-defined]
    assert books(engine)["loans"] == 1
    assert service.get_line(engine, line_id)["drawn_principal"] == "1234.56"
    reconcile(engine)
    engine.dispose()
