"""Scenarios as data (场景): the schema of a scenario YAML, loading with checks that name file and field, versions.

A scenario is one product policy over one data mix: its family (经营快贷 credit, 抵押 collateral, 供应链
supply chain), the data sources it needs and the consent purpose each needs (个人信息保护法 Art 13/14/29,
征信业管理条例 Art 18), eligibility rules in CEL (each a reason code with a Chinese and an English message,
declining or referring when not met), the model and its grades as PD cut-offs, the limit formula (CEL
candidates combined by `min`, a grade multiplier, product and exposure caps, rounding down to a step), the
pricing (dated LPR + a spread by grade in bp, floor and cap, optional fees, all-in APR ≤ the regulatory
ceiling), the term, the repayment methods allowed and the line validity.

`parse_scenario(text, source=...)` validates everything once and compiles every CEL expression once
(cached on the `Scenario`): unknown fields, bad YAML, CEL syntax errors, variables that are neither an
indicator of the library nor a documented context name (`CONTEXT_NAMES`), a rule that does not yield a
boolean or a formula that does not yield a number on sample inputs, grades not increasing, floor above
cap, a cap above the APR ceiling — each raises `ScenarioError` (a 422 `ValidationError`) whose message and
`details` name the file and the field. `policy_version` is the content hash of the parsed scenario
(canonical JSON), so reformatting the YAML or reordering keys keeps the version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as PydanticError

from puhui.core.errors import ConfigurationError
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.decisioning.cel import Expr, ScenarioError, compile_expr

__all__ = [
    "CONSENT_PURPOSES",
    "CONTEXT_NAMES",
    "REPAYMENT_METHODS",
    "SCENARIOS_DIR",
    "SOURCE_PURPOSES",
    "Scenario",
    "ScenarioError",
    "load_scenarios",
    "model_features",
    "parse_scenario",
    "policy_version",
    "scenario_files",
]


def _default_dir() -> Path:
    env = os.environ.get("PUHUI_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "scenarios"


SCENARIOS_DIR: Path = _default_dir()
"""`<repo>/scenarios`, or the folder in `PUHUI_SCENARIOS`."""

CONSENT_PURPOSES: dict[str, tuple[str, str]] = {
    "registration": ("工商登记信息查询", "company registration data"),
    "public_records": ("公共信用信息查询", "public records (courts, penalties, abnormal operation)"),
    "credit_bureau": ("企业征信查询", "enterprise credit report query (征信业管理条例 Art 18)"),
    "personal_credit": ("个人征信查询", "personal credit report of the legal representative (Art 18)"),
    "settlement_data": ("本行结算数据使用", "in-bank settlement account data"),
    "payroll_data": ("代发工资数据使用", "payroll (代发) data"),
    "social_insurance_data": ("社保缴费数据", "social-insurance contribution data"),
    "tax_data": ("税务数据授权(银税互动)", "tax data from the tax bureau (银税互动)"),
    "electricity_data": ("电力数据授权", "electricity consumption and payment data"),
    "customs_data": ("海关及外汇数据授权", "customs declarations and foreign-exchange receipts"),
    "medical_insurance_data": ("医保结算数据授权", "medical-insurance settlement data"),
    "agriculture_data": ("农业经营数据授权", "land, output, subsidy and insurance data"),
    "ecommerce_data": ("电商平台数据授权", "e-commerce platform sales data"),
    "logistics_data": ("物流数据授权", "logistics waybill data"),
    "gov_procurement_data": ("政府采购数据授权", "government procurement awards"),
    "supply_chain_data": ("供应链交易数据授权", "trade with the core enterprise of a supply chain"),
    "property_data": ("不动产数据查询", "property holdings"),
}
"""The consent purposes a scenario may name (one consent record per purpose; PIPL Art 14 re-consent on change)."""

SOURCE_PURPOSES: dict[str, str] = {
    "registration": "registration", "registration_shareholders": "registration",
    "registration_changes": "registration", "annual_reports": "registration",
    "tax_monthly": "tax_data", "tax_credit_grades": "tax_data",
    "settlement_monthly": "settlement_data", "payroll_monthly": "payroll_data",
    "social_insurance_monthly": "social_insurance_data", "electricity_monthly": "electricity_data",
    "customs_monthly": "customs_data", "logistics_monthly": "logistics_data",
    "medical_insurance_monthly": "medical_insurance_data", "agriculture_annual": "agriculture_data",
    "ecommerce_monthly": "ecommerce_data", "gov_procurement_awards": "gov_procurement_data",
    "bureau_enterprise_accounts": "credit_bureau", "bureau_enterprise_queries": "credit_bureau",
    "bureau_enterprise_guarantees": "credit_bureau", "bureau_person_accounts": "personal_credit",
    "bureau_person_queries": "personal_credit", "public_records": "public_records",
    "chain_relations": "supply_chain_data", "chain_trade_monthly": "supply_chain_data",
    "property_holdings": "property_data",
}  # fmt: skip
"""The consent purpose a source needs unless the scenario names another."""

CONTEXT_NAMES: dict[str, tuple[str, str]] = {
    # name: (type for the load-time trial: number | bool | text, meaning)
    "as_of": ("text", "the decision date as ISO text, e.g. \"2026-06-30\""),
    "exposure": ("number", "the borrower's existing credit across all products, CNY (Facts.exposure)"),
    "chain_core": ("text", "USCC of the core enterprise whose chain the loan is based on"),
    "chain_role": ("text", "\"supplier\" or \"distributor\" in that chain"),
    "chain_tier": ("number", "1 trading with the core directly, 2 through a tier-1 member"),
    "chain_tenure_months": ("number", "whole months in the chain"),
    "chain_sales_to_core_12m": ("number", "invoiced sales to the core (its chain) over 12 months, CNY"),
    "chain_trade_12m": ("number", "invoiced trade with the chain counterparty over 12 months, CNY"),
    "chain_paid_12m": ("number", "amount the counterparty paid over 12 months, CNY"),
    "chain_receivable": ("number", "receivable from the chain counterparty: invoiced − paid over the window, CNY"),
    "chain_past_due": ("number", "past-due balance at the last reported month, CNY"),
    "chain_avg_payment_days": ("number", "paid-weighted average payment days"),
    "chain_settlement_ratio": ("number", "paid / invoiced over 12 months"),
    "chain_trade_months": ("number", "months with trade in the window"),
    "chain_dependence": ("number", "dependence on the core (依存度, 0–1)"),
    "core_rating": ("text", "issuer credit rating of the core enterprise (AAA … A)"),
    "core_rating_rank": ("number", "the rating as a rank: 1 = AAA, 2 = AA+, 3 = AA, 4 = AA-, 5 = A+, 6 = A"),
    "core_listed": ("bool", "the core enterprise's shares are listed"),
    "core_annual_revenue": ("number", "the core enterprise's revenue of the last year, CNY"),
    "core_warning": ("bool", "an open early warning on the core enterprise"),
    "core_exposure": ("number", "the bank's exposure to the core: its vouchers outstanding + its chain's loans, CNY"),
}
"""Names a CEL expression may read besides indicator ids (`Facts.extra`, `Facts.exposure`, the date). Also
`has_<source>` for every source of the library: the enterprise has data in it (`Facts.sources`)."""

REPAYMENT_METHODS = ("equal_instalment", "equal_principal", "interest_only", "revolving", "bullet")
"""还款方式, the values of `puhui.lending.terms.RepaymentMethod`."""

_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_SAMPLES = {"number": 1.0, "bool": True, "text": "A"}

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataSource(_Strict):
    """A source the scenario reads; `required` sources must describe the enterprise or it is declined."""

    source: str
    purpose: str | None = None
    required: bool = True

    @property
    def consent(self) -> str:
        return self.purpose or SOURCE_PURPOSES.get(self.source, self.source)


class Rule(_Strict):
    """准入规则: `require` must be true; otherwise `action`. Missing inputs fail with `<code>_no_data`."""

    code: Code
    require: Text
    action: Literal["decline", "refer"] = "decline"
    if_missing: Literal["decline", "refer"] | None = None
    zh: Text
    en: Text

    @property
    def missing_action(self) -> str:
        return self.if_missing or self.action


class Grade(_Strict):
    grade: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9+-]{0,3}$")]
    max_pd: Annotated[float, Field(gt=0, le=1)]


class ModelSpec(_Strict):
    """The model and its grades: a PD belongs to the first grade whose `max_pd` it does not exceed."""

    name: Code = "sme_pd"
    grades: Annotated[tuple[Grade, ...], Field(min_length=1)]
    decline: tuple[str, ...] = ()
    refer: tuple[str, ...] = ()


class Candidate(_Strict):
    """One limit candidate: a CEL number over indicators (e.g. 3 × tax paid); the limit is the min of them."""

    name: Code
    expr: Text
    optional: bool = False  # skipped (not a decline) when its inputs are missing
    zh: str = ""
    en: str = ""


class ExposureCap(_Strict):
    """A cap on an exposure other than the borrower's: headroom = `cap` − `used` (e.g. per core enterprise)."""

    code: Code
    cap: Text
    used: Text
    zh: Text
    en: Text


