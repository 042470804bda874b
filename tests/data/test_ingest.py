"""`puhui ingest`: row checks, quarantine, idempotent re-runs, whole-file refusals and the CLI.

Golden identifiers: the USCCs 91110108551385082Q, 91110000600037341L and 91440300708461136T are the
GB 32100-2015 worked examples verified in reference/cn_domain.md §2.1; `…082X` is the first with a
wrong MOD 31 check character. The ID number 11010519491231002X is the GB 11643-1999 test vector
(§2.2). Line numbers in the quarantine file are counted by hand from the CSV text in each test.
"""

from __future__ import annotations

import csv
import fcntl
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from puhui.core.errors import Conflict, ValidationError
from puhui.core.identifiers import make_ric, make_uscc
from puhui.data.contracts.base import Check, Field, FieldType, SourceContract
from puhui.data.ingest import IngestReport, ingest_file, print_report
from puhui.data.ingest.checks import check_rows

AS_OF = date(2026, 11, 29)
U1, U2, U3 = "91110108551385082Q", "91110000600037341L", "91440300708461136T"
U1_BAD_CHECK = "91110108551385082X"

DEMO = SourceContract(
    name="demo_tax",
    en="demo monthly tax",
    zh="演示月度纳税",
    grain="one row per enterprise and month",
    key=("uscc", "month"),
    time_field="month",
    lag_days=15,
    fields=(
        Field("uscc", FieldType.STRING, "USCC", "统一社会信用代码", checks=(Check.USCC,)),
        Field("month", FieldType.MONTH, "month", "所属期"),
        Field("vat_paid", FieldType.AMOUNT, "VAT paid", "实缴增值税", unit="CNY", checks=(Check.NON_NEGATIVE,)),
        Field("grade", FieldType.CODE, "tax credit grade", "纳税信用等级", codes=("A", "B", "M", "C", "D")),
        Field("staff", FieldType.INT, "staff", "从业人数", nullable=True, checks=(Check.NON_NEGATIVE,)),
        Field("share", FieldType.FLOAT, "export share", "出口占比", nullable=True, checks=(Check.SHARE,)),
        Field("filed_on", FieldType.DATE, "filing date", "申报日期", nullable=True, checks=(Check.NOT_FUTURE,)),
        Field("card", FieldType.STRING, "settlement card", "结算卡号", nullable=True, checks=(Check.LUHN,)),
        Field("general", FieldType.BOOL, "general taxpayer", "一般纳税人", nullable=True),
    ),
)
HEADER = "uscc,month,vat_paid,grade,staff,share,filed_on,card,general"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _quarantine(report: IngestReport) -> dict[int, dict[str, str]]:
    assert report.quarantine is not None
    with report.quarantine.open(newline="", encoding="utf-8") as fh:
        return {int(r["_line"]): r for r in csv.DictReader(fh)}


def _raw(home: Path, source: str = "demo_tax") -> list[dict]:
    files = sorted((home / "raw" / source).glob("*.parquet"))
    if not files:
        return []
    return pa.concat_tables(pq.read_table(f) for f in files).sort_by("uscc").to_pylist()


def _consistent(r: IngestReport) -> IngestReport:
    assert r.rows_read == r.accepted + r.already_present + r.quarantined
    return r


def ingest(path: Path, home: Path, source: str | SourceContract = DEMO, **kw) -> IngestReport:
    kw.setdefault("as_of", AS_OF)
    return _consistent(ingest_file(source, path, home=home, **kw))


# ---------------------------------------------------------------- one row of each bad kind


BAD_KINDS = f"""{HEADER}
{U1},2026-01,100.50,A,3,0.25,2026-02-10,,true
{U2},2026-01,0,B,,,,,
{U1_BAD_CHECK},2026-02,1,A,,,,,
{U1},2026-02,-5,A,,,,,
{U1},2027-01,1,A,,,,,
{U1},2026-03,1,A,,,2026-12-01,,
{U1},2026-04,1,Z,,,,,
{U1},2026-05,1,A,many,,,,
{U1},2026-06,"1,000",A,,,,,
{U1},2026-07,1.234,A,,,,,
{U1},2026-08,1,A,,1.5,,,
,2026-09,1,A,,,,,
{U1},2026-10,1,A,,,2026-02-30,,
{U1},2026-01,100.50,A,3,0.25,2026-02-10,,true
{U2},2026-02,1,B,,,,,
{U2},2026-02,2,B,,,,,
{U2},2026-03,1,B
{U2},2026-04,-1,X,,,,,maybe
  {U3.lower()} ,202601,12.300,M,+7,.5,2026/1/5,,1
"""

