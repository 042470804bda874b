"""Registration sources of a chunk: the register snapshot, shareholders, the change log, annual reports.

* Status at the cut: cancelled (注销) in the month a firm left voluntarily, revoked (吊销) for defaulted
  firms 6+ months after onset, else active. Registered capital follows revenue loosely (the subscribed
  capital regime since 2014 lets it run far from the business).
* Shareholders: one for 个体工商户 (the operator), one to six for enterprises; the legal representative is
  usually the largest shareholder; shares sum to 1 and subscribed amounts to the registered capital
  exactly (the largest shareholder absorbs the rounding fen).
* Changes: legal representative, shareholders, capital, address, scope, name — each at most once in the
  history, with monthly rates that rise as the business state S falls and after a default (people leave
  a sinking firm; capital is cut), so the change log carries early warning.
* Annual reports (企业年报) for each year ending in the history (and the year before): filed in January–June
  of the next year if the firm is healthy enough (filing falls with health; defaulted firms often skip);
  a report not filed by the cut is absent, and a missed report puts the firm on the abnormal-operation
  list on 1 July (`public_records`, via `chunk.cache["annual_report_missing"]`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from puhui.data.contracts.enterprise import CHANGE_ITEMS, ENTITY_TYPES, INDUSTRY_SECTIONS, STATUSES
from puhui.data.synth import names
from puhui.data.synth.arrowkit import amount, codes, dates, dec31, fen_array, int_text, join, ragged, sigmoid
from puhui.data.synth.geography import CITIES, district_arrays
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk
from puhui.data.synth.vocab import INDUSTRIES

_SECTION_INDEX = np.array([INDUSTRY_SECTIONS.index(p.section) for p in INDUSTRIES])

SOURCE_IDS = {"registration": 10, "registration_shareholders": 11, "registration_changes": 12, "annual_reports": 13}


def _capital_fen(ch: Chunk, r: np.random.Generator) -> np.ndarray:
    ent = ch.revenue * np.exp(-0.3 + 0.7 * r.standard_normal(ch.n))
    ind = ch.revenue * np.exp(-1.5 + 0.6 * r.standard_normal(ch.n))
    yuan = np.where(ch.individual, np.maximum(1_000, np.round(ind, -3)), np.maximum(10_000, np.round(ent, -4)))
    return (yuan * 100).astype(np.int64)


def registration(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["registration"])
    cap = _capital_fen(ch, r)
    ch.cache["capital_fen"] = cap
    t_len = ch.t
    hp = ch.hp
    status = np.where(hp.exit < t_len, 2, np.where(hp.revoke < t_len, 1, 0))
    status_month = np.where(hp.exit < t_len, hp.exit, np.where(hp.revoke < t_len, hp.revoke, 0))
    status_day = ch.day_in_month(status_month, r)
    addr = names.addresses(r, ch.city, ch.district)
    ch.cache["address"] = addr
    da = district_arrays()
    return pa.table({
        "uscc": ch.uscc_col(),
        "name": ch.name,
        "entity_type": codes(ch.individual.astype(np.int64), ENTITY_TYPES),
        "legal_rep_name": ch.rep_name,
        "legal_rep_id": ch.rep_id_col(np.arange(ch.n)),
        "registered_capital": fen_array(cap),
        "founding_date": dates(ch.founding_day),
        "industry_section": codes(_SECTION_INDEX[ch.industry], INDUSTRY_SECTIONS),
        "industry_code": codes(ch.industry, [p.code for p in INDUSTRIES]),
        "region_code": codes(ch.district, list(da.code)),
        "city_code": codes(ch.city, [c.code for c in CITIES]),
        "address": addr,
        "status": codes(status, STATUSES),
        "status_date": dates(status_day, status > 0),
    })  # fmt: skip


def shareholders(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["registration_shareholders"])
    cap = ch.cache["capital_fen"]
    count = np.where(ch.individual, 1, 1 + np.minimum(r.poisson(0.9, ch.n), 5))
    firm, pos = ragged(count)
    m = len(firm)
    w = r.gamma(1.5, 1.0, m)
    # sort weights descending within each firm: shareholder 1 is the largest
    order = np.lexsort((-w, firm))
    w = w[order]
    total = np.bincount(firm, weights=w, minlength=ch.n)
    sub = np.floor(w / total[firm] * cap[firm]).astype(np.int64)
    rest = cap - np.bincount(firm, weights=sub, minlength=ch.n).astype(np.int64)
    sub[pos == 0] += rest[firm[pos == 0]]
    rep_is_first = ch.individual | (r.random(ch.n) < 0.85)
    is_rep = (pos == 0) & rep_is_first[firm]
    ent_holder = (pos > 0) & (r.random(m) < 0.08)
    person, _ = names.person_names(r, m)
    holding = join(names.city_names(ch.city[firm]), names.brands(r, m),
                   codes(r.integers(0, 2, m), ["投资有限公司", "控股有限公司"]))  # fmt: skip
    rep = ch.rep_name.take(pa.array(firm))
    name = pc.if_else(pa.array(is_rep), rep, pc.if_else(pa.array(ent_holder), holding, person))
    return pa.table({
        "uscc": ch.uscc_col(firm),
        "shareholder_no": pa.array(pos + 1),
        "shareholder_name": name,
        "shareholder_type": codes(ent_holder.astype(np.int64), ["person", "enterprise"]),
        "capital_share": pa.array(sub / cap[firm]),
        "subscribed_capital": fen_array(sub),
        "is_legal_rep": pa.array(is_rep),
    })  # fmt: skip


# monthly base rates of each change item and its sensitivity to the business state S
_CHANGE_RATES = {
    "legal_rep": (0.0012, 0.9),
    "shareholder": (0.0020, 0.8),
    "capital": (0.0015, 0.4),
    "address": (0.0025, 0.6),
    "business_scope": (0.0020, 0.2),
    "name": (0.0004, 0.3),
}


def changes(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["registration_changes"])
    active = ch.hp.active
    s = ch.state_w
    post = ch.defaulted_w
    firm_l, month_l, item_l = [], [], []
    for k, item in enumerate(CHANGE_ITEMS):
        base, beta = _CHANGE_RATES[item]
        p = base * np.exp(-beta * np.minimum(s, 2.0)) * np.where(post, 3.0, 1.0)
        hit = active & (r.random(s.shape) < p)
        if item == "shareholder":
            hit &= ~ch.individual[:, None]
        first = hit.argmax(axis=1)
        has = hit.any(axis=1)
        f = np.flatnonzero(has)
        firm_l.append(f)
        month_l.append(first[f])
        item_l.append(np.full(len(f), k))
    firm = np.concatenate(firm_l)
    month = np.concatenate(month_l)
    item = np.concatenate(item_l)
    day = ch.day_in_month(month, r)
    order = np.lexsort((item, day, firm))
    firm, day, item = firm[order], day[order], item[order]
    _, seq = ragged(np.bincount(firm, minlength=ch.n))
    m = len(firm)
    cap = ch.cache["capital_fen"][firm] / 100.0
    capital_before = cap * np.where(r.random(m) < 0.5, 0.5, 2.0)

    def wan(yuan: np.ndarray) -> pa.Array:
        return join(int_text(np.round(yuan / 10_000).astype(np.int64)), "万元人民币")

    other_person, _ = names.person_names(r, m)
    old_addr = names.addresses(r, ch.city[firm], ch.district[firm])
    old_name = names.company_names(r, ch.industry[firm], ch.city[firm], ch.district[firm], ch.individual[firm],
                                   ch.rep_surname.take(pa.array(firm)))  # fmt: skip
    fa = pa.array(firm)
    null = pa.nulls(m, pa.string())
    before = [other_person, other_person, wan(capital_before), old_addr, null, old_name]
    after = [ch.rep_name.take(fa), names.person_names(r, m)[0], wan(cap), ch.cache["address"].take(fa), null,
             ch.name.take(fa)]  # fmt: skip
    before_v = null
    after_v = null
    for k in range(len(CHANGE_ITEMS)):
        sel = pa.array(item == k)
        before_v = pc.if_else(sel, before[k], before_v)
        after_v = pc.if_else(sel, after[k], after_v)
    return pa.table({
        "uscc": ch.uscc_col(firm),
        "seq": pa.array(seq + 1),
        "change_date": dates(day),
        "change_item": codes(item, CHANGE_ITEMS),
        "before_value": before_v,
        "after_value": after_v,
    })  # fmt: skip


def annual_reports(ch: Chunk) -> pa.Table:
    """One row per firm and reporting year that was filed by the cut."""
    r = ch.rng(SOURCE_IDS["annual_reports"])
    mo = ch.months
    years = ch.report_years()
    cut = mo.end_day
    firm_l, year_l, fday_l, emp_l, rev_l, ast_l, tax_l = [], [], [], [], [], [], []
    missing_firm, missing_year = [], []
    for y in years:
        ext = np.flatnonzero(mo.year == y)
        dec = ext[-1]
        dec_day = int(mo.start_day[dec] + mo.days[dec] - 1)
        t_dec = dec - PRE_MONTHS
        alive = ch.founding_day <= dec_day
        if t_dec >= 0:
            alive &= (ch.hp.exit > t_dec) & (ch.hp.revoke > t_dec)
        h = ch.hp.health[:, dec]
        post = ch.hp.onset <= t_dec
        filed = alive & (r.random(ch.n) < np.where(post, 0.35, sigmoid(3.5 + 0.8 * h)))
        jan1 = dec_day + 1
        fday = jan1 + np.floor(r.beta(2.0, 1.5, ch.n) * 181).astype(np.int64)
        known = filed & (fday <= cut)
        miss = alive & ~filed & (jan1 + 181 <= cut)
        missing_firm.append(np.flatnonzero(miss))
        missing_year.append(np.full(int(miss.sum()), y))
        f = np.flatnonzero(known)
        v = ch.volume[f][:, ext].sum(axis=1)
        s_dec = ch.hp.state[f, dec]
        firm_l.append(f)
        year_l.append(np.full(len(f), y))
        fday_l.append(fday[f])
        emp_l.append(
            np.maximum(
                1, np.round(ch.employees[f] * np.exp(0.15 * np.minimum(s_dec, 1.5) + 0.05 * r.standard_normal(len(f))))
            )
        )
        rev_l.append(v * np.exp(0.05 * r.standard_normal(len(f))))
        ast_l.append(ch.revenue[f] * np.exp(-0.2 + 0.5 * r.standard_normal(len(f)) + 0.2 * s_dec))
        tax_l.append(v * ch.invoice_ratio[f] * np.clip(0.02 + 0.03 * r.random(len(f)), 0, 1))
    ch.cache["annual_report_missing"] = (np.concatenate(missing_firm), np.concatenate(missing_year))
    firm = np.concatenate(firm_l)
    year = np.concatenate(year_l)
    order = np.lexsort((year, firm))
    firm, year = firm[order], year[order]
    return pa.table({
        "uscc": ch.uscc_col(firm),
        "report_year": pa.array(year),
        "period_end": dates(dec31(year)),
        "filed_date": dates(np.concatenate(fday_l)[order]),
        "employees": pa.array(np.concatenate(emp_l)[order].astype(np.int64)),
        "total_assets": amount(np.concatenate(ast_l)[order]),
        "operating_revenue": amount(np.concatenate(rev_l)[order]),
        "total_tax": amount(np.concatenate(tax_l)[order]),
    })  # fmt: skip
