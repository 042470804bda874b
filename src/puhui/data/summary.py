"""`puhui summary`: what the universe under PUHUI_HOME holds — enterprises by industry and by MIIT 2011
size class, the yearly default rate, and which share of enterprises each source covers.

Size classes use the latest annual figures a bank would have: operating revenue = invoice sales of the
latest 12 months (tax data), else the latest annual report; employees = the latest payroll (代发) headcount
in those 12 months, else the annual report's 从业人数, else the social-insurance headcount; total assets
from the latest annual report (needed by 建筑业, 房地产开发, 租赁和商务服务). A firm without the figures its
industry rule needs is `unknown`. The default rate comes from the synthetic truth (onsets per enterprise-
year at risk); coverage counts distinct enterprises per source over those in the register. DuckDB reads
the Parquet directly; `summarize` returns plain data (tests use it), `print_summary` renders Rich tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from puhui.core.errors import NotFound
from puhui.data.contracts import CONTRACTS
from puhui.data.sizeclass import MIIT_2011, SizeClass, classify_many, miit_category

_ENTERPRISE_KEYS = ("uscc", "member_uscc")


def _home(home: Path | None) -> Path:
    from puhui.config import paths

    return Path(home) if home is not None else paths().home


def _glob(root: Path, source: str) -> str | None:
    folder = root / source
    return str(folder / "*.parquet") if folder.is_dir() and any(folder.glob("*.parquet")) else None


def _industry_names() -> dict[str, str]:
    from puhui.data.synth.vocab import INDUSTRIES

    return {p.code: p.zh for p in INDUSTRIES}


def summarize(home: Path | None = None) -> dict[str, Any]:
    """The universe's figures as plain data (see the module docstring)."""
    import duckdb

    root = _home(home)
    raw = root / "raw"
    reg = _glob(raw, "registration")
    if reg is None:
        raise NotFound(
            f"no universe under {root}: raw/registration is empty; run `puhui synth` first",
            code="no_universe",
            home=str(root),
        )
    con = duckdb.connect()
    con.execute(f"CREATE VIEW reg AS SELECT * FROM read_parquet('{reg}')")
    n = con.execute("SELECT count(*) FROM reg").fetchone()[0]
    out: dict[str, Any] = {"home": str(root), "enterprises": n}
    out["cities"] = con.execute("SELECT count(DISTINCT city_code) FROM reg").fetchone()[0]
    out["status"] = dict(con.execute("SELECT status, count(*) FROM reg GROUP BY 1 ORDER BY 2 DESC").fetchall())
    out["entity_types"] = dict(con.execute("SELECT entity_type, count(*) FROM reg GROUP BY 1").fetchall())
    out["size_classes"] = _size_classes(con, raw)
    out["size_standard"] = MIIT_2011.version
    rates = _defaults(con, root, out)
    names = _industry_names()
    by_ind = con.execute("""SELECT industry_section, industry_code, count(*) FROM reg GROUP BY 1, 2
                            ORDER BY 3 DESC, 1, 2""").fetchall()  # fmt: skip
    out["industries"] = [
        {"section": s, "code": c, "name": names.get(c, c), "enterprises": k,
         "yearly_default_rate": rates.get(f"{s}{c}")}
        for s, c, k in by_ind
    ]  # fmt: skip
    out["coverage"] = _coverage(con, raw, n)
    out["core_enterprises"] = out["coverage"].get("chain_core_enterprises", {}).get("rows", 0)
    return out