EXPECTED_REASONS = {
    4: "uscc: invalid USCC [uscc_check]",
    5: "vat_paid: negative",
    6: "month: after the as-of date 2026-11-29",
    7: "filed_on: after the as-of date 2026-11-29",
    8: "grade: unknown code",
    9: "staff: not an integer",
    10: "vat_paid: not a number",
    11: "vat_paid: more than 2 decimals",
    12: "share: outside [0, 1]",
    13: "uscc: missing",
    14: "filed_on: not a date (YYYY-MM-DD)",
    15: "uscc+month: duplicate of line 2",
    16: "uscc+month: 2 copies with different values (lines 16, 17)",
    17: "uscc+month: 2 copies with different values (lines 16, 17)",
    18: "_row: expected 9 fields, found 4",
    19: "vat_paid: negative; grade: unknown code; general: not true/false",
}


def test_each_bad_kind_is_quarantined_with_its_reason(tmp_path: Path):
    src = _write(tmp_path / "tax.csv", BAD_KINDS)
    r = ingest(src, tmp_path / "home")

    assert (r.rows_read, r.accepted, r.already_present, r.quarantined) == (19, 3, 0, 16)
    q = _quarantine(r)
    assert {line: row["_reason"] for line, row in q.items()} == EXPECTED_REASONS
    # the original text is kept as delivered, so a fixed row can be re-sent
    assert q[10]["vat_paid"] == "1,000"
    assert q[18]["uscc"] == U2 and q[18]["grade"] == "B" and q[18]["staff"] == ""
    assert r.reasons["uscc+month: conflicting copies in file"] == 2
    assert r.reasons["vat_paid: negative"] == 2
    assert r.part is not None and r.part.parent == tmp_path / "home" / "raw" / "demo_tax"
    assert r.quarantine == tmp_path / "home" / "quarantine" / "demo_tax" / f"{r.part.stem}.csv"

    stored = {(row["uscc"], row["month"]): row for row in _raw(tmp_path / "home")}
    assert set(stored) == {(U1, date(2026, 1, 1)), (U2, date(2026, 1, 1)), (U3, date(2026, 1, 1))}
    first = stored[U1, date(2026, 1, 1)]
    assert first["vat_paid"] == Decimal("100.50") and first["staff"] == 3 and first["share"] == 0.25
    assert first["filed_on"] == date(2026, 2, 10) and first["general"] is True
    # normalised: trimmed, USCC upper-cased, 12.300 exact to the fen, +7, .5, 2026/1/5 and 202601 parsed
    third = stored[U3, date(2026, 1, 1)]
    assert third["vat_paid"] == Decimal("12.30") and third["grade"] == "M" and third["staff"] == 7
    assert third["share"] == 0.5 and third["filed_on"] == date(2026, 1, 5) and third["general"] is True


def test_print_report_shows_counts_and_top_reasons(tmp_path: Path):
    from rich.console import Console

    r = ingest(_write(tmp_path / "tax.csv", BAD_KINDS), tmp_path / "home")
    console = Console(record=True, width=200)
    print_report(r, console)
    out = console.export_text()
    assert "demo_tax" in out and "tax.csv" in out
    counts = next(line for line in out.splitlines() if "tax.csv" in line)
    assert [c.strip() for c in counts.split("│")[3:7]] == ["19", "3", "0", "16"]
    assert "uscc+month: conflicting copies in file" in out and "vat_paid: negative" in out
    top = r.top_reasons()
    assert len(r.reasons) == 15 and len(top) == 10 and top[0][1] == top[1][1] == 2
    assert all(text in out for text, _ in top) and "uscc: missing" not in out  # beyond the top 10

    tagged = IngestReport("demo_tax", Path("t.csv"), AS_OF, 5, 0, 0, 5, reasons={"uscc: invalid USCC [uscc_check]": 5})
    console = Console(record=True, width=200)
    print_report([tagged], console)
    assert "uscc: invalid USCC [uscc_check]" in console.export_text()  # not eaten as Rich markup


