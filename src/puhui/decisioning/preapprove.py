"""Proactive pre-approval (主动授信): every active scenario for every enterprise on a date, best offer each.

`run_preapproval(engine, as_of)` — what `puhui preapprove --as-of` runs:

1. **Policies**: the active champion (and challenger) of every scenario (`policies.active_policies`); the
   arm of each enterprise is the salted hash of its USCC (`arms.arm_for`).
2. **Indicators**: the batch indicator table of the date (`puhui.indicators.batch`, run when missing),
   read once for the columns the scenarios and models need (`facts.facts_frame`).
3. **Models**: each model name the scenarios use is scored **once** for every enterprise with the
   registry champion (`puhui.models.registry.champion`). **Fallback, stated in the run and its summary**:
   when a name has no champion, a scorecard is trained on the fly on the universe's latest matured
   snapshots (`puhui.models.retrain.fit_candidate`, out-of-time, nothing registered), cached under
   `<home>/models/onthefly/<name>/` by raw-zone fingerprint so a resumed run scores with the same model;
   its version reads `<name>-onthefly-<hash>` in every decision. `fallback_model=False` refuses instead.
4. **Exposure**: each enterprise's existing credit across products (`portfolio.borrower_exposures`) goes
   into its facts, so the engine's inclusive-finance cap leaves only the headroom; chain members get their
   chain context and the exposure of their core enterprise (`facts.chain_context`, `portfolio.core_exposure`).
5. **Decide** per enterprise and scenario (`engine.decide`, pure), on facts reduced to what the scenario and
   its model read (that reduced snapshot is what the record keeps and hashes).
6. **Best offer** per enterprise: the approval with the highest limit, ties to the lowest rate.
7. **Store** per chunk of enterprises, in one transaction: the decision records (those behind the offers;
   every decision with `record_all`), the offers (older open offers of the same enterprises are
   superseded), and the chunk's statistics appended to the run's `done_chunks`. A killed run resumes at the
   next chunk: a new run with the same date, policy versions, model versions and options picks up the
   running one instead of starting over.
8. **Summary** per scenario: evaluated, eligible (every rule passed and the required data present),
   approved / referred / declined, total limit, expected loss = Σ PD × limit × LGD (LGD: the dated
   setting `lgd_unsecured_corporate`) and — where the synthetic truth exists — the realised bad rate of
   the approved (default onset within the 12 months after the date, as `puhui.models.trainset` labels
   it; fewer months when the history ends earlier, the horizon is then reported).

Timings are kept per stage (indicators, model, scoring, exposure, rules, writes; wall clock and CPU) with the
throughput in enterprise-scenario evaluations per second.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Engine, func, insert, select, update

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound
from puhui.core.regulatory import REGULATORY
from puhui.decisioning.arms import arm_for
from puhui.decisioning.policies import ActivePolicy, active_policies
from puhui.decisioning.records import DecisionInput, decision_row_values
from puhui.decisioning.store import DecisionRow, OfferRow, PreapprovalRunRow
from puhui.store.db import transaction
from puhui.store.types import utcnow

__all__ = ["ModelSource", "ScenarioStats", "realised_bads", "resolve_models", "run_preapproval"]

LGD_SETTING = "lgd_unsecured_corporate"
ZERO = Decimal("0.00")


# ---- models -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSource:
    """The model that scores one model name in this run, and where it came from."""

    name: str
    version: str
    source: str  # registry | trained_on_the_fly
    model: Any
    features: tuple[str, ...]
    note: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "source": self.source, "features": len(self.features),
                "note": self.note}


def _universe_fingerprint(home: Path) -> str:
    meta = Path(home) / "raw" / "_universe.json"
    if meta.is_file():
        return str(json.loads(meta.read_text(encoding="utf-8")).get("fingerprint", "unknown"))
    return "unknown"


def _train_on_the_fly(home: Path, name: str, console: Console | None, max_snapshots: int,
                      prefixes: tuple[str, ...] | None) -> ModelSource:
    from puhui.models.retrain import RetrainConfig, fit_candidate
    from puhui.models.scorecard import Scorecard
    from puhui.models.trainset import build_trainset

    fingerprint = _universe_fingerprint(home)
    folder = Path(home) / "models" / "onthefly" / name
    meta_path, model_path = folder / "meta.json", folder / "scorecard.json"
    cfg = RetrainConfig(name=name, kind="scorecard", max_snapshots=max_snapshots, holdout_fraction=0.0,
                        include_prefixes=prefixes)
    key = {"fingerprint": fingerprint, "max_snapshots": max_snapshots, "kind": "scorecard",
           "prefixes": None if prefixes is None else list(prefixes)}
    if meta_path.is_file() and model_path.is_file() and json.loads(meta_path.read_text())["key"] == key:
        model = Scorecard.load(model_path)
    else:
        if console is not None:
            console.print(f"[yellow]no registered champion for model {name!r}: training a scorecard on the fly "
                          f"on the latest {max_snapshots} matured snapshots (fallback, not registered)[/]")
        ts = build_trainset(Path(home), cfg.trainset(), console=console)
        model, _ = fit_candidate(ts, cfg)
        folder.mkdir(parents=True, exist_ok=True)
        model.save(model_path)
        meta_path.write_text(json.dumps({"key": key, "train_rows": len(ts.train)}), encoding="utf-8")
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:10]
    return ModelSource(name, f"{name}-onthefly-{digest}", "trained_on_the_fly", model, tuple(model.features),
                       note=f"no registered champion: scorecard trained on the fly on the latest {max_snapshots} "
                            f"matured snapshots of universe {fingerprint}"
                            + (f" (features {', '.join(prefixes)}…)" if prefixes else "") + f"; cached in {folder}")


def resolve_models(engine: Engine, home: Path, names: Iterable[str], *, fallback: bool = True,
                   console: Console | None = None, max_snapshots: int = 3,
                   prefixes: tuple[str, ...] | None = None) -> dict[str, ModelSource]:
    """Model name → the model scoring it: the registry champion, else (if allowed) one trained on the fly."""
    out: dict[str, ModelSource] = {}
    for name in sorted(set(names)):
        champ = None
        try:
            from puhui.models import registry

            champ = registry.champion(engine, name, home=home)
        except ImportError:  # the registry is not installed in this build
            champ = None
        if champ is not None:
            out[name] = ModelSource(name, champ.version, "registry", champ.load(), tuple(champ.features))
        elif fallback:
            out[name] = _train_on_the_fly(home, name, console, max_snapshots, prefixes)
        else:
            raise NotFound(f"model {name!r} has no registered champion (puhui model retrain --promote-if-no-"
                           "champion), and the on-the-fly fallback is off", code="no_champion_model", model=name)
    return out


# ---- truth (synthetic universe only) -----------------------------------------------------------------


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def realised_bads(home: Path, as_of: date, horizon_months: int = 12) -> tuple[dict[str, bool], int] | None:
    """USCC → defaulted within the horizon after `as_of` (onset month in t+1 … t+h, as the training labels),
    and the months actually observed; None when the home has no synthetic truth."""
    import pyarrow.parquet as pq

    folder = Path(home) / "truth"
    if not (folder / "enterprises").exists() or not (folder / "health_monthly").exists():
        return None
    months = pq.read_table(folder / "health_monthly", columns=["month"]).column("month").to_pylist()
    last = max(_month_index(m) for m in months) if months else _month_index(as_of)
    t = _month_index(as_of)
    observed = max(0, min(horizon_months, last - t))
    if observed == 0:
        return {}, 0
    ents = pq.read_table(folder / "enterprises", columns=["uscc", "default_onset_month"]).to_pylist()
    out = {}
    for r in ents:
        onset = r["default_onset_month"]
        out[r["uscc"]] = onset is not None and t < _month_index(onset) <= t + observed
    return out, observed


# ---- statistics -----------------------------------------------------------------------------------------


@dataclass
class ScenarioStats:
    """Counts and sums of one scenario over the enterprises evaluated (mergeable across chunks)."""

    evaluated: int = 0
    eligible: int = 0
    approved: int = 0
    referred: int = 0
    declined: int = 0
    challenger: int = 0
    total_limit: Decimal = ZERO
    expected_loss: Decimal = ZERO
    pd_sum: float = 0.0
    approved_with_truth: int = 0
    approved_bad: int = 0
    top_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, d: Any, arm: str, lgd: Decimal, bads: Mapping[str, bool] | None) -> None:
        self.evaluated += 1
        if arm == "challenger":
            self.challenger += 1
        if all(r.passed for r in d.rules) and not any(r.kind in ("data", "consent") for r in d.reasons):
            self.eligible += 1
        if d.outcome == "approve":
            self.approved += 1
            limit = d.offer.limit
            self.total_limit += limit
            pd = Decimal(repr(d.model.pd)) if d.model is not None else Decimal(0)
            self.expected_loss += pd * limit * lgd
            self.pd_sum += d.model.pd if d.model is not None else 0.0
            if bads is not None and d.uscc in bads:
                self.approved_with_truth += 1
                self.approved_bad += bads[d.uscc]
        elif d.outcome == "refer":
            self.referred += 1
        else:
            self.declined += 1
        for r in d.reasons:
            self.top_reasons[r.code] = self.top_reasons.get(r.code, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "eligible": self.eligible, "approved": self.approved,
                "referred": self.referred, "declined": self.declined, "challenger": self.challenger,
                "total_limit": str(self.total_limit), "expected_loss": str(self.expected_loss),  # unrounded
                "pd_sum": self.pd_sum, "approved_with_truth": self.approved_with_truth,
                "approved_bad": self.approved_bad, "top_reasons": self.top_reasons}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ScenarioStats:
        return cls(evaluated=d["evaluated"], eligible=d["eligible"], approved=d["approved"],
                   referred=d["referred"], declined=d["declined"], challenger=d.get("challenger", 0),
                   total_limit=Decimal(d["total_limit"]), expected_loss=Decimal(d["expected_loss"]),
                   pd_sum=float(d["pd_sum"]), approved_with_truth=d["approved_with_truth"],
                   approved_bad=d["approved_bad"], top_reasons=dict(d["top_reasons"]))

    def merge(self, o: ScenarioStats) -> None:
        for k in ("evaluated", "eligible", "approved", "referred", "declined", "challenger",
                  "approved_with_truth", "approved_bad"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        self.total_limit += o.total_limit
        self.expected_loss += o.expected_loss
        self.pd_sum += o.pd_sum
        for code, n in o.top_reasons.items():
            self.top_reasons[code] = self.top_reasons.get(code, 0) + n

    def report(self, horizon: int | None) -> dict[str, Any]:
        rate = (self.approved_bad / self.approved_with_truth) if self.approved_with_truth and horizon else None
        top = sorted(self.top_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return {"evaluated": self.evaluated, "eligible": self.eligible, "approved": self.approved,
                "referred": self.referred, "declined": self.declined, "challenger_arm": self.challenger,
                "approval_rate": round(self.approved / self.evaluated, 6) if self.evaluated else None,
                "total_limit": str(self.total_limit), "expected_loss": str(self.expected_loss.quantize(ZERO)),
                "expected_bad_rate": round(self.pd_sum / self.approved, 6) if self.approved else None,
                "realised_bad_rate": None if rate is None else round(rate, 6),
                "realised_horizon_months": horizon, "top_reasons": dict(top)}


# ---- the run ---------------------------------------------------------------------------------------------


def _progress(console: Console | None) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, disable=console is None, transient=False)


def _ensure_table(home: Path, as_of: date, console: Console | None) -> bool:
    """The batch table of the date exists (True) or has just been computed (False)."""
    from puhui.indicators.batch import indicator_table_path, read_manifest, run_batch

    manifest = read_manifest(indicator_table_path(home, as_of))
    if manifest is not None and manifest.get("status") == "complete":
        return True
    run_batch(as_of, home=home, console=console)
    return False


def _chain_extras(engine: Engine, home: Path, as_of: date, usccs: set[str]) -> dict[str, dict[str, Any]]:
    """Chain context of every chain member among `usccs` (its core chosen by `facts.pick_core`)."""
    import polars as pl

    from puhui.decisioning.facts import chain_context, pick_core
    from puhui.decisioning.portfolio import core_exposure
    from puhui.supplychain.chains import ChainSource

    source = ChainSource(Path(home) / "raw")
    try:
        rel = source._frame("chain_relations").filter(pl.col("since_date") < as_of).collect()
    except NotFound:
        return {}
    by_member: dict[str, list[dict[str, Any]]] = {}
    for r in rel.iter_rows(named=True):
        if r["member_uscc"] in usccs:
            by_member.setdefault(r["member_uscc"], []).append(
                {"core": r["core_uscc"], "share_of_business": r["share_of_business"] or 0,
                 "since": r["since_date"].isoformat()})
    core_of = {m: pick_core(ms) for m, ms in by_member.items()}
    cores = sorted({c for c in core_of.values() if c})
    warned = _warned(engine, cores)
    out: dict[str, dict[str, Any]] = {}
    for core in cores:
        chain = source.chain(core, as_of=as_of)
        members = [m for m, c in core_of.items() if c == core]
        exp = Decimal(core_exposure(engine, core, on=as_of, members=members)["total"])
        for m in members:
            try:
                out[m] = chain_context(chain, m, core_exposure=exp, core_warning=core in warned)
            except (NotFound, KeyError):  # not yet known as a member on the date
                continue
    return out


def _warned(engine: Engine, cores: list[str]) -> set[str]:
    """Core enterprises with a live early warning (monitoring alerts open, acknowledged or actioned)."""
    try:
        from puhui.monitoring.store import LIVE_STATUSES, AlertRow
    except ImportError:  # monitoring not installed: the warning stays unknown rather than false
        return set()
    with transaction(engine, write=False) as s:
        return set(s.scalars(select(AlertRow.uscc).where(AlertRow.uscc.in_(cores),
                                                        AlertRow.status.in_(LIVE_STATUSES)).distinct()))


def _same_params(run: PreapprovalRunRow, scenarios: list[dict[str, Any]], params: dict[str, Any]) -> bool:
    return run.scenarios == scenarios and {k: run.params.get(k) for k in params} == params


def _find_or_start(engine: Engine, as_of: date, scenarios: list[dict[str, Any]], params: dict[str, Any],
                   chunk_size: int, n: int, actor: str, fresh: bool) -> tuple[int, list[dict[str, Any]]]:
    with transaction(engine) as s:
        running = s.scalars(select(PreapprovalRunRow).where(PreapprovalRunRow.as_of == as_of,
                                                            PreapprovalRunRow.state == "running")
                            .order_by(PreapprovalRunRow.id.desc())).all()
        for run in running:
            if not fresh and _same_params(run, scenarios, params) and run.chunk_size == chunk_size:
                return run.id, list(run.done_chunks or [])
            run.state = "failed"  # superseded by a run with other policies, models or options
            run.finished_at = utcnow()
        run = PreapprovalRunRow(as_of=as_of, state="running", scenarios=scenarios, params=params,
                                chunk_size=chunk_size, n_enterprises=n, done_chunks=[], started_at=utcnow(),
                                actor=actor)
        s.add(run)
        s.flush()
        # offers past their validity expire; they would never be accepted anyway
        s.execute(update(OfferRow).where(OfferRow.status == "open", OfferRow.expires_on < as_of)
                  .values(status="expired", updated_at=utcnow()))
        return run.id, []


def _best(current: Any, cand: Any) -> Any:
    if current is None:
        return cand
    a, b = current.offer, cand.offer
    if b.limit > a.limit or (b.limit == a.limit and b.annual_rate < a.annual_rate):
        return cand
    return current


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the forked deciders, once joined)."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class _Timer:
    """Wall-clock and CPU seconds per stage (the machine may be shared: CPU shows the work itself)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[stage] = self.wall.get(stage, 0.0) + time.perf_counter() - w
            self.cpu[stage] = self.cpu.get(stage, 0.0) + time.process_time() - c


