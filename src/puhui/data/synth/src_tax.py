"""Tax sources of a chunk: monthly filings and invoices, and the annual tax credit grade.

* Invoice sales = the firm's true sales × its invoicing ratio (cash retail invoices less) × small noise.
* VAT: general taxpayers (一般纳税人; firms above 5m yuan a year and some smaller) pay the industry rate
  (13% goods, 9% construction, transport and agricultural products, 6% services) on the value added;
  small-scale taxpayers pay 1% of sales and nothing in a month with sales ≤ 100,000 yuan (财政部 税务总局
  公告2023年第19号, 2023-01-01 to 2027-12-31); farms selling their own produce are exempt.
* Enterprise income tax is prepaid in January, April, July and October on the previous quarter's profit:
  5% effective for small low-profit enterprises (annual taxable income ≤ 3m, 公告2023年第12号), 25% above;
  个体工商户 pay individual income tax instead, which this source does not carry.
* Filing and paying fail more often as health falls (σ(−5 − 1.2·H), σ(−4.8 − 1.4·H)) and much more after a
  default; unpaid tax becomes arrears (with 滞纳金 of 0.05% a day) until paid off.
* The tax credit grade of each year follows a score of health, missed filings and arrears at year end
  (A ≥ 90, B 70–90, C 40–70, D < 40 or judged directly for defaulted firms in arrears; M for firms
  established in the year or without revenue).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from puhui.data.contracts.enterprise import TAX_GRADES, TAXPAYER_TYPES
from puhui.data.synth.arrowkit import amount, codes, dates, dec31, month_starts, rows, sigmoid
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.universe import Chunk
from puhui.data.synth.vocab import industry_array

SOURCE_IDS = {"tax_monthly": 20, "tax_credit_grades": 21}


def _panel(ch: Chunk) -> dict[str, np.ndarray]:
    if "tax" in ch.cache:
        return ch.cache["tax"]  # type: ignore[return-value]
    r = ch.rng(SOURCE_IDS["tax_monthly"])
    n, t_len = ch.n, ch.t
    general = (ch.revenue >= 5e6) | (~ch.individual & (r.random(n) < 0.25))
    sales = ch.volume_w * ch.invoice_ratio[:, None] * np.exp(0.04 * r.standard_normal((n, t_len)))
    sales = np.where(sales < 1.0, 0.0, sales)
    h = ch.health_w
    post = ch.defaulted_w
    filed = r.random((n, t_len)) >= np.where(post, 0.5, sigmoid(-5.0 - 1.2 * h))
    va = industry_array("value_added")[ch.industry] * np.exp(0.2 * r.standard_normal(n))
    rate = industry_array("vat_rate")[ch.industry]
    farm = industry_array("section")[ch.industry] == "A"
    vat_general = sales * (rate * va)[:, None]
    vat_small = np.where(sales > 100_000, sales * 0.01, 0.0)
    vat = np.where(general[:, None], vat_general, vat_small)
    vat = np.where(farm[:, None], 0.0, vat)
    # CIT prepaid in Jan/Apr/Jul/Oct on the previous quarter
    ext = np.arange(PRE_MONTHS, PRE_MONTHS + t_len)
    q_sales = ch.volume[:, ext - 1] + ch.volume[:, ext - 2] + ch.volume[:, ext - 3]
    profit = ch.margin[:, None] * q_sales * ch.invoice_ratio[:, None]
    cit_rate = np.where(profit * 4 <= 3e6, 0.05, 0.25)
    quarter = np.isin(ch.months.moy[ch.w], (0, 3, 6, 9))[None, :]
    cit = np.where(quarter & ~ch.individual[:, None], np.maximum(profit, 0) * cit_rate, 0.0)
    due = np.where(filed, vat + cit, 0.0)
    unpaid = filed & (due > 0) & (r.random((n, t_len)) < np.where(post, 0.7, sigmoid(-4.8 - 1.4 * h)))
    repay = r.random((n, t_len)) < 0.35
    arrears = np.zeros((n, t_len))
    prev = np.zeros(n)
    for t in range(t_len):
        prev = np.where(unpaid[:, t], prev * 1.015 + due[:, t], np.where(repay[:, t], 0.0, prev * 1.015))
        arrears[:, t] = prev
    out = {"general": general, "sales": sales, "filed": filed, "vat": vat, "cit": cit, "unpaid": unpaid,
           "arrears": arrears}  # fmt: skip
    ch.cache["tax"] = out
    return out


def tax_monthly(ch: Chunk) -> pa.Table:
    p = _panel(ch)
    fi, ti = rows(ch.cov["tax"][:, None] & ch.hp.active)
    filed = p["filed"][fi, ti]
    vat = p["vat"][fi, ti]
    unpaid = p["unpaid"][fi, ti]
    sales = p["sales"][fi, ti]
    return pa.table({
        "uscc": ch.uscc_col(fi),
        "month": dates(month_starts(ch.months.first_ext + PRE_MONTHS, ch.t)[ti]),
        "taxpayer_type": codes(np.where(p["general"][fi], 0, 1), TAXPAYER_TYPES),
        "filed": pa.array(filed),
        "zero_declaration": pa.array(filed & (sales == 0)),
        "invoice_sales": amount(sales),
        "vat_payable": amount(vat, filed),
        "vat_paid": amount(np.where(unpaid, 0.0, vat), filed),
        "cit_paid": amount(np.where(filed & ~unpaid, p["cit"][fi, ti], 0.0)),
        "arrears": amount(p["arrears"][fi, ti]),
    })  # fmt: skip


def tax_credit_grades(ch: Chunk) -> pa.Table:
    r = ch.rng(SOURCE_IDS["tax_credit_grades"])
    p = _panel(ch)
    mo = ch.months
    firm_l, year_l, grade_l, score_l = [], [], [], []
    for y in ch.report_years():
        ext = np.flatnonzero(mo.year == y)
        dec = ext[-1]
        dec_day = int(mo.start_day[dec] + mo.days[dec] - 1)
        t_dec = dec - PRE_MONTHS
        alive = ch.cov["tax"] & (ch.founding_day <= dec_day)
        if t_dec >= 0:
            alive &= (ch.hp.exit > t_dec) & (ch.hp.revoke > t_dec)
        win = ext[ext >= PRE_MONTHS] - PRE_MONTHS
        missed = (~p["filed"][:, win] & ch.hp.active[:, win]).any(axis=1) if len(win) else np.zeros(ch.n, bool)
        arrears = p["arrears"][:, t_dec] > 0 if t_dec >= 0 else np.zeros(ch.n, bool)
        score = 88 + 6 * ch.hp.health[:, ext].mean(axis=1) + 4 * r.standard_normal(ch.n) - 11 * missed - 15 * arrears
        score = np.clip(score, 0, 100)
        grade = np.select([score >= 90, score >= 70, score >= 40], [0, 1, 3], 4)
        new = ch.founding_day > dec_day - 365
        no_revenue = ch.volume[:, ext].sum(axis=1) <= 0
        grade = np.where(new | (no_revenue & (score >= 70)), 2, grade)
        judged = (ch.hp.onset <= t_dec) & arrears
        grade = np.where(judged, 4, grade)
        f = np.flatnonzero(alive)
        firm_l.append(f)
        year_l.append(np.full(len(f), y))
        grade_l.append(grade[f])
        score_l.append(np.where(judged[f] | new[f], np.nan, np.round(score[f], 1)))
    firm = np.concatenate(firm_l)
    year = np.concatenate(year_l)
    order = np.lexsort((year, firm))
    firm, year = firm[order], year[order]
    score = np.concatenate(score_l)[order]
    return pa.table({
        "uscc": ch.uscc_col(firm),
        "tax_year": pa.array(year),
        "period_end": dates(dec31(year)),
        "grade": codes(np.concatenate(grade_l)[order], TAX_GRADES),
        "score": pa.array(score, mask=np.isnan(score)),
    })  # fmt: skip
