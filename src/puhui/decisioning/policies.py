"""Policy versions (策略版本管理): a scenario's policy, by content hash, from draft to active and back.

A version is the scenario's YAML text, identified by `scenario.policy_version` (a hash of its canonical
content, so re-drafting the same policy is a no-op that returns the existing row). Its life cycle:

    draft ──approve (四眼: approver ≠ author)──► approved ──activate──► active ──(next activation)──► retired
                                                                          ▲                          │
                                                                          └────────── rollback ──────┘

Every transition is one transaction with its audit row (`puhui.store.audit`). Activating a champion
retires the scenario's previous active champion; `rollback(scenario)` retires the active champion and
re-activates the most recently retired one. A version can instead be activated as the **challenger**
with a `traffic_share` in (0, 1): `arms.assign_arm` then routes that share of enterprises (by a salted
hash of the USCC) to it; activating a new challenger retires the old one, and activating the active
challenger as champion promotes it. A partial unique index keeps at most one active champion and one
active challenger per scenario even under concurrent activations.

`bootstrap_shipped` registers the scenario files shipped in `scenarios/`: each file whose hash is not the
active champion is drafted by the deploying actor, approved by a separate release actor (recorded as the
approver) and activated — so shipped policies obey the same four-eyes rule and leave the same trail.
`active_policies(engine)` is what decisions read: scenario id → `ActivePolicy` (parsed champion and
optional challenger).

Errors: `four_eyes_violation` (PolicyViolation 422, approver = author), `policy_not_draft`,
`policy_not_approved`, `no_previous_version`, `no_active_champion` (Conflict 409), `policy_not_found`
(404), `invalid_traffic_share` (422); a YAML that does not parse is the scenario module's ValidationError.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from puhui.core.errors import Conflict, NotFound, PolicyViolation, ValidationError
from puhui.decisioning.store import PolicyVersionRow
from puhui.store import audit
from puhui.store.db import transaction
from puhui.store.types import utcnow

if TYPE_CHECKING:
    from puhui.decisioning.scenario import Scenario

__all__ = [
    "RELEASE_APPROVER",
    "ActivePolicy",
    "activate_policy",
    "active_policies",
    "approve_policy",
    "bootstrap_shipped",
    "draft_policy",
    "draft_policy_file",
    "get_policy",
    "list_policies",
    "parse_policy",
    "retire_challenger",
    "rollback",
]

#: The approver recorded for shipped scenario versions: the release process, not the deploying operator.
RELEASE_APPROVER = "release:shipped-scenarios"
_BOOTSTRAP_AUTHOR = "system:bootstrap"


@dataclass(frozen=True)
class ActivePolicy:
    """What decides a scenario now: the champion and, optionally, a challenger with its traffic share."""

    scenario_id: str
    champion: Scenario
    champion_version: str
    champion_id: int
    challenger: Scenario | None = None
    challenger_version: str | None = None
    challenger_id: int | None = None
    traffic_share: float = 0.0

    def for_arm(self, arm: str) -> tuple[Scenario, str, int]:
        """(scenario, version, policy id) of `arm` ("champion" | "challenger")."""
        if arm == "challenger" and self.challenger is not None:
            assert self.challenger_version is not None and self.challenger_id is not None
            return self.challenger, self.challenger_version, self.challenger_id
        return self.champion, self.champion_version, self.champion_id


# ---- parsing ------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def parse_policy(yaml_text: str, source: str = "<policy>") -> tuple[Scenario, str]:
    """(Scenario, version hash) of a policy text; cached by text, since versions are immutable."""
    from puhui.decisioning.scenario import parse_scenario, policy_version

    scenario = parse_scenario(yaml_text, source=source)
    return scenario, policy_version(scenario)


def _share(value: Any) -> Decimal:
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise ValidationError(f"traffic_share must be a number in (0, 1), not {value!r}",
                              code="invalid_traffic_share", field="traffic_share") from e
    if not Decimal(0) < share < Decimal(1):
        raise ValidationError(f"traffic_share must be strictly between 0 and 1, not {share}",
                              code="invalid_traffic_share", field="traffic_share")
    return share.quantize(Decimal("0.00000001"))


def _json(row: PolicyVersionRow, *, with_text: bool = False) -> dict[str, Any]:
    def ts(v: dt.datetime | None) -> str | None:
        return None if v is None else v.isoformat()

    out: dict[str, Any] = {
        "id": row.id, "scenario_id": row.scenario_id, "version": row.version, "state": row.state,
        "role": row.role, "traffic_share": None if row.traffic_share is None else str(row.traffic_share.normalize()),
        "author": row.author, "approver": row.approver, "activated_by": row.activated_by, "source": row.source,
        "note": row.note, "created_at": ts(row.created_at), "approved_at": ts(row.approved_at),
        "activated_at": ts(row.activated_at), "retired_at": ts(row.retired_at),
    }
    if with_text:
        out["yaml_text"] = row.yaml_text
    return out


def _load(s: Session, policy_id: int, *, lock: bool = True) -> PolicyVersionRow:
    stmt = select(PolicyVersionRow).where(PolicyVersionRow.id == policy_id).execution_options(populate_existing=True)
    row = s.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(f"policy version {policy_id} does not exist", code="policy_not_found", policy_id=policy_id)
    return row


def _active(s: Session, scenario_id: str, role: str) -> PolicyVersionRow | None:
    stmt = (select(PolicyVersionRow)
            .where(PolicyVersionRow.scenario_id == scenario_id, PolicyVersionRow.state == "active",
                   PolicyVersionRow.role == role)
            .with_for_update().execution_options(populate_existing=True))
    return s.execute(stmt).scalar_one_or_none()


def _audit(s: Session, row: PolicyVersionRow, actor: str, action: str, **payload: Any) -> None:
    audit.record(s, actor=actor, action=action, entity="policy_version", entity_id=row.id,
                 payload={"scenario_id": row.scenario_id, "version": row.version, **payload})


def _retire(s: Session, row: PolicyVersionRow, actor: str, why: str) -> None:
    row.state = "retired"
    row.retired_at = utcnow()
    s.flush()  # free the partial unique index slot before another row takes it
    _audit(s, row, actor, "retire_policy", reason=why)


# ---- actions ------------------------------------------------------------------------------------------


def draft_policy(engine: Engine, yaml_text: str, *, author: str, source: str | None = None,
                 note: str | None = None) -> dict[str, Any]:
    """起草: store a policy text as a draft (validated first). Re-drafting the same content returns the
    existing version (`created: False`), whatever its state."""
    if not author or not author.strip():
        raise ValidationError("a draft needs its author", code="author_required", field="author")
    scenario, version = parse_policy(yaml_text, source or "<draft>")
    with transaction(engine) as s:
        existing = s.execute(select(PolicyVersionRow).where(PolicyVersionRow.scenario_id == scenario.id,
                                                            PolicyVersionRow.version == version)).scalar_one_or_none()
        if existing is not None:
            return {**_json(existing), "created": False}
        row = PolicyVersionRow(scenario_id=scenario.id, version=version, yaml_text=yaml_text, source=source,
                               state="draft", role="champion", author=author.strip(), note=note)
        s.add(row)
        s.flush()
        _audit(s, row, author, "draft_policy", source=source)
        return {**_json(row), "created": True}


def draft_policy_file(engine: Engine, path: Path | str, *, author: str, note: str | None = None) -> dict[str, Any]:
    """Draft the policy in a YAML file (e.g. a shipped `scenarios/*.yaml`)."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"policy file {p} does not exist", code="policy_file_not_found", path=str(p))
    return draft_policy(engine, p.read_text(encoding="utf-8"), author=author, source=str(p), note=note)