@dataclass
class _Plan:
    """Everything a run decides with, prepared once: policies, models, facts rows, scores, exposures, truth."""

    as_of: date
    home: Path
    policies: dict[str, ActivePolicy]
    models: dict[str, ModelSource]
    reads: dict[tuple[str, str], tuple[str, ...]]
    rows: list[dict[str, Any]]
    scores: dict[str, list[Any]]
    exposure: dict[str, Decimal]
    extras: dict[str, dict[str, Any]]
    bads: dict[str, bool] | None
    horizon: int | None
    lgd: Decimal
    inputs_ref: str
    timer: _Timer


def _select_policies(engine: Engine, scenario_ids: Sequence[str] | None) -> dict[str, ActivePolicy]:
    policies = active_policies(engine)
    if scenario_ids:
        unknown = sorted(set(scenario_ids) - set(policies))
        if unknown:
            raise NotFound(f"no active policy for scenarios {unknown}", code="scenario_not_active", scenarios=unknown)
        policies = {k: v for k, v in policies.items() if k in scenario_ids}
    if not policies:
        raise Conflict("no scenario has an active policy: run `puhui policy bootstrap` (shipped scenarios) or "
                       "draft, approve and activate one", code="no_active_policies")
    return policies


def _prepare(engine: Engine, as_of: date, home: Path, policies: dict[str, ActivePolicy], *,
             limit_enterprises: int | None, fallback_model: bool, console: Console | None,
             fallback_snapshots: int = 3, fallback_features: tuple[str, ...] | None = None) -> _Plan:
    from puhui.decisioning.facts import facts_frame
    from puhui.decisioning.portfolio import borrower_exposures
    from puhui.decisioning.scenario import _library_names
    from puhui.decisioning.scoring import score_facts
    from puhui.indicators.batch import indicator_table_path

    timer = _Timer()
    arms = [s for p in policies.values() for s in (p.champion, p.challenger) if s is not None]
    with timer("indicators"):
        _ensure_table(home, as_of, console)  # the batch runs here when the date has no table
        indicators, _, _ = _library_names()
    with timer("model_resolve"):
        models = resolve_models(engine, home, {s.model.name for s in arms}, fallback=fallback_model,
                                console=console, max_snapshots=fallback_snapshots, prefixes=fallback_features)
    with timer("indicators"):
        # the snapshot a decision keeps is what its rules and limit read; the model's inputs stay in the batch
        # table (inputs_ref) and its result is stored with the decision, so the snapshot stays small
        reads = {(s.id, s.version): tuple(v for v in s.variables if v in indicators) for s in arms}
        needed = dict.fromkeys(v for names in reads.values() for v in names)
        for m in models.values():
            needed.update(dict.fromkeys(m.features))
        frame = facts_frame(home, as_of, columns=needed)  # the src_* presence flags always come with it
        if limit_enterprises is not None:
            frame = frame.head(max(0, int(limit_enterprises)))
        rows = list(frame.iter_rows(named=True))
    with timer("scoring"):  # once per model for every enterprise
        scores = {name: score_facts(m.model, frame, name=name, version=m.version) for name, m in models.items()}
    with timer("exposure"):
        usccs = [r["uscc"] for r in rows]
        exposure = borrower_exposures(engine, as_of, usccs)
        chain = any(s.family == "supply_chain" for s in arms)
        extras = _chain_extras(engine, home, as_of, set(usccs)) if chain else {}

    truth = realised_bads(home, as_of)
    return _Plan(as_of=as_of, home=home, policies=policies, models=models, reads=reads, rows=rows, scores=scores,
                 exposure=exposure, extras=extras, bads=None if truth is None else truth[0],
                 horizon=None if truth is None else truth[1],
                 lgd=Decimal(str(REGULATORY.get(LGD_SETTING, on=as_of))),
                 inputs_ref=f"indicators:{indicator_table_path(home, as_of)}", timer=timer)