class LimitSpec(_Strict):
    candidates: Annotated[tuple[Candidate, ...], Field(min_length=1)]
    grade_multipliers: dict[str, Decimal]
    max: Annotated[Decimal, Field(gt=0)]
    min: Annotated[Decimal, Field(gt=0)]
    step: Annotated[Decimal, Field(gt=0)]
    exposure_caps: tuple[ExposureCap, ...] = ()


class Fee(_Strict):
    """A fee the borrower pays besides interest (担保费, 服务费): `upfront` × amount at drawdown, or `annual` ×
    amount a year, paid monthly. Fees enter the all-in APR (综合融资成本)."""

    name: Code
    kind: Literal["upfront", "annual"]
    rate: Annotated[Decimal, Field(ge=0, le=1)]
    zh: Text
    en: Text


class PricingSpec(_Strict):
    base: Literal["lpr_1y", "lpr_5y"] = "lpr_1y"
    spread_bp: dict[str, int]
    floor: Annotated[Decimal, Field(ge=0, le=1)]
    cap: Annotated[Decimal, Field(gt=0, le=1)]
    fees: tuple[Fee, ...] = ()


class TermSpec(_Strict):
    months: Annotated[int, Field(ge=1, le=120)]
    max_drawdown_months: Annotated[int, Field(ge=1, le=120)] | None = None