def approve_policy(engine: Engine, policy_id: int, *, approver: str) -> dict[str, Any]:
    """审批: a draft becomes approved — by someone other than its author (四眼原则)."""
    if not approver or not approver.strip():
        raise ValidationError("an approval needs its approver", code="approver_required", field="approver")
    approver = approver.strip()
    with transaction(engine) as s:
        row = _load(s, policy_id)
        if row.state == "approved" and row.approver == approver:
            return _json(row)  # the same approval again: nothing to do
        if row.state != "draft":
            raise Conflict(f"policy version {policy_id} is {row.state}, only a draft can be approved",
                           code="policy_not_draft", policy_id=policy_id, state=row.state)
        if approver == row.author:
            raise PolicyViolation(f"{approver} drafted policy version {policy_id} and cannot also approve it "
                                  "(four eyes: 四眼原则)", code="four_eyes_violation", policy_id=policy_id,
                                  author=row.author)
        row.state, row.approver, row.approved_at = "approved", approver, utcnow()
        _audit(s, row, approver, "approve_policy")
        return _json(row)


def activate_policy(engine: Engine, policy_id: int, *, actor: str, role: str = "champion",
                    traffic_share: Any = None) -> dict[str, Any]:
    """启用: make an approved version the scenario's champion (the previous one retires) or its challenger
    with `traffic_share` of the traffic. An active challenger activated as champion is promoted."""
    if role not in ("champion", "challenger"):
        raise ValidationError(f"role must be champion or challenger, not {role!r}", code="invalid_role", field="role")
    share = _share(traffic_share) if role == "challenger" else None
    with transaction(engine) as s:
        row = _load(s, policy_id)
        if row.state == "active" and row.role == role and (share is None or row.traffic_share == share):
            return _json(row)
        promoting = row.state == "active" and row.role == "challenger" and role == "champion"
        if row.state != "approved" and not promoting:
            raise Conflict(f"policy version {policy_id} is {row.state}; only an approved version can be activated",
                           code="policy_not_approved", policy_id=policy_id, state=row.state)
        if role == "challenger" and _active(s, row.scenario_id, "champion") is None:
            raise Conflict(f"scenario {row.scenario_id} has no active champion to challenge",
                           code="no_active_champion", scenario_id=row.scenario_id)
        previous = _active(s, row.scenario_id, role)
        if previous is not None and previous.id != row.id:
            _retire(s, previous, actor, f"replaced by version {row.version}")
        if promoting:
            row.state = "retired"  # leave the challenger slot before taking the champion one
            s.flush()
        row.state, row.role, row.traffic_share = "active", role, share
        row.activated_at, row.activated_by, row.retired_at = utcnow(), actor, None
        s.flush()
        _audit(s, row, actor, "activate_policy", role=role, traffic_share=share,
               replaced=None if previous is None else previous.version)
        return _json(row)


