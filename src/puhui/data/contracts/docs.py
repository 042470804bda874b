"""Render every data contract in `puhui.data.contracts.CONTRACTS` as Markdown (docs/data-contracts.md).

`python -m puhui.data.contracts.docs > docs/data-contracts.md` regenerates the page; a test checks that
the committed page equals the rendering, so the contracts in code and the documentation cannot drift.
The output is deterministic (no dates, sources in registry order) and pure: `render()` returns text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from puhui.data.contracts.base import Check, Field, FieldType, SourceContract

_TYPE_TEXT: dict[FieldType, str] = {
    FieldType.STRING: "string",
    FieldType.CODE: "code",
    FieldType.INT: "int64",
    FieldType.AMOUNT: "amount: decimal(18,2) CNY",
    FieldType.FLOAT: "float64",
    FieldType.DATE: "date",
    FieldType.MONTH: "month (date, 1st)",
    FieldType.BOOL: "bool",
}

_CHECK_TEXT: dict[Check, str] = {
    Check.USCC: "USCC (GB 32100)",
    Check.RIC: "resident ID (GB 11643)",
    Check.LUHN: "Luhn (warning)",
    Check.NON_NEGATIVE: "≥ 0",
    Check.NOT_FUTURE: "not in the future",
    Check.SHARE: "in [0, 1]",
}

_SUBJECT_TEXT = {"enterprise": "enterprise", "person": "person", "property": "property", "chain": "supply chain"}


def _cell(text: str) -> str:
    """Escape text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _lag(c: SourceContract) -> str:
    if c.time_field is None:
        return f"{c.lag_days} d (snapshot)"
    return f"{c.lag_days} d"


def _field_row(c: SourceContract, f: Field) -> str:
    key = " (key)" if f.name in c.key else ""
    time = " (time)" if f.name == c.time_field else ""
    rules = []
    if f.codes:
        rules.append("one of " + ", ".join(f"`{x}`" for x in f.codes))
    rules.extend(_CHECK_TEXT[ch] for ch in f.checks)
    null = "yes" if f.nullable else ""
    return (
        f"| `{f.name}`{key}{time} | {_cell(_TYPE_TEXT[f.type])} | {_cell(f.unit)} | {_cell(f.en)} | {_cell(f.zh)} "
        f"| {null} | {_cell('; '.join(rules))} |"
    )


def render_contract(c: SourceContract) -> str:
    """One source as a Markdown section."""
    lines = [f"## `{c.name}` — {c.en} ({c.zh})", ""]
    if c.description:
        lines += [c.description, ""]
    lines += [
        f"- **Grain:** {c.grain}",
        f"- **Key:** {', '.join(f'`{k}`' for k in c.key)}",
        f"- **Time field:** {f'`{c.time_field}`' if c.time_field else 'none (reference data, snapshot at the cut)'}",
        f"- **Reporting lag:** {_days(c.lag_days)} after the period ends"
        if c.time_field
        else f"- **Reporting lag:** {_days(c.lag_days)} (snapshot)",
        f"- **Subject:** {_SUBJECT_TEXT.get(c.subject, c.subject)}",
        "",
        "| field | type | unit | meaning | 含义 | nullable | codes and checks |",
        "|---|---|---|---|---|---|---|",
        *(_field_row(c, f) for f in c.fields),
        "",
    ]
    if c.notes:
        lines += [*(f"> {n}" for n in c.notes), ""]
    return "\n".join(lines)


def render(contracts: Iterable[SourceContract] | None = None) -> str:
    """The whole page: an index of the sources, then one section per source."""
    if contracts is None:
        from puhui.data.contracts import CONTRACTS

        contracts = CONTRACTS.values()
    cs = list(contracts)
    out = [
        "# Data contracts",
        "",
        "<!-- Generated from puhui/data/contracts by `python -m puhui.data.contracts.docs > "
        "docs/data-contracts.md`; do not edit by hand. -->",
        "",
        "Every source puhui reads, field by field: type, unit, meaning in English and Chinese, and the "
        "reporting lag — a row about period P is usable `lag` days after P ends, and indicators must not "
        "look at it earlier (point-in-time correctness). Each source is one raw-zone folder "
        "(`<PUHUI_HOME>/raw/<source>/*.parquet`) whose Arrow schema is derived from the same contract. "
        "Money is `decimal(18,2)` CNY yuan (exact to the fen); a `month` is stored as the date of its first day; "
        "codes are closed lists.",
        "",
        "| source | 中文 | subject | grain | time field | lag |",
        "|---|---|---|---|---|---|",
        *(
            f"| [`{c.name}`](#{_anchor(c)}) | {_cell(c.zh)} | {_SUBJECT_TEXT.get(c.subject, c.subject)} "
            f"| {_cell(c.grain)} | {f'`{c.time_field}`' if c.time_field else '—'} | {_lag(c)} |"
            for c in cs
        ),
        "",
    ]
    for c in cs:
        out.append(render_contract(c))
    return "\n".join(out).rstrip("\n") + "\n"


def _anchor(c: SourceContract) -> str:
    """GitHub's heading anchor of `render_contract`'s heading (lower case, punctuation dropped)."""
    heading = f"{c.name} — {c.en} ({c.zh})".lower()
    kept = []
    for ch in heading:
        if ch.isalnum() or ch in "_-":
            kept.append(ch)
        elif ch == " ":
            kept.append("-")
    return "".join(kept)


if __name__ == "__main__":
    sys.stdout.write(render())
