"""Monitoring tables: `monitoring_alerts` (one early warning and its life) and `monitoring_alert_actions`.

An alert is one signal (or contagion warning, or manual flag) on one enterprise: tier, score, the
evidence in `details`, the suggested action, and a status that moves open → acknowledged | actioned →
closed. Two keys keep re-runs from duplicating anything:

* `dedup_key` (unique) = `source|uscc|signal_id|first as-of`: the row a run creates for a firing first
  seen on that as-of; a concurrent or repeated run of the same as-of finds it instead of inserting.
* `open_key` (unique, NULL once closed) = `source|uscc|signal_id`: at most one live alert per enterprise and
  signal (risk_and_style.md §B2). A later as-of on which the signal still fires refreshes that alert
  (`last_seen_as_of`, escalating its tier if it got worse) rather than opening another. Both engines
  allow many NULLs under a unique constraint, so closed alerts never block a new one.

`monitoring_alert_actions` is append-only (ORM guard + triggers from the migration): every state change
and every action taken on an alert (escalated, acknowledged, closed, freeze_line, reduce_review, watch).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, one_of
from puhui.store.types import JSON_TYPE, PK_TYPE, Rate, UTCDateTime

__all__ = ["ALERT_STATUSES", "APPEND_ONLY_TABLES", "LIVE_STATUSES", "SOURCES", "AlertActionRow", "AlertRow"]

SOURCES = ("signal", "contagion", "manual")
ALERT_STATUSES = ("open", "acknowledged", "actioned", "closed")
LIVE_STATUSES = ("open", "acknowledged", "actioned")
APPEND_ONLY_TABLES = ("monitoring_alert_actions",)


class AlertRow(IdMixin, TimestampMixin, Base):
    """预警: one signal on one enterprise, its tier and score, evidence, suggested action and status."""

    __tablename__ = "monitoring_alerts"
    __table_args__ = (
        CheckConstraint("tier IN ('yellow', 'orange', 'red')", name="tier"),
        one_of("source", SOURCES),
        one_of("status", ALERT_STATUSES),
        CheckConstraint("action IN ('watch', 'reduce_review', 'freeze')", name="action"),
        Index(None, "uscc", "status"),
        Index(None, "status", "tier"),
        Index(None, "as_of"),
    )

    uscc: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date())
    last_seen_as_of: Mapped[date] = mapped_column(Date())
    signal_id: Mapped[str] = mapped_column(String(96))
    tier: Mapped[str] = mapped_column(String(8))
    score: Mapped[Decimal] = mapped_column(Rate(precision=12, scale=6))
    source: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    catalogue_version: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(128))
    close_code: Mapped[str | None] = mapped_column(String(32))


@make_append_only
class AlertActionRow(IdMixin, CreatedAtMixin, Base):
    """One thing done to or because of an alert (append-only): by whom, why, on which business date."""

    __tablename__ = "monitoring_alert_actions"

    alert_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("monitoring_alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(500), default="")
    business_date: Mapped[date | None] = mapped_column(Date())
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)