def retire_challenger(engine: Engine, scenario_id: str, *, actor: str) -> dict[str, Any]:
    """End a champion/challenger test: the scenario's active challenger retires."""
    with transaction(engine) as s:
        row = _active(s, scenario_id, "challenger")
        if row is None:
            raise Conflict(f"scenario {scenario_id} has no active challenger", code="no_active_challenger",
                           scenario_id=scenario_id)
        _retire(s, row, actor, "challenger ended")
        return _json(row)


def rollback(engine: Engine, scenario_id: str, *, actor: str) -> dict[str, Any]:
    """回滚: retire the active champion and re-activate the most recently retired champion before it."""
    with transaction(engine) as s:
        current = _active(s, scenario_id, "champion")
        if current is None:
            raise Conflict(f"scenario {scenario_id} has no active champion to roll back",
                           code="no_active_champion", scenario_id=scenario_id)
        previous = s.execute(
            select(PolicyVersionRow)
            .where(PolicyVersionRow.scenario_id == scenario_id, PolicyVersionRow.state == "retired",
                   PolicyVersionRow.role == "champion", PolicyVersionRow.activated_at.is_not(None),
                   PolicyVersionRow.id != current.id)
            .order_by(PolicyVersionRow.retired_at.desc(), PolicyVersionRow.id.desc()).limit(1).with_for_update()
        ).scalar_one_or_none()
        if previous is None:
            raise Conflict(f"scenario {scenario_id} has no earlier active version to roll back to",
                           code="no_previous_version", scenario_id=scenario_id)
        _retire(s, current, actor, f"rolled back to {previous.version}")
        previous.state, previous.activated_at, previous.activated_by, previous.retired_at = (
            "active", utcnow(), actor, None)
        s.flush()
        _audit(s, previous, actor, "rollback_policy", from_version=current.version)
        return {**_json(previous), "rolled_back_from": _json(current)}


# ---- queries ------------------------------------------------------------------------------------------


def get_policy(engine: Engine, policy_id: int, *, with_text: bool = True) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        return _json(_load(s, policy_id, lock=False), with_text=with_text)


