"""Supply-chain sources of a chunk: membership (core enterprise ↔ supplier/distributor, tier 1 and 2)
and monthly trade flows.

A member's invoices with its counterparty are its share of business × its true sales (distributors buy at
cost: × (1 − margin)). Payment days start at the contractual term and lengthen with the payer's distress:
a core enterprise in trouble pays its suppliers late (20 days per unit of negative core health), a weak
tier-1 member pays its tier-2 suppliers late, and a weak distributor pays the core late — so the core's
distress shows in the chain's receivables before it shows in the members' defaults. Payments settle the
invoices of `round(days / 30)` months earlier; amounts past the term are the past-due balance. A defaulted
distributor stops paying.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from puhui.data.contracts.enterprise import CHAIN_ROLES, TRADE_DIRECTIONS
from puhui.data.synth.arrowkit import amount, codes, dates, month_starts, rows
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk

SOURCE_IDS = {"chain_relations": 70, "chain_trade_monthly": 71}


def _counterparty(ch: Chunk, f: np.ndarray) -> pa.Array:
    core_u = ch.core_uscc_col(np.maximum(ch.core[f], 0))
    parent_u = ch.uscc_col(np.maximum(ch.parent[f], 0))
    return pc.if_else(pa.array(ch.tier[f] == 2), parent_u, core_u)


def relations(ch: Chunk) -> pa.Table:
    f = np.flatnonzero(ch.core >= 0)
    return pa.table({
        "core_uscc": ch.core_uscc_col(ch.core[f]),
        "member_uscc": ch.uscc_col(f),
        "role": codes(ch.role[f], CHAIN_ROLES),
        "tier": pa.array(ch.tier[f].astype(np.int64)),
        "counterparty_uscc": _counterparty(ch, f),
        "since_date": pa.array(ch.since_day[f].astype(np.int32), pa.int32()).cast(pa.date32()),
        "share_of_business": pa.array(np.round(ch.share[f], 4)),
        "payment_terms_days": pa.array(ch.terms[f].astype(np.int64)),
    })  # fmt: skip


def trade(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["chain_trade_monthly"])
    t_len = ch.t
    mo = ch.months
    month_end = mo.w_start + mo.w_days - 1
    member = ch.core >= 0
    mask = member[:, None] & ch.hp.active & (month_end[None, :] >= ch.since_day[:, None])
    fi, ti = rows(mask)
    m = len(fi)
    supplier = ch.role[fi] == 0
    ext = PRE_MONTHS + ti
    share = ch.share[fi]
    cost = np.where(supplier, 1.0, 1.0 - ch.margin[fi])
    noise = np.exp(0.1 * r.standard_normal(m))
    invoiced = ch.volume[fi, ext] * share * cost * noise
    core_h = ch.g.core_health[np.maximum(ch.core[fi], 0), ext]
    parent = np.maximum(ch.parent[fi], 0)
    payer_weak = np.where(
        supplier,
        np.where(ch.tier[fi] == 2, 15.0 * np.maximum(0.0, -ch.hp.state[parent, ext]), 20.0 * np.maximum(0.0, -core_h)),
        25.0 * np.maximum(0.0, -ch.hp.state[fi, ext]),
    )  # fmt: skip
    terms = ch.terms[fi].astype(np.float64)
    days = np.maximum(0.0, terms + payer_weak + 3.0 * r.standard_normal(m))
    lag = np.clip(np.round(days / 30.4375), 0, 6).astype(np.int64)
    paid = ch.volume[fi, np.maximum(ext - lag, 0)] * share * cost * np.exp(0.1 * r.standard_normal(m))
    stopped = ~supplier & (ti >= ch.hp.onset[fi])
    paid = np.where(stopped, 0.0, paid)
    late_months = np.clip((days - terms) / 30.4375, 0.0, 6.0)
    past_due = invoiced * late_months + np.where(stopped, invoiced * (ti - ch.hp.onset[fi] + 1), 0.0)
    tickets = np.exp(np.log(50_000) + 0.5 * r.standard_normal(len(ch.core)))
    return pa.table({
        "core_uscc": ch.core_uscc_col(ch.core[fi]),
        "member_uscc": ch.uscc_col(fi),
        "month": dates(month_starts(mo.first_ext + PRE_MONTHS, t_len)[ti]),
        "counterparty_uscc": _counterparty(ch, fi),
        "direction": codes(np.where(supplier, 0, 1), TRADE_DIRECTIONS),
        "invoiced_amount": amount(invoiced),
        "invoices": pa.array(r.poisson(invoiced / tickets[fi]) + 1),
        "paid_amount": amount(paid),
        "avg_payment_days": pa.array(np.round(days, 1)),
        "past_due_amount": amount(past_due),
    })  # fmt: skip
