"""Decision records (决策记录): write a decision immutably, read it back, replay it exactly.

A record holds everything the decision depended on: the facts snapshot (`Facts.to_json()`, whose sha256
is the decision's `inputs_sha256` — a record whose snapshot does not hash to it is refused), the policy
version (its YAML text lives in `policy_versions`; a decision made under a text not yet registered stores
the text as a draft by `system:records`, so every record can be replayed), the model name, version and
result (PD, score, adverse factors), every rule's result, the reasons, the grade, the offer and the limit
trace. The `decisions` table is append-only (ORM guard and database triggers).

**Replay.** `replay_decision` rebuilds the `Facts` from the snapshot (checking its hash), parses the stored
policy text, takes the stored model result — or, with `rescore=True`, re-scores the snapshot with the
registered model version (`puhui.models.registry.get(...).load()`) — runs `engine.decide` again and
compares the whole decision document field by field. JSON numbers come back from the store as `Decimal`
(the store's codec never makes floats); the snapshot writes Decimals as text, so every JSON *number* with a
fraction was a float and is turned back into one — which makes the round trip exact.

`record_decisions` is the bulk form for batch jobs (pre-approval, backtests): one `executemany` per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from puhui.core.errors import NotFound, ValidationError
from puhui.decisioning.store import CHANNELS, DecisionRow, PolicyVersionRow
from puhui.store.db import transaction
from puhui.store.types import utcnow

if TYPE_CHECKING:
    from puhui.decisioning.engine import Decision, Facts

__all__ = [
    "DecisionInput",
    "decision_row_values",
    "ensure_policy_text",
    "get_decision",
    "list_decisions",
    "policy_text",
    "record_decision",
    "record_decisions",
    "replay_decision",
]

_SYSTEM = "system:records"


def _floats(x: Any) -> Any:
    """JSON read from the store → the JSON that was written: fractional numbers back to float."""
    if isinstance(x, Decimal):  # JSON integers parse as int: a Decimal was a fraction, i.e. a float
        return float(x)
    if isinstance(x, dict):
        return {k: _floats(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_floats(v) for v in x]
    return x


@dataclass(frozen=True)
class DecisionInput:
    """One decision to record, with its facts (the snapshot) and context."""

    decision: Decision
    facts: Facts | None
    channel: str
    arm: str = "champion"
    inputs_ref: str | None = None
    run_id: int | None = None
    actor: str | None = None


def decision_row_values(item: DecisionInput) -> dict[str, Any]:
    """The `decisions` row of one decision (what `record_decision(s)` insert)."""
    d, facts = item.decision, item.facts
    if item.channel not in CHANNELS:
        raise ValidationError(f"channel must be one of {CHANNELS}, not {item.channel!r}", code="invalid_channel",
                              field="channel")
    if facts is None and item.inputs_ref is None:
        raise ValidationError("a decision record needs its facts snapshot or where it lives (inputs_ref)",
                              code="inputs_missing")
    if facts is not None and facts.sha256 != d.inputs_sha256:
        raise ValidationError(f"the facts given hash to {facts.sha256[:12]}…, the decision was made on "
                              f"{d.inputs_sha256[:12]}…: not the inputs of this decision",
                              code="inputs_mismatch", uscc=d.uscc)
    offer = d.offer
    return {
        "uscc": d.uscc, "scenario_id": d.scenario_id, "policy_version": d.policy_version,
        "model_name": None if d.model is None else d.model.name,
        "model_version": None if d.model is None else d.model.version,
        "arm": item.arm, "channel": item.channel, "outcome": d.outcome, "grade": d.grade,
        "pd": None if d.model is None else float(d.model.pd),
        "score": None if d.model is None or d.model.score is None else float(d.model.score),
        "limit": None if offer is None else offer.limit,
        "annual_rate": None if offer is None else offer.annual_rate,
        "apr": None if offer is None else offer.apr,
        "term_months": None if offer is None else offer.term_months,
        "rules": [r.to_json() for r in d.rules], "reasons": [r.to_json() for r in d.reasons],
        "offer": None if offer is None else offer.to_json(), "limit_trace": d.limit_trace,
        "model_result": None if d.model is None else d.model.to_json(),
        "inputs": None if facts is None else facts.to_json(), "inputs_ref": item.inputs_ref,
        "inputs_sha256": d.inputs_sha256, "as_of": d.as_of, "run_id": item.run_id, "actor": item.actor,
        "created_at": utcnow(),
    }


def policy_text(s: Session, scenario_id: str, version: str) -> str | None:
    """The stored text of (scenario, version): the row registered under that id, else a row of the scenario
    whose text hashes to it today (a version id computed after the scenario schema grew), else None."""
    text = s.execute(select(PolicyVersionRow.yaml_text).where(PolicyVersionRow.scenario_id == scenario_id,
                                                              PolicyVersionRow.version == version)).scalar()
    if text is not None:
        return text
    from puhui.decisioning.policies import parse_policy

    for row_id, candidate in s.execute(select(PolicyVersionRow.id, PolicyVersionRow.yaml_text)
                                       .where(PolicyVersionRow.scenario_id == scenario_id)):
        if parse_policy(candidate, f"policy_versions:{row_id}")[1] == version:
            return candidate
    return None


def ensure_policy_text(s: Session, scenario_id: str, version: str, yaml_text: str | None) -> None:
    """Make sure the policy text of (scenario, version) is stored, so the decision can be replayed."""
    if policy_text(s, scenario_id, version) is not None:
        return
    if yaml_text is None:
        raise ValidationError(f"policy {scenario_id}@{version} is not registered and its text was not given: "
                              "the decision could not be replayed", code="policy_text_missing",
                              scenario_id=scenario_id, version=version)
    from puhui.decisioning.policies import parse_policy

    scenario, v = parse_policy(yaml_text, f"{scenario_id}@{version}")
    if (scenario.id, v) != (scenario_id, version):
        raise ValidationError(f"the text given is {scenario.id}@{v}, not {scenario_id}@{version}",
                              code="policy_text_mismatch")
    s.add(PolicyVersionRow(scenario_id=scenario_id, version=version, yaml_text=yaml_text, state="draft",
                           role="champion", author=_SYSTEM, source="recorded with a decision",
                           note="stored so that decisions under it can be replayed; not approved"))
    s.flush()


def record_decision(session: Session, decision: Decision, *, channel: str, facts: Facts | None,
                    arm: str = "champion", uscc: str | None = None, inputs_ref: str | None = None,
                    run_id: int | None = None, actor: str | None = None,
                    policy_text: str | None = None) -> int:
    """Write one decision in the caller's transaction; its id. `policy_text` is needed only when the policy
    version is not registered in `policy_versions` yet."""
    if uscc is not None and uscc != decision.uscc:
        raise ValidationError(f"decision is for {decision.uscc}, not {uscc}", code="uscc_mismatch")
    ensure_policy_text(session, decision.scenario_id, decision.policy_version, policy_text)
    values = decision_row_values(DecisionInput(decision, facts, channel, arm, inputs_ref, run_id, actor))
    return int(session.execute(insert(DecisionRow).values(**values).returning(DecisionRow.id)).scalar_one())


def record_decisions(session: Session, items: Sequence[DecisionInput], *, chunk: int = 2000) -> int:
    """Bulk insert (executemany per chunk) of decisions whose policy texts are registered; the count."""
    table = DecisionRow.__table__
    for i in range(0, len(items), chunk):
        session.execute(insert(table), [decision_row_values(it) for it in items[i:i + chunk]])
    return len(items)


# ---- reading ------------------------------------------------------------------------------------------


def _row_json(r: DecisionRow) -> dict[str, Any]:
    return {
        "id": r.id, "uscc": r.uscc, "scenario_id": r.scenario_id, "policy_version": r.policy_version,
        "model_name": r.model_name, "model_version": r.model_version, "arm": r.arm, "channel": r.channel,
        "outcome": r.outcome, "grade": r.grade, "pd": r.pd, "score": r.score,
        "limit": None if r.limit is None else str(r.limit),
        "annual_rate": None if r.annual_rate is None else str(r.annual_rate.normalize()),
        "apr": None if r.apr is None else str(r.apr.normalize()), "term_months": r.term_months,
        "rules": _floats(r.rules), "reasons": r.reasons, "offer": _floats(r.offer),
        "limit_trace": _floats(r.limit_trace), "model_result": _floats(r.model_result),
        "inputs": _floats(r.inputs), "inputs_ref": r.inputs_ref, "inputs_sha256": r.inputs_sha256,
        "as_of": r.as_of.isoformat(), "run_id": r.run_id, "actor": r.actor, "created_at": r.created_at.isoformat(),
    }


def _load(s: Session, decision_id: int) -> DecisionRow:
    row = s.get(DecisionRow, decision_id)
    if row is None:
        raise NotFound(f"decision {decision_id} does not exist", code="decision_not_found", decision_id=decision_id)
    return row


def get_decision(engine: Engine, decision_id: int) -> dict[str, Any]:
    """The full record of one decision (JSON-ready)."""
    with transaction(engine, write=False) as s:
        return _row_json(_load(s, decision_id))


def list_decisions(engine: Engine, *, uscc: str | None = None, scenario_id: str | None = None,
                   run_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Recent decisions (newest first), without the bulky snapshot."""
    with transaction(engine, write=False) as s:
        stmt = select(DecisionRow).order_by(DecisionRow.id.desc()).limit(max(1, min(limit, 1000)))
        if uscc:
            stmt = stmt.where(DecisionRow.uscc == uscc)
        if scenario_id:
            stmt = stmt.where(DecisionRow.scenario_id == scenario_id)
        if run_id is not None:
            stmt = stmt.where(DecisionRow.run_id == run_id)
        out = []
        for r in s.scalars(stmt):
            j = _row_json(r)
            for k in ("inputs", "limit_trace", "rules"):
                j.pop(k)
            out.append(j)
        return out