# ---------------------------------------------------------------- idempotent re-runs, overlaps, conflicts


def test_rerun_of_the_same_file_adds_nothing_and_loses_nothing(tmp_path: Path):
    home = tmp_path / "home"
    src = _write(tmp_path / "tax.csv", BAD_KINDS)
    first = ingest(src, home)
    parts = sorted((home / "raw" / "demo_tax").glob("*.parquet"))
    before = _raw(home)
    quarantine_before = first.quarantine.read_bytes()

    again = ingest(src, home)
    assert (again.accepted, again.already_present, again.quarantined) == (0, 3, 16)
    assert again.part is None
    assert sorted((home / "raw" / "demo_tax").glob("*.parquet")) == parts
    assert _raw(home) == before
    assert again.quarantine == first.quarantine and again.quarantine.read_bytes() == quarantine_before


def test_overlapping_file_adds_only_new_rows(tmp_path: Path):
    home = tmp_path / "home"
    ingest(_write(tmp_path / "a.csv", f"{HEADER}\n{U1},2026-01,1,A,,,,,\n{U2},2026-01,2,B,,,,,\n"), home)
    r = ingest(_write(tmp_path / "b.csv", f"{HEADER}\n{U2},2026-01,2.00,B,,,,,\n{U3},2026-01,3,C,,,,,\n"), home)
    assert (r.accepted, r.already_present, r.quarantined) == (1, 1, 0)
    assert r.quarantine is None
    rows = _raw(home)
    assert [(x["uscc"], x["vat_paid"]) for x in rows] == [(U2, Decimal(2)), (U1, Decimal(1)), (U3, Decimal(3))]
    assert len(list((home / "raw" / "demo_tax").glob("*.parquet"))) == 2


def test_conflict_with_stored_row_is_quarantined_and_stored_row_unchanged(tmp_path: Path):
    home = tmp_path / "home"
    a = ingest(_write(tmp_path / "a.csv", f"{HEADER}\n{U1},2026-01,1,A,,,,,\n"), home)
    r = ingest(_write(tmp_path / "b.csv", f"{HEADER}\n{U1},2026-01,9,D,,,,,\n{U2},2026-01,2,B,,,,,\n"), home)
    assert (r.accepted, r.already_present, r.quarantined) == (1, 0, 1)
    assert _quarantine(r)[2]["_reason"] == (
        f"uscc+month: already in the raw zone with different vat_paid, grade (part {a.part.stem})"
    )
    stored = {x["uscc"]: x for x in _raw(home)}
    assert stored[U1]["vat_paid"] == Decimal(1) and stored[U1]["grade"] == "A"
    assert r.reasons == {"uscc+month: conflicts with the raw zone": 1}


def test_later_as_of_admits_rows_once_future_and_clears_the_quarantine(tmp_path: Path):
    home = tmp_path / "home"
    src = _write(tmp_path / "a.csv", f"{HEADER}\n{U1},2026-11,1,A,,,,,\n{U1},2026-12,1,A,,,,,\n")
    first = ingest(src, home)
    assert (first.accepted, first.quarantined) == (1, 1)
    assert first.quarantine.exists()
    later = ingest(src, home, as_of=date(2026, 12, 1))
    assert (later.accepted, later.already_present, later.quarantined) == (1, 1, 0)
    assert later.part.name == f"{first.part.stem}-2.parquet"
    assert not first.quarantine.exists() and later.quarantine is None
    assert len(_raw(home)) == 2


# ---------------------------------------------------------------- Parquet input


