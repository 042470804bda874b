"""Policy backtest (策略回测): run a version over a historical date and compare it with the active version.

`backtest(engine, version, as_of)` — what `puhui policy backtest VERSION --as-of D` runs — takes any stored
policy version (typically a draft awaiting approval; a unique hash prefix is enough) and the active
champion of the same scenario, and decides both for every enterprise of the batch indicator table of the
date, with the same facts, exposures and model scores (`preapprove._prepare`: the registry champion, or
the documented on-the-fly fallback). It reports for each side the approval rate, the total limit, the
expected bad rate (mean model PD of the approved) and — on the synthetic universe, where the truth says
who defaulted in the 12 months after the date — the realised bad rate of the approved; then the decisions
that **flip** (approve ↔ refer ↔ decline), by transition, **why** (the reason codes present on one side
and not the other, counted), the realised bad rate of the newly approved and of the newly declined, limit
changes among enterprises both approve, and a few examples. Nothing is written: a backtest is analysis,
not a decision about anyone (its numbers are returned and printed).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict
from puhui.decisioning.policies import ActivePolicy, active_policies, find_version, parse_policy
from puhui.decisioning.preapprove import ScenarioStats, _prepare

__all__ = ["backtest"]

ZERO = Decimal("0.00")


def _side(stats: ScenarioStats, horizon: int | None, version: str, policy_id: int) -> dict[str, Any]:
    r = stats.report(horizon)
    return {"version": version, "policy_id": policy_id, "approved": r["approved"], "referred": r["referred"],
            "declined": r["declined"], "eligible": r["eligible"], "approval_rate": r["approval_rate"],
            "total_limit": r["total_limit"], "expected_loss": r["expected_loss"],
            "expected_bad_rate": r["expected_bad_rate"], "realised_bad_rate": r["realised_bad_rate"],
            "top_reasons": r["top_reasons"]}


def _rate(bad: int, n: int) -> float | None:
    return round(bad / n, 6) if n else None


def backtest(engine: Engine, version: str, as_of: date | str, *, home: Path | None = None,
             limit_enterprises: int | None = None, examples: int = 10, fallback_model: bool = True,
             console: Console | None = None, fallback_features: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Compare policy `version` with its scenario's active champion on the enterprises of `as_of`."""
    from puhui.config import paths
    from puhui.decisioning.engine import decide
    from puhui.decisioning.facts import facts_from_row

    as_of = parse_date(as_of, field="as_of")
    home = Path(home) if home is not None else paths().home
    cand_row = find_version(engine, version)
    sid = cand_row["scenario_id"]
    candidate, cand_version = parse_policy(cand_row["yaml_text"], f"policy_versions:{cand_row['id']}")
    active = active_policies(engine).get(sid)
    if active is None:
        raise Conflict(f"scenario {sid} has no active version to compare with", code="no_active_champion",
                       scenario_id=sid)
    if active.champion_version == cand_version:
        raise Conflict(f"{sid}@{cand_version} is the active version: backtest a draft or another version",
                       code="candidate_is_active", scenario_id=sid)
    base = ActivePolicy(sid, active.champion, active.champion_version, active.champion_id)
    cand = ActivePolicy(f"{sid}#candidate", candidate, cand_version, cand_row["id"])
    plan = _prepare(engine, as_of, home, {sid: base, cand.scenario_id: cand}, limit_enterprises=limit_enterprises,
                    fallback_model=fallback_model, console=console, fallback_features=fallback_features)

    stats = {"baseline": ScenarioStats(), "candidate": ScenarioStats()}
    transitions: Counter[str] = Counter()
    why: Counter[str] = Counter()
    newly = {"approved": [0, 0], "declined": [0, 0]}  # [with truth, bad]
    limit_up = limit_down = 0
    limit_delta = ZERO
    shown: list[dict[str, Any]] = []
    for i, row in enumerate(plan.rows):
        uscc = row["uscc"]
        full = facts_from_row(row, as_of, exposure=plan.exposure.get(uscc, ZERO), extra=plan.extras.get(uscc))
        out = {}
        for label, pol in (("baseline", base), ("candidate", cand)):
            scen = pol.champion
            d = decide(scen, full.subset(plan.reads[(scen.id, scen.version)]), plan.scores[scen.model.name][i])
            stats[label].add(d, "champion", plan.lgd, plan.bads)
            out[label] = d
        a, b = out["baseline"], out["candidate"]
        if a.outcome != b.outcome:
            transitions[f"{a.outcome}→{b.outcome}"] += 1
            codes = sorted(set(a.reason_codes) ^ set(b.reason_codes))
            why.update(codes)
            key = "approved" if b.outcome == "approve" else "declined" if a.outcome == "approve" else None
            if key is not None and plan.bads is not None and uscc in plan.bads:
                newly[key][0] += 1
                newly[key][1] += plan.bads[uscc]
            if len(shown) < examples:
                shown.append({"uscc": uscc, "from": a.outcome, "to": b.outcome, "because": codes,
                              "limit_from": None if a.offer is None else str(a.offer.limit),
                              "limit_to": None if b.offer is None else str(b.offer.limit)})
        elif a.offer is not None and b.offer is not None and a.offer.limit != b.offer.limit:
            limit_delta += b.offer.limit - a.offer.limit
            limit_up += b.offer.limit > a.offer.limit
            limit_down += b.offer.limit < a.offer.limit
    h = plan.horizon
    return {
        "scenario_id": sid, "as_of": as_of.isoformat(), "enterprises": len(plan.rows),
        "baseline": _side(stats["baseline"], h, active.champion_version, active.champion_id),
        "candidate": {**_side(stats["candidate"], h, cand_version, cand_row["id"]), "state": cand_row["state"]},
        "models": {n: m.describe() for n, m in plan.models.items()},
        "realised_horizon_months": h,
        "flips": {
            "total": sum(transitions.values()), "by_transition": dict(transitions.most_common()),
            "why": dict(why.most_common(10)),
            "newly_approved_realised_bad_rate": _rate(newly["approved"][1], newly["approved"][0]) if h else None,
            "newly_declined_realised_bad_rate": _rate(newly["declined"][1], newly["declined"][0]) if h else None,
            "examples": shown,
        },
        "limit_changes": {"up": limit_up, "down": limit_down, "net": str(limit_delta)},
    }
