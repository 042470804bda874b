"""Monitoring use cases: the monitoring run, the actions it takes, and the alert work queue.

`run_monitoring(engine, home, as_of)` (风险集中监测) reads the batch indicator table of `as_of`, keeps the
enterprises the bank is exposed to (open credit lines or active loans in lending; vouchers held or issued
in the supply chain) unless `all_enterprises`, evaluates every signal of `signals.yaml` on them at once
(`signals.evaluate_frame`), raises contagion warnings on the exposed members of distressed core
enterprises' chains (`contagion`), writes the alerts, and takes the tier's action:

* **red → freeze** (冻结额度): every open credit line of the enterprise is frozen through lending's
  `do_freeze_line` with the idempotency key `monitoring:alert:<id>:line:<line_id>`, on lending's open
  business date; the alert becomes `actioned`. A line frozen by someone else is recorded, not re-frozen.
* **orange → reduce_review** (压降额度复核): the alert is queued for a credit officer's limit review.
* **yellow → watch** (关注): the enterprise goes on the watch list.

**Re-runs never duplicate.** Alerts are keyed (see `store`): the same as-of finds its alerts; a later
as-of refreshes a live alert (and escalates it when the tier got worse); an as-of inside a closed alert's
span raises nothing again. Actions are pending exactly while an alert has no action row of its tier's
kind, so a run interrupted anywhere resumes by running again, and a line is frozen once.

Staff actions `do_acknowledge` / `do_close` / `do_flag` (a manual alert, e.g. a core enterprise in
distress) run behind an idempotency key with an audit row, like lending's `do_*`. Queries: `list_alerts`,
`get_alert`, and for other packages (decisioning: decline new credit while a red alert is open)
`open_alerts(engine, uscc)` and `worst_open_tier(engine, uscc)`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, and_, case, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound, PuhuiError, ValidationError
from puhui.monitoring.contagion import CoreDistress, contagion_warnings
from puhui.monitoring.signals import Catalogue, Tier, evaluate_frame, evidence, load_signals, worst_tier
from puhui.monitoring.store import LIVE_STATUSES, AlertActionRow, AlertRow
from puhui.store import audit, idempotency
from puhui.store.audit import AuditEntry
from puhui.store.db import transaction
from puhui.store.idempotency import Posted
from puhui.store.types import utcnow

__all__ = [
    "ACTOR",
    "CLOSE_CODES",
    "RunReport",
    "do_acknowledge",
    "do_close",
    "do_flag",
    "exposure",
    "get_alert",
    "list_alerts",
    "open_alerts",
    "read_indicators",
    "run_monitoring",
    "worst_open_tier",
]

ACTOR = "system:monitoring"
CLOSE_CODES = ("false_positive", "confirmed", "resolved")
"""Closure codes (risk_and_style.md §B2): they feed each signal's precision against later default."""

_ACTION_OF = {Tier.YELLOW: "watch", Tier.ORANGE: "reduce_review", Tier.RED: "freeze"}
_CHUNK = 500
_ZERO = Decimal("0.000000")


# ---- exposure and the indicator table ----------------------------------------------------------------------


def exposure(engine: Engine) -> set[str]:
    """Enterprises the bank is exposed to: open lines or active loans; vouchers held (live) or outstanding."""
    from puhui.lending.store import CreditLineRow, LoanRow
    from puhui.supplychain.store import HoldingRow, VoucherRow
    from puhui.supplychain.vouchers import LIVE_STATUSES as VOUCHER_LIVE

    out: set[str] = set()
    with transaction(engine, write=False) as s:
        out.update(s.scalars(select(CreditLineRow.borrower_id).where(CreditLineRow.status.in_(("active", "frozen")))
                             .distinct()))
        out.update(s.scalars(select(LoanRow.borrower_id).where(LoanRow.status == "active").distinct()))
        out.update(s.scalars(select(HoldingRow.holder).where(HoldingRow.status.in_([x.value for x in VOUCHER_LIVE]))
                             .distinct()))
        out.update(s.scalars(select(VoucherRow.issuer_uscc)
                             .where(VoucherRow.status.not_in(("settled", "cancelled"))).distinct()))
    return out