def test_parquet_input_typed_columns(tmp_path: Path):
    table = pa.table(
        {
            "uscc": [U1, U2, U3, U1],
            "month": pa.array([date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1)], pa.date32()),
            "vat_paid": pa.array(
                [Decimal("10.50"), Decimal("-1.00"), Decimal("0"), Decimal("3.10")], pa.decimal128(20, 4)
            ),
            "grade": ["A", "B", "C", "A"],
            "staff": pa.array([5, None, 7, 1], pa.int32()),
            "share": [0.5, None, 1.0, 0.0],
            "filed_on": pa.array([datetime(2026, 2, 1), None, None, datetime(2026, 3, 1, 10, 30)], pa.timestamp("us")),
            "card": pa.array([None, None, None, None], pa.string()),
            "general": [True, False, None, True],
            "note": ["x", "y", "z", "w"],
        }
    )
    src = tmp_path / "tax.parquet"
    pq.write_table(table, src)
    r = ingest(src, tmp_path / "home")
    assert (r.accepted, r.quarantined) == (2, 2)
    q = _quarantine(r)
    # Parquet `_line` is the 1-based row number
    assert q[2]["_reason"] == "vat_paid: negative"
    assert q[4]["_reason"] == "filed_on: not a date (YYYY-MM-DD)"
    assert q[4]["filed_on"].startswith("2026-03-01 10:30")
    assert r.notes == ("ignored column 'note': not in the demo_tax contract",)
    stored = {x["uscc"]: x for x in _raw(tmp_path / "home")}
    assert stored[U1]["vat_paid"] == Decimal("10.50") and stored[U1]["filed_on"] == date(2026, 2, 1)
    assert stored[U3]["staff"] == 7 and stored[U3]["general"] is None


def test_parquet_float_amounts_are_read_exactly_or_refused(tmp_path: Path):
    table = pa.table(
        {
            "uscc": [U1, U2],
            "month": ["2026-01", "2026-01"],
            "vat_paid": [100.5, 0.1 + 0.2],
            "grade": ["A", "A"],
            "staff": [None, None],
            "share": [None, None],
            "filed_on": [None, None],
            "card": [None, None],
            "general": [None, None],
        }
    )
    src = tmp_path / "tax.parquet"
    pq.write_table(table, src)
    r = ingest(src, tmp_path / "home")
    assert (r.accepted, r.quarantined) == (1, 1)
    assert _quarantine(r)[2]["_reason"] == "vat_paid: more than 2 decimals"  # 0.30000000000000004
    assert _raw(tmp_path / "home")[0]["vat_paid"] == Decimal("100.50")
    assert any("binary floating point" in n for n in r.notes)


# ---------------------------------------------------------------- file reading details


def test_line_numbers_survive_bom_crlf_blank_lines_and_quoted_newlines(tmp_path: Path):
    text = (
        "\ufeff" + HEADER + ",remark\r\n"
        f'{U1},2026-01,1,A,,,,,,"two\r\nlines"\r\n'
        "\r\n"
        f'{U1},2026-02,-1,A,,,,,,"say ""hi"""\r\n'
        f'{U1},2026-03,-1,A,,,,,,"three\nline\nremark"\r\n'
        f"{U1},2026-04,-1,A,,,,,,"
    )
    r = ingest(_write(tmp_path / "t.csv", text), tmp_path / "home")
    q = _quarantine(r)
    assert sorted(q) == [5, 6, 9]
    assert q[5]["remark"] == 'say "hi"' and q[6]["remark"] == "three\nline\nremark"
    assert r.accepted == 1


def test_gb18030_file_needs_its_encoding(tmp_path: Path):
    src = _write(tmp_path / "gbk.csv", f"{HEADER},备注\n{U1},2026-01,-1,A,,,,,,负数金额\n", encoding="gb18030")
    with pytest.raises(ValidationError) as e:
        ingest(src, tmp_path / "home")
    assert e.value.code == "bad_encoding" and "gb18030" in e.value.message
    r = ingest(src, tmp_path / "home", encoding="gb18030")
    assert _quarantine(r)[2]["备注"] == "负数金额"


def test_gzipped_csv(tmp_path: Path):
    import gzip

    src = tmp_path / "t.csv.gz"
    src.write_bytes(gzip.compress(f"{HEADER}\n{U1},2026-01,1,A,,,,,\n".encode()))
    assert ingest(src, tmp_path / "home").accepted == 1


def test_empty_file_with_header_only_writes_nothing(tmp_path: Path):
    r = ingest(_write(tmp_path / "t.csv", HEADER + "\n"), tmp_path / "home")
    assert (r.rows_read, r.part, r.quarantine) == (0, None, None)


# ---------------------------------------------------------------- whole-file refusals


