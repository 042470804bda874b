"""The compiler: macros, the shape of the SQL, and portability of the whole plan to Spark SQL."""

from __future__ import annotations

import json
import math
from datetime import date

import duckdb
import numpy as np
import pytest

from puhui.indicators.compiler import DUCKDB, SPARK, Context, MacroError, Plan, expand, one_key, uscc_range
from puhui.indicators.library import Library
from puhui.indicators.validate import PORTABLE_FUNCTIONS, RELATION_FUNCTIONS, portability_problems

CTX = Context(date(2026, 6, 30), 15, DUCKDB)


def test_macros_expand_outside_string_literals_only() -> None:
    sql = "CASE WHEN note = 'RATIO(a, b) AS_OF' THEN RATIO(SUM(x), SUM(y)) END"
    out = expand(sql, CTX)
    assert "'RATIO(a, b) AS_OF'" in out
    assert "(CAST(SUM(x) AS DOUBLE) / NULLIF(CAST(SUM(y) AS DOUBLE), 0))" in out
    assert expand("r.AS_OF + AS_OF", CTX) == "r.AS_OF + DATE '2026-06-30'"  # a qualified column is not a macro


def test_nested_macros_expand_inside_out() -> None:
    out = expand("GROWTH(RATIO(a, b), c)", CTX)
    assert out.count("NULLIF") == 2 and "RATIO" not in out


@pytest.mark.parametrize(("sql", "message"), [("RATIO(a)", "takes 2"), ("GROWTH(a, (b)", "unbalanced"),
                                              ("VOLATILITY(a, b)", "takes 1")])  # fmt: skip
def test_macro_misuse_is_an_error(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message):
        expand(sql, CTX)


def test_volatility_is_the_population_coefficient_of_variation() -> None:
    """Checked against numpy's population standard deviation over mean (an independent implementation)."""
    rng = np.random.default_rng(7)
    values = np.round(rng.lognormal(13, 1, 12), 2)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT CAST(UNNEST(?::DOUBLE[]) AS DECIMAL(18,2)) AS x", [values.tolist()])
    (cv,) = con.execute(f"SELECT {expand('VOLATILITY(x)', CTX)} FROM t").fetchall()[0]
    assert math.isclose(cv, float(np.std(values) / np.mean(values)), rel_tol=1e-9)


def test_entity_filters_render_the_chunk_or_the_key() -> None:
    assert uscc_range("91A", "92B")("r.", "uscc") == "r.uscc >= '91A' AND r.uscc < '92B'"
    assert uscc_range(None, None)("", "uscc") == "TRUE"
    assert one_key("$ukey")("c.", "uscc") == "c.ukey = $ukey"
    with pytest.raises(ValueError, match="bad USCC bound"):
        uscc_range("x'; DROP TABLE t; --", None)


def test_monthly_views_cut_at_the_anchor_and_event_views_at_known_by(library: Library) -> None:
    plan = Plan(library, date(2026, 6, 30))
    assert "month <= DATE '2026-05-01'" in plan.view_sql("tax_monthly")  # lag 15: May filed by 15 June
    assert "month <= DATE '2026-06-01'" not in plan.view_sql("tax_monthly")
    assert "query_date <= DATE '2026-06-29'" in plan.view_sql("bureau_enterprise_queries")  # lag 1
    assert "record_date <= DATE '2026-06-23'" in plan.view_sql("public_records")  # lag 7
    assert plan.anchor("bureau_enterprise_accounts") == date(2026, 5, 1)  # lag 30: May known 30 June


def _functions(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    assert not parsed["error"], parsed
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("class") == "FUNCTION":
                found.add(str(node["function_name"]).lower())
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(parsed)
    return found


def test_the_whole_spark_plan_uses_only_portable_functions(library: Library) -> None:
    """Every function in the Spark rendering of every stage and of the final is in the portable set.

    `datediff` is the one Spark-only function (DAYS_SINCE), and DuckDB's parser reads Spark's spelling too.
    """
    con = duckdb.connect()
    plan = Plan(library, date(2026, 6, 30), SPARK)
    used: set[str] = set()
    for source in plan.sources:
        used |= _functions(con, plan.stage_sql(source, uscc_range("91", "92")))
    used |= _functions(con, plan.final_sql())
    used |= _functions(con, plan.assemble_sql())
    assert used <= RELATION_FUNCTIONS | {"datediff"}, used - RELATION_FUNCTIONS
    assert "datediff" in used
    assert "try_cast" not in used  # TRY_CAST is a cast, not a function: Spark ≥ 3.2 and DuckDB both have it


def test_portability_check_names_what_is_not_portable() -> None:
    con = duckdb.connect()
    assert portability_problems(con, "SUM(x) FILTER (WHERE y)") == []
    assert portability_problems(con, "list_sum(x)") == ["function 'list_sum' is not in the portable set"]
    assert portability_problems(con, "x::HUGEINT") == ["cast to HUGEINT is not portable"]
    assert portability_problems(con, "ROW_NUMBER() OVER ()") == ["window expressions are not allowed in an indicator"]
    assert "sum" in PORTABLE_FUNCTIONS


def test_every_stage_and_the_final_bind_in_duckdb_for_many_as_of_dates(library: Library) -> None:
    from puhui.indicators.validate import _empty_tables

    con = duckdb.connect()
    _empty_tables(con, library)
    for as_of in (date(2024, 2, 29), date(2025, 12, 31), date(2026, 1, 1)):
        plan = Plan(library, as_of)
        for source in plan.sources:
            con.execute(f"CREATE OR REPLACE TABLE st_{source} AS {plan.stage_sql(source)}")
        con.execute(f"CREATE OR REPLACE VIEW base AS {plan.assemble_sql()}")
        cols = [r[0] for r in con.execute(f"DESCRIBE {plan.final_sql()}").fetchall()]
        assert cols == [c.name for c in plan.columns]