class Scenario(_Strict):
    """One scenario (product policy). Frozen; its compiled CEL programs are cached on it (`programs`)."""

    id: Code
    family: Literal["credit", "collateral", "supply_chain"]
    name_zh: Text
    name_en: Text
    description: str = ""
    data_sources: Annotated[tuple[DataSource, ...], Field(min_length=1)]
    eligibility: Annotated[tuple[Rule, ...], Field(min_length=1)]
    model: ModelSpec
    limit: LimitSpec
    pricing: PricingSpec
    term: TermSpec
    repayment_methods: Annotated[tuple[Literal[REPAYMENT_METHODS], ...], Field(min_length=1)]  # type: ignore[valid-type]
    line_validity_months: Annotated[int, Field(ge=1, le=60)]
    offer_validity_days: Annotated[int, Field(ge=1, le=365)] = 30

    _c: Compiled | None = PrivateAttr(default=None)

    @property
    def compiled(self) -> Compiled:
        """The compiled programs and derived lookups (set by `parse_scenario`)."""
        c = self._c
        if c is None:
            raise ScenarioError(f"scenario {self.id!r} was not loaded through parse_scenario", field="")
        return c

    @property
    def source(self) -> str:
        """The file (or label) the scenario was read from."""
        return self.compiled.source

    @property
    def version(self) -> str:
        """The policy version (content hash)."""
        return self.compiled.version

    @property
    def rule_programs(self) -> tuple[Expr, ...]:
        return self.compiled.rules

    @property
    def candidate_programs(self) -> tuple[Expr, ...]:
        return self.compiled.candidates

    @property
    def cap_programs(self) -> tuple[tuple[Expr, Expr], ...]:
        return self.compiled.caps

    @property
    def variables(self) -> tuple[str, ...]:
        """Every name the scenario's expressions read (indicator ids and context names)."""
        return self.compiled.variables

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(d.source for d in self.data_sources)

    @property
    def required_sources(self) -> tuple[str, ...]:
        return tuple(d.source for d in self.data_sources if d.required)

    @property
    def consent_purposes(self) -> tuple[str, ...]:
        """Every consent purpose the scenario needs, in first-use order."""
        return tuple(dict.fromkeys(d.consent for d in self.data_sources))

    def grade_for(self, pd: float) -> str:
        """The grade of a PD: the first whose `max_pd` is ≥ pd (the last grade has max_pd 1)."""
        for g in self.model.grades:
            if pd <= g.max_pd:
                return g.grade
        return self.model.grades[-1].grade


