"""Flow sources of a chunk: in-bank settlement and payroll, social insurance, electricity, customs,
logistics, medical-insurance settlement, agriculture, e-commerce and government procurement.

Every figure is derived from the firm's true monthly sales V (see `universe`) and its health, with the
source's own noise, so sources agree the way real ones do — settlement inflow ≈ invoice sales × the share
of receipts through the bank; kWh ≈ output × energy intensity for manufacturers (plus standby load),
but weather-driven for shops and offices; payroll and social-insurance headcounts track the business state
with a lag-free elasticity of 0.15 and under-insurance; customs values are declarations × ticket size.
Distress shows in each: late electricity bills and social-insurance arrears (σ(−4.8 − 1.4·H)-type
probabilities), outflow above inflow and thin balances, missed payrolls, refund rates rising.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from puhui.data.contracts.enterprise import (
    AGRI_PRODUCTS,
    ECOMMERCE_PLATFORMS,
    MARKETS,
    MEDICAL_INSTITUTION_TYPES,
    PROCUREMENT_CATEGORIES,
    TARIFF_CATEGORIES,
)
from puhui.data.synth.arrowkit import (
    amount,
    choice,
    codes,
    dates,
    dec31,
    ids,
    join,
    month_starts,
    padded,
    ragged,
    rows,
    sigmoid,
    strings,
)
from puhui.data.synth.geography import CITIES, city_tiers, district_arrays
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk
from puhui.data.synth.vocab import INDUSTRIES, industry_array

SOURCE_IDS = {
    "settlement_monthly": 30, "payroll_monthly": 31, "social_insurance_monthly": 32, "electricity_monthly": 33,
    "customs_monthly": 34, "logistics_monthly": 35, "medical_insurance_monthly": 36, "agriculture_annual": 37,
    "ecommerce_monthly": 38, "gov_procurement_awards": 39,
}  # fmt: skip

_KEYS = [p.key for p in INDUSTRIES]
_CONSUMER = np.isin(_KEYS, ["F52", "F5251", "H61", "H62", "O80", "O81", "P83", "Q84", "R90"])


def _level_to_date(v: np.ndarray) -> np.ndarray:
    """Each firm's mean volume over the months up to and including each month (never the future), ≥ 1.

    Counts and baselines are scaled by it, so a month's data never reveals how the firm will do later.
    """
    return np.maximum(np.cumsum(v, axis=1) / np.arange(1, v.shape[1] + 1)[None, :], 1.0)


def _month_col(ch: Chunk, ti: np.ndarray) -> pa.Array:
    return dates(month_starts(ch.months.first_ext + PRE_MONTHS, ch.t)[ti])


def _arrears(unpaid: np.ndarray, due: np.ndarray, repay: np.ndarray, growth: float) -> np.ndarray:
    out = np.zeros(due.shape)
    prev = np.zeros(due.shape[0])
    for t in range(due.shape[1]):
        prev = np.where(unpaid[:, t], prev * growth + due[:, t], np.where(repay[:, t], 0.0, prev * growth))
        out[:, t] = prev
    return out


def _wage(ch: Chunk, r: np.random.Generator) -> np.ndarray:
    """Gross monthly wage per employee, yuan: city tier level × industry productivity × firm noise."""
    level = np.array([10_000.0, 7_000.0, 5_800.0])[city_tiers()[ch.city] - 1]
    prod = np.clip((industry_array("revenue_per_employee")[ch.industry] / 4e5) ** 0.3, 0.6, 1.8)
    return level * prod * np.exp(0.2 * r.standard_normal(ch.n))


def _headcount(ch: Chunk, r: np.random.Generator) -> np.ndarray:
    """(n, T) staff on the books, following the business state and shrinking after a default."""
    s = np.minimum(ch.state_w, 1.5)
    decay = np.where(ch.defaulted_w, np.exp(-0.15 * (ch.months_since_onset + 1)), 1.0)
    raw = ch.employees[:, None] * np.exp(0.15 * s + 0.03 * r.standard_normal(s.shape)) * decay
    return np.maximum(1, np.round(raw)).astype(np.int64)


def _staff(ch: Chunk) -> tuple[np.ndarray, np.ndarray]:
    if "staff" not in ch.cache:
        r = ch.rng(40)
        ch.cache["staff"] = (_headcount(ch, r), _wage(ch, r))
    return ch.cache["staff"]  # type: ignore[return-value]


def settlement(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["settlement_monthly"])
    n, t_len = ch.n, ch.t
    v = ch.volume_w
    bank_share = r.beta(6, 2, n)
    inflow = v * bank_share[:, None] * np.exp(0.10 * r.standard_normal((n, t_len)))
    out_ratio = (1 - ch.margin)[:, None] * np.exp(0.08 * r.standard_normal((n, t_len)))
    out_ratio = np.where(ch.defaulted_w, np.maximum(out_ratio, 1.1), out_ratio)
    outflow = inflow * out_ratio
    rel = v / _level_to_date(v)
    k_txn = np.exp(np.log(25) + 0.8 * r.standard_normal(n)) * np.where(_CONSUMER[ch.industry], 2.0, 1.0)
    fi, ti = rows(ch.cov["bank"][:, None] & ch.hp.active)
    lam_in = np.minimum(k_txn[fi] * rel[fi, ti], 3000)
    in_txn = r.poisson(lam_in + 0.3)
    out_txn = r.poisson(np.minimum(k_txn[fi] * 0.6 * rel[fi, ti], 2000) + 0.3)
    c_in = np.exp(np.log(6) + 0.7 * r.standard_normal(n))
    cp_in = np.minimum(in_txn, 1 + r.poisson(c_in[fi] * np.sqrt(rel[fi, ti])))
    cp_out = np.minimum(out_txn, 1 + r.poisson(c_in[fi] * 0.8 * np.sqrt(rel[fi, ti])))
    top = np.clip(r.beta(2, 4, len(fi)), 0.02, 1.0)
    top = np.where(ch.role[fi] == 0, np.maximum(top, np.minimum(1.0, ch.share[fi] * 0.9)), top)
    top = np.where(cp_in <= 1, 1.0, top)
    buffer_days = np.exp(np.log(8) + 0.6 * r.standard_normal(n))
    s = ch.state_w[fi, ti]
    avg = inflow[fi, ti] / 30.0 * buffer_days[fi] * np.exp(0.5 * np.minimum(s, 2) + 0.25 * r.standard_normal(len(fi)))
    end = avg * np.exp(0.3 * r.standard_normal(len(fi)))
    zero = in_txn == 0
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "inflow": amount(np.where(zero, 0.0, inflow[fi, ti])),
        "outflow": amount(np.where(out_txn == 0, 0.0, outflow[fi, ti])),
        "inflow_txns": pa.array(in_txn),
        "outflow_txns": pa.array(out_txn),
        "inflow_counterparties": pa.array(np.where(zero, 0, cp_in)),
        "outflow_counterparties": pa.array(np.where(out_txn == 0, 0, cp_out)),
        "top_counterparty_share": pa.array(np.where(zero, 0.0, top)),
        "avg_balance": amount(avg),
        "month_end_balance": amount(end),
    })  # fmt: skip


def payroll(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["payroll_monthly"])
    head, wage = _staff(ch)
    skip = r.random((ch.n, ch.t)) < np.where(ch.defaulted_w, 0.5, 0.01)
    fi, ti = rows(ch.cov["payroll"][:, None] & ch.hp.active & ~skip)
    bonus = np.where(ch.months.moy[ch.w][ti] == 0, 1.5, 1.0)
    amt = head[fi, ti] * wage[fi] * 0.85 * bonus * np.exp(0.03 * r.standard_normal(len(fi)))
    pay_day = 5 + r.integers(0, 11, ch.n)
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "headcount": pa.array(head[fi, ti]),
        "amount": amount(amt),
        "pay_day": pa.array(np.clip(pay_day[fi] + r.integers(-1, 2, len(fi)), 1, 28)),
    })  # fmt: skip


def social_insurance(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["social_insurance_monthly"])
    head, wage = _staff(ch)
    ratio = r.beta(5, 2, ch.n)
    insured = np.maximum(1, np.round(head * ratio[:, None])).astype(np.int64)
    min_base = np.array([5_000.0, 4_000.0, 3_500.0])[city_tiers()[ch.city] - 1]
    base = insured * np.maximum(min_base, wage * 0.9)[:, None]
    due = base * 0.37
    h = ch.health_w
    unpaid = r.random(due.shape) < np.where(ch.defaulted_w, 0.6, sigmoid(-4.5 - 1.4 * h))
    arrears = _arrears(unpaid, due, r.random(due.shape) < 0.3, 1.015)
    fi, ti = rows(ch.cov["social"][:, None] & ch.hp.active)
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "insured_headcount": pa.array(insured[fi, ti]),
        "contribution_base": amount(base[fi, ti]),
        "contribution_due": amount(due[fi, ti]),
        "contribution_paid": amount(np.where(unpaid[fi, ti], 0.0, due[fi, ti])),
        "arrears": amount(arrears[fi, ti]),
    })  # fmt: skip


_ELEC_SEASON = np.array([1.15, 1.05, 0.9, 0.85, 0.9, 1.05, 1.3, 1.3, 1.0, 0.85, 0.9, 1.1])


def electricity(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["electricity_monthly"])
    n, t_len = ch.n, ch.t
    manuf = industry_array("manufacturer")[ch.industry].astype(bool)
    intensity = industry_array("kwh_per_kyuan")[ch.industry] / 1000.0 * np.exp(0.25 * r.standard_normal(n))
    v = ch.volume_w
    base = _level_to_date(v) * intensity[:, None]
    moy = ch.months.moy[ch.w]
    kwh_m = v * intensity[:, None] * np.exp(0.04 * r.standard_normal((n, t_len))) + 0.08 * base
    rel = v / _level_to_date(v)
    kwh_o = (
        base * _ELEC_SEASON[moy][None, :] * (0.75 + 0.25 * rel) * np.exp(0.06 * r.standard_normal((n, t_len)))
    )
    kwh = np.where(manuf[:, None], kwh_m, kwh_o)
    cap = np.where(
        manuf, np.clip(ch.revenue / 1e4 * 0.6 * np.exp(0.3 * r.standard_normal(n)), 30, 5000),
        np.clip(ch.revenue / 1e5 * np.exp(0.4 * r.standard_normal(n)), 5, 400),
    )  # fmt: skip
    cap = np.round(cap / 5) * 5
    large = manuf & (cap >= 315)
    price = np.where(large, 0.62, 0.75) * np.exp(0.02 * r.standard_normal(n))
    fee = kwh * price[:, None]
    h = ch.health_w
    late = r.random((n, t_len)) < np.where(ch.defaulted_w, 0.6, sigmoid(-4.8 - 1.4 * h))
    arrears = _arrears(late, fee, r.random((n, t_len)) < 0.4, 1.0)
    fi, ti = rows(ch.cov["electricity"][:, None] & ch.hp.active)
    meter = join(codes(ch.city[fi], [c.code[:4] for c in CITIES]), padded(ch.global_index[fi], 9))
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "meter_account": meter,
        "tariff_category": codes(np.where(large[fi], 0, 1), TARIFF_CATEGORIES),
        "contracted_capacity_kva": pa.array(cap[fi]),
        "kwh": pa.array(np.round(kwh[fi, ti], 1)),
        "fee": amount(fee[fi, ti]),
        "paid_on_time": pa.array(~late[fi, ti]),
        "arrears": amount(arrears[fi, ti]),
    })  # fmt: skip


_MARKET_P = np.array([0.22, 0.08, 0.06, 0.06, 0.04, 0.04, 0.08, 0.05, 0.05, 0.04, 0.05, 0.04, 0.04, 0.04, 0.05, 0.06])


def customs(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["customs_monthly"])
    fi, ti = rows(ch.cov["customs"][:, None] & ch.hp.active)
    n = ch.n
    exp_share = r.beta(2, 2, n)
    importer = r.random(n) < 0.4
    imp_share = np.where(importer, r.beta(1.5, 4, n), 0.0)
    ticket = np.exp(np.log(120_000) + 0.6 * r.standard_normal(n))
    v = ch.volume_w[fi, ti]
    m = len(fi)
    ex_decl = r.poisson(v * exp_share[fi] / ticket[fi])
    ex_val = ex_decl * ticket[fi] * np.exp(0.25 * r.standard_normal(m))
    im_decl = r.poisson(v * imp_share[fi] / ticket[fi])
    im_val = im_decl * ticket[fi] * np.exp(0.25 * r.standard_normal(m))
    market = choice(r, _MARKET_P, n)
    month_market = np.where(r.random(m) < 0.8, market[fi], choice(r, _MARKET_P, m))
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "export_declarations": pa.array(ex_decl),
        "export_value": amount(ex_val),
        "import_declarations": pa.array(im_decl),
        "import_value": amount(im_val),
        "main_market": codes(month_market, MARKETS, ex_decl > 0),
    })  # fmt: skip


def logistics(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["logistics_monthly"])
    fi, ti = rows(ch.cov["logistics"][:, None] & ch.hp.active)
    n, m = ch.n, len(fi)
    consumer = _CONSUMER[ch.industry]
    ship_value = np.exp(np.where(consumer, np.log(150), np.log(8000)) + 0.6 * r.standard_normal(n))
    kg = np.exp(np.where(consumer, np.log(2), np.log(300)) + 0.5 * r.standard_normal(n))
    bills = r.poisson(np.minimum(ch.volume_w[fi, ti] / ship_value[fi], 200_000))
    weight = bills * kg[fi] / 1000.0 * np.exp(0.1 * r.standard_normal(m))
    fee = weight * 250.0 * np.exp(0.2 * r.standard_normal(m)) + bills * 8.0
    dest = np.minimum(bills, 1 + r.poisson(2 + 1.5 * np.log1p(bills)))
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "waybills": pa.array(bills),
        "weight_tons": pa.array(np.round(weight, 3)),
        "freight_fee": amount(fee),
        "destinations": pa.array(np.where(bills == 0, 0, dest)),
    })  # fmt: skip


def medical_insurance(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["medical_insurance_monthly"])
    fi, ti = rows(ch.cov["medical"][:, None] & ch.hp.active)
    n, m = ch.n, len(fi)
    pharmacy = np.array(_KEYS)[ch.industry] == "F5251"
    ticket = np.where(pharmacy, 90.0, 160.0)
    share = r.beta(6, 4, n)
    v = ch.volume_w[fi, ti]
    settled = v * share[fi] * np.exp(0.05 * r.standard_normal(m))
    rej = r.beta(1.2, 80, m) * np.where(ch.health_w[fi, ti] < -1.0, 3.0, 1.0)
    da = district_arrays()
    letter = codes(pharmacy[fi].astype(np.int64), ["H", "P"])
    code = join(letter, codes(ch.district[fi], list(da.code)), padded(ch.global_index[fi], 8))
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "institution_type": codes(np.where(pharmacy[fi], 1, 0), MEDICAL_INSTITUTION_TYPES),
        "designated_code": code,
        "visits": pa.array(r.poisson(v / ticket[fi])),
        "settled_amount": amount(settled),
        "rejected_amount": amount(settled * np.minimum(rej, 0.5)),
    })  # fmt: skip


def agriculture(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["agriculture_annual"])
    n = ch.n
    livestock = np.array(_KEYS)[ch.industry] == "A03"
    per_mu = np.exp(np.where(livestock, np.log(20_000), np.log(4_000)) + 0.3 * r.standard_normal(n))
    land = ch.revenue / per_mu
    transferred = land * r.beta(3, 2, n)
    crop = choice(r, np.array([0.45, 0.25, 0.2, 0.1, 0, 0]), n)
    animal = np.where(r.random(n) < 0.85, 4, 5)
    product = np.where(livestock, animal, crop)
    insured = r.random(n) < 0.65
    mo = ch.months
    firm_l, year_l, out_l = [], [], []
    for y in ch.report_years():
        ext = np.flatnonzero(mo.year == y)
        dec = ext[-1]
        t_dec = dec - PRE_MONTHS
        alive = ch.cov["agri"] & (ch.founding_day <= mo.start_day[dec] + mo.days[dec] - 1)
        if t_dec >= 0:
            alive &= (ch.hp.exit > t_dec) & (ch.hp.revoke > t_dec)
        f = np.flatnonzero(alive)
        firm_l.append(f)
        year_l.append(np.full(len(f), y))
        out_l.append(ch.volume[f][:, ext].sum(axis=1))
    firm = np.concatenate(firm_l)
    year = np.concatenate(year_l)
    order = np.lexsort((year, firm))
    firm, year = firm[order], year[order]
    m = len(firm)
    subsidy = land[firm] * r.uniform(80, 180, m) + np.where(r.random(m) < 0.2, r.uniform(1e4, 1e5, m), 0.0)
    return pa.table({
        "uscc": ch.uscc_col(firm),
        "year": pa.array(year),
        "period_end": dates(dec31(year)),
        "land_area_mu": pa.array(np.round(land[firm], 1)),
        "transferred_area_mu": pa.array(np.round(transferred[firm], 1)),
        "main_product": codes(product[firm], AGRI_PRODUCTS),
        "subsidy_amount": amount(subsidy),
        "insured": pa.array(insured[firm]),
        "output_value": amount(np.concatenate(out_l)[order] * np.exp(0.05 * r.standard_normal(m))),
    })  # fmt: skip


_EC_SEASON = np.array([1.0, 0.85, 0.95, 0.95, 1.0, 1.2, 0.95, 0.95, 0.95, 1.0, 1.45, 1.05])
_EC_SEASON = _EC_SEASON / _EC_SEASON.mean()


def ecommerce(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["ecommerce_monthly"])
    fi, ti = rows(ch.cov["ecommerce"][:, None] & ch.hp.active)
    n, m = ch.n, len(fi)
    key = np.array(_KEYS)[ch.industry]
    local = np.isin(key, ["H61", "H62", "O80", "R90", "P83"])
    farm = np.isin(key, ["A01", "A03"])
    p_std = np.array([0.35, 0.15, 0.3, 0.2, 0.0])
    p_farm = np.array([0.1, 0.05, 0.5, 0.35, 0.0])
    platform = np.where(local, 4, np.where(farm, choice(r, p_farm, n), choice(r, p_std, n)))
    online = np.where(r.random(n) < 0.15, 0.9, r.beta(2, 3, n))
    gmv = ch.volume_w[fi, ti] * online[fi] * _EC_SEASON[ch.months.moy[ch.w][ti]] * np.exp(0.1 * r.standard_normal(m))
    ticket = np.where(local, 45.0, np.where(_CONSUMER[ch.industry], 120.0, 400.0))
    s = ch.state_w[fi, ti]
    refund_rate = r.beta(2, 30, n)
    refund = gmv * np.clip(refund_rate[fi] * (1 + 0.8 * np.maximum(0, -s)), 0, 0.6)
    rating = np.clip(np.round(4.75 + 0.1 * np.clip(s, -3, 2) + 0.05 * r.standard_normal(m), 1), 0, 5)
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": _month_col(ch, ti),
        "platform": codes(platform[fi], ECOMMERCE_PLATFORMS),
        "orders": pa.array(r.poisson(gmv / ticket[fi])),
        "gmv": amount(gmv),
        "refund_amount": amount(refund),
        "store_rating": pa.array(rating),
    })  # fmt: skip


def procurement(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["gov_procurement_awards"])
    med = industry_array("revenue_median")[ch.industry]
    lam = industry_array("procurement_rate")[ch.industry] / 12.0 * (ch.revenue / med) ** 0.3
    counts = r.poisson(np.where(ch.hp.active, lam[:, None], 0.0))
    fi, ti = rows(counts > 0)
    k = counts[fi, ti]
    parent, _ = ragged(k)
    fi, ti = fi[parent], ti[parent]
    m = len(fi)
    day = ch.day_in_month(ti, r)
    order = np.lexsort((day, fi))
    fi, ti, day = fi[order], ti[order], day[order]
    section = industry_array("section")[ch.industry[fi]]
    cat = np.where(section == "E", 1, np.where(np.isin(section, ["A", "C", "D", "F"]), 0, 2))
    city_codes = np.array([c.code for c in CITIES])
    purchaser = np.where(r.random(m) < 0.8, city_codes[ch.city[fi]], city_codes[r.integers(0, len(CITIES), m)])
    return pa.table({
        "award_id": ids("ZC", ch.index * 10**8 + np.arange(m), 14),
        "uscc": ch.uscc_col(fi),
        "award_date": dates(day),
        "purchaser_city": strings(purchaser),
        "category": codes(cat, PROCUREMENT_CATEGORIES),
        "amount": amount(ch.revenue[fi] * np.exp(-2.2 + 0.8 * r.standard_normal(m))),
        "contract_months": pa.array(np.array([3, 6, 12, 24, 36])[choice(r, np.array([.15, .25, .35, .15, .1]), m)]),
    })  # fmt: skip
