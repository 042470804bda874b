"""Schedule generation speed: puhui's exact Decimal engine against numpy-financial on the same loans.

Generates N 等额本息 (equal-instalment) loans of varied principal, rate, term and start date (seeded),
then times, in the same run:

1. `LoanTerms(...)` construction (validation and normalisation);
2. `build_schedule(terms)` — due dates with holiday rolls, each line rounded once to the fen, the last
   absorbing the residual (exact `Decimal`);
3. numpy-financial `pmt` + `ipmt` + `ppmt` for the same loans, two ways: one call per loan (the
   like-for-like loop) and vectorised over all loans of one term (numpy's best case).

numpy-financial works in binary floats and rounds nothing, gives no dates and no last-line
adjustment, so it is a speed reference, not an equal: the ratio says what exactness and the
calendar cost. As a check, the level instalment is compared with `round(pmt, 2)` for every loan.

    .venv/bin/python benchmarks/schedule.py            # 100,000 loans
    .venv/bin/python benchmarks/schedule.py --loans 20000
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy_financial as npf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from puhui.lending import LoanTerms, build_schedule

TERMS_MONTHS = (3, 6, 12, 24, 36, 60, 120)


def make_loans(n: int, seed: int) -> list[tuple[Decimal, Decimal, int, date]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        principal = Decimal(rng.randint(10_000_00, 5_000_000_00)) / 100  # 1万 … 500万, in fen
        rate = Decimal(rng.randint(250, 2400)) / 10000  # 2.50% … 24.00%
        term = rng.choice(TERMS_MONTHS)
        start = date(2024, 1, 1) + timedelta(days=rng.randint(0, 1000))
        out.append((principal, rate, term, start))
    return out


def npf_per_loan(fl: list[tuple[float, float, int]]) -> tuple[float, list[float]]:
    """numpy-financial, one call per loan (like for like: every period's interest and principal)."""
    t0 = time.perf_counter()
    pmts = []
    for p, r, k in fl:
        per = np.arange(1, k + 1)
        pmts.append(npf.pmt(r, k, -p))
        npf.ipmt(r, per, k, -p)
        npf.ppmt(r, per, k, -p)
    return time.perf_counter() - t0, pmts


def npf_vectorised(fl: list[tuple[float, float, int]]) -> float:
    """numpy-financial vectorised: all loans of one term at once (numpy's best case)."""
    t0 = time.perf_counter()
    for term in TERMS_MONTHS:
        idx = [i for i, (_, _, k) in enumerate(fl) if k == term]
        if not idx:
            continue
        p = np.array([fl[i][0] for i in idx])[:, None]
        r = np.array([fl[i][1] for i in idx])[:, None]
        per = np.arange(1, term + 1)[None, :]
        npf.pmt(r, term, -p)
        npf.ipmt(r, per, term, -p)
        npf.ppmt(r, per, term, -p)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()
    console = Console()
    loans = make_loans(args.loans, args.seed)
    n = len(loans)

    t0 = time.perf_counter()
    terms = [LoanTerms(principal=p, annual_rate=r, term_months=k, method="equal_instalment", start=s)
             for p, r, k, s in loans]
    t_terms = time.perf_counter() - t0

    lines = 0
    levels: list[Decimal] = []
    progress = Progress(TextColumn("puhui build_schedule"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, transient=True)
    t_build = 0.0
    with progress:
        task = progress.add_task("build", total=n)
        chunk = 5000
        for i in range(0, n, chunk):
            part = terms[i:i + chunk]
            t0 = time.perf_counter()
            for t in part:
                s = build_schedule(t)
                lines += len(s.lines)
                levels.append(s.level.amount)  # type: ignore[union-attr]
            t_build += time.perf_counter() - t0
            progress.update(task, advance=len(part))

    fl = [(float(p), float(r) / 12, k) for p, r, k, _ in loans]
    t_npf_loop, pmts = npf_per_loan(fl)
    t_npf_vec = npf_vectorised(fl)

    agree = sum(
        1 for lvl, m in zip(levels, pmts, strict=True)
        if lvl == Decimal(repr(float(m))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    )

    table = Table(title=f"等额本息 schedules: {n:,} loans, {lines:,} lines (avg {lines / n:.1f}), "
                        f"Python {platform.python_version()}")
    for col in ("step", "seconds", "loans / s", "lines / s", "puhui ÷ this"):
        table.add_column(col, justify="right" if col != "step" else "left")
    rows = [
        ("LoanTerms (validate)", t_terms),
        ("puhui build_schedule (Decimal, dates, rolls)", t_build),
        ("puhui terms + schedule", t_terms + t_build),
        ("numpy-financial pmt/ipmt/ppmt, per loan", t_npf_loop),
        ("numpy-financial, vectorised per term", t_npf_vec),
    ]
    for name, secs in rows:
        ratio = "" if "numpy" not in name else f"{t_build / secs:.2f}×"
        table.add_row(name, f"{secs:.3f}", f"{n / secs:,.0f}", f"{lines / secs:,.0f}", ratio)
    console.print(table)
    console.print(f"level instalment equal to round(npf.pmt, 2) for {agree:,} of {n:,} loans")
    console.print(f"schedules/s {n / t_build:,.0f}; ratio to npf per-loan {t_build / t_npf_loop:.2f}× "
                  f"slower; to npf vectorised {t_build / t_npf_vec:.0f}× slower")


if __name__ == "__main__":
    main()