@pytest.mark.parametrize(
    ("name", "text", "code", "needle"),
    [
        ("t.csv", "uscc,month,vat_paid,staff,share,filed_on,card,general\n", "missing_column", "grade"),
        ("t.csv", HEADER + ",grade\n", "duplicate_column", "grade"),
        ("t.csv", "", "missing_header", "no header"),
        ("t.xlsx", HEADER + "\n", "unsupported_file_type", ".parquet"),
        ("t.parquet", "not parquet", "unreadable_file", "Parquet"),
        ("t.csv", f'{HEADER}\n{U1},"2026-01\n', "unreadable_file", "CSV"),
    ],
)
def test_whole_file_problems_refuse_the_file_and_write_nothing(tmp_path: Path, name, text, code, needle):
    src = _write(tmp_path / name, text)
    home = tmp_path / "home"
    with pytest.raises(ValidationError) as e:
        ingest(src, home)
    assert e.value.code == code
    assert str(src) in e.value.message and needle in e.value.message
    assert not home.exists()


def test_missing_column_names_file_and_column(tmp_path: Path):
    src = _write(tmp_path / "t.csv", f"uscc,month,vat_paid,staff,share,filed_on,card,general\n{U1},2026-01,1,,,,,\n")
    with pytest.raises(ValidationError) as e:
        ingest(src, tmp_path / "home")
    assert e.value.details["column"] == "grade" and e.value.details["file"] == str(src)
    assert e.value.http_status == 422


def test_unknown_source_and_missing_file(tmp_path: Path):
    src = _write(tmp_path / "t.csv", HEADER + "\n")
    with pytest.raises(ValidationError) as e:
        ingest(src, tmp_path / "home", source="no_such_source")
    assert e.value.code == "unknown_source" and "tax_monthly" in e.value.message  # lists known sources
    with pytest.raises(ValidationError) as e:
        ingest(tmp_path / "absent.csv", tmp_path / "home")
    assert e.value.code == "file_not_found"


def test_a_second_concurrent_run_on_the_same_source_is_refused(tmp_path: Path):
    home = tmp_path / "home"
    lock = home / "raw" / "demo_tax" / ".ingest.lock"
    lock.parent.mkdir(parents=True)
    with lock.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(Conflict) as e:
            ingest(_write(tmp_path / "t.csv", f"{HEADER}\n{U1},2026-01,1,A,,,,,\n"), home)
        assert e.value.code == "ingest_running"
    assert ingest(tmp_path / "t.csv", home).accepted == 1


# ---------------------------------------------------------------- identifiers and warnings


def test_bank_card_luhn_failure_warns_but_a_bad_length_quarantines(tmp_path: Path):
    good_card = "6222021234567890128"  # ends in its Luhn check digit
    bad_luhn = "6222021234567890123"
    src = _write(
        tmp_path / "t.csv",
        f"{HEADER}\n{U1},2026-01,1,A,,,,{good_card},\n{U1},2026-02,1,A,,,,{bad_luhn},\n"
        f"{U1},2026-03,1,A,,,,6222 0212,\n",
    )
    r = ingest(src, tmp_path / "home")
    assert (r.accepted, r.quarantined) == (2, 1)
    assert r.warnings == {"card: bank_card_luhn": 1}
    assert _quarantine(r)[4]["_reason"] == "card: invalid bank card [bank_card_length]"


def test_identifier_checks_run_once_per_distinct_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import puhui.core.identifiers as ids

    calls: list[str] = []
    real = ids.validate_uscc

    def counting(code: str, **kw) -> str:
        calls.append(code)
        return real(code, **kw)

    monkeypatch.setattr(ids, "validate_uscc", counting)
    rows = "".join(f"{u},2026-{m:02d},1,A,,,,,\n" for u in (U1, U2) for m in range(1, 11))
    assert ingest(_write(tmp_path / "t.csv", f"{HEADER}\n{rows}"), tmp_path / "home").accepted == 20
    assert sorted(calls) == sorted([U1, U2])


# ---------------------------------------------------------------- real contracts


def _tax_row(uscc: str, month: str, **over: str) -> str:
    row = {
        "uscc": uscc,
        "month": month,
        "taxpayer_type": "general",
        "filed": "true",
        "zero_declaration": "false",
        "invoice_sales": "120000.00",
        "vat_payable": "15600.00",
        "vat_paid": "15600.00",
        "cit_paid": "3000",
        "arrears": "0",
    } | over
    return ",".join(row.values())


TAX_HEADER = "uscc,month,taxpayer_type,filed,zero_declaration,invoice_sales,vat_payable,vat_paid,cit_paid,arrears"