def read_indicators(home: Path | str, as_of: date, columns: Sequence[str],
                    usccs: Iterable[str] | None = None) -> Any:
    """The finished batch indicator table of `as_of` (`uscc` + `columns`) as a pandas DataFrame (DuckDB).

    Numbers come back as DOUBLE (signals compare ratios and counts), booleans as booleans. `usccs` keeps
    only those enterprises. NotFound (`indicator_table_missing`) when the table is absent or unfinished.
    """
    import duckdb
    import pyarrow as pa

    from puhui.indicators.batch import indicator_table_path, open_table

    con = duckdb.connect()
    try:
        con.execute("SET threads=2")
        if not open_table(con, Path(home), as_of, "ind"):
            raise NotFound(f"no finished indicator table as of {as_of} under {home}: run "
                           f"`puhui indicators --as-of {as_of}` first", code="indicator_table_missing",
                           as_of=as_of.isoformat(), path=str(indicator_table_path(Path(home), as_of)))
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE ind)").fetchall())
        missing = [c for c in columns if c not in types]
        if missing:
            raise NotFound(f"the indicator table as of {as_of} has no column {missing[0]!r}",
                           code="indicator_missing", indicators=missing)
        cols = ", ".join(f'"{c}"' if types[c] == "BOOLEAN" else f'CAST("{c}" AS DOUBLE) AS "{c}"'
                         for c in dict.fromkeys(columns))
        sql = f"SELECT uscc{', ' + cols if cols else ''} FROM ind"
        if usccs is not None:
            keep = pa.table({"uscc": pa.array(sorted(set(usccs)), pa.string())})
            con.register("keep", keep)
            sql += " WHERE uscc IN (SELECT uscc FROM keep)"
        return con.execute(sql + " ORDER BY uscc").df()
    finally:
        con.close()


# ---- the run -------------------------------------------------------------------------------------------------


@dataclass
class RunReport:
    """What a monitoring run did."""

    as_of: date
    scope: str  # "exposed" | "all"
    exposed: int | None
    enterprises: int  # indicator rows evaluated
    hits: int
    by_signal: dict[str, dict[str, int]] = field(default_factory=dict)  # signal → tier → enterprises firing
    worst_by_tier: dict[str, int] = field(default_factory=dict)  # enterprises by their worst signal tier
    opened: int = 0
    refreshed: int = 0
    escalated: int = 0
    unchanged: int = 0
    contagion_cores: int = 0
    contagion_warnings: int = 0
    contagion_note: str = ""
    actions: dict[str, int] = field(default_factory=dict)
    lines_frozen: int = 0
    freeze_skipped: int = 0
    freeze_failed: list[dict[str, Any]] = field(default_factory=list)
    open_by_tier: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.enterprises / self.seconds if self.seconds > 0 else 0.0

    def by_tier(self) -> dict[str, int]:
        out = Counter[str]()
        for tiers in self.by_signal.values():
            out.update(tiers)
        return {t.value: out.get(t.value, 0) for t in Tier}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["rows_per_second"] = round(self.rows_per_second, 1)
        d["hits_by_tier"] = self.by_tier()
        d["seconds"] = round(self.seconds, 3)
        d["stage_seconds"] = {k: round(v, 3) for k, v in self.stage_seconds.items()}
        return d


@dataclass(frozen=True)
class _Candidate:
    source: str
    uscc: str
    signal_id: str
    tier: Tier
    score: Decimal
    details: dict[str, Any]

    @property
    def pair(self) -> str:
        return f"{self.source}|{self.uscc}|{self.signal_id}"


class Step(Protocol):
    """Progress callback: `label` of the current work, `advance` units done, `total` units newly expected."""

    def __call__(self, label: str, advance: int, total: int = 0) -> None: ...


def _no_step(label: str, advance: int, total: int = 0) -> None:
    return None


