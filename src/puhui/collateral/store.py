"""Tables of the collateral product: valuation snapshots, collateral line applications and the
maximum-amount mortgages (最高额抵押) that secure the lines.

- `collateral_valuations`: every AVM answer the bank relied on (application or re-marking), append-only:
  value, FSD, confidence, interval, the no-value reason, the model version and the valuation date — so
  a decision can be explained later with the exact figures it used.
- `collateral_applications`: one application, its decision (outcome, limit, reasons, LTV cap, haircut,
  existing mortgage) and the contract it led to.
- `collateral_mortgages`: the mortgage record: maximum amount and period (民法典 Art 420), registration
  status and registry references, the line it secures, and the latest re-marking (value, LTV, breach flag).
- The property database (楼盘字典, issue 7 item 1, first part): `property_cities` → `property_districts` →
  `property_compounds` (小区) → `property_buildings` → `property_units`, with `property_transactions`
  (成交) and `property_listings` (挂牌), keyed by the raw zone's codes and loaded from it by
  `service.load_property_store` (the AVM still fits from the raw zone's parquet, which is faster).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate

__all__ = [
    "ApplicationRow",
    "BuildingRow",
    "CityRow",
    "CompoundRow",
    "DistrictRow",
    "ListingRow",
    "MortgageRow",
    "TransactionRow",
    "UnitRow",
    "ValuationRow",
]


@make_append_only
class ValuationRow(IdMixin, CreatedAtMixin, Base):
    """One stored AVM answer (估值快照)."""

    __tablename__ = "collateral_valuations"

    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    compound_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date())
    value: Mapped[Decimal | None] = mapped_column(Amount())
    low: Mapped[Decimal | None] = mapped_column(Amount())
    high: Mapped[Decimal | None] = mapped_column(Amount())
    fsd: Mapped[Decimal | None] = mapped_column(Rate(8, 6))
    confidence: Mapped[int | None] = mapped_column(Integer())
    reason: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))  # application | revalue | request
    mortgage_id: Mapped[int | None] = mapped_column(PK_TYPE, index=True)


class ApplicationRow(IdMixin, CreatedAtMixin, Base):
    """A collateral line application and its decision."""

    __tablename__ = "collateral_applications"
    __table_args__ = (CheckConstraint("outcome IN ('approve', 'refer', 'decline')", name="outcome"),)

    application_no: Mapped[str] = mapped_column(String(64), unique=True)
    borrower_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    valuation_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("collateral_valuations.id"))
    existing_mortgage: Mapped[Decimal] = mapped_column(Amount())
    requested: Mapped[Decimal | None] = mapped_column(Amount())
    ltv_cap: Mapped[Decimal] = mapped_column(Rate(8, 6))
    haircut: Mapped[Decimal | None] = mapped_column(Rate(8, 6))
    approved_limit: Mapped[Decimal] = mapped_column(Amount())
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(JSON_TYPE)
    credit_outcome: Mapped[str | None] = mapped_column(String(16))
    contract_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("loan_contracts.id"))
    business_date: Mapped[date] = mapped_column(Date())


class MortgageRow(IdMixin, TimestampMixin, Base):
    """A maximum-amount mortgage (最高额抵押) on one unit, securing one credit line."""

    __tablename__ = "collateral_mortgages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'registered', 'released', 'rejected')", name="status"),
    )

    application_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("collateral_applications.id"), unique=True)
    contract_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("loan_contracts.id"), unique=True)
    line_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("credit_lines.id"), unique=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    compound_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)  # the AVM subject, for re-marking
    borrower_id: Mapped[str] = mapped_column(String(64), index=True)
    max_amount: Mapped[Decimal] = mapped_column(Amount())  # 最高债权额
    period_from: Mapped[date] = mapped_column(Date())  # 债权确定期间
    period_to: Mapped[date] = mapped_column(Date())
    existing_mortgage: Mapped[Decimal] = mapped_column(Amount())  # prior-ranking claim (顺位在先)
    status: Mapped[str] = mapped_column(String(16))
    registry_application_no: Mapped[str | None] = mapped_column(String(64))
    certificate_no: Mapped[str | None] = mapped_column(String(128))
    registered_on: Mapped[date | None] = mapped_column(Date())
    released_on: Mapped[date | None] = mapped_column(Date())
    last_value: Mapped[Decimal | None] = mapped_column(Amount())
    last_ltv: Mapped[Decimal | None] = mapped_column(Rate(10, 4))
    last_valued_on: Mapped[date | None] = mapped_column(Date())
    flagged: Mapped[bool] = mapped_column(Boolean(), default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(64))


class CityRow(Base):
    """城市 (GB/T 2260 prefecture-level code)."""

    __tablename__ = "property_cities"

    city_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    city_name: Mapped[str] = mapped_column(String(64), index=True)
    province_code: Mapped[str] = mapped_column(String(6))
    province_name: Mapped[str] = mapped_column(String(64))
    tier: Mapped[int] = mapped_column(Integer())
    lat: Mapped[float] = mapped_column(Float())
    lon: Mapped[float] = mapped_column(Float())


class DistrictRow(Base):
    """区县."""

    __tablename__ = "property_districts"

    district_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6), ForeignKey("property_cities.city_code"), index=True)
    district_name: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float] = mapped_column(Float())
    lon: Mapped[float] = mapped_column(Float())


class CompoundRow(Base):
    """小区: location, build year, type and the attributes the AVM uses."""

    __tablename__ = "property_compounds"

    compound_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6), ForeignKey("property_cities.city_code"), index=True)
    district_code: Mapped[str] = mapped_column(String(12), ForeignKey("property_districts.district_code"))
    name: Mapped[str] = mapped_column(String(128), index=True)
    lat: Mapped[float] = mapped_column(Float())
    lon: Mapped[float] = mapped_column(Float())
    build_year: Mapped[int] = mapped_column(Integer())
    property_type: Mapped[str] = mapped_column(String(16))
    land_tenure_years: Mapped[int | None] = mapped_column(Integer())
    greening_rate: Mapped[float | None] = mapped_column(Float())
    plot_ratio: Mapped[float | None] = mapped_column(Float())
    property_fee: Mapped[Decimal | None] = mapped_column(Amount())  # 物业费, yuan per m² and month
    school_district: Mapped[bool | None] = mapped_column(Boolean())
    metro_distance_m: Mapped[float | None] = mapped_column(Float())
    n_buildings: Mapped[int | None] = mapped_column(Integer())
    n_units: Mapped[int | None] = mapped_column(Integer())


class BuildingRow(Base):
    """楼栋."""

    __tablename__ = "property_buildings"

    building_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(String(64), ForeignKey("property_compounds.compound_id"), index=True)
    building_no: Mapped[str] = mapped_column(String(32))
    building_type: Mapped[str | None] = mapped_column(String(16))
    total_floors: Mapped[int] = mapped_column(Integer())
    units_per_floor: Mapped[int | None] = mapped_column(Integer())
    elevator: Mapped[bool | None] = mapped_column(Boolean())
    build_year: Mapped[int | None] = mapped_column(Integer())


class UnitRow(Base):
    """房屋: area, floor and total floors, rooms, orientation where known."""

    __tablename__ = "property_units"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    building_id: Mapped[str] = mapped_column(String(64), ForeignKey("property_buildings.building_id"), index=True)
    room_no: Mapped[str] = mapped_column(String(16))
    floor: Mapped[int] = mapped_column(Integer())
    total_floors: Mapped[int] = mapped_column(Integer())
    area: Mapped[float] = mapped_column(Float())  # 建筑面积 m² (a measure, not money)
    rooms: Mapped[int | None] = mapped_column(Integer())
    halls: Mapped[int | None] = mapped_column(Integer())
    orientation: Mapped[str | None] = mapped_column(String(16))
    decoration: Mapped[str | None] = mapped_column(String(16))


class TransactionRow(Base):
    """成交: a sale with its contract date, price, area and channel (中介 / 自行成交 / 司法拍卖)."""

    __tablename__ = "property_transactions"

    txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), ForeignKey("property_units.unit_id"), index=True)
    date: Mapped[date] = mapped_column(Date(), index=True)
    price: Mapped[Decimal] = mapped_column(Amount())
    area: Mapped[float] = mapped_column(Float())
    channel: Mapped[str] = mapped_column(String(16))


class ListingRow(Base):
    """挂牌: a listing with its asking price and, once off the market, the date and why."""

    __tablename__ = "property_listings"

    listing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), ForeignKey("property_units.unit_id"), index=True)
    list_date: Mapped[date] = mapped_column(Date())
    asking_price: Mapped[Decimal] = mapped_column(Amount())
    delist_date: Mapped[date | None] = mapped_column(Date())
    delist_reason: Mapped[str | None] = mapped_column(String(16))
