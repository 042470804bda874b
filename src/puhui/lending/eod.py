"""End of day (日终批处理) for business dates: accrue, mark overdue, charge 罚息/复利, age, classify, expire.

`run_eod(engine, until=D)` closes every open business date up to and including D, one date at a time,
so a catch-up over N days is exactly N single days. Each date runs these steps:

1. **start** — mark the date running (`lending_state.eod_running_for`; actions answer `eod_running`
   until it is done) once in-flight actions have committed;
2. **expire lines** whose validity ended (`valid_to` ≤ D), with their change log;
3. **loan batches** — the borrowers with active loans are sorted and cut into batches of `batch_size`;
   each batch is one committed step: per loan, instalments due and unpaid become overdue, days past due
   are aged, a loan more than `non_accrual_dpd` days past due moves its receivables to suspense, interest
   and 罚息/复利 are accrued for the day; then every loan of a borrower takes the borrower's worst class
   (五级分类, borrower level) and its principal moves to that class's account. The batch's GL legs are
   summed into one journal entry (汇总记账) whose ref names the date and step, and an `eod_steps` row marks
   the step done — in the same transaction;
4. **reconcile** — sub-ledger = GL control accounts and the trial balance balances (总分核对), else
   `ReconciliationError` and the date stays open; then the date is done and the next one opens.

**Resumable and idempotent.** A crash leaves every committed step in place; the next run sees the date
running, skips the steps already recorded and does the rest. The batches are the same (the set of
borrowers with active loans cannot change while the date runs), so the books come out identical to an
uninterrupted run, and running a date already done posts nothing. Nothing reads the wall clock: the
business date is the argument, and every number comes from the stored state and the dated settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, ValidationError
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.lending.classification import borrower_class
from puhui.lending.ledger import EntryKind, make_entry
from puhui.lending.lines import LineStatus
from puhui.lending.loans import Leg, LoanAccount, LoanEvent, sum_legs
from puhui.lending.service import _state, _write_line, reconcile
from puhui.lending.store import (
    CreditLineRow,
    EodRun,
    EodStep,
    LoanRow,
    insert_entry,
    insert_events,
    line_from_row,
    load_open_lines,
    loan_from_row,
    save_loan,
)
from puhui.store import audit
from puhui.store.db import transaction

__all__ = ["EodDay", "EodResult", "run_eod"]

_DAY = timedelta(days=1)
_ZERO = Decimal("0.00")
ACTOR = "system:eod"


@dataclass
class EodDay:
    """What one business date's end of day did (figures of the steps run now, not of earlier runs)."""

    business_date: date
    steps: int = 0
    steps_skipped: int = 0
    loans: int = 0
    interest: Decimal = _ZERO
    penalty: Decimal = _ZERO
    lines_expired: int = 0
    reconciliation: dict[str, Any] = field(default_factory=dict)


@dataclass
class EodResult:
    days: list[EodDay] = field(default_factory=list)

    @property
    def loans(self) -> int:
        return sum(d.loans for d in self.days)


def run_eod(
    engine: Engine,
    *,
    until: date | str,
    batch_size: int = 1000,
    progress: bool | Console = False,
    on_step: Callable[[date, int], None] | None = None,
    settings: SettingsBook = REGULATORY,
) -> EodResult:
    """Close every open business date through `until` (see the module docstring).

    `batch_size` borrowers per committed step; `progress` shows a Rich progress bar (True or a Console);
    `on_step(date, step)` is called after each committed step (operations hooks; tests inject crashes).
    Nothing to do (no business yet, or `until` already closed) returns an empty result.
    """
    until = parse_date(until, field="until")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError(f"batch_size must be a positive whole number, got {batch_size!r}",
                              code="invalid_batch_size", field="batch_size")
    with transaction(engine, write=False) as s:
        st = _state(s, lock=None)
        if st is None:
            return EodResult()
        first = st.eod_running_for or st.open_date
    result = EodResult()
    days = (until - first).days + 1
    if days <= 0:
        return result
    bar = _progress(progress)
    with bar:
        day_task = bar.add_task("end of day", total=days)
        day = first
        while day <= until:
            result.days.append(_run_day(engine, day, batch_size=batch_size, bar=bar, on_step=on_step,
                                        settings=settings))
            bar.advance(day_task)
            day += _DAY
    return result


def _progress(progress: bool | Console) -> Any:
    if progress is False:
        return _NoBarProgress()
    console = progress if isinstance(progress, Console) else Console(stderr=True)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


class _NoBarProgress:
    """Stands in for `rich.progress.Progress` when no bar is wanted."""

    def __enter__(self) -> _NoBarProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __bool__(self) -> bool:
        return False

    def add_task(self, *_: Any, **__: Any) -> None:
        return None

    def advance(self, *_: Any, **__: Any) -> None:
        return None

    def update(self, *_: Any, **__: Any) -> None:
        return None

    def remove_task(self, *_: Any, **__: Any) -> None:
        return None