def _decide_chunk(plan: _Plan, lo: int, hi: int, *, record_all: bool, run_id: int, actor: str,
                  ) -> tuple[dict[str, ScenarioStats], list[DecisionInput], dict[str, DecisionInput]]:
    """Every scenario for the enterprises of rows lo … hi−1: stats, records (if all) and the best offers."""
    from puhui.decisioning.engine import decide
    from puhui.decisioning.facts import facts_from_row

    stats = {sid: ScenarioStats() for sid in plan.policies}
    records: list[DecisionInput] = []
    best: dict[str, DecisionInput] = {}
    for i in range(lo, hi):
        row = plan.rows[i]
        uscc = row["uscc"]
        full = facts_from_row(row, plan.as_of, exposure=plan.exposure.get(uscc, ZERO), extra=plan.extras.get(uscc))
        for sid, pol in plan.policies.items():
            arm = arm_for(pol, uscc)
            scen, version, _ = pol.for_arm(arm)
            facts = full.subset(plan.reads[(scen.id, scen.version)])
            d = decide(scen, facts, plan.scores[scen.model.name][i])
            if d.policy_version != version:  # the registered version id names the text decided with
                d = replace(d, policy_version=version)
            stats[sid].add(d, arm, plan.lgd, plan.bads)
            item = DecisionInput(d, facts, "preapproval", arm, plan.inputs_ref, run_id, actor)
            if record_all:
                records.append(item)
            if d.outcome == "approve":
                cur = best.get(uscc)
                if cur is None or _best(cur.decision, d) is d:
                    best[uscc] = item
    return stats, records, best


