"""Collateral line use cases (网贷通 · e抵快贷): apply, register the maximum-amount mortgage, release it — each
a `do_*` action whose rows and audit record commit together, and the queries behind the line's collateral view.

**The flow.** `do_apply_collateral_line` stores the AVM answer it relied on (a valuation snapshot), decides
(`product.decide`: LTV cap on the decision date, haircut from the confidence score, existing mortgage) and
records the application. An approved application signs the line contract with the approved limit
(`lending.service.do_sign_contract`), records a maximum-amount mortgage (最高额抵押, 民法典 Art 420) in
status *pending* and files it with the registry. `do_register_mortgage` polls the registry: once it has
registered the mortgage — the right exists only from registration, 民法典 Art 402 — the mortgage becomes
*registered* and the revolving line is opened through `lending.service.do_open_line`; never before.
`do_release_mortgage` closes the line (nothing may be outstanding), files the release (注销登记) and marks
the mortgage *released*.

**Retries.** `do_apply_collateral_line` and `do_release_mortgage` require an Idempotency-Key (a replay
returns the stored response). The calls into the lending core and into the registry use keys derived
from ours (`<key>:contract`, `collateral-mortgage-<id>:open`, …) and registry filings are keyed by the
mortgage, so a request interrupted between two of its steps can simply be sent again: every step
already done replays. `do_register_mortgage` is a state-driven poll and is idempotent by construction.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from puhui.collateral.product import (
    PRODUCT,
    CollateralDecision,
    MortgageStatus,
    Outcome,
    ProductTerms,
    decide,
    ltv_check,
    mortgage_transition,
)
from puhui.collateral.registry import MortgageFiling, RealEstateRegistry, RegistryAnswer
from puhui.collateral.store import (
    ApplicationRow,
    BuildingRow,
    CityRow,
    CompoundRow,
    DistrictRow,
    ListingRow,
    MortgageRow,
    TransactionRow,
    UnitRow,
    ValuationRow,
)
from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound, PolicyViolation, ValidationError
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.lending import service as lending
from puhui.lending.contracts import parse_amount
from puhui.lending.store import CreditLineRow
from puhui.store import audit, idempotency
from puhui.store.db import get_for_update, transaction
from puhui.store.idempotency import Posted

__all__ = [
    "do_apply_collateral_line",
    "do_register_mortgage",
    "do_release_mortgage",
    "get_application",
    "get_mortgage",
    "has_property_store",
    "line_collateral",
    "load_property_store",
    "record_valuation",
    "search_units",
]


def _require_key(key: str | None) -> str:
    if key is None or not str(key).strip():
        raise ValidationError("an Idempotency-Key is required for this action", code="idempotency_key_required",
                              field="Idempotency-Key")
    return key


def _act(engine: Engine, *, actor: str, action: str, key: str | None, request: dict[str, Any], status: int,
         work: Callable[[Session], dict[str, Any]]) -> Posted:
    return idempotency.run_once(engine, scope=f"{actor}:collateral.{action}"[:200], action=action,
                                key=key, request=request,
                                status=status, work=work)


def _dec(x: float | None, places: int = 6) -> Decimal | None:
    return None if x is None else Decimal(str(round(float(x), places)))


def _amt(m: Any) -> Decimal | None:
    return None if m is None else m.amount


def record_valuation(s: Session, valuation: Any, *, unit_id: str, compound_id: str, purpose: str,
                     mortgage_id: int | None = None) -> ValuationRow:
    """Add the snapshot of one AVM answer (`avm.Valuation`) to the session."""
    row = ValuationRow(
        unit_id=unit_id, compound_id=compound_id, as_of=valuation.as_of, value=_amt(valuation.value),
        low=_amt(valuation.low), high=_amt(valuation.high), fsd=_dec(valuation.fsd), confidence=valuation.confidence,
        reason=valuation.reason, model_version=str(valuation.model_version)[:64], purpose=purpose,
        mortgage_id=mortgage_id,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def _valuation_json(row: ValuationRow) -> dict[str, Any]:
    def s(x: Decimal | None) -> str | None:
        return None if x is None else str(x)

    return {
        "valuation_id": row.id, "unit_id": row.unit_id, "compound_id": row.compound_id,
        "as_of": row.as_of.isoformat(), "value": s(row.value), "low": s(row.low), "high": s(row.high),
        "fsd": s(row.fsd), "confidence": row.confidence, "reason": row.reason, "model_version": row.model_version,
        "purpose": row.purpose,
    }  # fmt: skip


def _application_json(row: ApplicationRow) -> dict[str, Any]:
    return {
        "application_id": row.id, "application_no": row.application_no, "borrower_id": row.borrower_id,
        "unit_id": row.unit_id, "valuation_id": row.valuation_id, "outcome": row.outcome,
        "limit": str(row.approved_limit), "reasons": list(row.reasons), "ltv_cap": str(row.ltv_cap.normalize()),
        "haircut": None if row.haircut is None else str(row.haircut.normalize()),
        "existing_mortgage": str(row.existing_mortgage), "contract_id": row.contract_id,
        "business_date": row.business_date.isoformat(),
    }  # fmt: skip


def _mortgage_json(row: MortgageRow) -> dict[str, Any]:
    return {
        "mortgage_id": row.id, "application_id": row.application_id, "contract_id": row.contract_id,
        "line_id": row.line_id, "unit_id": row.unit_id, "borrower_id": row.borrower_id, "kind": "maximum_amount",
        "max_amount": str(row.max_amount), "period_from": row.period_from.isoformat(),
        "period_to": row.period_to.isoformat(), "existing_mortgage": str(row.existing_mortgage),
        "status": row.status, "registry_application_no": row.registry_application_no,
        "certificate_no": row.certificate_no,
        "registered_on": None if row.registered_on is None else row.registered_on.isoformat(),
        "released_on": None if row.released_on is None else row.released_on.isoformat(),
        "last_value": None if row.last_value is None else str(row.last_value),
        "last_ltv": None if row.last_ltv is None else str(row.last_ltv.normalize()),
        "last_valued_on": None if row.last_valued_on is None else row.last_valued_on.isoformat(),
        "flagged": row.flagged, "flag_reason": row.flag_reason,
    }  # fmt: skip


def _subject_dict(subject: Any) -> dict[str, Any]:
    d = subject.row() if hasattr(subject, "row") else dict(subject)
    if not d.get("unit_id") or not d.get("compound"):
        raise ValidationError("the collateral needs a unit_id and a compound", code="missing_unit", field="unit_id")
    return d


# ---- apply --------------------------------------------------------------------------------------------


def do_apply_collateral_line(
    engine: Engine,
    *,
    application_no: str,
    borrower_id: str,
    subject: Any,
    valuation: Any,
    existing_mortgage: Decimal | str | int,
    terms: Mapping[str, Any],
    contract_text: str,
    signer: str,
    signed_at: datetime,
    on: date | str,
    registry: RealEstateRegistry,
    requested: Decimal | str | int | None = None,
    credit_outcome: str | None = None,
    actor: str = "system",
    idempotency_key: str | None = None,
    regulatory: SettingsBook = REGULATORY,
    product: SettingsBook = PRODUCT,
) -> Posted:
    """抵押贷申请: decide on the valued unit; if approved, sign the contract, record and file the mortgage. 201.

    `subject` is the AVM subject (`avm.Subject` or a mapping with `unit_id`, `compound`, …) and `valuation`
    the AVM's answer for it (`avm.Valuation`), dated on or before `on`; `terms` are the line contract's terms
    without the limit (rate, validity, repayment methods …; see `ContractTerms`). The response is the
    application, its decision and — when approved — the mortgage.
    """
    key = _require_key(idempotency_key)
    on = parse_date(on, field="on")
    subj = _subject_dict(subject)
    if valuation.as_of > on:
        raise ValidationError(f"the valuation date {valuation.as_of} is after the decision date {on}",
                              code="valuation_date_in_future", field="valuation")
    existing = parse_amount(existing_mortgage, "existing_mortgage", allow_zero=True)
    req = None if requested is None else parse_amount(requested, "requested")
    if "limit" in terms:
        raise ValidationError("the limit is decided by the product, not requested in the terms",
                              code="limit_in_terms", field="terms.limit")
    pterms = ProductTerms.on(on, regulatory=regulatory, product=product)
    if (on - valuation.as_of).days > pterms.max_valuation_age_days:
        raise ValidationError(f"the valuation of {valuation.as_of} is more than {pterms.max_valuation_age_days} days "
                              f"before the decision date {on}: value the unit again", code="stale_valuation",
                              field="valuation")
    decision = decide(value=_amt(valuation.value), confidence=valuation.confidence, no_value_reason=valuation.reason,
                      existing_mortgage=existing, terms=pterms, requested=req, credit_outcome=credit_outcome)
    contract_id: int | None = None
    contract_terms: dict[str, Any] = {}
    if decision.outcome is Outcome.APPROVE:
        contract_terms = {**terms, "limit": str(decision.limit), "revolving": True}
        signed = lending.do_sign_contract(
            engine, contract_no=f"DY-{application_no}"[:64], borrower_id=borrower_id, text=contract_text,
            terms=contract_terms, signer=signer, signed_at=signed_at, on=on, actor=actor,
            idempotency_key=f"{key}:contract",
        )  # fmt: skip
        contract_id = int(signed.body["contract_id"])
        contract_terms = signed.body["terms"]

    def work(s: Session) -> dict[str, Any]:
        if s.execute(select(ApplicationRow.id).where(ApplicationRow.application_no == application_no)).first():
            raise Conflict(f"application {application_no} exists", code="application_exists")
        vrow = record_valuation(s, valuation, unit_id=subj["unit_id"], compound_id=subj["compound"],
                                purpose="application")
        app = ApplicationRow(
            application_no=application_no, borrower_id=borrower_id, unit_id=subj["unit_id"], valuation_id=vrow.id,
            existing_mortgage=existing, requested=req, ltv_cap=decision.ltv_cap, haircut=decision.haircut,
            approved_limit=decision.limit, outcome=decision.outcome.value, reasons=list(decision.reasons),
            credit_outcome=credit_outcome, contract_id=contract_id, business_date=on,
        )  # fmt: skip
        s.add(app)
        s.flush()
        audit.record(s, actor=actor, action="apply_collateral_line", entity="collateral_application",
                     entity_id=app.id, payload=decision.to_dict(), business_date=on)
        out: dict[str, Any] = {"application": _application_json(app), "decision": decision.to_dict(),
                               "valuation": _valuation_json(vrow), "mortgage": None}
        if decision.outcome is Outcome.APPROVE:
            m = MortgageRow(
                application_id=app.id, contract_id=contract_id, unit_id=subj["unit_id"], compound_id=subj["compound"],
                subject=subj, borrower_id=borrower_id, max_amount=decision.limit,
                period_from=parse_date(contract_terms["valid_from"], field="valid_from"),
                period_to=parse_date(contract_terms["valid_to"], field="valid_to"), existing_mortgage=existing,
                status=MortgageStatus.PENDING.value, last_value=decision.value, last_valued_on=valuation.as_of,
                last_ltv=_ltv(decision, existing), flagged=False,
            )  # fmt: skip
            s.add(m)
            s.flush()
            audit.record(s, actor=actor, action="create_mortgage", entity="collateral_mortgage", entity_id=m.id,
                         payload={"max_amount": str(m.max_amount), "unit_id": m.unit_id}, business_date=on)
            out["mortgage"] = _mortgage_json(m)
        return out

    request = {"application_no": application_no, "borrower_id": borrower_id, "subject": subj,
               "valuation": {"as_of": valuation.as_of.isoformat(), "value": str(_amt(valuation.value)),
                             "confidence": valuation.confidence, "model_version": valuation.model_version},
               "existing_mortgage": str(existing), "requested": None if req is None else str(req),
               "terms": dict(terms), "credit_outcome": credit_outcome, "on": on.isoformat()}
    posted = _act(engine, actor=actor, action="apply_line", key=key, request=request, status=201, work=work)
    if posted.body.get("mortgage") and not posted.replayed:
        mid = int(posted.body["mortgage"]["mortgage_id"])
        filed = _file(engine, mid, registry=registry, on=on, actor=actor)
        body = {**posted.body, "mortgage": filed}
        return Posted(posted.status, body, posted.replayed)
    return posted


def _ltv(decision: CollateralDecision, existing: Decimal) -> Decimal | None:
    if decision.value is None or decision.value == 0:
        return None
    return ((decision.limit + existing) / decision.value).quantize(Decimal("0.0001"))


# ---- registration -------------------------------------------------------------------------------------


def _filing(m: MortgageRow) -> MortgageFiling:
    return MortgageFiling(reference=f"puhui-mortgage-{m.id}", unit_id=m.unit_id, mortgagor_id=m.borrower_id,
                          max_amount=m.max_amount, period_from=m.period_from, period_to=m.period_to)


def _load(engine: Engine, mortgage_id: int) -> MortgageRow:
    with transaction(engine, write=False) as s:
        m = s.get(MortgageRow, mortgage_id)
        if m is None:
            raise NotFound(f"mortgage {mortgage_id} does not exist", code="mortgage_not_found",
                           mortgage_id=mortgage_id)
        s.expunge(m)
        return m


def _file(engine: Engine, mortgage_id: int, *, registry: RealEstateRegistry, on: date, actor: str) -> dict[str, Any]:
    """File a pending mortgage with the registry once (the filing is keyed by the mortgage)."""
    m = _load(engine, mortgage_id)
    if m.registry_application_no is not None or m.status != MortgageStatus.PENDING.value:
        return _mortgage_json(m)
    answer = registry.file_mortgage(_filing(m), on)
    with transaction(engine) as s:
        row = get_for_update(s, MortgageRow, mortgage_id)
        if row.registry_application_no is None:
            row.registry_application_no = answer.application_no
            audit.record(s, actor=actor, action="file_mortgage", entity="collateral_mortgage", entity_id=row.id,
                         payload={"application_no": answer.application_no}, business_date=on)
        return _mortgage_json(row)


def _apply_answer(engine: Engine, mortgage_id: int, answer: RegistryAnswer, *, on: date, actor: str) -> None:
    if answer.status not in {"registered", "rejected"}:
        return
    with transaction(engine) as s:
        row = get_for_update(s, MortgageRow, mortgage_id)
        if row.status != MortgageStatus.PENDING.value:
            return
        row.status = mortgage_transition(row.status, answer.status).value
        if answer.status == "registered":
            row.certificate_no = answer.certificate_no
            row.registered_on = answer.decided_on or on
        action = "register_mortgage" if answer.status == "registered" else "reject_mortgage"
        audit.record(s, actor=actor, action=action, entity="collateral_mortgage", entity_id=row.id,
                     payload={"application_no": answer.application_no, "certificate_no": answer.certificate_no,
                              "reason": answer.reason}, business_date=on)


def do_register_mortgage(engine: Engine, mortgage_id: int, *, registry: RealEstateRegistry, on: date | str,
                         actor: str = "system") -> Posted:
    """抵押登记: file if not yet filed, ask the registry, and once registered open the revolving line. 200.

    A poll: call it until the mortgage is registered (or rejected); with the line opened it is a no-op.
    """
    on = parse_date(on, field="on")
    m = _load(engine, mortgage_id)
    if m.status == MortgageStatus.PENDING.value:
        if m.registry_application_no is None:
            _file(engine, mortgage_id, registry=registry, on=on, actor=actor)
            m = _load(engine, mortgage_id)
        assert m.registry_application_no is not None
        _apply_answer(engine, mortgage_id, registry.status(m.registry_application_no), on=on, actor=actor)
        m = _load(engine, mortgage_id)
    if m.status == MortgageStatus.REGISTERED.value and m.line_id is None:
        # Art 402: the mortgage exists from registration, so only now does the line open.
        line = lending.do_open_line(engine, contract_id=m.contract_id, on=on, actor=actor,
                                    idempotency_key=f"collateral-mortgage-{m.id}:open")
        with transaction(engine) as s:
            row = get_for_update(s, MortgageRow, mortgage_id)
            if row.line_id is None:
                row.line_id = int(line.body["line_id"])
                audit.record(s, actor=actor, action="secure_line", entity="collateral_mortgage", entity_id=row.id,
                             payload={"line_id": row.line_id}, business_date=on)
        m = _load(engine, mortgage_id)
    return Posted(200, _mortgage_json(m))


def do_release_mortgage(engine: Engine, mortgage_id: int, *, registry: RealEstateRegistry, on: date | str,
                        reason: str, actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """抵押注销: close the secured line (nothing may be outstanding), file the release, mark it released. 200."""
    key = _require_key(idempotency_key)
    on = parse_date(on, field="on")
    m = _load(engine, mortgage_id)
    if m.status == MortgageStatus.REGISTERED.value:
        if m.line_id is not None:
            line = lending.get_line(engine, m.line_id)
            if Decimal(line["drawn_principal"]) > 0:
                raise PolicyViolation(f"line {m.line_id} still has {line['drawn_principal']} principal outstanding",
                                      code="secured_debt_outstanding", line_id=m.line_id)
            if line["status"] != "closed":
                lending.do_close_line(engine, m.line_id, on=on, reason=f"mortgage {m.id} released: {reason}",
                                      actor=actor, idempotency_key=f"collateral-mortgage-{m.id}:close")
        assert m.registry_application_no is not None
        answer = registry.release(m.registry_application_no, on)
        if answer.status != "released":
            raise Conflict(f"the registry answered {answer.status} to the release", code="registry_release_failed")

    def work(s: Session) -> dict[str, Any]:
        row = get_for_update(s, MortgageRow, mortgage_id)
        row.status = mortgage_transition(row.status, MortgageStatus.RELEASED).value
        row.released_on = on
        audit.record(s, actor=actor, action="release_mortgage", entity="collateral_mortgage", entity_id=row.id,
                     payload={"reason": reason}, business_date=on)
        return _mortgage_json(row)

    return _act(engine, actor=actor, action="release_mortgage", key=key,
                request={"mortgage_id": mortgage_id, "on": on.isoformat(), "reason": reason}, status=200, work=work)


# ---- queries ------------------------------------------------------------------------------------------


def get_mortgage(engine: Engine, mortgage_id: int) -> dict[str, Any]:
    return _mortgage_json(_load(engine, mortgage_id))


def get_application(engine: Engine, application_id: int) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        row = s.get(ApplicationRow, application_id)
        if row is None:
            raise NotFound(f"application {application_id} does not exist", code="application_not_found")
        return _application_json(row)


def line_collateral(engine: Engine, line_id: int) -> dict[str, Any]:
    """The line's collateral view: the line, its mortgage, the valuation history and the LTV today."""
    with transaction(engine, write=False) as s:
        m = s.execute(select(MortgageRow).where(MortgageRow.line_id == line_id)).scalar_one_or_none()
        line = s.get(CreditLineRow, line_id)
        if m is None or line is None:
            raise NotFound(f"credit line {line_id} has no collateral", code="line_collateral_not_found",
                           line_id=line_id)
        app = s.get(ApplicationRow, m.application_id)
        assert app is not None
        vals = s.scalars(select(ValuationRow).where(
            (ValuationRow.id == app.valuation_id) | (ValuationRow.mortgage_id == m.id)).order_by(ValuationRow.id))
        cap = ProductTerms.on(m.last_valued_on or app.business_date)
        check = ltv_check(value=m.last_value, limit=line.credit_limit, existing_mortgage=m.existing_mortgage,
                          ltv_cap=cap.ltv_cap, step=cap.step)
        return {
            "line": {"line_id": line.id, "status": line.status, "limit": str(line.credit_limit),
                     "drawn_principal": str(line.drawn_principal)},
            "mortgage": _mortgage_json(m),
            "valuations": [_valuation_json(v) for v in vals],
            "ltv": None if check.ltv is None else str(check.ltv), "ltv_cap": str(cap.ltv_cap),
            "breach": check.breach,
            "supported_limit": None if check.supported_limit is None else str(check.supported_limit),
        }  # fmt: skip