def test_real_tax_monthly_source(tmp_path: Path):
    u4 = make_uscc("9", "2", "440300", "MA5DXXXX".replace("X", "0"))  # an individual business 个体工商户
    lines = [
        TAX_HEADER,
        _tax_row(U1, "2026-09"),
        _tax_row(U1, "2026-10", vat_payable="", vat_paid=""),  # nullable amounts may be empty
        _tax_row(u4, "2026-10", taxpayer_type="small_scale"),
        _tax_row(U2, "2026-10", taxpayer_type="large"),
        _tax_row(U3, "2026-10", invoice_sales="-1.00"),
        _tax_row(U3, "2026-12"),
    ]
    home = tmp_path / "home"
    r = ingest(_write(tmp_path / "tax.csv", "\n".join(lines) + "\n"), home, source="tax_monthly")
    assert (r.source, r.accepted, r.quarantined) == ("tax_monthly", 3, 3)
    assert {k: row["_reason"] for k, row in _quarantine(r).items()} == {
        5: "taxpayer_type: unknown code",
        6: "invoice_sales: negative",
        7: "month: after the as-of date 2026-11-29",
    }
    from puhui.data.rawzone import RawZone

    glob = RawZone(home / "raw").glob("tax_monthly")
    got = duckdb.sql(f"SELECT uscc, month, vat_paid FROM read_parquet('{glob}') ORDER BY uscc, month").fetchall()
    assert got == [
        (U1, date(2026, 9, 1), Decimal("15600.00")),
        (U1, date(2026, 10, 1), None),
        (u4, date(2026, 10, 1), Decimal("15600.00")),
    ]


def test_real_registration_source_checks_the_legal_rep_id(tmp_path: Path):
    header = (
        "uscc,name,entity_type,legal_rep_name,legal_rep_id,registered_capital,founding_date,industry_section,"
        "industry_code,region_code,city_code,address,status,status_date"
    )

    def row(uscc: str, rid: str) -> str:
        company = f"{uscc},北京某某科技有限公司,enterprise"
        return f"{company},张三,{rid},1000000,2018-05-20,I,6513,110108,110100,海淀区,active,"

    born_later = make_ric("110105", date(2027, 1, 1), 123)  # valid check digit, birth after the as-of date
    wrong_check = "110105194912310021"
    text = "\n".join([header, row(U1, "11010519491231002x"), row(U2, wrong_check), row(U3, born_later)])
    r = ingest(_write(tmp_path / "reg.csv", text + "\n"), tmp_path / "home", source="registration")
    assert (r.accepted, r.quarantined) == (1, 2)
    assert {k: v["_reason"] for k, v in _quarantine(r).items()} == {
        3: "legal_rep_id: invalid ID number [ric_check]",
        4: "legal_rep_id: invalid ID number [ric_future_birth]",
    }
    stored = _raw(tmp_path / "home", "registration")[0]
    assert stored["legal_rep_id"] == "11010519491231002X"  # canonical upper-case check character
    assert stored["registered_capital"] == Decimal("1000000.00") and stored["name"] == "北京某某科技有限公司"


# ---------------------------------------------------------------- text rules (pure, no files)


FORMATS = SourceContract(
    name="formats",
    en="formats",
    zh="格式",
    grain="one row per id",
    key=("id",),
    time_field=None,
    lag_days=0,
    fields=(
        Field("id", FieldType.INT, "id", "编号"),
        Field("day", FieldType.DATE, "day", "日期", nullable=True),
        Field("month", FieldType.MONTH, "month", "月份", nullable=True),
    ),
)