_FORKED: dict[str, _Plan] = {}  # the plan forked deciders read (inherited copy-on-write, never pickled)


def _decide_in_worker(args: tuple[tuple[int, int, int], bool, int, str]) -> tuple[tuple[int, int, int], Any]:
    (k, lo, hi), record_all, run_id, actor = args
    return (k, lo, hi), _decide_chunk(_FORKED["plan"], lo, hi, record_all=record_all, run_id=run_id, actor=actor)


def _forget_connections(engine: Engine) -> None:
    engine.dispose(close=False)  # a forked child must not use (or close) the parent's pooled connections


@contextmanager
def _deciders(plan: _Plan, engine: Engine, workers: int, n_chunks: int) -> Iterator[Any]:
    """A function chunks → iterator of (chunk, decisions) in chunk order: in this process, or in a pool of
    forked processes that inherit the prepared plan (facts, scores, compiled policies) without pickling it."""
    if workers <= 1 or n_chunks <= 1:
        def serial(chunks: list[tuple[int, int, int]], **kw: Any) -> Iterator[Any]:
            return (((k, lo, hi), _decide_chunk(plan, lo, hi, **kw)) for k, lo, hi in chunks)

        yield serial
        return
    import multiprocessing

    _FORKED["plan"] = plan
    pool = multiprocessing.get_context("fork").Pool(min(workers, n_chunks), initializer=_forget_connections,
                                                    initargs=(engine,))  # fmt: skip
    try:
        def parallel(chunks: list[tuple[int, int, int]], *, record_all: bool, run_id: int, actor: str) -> Any:
            return pool.imap(_decide_in_worker, [(c, record_all, run_id, actor) for c in chunks])

        yield parallel
    finally:
        pool.terminate()
        pool.join()
        _FORKED.clear()


