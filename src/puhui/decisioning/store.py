"""Tables of credit decisioning: policy versions, decision records, offers, pre-approval runs, consents,
applications and review cases.

- `policy_versions`: one scenario policy by content hash (`version`), its YAML text and its life cycle
  draft → approved (by someone other than the author: 四眼原则) → active → retired (rollback re-activates
  a retired row). `role` is champion or challenger; a challenger carries its `traffic_share`. A partial
  unique index keeps at most one active champion and one active challenger per scenario.
- `decisions` (决策记录), **append-only** (ORM guard + database triggers, like `collateral_valuations`):
  who, which scenario and policy version, which model and version, arm and channel, the outcome, grade,
  PD, score, offer terms, every rule's result, the reasons, the inputs snapshot (or its hash and where it
  lives: `inputs_ref`) and the model result — everything `records.replay_decision` needs.
- `offers`: a standing offer from an approving decision (pre-approval or application), with status
  open → accepted | expired | superseded.
- `preapproval_runs`: one `puhui preapprove` run, its parameters, the chunks done (for resume) and the
  summary per scenario.
- `consents` (授权), `applications` (申请) and `review_cases` (人工审查): written by the online journey.

Amounts are `Amount()` (integer fen), rates `Rate(12, 8)` (the engine carries 6 decimals), PD and score
plain floats (model outputs, not money).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, one_of
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime

__all__ = [
    "APPLICATION_STATUSES",
    "CHANNELS",
    "OFFER_STATUSES",
    "OUTCOMES",
    "POLICY_STATES",
    "REVIEW_STATUSES",
    "ApplicationRow",
    "ConsentRow",
    "DecisionRow",
    "OfferRow",
    "PolicyVersionRow",
    "PreapprovalRunRow",
    "ReviewCaseRow",
]

POLICY_STATES = ("draft", "approved", "active", "retired")
POLICY_ROLES = ("champion", "challenger")
CHANNELS = ("preapproval", "application", "estimate", "backtest")
OUTCOMES = ("approve", "decline", "refer")
OFFER_STATUSES = ("open", "accepted", "expired", "superseded")
RUN_STATES = ("running", "done", "failed")
APPLICATION_STATUSES = ("approved", "declined", "referred", "accepted", "expired")
REVIEW_STATUSES = ("open", "assigned", "approved", "declined")


_ACTIVE = text("state = 'active'")


class PolicyVersionRow(IdMixin, CreatedAtMixin, Base):
    """策略版本: a scenario's policy by content hash, its text and its approval life cycle."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        one_of("state", POLICY_STATES),
        one_of("role", POLICY_ROLES),
        Index(None, "scenario_id", "version", unique=True),
        # At most one active champion and one active challenger per scenario.
        Index("uq_policy_versions_active_role", "scenario_id", "role", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
    )

    scenario_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64))
    yaml_text: Mapped[str] = mapped_column(Text())
    source: Mapped[str | None] = mapped_column(String(300))  # the file it was drafted from, if any
    state: Mapped[str] = mapped_column(String(16), default="draft")
    role: Mapped[str] = mapped_column(String(16), default="champion")
    traffic_share: Mapped[Decimal | None] = mapped_column(Rate(12, 8))
    author: Mapped[str] = mapped_column(String(128))
    approver: Mapped[str | None] = mapped_column(String(128))
    activated_by: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@make_append_only
