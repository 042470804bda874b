"""The truth of a chunk — what the generator knows and a bank never sees — for evaluation only.

`truth/enterprises` (one row per enterprise): industry and city keys, the hidden firm level, the chain
tie (core, dependence), and the outcome: default onset month, the month the default is recognised at 90+
days past due (onset + 3), voluntary cancellation and licence revocation months.

`truth/health_monthly` (one row per enterprise and month from its founding): hidden health H and
business state S, `hazard` = the exact probability with which default was drawn that month (null when
not at risk), `at_risk`, `default_onset` (the draw's outcome), `in_default`, `pd_12m` (P(onset in the
next 12 months | state now, no default yet); null otherwise) and `active` (the firm produces data).
Nothing here may be used as a feature; indicators read the raw zone only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from puhui.data.synth.arrowkit import codes, dates, month_starts, rows
from puhui.data.synth.geography import CITIES
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk
from puhui.data.synth.vocab import INDUSTRIES

DPD90_LAG_MONTHS = 3


def enterprises(ch: Chunk) -> pa.Table:
    hp = ch.hp
    t_len = ch.t
    starts = month_starts(ch.months.first_ext + PRE_MONTHS, t_len + DPD90_LAG_MONTHS)
    onset = hp.onset
    has = onset < t_len
    core = ch.core >= 0
    return pa.table({
        "uscc": ch.uscc_col(),
        "global_index": pa.array(ch.global_index),
        "industry": codes(ch.industry, [p.key for p in INDUSTRIES]),
        "city_code": codes(ch.city, [c.code for c in CITIES]),
        "individual": pa.array(ch.individual),
        "firm_level": pa.array(ch.u),
        "annual_revenue": pa.array(np.round(ch.revenue, 2)),
        "employees": pa.array(ch.employees),
        "core_uscc": pa.array(np.where(core, ch.g.core_uscc[np.maximum(ch.core, 0)], ""), mask=~core),
        "chain_tier": pa.array(ch.tier.astype(np.int64)),
        "dependence": pa.array(ch.dependence),
        "founding_date": dates(ch.founding_day),
        "default_onset_month": dates(starts[np.minimum(onset, t_len - 1)], has),
        "dpd90_month": dates(starts[np.minimum(onset + DPD90_LAG_MONTHS, t_len + DPD90_LAG_MONTHS - 1)], has),
        "cancelled_month": dates(starts[np.minimum(hp.exit, t_len - 1)], hp.exit < t_len),
        "revoked_month": dates(starts[np.minimum(hp.revoke, t_len - 1)], hp.revoke < t_len),
    })  # fmt: skip


def health_monthly(ch: Chunk) -> pa.Table:
    hp = ch.hp
    fi, ti = rows(hp.founded)
    at_risk = hp.at_risk[fi, ti]
    pd = hp.pd_12m[fi, ti]
    onset = hp.onset[fi]
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": dates(month_starts(ch.months.first_ext + PRE_MONTHS, ch.t)[ti]),
        "health": pa.array(ch.health_w[fi, ti]),
        "business_state": pa.array(ch.state_w[fi, ti]),
        "hazard": pa.array(hp.hazard[fi, ti], mask=~at_risk),
        "at_risk": pa.array(at_risk),
        "default_onset": pa.array(ti == onset),
        "in_default": pa.array(ti >= onset),
        "pd_12m": pa.array(pd, mask=np.isnan(pd)),
        "active": pa.array(hp.active[fi, ti]),
    })  # fmt: skip
