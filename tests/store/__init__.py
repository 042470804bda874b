"""Store tests. Test-only tables live here, on a base of their own (never `puhui.store.Base`, whose
metadata must hold exactly the migrated schema)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from puhui.core.money import Money
from puhui.store import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime


class TestBase(DeclarativeBase):
    __test__ = False  # not a pytest class


class Value(TestBase):
    """One row per stored value: every exact type the store offers."""

    __tablename__ = "t_values"

    id: Mapped[int] = mapped_column(PK_TYPE, primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), default="")
    amount: Mapped[Decimal | None] = mapped_column(Amount())
    money: Mapped[Money | None] = mapped_column(Amount(as_money=True))
    rate: Mapped[Decimal | None] = mapped_column(Rate())
    at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    day: Mapped[date | None] = mapped_column(Date())
    doc: Mapped[Any | None] = mapped_column(JSON_TYPE)


class Counter(TestBase):
    """A row that threads increment, to prove that locked read-modify-write loses no update."""

    __tablename__ = "t_counters"

    id: Mapped[int] = mapped_column(PK_TYPE, primary_key=True)
    value: Mapped[int] = mapped_column(Integer(), default=0)
    balance: Mapped[Decimal] = mapped_column(Amount(), default=Decimal("0"))