class DecisionRow(IdMixin, CreatedAtMixin, Base):
    """决策记录: one decision, immutable, with everything needed to explain and replay it."""

    __tablename__ = "decisions"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("outcome", OUTCOMES),
        Index(None, "uscc", "scenario_id"),
        Index(None, "as_of"),
    )

    uscc: Mapped[str] = mapped_column(String(32))
    scenario_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(16), default="champion")
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(8))
    pd: Mapped[float | None] = mapped_column(Float())
    score: Mapped[float | None] = mapped_column(Float())
    limit: Mapped[Decimal | None] = mapped_column(Amount())
    annual_rate: Mapped[Decimal | None] = mapped_column(Rate(12, 8))
    apr: Mapped[Decimal | None] = mapped_column(Rate(12, 8))
    term_months: Mapped[int | None] = mapped_column(Integer())
    rules: Mapped[list[Any]] = mapped_column(JSON_TYPE)
    reasons: Mapped[list[Any]] = mapped_column(JSON_TYPE)
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)  # the full offer (methods, caps applied)
    limit_trace: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)  # how the limit was reached
    model_result: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)  # ModelResult as used
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)  # the Facts snapshot
    inputs_ref: Mapped[str | None] = mapped_column(String(500))  # where the full inputs live, if not inline
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date())
    run_id: Mapped[int | None] = mapped_column(PK_TYPE, index=True)  # the pre-approval / backtest run
    actor: Mapped[str | None] = mapped_column(String(128))


class PreapprovalRunRow(IdMixin, TimestampMixin, Base):
    """一次主动授信批量: parameters, chunks done (resume) and the summary per scenario."""

    __tablename__ = "preapproval_runs"
    __table_args__ = (one_of("state", RUN_STATES), Index(None, "as_of"))

    as_of: Mapped[date] = mapped_column(Date())
    state: Mapped[str] = mapped_column(String(16), default="running")
    scenarios: Mapped[list[Any]] = mapped_column(JSON_TYPE)  # [{scenario_id, version}]
    params: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)  # models used, chunk size, limits
    chunk_size: Mapped[int] = mapped_column(Integer())
    n_enterprises: Mapped[int] = mapped_column(Integer(), default=0)
    done_chunks: Mapped[list[Any]] = mapped_column(JSON_TYPE, default=list)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128), default="system:preapprove")


class OfferRow(IdMixin, TimestampMixin, Base):
    """授信要约: a standing offer (limit, rate, term) from an approving decision."""

    __tablename__ = "offers"
    __table_args__ = (
        one_of("status", OFFER_STATUSES),
        Index(None, "uscc", "status"),
    )

    uscc: Mapped[str] = mapped_column(String(32))
    scenario_id: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("decisions.id"), index=True)
    limit: Mapped[Decimal] = mapped_column(Amount())
    annual_rate: Mapped[Decimal] = mapped_column(Rate(12, 8))
    apr: Mapped[Decimal] = mapped_column(Rate(12, 8))
    term_months: Mapped[int] = mapped_column(Integer())
    methods: Mapped[list[Any]] = mapped_column(JSON_TYPE, default=list)
    as_of: Mapped[date] = mapped_column(Date())
    expires_on: Mapped[date] = mapped_column(Date())
    status: Mapped[str] = mapped_column(String(16), default="open")
    run_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("preapproval_runs.id"), index=True)


class ConsentRow(IdMixin, CreatedAtMixin, Base):
    """授权: the enterprise's consent to one purpose of data use, until it expires or is revoked."""

    __tablename__ = "consents"
    __table_args__ = (Index(None, "uscc", "purpose"),)

    uscc: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    sources: Mapped[list[Any]] = mapped_column(JSON_TYPE, default=list)  # data sources covered
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_on: Mapped[date] = mapped_column(Date())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence_sha256: Mapped[str] = mapped_column(String(64))


class ApplicationRow(IdMixin, TimestampMixin, Base):
    """授信申请: an online application, its decision and, once accepted, its contract and line."""

    __tablename__ = "applications"
    __table_args__ = (
        one_of("status", APPLICATION_STATUSES),
        Index(None, "uscc", "status"),
    )

    uscc: Mapped[str] = mapped_column(String(32))
    scenario_id: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("decisions.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("offers.id"))
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    requested_amount: Mapped[Decimal | None] = mapped_column(Amount())
    contract_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("loan_contracts.id"))
    line_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("credit_lines.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_on: Mapped[date | None] = mapped_column(Date())


class ReviewCaseRow(IdMixin, TimestampMixin, Base):
    """人工审查: a referred application in the credit officers' queue."""

    __tablename__ = "review_cases"
    __table_args__ = (
        one_of("status", REVIEW_STATUSES),
        Index(None, "status", "assignee"),
    )

    application_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text())
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
