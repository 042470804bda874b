"""Decisioning benchmark: application-to-decision latency in process and over real HTTP, and pre-approval
throughput.

    .venv/bin/python benchmarks/decisioning.py                      # 2,000 enterprises in a temp dir
    .venv/bin/python benchmarks/decisioning.py --enterprises 20000  # closer to the issue's scale
    .venv/bin/python benchmarks/decisioning.py --home var           # an existing PUHUI_HOME (its universe)

1. **Setup**: a synthetic universe (`--enterprises`, 36 months to 2026-10), its batch indicator table of
   `--as-of`, a scorecard champion (`puhui.models.retrain` on the latest `--snapshots` matured snapshots;
   the indicator families of `--features` keep the fit short — the whole library only makes the fit
   longer, while a decision scores the model's selected features either way), the shipped scenarios
   bootstrapped as active policies, and consents for every enterprise (all in a fresh SQLite file, or
   `--database-url`).
2. **In process**: `journey.apply` for `--requests` applications one after another (tax_loan, every
   enterprise in turn; each its own Idempotency-Key), p50/p99 of the wall time of the whole call: checks,
   indicators (the batch hot path), exposure, champion score, rules, and the one transaction that writes
   decision, application and offer or review case.
3. **Over HTTP**: uvicorn in a subprocess on a free port (one worker: `puhui serve`'s default) serving the
   real app plus a **bare endpoint** added by this benchmark's own app factory (`make_app`): one database
   read and one write in one transaction, the floor of any posting endpoint on the same stack. 16 client
   threads, each with its own `httpx.Client`, send `POST /v1/applications` (`--requests` in all), then the
   same number of bare posts; p50/p99 of each and the ratio apply / bare, measured in the same run.
4. **Pre-approval**: `decisioning.preapprove.run_preapproval` over every active scenario × every enterprise
   of the universe (scale with `--enterprises`; the issue's 100,000 × 12 is `--enterprises 100000`, which
   takes long on a shared machine), reporting its enterprise-scenario evaluations per second.

The goal of the issue is p99 ≤ 50 ms over HTTP with 16 concurrent clients on this machine. Figures are
printed, never asserted; the load average is printed with them, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

console = Console()
SCENARIO = "tax_loan"


# ---- the app the HTTP part serves (imported by uvicorn in the subprocess) ----------------------------------


def make_app() -> Any:
    """The puhui app on BENCH_DATABASE_URL, plus `POST /bench/bare`: one read and one write, one transaction."""
    from sqlalchemy import text

    from puhui.api.app import create_app
    from puhui.store import make_engine
    from puhui.store.db import transaction

    app = create_app()
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    app.state.engine = engine

    @app.post("/bench/bare", status_code=201)
    def bare() -> dict[str, Any]:
        with transaction(engine) as s:
            n = s.execute(text("SELECT n FROM bench_counter WHERE id = 1")).scalar_one()
            s.execute(text("INSERT INTO bench_log (n, at) VALUES (:n, :at)"), {"n": n, "at": time.time()})
        return {"n": n}

    return app


# ---- setup ------------------------------------------------------------------------------------------------


def _setup(home: Path, url: str, enterprises: int, as_of: date, snapshots: int, features: str,
           fresh_universe: bool) -> list[str]:  # fmt: skip
    from sqlalchemy import insert, text

    from puhui.decisioning.policies import bootstrap_shipped
    from puhui.decisioning.store import ConsentRow
    from puhui.indicators.batch import run_batch
    from puhui.models.retrain import RetrainConfig, retrain
    from puhui.store import load_models, make_engine
    from puhui.store.db import transaction
    from puhui.store.types import utcnow

    if fresh_universe:
        from puhui.data.synth.runner import SynthConfig, run_synth

        with console.status(f"synthesising {enterprises:,} enterprises × 36 months"):
            run_synth(SynthConfig(enterprises=enterprises, months=36), home=home, fresh=False, console=None)
    with console.status(f"batch indicators as of {as_of}"):
        report = run_batch(as_of, home=home)
    import pyarrow.parquet as pq

    usccs = pq.read_table(report.path, columns=["uscc"]).column("uscc").to_pylist()
    engine = make_engine(url)
    load_models().create_all(engine)
    from puhui.models.registry import champion

    if champion(engine, "sme_pd", home=home) is None:
        with console.status("training and registering a scorecard champion"):
            retrain(engine, home, RetrainConfig(max_snapshots=snapshots, holdout_fraction=0.0,
                                                include_prefixes=tuple(features.split(",")) if features else None,
                                                promote_if_no_champion=True))  # fmt: skip
    bootstrap_shipped(engine, actor="bench:deploy")
    with transaction(engine) as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        serial = "SERIAL" if s.get_bind().dialect.name == "postgresql" else "INTEGER"
        s.execute(text(f"CREATE TABLE IF NOT EXISTS bench_log (id {serial} PRIMARY KEY, n INTEGER, at FLOAT)"))
        if s.execute(text("SELECT count(*) FROM bench_counter")).scalar_one() == 0:
            s.execute(text("INSERT INTO bench_counter (id, n) VALUES (1, 42)"))
        from puhui.decisioning.scenario import CONSENT_PURPOSES

        now = utcnow()
        s.execute(insert(ConsentRow), [
            {"uscc": u, "purpose": p, "sources": [], "granted_by": "bench", "granted_at": now,
             "expires_on": as_of + timedelta(days=365), "evidence_sha256": "0" * 64, "created_at": now}
            for u in usccs for p in CONSENT_PURPOSES])  # fmt: skip
    engine.dispose()
    return usccs


def _pct(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def in_process(home: Path, url: str, usccs: list[str], as_of: date, requests: int) -> tuple[float, float, dict]:
    from puhui.decisioning import journey
    from puhui.indicators.online import OnlineEngine
    from puhui.store import make_engine

    engine = make_engine(url)
    online = OnlineEngine(home)
    outcomes: dict[str, int] = {}
    for i in range(5):  # warm-up: model load, CEL compile, batch index
        journey.apply(engine, online, usccs[i], SCENARIO, "500000", as_of, "bench:warm", f"warm-{uuid.uuid4()}")
    times = []
    for i in range(requests):
        t = time.perf_counter()
        out = journey.apply(engine, online, usccs[i % len(usccs)], SCENARIO, "500000", as_of, "bench:inproc",
                            f"inproc-{uuid.uuid4()}")  # fmt: skip
        times.append(time.perf_counter() - t)
        outcomes[out.body["status"]] = outcomes.get(out.body["status"], 0) + 1
    online.close()
    engine.dispose()
    return (*_pct(times), outcomes)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(base: str, path: str, bodies: list[dict[str, Any]], clients: int) -> tuple[list[float], dict[int, int]]:
    import httpx

    times: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def run(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=base, timeout=60.0) as c:
            for body in chunk:
                t = time.perf_counter()
                r = c.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex, "X-Actor": "bench:http"})
                dt = time.perf_counter() - t
                with lock:
                    times.append(dt)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, chunks))
    return times, codes


def over_http(home: Path, url: str, usccs: list[str], as_of: date, requests: int, clients: int,
              workers: int = 1) -> dict[str, Any]:  # fmt: skip
    import httpx

    port = _free_port()
    env = {**os.environ, "PUHUI_HOME": str(home), "BENCH_DATABASE_URL": url, "PUHUI_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
                             "decisioning:make_app", "--factory", "--port", str(port), "--log-level", "warning",
                             "--workers", str(workers)],
                            env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")

        def body(u: str) -> dict[str, Any]:
            return {"uscc": u, "scenario_id": SCENARIO, "requested_amount": "500000", "as_of": as_of.isoformat()}

        _load(base, "/v1/applications", [body(u) for u in usccs[: clients * 2]], clients)  # warm-up
        _load(base, "/bench/bare", [{}] * (clients * 2), clients)
        t0 = time.perf_counter()
        app_t, app_codes = _load(base, "/v1/applications", [body(usccs[i % len(usccs)]) for i in range(requests)],
                                 clients)  # fmt: skip
        t1 = time.perf_counter()
        bare_t, bare_codes = _load(base, "/bench/bare", [{}] * requests, clients)
        t2 = time.perf_counter()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    a50, a99 = _pct(app_t)
    b50, b99 = _pct(bare_t)
    return {"apply": (a50, a99, requests / (t1 - t0), app_codes), "bare": (b50, b99, requests / (t2 - t1), bare_codes)}


def preapproval(url: str, home: Path, as_of: date) -> dict[str, Any]:
    from puhui.decisioning.preapprove import run_preapproval
    from puhui.store import make_engine

    engine = make_engine(url)
    try:
        return run_preapproval(engine, as_of, home=home, fresh=True, console=console)
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--enterprises", type=int, default=2000, help="universe size (default 2,000)")
    ap.add_argument("--home", type=Path, default=None, help="use this PUHUI_HOME's universe instead of a new one")
    ap.add_argument("--as-of", default="2026-10-31")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    ap.add_argument("--requests", type=int, default=400, help="applications per latency measurement")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (puhui serve's default: 1)")
    ap.add_argument("--snapshots", type=int, default=4, help="matured snapshots the champion is trained on")
    ap.add_argument("--features", default="tax_,stl_,bur_,reg_,pr_", help="indicator prefixes for the champion")
    ap.add_argument("--skip-preapproval", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary universe and database")
    args = ap.parse_args()
    as_of = date.fromisoformat(args.as_of)
    tmp = Path(tempfile.mkdtemp(prefix="puhui-bench-decisioning-"))
    home = args.home.resolve() if args.home else tmp / "home"
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    schema = None
    if url.startswith("postgresql"):  # a schema of its own, dropped afterwards: never touch shared tables
        url, schema = _pg_schema(url)
    try:
        _run(args, home, url, as_of)
    finally:
        if schema is not None:
            _drop_schema(args.database_url, schema)
        if args.keep:
            console.print(f"kept {tmp} (rerun with --home {home})")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def _pg_schema(url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"bench_journey_{uuid.uuid4().hex[:10]}"
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    ), schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _run(args: argparse.Namespace, home: Path, url: str, as_of: date) -> None:
    t = time.perf_counter()
    usccs = _setup(home, url, args.enterprises, as_of, args.snapshots, args.features, args.home is None)
    console.print(f"setup: {len(usccs):,} enterprises, {time.perf_counter() - t:.0f} s; home {home}; db {url}")

    p50, p99, outcomes = in_process(home, url, usccs, as_of, args.requests)
    load = os.getloadavg()
    http = over_http(home, url, usccs, as_of, args.requests, args.clients, args.workers)
    table = Table(title=f"application → decision latency (ms), {args.requests} requests, {args.workers} uvicorn "
                        f"worker(s), load avg "
                        f"{load[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for col in ("measure", "p50", "p99", "req/s", "answers"):
        table.add_column(col)
    table.add_row("in process: journey.apply", f"{p50:.1f}", f"{p99:.1f}", "", str(outcomes))
    a, b = http["apply"], http["bare"]
    table.add_row(f"HTTP, {args.clients} clients: POST /v1/applications", f"{a[0]:.1f}", f"{a[1]:.1f}",
                  f"{a[2]:.0f}", str(a[3]))  # fmt: skip
    table.add_row(f"HTTP, {args.clients} clients: bare read+write", f"{b[0]:.1f}", f"{b[1]:.1f}", f"{b[2]:.0f}",
                  str(b[3]))  # fmt: skip
    table.add_row("ratio apply / bare", f"{a[0] / b[0]:.2f}", f"{a[1] / b[1]:.2f}", "", "")
    console.print(table)
    console.print(f"goal p99 ≤ 50 ms over HTTP: {'met' if a[1] <= 50 else 'not met'} ({a[1]:.1f} ms)")
    if not args.skip_preapproval:
        s = preapproval(url, home, as_of)
        console.print(
            f"pre-approval: {s['enterprises']:,} enterprises × {s['scenarios']} scenarios = "
            f"{s['evaluations_this_call']:,} evaluations in {s['elapsed_seconds']:.1f} s → "
            f"{s['evaluations_per_second']:,.0f} evaluations/s "
            f"({s['evaluations_per_cpu_second']:,.0f} per CPU second); stages {s['timings_seconds']}"
        )
    console.print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