def find_version(engine: Engine, version: str, scenario_id: str | None = None) -> dict[str, Any]:
    """The policy row of a version hash (a unique prefix of ≥ 6 hex digits is enough), with its text."""
    if len(version) < 6:
        raise ValidationError("give at least 6 characters of the version hash", code="version_too_short")
    with transaction(engine, write=False) as s:
        stmt = select(PolicyVersionRow).where(PolicyVersionRow.version.startswith(version, autoescape=True))
        if scenario_id:
            stmt = stmt.where(PolicyVersionRow.scenario_id == scenario_id)
        rows = list(s.scalars(stmt.limit(3)))
        if not rows:
            raise NotFound(f"no policy version {version}", code="policy_not_found", version=version)
        if len({(r.scenario_id, r.version) for r in rows}) > 1:
            raise ValidationError(f"version prefix {version} is ambiguous", code="version_ambiguous",
                                  matches=[f"{r.scenario_id}@{r.version}" for r in rows])
        return _json(rows[0], with_text=True)


def list_policies(engine: Engine, *, scenario_id: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
    """Every policy version (newest first per scenario), optionally of one scenario or state."""
    with transaction(engine, write=False) as s:
        stmt = select(PolicyVersionRow).order_by(PolicyVersionRow.scenario_id, PolicyVersionRow.id.desc())
        if scenario_id:
            stmt = stmt.where(PolicyVersionRow.scenario_id == scenario_id)
        if state:
            stmt = stmt.where(PolicyVersionRow.state == state)
        return [_json(r) for r in s.scalars(stmt)]


def active_policies(engine: Engine, on: dt.date | None = None) -> dict[str, ActivePolicy]:
    """Scenario id → its active champion (and challenger), parsed.

    `on=None` is the current state. With a date, the versions whose current activation began on or
    before that day (UTC) count: a version rolled back to counts from its re-activation; the complete
    history of activations is in the audit trail (`entity="policy_version"`).
    """
    with transaction(engine, write=False) as s:
        rows = list(s.scalars(select(PolicyVersionRow).where(PolicyVersionRow.state == "active")
                              .order_by(PolicyVersionRow.scenario_id)))
    if on is not None:
        end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        rows = [r for r in rows if r.activated_at is not None and r.activated_at < end]
    champions = {r.scenario_id: r for r in rows if r.role == "champion"}
    challengers = {r.scenario_id: r for r in rows if r.role == "challenger"}
    out: dict[str, ActivePolicy] = {}
    for sid, ch in champions.items():
        scenario, _ = parse_policy(ch.yaml_text, f"policy_versions:{ch.id}")
        c = challengers.get(sid)
        cs = parse_policy(c.yaml_text, f"policy_versions:{c.id}")[0] if c is not None else None
        out[sid] = ActivePolicy(
            scenario_id=sid, champion=scenario, champion_version=ch.version, champion_id=ch.id,
            challenger=cs, challenger_version=None if c is None else c.version,
            challenger_id=None if c is None else c.id,
            traffic_share=0.0 if c is None or c.traffic_share is None else float(c.traffic_share),
        )
    return out


def bootstrap_shipped(engine: Engine, actor: str = _BOOTSTRAP_AUTHOR, *, approver: str = RELEASE_APPROVER,
                      directory: Path | None = None) -> list[dict[str, Any]]:
    """Register every shipped scenario file whose version is not the active champion: draft (by `actor`),
    approve (by the release actor `approver`), activate. Returns what was done per scenario."""
    from puhui.decisioning.scenario import SCENARIOS_DIR

    if actor == approver:
        raise PolicyViolation("the release approver must differ from the deploying actor", code="four_eyes_violation")
    folder = Path(directory) if directory is not None else SCENARIOS_DIR
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    # compare content hashes as computed today (a stored id may predate a schema change of the scenario)
    current = {sid: p.champion.version for sid, p in active_policies(engine).items()}
    done: list[dict[str, Any]] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        scenario, version = parse_policy(text, str(path))
        if current.get(scenario.id) == version:
            done.append({"scenario_id": scenario.id, "version": version, "action": "already_active"})
            continue
        row = draft_policy(engine, text, author=actor, source=f"scenarios/{path.name}")
        if row["state"] == "draft":
            row = approve_policy(engine, row["id"], approver=approver)
        if row["state"] == "approved":
            row = activate_policy(engine, row["id"], actor=actor)
            action = "activated"
        else:  # a retired version of the shipped text: the operator chose to roll it back; leave it
            action = f"left_{row['state']}"
        done.append({"scenario_id": scenario.id, "version": version, "action": action, "policy_id": row["id"]})
    return done