def run_monitoring(
    engine: Engine,
    home: Path | str | None = None,
    as_of: date | str | None = None,
    *,
    all_enterprises: bool = False,
    catalogue: Catalogue | None = None,
    actor: str = ACTOR,
    step: Step | None = None,
) -> RunReport:
    """Monitor the portfolio as of `as_of`: signals, contagion, alerts and actions (see the module docstring).

    `home` is the PUHUI_HOME holding the indicator table and the raw zone (default: the configured one);
    `catalogue` the signals (default: the shipped file, checked against the table's columns); `step(label,
    n)` is called as work advances (the CLI's progress bar).
    """
    from puhui.config import paths

    if as_of is None:
        raise ValidationError("as_of is required", code="as_of_required", field="as_of")
    day = parse_date(as_of, field="as_of")
    home = Path(home) if home is not None else paths().home
    tick: Step = step or _no_step
    tick("exposure", 0, 5)  # exposure, read, evaluate, contagion, done
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - t0
        return now

    t = time.perf_counter()
    exposed = None if all_enterprises else exposure(engine)
    t = lap("exposure", t)
    tick("exposure", 1)
    if catalogue is None:
        catalogue = _catalogue_for_table(home, day)
    frame = read_indicators(home, day, catalogue.indicators, exposed)
    t = lap("read", t)
    tick("read indicators", 1)
    hits = evaluate_frame(frame, catalogue)
    t = lap("evaluate", t)
    tick("evaluate signals", 1)

    report = RunReport(as_of=day, scope="all" if all_enterprises else "exposed",
                       exposed=None if exposed is None else len(exposed), enterprises=len(frame), hits=len(hits))
    by_signal: dict[str, Counter[str]] = defaultdict(Counter)
    for sid, tier in zip(hits["signal_id"], hits["tier"], strict=True):
        by_signal[sid][tier] += 1
    report.by_signal = {s.id: {t.value: by_signal[s.id].get(t.value, 0) for t in Tier}
                        for s in catalogue.signals if s.id in by_signal}
    worst: dict[str, int] = {}
    for u, tier in zip(hits["uscc"], hits["tier"], strict=True):
        worst[u] = max(worst.get(u, 0), Tier(tier).rank)
    ranks = Counter(worst.values())
    report.worst_by_tier = {t.value: ranks.get(t.rank, 0) for t in Tier}
    signals = {s.id: s for s in catalogue.signals}
    candidates = [
        _Candidate("signal", u, sid, Tier(tr), catalogue.severity(Tier(tr)).quantize(_ZERO),
                   evidence(signals[sid], v, th))
        for u, sid, tr, v, th in zip(hits["uscc"], hits["signal_id"], hits["tier"], hits["value"],
                                     hits["threshold"], strict=True)
    ]
    _upsert(engine, candidates, day, catalogue, actor, report, tick)
    t = lap("alerts", t)

    warnings = _contagion(engine, home, day, catalogue, exposed, report)
    report.contagion_warnings = len(warnings)
    _upsert(engine, [_Candidate("contagion", w.member, w.signal_id, w.tier, w.score, w.details(catalogue))
                     for w in warnings], day, catalogue, actor, report, tick)
    t = lap("contagion", t)
    tick("contagion", 1)

    _take_actions(engine, catalogue, actor, report, tick)
    t = lap("actions", t)
    tick("done", 1)
    with transaction(engine, write=False) as s:
        report.open_by_tier = {t_.value: 0 for t_ in Tier} | dict(
            s.execute(select(AlertRow.tier, func.count()).where(AlertRow.status.in_(LIVE_STATUSES))
                      .group_by(AlertRow.tier)).all())
    report.seconds = time.perf_counter() - started
    report.stage_seconds = stages
    return report


def _catalogue_for_table(home: Path, day: date) -> Catalogue:
    """The shipped signals, their indicators checked against the columns of the table they will read."""
    from puhui.indicators.batch import indicator_table_path, read_manifest

    columns = (read_manifest(indicator_table_path(home, day)) or {}).get("columns")
    return load_signals(indicators=set(columns)) if columns else load_signals()


