"""Champion/challenger arms (冠军/挑战者): which policy version decides for an enterprise.

An enterprise's arm is a pure function of its USCC and a salt: `bucket = sha256(salt ‖ ":" ‖ uscc)`, its
first 64 bits read as an integer and divided by 2⁶⁴, a number in [0, 1) that is uniform over USCCs and
stable over time; the enterprise is in the challenger arm when `bucket < traffic_share`. So the same
enterprise always meets the same policy while an experiment runs (no flip-flopping offers), a larger
share only adds enterprises to the challenger (monotone ramp-up), and no state is stored. The default
salt is the scenario id and the challenger's version hash: every new experiment draws a fresh, independent
split, so the same enterprises are not always the guinea pigs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from puhui.decisioning.policies import ActivePolicy

__all__ = ["CHALLENGER", "CHAMPION", "arm_for", "assign_arm", "bucket", "experiment_salt"]

CHAMPION = "champion"
CHALLENGER = "challenger"
_SCALE = float(2**64)


def bucket(uscc: str, salt: str) -> float:
    """The enterprise's position in [0, 1) for this salt (salted SHA-256 of the USCC)."""
    digest = hashlib.sha256(f"{salt}:{uscc.strip().upper()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def assign_arm(uscc: str, traffic_share: float, salt: str) -> str:
    """`challenger` for the `traffic_share` of enterprises whose bucket falls below it, else `champion`."""
    if traffic_share <= 0:
        return CHAMPION
    return CHALLENGER if bucket(uscc, salt) < traffic_share else CHAMPION


def experiment_salt(scenario_id: str, challenger_version: str | None) -> str:
    """The default salt of a scenario's current experiment."""
    return f"{scenario_id}/{challenger_version or '-'}"


def arm_for(policy: ActivePolicy, uscc: str) -> str:
    """The arm of `uscc` under a scenario's active policy (champion when there is no challenger)."""
    if policy.challenger is None or policy.traffic_share <= 0:
        return CHAMPION
    return assign_arm(uscc, policy.traffic_share, experiment_salt(policy.scenario_id, policy.challenger_version))