def stored_decision_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """The `Decision.to_json()` document a record was written from."""
    return {
        "uscc": record["uscc"], "scenario_id": record["scenario_id"], "policy_version": record["policy_version"],
        "outcome": record["outcome"], "rules": record["rules"], "model": record["model_result"],
        "grade": record["grade"], "offer": record["offer"], "reasons": record["reasons"], "as_of": record["as_of"],
        "inputs_sha256": record["inputs_sha256"], "limit_trace": record["limit_trace"],
    }


def _diff(a: Any, b: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[dict[str, Any]] = []
        for k in sorted(set(a) | set(b), key=str):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [{"field": path, "original": a, "replayed": b}]


def _home_of(record: Mapping[str, Any]) -> Any:
    """The PUHUI_HOME whose indicator table the record names (inputs_ref), else None (the configured one)."""
    from pathlib import Path

    ref = record.get("inputs_ref") or ""
    if ref.startswith("indicators:"):
        return Path(ref.removeprefix("indicators:")).parent.parent  # <home>/indicators/as_of=YYYY-MM-DD
    return None


def _rescore(engine: Engine, record: Mapping[str, Any], facts: Facts, home: Any) -> Any:
    from puhui.models import registry

    name, version = record["model_name"], record["model_version"]
    if not name or not version:
        raise ValidationError("the decision has no model to re-score with", code="no_model")
    home = home if home is not None else _home_of(record)
    registered = registry.get(engine, name, version, home=home)
    missing = [f for f in registered.features if f not in facts.indicators]
    inputs: Any = [facts]
    if missing:
        table_home = _home_of(record)
        if table_home is None:
            raise ValidationError(f"the snapshot lacks model features {missing[:5]} and names no indicator table",
                                  code="rescore_unavailable", missing=missing[:20])
        from puhui.decisioning.facts import facts_frame

        inputs = facts_frame(table_home, facts.as_of, columns=[f for f in registered.features
                                                                          if not f.startswith("src_")],
                             usccs=[facts.uscc])
        if inputs.height != 1:
            raise NotFound(f"{facts.uscc} is not in the indicator table of {facts.as_of} under {table_home}",
                           code="inputs_not_found")
    from puhui.decisioning.scoring import score_registered

    return score_registered(registered, inputs)[0]


def replay_decision(engine: Engine, decision_id: int, *, rescore: bool = False, home: Any = None) -> dict[str, Any]:
    """Decide again from the record's snapshot, policy text and model result; compare with the original.

    Returns `{outcome_equal, equal, original, replayed, diff, inputs_verified, model_source}`; `equal` is the
    whole decision document, `outcome_equal` the outcome alone.
    """
    from puhui.decisioning.engine import Facts, ModelResult, decide
    from puhui.decisioning.policies import parse_policy

    record = get_decision(engine, decision_id)
    if record["inputs"] is None:
        raise ValidationError(f"decision {decision_id} keeps its inputs at {record['inputs_ref']}; "
                              "re-materialise them to replay", code="inputs_not_inline")
    facts = Facts.from_json(record["inputs"])
    if facts.sha256 != record["inputs_sha256"]:
        raise ValidationError(f"decision {decision_id}: the stored snapshot no longer hashes to inputs_sha256",
                              code="inputs_tampered", decision_id=decision_id)
    with transaction(engine, write=False) as s:
        text = policy_text(s, record["scenario_id"], record["policy_version"])
    if text is None:
        raise NotFound(f"policy {record['scenario_id']}@{record['policy_version']} is not stored",
                       code="policy_not_found")
    scenario, _ = parse_policy(text, f"{record['scenario_id']}@{record['policy_version']}")
    if rescore:
        model, source = _rescore(engine, record, facts, home), "registry"
    else:
        mr = record["model_result"]
        model, source = (None if mr is None else ModelResult.from_json(mr)), "stored"
    from puhui.core.regulatory import REGULATORY

    replayed = decide(scenario, facts, model, settings=REGULATORY).to_json()
    # The record names the policy by its registered version id, and the replay ran exactly that stored
    # text. The hash recomputed from the text today can differ if the scenario schema grew since (new
    # defaulted fields enter the canonical JSON); that is reported, not counted as a different decision.
    hash_now = replayed["policy_version"]
    replayed["policy_version"] = record["policy_version"]
    original = stored_decision_json(record)
    diff = _diff(original, replayed)
    return {"decision_id": decision_id, "outcome_equal": original["outcome"] == replayed["outcome"],
            "equal": not diff, "inputs_verified": True, "model_source": source,
            "policy_hash_now": hash_now, "policy_hash_stable": hash_now == record["policy_version"],
            "original": original, "replayed": replayed, "diff": diff}


def as_of_of(record: Mapping[str, Any]) -> date:
    return date.fromisoformat(record["as_of"])