@dataclass(frozen=True)
class Compiled:
    """What `parse_scenario` derives once: programs, the names they read, and lookups the engine needs."""

    source: str
    version: str
    rules: tuple[Expr, ...]
    candidates: tuple[Expr, ...]
    caps: tuple[tuple[Expr, Expr], ...]
    variables: tuple[str, ...]
    required_sources: tuple[str, ...]
    consent_purposes: tuple[str, ...]


# ---- versions --------------------------------------------------------------------------------------------


def canonical_json(scenario: Scenario) -> str:
    """The scenario as canonical JSON (sorted keys, no spaces, Decimals as normalised text, so `1`, `1.0` and
    `"1.00"` are one value): what the version hashes. Fields left at their schema default are omitted, so a
    new optional field in the schema does not change the version of every existing policy."""
    data = scenario.model_dump(mode="python", exclude_defaults=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain_decimal)


def _plain_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    raise TypeError(f"cannot hash a {type(value).__name__} in a scenario")


def policy_version(text_or_scenario: str | Scenario, *, source: str = "<text>") -> str:
    """Content hash of a scenario (sha256 of its canonical JSON, 16 hex digits); YAML text is parsed first."""
    scenario = parse_scenario(text_or_scenario, source=source) if isinstance(text_or_scenario, str) \
        else text_or_scenario
    return hashlib.sha256(canonical_json(scenario).encode()).hexdigest()[:16]


# ---- loading ---------------------------------------------------------------------------------------------


def _fail(file: str, field: str, message: str, **details: Any) -> ScenarioError:
    where = f"{file}: {field}" if field else file
    return ScenarioError(f"{where}: {message}", file=file, field=field, **details)