def _write_chunk(engine: Engine, plan: _Plan, run_id: int, chunk: dict[str, Any], records: list[DecisionInput],
                 best: dict[str, DecisionInput]) -> None:
    """One transaction: the decisions, the offers (superseding older open ones) and the chunk's entry."""
    to_write = records or list(best.values())
    with transaction(engine) as s:
        ids: list[int] = []
        if to_write:
            ids = list(s.scalars(insert(DecisionRow).returning(DecisionRow.id, sort_by_parameter_order=True),
                                 [decision_row_values(r) for r in to_write]))
        index = {(r.decision.uscc, r.decision.scenario_id): ids[j] for j, r in enumerate(to_write)}
        now = utcnow()
        offer_rows = []
        for uscc, item in best.items():
            d, o = item.decision, item.decision.offer
            offer_rows.append({"uscc": uscc, "scenario_id": d.scenario_id, "decision_id": index[(uscc, d.scenario_id)],
                               "limit": o.limit, "annual_rate": o.annual_rate, "apr": o.apr,
                               "term_months": o.term_months, "methods": list(o.methods), "as_of": plan.as_of,
                               "expires_on": o.expires_on, "status": "open", "run_id": run_id, "created_at": now,
                               "updated_at": now})
        if offer_rows:
            s.execute(update(OfferRow).where(OfferRow.uscc.in_(list(best)), OfferRow.status == "open")
                      .values(status="superseded", updated_at=now))
            s.execute(insert(OfferRow), offer_rows)
        run = s.get(PreapprovalRunRow, run_id, with_for_update=True)
        assert run is not None
        run.done_chunks = [*run.done_chunks, chunk]