def _insert_fn(s: Session) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def _upsert(engine: Engine, cands: list[_Candidate], day: date, catalogue: Catalogue, actor: str,
            report: RunReport, tick: Step) -> None:
    """Insert new alerts, refresh or escalate live ones, skip what this as-of already raised."""
    if not cands:
        return
    t = AlertRow.__table__
    sources = sorted({c.source for c in cands})
    with transaction(engine) as s:
        live = {r.open_key: r for r in s.execute(
            select(t.c.id, t.c.open_key, t.c.tier, t.c.as_of, t.c.last_seen_as_of)
            .where(t.c.open_key.is_not(None), t.c.source.in_(sources)))}
        covered = {f"{r.source}|{r.uscc}|{r.signal_id}" for r in s.execute(
            select(t.c.source, t.c.uscc, t.c.signal_id)
            .where(t.c.open_key.is_(None), t.c.source.in_(sources), t.c.as_of <= day, t.c.last_seen_as_of >= day))}
        new_rows: list[dict[str, Any]] = []
        now = utcnow()
        for c in cands:
            r = live.get(c.pair)
            if r is None:
                if c.pair in covered:
                    report.unchanged += 1
                    continue
                new_rows.append({
                    "uscc": c.uscc, "as_of": day, "last_seen_as_of": day, "signal_id": c.signal_id,
                    "tier": c.tier.value, "score": c.score, "source": c.source, "details": c.details,
                    "action": _ACTION_OF[c.tier], "status": "open", "dedup_key": f"{c.pair}|{day.isoformat()}",
                    "open_key": c.pair, "catalogue_version": catalogue.version, "created_at": now, "updated_at": now,
                })
                continue
            worse = c.tier.rank > Tier(r.tier).rank
            later = day > r.last_seen_as_of
            if day < r.as_of or not (worse or later):
                report.unchanged += 1
                continue
            values: dict[str, Any] = {"updated_at": now}
            if later:
                values["last_seen_as_of"] = day
                report.refreshed += 1
            if worse:
                values |= {"tier": c.tier.value, "score": c.score, "details": c.details,
                           "action": _ACTION_OF[c.tier]}
                report.escalated += 1
                s.add(AlertActionRow(alert_id=r.id, kind="escalated", actor=actor, business_date=day,
                                     reason=f"{r.tier} → {c.tier.value}",
                                     details={"from": r.tier, "to": c.tier.value, "details": c.details}))
                audit.record(s, actor=actor, action="escalate_alert", entity="monitoring_alert", entity_id=r.id,
                             payload={"from": r.tier, "to": c.tier.value, "signal_id": c.signal_id},
                             business_date=day)
            s.execute(update(AlertRow).where(AlertRow.id == r.id).values(**values)
                      .execution_options(synchronize_session=False))
        ins = _insert_fn(s)
        tick("alerts", 0, len(new_rows))
        for i in range(0, len(new_rows), _CHUNK):
            chunk = new_rows[i:i + _CHUNK]
            s.execute(ins(t).on_conflict_do_nothing(), chunk)
            ids = dict(s.execute(select(t.c.dedup_key, t.c.id)
                                 .where(t.c.dedup_key.in_([r["dedup_key"] for r in chunk]))).all())
            s.execute(insert(AuditEntry.__table__), [
                {"at": now, "actor": actor, "action": "open_alert", "entity": "monitoring_alert",
                 "entity_id": str(ids[r["dedup_key"]]), "business_date": day,
                 "payload": {"uscc": r["uscc"], "signal_id": r["signal_id"], "tier": r["tier"], "source": r["source"]}}
                for r in chunk if r["dedup_key"] in ids])
            report.opened += len(chunk)
            tick("alerts", len(chunk))


def _contagion(engine: Engine, home: Path, day: date, catalogue: Catalogue, exposed: set[str] | None,
               report: RunReport) -> list[Any]:
    """Distressed cores (live non-contagion alerts at or above `min_core_tier`) → member warnings."""
    from puhui.supplychain.chains import ChainSource

    src = ChainSource(home / "raw")
    try:
        cores = {c.uscc for c in src.cores()}
    except NotFound as e:
        report.contagion_note = f"no chain data: {e.message}"
        return []
    t = AlertRow.__table__
    min_rank = catalogue.contagion.min_core_tier.rank
    distress: dict[str, list[tuple[Tier, int, str]]] = defaultdict(list)
    with transaction(engine, write=False) as s:
        rows = s.execute(select(t.c.uscc, t.c.tier, t.c.id, t.c.source)
                         .where(t.c.status.in_(LIVE_STATUSES), t.c.source != "contagion"))
        for r in rows:
            if r.uscc in cores and Tier(r.tier).rank >= min_rank:
                distress[r.uscc].append((Tier(r.tier), r.id, r.source))
    distressed = []
    for core, found in distress.items():
        tier = worst_tier(f[0] for f in found)
        assert tier is not None
        sources = sorted({f[2] for f in found if f[0] is tier})
        distressed.append(CoreDistress(core, tier, "+".join(sources), tuple(sorted(f[1] for f in found))))
    report.contagion_cores = len(distressed)
    dependence = {d.core: src.chain(d.core, as_of=day).dependence() for d in distressed}
    return contagion_warnings(distressed, dependence, catalogue, exposed=exposed)


# ---- actions ---------------------------------------------------------------------------------------------------