def test_date_month_and_integer_text_rules():
    # the date formats puhui.core.dates.parse_date reads; 2024 is a leap year, 2023 is not (Gregorian rule)
    text = pa.table(
        {
            "id": ["1", "2", "3", "4", "5", "6", "7", "8.0", "9.5"],
            "day": [
                "2024-02-29",
                "2023-02-29",
                "2025/10/1",
                "20251001",
                "2025年10月1日",
                "2025-1-5",
                "01/10/2025",
                None,
                None,
            ],
            "month": ["2025-10", "2025-10-01", "2025-10-02", "202510", "2025年1月", "2025/1", "10/2025", None, None],
        }
    )
    checked = check_rows(FORMATS, text, AS_OF)
    values = checked.values.to_pydict()
    assert values["day"] == [
        date(2024, 2, 29),
        None,
        date(2025, 10, 1),
        date(2025, 10, 1),
        date(2025, 10, 1),
        date(2025, 1, 5),
        None,
        None,
        None,
    ]
    assert values["month"] == [
        date(2025, 10, 1),
        date(2025, 10, 1),
        None,
        date(2025, 10, 1),
        date(2025, 1, 1),
        date(2025, 1, 1),
        None,
        None,
        None,
    ]
    assert values["id"][7] == 8 and values["id"][8] is None
    reasons = [[i.text[k].as_py() for i in checked.issues if i.text[k].is_valid] for k in range(9)]
    assert reasons[1] == ["day: not a date (YYYY-MM-DD)"]
    assert reasons[2] == ["month: not the first day of a month"]
    assert reasons[6] == ["day: not a date (YYYY-MM-DD)", "month: not a month (YYYY-MM)"]
    assert reasons[8] == ["id: not an integer"]
    assert [r for k, r in enumerate(reasons) if k not in (1, 2, 6, 8)] == [[]] * 5


def test_default_as_of_is_today_in_china(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from puhui.core import dates

    monkeypatch.setattr(dates.SystemClock, "today", lambda self: date(2026, 3, 15))
    src = _write(tmp_path / "t.csv", f"{HEADER}\n{U1},2026-03,1,A,,,,,\n{U1},2026-04,1,A,,,,,\n")
    r = _consistent(ingest_file(DEMO, src, home=tmp_path / "home"))
    assert r.as_of == date(2026, 3, 15)
    assert (r.accepted, r.quarantined) == (1, 1)
    assert _quarantine(r)[3]["_reason"] == "month: after the as-of date 2026-03-15"


# ---------------------------------------------------------------- invariants (hypothesis)


AMOUNT_ONLY = SourceContract(
    name="amounts",
    en="amounts",
    zh="金额",
    grain="one row per id",
    key=("id",),
    time_field=None,
    lag_days=0,
    fields=(Field("id", FieldType.INT, "id", "编号"), Field("amount", FieldType.AMOUNT, "amount", "金额")),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False), min_size=1, max_size=40))
def test_amount_text_to_the_fen_is_stored_exactly(amounts: list[Decimal]):
    text = pa.table({"id": [str(i) for i in range(len(amounts))], "amount": [format(a, "f") for a in amounts]})
    checked = check_rows(AMOUNT_ONLY, text, AS_OF)
    assert checked.issues == []
    assert checked.values.column("amount").to_pylist() == amounts


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False), min_size=1, max_size=40),
    st.integers(1, 9),
)
def test_a_non_zero_third_decimal_is_always_refused(amounts: list[Decimal], digit: int):
    text = pa.table(
        {"id": [str(i) for i in range(len(amounts))], "amount": [format(a, ".2f") + str(digit) for a in amounts]}
    )
    checked = check_rows(AMOUNT_ONLY, text, AS_OF)
    assert len(checked.issues) == 1
    assert checked.issues[0].text.to_pylist() == ["amount: more than 2 decimals"] * len(amounts)


# ---------------------------------------------------------------- the CLI end to end


def test_cli_ingest_prints_counts(tmp_path: Path):
    from puhui.cli import app

    src = _write(
        tmp_path / "tax.csv",
        "\n".join([TAX_HEADER, _tax_row(U1, "2026-09"), _tax_row(U2, "2026-09", arrears="-3")]) + "\n",
    )
    result = CliRunner().invoke(app, ["ingest", "tax_monthly", str(src), "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "tax_monthly" in result.output and "arrears: negative" in result.output
    assert (tmp_path / "home" / "quarantine" / "tax_monthly").is_dir()
    assert len(list((tmp_path / "home" / "raw" / "tax_monthly").glob("*.parquet"))) == 1


def test_cli_unknown_source_exits_2_with_a_clear_message(tmp_path: Path):
    from puhui.cli import app

    src = _write(tmp_path / "x.csv", "a\n1\n")
    result = CliRunner().invoke(app, ["ingest", "no_such_source", str(src), "--home", str(tmp_path / "home")])
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # Rich wraps long lines
    assert "unknown source 'no_such_source'; known sources:" in said and "tax_monthly" in said
    assert not (tmp_path / "home").exists()