def run_preapproval(engine: Engine, as_of: date | str, *, home: Path | None = None,
                    scenario_ids: Sequence[str] | None = None, limit_enterprises: int | None = None,
                    chunk_size: int = 1000, record_all: bool = False, fallback_model: bool = True,
                    actor: str = "system:preapprove", fresh: bool = False, console: Console | None = None,
                    stop_after_chunks: int | None = None, fallback_snapshots: int = 3,
                    fallback_features: tuple[str, ...] | None = None, workers: int = 1) -> dict[str, Any]:
    """Run (or resume) the pre-approval of `as_of`; returns the summary (see the module docstring).

    `stop_after_chunks` ends the call after that many new chunks, leaving the run resumable (a bounded
    step for operators and tests); `fresh` abandons a running run of the date and starts again;
    `fallback_snapshots` / `fallback_features` (indicator id prefixes) bound the on-the-fly fallback model.
    `workers` > 1 decides chunks in that many forked processes (the rules are pure and CPU-bound); this
    process still writes every chunk, in order, so the stored result is the same as with one worker.
    """
    from puhui.config import paths

    t_start, c_start = time.perf_counter(), _cpu_seconds()
    as_of = parse_date(as_of, field="as_of")
    home = Path(home) if home is not None else paths().home
    plan = _prepare(engine, as_of, home, _select_policies(engine, scenario_ids), limit_enterprises=limit_enterprises,
                    fallback_model=fallback_model, console=console, fallback_snapshots=fallback_snapshots,
                    fallback_features=fallback_features)
    timer = plan.timer
    scen_list = [{"scenario_id": sid, "champion": p.champion_version, "challenger": p.challenger_version,
                  "traffic_share": p.traffic_share} for sid, p in sorted(plan.policies.items())]
    params = {"models": {n: m.version for n, m in plan.models.items()}, "limit_enterprises": limit_enterprises,
              "record_all": record_all, "enterprises": len(plan.rows)}
    run_id, done = _find_or_start(engine, as_of, scen_list, params, chunk_size, len(plan.rows), actor, fresh)
    done_ks = {c["k"] for c in done}
    n = len(plan.rows)
    chunks = [(k, i, min(i + chunk_size, n)) for k, i in enumerate(range(0, n, chunk_size))]
    pending = [c for c in chunks if c[0] not in done_ks][:stop_after_chunks]
    with _progress(console) as progress, _deciders(plan, engine, workers, len(pending)) as decide_chunks:
        task = progress.add_task(f"pre-approval as of {as_of} · {len(plan.policies)} scenarios", total=n,
                                 completed=sum(hi - lo for k, lo, hi in chunks if k in done_ks))
        decided = decide_chunks(pending, record_all=record_all, run_id=run_id, actor=actor)
        while True:
            with timer("rules"):  # in parallel: the wait for the next chunk's decisions
                step = next(decided, None)
            if step is None:
                break
            (k, lo, hi), (stats, records, best) = step
            offers = ScenarioStats()
            for item in best.values():
                offers.add(item.decision, item.arm, plan.lgd, plan.bads)
            chunk = {"k": k, "n": hi - lo, "offers": offers.to_json(),
                     "stats": {sid: st.to_json() for sid, st in stats.items()}}
            with timer("writes"):
                _write_chunk(engine, plan, run_id, chunk, records, best)
            progress.advance(task, hi - lo)
    return _summarise(engine, plan, run_id, len(chunks), done_ks, timer, time.perf_counter() - t_start,
                      _cpu_seconds() - c_start, record_all)