# ---- the property database (楼盘字典) ------------------------------------------------------------------

_PROPERTY_TABLES = (("property_cities", CityRow), ("property_districts", DistrictRow),
                    ("property_compounds", CompoundRow), ("property_buildings", BuildingRow),
                    ("property_units", UnitRow), ("property_transactions", TransactionRow),
                    ("property_listings", ListingRow))
FUZZY_MIN = 0.6  # difflib ratio accepted for a compound name (one character in five may differ)


def load_property_store(engine: Engine, home: Path | str, *, cities: Sequence[str] | None = None,
                        chunk: int = 5000) -> dict[str, int]:
    """Copy cities → districts → compounds → buildings → units → transactions and listings from the raw zone
    (validated and quarantined on ingestion) into the store, optionally for some city codes only.
    Idempotent: rows already present (by key) are left alone. Returns the rows offered per table."""
    import polars as pl

    raw = Path(home) / "raw"
    frames: dict[str, Any] = {}
    for name, _ in _PROPERTY_TABLES:
        if not any((raw / name).glob("*.parquet")):
            raise NotFound(f"source {name} has no data under {raw}", code="source_not_found", source=name)
        frames[name] = pl.read_parquet(str(raw / name / "*.parquet"))
    if cities is not None:
        keep = list(cities)
        frames["property_cities"] = frames["property_cities"].filter(pl.col("city_code").is_in(keep))
        frames["property_districts"] = frames["property_districts"].filter(pl.col("city_code").is_in(keep))
        frames["property_compounds"] = frames["property_compounds"].filter(pl.col("city_code").is_in(keep))
        comp = frames["property_compounds"]["compound_id"].to_list()
        frames["property_buildings"] = frames["property_buildings"].filter(pl.col("compound_id").is_in(comp))
        bld = frames["property_buildings"]["building_id"].to_list()
        frames["property_units"] = frames["property_units"].filter(pl.col("building_id").is_in(bld))
        unit_ids = frames["property_units"]["unit_id"].to_list()
        for name in ("property_transactions", "property_listings"):
            frames[name] = frames[name].filter(pl.col("unit_id").is_in(unit_ids))
    counts: dict[str, int] = {}
    with transaction(engine) as s:
        ins = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        for name, model in _PROPERTY_TABLES:
            cols = [c.name for c in model.__table__.columns]
            rows = frames[name].select([c for c in cols if c in frames[name].columns]).to_dicts()
            for i in range(0, len(rows), chunk):
                s.execute(ins(model.__table__).values(rows[i:i + chunk]).on_conflict_do_nothing())
            counts[name] = len(rows)
    return counts


