"""The decision engine (决策引擎): facts + scenario + model result → a decision, pure and replayable.

`decide(scenario, facts, model)` checks, in order: the consents the scenario needs (when the caller
passes them), the data sources it requires, every eligibility rule (all are evaluated, so a decline
explains everything that failed; a rule with a missing input fails as `<code>_no_data` and takes its
`if_missing` action, by default its own), the model grade (PD → grade by the scenario's cut-offs; grades
that decline or refer), then — when nothing declined — the limit (`limits.compute_limit`) and the price
(`pricing.price`, declining `apr_above_cap` when the all-in APR would exceed the ceiling of the day).
Outcome: `decline` if any reason declines, else `refer` if any refers (the offer is then provisional, for
the credit officer), else `approve`.

`Facts` is the input snapshot (indicators, source presence, existing credit, context such as the core
enterprise of a chain loan); `Facts.sha256` hashes its canonical JSON so a replay proves the same inputs.
`Decision.to_json()` / `Decision.from_json()` round-trip exactly (Decimals as text, dates as ISO text).
No I/O here: settings come in as a `SettingsBook` (default `REGULATORY`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from puhui.core.dates import add_months
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.decisioning.cel import ExprError, MissingInput, to_cel
from puhui.decisioning.limits import LimitResult, compute_limit
from puhui.decisioning.pricing import price
from puhui.decisioning.scenario import CONSENT_PURPOSES, CONTEXT_NAMES, Compiled, Scenario, _library_names

__all__ = [
    "Decision",
    "Facts",
    "ModelResult",
    "Offer",
    "OfferFee",
    "Reason",
    "RuleResult",
    "decide",
    "decide_frame",
    "grade_for",
    "model_features",
]

from puhui.decisioning.scenario import model_features

_ZERO = Decimal("0")

MESSAGES: dict[str, tuple[str, str]] = {
    "consent_missing": ("缺少数据使用授权：{detail}", "consent missing for: {detail}"),
    "source_missing": ("缺少{detail}数据", "no {detail} data for the enterprise"),
    "model_unavailable": ("模型评分不可用，转人工审核", "no model score: referred to a credit officer"),
    "grade_decline": ("模型评级{detail}级，不符合准入要求", "model grade {detail} is not eligible"),
    "grade_refer": ("模型评级{detail}级，转人工审核", "model grade {detail}: referred to a credit officer"),
    "limit_no_data": ("额度测算数据缺失：{detail}", "limit cannot be computed, data missing: {detail}"),
    "limit_below_minimum": ("测算额度低于产品起贷金额", "the computed limit is below the product minimum"),
    "inclusive_cap_reached": ("单户授信总额已达普惠小微上限", "total credit would exceed the inclusive-finance "
                              "single-borrower cap"),
    "apr_above_cap": ("综合年化成本超过监管上限", "all-in APR would exceed the regulatory ceiling"),
}
"""Chinese and English messages of the engine's own reason codes (rule codes carry their own)."""


def _message(code: str, detail: str = "") -> tuple[str, str]:
    zh, en = MESSAGES[code]
    return zh.format(detail=detail), en.format(detail=detail)


# ---- value objects -----------------------------------------------------------------------------------------


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item"):
        return _json_value(v.item())
    if isinstance(v, Mapping):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    raise TypeError(f"cannot put a {type(v).__name__} in a decision record")