def _start(s: Session, day: date) -> tuple[int, list[str], set[int]] | None:
    """Mark `day` running and expire its lines; the borrowers to close and the steps already done.

    None when the date is already done. It takes the state row's update lock, so it waits for in-flight
    actions (they hold a share lock on it), and from its commit on actions answer `eod_running`.
    """
    st = _state(s, lock="update")
    assert st is not None
    if st.open_date > day:
        return None
    if st.open_date < day or (st.eod_running_for is not None and st.eod_running_for != day):
        raise Conflict(f"end of day for {day} cannot start: open date {st.open_date}, running "
                       f"{st.eod_running_for}", code="eod_out_of_order")
    st.eod_running_for = day
    if s.execute(select(EodRun.id).where(EodRun.business_date == day)).first() is None:
        s.add(EodRun(business_date=day, status="running", steps=0, loans=0))
    lines = s.scalars(select(CreditLineRow).where(
        CreditLineRow.status.in_((LineStatus.ACTIVE.value, LineStatus.FROZEN.value)),
        CreditLineRow.valid_to <= day).order_by(CreditLineRow.id).with_for_update()).all()
    for row in lines:
        line, change = line_from_row(row).expire(day)
        _write_line(s, row, line, change, ACTOR)
    t = LoanRow.__table__
    borrowers = list(s.scalars(select(t.c.borrower_id).where(t.c.status == "active", t.c.start_date <= day)
                               .distinct().order_by(t.c.borrower_id)))
    done = set(s.scalars(select(EodStep.step).where(EodStep.business_date == day)))
    return len(lines), borrowers, done


def _finish(s: Session, day: date, out: EodDay, steps: int) -> None:
    """Reconcile (总分核对) and close the date; the next one opens."""
    out.reconciliation = reconcile(s)
    run = s.execute(select(EodRun).where(EodRun.business_date == day)).scalar_one()
    run.status = "done"
    run.steps = steps
    run.loans = int(run.loans or 0) + out.loans
    run.summary = {"interest": str(out.interest), "penalty": str(out.penalty),
                   "lines_expired": out.lines_expired, "reconciliation": out.reconciliation}
    st = _state(s, lock="update")
    assert st is not None
    st.open_date = day + _DAY
    st.eod_running_for = None
    audit.record(s, actor=ACTOR, action="end_of_day", entity="business_date", entity_id=day.isoformat(),
                 payload={"steps": steps, "loans": out.loans}, business_date=day)


def _run_day(engine: Engine, day: date, *, batch_size: int, bar: Any, on_step: Callable[[date, int], None] | None,
             settings: SettingsBook) -> EodDay:
    """One date. Transactions: [start + first pending batch], [each middle batch], [last batch + finish]:
    a small portfolio closes a date in one commit, a large one commits batch by batch and resumes there."""
    out = EodDay(day)

    def batch(s: Session, k: int) -> None:
        n, interest, penalty = _run_batch(s, day, k, batches[k - 1], settings)
        out.steps += 1
        out.loans += n
        out.interest += interest
        out.penalty += penalty

    def committed(k: int) -> None:
        if task is not None:
            bar.advance(task)
        if on_step is not None:
            on_step(day, k)

    with transaction(engine) as s:
        started = _start(s, day)
        if started is None:
            return out
        out.lines_expired, borrowers, done = started
        batches = [borrowers[i:i + batch_size] for i in range(0, len(borrowers), batch_size)]
        pending = [k for k in range(1, len(batches) + 1) if k not in done]
        out.steps_skipped = len(batches) - len(pending)
        task = bar.add_task(f"  {day}", total=len(batches), completed=out.steps_skipped) if bar else None
        if pending:
            batch(s, pending[0])
        if len(pending) <= 1:
            _finish(s, day, out, len(batches))
    if pending:
        committed(pending[0])
    if len(pending) > 1:
        for k in pending[1:-1]:
            with transaction(engine) as s:
                batch(s, k)
            committed(k)
        with transaction(engine) as s:
            batch(s, pending[-1])
            _finish(s, day, out, len(batches))
        committed(pending[-1])
    if task is not None:
        bar.remove_task(task)
    return out


def _run_batch(s: Session, day: date, step: int, borrowers: list[str],
               settings: SettingsBook) -> tuple[int, Decimal, Decimal]:
    t = LoanRow.__table__
    rows = s.execute(
        select(t).where(t.c.borrower_id >= borrowers[0], t.c.borrower_id <= borrowers[-1], t.c.status == "active",
                        t.c.start_date <= day).order_by(t.c.id).with_for_update()
    ).all()
    loans = [loan_from_row(r) for r in rows]
    need = [ln.loan_id for ln in loans if ln.needs_lines(day)]
    if need:
        lines = load_open_lines(s, need)  # type: ignore[arg-type]
        for loan in loans:
            if loan.loan_id in lines:
                loan.lines = lines[loan.loan_id]
    legs: list[Leg] = []
    events: list[tuple[int, LoanEvent]] = []
    interest = penalty = _ZERO
    by_borrower: dict[str, list[LoanAccount]] = {}
    for loan in loans:
        o = loan.end_of_day(day, settings=settings)
        legs += o.legs
        events += [(loan.loan_id, e) for e in o.events]  # type: ignore[misc]
        interest += o.interest
        penalty += o.penalty
        by_borrower.setdefault(loan.borrower_id, []).append(loan)
    for group in by_borrower.values():
        worst = borrower_class(loan.loan_class(day, settings=settings) for loan in group)
        for loan in group:
            moved, event = loan.reclassify(worst, day)
            legs += moved
            if event is not None:
                events.append((loan.loan_id, event))  # type: ignore[arg-type]
    entry = make_entry(day, EntryKind.EOD, f"eod:{day.isoformat()}:{step:06d}",
                       f"end of day {day} step {step}: {len(loans)} loans", sum_legs(legs))
    entry_id = insert_entry(s, entry) if entry is not None else None
    save_loan(s, loans, on=day, originals={r.id: r for r in rows})
    insert_events(s, None, events, journal_entry_id=entry_id)
    s.add(EodStep(business_date=day, step=step, loans=len(loans), journal_entry_id=entry_id))
    return len(loans), interest, penalty