def _pending(s: Session) -> list[Any]:
    """Live alerts whose tier's action has no action row yet (what a run still has to do)."""
    t, a = AlertRow.__table__, AlertActionRow.__table__
    done = select(a.c.id).where(a.c.alert_id == t.c.id, a.c.kind == t.c.action).exists()
    return list(s.execute(select(t.c.id, t.c.uscc, t.c.tier, t.c.action, t.c.signal_id, t.c.as_of, t.c.status,
                                 t.c.details)
                          .where(t.c.status.in_(LIVE_STATUSES), ~done).order_by(t.c.id)))


def _take_actions(engine: Engine, catalogue: Catalogue, actor: str, report: RunReport, tick: Step) -> None:
    from puhui.lending import service as lending
    from puhui.lending.store import CreditLineRow

    with transaction(engine, write=False) as s:
        pending = _pending(s)
    counts: Counter[str] = Counter()
    now = utcnow()
    tick("actions", 0, len(pending))
    queue = [p for p in pending if p.action != "freeze"]
    for i in range(0, len(queue), _CHUNK):
        chunk = queue[i:i + _CHUNK]
        with transaction(engine) as s:
            s.execute(insert(AlertActionRow.__table__), [
                {"alert_id": p.id, "kind": p.action, "actor": actor, "business_date": p.as_of, "created_at": now,
                 "reason": catalogue.tiers[Tier(p.tier)].action_en, "details": {"tier": p.tier}} for p in chunk])
        counts.update(p.action for p in chunk)
        tick("actions", len(chunk))
    red = [p for p in pending if p.action == "freeze"]
    lines: dict[str, list[Any]] = defaultdict(list)
    with transaction(engine, write=False) as s:
        for i in range(0, len(red), _CHUNK):
            usccs = sorted({p.uscc for p in red[i:i + _CHUNK]})
            for ln in s.execute(select(CreditLineRow.id, CreditLineRow.borrower_id, CreditLineRow.status)
                                .where(CreditLineRow.borrower_id.in_(usccs),
                                       CreditLineRow.status.in_(("active", "frozen"))).order_by(CreditLineRow.id)):
                lines[ln.borrower_id].append(ln)
    # Red alerts of enterprises without an open line complete at once, in bulk; the others line by line.
    bare = [p for p in red if not lines.get(p.uscc)]
    for i in range(0, len(bare), _CHUNK):
        chunk = bare[i:i + _CHUNK]
        with transaction(engine) as s:
            _complete_freeze(s, chunk, actor, {})
        counts["freeze"] += len(chunk)
        tick("actions", len(chunk))
    opened = lending.business_date(engine)["open_date"] if any(lines.get(p.uscc) for p in red) else None
    for p in red:
        if lines.get(p.uscc):
            if _freeze(engine, p, lines[p.uscc], opened, actor, report):
                counts["freeze"] += 1
            tick("actions", 1)
    report.actions = dict(counts)


def _complete_freeze(s: Session, alerts: Sequence[Any], actor: str, lines: dict[int, list[int]]) -> None:
    """Record the freeze action of `alerts` (their lines done) and mark them actioned, with audit rows."""
    now = utcnow()
    s.execute(insert(AlertActionRow.__table__), [
        {"alert_id": a.id, "kind": "freeze", "actor": actor, "business_date": a.as_of, "created_at": now,
         "reason": "red alert: open credit lines frozen" if lines.get(a.id) else
         "red alert: no open credit line to freeze", "details": {"lines": lines.get(a.id, [])}} for a in alerts])
    s.execute(update(AlertRow).where(AlertRow.id.in_([a.id for a in alerts]),
                                     AlertRow.status.in_(("open", "acknowledged")))
              .values(status="actioned", updated_at=now).execution_options(synchronize_session=False))
    s.execute(insert(AuditEntry.__table__), [
        {"at": now, "actor": actor, "action": "freeze_for_alert", "entity": "monitoring_alert",
         "entity_id": str(a.id), "business_date": a.as_of,
         "payload": {"uscc": a.uscc, "lines": lines.get(a.id, [])}} for a in alerts])