_PLAIN = frozenset({type(None), bool, int, float, str})


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class Facts:
    """What a decision reads about one enterprise on one date.

    `indicators`: indicator id → value (Decimal for amounts, int, float, bool, str, or None when unknown);
    `sources`: source → the enterprise has data in it; `exposure`: its existing credit across products
    (单户授信总额 so far, from the portfolio); `extra`: context names (`scenario.CONTEXT_NAMES`), e.g. the
    core enterprise of a chain loan; `consents`: purposes granted, or None when the caller checks them.
    """

    uscc: str
    as_of: date
    indicators: Mapping[str, Any]
    sources: Mapping[str, bool] = field(default_factory=dict)
    exposure: Decimal = _ZERO
    extra: Mapping[str, Any] = field(default_factory=dict)
    consents: tuple[str, ...] | None = None

    def value(self, name: str) -> Any:
        """An indicator, a context name or the date/exposure, as stored (None when unknown)."""
        if name in self.indicators:
            return self.indicators[name]
        if name in self.extra:
            return self.extra[name]
        if name == "exposure":
            return self.exposure
        if name == "as_of":
            return self.as_of
        if name.startswith(("has_", "src_")):  # source presence: has_<source> in CEL, src_<source> in tables
            return bool(self.sources.get(name[4:], False))
        return None

    def subset(self, names: Sequence[str]) -> Facts:
        """The same facts with only these indicators (what a scenario and its model read); names that are not
        indicators of these facts (context names, `has_<source>`) are ignored, extra and sources are kept."""
        keep = {n: self.indicators[n] for n in names if n in self.indicators}
        return Facts(self.uscc, self.as_of, keep, dict(self.sources), self.exposure, dict(self.extra), self.consents)

    def to_json(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "as_of": self.as_of.isoformat(),
                "indicators": {k: v if type(v) in _PLAIN else _json_value(v) for k, v in self.indicators.items()},
                "sources": {k: bool(v) for k, v in self.sources.items()}, "exposure": str(self.exposure),
                "extra": {k: _json_value(v) for k, v in self.extra.items()},
                "consents": None if self.consents is None else sorted(self.consents)}  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Facts:
        """Inverse of `to_json`: amounts stored as text become Decimals again (numeric indicators and context)."""
        _, _, kinds = _library_names()

        def back(name: str, v: Any, kind: str | None) -> Any:
            if isinstance(v, str) and kind == "number":
                return Decimal(v)
            return v

        inds = {k: back(k, v, kinds.get(k)) for k, v in d["indicators"].items()}
        extra = {k: back(k, v, CONTEXT_NAMES.get(k, ("",))[0]) for k, v in (d.get("extra") or {}).items()}
        consents = d.get("consents")
        return cls(uscc=d["uscc"], as_of=date.fromisoformat(d["as_of"]), indicators=inds,
                   sources=dict(d.get("sources") or {}), exposure=Decimal(d.get("exposure", "0")), extra=extra,
                   consents=None if consents is None else tuple(consents))  # fmt: skip

    @cached_property
    def canonical_json(self) -> str:
        return _canonical(self.to_json())

    @cached_property
    def sha256(self) -> str:
        """sha256 of the canonical facts JSON (the decision's `inputs_sha256`)."""
        return hashlib.sha256(self.canonical_json.encode()).hexdigest()


@dataclass(frozen=True)
class ModelResult:
    """A model's output for one enterprise: PD, score (scorecards), top adverse factors (zh/en)."""

    name: str
    version: str
    pd: float
    score: float | None = None
    reasons: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "pd": self.pd, "score": self.score,
                "reasons": [_json_value(r) for r in self.reasons]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ModelResult:
        return cls(name=d["name"], version=d["version"], pd=d["pd"], score=d.get("score"),
                   reasons=tuple(dict(r) for r in d.get("reasons") or ()))


@dataclass(frozen=True)
class RuleResult:
    """One eligibility rule: `status` pass | fail | no_data, the action taken if not passed, its inputs."""

    code: str
    status: str
    action: str
    inputs: dict[str, Any]

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def reason_code(self) -> str:
        return f"{self.code}_no_data" if self.status == "no_data" else self.code

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.status, "action": self.action, "inputs": dict(self.inputs)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RuleResult:
        return cls(code=d["code"], status=d["status"], action=d["action"], inputs=dict(d["inputs"]))


@dataclass(frozen=True)
class Reason:
    """A reason for the outcome: stable snake_case code, Chinese and English text, what it does, where from."""

    code: str
    zh: str
    en: str
    action: str  # decline | refer
    kind: str  # consent | data | rule | model | limit | pricing

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "action": self.action, "kind": self.kind}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Reason:
        return cls(**{k: d[k] for k in ("code", "zh", "en", "action", "kind")})


@dataclass(frozen=True)
class OfferFee:
    name: str
    kind: str
    rate: Decimal


