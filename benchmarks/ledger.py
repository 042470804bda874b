"""Lending core speed: end of day in loans per second, and repayment API latency over real HTTP.

1. **End of day** — seeds N loans (a mixed book: 随借随还 40%, 等额本息 30%, 按月付息到期还本 15%, 等额本金
   10%, 到期一次还本付息 5%; repayment days spread over the month, so instalments fall due every day) with
   the same domain code as a drawdown (`loans.open_loan`), bulk-inserted; then runs `run_eod` for D days
   and reports loan-days per second (N × D / seconds). Nothing is repaid, so from each loan's first due
   date on it is overdue and the 罚息/复利 path runs too; every day ends with the full reconciliation.
2. **Repayment API** — a uvicorn server in its own process (the app from `puhui.api.create_app` with the
   lending router) on localhost; M loans are drawn and aged a month, then each is repaid over HTTP — 10%
   pay off, the others pay what is due (regular) or, with nothing due yet, prepay (reduce instalment or
   term) — with one client, then with 8 concurrent clients; reports p50/p90/p99 latency and requests/s.

    .venv/bin/python benchmarks/ledger.py                                  # 100,000 loans × 3 days, both engines
    .venv/bin/python benchmarks/ledger.py --loans 1000000 --days 1 --engines sqlite
    .venv/bin/python benchmarks/ledger.py --skip-eod --api-loans 3000

PostgreSQL: `--pg-url` (default `postgresql+psycopg://postgres@127.0.0.1:5432/test`); each run uses a schema
of its own, dropped afterwards. SQLite: a file under a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from puhui.lending import service
from puhui.lending.accrual import penalty_rate
from puhui.lending.classification import FiveClass
from puhui.lending.eod import run_eod
from puhui.lending.ledger import CLEARING, LOANS_BY_CLASS, EntryKind, make_entry
from puhui.lending.loans import open_loan
from puhui.lending.store import InstalmentRow, LendingState, LoanRow, insert_entry, instalment_values, new_loan_values
from puhui.lending.terms import LoanTerms
from puhui.store import load_models, make_engine
from puhui.store.db import transaction

console = Console()
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = date(2026, 3, 2)
MIX = [("revolving", 40), ("equal_instalment", 30), ("interest_only", 15), ("equal_principal", 10), ("bullet", 5)]


# ---- databases ------------------------------------------------------------------------------------------


@contextmanager
def database(kind: str, pg_url: str) -> Iterator[str]:
    """A fresh, empty database URL of `kind`, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


# ---- seeding --------------------------------------------------------------------------------------------