def _size_classes(con: Any, raw: Path) -> dict[str, int]:
    """MIIT 2011 class counts from the latest annual figures (module docstring)."""
    views = {s: _glob(raw, s) for s in ("tax_monthly", "payroll_monthly", "social_insurance_monthly",
                                         "annual_reports")}  # fmt: skip
    for s, g in views.items():
        if g:
            con.execute(f"CREATE VIEW {s} AS SELECT * FROM read_parquet('{g}')")
    rev12 = pay = si = ar_rev = ar_emp = ar_ast = "NULL"
    if views["tax_monthly"]:
        con.execute("""CREATE VIEW rev12 AS SELECT uscc, sum(invoice_sales) AS rev FROM tax_monthly
                       WHERE month > (SELECT max(month) FROM tax_monthly) - INTERVAL 12 MONTH GROUP BY uscc""")
        rev12 = "(SELECT rev FROM rev12 r WHERE r.uscc = reg.uscc)"
    if views["payroll_monthly"]:
        con.execute("""CREATE VIEW pay AS SELECT uscc, arg_max(headcount, month) AS head FROM payroll_monthly
                       WHERE month > (SELECT max(month) FROM payroll_monthly) - INTERVAL 12 MONTH GROUP BY uscc""")
        pay = "(SELECT head FROM pay p WHERE p.uscc = reg.uscc)"
    if views["social_insurance_monthly"]:
        con.execute("""CREATE VIEW si AS SELECT uscc, arg_max(insured_headcount, month) AS head
                       FROM social_insurance_monthly GROUP BY uscc""")
        si = "(SELECT head FROM si s WHERE s.uscc = reg.uscc)"
    if views["annual_reports"]:
        con.execute("""CREATE VIEW ar AS SELECT uscc, arg_max(operating_revenue, report_year) AS rev,
                       arg_max(employees, report_year) AS emp, arg_max(total_assets, report_year) AS ast
                       FROM annual_reports GROUP BY uscc""")
        ar_rev, ar_emp, ar_ast = (f"(SELECT {c} FROM ar a WHERE a.uscc = reg.uscc)" for c in ("rev", "emp", "ast"))
    figures = con.execute(f"""
        SELECT industry_section, industry_code,
               coalesce(CAST(round(coalesce({rev12}, {ar_rev}) * 100) AS BIGINT), -1) AS rev_fen,
               coalesce({pay}, {ar_emp}, {si}, -1) AS emp,
               coalesce(CAST(round({ar_ast} * 100) AS BIGINT), -1) AS ast_fen
        FROM reg""").fetchnumpy()
    sections = np.asarray(figures["industry_section"], dtype=str).tolist()
    codes = np.asarray(figures["industry_code"], dtype=str).tolist()
    pairs = {(s, c): miit_category(s, c) for s, c in set(zip(sections, codes, strict=True))}
    cats = np.array([pairs[(s, c)] for s, c in zip(sections, codes, strict=True)], dtype=object)
    classes = classify_many(cats, np.asarray(figures["emp"]), np.asarray(figures["rev_fen"]),
                            np.asarray(figures["ast_fen"]), MIIT_2011)  # fmt: skip
    uniq, cnt = np.unique(classes, return_counts=True)
    found = dict(zip(uniq.tolist(), cnt.tolist(), strict=True))
    return {c.value: int(found.get(c.value, 0)) for c in SizeClass}


def _defaults(con: Any, root: Path, out: dict[str, Any]) -> dict[str, float]:
    """Fill `out["default"]` from the truth; return the yearly rate per industry (section + code)."""
    truth_m = _glob(root / "truth", "health_monthly")
    if not truth_m:
        return {}
    con.execute(f"CREATE VIEW hm AS SELECT * FROM read_parquet('{truth_m}')")
    onsets, months_at_risk, hazard = con.execute(
        "SELECT count(*) FILTER (WHERE default_onset), count(*) FILTER (WHERE at_risk), sum(hazard) FROM hm"
    ).fetchone()
    out["default"] = {
        "onsets": int(onsets),
        "enterprise_years_at_risk": months_at_risk / 12.0,
        "yearly_rate": 12.0 * onsets / months_at_risk if months_at_risk else float("nan"),
        "expected_onsets": float(hazard or 0.0),
        "by_year": {
            int(y): {"rate": 12.0 * d / m if m else float("nan"), "onsets": int(d), "months_at_risk": int(m)}
            for y, d, m in con.execute("""SELECT year(month), count(*) FILTER (WHERE default_onset),
                count(*) FILTER (WHERE at_risk) FROM hm GROUP BY 1 ORDER BY 1""").fetchall()
        },
    }
    return {
        f"{sec}{code}": 12.0 * d / m if m else float("nan")
        for sec, code, d, m in con.execute("""
            SELECT r.industry_section, r.industry_code, count(*) FILTER (WHERE default_onset),
                   count(*) FILTER (WHERE at_risk)
            FROM hm JOIN reg r USING (uscc) GROUP BY 1, 2""").fetchall()
    }