@dataclass(frozen=True)
class Offer:
    """授信方案: the line amount, price and terms offered (provisional when the decision refers)."""

    limit: Decimal
    annual_rate: Decimal
    apr: Decimal
    base_rate: Decimal
    spread_bp: int
    term_months: int
    methods: tuple[str, ...]
    line_validity_months: int
    line_valid_until: date
    expires_on: date
    fees: tuple[OfferFee, ...] = ()
    max_drawdown_months: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"limit": str(self.limit), "annual_rate": str(self.annual_rate), "apr": str(self.apr),
                "base_rate": str(self.base_rate), "spread_bp": self.spread_bp, "term_months": self.term_months,
                "methods": list(self.methods), "line_validity_months": self.line_validity_months,
                "line_valid_until": self.line_valid_until.isoformat(), "expires_on": self.expires_on.isoformat(),
                "fees": [{"name": f.name, "kind": f.kind, "rate": str(f.rate)} for f in self.fees],
                "max_drawdown_months": self.max_drawdown_months}  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Offer:
        return cls(limit=Decimal(d["limit"]), annual_rate=Decimal(d["annual_rate"]), apr=Decimal(d["apr"]),
                   base_rate=Decimal(d["base_rate"]), spread_bp=int(d["spread_bp"]), term_months=int(d["term_months"]),
                   methods=tuple(d["methods"]), line_validity_months=int(d["line_validity_months"]),
                   line_valid_until=date.fromisoformat(d["line_valid_until"]),
                   expires_on=date.fromisoformat(d["expires_on"]),
                   fees=tuple(OfferFee(f["name"], f["kind"], Decimal(f["rate"])) for f in d.get("fees") or ()),
                   max_drawdown_months=d.get("max_drawdown_months"))  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """One decision: outcome, every rule's result, model and grade, the offer, the reasons, the inputs' hash."""

    uscc: str
    scenario_id: str
    policy_version: str
    outcome: str  # approve | decline | refer
    rules: tuple[RuleResult, ...]
    model: ModelResult | None
    grade: str | None
    offer: Offer | None
    reasons: tuple[Reason, ...]
    as_of: date
    inputs_sha256: str
    limit_trace: dict[str, Any] | None = None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "scenario_id": self.scenario_id, "policy_version": self.policy_version,
                "outcome": self.outcome, "rules": [r.to_json() for r in self.rules],
                "model": None if self.model is None else self.model.to_json(), "grade": self.grade,
                "offer": None if self.offer is None else self.offer.to_json(),
                "reasons": [r.to_json() for r in self.reasons], "as_of": self.as_of.isoformat(),
                "inputs_sha256": self.inputs_sha256, "limit_trace": self.limit_trace}  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Decision:
        return cls(uscc=d["uscc"], scenario_id=d["scenario_id"], policy_version=d["policy_version"],
                   outcome=d["outcome"], rules=tuple(RuleResult.from_json(r) for r in d["rules"]),
                   model=None if d.get("model") is None else ModelResult.from_json(d["model"]), grade=d.get("grade"),
                   offer=None if d.get("offer") is None else Offer.from_json(d["offer"]),
                   reasons=tuple(Reason.from_json(r) for r in d["reasons"]), as_of=date.fromisoformat(d["as_of"]),
                   inputs_sha256=d["inputs_sha256"], limit_trace=d.get("limit_trace"))  # fmt: skip


# ---- deciding ----------------------------------------------------------------------------------------------


def grade_for(scenario: Scenario, pd: float) -> str:
    """The scenario's grade of a PD (first grade whose max_pd is ≥ pd)."""
    return scenario.grade_for(pd)


def _env(c: Compiled, facts: Facts) -> dict[str, Any]:
    """The CEL values of every name the scenario reads; missing (None) names are left out."""
    out = {}
    for v in c.variables:
        x = facts.value(v)
        if x is not None:
            out[v] = to_cel(x)
    return out


def decide(scenario: Scenario, facts: Facts, model: ModelResult | None, *,
           settings: SettingsBook = REGULATORY) -> Decision:  # fmt: skip
    """Decide `scenario` for `facts` with `model`'s PD (None: no score, the case is referred). Pure."""
    c = scenario.compiled
    env = _env(c, facts)
    reasons = _consent_and_data(c, facts)
    rules = _rules(scenario, c, env, reasons)
    grade = _grade(scenario, model, reasons)
    offer = None
    trace = None
    if grade is not None and not any(r.action == "decline" for r in reasons):
        limit = compute_limit(scenario, env, grade, compiled=c, exposure=Decimal(facts.exposure),
                              inclusive_cap=Decimal(settings.get("inclusive_sme_credit_cap", on=facts.as_of)))
        trace = limit.trace()
        if limit.reason is not None:
            reasons.append(_limit_reason(scenario, limit))
        else:
            offer, why = _offer(scenario, grade, limit, facts.as_of, settings)
            if why is not None:
                reasons.append(why)
    outcome = "decline" if any(r.action == "decline" for r in reasons) else \
        "refer" if reasons else "approve"  # fmt: skip
    return Decision(uscc=facts.uscc, scenario_id=scenario.id, policy_version=c.version, outcome=outcome,
                    rules=tuple(rules), model=model, grade=grade, offer=offer, reasons=tuple(reasons),
                    as_of=facts.as_of, inputs_sha256=facts.sha256, limit_trace=trace)  # fmt: skip


def _consent_and_data(c: Compiled, facts: Facts) -> list[Reason]:
    reasons: list[Reason] = []
    if facts.consents is not None:
        lacking = [p for p in c.consent_purposes if p not in facts.consents]
        if lacking:
            zh = _message("consent_missing", "、".join(CONSENT_PURPOSES[p][0] for p in lacking))[0]
            en = _message("consent_missing", ", ".join(lacking))[1]
            reasons.append(Reason("consent_missing", zh, en, "decline", "consent"))
    for src in c.required_sources:
        if not facts.sources.get(src):
            zh, en = _source_names(src)
            reasons.append(Reason(f"missing_{src}", _message("source_missing", zh)[0],
                                  _message("source_missing", en)[1], "decline", "data"))  # fmt: skip
    return reasons


