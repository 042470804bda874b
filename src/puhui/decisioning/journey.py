"""The online journey (线上申请): limit estimate, application, acceptance into a contract and a credit line.

**Estimate (在线测额)** — `estimate(...)`: a soft, indicative answer with **no credit-bureau query**. The
enterprise's consents are checked for every purpose the scenario needs except the bureau ones; the
bureau-sourced indicators (and derived ones that read them) are masked as unknown, the champion model
scores what is left and the engine decides. The answer is a *range*, not a promise: the top is the limit
and rate of that decision, the bottom those of the next worse grade (what a bureau report could cost
the enterprise; half the top, never below the product minimum, when that grade would not lend). Every
estimate is **recorded as a decision of channel `estimate`** (every number the bank shows a customer is
explainable later), but makes no offer, application or bureau query.

**Application (授信申请)** — `apply(...)`: USCC, amount and date checked → in one read snapshot: a stored
replay of the Idempotency-Key, the active policy of the scenario (422 `unknown_scenario`) and of the
enterprise's arm (`arms.arm_for`: the challenger for its traffic share), the consents (422
`consent_missing` / `consent_expired`), the champion of the scenario's model (the registry's `champion`
state; none → 503 `no_champion_model`) and the borrower's existing credit (`portfolio.borrower_exposure`)
→ facts (`facts.facts_for`; `facts.chain_facts` with the core enterprise's exposure and warnings for a
supply-chain scenario) reduced to what the scenario and the model read → the score (`score_one`: the
scorecard's own bins and points without pandas, equal to `scoring.score_registered`) → `engine.decide`.
The decision record (channel `application`), the application, the offer (approve) or the review case (refer)
and the audit rows commit in **one transaction** behind the Idempotency-Key. An approval offers
`min(requested, policy limit)`; a request above the policy limit gets the policy limit (the response says so),
a request below the product minimum is refused before anything is decided. Older open offers of the same
enterprise and scenario (e.g. from pre-approval) are superseded.

**Acceptance (签约)** — `accept(...)`: only an approved, unexpired, not yet accepted application (409
`application_not_approved`, 422 `offer_expired`, 409 `already_accepted`); the inclusive-finance cap is
checked again with the exposure of the day (422 `inclusive_cap_reached`). Contract terms come from the
offer (`lending.contracts.ContractTerms`); the e-signed contract (`lending.service.do_sign_contract`,
contract number `PH-<application id>`) and the line (`do_open_line`) use keys derived from the request's
(`<key>:contract`, `<key>:line`), and an existing contract or line of this application is picked up, so
an accept interrupted between steps completes when sent again and never opens a second line. The last
step marks application and offer accepted, with the contract and line ids.

Reads: `get_application`, `preapproved_offers`. Drawdowns and repayments then go through the lending API.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from puhui.core.dates import add_months, parse_date
from puhui.core.errors import Conflict, NotFound, PolicyViolation, ServiceUnavailable, ValidationError
from puhui.core.identifiers import validate_uscc
from puhui.core.regulatory import REGULATORY
from puhui.decisioning.arms import arm_for
from puhui.decisioning.consents import BUREAU_PURPOSES, check_consents
from puhui.decisioning.engine import Decision, Facts, ModelResult, decide
from puhui.decisioning.scenario import SOURCE_PURPOSES, Scenario, model_features
from puhui.decisioning.store import ApplicationRow, DecisionRow, OfferRow, PolicyVersionRow, ReviewCaseRow
from puhui.store import audit, idempotency
from puhui.store.db import get_for_update, transaction
from puhui.store.idempotency import IdempotencyKey, Posted
from puhui.store.types import utcnow

if TYPE_CHECKING:
    from puhui.decisioning.policies import ActivePolicy
    from puhui.indicators.online import OnlineEngine

__all__ = [
    "ESTIMATE_NOTE",
    "accept",
    "apply",
    "estimate",
    "get_application",
    "mask_bureau",
    "new_offer",
    "plain",
    "policy_for",
    "preapproved_offers",
    "score_one",
]

ESTIMATE_NOTE = {
    "zh": "测额结果为参考区间，不构成授信承诺；正式申请将在您授权后查询企业征信，最终额度与利率以审批结果为准。",
    "en": "An indicative range, not an offer: a formal application queries the credit bureau with your consent, "
    "and the approved limit and rate may differ.",
}
_OUTCOME_STATUS = {"approve": "approved", "decline": "declined", "refer": "referred"}
_ESTIMATE_OUTCOME = {"approve": "likely", "refer": "needs_review", "decline": "unlikely"}


# ---- shared steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Evaluation:
    scenario: Scenario
    arm: str
    facts: Facts
    model: ModelResult
    decision: Decision


def _scope(actor: str, action: str) -> str:
    return f"{actor}:decisioning.{action}"[:200]


def _active_policy(s: Session, scenario_id: str) -> ActivePolicy:
    """The active champion (and challenger) of one scenario, read in the caller's transaction.

    One indexed query for the scenario's active rows; the texts are parsed once (`policies.parse_policy`
    caches by text, and a version's text never changes), so the hot path does not re-read every scenario.
    """
    from puhui.decisioning.policies import ActivePolicy, parse_policy

    if not isinstance(scenario_id, str) or not scenario_id:
        raise ValidationError("scenario_id is required", code="unknown_scenario", field="scenario_id")
    rows = {
        r.role: r
        for r in s.scalars(
            select(PolicyVersionRow).where(
                PolicyVersionRow.scenario_id == scenario_id, PolicyVersionRow.state == "active"
            )
        )
    }
    ch = rows.get("champion")
    if ch is None:
        active = sorted(
            set(
                s.scalars(
                    select(PolicyVersionRow.scenario_id).where(
                        PolicyVersionRow.state == "active", PolicyVersionRow.role == "champion"
                    )
                )
            )
        )
        raise ValidationError(f"unknown scenario {scenario_id!r} (no active policy); active: "
                              f"{', '.join(active) or 'none'}", code="unknown_scenario", field="scenario_id",
                              scenario_id=scenario_id, active=active)  # fmt: skip
    c = rows.get("challenger")
    return ActivePolicy(
        scenario_id=scenario_id,
        champion=parse_policy(ch.yaml_text, f"policy_versions:{ch.id}")[0],
        champion_version=ch.version,
        champion_id=ch.id,
        challenger=None if c is None else parse_policy(c.yaml_text, f"policy_versions:{c.id}")[0],
        challenger_version=None if c is None else c.version,
        challenger_id=None if c is None else c.id,
        traffic_share=0.0 if c is None or c.traffic_share is None else float(c.traffic_share),
    )


def policy_for(engine: Engine, scenario_id: str, uscc: str) -> tuple[Scenario, str]:
    """The scenario policy that decides for `uscc` (its arm's) and the arm; 422 `unknown_scenario`."""
    with transaction(engine, write=False) as s:
        policy = _active_policy(s, scenario_id)
    arm = arm_for(policy, uscc)
    return policy.for_arm(arm)[0], arm


_MODELS: dict[tuple[str, str, str, str], Any] = {}


def _champion(s: Session, name: str) -> tuple[str, str]:
    """(version, artifact sha) of the champion of `name`; 503 `no_champion_model` when there is none."""
    from puhui.models.store import ModelVersionRow

    row = s.execute(
        select(ModelVersionRow.version, ModelVersionRow.artifact_sha256).where(
            ModelVersionRow.name == name, ModelVersionRow.state == "champion"
        )
    ).first()
    if row is None:
        raise ServiceUnavailable(f"no champion model {name!r} is registered: train, register and promote one "
                                 "(puhui model retrain --promote-if-no-champion)", code="no_champion_model",
                                 model=name)  # fmt: skip
    return str(row[0]), str(row[1])


def _registered(engine: Engine, name: str, version: str, sha: str, home: Path) -> Any:
    """The registry entry of a version, kept in memory by artifact (versions are immutable)."""
    from puhui.models.registry import get

    key = (str(home), name, version, sha)
    hit = _MODELS.get(key)
    if hit is None:
        hit = _MODELS[key] = get(engine, name, version, home=home)
    return hit


@dataclass(frozen=True)
class _Prepared:
    scenario: Scenario
    arm: str
    consents: tuple[str, ...]
    exposure: Decimal
    model: Any  # RegisteredModel


def _prepare(engine: Engine, online: OnlineEngine, uscc: str, scenario_id: str, as_of: date, *, soft: bool,
             replay: tuple[str, str, str] | None = None) -> _Prepared | Posted:  # fmt: skip
    """Everything a decision reads from the database, in one snapshot: a stored replay of the request (if
    any), the policy and arm, the consents (422), the champion model (503) and the borrower's exposure."""
    from puhui.decisioning.portfolio import borrower_exposure
    from puhui.indicators.rawdata import check_as_of

    check_as_of(as_of, online.window(), online.clock.today())  # a future date or one before the data: 422
    with transaction(engine, write=False) as s:
        if replay is not None:
            stored = _stored_in(s, *replay)
            if stored is not None:
                return stored
        policy = _active_policy(s, scenario_id)
        arm = arm_for(policy, uscc)
        scenario = policy.for_arm(arm)[0]
        needed = tuple(p for p in scenario.consent_purposes if not (soft and p in BUREAU_PURPOSES))
        granted = check_consents(s, uscc, needed, as_of)
        version, sha = _champion(s, scenario.model.name)
        exposure = borrower_exposure(s, uscc, as_of)
    return _Prepared(
        scenario, arm, granted, exposure, _registered(engine, scenario.model.name, version, sha, online.home)
    )


def _core_warning(engine: Engine, core: str) -> bool | None:
    try:
        from puhui.monitoring.store import LIVE_STATUSES, AlertRow
    except ImportError:  # monitoring not installed: unknown, so a rule that needs it fails as no-data
        return None
    with transaction(engine, write=False) as s:
        return s.execute(select(AlertRow.id).where(AlertRow.uscc == core, AlertRow.status.in_(LIVE_STATUSES))
                         .limit(1)).first() is not None  # fmt: skip


def _facts(engine: Engine, online: OnlineEngine, scenario: Scenario, uscc: str, as_of: date,
           consents: tuple[str, ...], exposure: Decimal) -> Facts:  # fmt: skip
    from puhui.decisioning.facts import chain_facts, facts_for, pick_core
    from puhui.decisioning.portfolio import core_exposure

    if scenario.family != "supply_chain":
        return facts_for(online, uscc, as_of, exposure=exposure, consents=consents)
    from puhui.supplychain.chains import ChainSource

    chains = ChainSource(online.home / "raw")
    try:
        core = pick_core(chains.memberships(uscc, as_of=as_of))
    except NotFound:
        core = None
    if core is None:
        raise PolicyViolation(f"{uscc} is not a member of any supply chain as of {as_of}: {scenario.id} lends to "
                              "chain members only", code="not_a_chain_member", uscc=uscc,
                              scenario_id=scenario.id)  # fmt: skip
    core_exp = Decimal(core_exposure(engine, core, on=as_of, members=[uscc])["total"])
    return chain_facts(online, chains, uscc, as_of, core=core, exposure=exposure, core_exposure=core_exp,
                       core_warning=_core_warning(engine, core), consents=consents)  # fmt: skip


@cache
def _masked_ids() -> frozenset[str]:
    from puhui.indicators.library import default_library

    bureau = {s for s, p in SOURCE_PURPOSES.items() if p in BUREAU_PURPOSES}
    lib = default_library()
    masked = {i.id for i in lib.indicators if i.source in bureau}
    derived = [i for i in lib.indicators if i.derived]
    grew = True
    while grew:
        grew = False
        for i in derived:
            if i.id not in masked and masked.intersection(i.inputs or ()):
                masked.add(i.id)
                grew = True
    return frozenset(masked)


def mask_bureau(facts: Facts) -> Facts:
    """The facts as an estimate may use them: credit-bureau indicators unknown, bureau sources absent."""
    masked = _masked_ids()
    bureau = {s for s, p in SOURCE_PURPOSES.items() if p in BUREAU_PURPOSES}
    inds = {k: (None if k in masked else v) for k, v in facts.indicators.items()}
    sources = {k: (False if k in bureau else v) for k, v in facts.sources.items()}
    return replace(facts, indicators=inds, sources=sources)


# ---- one-row scoring -----------------------------------------------------------------------------------------


def _number(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise ValidationError(f"indicator value {v!r} is not a number", code="invalid_column") from None
    return float(v)


def score_one(reg: Any, facts: Facts, *, k: int = 4) -> ModelResult:
    """The champion's result for one enterprise: the same numbers as `scoring.score_registered(reg, [facts])`,
    computed without pandas for a scorecard (the frame-based path costs ~100 ms a row; this one well under
    1 ms). Bins, points, PD scaling and adverse factors are the scorecard's own (`FrozenBinning` splits,
    special codes, groups; `Scorecard.points`, `pd_from_score`, best-populated-bin reasons); a GBM goes
    through `score_registered`. `tests/decisioning/test_journey.py` checks both paths agree on a universe."""
    from puhui.decisioning.scoring import _plain, _text_indicators, score_registered
    from puhui.models.scorecard import Scorecard

    card = reg.load()
    if not isinstance(card, Scorecard):
        return score_registered(reg, [facts], k=k)[0]
    text = _text_indicators()
    total = 0.0
    lost: list[tuple[float, int, str, int]] = []
    for pos, f in enumerate(card.features):
        b = card.bins[f]
        v = facts.value(f)
        if b.kind == "numerical":
            x = _number(v) if f not in text else (math.nan if v is None else _number(v))
            if math.isnan(x):
                i = b.missing_bin
            elif x in b.special_codes:
                i = b.special_bin
            else:
                i = bisect.bisect_right(b.splits, x)
        else:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                key = None
            elif f in text or isinstance(v, str):
                key = str(v)
            else:
                key = str(_number(v))
            i = _groups(b).get(key, b.missing_bin) if key else b.missing_bin
        pts = card.points[f][i]
        total += pts
        best = max(p for p, c in zip(card.points[f], b.counts, strict=True) if c > 0)
        if best - pts > 0:
            lost.append((best - pts, pos, f, i))
    lost.sort(key=lambda t: (-t[0], t[1]))
    reasons = []
    for rank, (loss, _, f, i) in enumerate(lost[:k], start=1):
        zh, en = card.names.get(f, (f, f))
        label = card.bins[f].labels()[i]
        p = round(loss, 2)
        reasons.append(_plain({"rank": rank, "feature": f, "bin": label, "points_lost": p,
                               "text_zh": f"{zh}（{label}）较最优分箱少{p:g}分",
                               "text_en": f"{en} ({label}) scored {p:g} points below its best bin"}))  # fmt: skip
    score = float(total)
    return ModelResult(
        name=reg.name, version=reg.version, pd=float(card.pd_from_score(score)), score=score, reasons=tuple(reasons)
    )


_GROUPS: dict[int, dict[str, int]] = {}


def _groups(b: Any) -> dict[str, int]:
    hit = _GROUPS.get(id(b))
    if hit is None:
        hit = _GROUPS[id(b)] = {c: i for i, g in enumerate(b.groups) for c in g}
    return hit


def _evaluate(engine: Engine, online: OnlineEngine, uscc: str, as_of: date, prep: _Prepared, *,
              soft: bool) -> _Evaluation:  # fmt: skip
    scenario, reg = prep.scenario, prep.model
    facts = _facts(engine, online, scenario, uscc, as_of, prep.consents, prep.exposure)
    if soft:  # the engine's consent check would count the bureau purposes this estimate does not need
        facts = replace(mask_bureau(facts), consents=None)
    facts = facts.subset(tuple(dict.fromkeys([*model_features(scenario), *reg.features])))
    model = score_one(reg, facts)
    return _Evaluation(scenario, prep.arm, facts, model, decide(scenario, facts, model, settings=REGULATORY))


def plain(x: Any) -> Any:
    """A response body with every float as text: bodies go through the idempotency store, which keeps JSON
    fractions as Decimals, so a float would come back as another type in a replay (and PDs are not money)."""
    if isinstance(x, float):
        return None if math.isnan(x) else format(x, ".6g")
    if isinstance(x, Decimal):
        return str(x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return x


def _reasons(d: Decision) -> list[dict[str, Any]]:
    return [{"code": r.code, "zh": r.zh, "en": r.en, "action": r.action, "kind": r.kind} for r in d.reasons]


def _model_json(m: ModelResult, grade: str | None) -> dict[str, Any]:
    return {"name": m.name, "version": m.version, "pd": format(m.pd, ".6f"),
            "score": None if m.score is None else format(m.score, ".2f"), "grade": grade}  # fmt: skip


def _check_key(key: str | None) -> str:
    if key is None or not str(key).strip():
        raise ValidationError("an Idempotency-Key is required", code="idempotency_key_required",
                              field="Idempotency-Key")  # fmt: skip
    return key


# ---- estimate -------------------------------------------------------------------------------------------


def _step_down(scenario: Scenario, amount: Decimal) -> Decimal:
    step = scenario.limit.step
    return (amount / step).to_integral_value(rounding=ROUND_DOWN) * step


def _next_grade(scenario: Scenario, grade: str) -> tuple[str, float] | None:
    grades = list(scenario.model.grades)
    idx = next(i for i, g in enumerate(grades) if g.grade == grade)
    if idx + 1 >= len(grades):
        return None
    return grades[idx + 1].grade, grades[idx + 1].max_pd


def estimate(engine: Engine, online: OnlineEngine, uscc: str, scenario_id: str, as_of: date | str, *,
             actor: str = "system", key: str | None = None) -> Posted:  # fmt: skip
    """在线测额: an indicative limit and rate range without a bureau query; recorded as channel `estimate`."""
    code = validate_uscc(uscc)
    day = parse_date(as_of, field="as_of")
    prep = _prepare(engine, online, code, scenario_id, day, soft=True)
    assert isinstance(prep, _Prepared)
    ev = _evaluate(engine, online, code, day, prep, soft=True)
    d, sc = ev.decision, ev.scenario
    limit_range = rate_range = None
    if d.offer is not None:
        high, rate_low = d.offer.limit, d.offer.annual_rate
        low, rate_high = max(_step_down(sc, high / 2), sc.limit.min), sc.pricing.cap
        nxt = _next_grade(sc, d.grade) if d.grade else None
        if nxt is not None and nxt[0] not in sc.model.decline:
            worse = decide(sc, ev.facts, replace(ev.model, pd=min(nxt[1], 1.0)), settings=REGULATORY)
            if worse.offer is not None:
                low, rate_high = worse.offer.limit, worse.offer.annual_rate
        low = min(low, high)
        limit_range = {"low": str(low), "high": str(high)}
        rate_range = {"low": str(rate_low), "high": str(max(rate_high, rate_low))}
    body = {
        "uscc": code, "scenario_id": sc.id, "scenario_name": sc.name_zh, "as_of": day.isoformat(),
        "indicative": True, "bureau_query": False, "outcome": _ESTIMATE_OUTCOME[d.outcome],
        "limit_range": limit_range, "annual_rate_range": rate_range,
        "term_months": sc.term.months, "repayment_methods": list(sc.repayment_methods),
        "reasons": _reasons(d), "note": ESTIMATE_NOTE,
    }  # fmt: skip

    def work(s: Session) -> dict[str, Any]:
        from puhui.decisioning.records import record_decision

        did = record_decision(s, d, channel="estimate", facts=ev.facts, arm=ev.arm, actor=actor)
        return plain({"estimate_id": did, **body})

    request = {"uscc": code, "scenario_id": scenario_id, "as_of": day.isoformat()}
    return idempotency.run_once(engine, scope=_scope(actor, "estimate"), action="estimate", key=key,
                                request=request, status=201, work=work)  # fmt: skip


# ---- apply ----------------------------------------------------------------------------------------------


def _offer_json(row: OfferRow | None, decision_offer: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = {"offer_id": row.id, "limit": str(row.limit), "annual_rate": str(row.annual_rate.normalize()),
           "apr": str(row.apr.normalize()), "term_months": row.term_months, "methods": list(row.methods),
           "expires_on": row.expires_on.isoformat(), "status": row.status}  # fmt: skip
    if decision_offer:
        out["policy_limit"] = decision_offer.get("limit")
        out["line_validity_months"] = decision_offer.get("line_validity_months")
        out["fees"] = decision_offer.get("fees") or []
    return out


def _decision_json(d: DecisionRow) -> dict[str, Any]:
    return {"decision_id": d.id, "outcome": d.outcome, "arm": d.arm, "policy_version": d.policy_version,
            "as_of": d.as_of.isoformat(),
            "model": {"name": d.model_name, "version": d.model_version, "pd": d.pd, "score": d.score,
                      "grade": d.grade},
            "reasons": d.reasons, "policy_offer": d.offer,
            "adverse_factors": (d.model_result or {}).get("reasons", [])}  # fmt: skip


def _application_json(s: Session, app: ApplicationRow, *, decision: dict[str, Any] | None = None,
                      offer: OfferRow | None = None, case: ReviewCaseRow | None = None,
                      fresh: bool = False) -> dict[str, Any]:  # fmt: skip
    """The application's answer; `fresh` (just written in this transaction): use what is given, read nothing."""
    if not fresh:
        d = s.get(DecisionRow, app.decision_id) if app.decision_id is not None else None
        decision = None if d is None else _decision_json(d)
        offer = s.get(OfferRow, app.offer_id) if app.offer_id is not None else None
        case = s.execute(select(ReviewCaseRow).where(ReviewCaseRow.application_id == app.id)).scalar_one_or_none()
    return {
        "application_id": app.id, "uscc": app.uscc, "scenario_id": app.scenario_id, "status": app.status,
        "requested_amount": None if app.requested_amount is None else str(app.requested_amount),
        "decision": decision,
        "offer": _offer_json(offer, None if decision is None else decision["policy_offer"]),
        "review_case": None if case is None else {"case_id": case.id, "status": case.status,
                                                  "assignee": case.assignee},
        "contract_id": app.contract_id, "line_id": app.line_id,
        "decided_at": None if app.decided_at is None else app.decided_at.isoformat(),
        "accepted_at": None if app.accepted_at is None else app.accepted_at.isoformat(),
        "expires_on": None if app.expires_on is None else app.expires_on.isoformat(),
    }  # fmt: skip


def new_offer(s: Session, *, uscc: str, scenario_id: str, decision_id: int, offer: Mapping[str, Any],
              limit: Decimal, as_of: date, expires_on: date) -> OfferRow:  # fmt: skip
    """Write an open offer of `limit` on the terms of a decision's offer, superseding older open ones."""
    s.execute(update(OfferRow).where(OfferRow.uscc == uscc, OfferRow.scenario_id == scenario_id,
                                     OfferRow.status == "open").values(status="superseded", updated_at=utcnow())
              .execution_options(synchronize_session=False))  # fmt: skip
    row = OfferRow(uscc=uscc, scenario_id=scenario_id, decision_id=decision_id, limit=limit,
                   annual_rate=Decimal(str(offer["annual_rate"])), apr=Decimal(str(offer["apr"])),
                   term_months=int(offer["term_months"]), methods=list(offer["methods"]), as_of=as_of,
                   expires_on=expires_on, status="open")  # fmt: skip
    s.add(row)
    s.flush()
    return row


def apply(engine: Engine, online: OnlineEngine, uscc: str, scenario_id: str, requested_amount: Any,
          as_of: date | str, actor: str, key: str | None) -> Posted:  # fmt: skip
    """授信申请: decide and record (decision, application, offer or review case) in one transaction. 201."""
    from puhui.lending.contracts import parse_amount

    key = _check_key(key)
    code = validate_uscc(uscc)
    day = parse_date(as_of, field="as_of")
    requested = parse_amount(requested_amount, "requested_amount")
    request = {"uscc": code, "scenario_id": scenario_id, "requested_amount": str(requested),
               "as_of": day.isoformat()}  # fmt: skip
    prep = _prepare(
        engine,
        online,
        code,
        scenario_id,
        day,
        soft=False,
        replay=(_scope(actor, "apply"), key, idempotency.fingerprint("apply", request)),
    )
    if isinstance(prep, Posted):
        return prep
    scenario = prep.scenario
    if requested < scenario.limit.min:
        raise PolicyViolation(f"{scenario.name_zh} lends at least {scenario.limit.min}; {requested} was requested",
                              code="amount_below_minimum", field="requested_amount",
                              minimum=str(scenario.limit.min))  # fmt: skip
    ev = _evaluate(engine, online, code, day, prep, soft=False)
    d = ev.decision
    granted = None if d.offer is None else min(requested, d.offer.limit)

    def work(s: Session) -> dict[str, Any]:
        from puhui.decisioning.records import record_decision

        did = record_decision(s, d, channel="application", facts=ev.facts, arm=ev.arm, actor=actor)
        offer_row = None
        if d.outcome == "approve" and d.offer is not None and granted is not None:
            offer_row = new_offer(
                s,
                uscc=code,
                scenario_id=d.scenario_id,
                decision_id=did,
                offer=d.offer.to_json(),
                limit=granted,
                as_of=day,
                expires_on=d.offer.expires_on,
            )
        app = ApplicationRow(uscc=code, scenario_id=d.scenario_id, decision_id=did,
                             offer_id=None if offer_row is None else offer_row.id, status=_OUTCOME_STATUS[d.outcome],
                             channel="online", requested_amount=requested, decided_at=utcnow(),
                             expires_on=None if offer_row is None else offer_row.expires_on)  # fmt: skip
        s.add(app)
        s.flush()
        audit.record(s, actor=actor, action="apply", entity="application", entity_id=app.id,
                     payload={"decision_id": did, "outcome": d.outcome, "scenario_id": d.scenario_id,
                              "reasons": list(d.reason_codes), "requested": str(requested),
                              "granted": None if granted is None else str(granted)}, business_date=day)  # fmt: skip
        case = None
        if d.outcome == "refer":
            case = ReviewCaseRow(application_id=app.id, status="open", reason=",".join(d.reason_codes)[:200])
            s.add(case)
            s.flush()
            audit.record(
                s,
                actor=actor,
                action="open_review_case",
                entity="review_case",
                entity_id=case.id,
                payload={"application_id": app.id, "reasons": list(d.reason_codes)},
                business_date=day,
            )
        summary = {"decision_id": did, "outcome": d.outcome, "arm": ev.arm, "policy_version": d.policy_version,
                   "as_of": d.as_of.isoformat(),
                   "model": {"name": ev.model.name, "version": ev.model.version, "pd": ev.model.pd,
                             "score": ev.model.score, "grade": d.grade},
                   "reasons": [r.to_json() for r in d.reasons],
                   "policy_offer": None if d.offer is None else d.offer.to_json(),
                   "adverse_factors": list(ev.model.reasons)}  # fmt: skip
        out = _application_json(s, app, decision=summary, offer=offer_row, case=case, fresh=True)
        out["model"] = _model_json(ev.model, d.grade)
        out["reasons"] = _reasons(d)
        out["capped_to_offer"] = granted is not None and granted < requested
        return plain(out)

    return idempotency.run_once(engine, scope=_scope(actor, "apply"), action="apply", key=key, request=request,
                                status=201, work=work)  # fmt: skip


def _stored(engine: Engine, scope: str, key: str, action: str, request: Any) -> Posted | None:
    """The stored answer of a completed request with this key (a replay), checked before any other rule."""
    with transaction(engine, write=False) as s:
        return _stored_in(s, scope, key, idempotency.fingerprint(action, request))


def _stored_in(s: Session, scope: str, key: str, fp: str) -> Posted | None:
    row = s.execute(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    if row is None or row.state != idempotency.DONE:
        return None
    if row.request_fingerprint != fp:
        raise ValidationError(f"Idempotency-Key {key!r} was already used for a different request",
                              code="idempotency_key_reused", field="Idempotency-Key", scope=scope)  # fmt: skip
    return Posted(int(row.response_status or 200), row.response_body, True)


# ---- accept ---------------------------------------------------------------------------------------------


def _contract_text(app: ApplicationRow, offer: OfferRow, terms: Any, decision_offer: Mapping[str, Any],
                   scenario_name: str) -> str:  # fmt: skip
    fees = "；".join(f"{f['name']} {f['kind']} {f['rate']}" for f in decision_offer.get("fees") or []) or "无"
    return (
        f"授信额度合同（{scenario_name}）\n合同编号：PH-{app.id}\n借款人（统一社会信用代码）：{app.uscc}\n"
        f"授信额度：人民币{terms.limit}元（{'循环' if terms.revolving else '一次性'}额度）\n"
        f"额度有效期：{terms.valid_from.isoformat()}至{terms.valid_to.isoformat()}\n"
        f"年利率：{terms.annual_rate.value}（单利，按日计息）；综合年化成本（APR）：{offer.apr.normalize()}\n"
        f"还款方式：{'、'.join(m.value for m in terms.methods)}；单笔用信期限最长{terms.max_term_months}个月\n"
        f"费用：{fees}\n借款用途：{terms.purpose}（不得用于购房、股市及其他禁止性用途）\n"
        f"依据决策记录：{app.decision_id}；要约：{offer.id}\n"
    )


def _acceptable(engine: Engine, application_id: int) -> tuple[ApplicationRow, OfferRow, DecisionRow]:
    """The application, its offer and decision, if the application is approved and not yet accepted."""
    with transaction(engine, write=False) as s:
        app = s.get(ApplicationRow, application_id)
        if app is None:
            raise NotFound(f"application {application_id} does not exist", code="application_not_found",
                           application_id=application_id)  # fmt: skip
        if app.status == "accepted":
            raise Conflict(
                f"application {application_id} was already accepted (line {app.line_id})",
                code="already_accepted",
                application_id=application_id,
                line_id=app.line_id,
            )
        if app.status != "approved" or app.offer_id is None:
            raise Conflict(
                f"application {application_id} is {app.status}, not approved: nothing to accept",
                code="application_not_approved",
                application_id=application_id,
                status=app.status,
            )
        offer = s.get(OfferRow, app.offer_id)
        decision = s.get(DecisionRow, app.decision_id)
        assert offer is not None and decision is not None
        s.expunge_all()
        return app, offer, decision


def _contract_and_line(engine: Engine, app: ApplicationRow, offer: OfferRow, pol: Mapping[str, Any], terms: Any,
                       contract_no: str, *, signer: str, day: date, signed_at: datetime | None, actor: str,
                       key: str) -> tuple[int, int]:  # fmt: skip
    """Sign the contract and open the line (or pick up those an interrupted accept of this application made)."""
    from puhui.decisioning.portfolio import borrower_cap, borrower_exposure
    from puhui.lending import service as lending
    from puhui.lending.store import CreditLineRow, LoanContractRow

    with transaction(engine, write=False) as s:
        contract = s.execute(
            select(LoanContractRow.id, LoanContractRow.signer).where(LoanContractRow.contract_no == contract_no)
        ).first()
        line_id = (
            None
            if contract is None
            else s.execute(
                select(CreditLineRow.id).where(CreditLineRow.contract_id == contract.id)
            ).scalar_one_or_none()
        )
    if contract is None:
        exposure = borrower_exposure(engine, app.uscc, day)
        cap = borrower_cap(day)
        if exposure + offer.limit > cap:
            raise PolicyViolation(f"accepting would take {app.uscc}'s total credit to {exposure + offer.limit}, "
                                  f"above the inclusive-finance cap {cap}", code="inclusive_cap_reached",
                                  exposure=str(exposure), limit=str(offer.limit), cap=str(cap))  # fmt: skip
        text = _contract_text(app, offer, terms, pol, app.scenario_id)
        at = signed_at or datetime.now(UTC).replace(microsecond=0)
        signed = lending.do_sign_contract(engine, contract_no=contract_no, borrower_id=app.uscc, text=text,
                                          terms=terms, signer=signer, signed_at=at, on=day, actor=actor,
                                          idempotency_key=f"{key}:contract")  # fmt: skip
        contract_id = int(signed.body["contract_id"])
    else:
        contract_id = int(contract.id)
    if line_id is None:
        line = lending.do_open_line(engine, contract_id=contract_id, on=day, actor=actor,
                                    idempotency_key=f"{key}:line")  # fmt: skip
        line_id = int(line.body["line_id"])

    return contract_id, line_id


def accept(engine: Engine, application_id: int, signer: str, key: str | None, *, on: date | str | None = None,
           signed_at: datetime | None = None, actor: str = "system") -> Posted:  # fmt: skip
    """签约: e-signed contract → credit line from an approved application's offer; the application accepted."""
    from puhui.lending import service as lending
    from puhui.lending.contracts import ContractTerms
    from puhui.lending.store import CreditLineRow

    key = _check_key(key)
    if not isinstance(signer, str) or not signer.strip() or len(signer) > 128:
        raise ValidationError("signer must be 1–128 characters (who signs for the borrower)", code="invalid_signer",
                              field="signer")  # fmt: skip
    request: dict[str, Any] = {"application_id": application_id, "signer": signer}
    if on is not None:
        request["on"] = parse_date(on, field="on").isoformat()
    if signed_at is not None:
        request["signed_at"] = signed_at.isoformat()
    scope = _scope(actor, "accept")
    replay = _stored(engine, scope, key, "accept", request)
    if replay is not None:
        return replay

    app, offer, decision = _acceptable(engine, application_id)
    opened = lending.business_date(engine)["open_date"]
    day = parse_date(on, field="on") if on is not None else \
        date.fromisoformat(opened) if opened is not None else decision.as_of  # fmt: skip
    if day > offer.expires_on or offer.status == "expired":
        raise PolicyViolation(f"the offer of application {application_id} expired on {offer.expires_on}; "
                              "apply again", code="offer_expired", application_id=application_id,
                              expires_on=offer.expires_on.isoformat(), on=day.isoformat())  # fmt: skip
    if offer.status == "superseded":
        raise Conflict(f"the offer of application {application_id} was superseded by a newer one",
                       code="offer_superseded", application_id=application_id)  # fmt: skip
    pol = decision.offer or {}
    months = int(pol.get("line_validity_months") or 12)
    methods = list(offer.methods)
    terms = ContractTerms(limit=offer.limit, valid_from=day, valid_to=add_months(day, months) - timedelta(days=1),
                          annual_rate=offer.annual_rate, methods=tuple(methods),
                          max_term_months=int(pol.get("max_drawdown_months") or offer.term_months),
                          revolving="revolving" in methods)  # fmt: skip
    contract_no = f"PH-{application_id}"
    try:
        contract_id, line_id = _contract_and_line(
            engine,
            app,
            offer,
            pol,
            terms,
            contract_no,
            signer=signer,
            day=day,
            signed_at=signed_at,
            actor=actor,
            key=key,
        )
    except Conflict as e:
        if e.code not in ("contract_exists", "line_exists"):
            raise
        raise Conflict(f"another acceptance of application {application_id} is under way; retry with its "
                       "Idempotency-Key, or read the application", code="accept_in_progress",
                       application_id=application_id) from e  # fmt: skip

    def work(s: Session) -> dict[str, Any]:
        row = get_for_update(s, ApplicationRow, application_id)
        if row.status == "accepted":
            raise Conflict(
                f"application {application_id} was already accepted (line {row.line_id})",
                code="already_accepted",
                application_id=application_id,
                line_id=row.line_id,
            )
        row.status, row.contract_id, row.line_id, row.accepted_at = "accepted", contract_id, line_id, utcnow()
        o = get_for_update(s, OfferRow, offer.id)
        o.status = "accepted"
        s.flush()
        audit.record(s, actor=actor, action="accept", entity="application", entity_id=row.id,
                     payload={"contract_id": contract_id, "line_id": line_id, "offer_id": o.id,
                              "limit": str(o.limit), "signer": signer}, business_date=day)  # fmt: skip
        out = _application_json(s, row)
        out["contract"] = {"contract_id": contract_id, "contract_no": contract_no,
                           "terms": terms.to_json()}  # fmt: skip
        out["line"] = lending._line_json(s.get(CreditLineRow, line_id))  # type: ignore[arg-type]
        out["business_date"] = day.isoformat()
        return plain(out)

    return idempotency.run_once(engine, scope=scope, action="accept", key=key, request=request, status=200,
                                work=work)  # fmt: skip


# ---- reads ----------------------------------------------------------------------------------------------


def get_application(engine: Engine, application_id: int, *, on: date | None = None) -> dict[str, Any]:
    """An application with its decision summary, offer, review case, contract and line; `expired` on `on`."""
    with transaction(engine, write=False) as s:
        app = s.get(ApplicationRow, application_id)
        if app is None:
            raise NotFound(f"application {application_id} does not exist", code="application_not_found",
                           application_id=application_id)  # fmt: skip
        out = _application_json(s, app)
    out = plain(out)
    if on is not None:
        out["expired"] = app.status == "approved" and app.expires_on is not None and on > app.expires_on
    return out


def preapproved_offers(engine: Engine, *, scenario_id: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Open pre-approval offers (主动授信), largest first: who to invite to apply (精准获客)."""
    with transaction(engine, write=False) as s:
        stmt = (
            select(OfferRow)
            .where(OfferRow.status == "open", OfferRow.run_id.is_not(None))
            .order_by(OfferRow.limit.desc(), OfferRow.id)
            .limit(max(1, min(int(limit), 500)))
        )
        if scenario_id:
            stmt = stmt.where(OfferRow.scenario_id == scenario_id)
        return [{"uscc": r.uscc, "scenario_id": r.scenario_id, "as_of": r.as_of.isoformat(),
                 **(_offer_json(r) or {})} for r in s.scalars(stmt)]  # fmt: skip