@cache
def _library_names() -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
    """Indicator ids, source names and the trial type of each indicator, from the shipped library."""
    from puhui.indicators.library import IndicatorType, load_library

    lib = load_library(validate=False)
    kinds = {i.id: ("bool" if i.type is IndicatorType.BOOL else "text" if i.type is IndicatorType.CODE
                    else "number") for i in lib.indicators}  # fmt: skip
    return frozenset(kinds), frozenset(lib.sources), kinds


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def parse_scenario(text: str, *, source: str = "<text>", settings: SettingsBook = REGULATORY) -> Scenario:
    """YAML text → a validated `Scenario` with every CEL expression compiled; errors name `source` and field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise _fail(source, "", f"not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise _fail(source, "", "a scenario is a YAML mapping (id, family, data_sources, eligibility, …)")
    try:
        scenario = Scenario.model_validate(raw)
    except PydanticError as exc:
        err = exc.errors()[0]
        field = _loc(err["loc"])
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise _fail(source, field, f"{msg}{more}", problem=err["type"]) from None
    _check(scenario, source, settings)
    rules, candidates, caps = _compile(scenario, source)
    every = (*rules, *candidates, *(x for pair in caps for x in pair))
    scenario._c = Compiled(
        source=source, version=policy_version(scenario), rules=rules, candidates=candidates, caps=caps,
        variables=tuple(dict.fromkeys(v for e in every for v in e.variables)),
        required_sources=scenario.required_sources, consent_purposes=scenario.consent_purposes,
    )  # fmt: skip
    return scenario


def _check(s: Scenario, file: str, settings: SettingsBook) -> None:
    _check_sources(s, file)
    _check_model(s, file)
    _check_limit(s, file, settings)
    _check_pricing_and_term(s, file, settings)


def _check_sources(s: Scenario, file: str) -> None:
    _, sources, _ = _library_names()
    seen: set[str] = set()
    for i, d in enumerate(s.data_sources):
        if d.source not in sources:
            raise _fail(file, f"data_sources[{i}].source", f"unknown source {d.source!r}; known: "
                        f"{', '.join(sorted(sources))}")  # fmt: skip
        if d.source in seen:
            raise _fail(file, f"data_sources[{i}].source", f"source {d.source!r} is listed twice")
        seen.add(d.source)
        if d.consent not in CONSENT_PURPOSES:
            raise _fail(file, f"data_sources[{i}].purpose", f"unknown consent purpose {d.consent!r}; known: "
                        f"{', '.join(CONSENT_PURPOSES)}")  # fmt: skip


def _check_model(s: Scenario, file: str) -> None:
    grades = [g.grade for g in s.model.grades]
    if len(set(grades)) != len(grades):
        raise _fail(file, "model.grades", f"grade names repeat: {grades}")
    cuts = [g.max_pd for g in s.model.grades]
    for k in range(1, len(cuts)):
        if cuts[k] <= cuts[k - 1]:
            raise _fail(file, f"model.grades[{k}].max_pd", f"grade cut-offs must increase: {cuts[k - 1]} then "
                        f"{cuts[k]}")  # fmt: skip
    if cuts[-1] != 1.0:
        raise _fail(file, f"model.grades[{len(cuts) - 1}].max_pd", "the last grade must end at max_pd 1 so every "
                    "PD has a grade")  # fmt: skip
    for key in ("decline", "refer"):
        bad = [g for g in getattr(s.model, key) if g not in grades]
        if bad:
            raise _fail(file, f"model.{key}", f"unknown grades {bad}; grades are {grades}")
    both = sorted(set(s.model.decline) & set(s.model.refer))
    if both:
        raise _fail(file, "model.refer", f"grades both decline and refer: {both}")
    lending = [g for g in grades if g not in s.model.decline]
    tables = (("limit.grade_multipliers", s.limit.grade_multipliers), ("pricing.spread_bp", s.pricing.spread_bp))
    for field, table in tables:
        missing = [g for g in lending if g not in table]
        extra = [g for g in table if g not in lending]
        if missing:
            raise _fail(file, field, f"no value for grades {missing} (every grade that does not decline needs one)")
        if extra:
            raise _fail(file, field, f"values for grades that decline or do not exist: {extra}")


def _check_limit(s: Scenario, file: str, settings: SettingsBook) -> None:
    lim = s.limit
    for g, m in lim.grade_multipliers.items():
        if not 0 < m <= 5:
            raise _fail(file, f"limit.grade_multipliers.{g}", f"multiplier {m} must be in (0, 5]")
    if lim.min > lim.max:
        raise _fail(file, "limit.min", f"minimum {lim.min} is above the maximum {lim.max}")
    for field, amount in (("limit.max", lim.max), ("limit.min", lim.min)):
        if amount % lim.step:
            raise _fail(file, field, f"{amount} is not a multiple of the step {lim.step}")
    names = [c.name for c in lim.candidates]
    if len(set(names)) != len(names):
        raise _fail(file, "limit.candidates", f"candidate names repeat: {names}")
    if all(c.optional for c in lim.candidates):
        raise _fail(file, "limit.candidates", "at least one candidate must not be optional")
    inclusive = settings.history("inclusive_sme_credit_cap")
    if inclusive and lim.max > inclusive[-1].value:
        raise _fail(file, "limit.max", f"product cap {lim.max} is above the inclusive-finance single-borrower cap "
                    f"{inclusive[-1].value} ({inclusive[-1].source})")  # fmt: skip


def _check_pricing_and_term(s: Scenario, file: str, settings: SettingsBook) -> None:
    p = s.pricing
    if p.floor > p.cap:
        raise _fail(file, "pricing.floor", f"floor {p.floor} is above the cap {p.cap}")
    for g, bp in p.spread_bp.items():
        if not -500 <= bp <= 3000:
            raise _fail(file, f"pricing.spread_bp.{g}", f"spread {bp} bp is outside −500 … 3000")
    ceilings = settings.history("all_in_apr_cap")
    if ceilings:
        from puhui.decisioning.pricing import all_in_apr

        ceiling = ceilings[-1]
        for method in s.repayment_methods:
            worst = all_in_apr(p.cap, p.fees, s.term.months, method)
            if worst > ceiling.value:
                field = "pricing.fees" if p.fees and p.cap <= ceiling.value else "pricing.cap"
                raise _fail(file, field, f"the all-in APR at the rate cap {p.cap} ({method}) is {worst}, above the "
                            f"ceiling {ceiling.value} ({ceiling.source})")  # fmt: skip
    max_term = settings.history("working_capital_max_term_months")
    if max_term and s.term.months > int(max_term[-1].value):
        raise _fail(file, "term.months", f"term {s.term.months} months exceeds {max_term[-1].value} "
                    f"({max_term[-1].source})")  # fmt: skip
    if s.term.max_drawdown_months and s.term.max_drawdown_months > s.term.months:
        raise _fail(file, "term.max_drawdown_months", "a drawdown cannot run longer than the term")
    if len(set(s.repayment_methods)) != len(s.repayment_methods):
        raise _fail(file, "repayment_methods", "methods repeat")


def _compile(s: Scenario, file: str) -> tuple[tuple[Expr, ...], tuple[Expr, ...], tuple[tuple[Expr, Expr], ...]]:
    """Compile every expression once, check the names it reads, trial-run it on sample values."""
    _, sources, kinds = _library_names()
    codes = [r.code for r in s.eligibility]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise _fail(file, "eligibility", f"rule codes repeat: {dupes}")
    samples = {n: _SAMPLES[k] for n, k in kinds.items()} | {n: _SAMPLES[t] for n, (t, _) in CONTEXT_NAMES.items()}
    samples |= {f"has_{src}": True for src in sources}

    def build(text: str, field: str, want: str) -> Expr:
        expr = compile_expr(text, file=file, field=field)
        unknown = [v for v in expr.variables if v not in samples]
        if unknown:
            raise _fail(file, field, f"unknown variables {unknown}: neither an indicator of the library nor a "
                        f"context name ({', '.join(CONTEXT_NAMES)}, has_<source>)", variables=unknown)  # fmt: skip
        try:
            out = expr.program.execute({v: samples[v] for v in expr.variables})
        except (RuntimeError, TypeError, ValueError) as exc:
            raise _fail(file, field, f"{text!r} does not evaluate on sample inputs ({str(exc).splitlines()[0]}); "
                        "numbers reach CEL as doubles, so write 3.0 not 3 in arithmetic") from None  # fmt: skip
        ok = isinstance(out, bool) if want == "bool" else isinstance(out, (int, float)) and not isinstance(out, bool)
        if not ok:
            raise _fail(file, field, f"{text!r} must give a {'true/false' if want == 'bool' else 'number'}, "
                        f"got {type(out).__name__}")  # fmt: skip
        return expr

    rules = tuple(build(r.require, f"eligibility[{i}].require", "bool") for i, r in enumerate(s.eligibility))
    candidates = tuple(build(c.expr, f"limit.candidates[{i}].expr", "number")
                       for i, c in enumerate(s.limit.candidates))  # fmt: skip
    caps = tuple((build(c.cap, f"limit.exposure_caps[{i}].cap", "number"),
                  build(c.used, f"limit.exposure_caps[{i}].used", "number"))
                 for i, c in enumerate(s.limit.exposure_caps))  # fmt: skip
    return rules, candidates, caps


def model_features(scenario: Scenario) -> tuple[str, ...]:
    """The indicator ids the scenario's rules, limit candidates and caps read (not context names)."""
    indicators, _, _ = _library_names()
    out: dict[str, None] = {}
    for e in (*scenario.rule_programs, *scenario.candidate_programs, *(x for c in scenario.cap_programs for x in c)):
        out.update((v, None) for v in e.variables if v in indicators)
    return tuple(out)


def scenario_files(directory: Path | None = None) -> list[Path]:
    """The scenario YAML files of a folder, sorted by name."""
    folder = Path(directory) if directory is not None else SCENARIOS_DIR
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_scenarios(directory: Path | None = None, *, settings: SettingsBook = REGULATORY) -> dict[str, Scenario]:
    """Every scenario of a folder (default `SCENARIOS_DIR`) by id; a bad file or a repeated id is an error."""
    folder = Path(directory) if directory is not None else SCENARIOS_DIR
    if not folder.is_dir():
        raise ConfigurationError(f"scenario folder {folder} does not exist", code="no_scenarios", folder=str(folder))
    out: dict[str, Scenario] = {}
    where: dict[str, str] = {}
    for path in scenario_files(folder):
        s = parse_scenario(path.read_text(encoding="utf-8"), source=path.name, settings=settings)
        if s.id in out:
            raise _fail(path.name, "id", f"scenario id {s.id!r} is also used by {where[s.id]}")
        out[s.id] = s
        where[s.id] = path.name
    return out

