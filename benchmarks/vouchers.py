"""Voucher ledger speed on SQLite and PostgreSQL, and the settlement of one voucher held 10,000 ways.

1. **Operations per second** through the service — each one a transaction with its row locks, idempotency
   key, event and audit rows: for N vouchers, issue → accept → split in two → transfer → accept the
   transfer → finance (discount) → settle at maturity. Reported per operation and overall, on each engine,
   with the pure in-memory ledger (`VoucherLedger`, no I/O) as the reference for what storage costs.
2. **Settling a root voucher split into 10,000 holdings across 5 tiers**: the tier-1 payee passes its
   voucher to 10 tier-2 suppliers (拆分转让, notice mode), each of them to 10 tier-3, … down to 10,000 tier-5
   holders (1,111 distributions, timed too); then one `do_settle` pays all 10,000 holders exactly, and the
   ledger is reconciled (every invariant checked over the 22,221 holdings ever made).

PostgreSQL runs in a fresh schema of its own on `--pg-url` (default `PUHUI_TEST_PG_URL`, else
`postgresql+psycopg://postgres@127.0.0.1:5432/test`), dropped afterwards.

    .venv/bin/python benchmarks/vouchers.py                     # 200 voucher cycles, 10,000-holding settle
    .venv/bin/python benchmarks/vouchers.py --vouchers 50 --engines sqlite
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from puhui.core.identifiers import make_uscc
from puhui.core.money import Money
from puhui.store import load_models, make_engine
from puhui.supplychain import service
from puhui.supplychain.vouchers import VoucherLedger

console = Console()
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ON = date(2025, 7, 1)
MATURITY = date(2025, 12, 31)
CORE = make_uscc("9", "1", "110108", "00000001")
_keys = itertools.count(1)


def party(n: int) -> str:
    return make_uscc("9", "1", "440106", f"{n:08d}")


def key() -> str:
    return f"bench-{next(_keys)}"


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


@contextmanager
def database(kind: str, pg_url: str) -> Iterator[Engine]:
    """A fresh database with every table: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
            load_models().create_all(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        load_models().create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def setup(engine: Engine, *, limit: str, payable: str, supplier: str) -> None:
    service.do_approve_chain_limit(engine, core=CORE, limit=limit, valid_from="2025-06-15", valid_to="2026-12-31",
                                   on=ON, idempotency_key=key())
    service.do_confirm_payable(engine, payable_no="AP", core=CORE, supplier=supplier, amount=payable, on=ON,
                               idempotency_key=key())


def cycle_ops(engine: Engine, n: int) -> tuple[dict[str, list[float]], float]:
    """N voucher lifecycles through the service; seconds per operation kind, and the wall time."""
    t1, t2 = party(1), party(2)
    setup(engine, limit=str(2_000_000 * n), payable=str(1_000_000 * n), supplier=t1)
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        out = fn()
        times[name].append(time.perf_counter() - t)
        return out

    start = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("voucher cycles", total=n)
        for i in range(n):
            body = timed("issue", lambda: service.do_issue(engine, payable_no="AP", face="1000000", maturity=MATURITY,
                                                           on=ON, by=CORE, idempotency_key=key()).body)
            no = body["voucher"]["voucher_no"]
            timed("accept", lambda no=no: service.do_accept(engine, f"{no}-1", by=t1, on=ON, idempotency_key=key()))
            timed("split", lambda no=no: service.do_split(engine, f"{no}-1", parts=["400000"], by=t1, on=ON,
                                                           idempotency_key=key()))
            timed("transfer", lambda no=no: service.do_transfer(engine, f"{no}-2", to=t2, by=t1, on=ON,
                                                                 idempotency_key=key()))
            timed("accept", lambda no=no: service.do_accept(engine, f"{no}-2", by=t2, on=ON, idempotency_key=key()))
            timed("finance", lambda no=no, i=i: service.do_finance(
                engine, f"{no}-3", funder="BANK", annual_rate="0.021", registration_ref=f"ZD{i}", by=t1, on=ON,
                idempotency_key=key()))
            timed("settle", lambda no=no: service.do_settle(engine, no, on=MATURITY, idempotency_key=key()))
            bar.advance(task)
    return times, time.perf_counter() - start


def pure_cycle_ops(n: int) -> float:
    """The same N lifecycles on the in-memory ledger; operations per second."""
    t1, t2 = party(1), party(2)
    led = VoucherLedger()
    led.approve_limit(CORE, str(2_000_000 * n), valid_from=date(2025, 6, 15), valid_to=date(2026, 12, 31))
    led.confirm_payable("AP", core=CORE, supplier=t1, amount=str(1_000_000 * n), on=ON)
    t = time.perf_counter()
    for i in range(n):
        no = led.issue("AP", face="1000000", maturity=MATURITY, on=ON, by=CORE).no
        led.accept(f"{no}-1", by=t1, on=ON)
        led.split(f"{no}-1", ["400000"], by=t1, on=ON)
        led.transfer(f"{no}-2", to=t2, by=t1, on=ON)
        led.accept(f"{no}-2", by=t2, on=ON)
        led.finance(f"{no}-3", funder="BANK", annual_rate="0.021", registration_ref=f"ZD{i}", by=t1, on=ON)
        led.settle(no, on=MATURITY)
    return 7 * n / (time.perf_counter() - t)


def wide_settle(engine: Engine, *, fan: int, tiers: int) -> dict[str, float]:
    """One voucher passed down `tiers` tiers, `fan` ways at each node; then settle it and reconcile."""
    leaves = fan ** (tiers - 1)
    face_fen = 100_000 * leaves  # 1,000.00 yuan a final holder
    face = str(Money.from_fen(face_fen).amount)
    t1 = party(1)
    setup(engine, limit=face, payable=face, supplier=t1)
    no = service.do_issue(engine, payable_no="AP", face=face, maturity=MATURITY, on=ON, by=CORE,
                          transfer_mode="notice", idempotency_key=key()).body["voucher"]["voucher_no"]
    service.do_accept(engine, f"{no}-1", by=t1, on=ON, idempotency_key=key())
    frontier = [(f"{no}-1", t1, face_fen)]
    next_party = itertools.count(10)
    ops = 0
    t = time.perf_counter()
    with progress() as bar:
        task = bar.add_task(f"passing the voucher down {tiers} tiers", total=sum(fan**k for k in range(tiers - 1)))
        for _ in range(tiers - 1):
            nxt = []
            for ref, holder, amount in frontier:
                part = amount // fan
                recipients = [party(next(next_party)) for _ in range(fan)]
                body = service.do_distribute(engine, ref, transfers=[(r, Money.from_fen(part)) for r in recipients],
                                             by=holder, on=ON, idempotency_key=key()).body
                created = [h for h in body["holdings"] if h["holder"] in set(recipients)]
                nxt += [(h["ref"], h["holder"], part) for h in created]
                ops += 1
                bar.advance(task)
            frontier = nxt
    distribute_s = time.perf_counter() - t
    assert len(frontier) == leaves
    t = time.perf_counter()
    body = service.do_settle(engine, no, on=MATURITY, idempotency_key=key()).body
    settle_s = time.perf_counter() - t
    assert body["payments_count"] == leaves and body["paid_total"] == face and body["recipients_count"] == leaves
    t = time.perf_counter()
    checked = service.reconcile(engine)
    reconcile_s = time.perf_counter() - t
    t = time.perf_counter()
    hist = service.voucher_history(engine, no)
    history_s = time.perf_counter() - t
    return {"leaves": leaves, "distributions": ops, "distribute_s": distribute_s, "settle_s": settle_s,
            "reconcile_s": reconcile_s, "history_s": history_s, "holdings": checked["holdings"],
            "history_holdings": len(hist["holdings"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vouchers", type=int, default=200, help="voucher lifecycles per engine (7 operations each)")
    ap.add_argument("--fan", type=int, default=10, help="recipients per holder at each tier")
    ap.add_argument("--tiers", type=int, default=5, help="tiers (fan ** (tiers - 1) final holdings)")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("PUHUI_TEST_PG_URL", PG_DEFAULT))
    args = ap.parse_args()
    console.print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")

    ops = Table("engine", "operation", "count", "mean ms", "p95 ms", "ops/s", title="voucher operations (service)")
    wide = Table("engine", "final holdings", "distributions", "distribute s", "settle s", "reconcile s",
                 "history s", title=f"one voucher, {args.tiers} tiers × {args.fan} ways, settled at once")
    pure = pure_cycle_ops(args.vouchers)
    for kind in [e.strip() for e in args.engines.split(",") if e.strip()]:
        with database(kind, args.pg_url) as engine:
            times, wall = cycle_ops(engine, args.vouchers)
        for name, raw in times.items():
            xs = sorted(raw)
            ops.add_row(kind, name, str(len(xs)), f"{1000 * sum(xs) / len(xs):.2f}",
                        f"{1000 * xs[int(0.95 * (len(xs) - 1))]:.2f}", f"{len(xs) / sum(xs):.0f}")
        total = sum(len(xs) for xs in times.values())
        ops.add_row(kind, "[bold]all", str(total), f"{1000 * wall / total:.2f}", "", f"[bold]{total / wall:.0f}")
        ops.add_section()
        with database(kind, args.pg_url) as engine:
            w = wide_settle(engine, fan=args.fan, tiers=args.tiers)
        wide.add_row(kind, f"{w['leaves']:,}", f"{w['distributions']:,}", f"{w['distribute_s']:.1f}",
                     f"[bold]{w['settle_s']:.2f}", f"{w['reconcile_s']:.2f}", f"{w['history_s']:.2f}")
    ops.add_row("memory", "all (pure VoucherLedger)", str(7 * args.vouchers), "", "", f"{pure:.0f}")
    console.print(ops)
    console.print(wide)


if __name__ == "__main__":
    main()