def _freeze(engine: Engine, alert: Any, lines: list[Any], opened: str | None, actor: str,
            report: RunReport) -> bool:
    """冻结额度: freeze each open line of the alert's enterprise once; True when the action is complete.

    Each line goes through lending's `do_freeze_line` under the key `monitoring:alert:<id>:line:<line>`; the
    per-line records and the completion commit together afterwards. A crash in between is safe: the next
    run calls again with the same key and gets the stored answer (a replay), never a second freeze.
    """
    from puhui.lending import service as lending

    rows: list[dict[str, Any]] = []
    now = utcnow()
    for line in lines:
        if opened is None:  # pragma: no cover - a line exists only once lending has a business date
            report.freeze_failed.append({"alert_id": alert.id, "line_id": line.id, "code": "no_business_date"})
            return False
        reason = (f"预警冻结 monitoring alert #{alert.id} ({alert.tier}): {alert.details.get('zh', alert.signal_id)}"
                  f", as of {alert.as_of}")[:500]
        key = f"monitoring:alert:{alert.id}:line:{line.id}"
        try:
            posted = lending.do_freeze_line(engine, line.id, on=opened, reason=reason, actor=actor,
                                            idempotency_key=key)
            kind = "freeze_line"
            info: dict[str, Any] = {"line_id": line.id, "on": opened, "replayed": posted.replayed,
                                    "idempotency_key": key}
            if not posted.replayed:
                report.lines_frozen += 1
        except (Conflict, ValidationError) as e:
            if e.code not in ("invalid_line_transition", "idempotency_key_reused"):
                report.freeze_failed.append({"alert_id": alert.id, "line_id": line.id, "code": e.code,
                                             "message": e.message})
                return False
            # Frozen already: by someone else (invalid transition) or by this alert on an earlier business
            # date (the same key, another `on`) — either way the line is frozen and stays so.
            kind, info = "line_already_frozen", {"line_id": line.id, "code": e.code}
            report.freeze_skipped += 1
        except PuhuiError as e:
            report.freeze_failed.append({"alert_id": alert.id, "line_id": line.id, "code": e.code,
                                         "message": e.message})
            return False
        rows.append({"alert_id": alert.id, "kind": kind, "actor": actor, "reason": reason, "details": info,
                     "business_date": date.fromisoformat(opened), "created_at": now})
    with transaction(engine) as s:
        if rows:
            s.execute(insert(AlertActionRow.__table__), rows)
        _complete_freeze(s, [alert], actor, {alert.id: [ln.id for ln in lines]})
    return True


# ---- staff actions -------------------------------------------------------------------------------------------


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > 500:
        raise ValidationError("a reason of 1–500 characters is required", code="reason_required", field="reason")
    return text


def _lock(s: Session, alert_id: int) -> AlertRow:
    row = s.execute(select(AlertRow).where(AlertRow.id == alert_id).with_for_update()
                    .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"alert {alert_id} does not exist", code="alert_not_found", alert_id=alert_id)
    return row


def _act(engine: Engine, *, actor: str, action: str, key: str | None, request: dict[str, Any], status: int,
         work: Callable[[Session], dict[str, Any]]) -> Posted:
    return idempotency.run_once(engine, scope=f"{actor}:monitoring.{action}"[:200], action=action, key=key,
                                request=request, status=status, work=work)


def do_acknowledge(engine: Engine, alert_id: int, *, actor: str, reason: str, idempotency_key: str | None = None,
                   on: date | str | None = None) -> Posted:
    """确认预警: a person has seen the alert (open → acknowledged; an actioned alert keeps its status)."""
    text = _reason(reason)
    day = parse_date(on, field="on") if on is not None else None

    def work(s: Session) -> dict[str, Any]:
        row = _lock(s, alert_id)
        if row.status == "closed":
            raise Conflict(f"alert {alert_id} is closed", code="alert_closed", alert_id=alert_id)
        if row.acknowledged_at is not None:
            raise Conflict(f"alert {alert_id} was already acknowledged by {row.acknowledged_by}",
                           code="alert_already_acknowledged", alert_id=alert_id)
        row.acknowledged_at, row.acknowledged_by = utcnow(), actor
        if row.status == "open":
            row.status = "acknowledged"
        s.add(AlertActionRow(alert_id=row.id, kind="acknowledged", actor=actor, reason=text, business_date=day))
        audit.record(s, actor=actor, action="acknowledge_alert", entity="monitoring_alert", entity_id=row.id,
                     payload={"reason": text}, business_date=day)
        s.flush()
        return _alert_json(row)

    return _act(engine, actor=actor, action="acknowledge", key=idempotency_key, status=200, work=work,
                request={"alert_id": alert_id, "reason": text, "on": None if day is None else day.isoformat()})