def has_property_store(engine: Engine) -> bool:
    with transaction(engine, write=False) as s:
        return s.execute(select(func.count()).select_from(CityRow)).scalar_one() > 0


def _score(name: str, q: str) -> float:
    return 1.0 if q in name or name in q else difflib.SequenceMatcher(None, name, q).ratio()


def search_units(engine: Engine, *, city: str, compound: str, building: str | None = None, unit: str | None = None,
                 limit: int = 20) -> list[dict[str, Any]]:
    """Address search on the store (same contract as `api.search_properties` on the raw zone): the city by
    code or name, the compound name fuzzily (difflib ratio ≥ 0.6, or containment), building '1' / '1号楼',
    room '1203' / '1203室'. Units when a building or unit is given, else compounds; best matches first."""
    q, c = compound.strip(), city.strip().removesuffix("市")
    if not q or not c:
        raise ValidationError("city and compound are required", code="missing_address", field="compound")
    b = None if building is None else building.strip().removesuffix("号楼").removesuffix("栋").removesuffix("幢")
    u = None if unit is None else unit.strip().removesuffix("室")
    with transaction(engine, write=False) as s:
        cands = s.execute(select(CompoundRow.compound_id, CompoundRow.name, CompoundRow.city_code, CityRow.city_name,
                                 CompoundRow.district_code).join(CityRow, CityRow.city_code == CompoundRow.city_code)
                          .where((CityRow.city_code == c) | (CityRow.city_name == c))).all()
        scored = sorted(((round(_score(r.name, q), 3), r) for r in cands), key=lambda t: (-t[0], t[1].compound_id))
        hits = [(sc, r) for sc, r in scored if sc >= FUZZY_MIN]
        if b is None and u is None:
            return [{**r._asdict(), "score": sc} for sc, r in hits[:limit]]
        out: list[dict[str, Any]] = []
        for sc, r in hits:
            stmt = (select(BuildingRow.building_no, UnitRow.unit_id, UnitRow.room_no, UnitRow.floor,
                           UnitRow.total_floors, UnitRow.area)
                    .join(UnitRow, UnitRow.building_id == BuildingRow.building_id)
                    .where(BuildingRow.compound_id == r.compound_id).order_by(UnitRow.unit_id)
                    .limit(limit - len(out)))
            if b is not None:
                stmt = stmt.where(BuildingRow.building_no.in_([b, f"{b}号楼"]))
            if u is not None:
                stmt = stmt.where(UnitRow.room_no == u)
            out += [{**r._asdict(), **x._asdict(), "score": sc} for x in s.execute(stmt)]
            if len(out) >= limit:
                break
        return out