def _coverage(con: Any, raw: Path, n: int) -> dict[str, dict[str, Any]]:
    """Rows per source and, where a source names enterprises, the share of registered ones it covers."""
    coverage: dict[str, dict[str, Any]] = {}
    for name, c in CONTRACTS.items():
        g = _glob(raw, name)
        key = next((k for k in _ENTERPRISE_KEYS if any(f.name == k for f in c.fields)), None)
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{g}')").fetchone()[0] if g else 0
        entry: dict[str, Any] = {"zh": c.zh, "rows": int(rows), "enterprises": None, "share": None}
        if key is not None:
            k = con.execute(
                f"SELECT count(DISTINCT {key}) FROM read_parquet('{g}') WHERE {key} IN (SELECT uscc FROM reg)"
            ).fetchone()[0] if g else 0  # fmt: skip
            entry.update(enterprises=int(k), share=k / n if n else 0.0)
        coverage[name] = entry
    return coverage


def print_summary(home: Path | None = None, console: Console | None = None) -> dict[str, Any]:
    """Render `summarize(home)` as Rich tables; returns the same data."""
    console = console or Console()
    s = summarize(home)
    n = s["enterprises"]
    status = ", ".join(f"{k} {v:,}" for k, v in s["status"].items())
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(s["entity_types"].items()))
    console.print(f"[bold]Universe[/] {s['home']}: {n:,} enterprises ({kinds}) in {s['cities']} cities, "
                  f"{s['core_enterprises']} core enterprises; registration status: {status}")  # fmt: skip

    t = Table(title="Enterprises by industry (GB/T 4754-2017)")
    for col, just in (("section", "left"), ("code", "left"), ("industry", "left"), ("enterprises", "right"),
                      ("share", "right"), ("yearly default rate", "right")):  # fmt: skip
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for row in s["industries"]:
        r = row["yearly_default_rate"]
        t.add_row(row["section"], row["code"], row["name"], f"{row['enterprises']:,}",
                  f"{row['enterprises'] / n:.1%}", "—" if r is None else f"{r:.2%}")  # fmt: skip
    console.print(t)

    t = Table(title=f"Size classes ({s['size_standard']}, 工信部联企业〔2011〕300号)")
    t.add_column("class")
    t.add_column("enterprises", justify="right")
    t.add_column("share", justify="right")
    for c in SizeClass:
        k = s["size_classes"][c.value]
        t.add_row(f"{c.value} {c.zh}", f"{k:,}", f"{k / n:.1%}")
    console.print(t)

    if "default" in s:
        d = s["default"]
        t = Table(title="Defaults (truth: onsets per enterprise-year at risk)")
        t.add_column("period")
        t.add_column("onsets", justify="right")
        t.add_column("yearly rate", justify="right")
        for y, v in d["by_year"].items():
            t.add_row(str(y), f"{v['onsets']:,}", f"{v['rate']:.2%}")
        t.add_row("[bold]all", f"{d['onsets']:,}", f"[bold]{d['yearly_rate']:.2%}")
        console.print(t)
        console.print(f"expected onsets from the true hazards: {d['expected_onsets']:,.1f} "
                      f"(realised {d['onsets']:,})")  # fmt: skip

    t = Table(title="Source coverage")
    for col, just in (("source", "left"), ("中文", "left"), ("rows", "right"), ("enterprises", "right"),
                      ("share", "right")):  # fmt: skip
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, c in s["coverage"].items():
        t.add_row(name, c["zh"], f"{c['rows']:,}", "—" if c["enterprises"] is None else f"{c['enterprises']:,}",
                  "—" if c["share"] is None else f"{c['share']:.1%}")  # fmt: skip
    console.print(t)
    return s