def do_close(engine: Engine, alert_id: int, *, actor: str, reason: str, code: str = "resolved",
             idempotency_key: str | None = None, on: date | str | None = None) -> Posted:
    """关闭预警 with a closure code (false_positive | confirmed | resolved) and a reason."""
    text = _reason(reason)
    if code not in CLOSE_CODES:
        raise ValidationError(f"unknown closure code {code!r}; use {', '.join(CLOSE_CODES)}",
                              code="unknown_close_code", field="code")
    day = parse_date(on, field="on") if on is not None else None

    def work(s: Session) -> dict[str, Any]:
        row = _lock(s, alert_id)
        if row.status == "closed":
            raise Conflict(f"alert {alert_id} is already closed", code="alert_closed", alert_id=alert_id)
        row.status, row.closed_at, row.closed_by, row.close_code, row.open_key = "closed", utcnow(), actor, code, None
        s.add(AlertActionRow(alert_id=row.id, kind="closed", actor=actor, reason=text, business_date=day,
                             details={"code": code}))
        audit.record(s, actor=actor, action="close_alert", entity="monitoring_alert", entity_id=row.id,
                     payload={"reason": text, "code": code}, business_date=day)
        s.flush()
        return _alert_json(row)

    return _act(engine, actor=actor, action="close", key=idempotency_key, status=200, work=work,
                request={"alert_id": alert_id, "reason": text, "code": code,
                         "on": None if day is None else day.isoformat()})


def do_flag(engine: Engine, uscc: str, *, tier: Tier | str, reason: str, as_of: date | str, actor: str,
            idempotency_key: str | None = None) -> Posted:
    """人工预警: flag an enterprise (e.g. a core enterprise in distress) — a manual alert, or a worse tier on it.

    The next `run_monitoring` takes the tier's action and, for a core enterprise, raises contagion warnings.
    """
    text = _reason(reason)
    level = Tier.parse(tier)
    day = parse_date(as_of, field="as_of")
    if not isinstance(uscc, str) or not uscc.strip() or len(uscc.strip()) > 64:
        raise ValidationError("uscc must be 1–64 characters", code="invalid_uscc", field="uscc")
    uscc = uscc.strip()

    def work(s: Session) -> dict[str, Any]:
        pair = f"manual|{uscc}|manual"
        row = s.execute(select(AlertRow).where(AlertRow.open_key == pair).with_for_update()).scalar_one_or_none()
        details = {"reason": text, "category": "manual", "zh": "人工预警", "en": "Manual flag"}
        if row is None:
            row = AlertRow(uscc=uscc, as_of=day, last_seen_as_of=day, signal_id="manual", tier=level.value,
                           score=_severity_default(level), source="manual", details=details,
                           action=_ACTION_OF[level], status="open", dedup_key=f"{pair}|{day}|{utcnow().isoformat()}",
                           open_key=pair, catalogue_version="manual")
            s.add(row)
            s.flush()
            kind = "flagged"
        elif level.rank > Tier(row.tier).rank:
            row.tier, row.action, row.details = level.value, _ACTION_OF[level], details
            row.score = _severity_default(level)
            row.last_seen_as_of = max(row.last_seen_as_of, day)
            kind = "escalated"
        else:
            raise Conflict(f"{uscc} already has a live manual alert at {row.tier}", code="alert_exists",
                           alert_id=row.id, tier=row.tier)
        s.add(AlertActionRow(alert_id=row.id, kind=kind, actor=actor, reason=text, business_date=day,
                             details={"tier": level.value}))
        audit.record(s, actor=actor, action="flag_alert", entity="monitoring_alert", entity_id=row.id,
                     payload={"uscc": uscc, "tier": level.value, "reason": text}, business_date=day)
        s.flush()
        return _alert_json(row)

    return _act(engine, actor=actor, action="flag", key=idempotency_key, status=201, work=work,
                request={"uscc": uscc, "tier": level.value, "reason": text, "as_of": day.isoformat()})


def _severity_default(level: Tier) -> Decimal:
    from puhui.monitoring.signals import DEFAULT_SIGNALS

    try:
        cat = load_signals(DEFAULT_SIGNALS, check_indicators=False)
        return cat.severity(level).quantize(_ZERO)
    except PuhuiError:  # pragma: no cover - the shipped file is tested
        return {Tier.YELLOW: Decimal("0.25"), Tier.ORANGE: Decimal("0.5"), Tier.RED: Decimal(1)}[level]


# ---- queries -------------------------------------------------------------------------------------------------