def _templates(rng: random.Random) -> list[tuple[dict[str, Any], list[dict[str, Any]], Decimal]]:
    out = []
    for method, weight in MIX:
        for day in range(1, 29):
            for _ in range(max(1, weight // 10)):
                principal = Decimal(rng.randint(20, 3000)) * 1000
                term = 6 if method == "bullet" else 12
                terms = LoanTerms(principal=principal, annual_rate=Decimal(rng.randint(300, 900)) / 10000,
                                  term_months=term, method=method, start=START, repayment_day=day)
                loan, _ = open_loan(terms=terms, borrower_id="", line_id=None,
                                    penalty_rate=penalty_rate(terms.annual_rate, START))
                vals = new_loan_values(loan, contract_id=None)
                lines = [instalment_values(0, ln, START) for ln in loan.lines or []]
                out.append((vals, lines, principal))
    return out


def seed(engine: Engine, n: int, *, seed: int = 20261129, chunk: int = 5000) -> Decimal:
    """Bulk-insert `n` loans drawn on START, an opening GL entry for them, and the open business date."""
    rng = random.Random(seed)
    templates = _templates(rng)
    total = Decimal("0.00")
    lt, it = LoanRow.__table__, InstalmentRow.__table__
    t0 = time.perf_counter()
    for lo in range(0, n, chunk):
        loans, lines = [], []
        for i in range(lo + 1, min(n, lo + chunk) + 1):
            vals, inst, principal = templates[rng.randrange(len(templates))]
            loans.append({**vals, "id": i, "borrower_id": f"B{i:09d}"})
            lines += [{**r, "loan_id": i} for r in inst]
            total += principal
        with transaction(engine) as s:
            s.execute(insert(lt), loans)
            s.execute(insert(it), lines)
    with transaction(engine) as s:
        entry = make_entry(START, EntryKind.OPENING, "opening:bench", f"{n} loans brought in",
                           [(LOANS_BY_CLASS[FiveClass.NORMAL], total), (CLEARING, -total)])
        assert entry is not None
        insert_entry(s, entry)
        s.add(LendingState(id=1, open_date=START))
        if engine.dialect.name == "postgresql":
            s.execute(text("SELECT setval(pg_get_serial_sequence('loans', 'id'), (SELECT max(id) FROM loans))"))
    console.print(f"  seeded {n:,} loans ({total:,} yuan) in {time.perf_counter() - t0:.1f} s")
    return total


# ---- end of day -----------------------------------------------------------------------------------------


def bench_eod(kind: str, pg_url: str, n: int, days: int, batch_size: int) -> dict[str, Any]:
    with database(kind, pg_url) as url:
        engine = make_engine(url)
        load_models().create_all(engine)
        seed(engine, n)
        t0 = time.perf_counter()
        result = run_eod(engine, until=START + timedelta(days=days - 1), batch_size=batch_size, progress=console)
        elapsed = time.perf_counter() - t0
        loan_days = result.loans
        with transaction(engine, write=False) as s:
            overdue = s.execute(text("SELECT count(*) FROM loans WHERE dpd > 0")).scalar_one()
        engine.dispose()
    return {"engine": kind, "loans": n, "days": days, "seconds": elapsed, "loan_days": loan_days,
            "per_second": loan_days / elapsed, "overdue_at_end": overdue}


# ---- repayment API --------------------------------------------------------------------------------------


def app_factory() -> Any:
    """The app for the server process: `create_app()` with the lending router on PUHUI_BENCH_DB_URL."""
    from puhui.api import create_app
    from puhui.lending.api import router

    app = create_app()
    app.include_router(router)
    app.state.engine = make_engine(os.environ["PUHUI_BENCH_DB_URL"], **(
        {"pool_size": 20, "max_overflow": 0} if os.environ["PUHUI_BENCH_DB_URL"].startswith("postgresql") else {}))
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PUHUI_BENCH_DB_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "ledger:app_factory", "--app-dir", str(Path(__file__).parent),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}/v1/lending"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/business-date", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _requests(engine: Engine, loan_ids: list[int], on: date, rng: random.Random) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for loan_id in loan_ids:
        loan = service.get_loan(engine, loan_id, on=on)
        due = Decimal(loan["due_now"])
        roll = rng.random()
        if roll < 0.1:
            body = {"amount": service.payoff_quote(engine, loan_id, on=on)["total"], "kind": "payoff"}
        elif roll < 0.2 or due == 0:
            amortising = loan["method"] in ("equal_instalment", "equal_principal")
            mode = rng.choice(["reduce_instalment", "reduce_term"]) if amortising else "reduce_instalment"
            body = {"amount": str(due + 5000), "kind": "prepayment", "mode": mode}
        else:
            body = {"amount": str(due), "kind": "regular"}
        out.append((loan_id, body))
    return out


def _timed(client: httpx.Client, base: str, loan_id: int, body: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    r = client.post(f"{base}/loans/{loan_id}/repayments", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    dt = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"repayment of loan {loan_id} failed: {r.status_code} {r.text}")
    return dt


def _stats(lat: list[float], wall: float) -> dict[str, float]:
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {"n": len(lat), "p50_ms": q[49] * 1000, "p90_ms": q[89] * 1000, "p99_ms": q[98] * 1000,
            "max_ms": max(lat) * 1000, "per_second": len(lat) / wall}


def bench_api(kind: str, pg_url: str, m: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    with database(kind, pg_url) as url:
        engine = make_engine(url)
        load_models().create_all(engine)
        seed(engine, m)
        run_eod(engine, until=START + timedelta(days=31))  # every loan now has an instalment due (or overdue)
        on = START + timedelta(days=32)
        ids = list(range(1, m + 1))
        rng.shuffle(ids)
        half = len(ids) // 2
        single, multi = _requests(engine, ids[:half], on, rng), _requests(engine, ids[half:], on, rng)
        results = []
        with server(url) as base:
            with httpx.Client(timeout=30) as client:
                for loan_id, body in single[:20]:  # warm-up (these loans are then excluded)
                    _timed(client, base, loan_id, body)
                t0 = time.perf_counter()
                lat = [_timed(client, base, i, b) for i, b in single[20:]]
                results.append({"engine": kind, "clients": 1, **_stats(lat, time.perf_counter() - t0)})
            lock = threading.Lock()
            lat = []

            def run(chunk: list[tuple[int, dict[str, Any]]]) -> None:
                with httpx.Client(timeout=30) as c:
                    for i, b in chunk:
                        dt = _timed(c, base, i, b)
                        with lock:
                            lat.append(dt)

            t0 = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(run, [multi[k::8] for k in range(8)]))
            results.append({"engine": kind, "clients": 8, **_stats(lat, time.perf_counter() - t0)})
        with transaction(engine, write=False) as s:
            service.reconcile(s)
        engine.dispose()
    return results


# ---- main -----------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=2000)
    ap.add_argument("--api-loans", type=int, default=2000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("PUHUI_TEST_PG_URL", PG_DEFAULT))
    ap.add_argument("--skip-eod", action="store_true")
    ap.add_argument("--skip-api", action="store_true")
    args = ap.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    console.print(f"[bold]puhui lending benchmark[/] — Python {platform.python_version()}, {platform.machine()}, "
                  f"{os.cpu_count()} CPUs")
    if not args.skip_eod:
        table = Table("engine", "loans", "days", "loan-days", "seconds", "loan-days/s", "overdue at end",
                      title="end of day (accrue, overdue, 罚息/复利, classify, post, reconcile)")
        for kind in engines:
            console.print(f"end of day on {kind}: {args.loans:,} loans × {args.days} days")
            r = bench_eod(kind, args.pg_url, args.loans, args.days, args.batch_size)
            table.add_row(kind, f"{r['loans']:,}", str(r["days"]), f"{r['loan_days']:,}", f"{r['seconds']:.1f}",
                          f"{r['per_second']:,.0f}", f"{r['overdue_at_end']:,}")
        console.print(table)
    if not args.skip_api:
        table = Table("engine", "clients", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s",
                      title="POST /v1/lending/loans/{id}/repayments over HTTP (uvicorn, 1 worker, localhost)")
        for kind in engines:
            console.print(f"repayment API on {kind}: {args.api_loans:,} loans")
            for r in bench_api(kind, args.pg_url, args.api_loans):
                table.add_row(kind, str(r["clients"]), f"{r['n']:,}", f"{r['p50_ms']:.1f}", f"{r['p90_ms']:.1f}",
                              f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}", f"{r['per_second']:,.0f}")
        console.print(table)


if __name__ == "__main__":
    main()