def _summarise(engine: Engine, plan: _Plan, run_id: int, n_chunks: int, resumed: set[int],
               timer: _Timer, elapsed: float, cpu: float, record_all: bool) -> dict[str, Any]:
    """Merge every chunk's statistics (this call's and a killed run's); close the run when all are done."""
    with transaction(engine) as s:
        run = s.get(PreapprovalRunRow, run_id, with_for_update=True)
        assert run is not None
        chunks_done = list(run.done_chunks)
        total = {sid: ScenarioStats() for sid in plan.policies}
        offers = ScenarioStats()
        for c in chunks_done:
            for sid, st in c["stats"].items():
                total.setdefault(sid, ScenarioStats()).merge(ScenarioStats.from_json(st))
            offers.merge(ScenarioStats.from_json(c["offers"]))
        complete = len(chunks_done) == n_chunks
        evaluated_now = sum(c["n"] for c in chunks_done if c["k"] not in resumed) * len(plan.policies)
        o = offers.report(plan.horizon)
        by_scenario = dict(s.execute(select(OfferRow.scenario_id, func.count()).where(OfferRow.run_id == run_id)
                                     .group_by(OfferRow.scenario_id).order_by(OfferRow.scenario_id)).all())
        summary = {
            "run_id": run_id, "as_of": plan.as_of.isoformat(), "state": "done" if complete else "running",
            "enterprises": len(plan.rows), "scenarios": len(plan.policies), "chunks": n_chunks,
            "chunks_done": len(chunks_done), "resumed_chunks": len(resumed),
            "evaluations": sum(st.evaluated for st in total.values()),
            "models": {n: m.describe() for n, m in plan.models.items()},
            "lgd": str(plan.lgd), "realised_horizon_months": plan.horizon,
            "per_scenario": {sid: st.report(plan.horizon) for sid, st in sorted(total.items())},
            "offers": {"enterprises_with_offer": offers.approved, "total_limit": str(offers.total_limit),
                       "expected_loss": o["expected_loss"], "expected_bad_rate": o["expected_bad_rate"],
                       "realised_bad_rate": o["realised_bad_rate"], "by_scenario": by_scenario},
            "record_all": record_all,
            "timings_seconds": {k: round(v, 3) for k, v in timer.wall.items()},
            "cpu_seconds": {k: round(v, 3) for k, v in timer.cpu.items()},
            "elapsed_seconds": round(elapsed, 3), "cpu_seconds_total": round(cpu, 3),
            "evaluations_this_call": evaluated_now,
            "evaluations_per_second": round(evaluated_now / elapsed, 1) if elapsed > 0 else None,
            "evaluations_per_cpu_second": round(evaluated_now / cpu, 1) if cpu > 0 else None,
        }
        if complete:
            run.state, run.finished_at, run.summary = "done", utcnow(), summary
    return summary