def _alert_json(row: Any) -> dict[str, Any]:
    def iso(x: Any) -> Any:
        return None if x is None else x.isoformat()

    return {
        "alert_id": row.id, "uscc": row.uscc, "as_of": iso(row.as_of), "last_seen_as_of": iso(row.last_seen_as_of),
        "signal_id": row.signal_id, "tier": row.tier, "score": str(row.score.normalize()) if row.score is not None
        else None, "source": row.source, "action": row.action, "status": row.status, "details": row.details,
        "dedup_key": row.dedup_key, "catalogue_version": row.catalogue_version,
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "acknowledged_at": iso(row.acknowledged_at), "acknowledged_by": row.acknowledged_by,
        "closed_at": iso(row.closed_at), "closed_by": row.closed_by, "close_code": row.close_code,
    }


def list_alerts(engine: Engine, *, tier: str | None = None, status: str | None = None, uscc: str | None = None,
                as_of: date | str | None = None, source: str | None = None, limit: int = 100,
                offset: int = 0) -> dict[str, Any]:
    """Alerts matching the filters, most severe and newest first: `{"total", "items"}`.

    `status` may be `live` (open, acknowledged or actioned); `as_of` matches alerts whose span
    (first as-of … last seen) contains the date.
    """
    from puhui.monitoring.store import ALERT_STATUSES, SOURCES

    conds = []
    if tier is not None:
        conds.append(AlertRow.tier == Tier.parse(tier).value)
    if status is not None:
        if status == "live":
            conds.append(AlertRow.status.in_(LIVE_STATUSES))
        elif status in ALERT_STATUSES:
            conds.append(AlertRow.status == status)
        else:
            raise ValidationError(f"unknown status {status!r}; use {', '.join(ALERT_STATUSES)} or live",
                                  code="unknown_status", field="status")
    if source is not None:
        if source not in SOURCES:
            raise ValidationError(f"unknown source {source!r}; use {', '.join(SOURCES)}", code="unknown_source",
                                  field="source")
        conds.append(AlertRow.source == source)
    if uscc is not None:
        conds.append(AlertRow.uscc == uscc.strip())
    if as_of is not None:
        d = parse_date(as_of, field="as_of")
        conds.append(and_(AlertRow.as_of <= d, AlertRow.last_seen_as_of >= d))
    if isinstance(limit, bool) or not 1 <= int(limit) <= 1000:
        raise ValidationError("limit must be 1–1000", code="invalid_limit", field="limit")
    if isinstance(offset, bool) or int(offset) < 0:
        raise ValidationError("offset must be ≥ 0", code="invalid_offset", field="offset")
    order = case({"red": 3, "orange": 2, "yellow": 1}, value=AlertRow.tier, else_=0)
    with transaction(engine, write=False) as s:
        where = and_(*conds) if conds else true()
        total = s.execute(select(func.count()).select_from(AlertRow).where(where)).scalar_one()
        rows = s.scalars(select(AlertRow).where(where).order_by(order.desc(), AlertRow.id.desc())
                         .limit(int(limit)).offset(int(offset)))
        return {"total": int(total), "items": [_alert_json(r) for r in rows]}


def get_alert(engine: Engine, alert_id: int) -> dict[str, Any]:
    """One alert with its actions, oldest first."""
    with transaction(engine, write=False) as s:
        row = s.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist", code="alert_not_found", alert_id=alert_id)
        acts = s.scalars(select(AlertActionRow).where(AlertActionRow.alert_id == alert_id)
                         .order_by(AlertActionRow.id))
        return {**_alert_json(row), "actions": [
            {"kind": a.kind, "actor": a.actor, "reason": a.reason, "details": a.details,
             "business_date": None if a.business_date is None else a.business_date.isoformat(),
             "at": a.created_at.isoformat()} for a in acts]}


def open_alerts(engine: Engine, uscc: str) -> list[dict[str, Any]]:
    """The live (not closed) alerts of an enterprise, most severe first — e.g. for a credit decision."""
    return list_alerts(engine, uscc=uscc, status="live", limit=1000)["items"]


def worst_open_tier(engine: Engine, uscc: str) -> str | None:
    """The most severe tier among an enterprise's live alerts ("red", "orange", "yellow"), or None."""
    with transaction(engine, write=False) as s:
        tiers = s.scalars(select(AlertRow.tier).where(AlertRow.uscc == uscc.strip(),
                                                      AlertRow.status.in_(LIVE_STATUSES)).distinct())
        worst = worst_tier(tiers)
    return None if worst is None else worst.value