def _rules(scenario: Scenario, c: Compiled, env: dict[str, Any], reasons: list[Reason]) -> list[RuleResult]:
    rules: list[RuleResult] = []
    for rule, expr in zip(scenario.eligibility, c.rules, strict=True):
        inputs = {v: env.get(v) for v in expr.variables}
        try:
            out = expr.run(env)
        except MissingInput:
            gone = expr.missing(env)
            rr = RuleResult(rule.code, "no_data", rule.missing_action, inputs)
            reasons.append(Reason(rr.reason_code, f"{rule.zh}（数据缺失：{'、'.join(gone)}）",
                                  f"{rule.en} (no data: {', '.join(gone)})", rr.action, "rule"))  # fmt: skip
        else:
            if not isinstance(out, bool):
                raise ExprError(f"{expr.where}: rule gave {out!r}, not true/false", where=expr.where)
            rr = RuleResult(rule.code, "pass" if out else "fail", rule.action, inputs)
            if not out:
                reasons.append(Reason(rule.code, rule.zh, rule.en, rule.action, "rule"))
        rules.append(rr)
    return rules


def _grade(scenario: Scenario, model: ModelResult | None, reasons: list[Reason]) -> str | None:
    if model is None:
        zh, en = _message("model_unavailable")
        reasons.append(Reason("model_unavailable", zh, en, "refer", "model"))
        return None
    grade = scenario.grade_for(model.pd)
    if grade in scenario.model.decline:
        zh, en = _message("grade_decline", grade)
        reasons.append(Reason("grade_decline", zh, en, "decline", "model"))
    elif grade in scenario.model.refer:
        zh, en = _message("grade_refer", grade)
        reasons.append(Reason("grade_refer", zh, en, "refer", "model"))
    return grade


def _limit_reason(scenario: Scenario, limit: LimitResult) -> Reason:
    code = limit.reason or "limit_no_data"
    caps = {c.code: c for c in scenario.limit.exposure_caps}
    if code in caps:
        return Reason(code, caps[code].zh, caps[code].en, "decline", "limit")
    if code.endswith("_no_data") and code[: -len("_no_data")] in caps:
        cap = caps[code[: -len("_no_data")]]
        return Reason(code, f"{cap.zh}（数据缺失）", f"{cap.en} (no data)", "decline", "limit")
    if code == "limit_no_data":
        zh, en = _message(code, "、".join(limit.missing))[0], _message(code, ", ".join(limit.missing))[1]
    else:
        zh, en = _message(code)
    return Reason(code, zh, en, "decline", "limit")


def _offer(scenario: Scenario, grade: str, limit: LimitResult, as_of: date,
           settings: SettingsBook) -> tuple[Offer | None, Reason | None]:  # fmt: skip
    p = price(scenario.pricing, grade, as_of, term_months=scenario.term.months,
              methods=scenario.repayment_methods, settings=settings)
    ceiling = Decimal(settings.get("all_in_apr_cap", on=as_of))
    if p.apr > ceiling:
        zh, en = _message("apr_above_cap")
        return None, Reason("apr_above_cap", f"{zh}（{p.apr} > {ceiling}）", f"{en} ({p.apr} > {ceiling})", "decline",
                            "pricing")  # fmt: skip
    fees = tuple(OfferFee(f.name, f.kind, f.rate) for f in scenario.pricing.fees)
    return Offer(limit=limit.amount, annual_rate=p.annual_rate, apr=p.apr, base_rate=p.base_rate,
                 spread_bp=p.spread_bp, term_months=scenario.term.months, methods=tuple(scenario.repayment_methods),
                 line_validity_months=scenario.line_validity_months,
                 line_valid_until=add_months(as_of, scenario.line_validity_months),
                 expires_on=as_of + timedelta(days=scenario.offer_validity_days), fees=fees,
                 max_drawdown_months=scenario.term.max_drawdown_months), None  # fmt: skip


_SOURCE_NAMES: dict[str, tuple[str, str]] = {}


def _source_names(source: str) -> tuple[str, str]:
    hit = _SOURCE_NAMES.get(source)
    if hit is None:
        from puhui.data.contracts import CONTRACTS

        c = CONTRACTS.get(source)
        hit = _SOURCE_NAMES[source] = (c.zh, c.en.lower()) if c is not None else (source, source)
    return hit


def decide_frame(scenario: Scenario, facts: Sequence[Facts], models: Sequence[ModelResult | None], *,
                 settings: SettingsBook = REGULATORY) -> list[Decision]:  # fmt: skip
    """`decide` over many enterprises (pre-approval): the same decision for each row as `decide` gives."""
    if len(facts) != len(models):
        raise ValueError(f"{len(facts)} facts but {len(models)} model results")
    return [decide(scenario, f, m, settings=settings) for f, m in zip(facts, models, strict=True)]
