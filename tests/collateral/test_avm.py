"""The AVM on a small synthetic universe (300 compounds, ~17k sales): accuracy on a time split against
the issue's goals and against the oracle, the honesty of the FSD, "no value" answers, bad requests,
and save / load. The generator's true values (truth folder) are the independent reference."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.collateral.avm import Avm, Subject, load, with_settings
from puhui.collateral.evaluate import Evaluation, evaluate_time_split, load_property_data, load_truth_values
from puhui.core.errors import ConfigurationError, NotFound, ValidationError
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.property import generate_property

SMALL = SynthConfig(compounds=300, seed=7)
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Evaluation, Avm, pl.DataFrame]:
    home = tmp_path_factory.mktemp("avm")
    generate_property(SMALL, RawZone(home / "raw"))
    data = load_property_data(home, with_units=False)
    ev, model = evaluate_time_split(data.sales, data.compounds, truth=load_truth_values(home))
    return home, ev, model, data.sales


def test_time_split_meets_the_goals_and_stays_above_the_oracle(fitted: tuple) -> None:
    _, ev, _, _ = fitted
    o = ev.overall
    assert ev.split_date == date(2026, 5, 1) and ev.n_test > 800
    assert set(ev.excluded) == {"auction", "private"}  # not arm's length: never scored
    # the goals (MdAPE < 5 %, COD < 10, PRD 0.98–1.03, hit rate > 95 %), with a little room for
    # the small universe: 1,000-odd test sales give MdAPE a sampling sd of about 0.2 points
    assert o.mdape < 0.055
    assert o.cod < 10.0
    assert 0.98 <= o.prd <= 1.03
    assert o.hit_rate > 0.95
    assert 0.97 < o.median_ratio < 1.03
    # the truth is a ceiling: sale noise bounds what any model can reach
    assert ev.oracle is not None and ev.oracle.mdape < o.mdape
    assert ev.oracle.mdape > 0.02  # agency deals scatter ±4.5 % around value (generator), so no model gets ~0
    assert ev.private_median_ratio is not None and ev.private_median_ratio > 1.0  # private deals sell low
    assert set(ev.by_band) <= {"<1M", "1-2M", "2-5M", "5-10M", ">=10M"} and ev.by_city


def test_fsd_is_honest(fitted: tuple) -> None:
    _, ev, _, _ = fitted
    # value × (1 ± FSD) should hold 68.3 % of later prices. With n ≈ 1,300 test sales the binomial sd of the
    # share is ≈ 1.3 points, and the calibration set (≈ 1,300 sales) adds about as much to the quantile:
    # ≈ 1.9 points together; ±6 points is three of them, plus a little for the time drift between the
    # calibration window and the test window.
    assert abs(ev.fsd_coverage - 0.683) < 0.06
    assert abs(ev.interval_coverage - ev.interval_level) < 0.05
    assert 0.02 < ev.median_fsd < 0.15


def test_comparables_cross_check_is_of_the_same_order(fitted: tuple) -> None:
    _, ev, _, _ = fitted
    assert ev.comparables_mdape is not None and ev.comparables_mdape < 0.08


def test_model_index_tracks_the_true_city_index(fitted: tuple) -> None:
    home, _, model, _ = fitted
    truth = pl.read_parquet(str(home / "truth" / "property_index" / "*.parquet"))
    # a city's true index: the mean log index of its compounds
    comp = pl.read_parquet(str(home / "raw" / "property_compounds" / "*.parquet")).select("compound_id", "city_code")
    t = truth.join(comp, on="compound_id").group_by("city_code", "month").agg(pl.col("index").log().mean())
    t = t.sort("city_code", "month")
    n_m = model.state.index.n_months
    errors = []
    for ci, code in enumerate(model.vocab.cities):
        true_path = t.filter(pl.col("city_code") == code)["index"].to_numpy()[:n_m]
        model_path = model.state.index.city[ci] + np.mean(
            model.state.index.district[model.vocab.district_city == ci], axis=0
        )
        change_true = true_path[-1] - true_path[-25]
        change_model = model_path[-1] - model_path[-25]
        errors.append(change_model - change_true)
    # two-year price change per city within a few points (the model's index also carries ageing, ~-1.4 %)
    assert abs(np.median(errors)) < 0.03
    assert np.mean(np.abs(errors)) < 0.05


def _subject(sales: pl.DataFrame) -> Subject:
    r = sales.filter(pl.col("channel") == "agency").row(-1, named=True)
    return Subject(compound=r["compound"], area=r["area"], unit_id=r["unit_id"], floor=r["floor"],
                   total_floors=r["total_floors"], rooms=r["rooms"], orientation=r["orientation"],
                   decoration=r["decoration"], building_type=r["building_type"], elevator=r["elevator"])  # fmt: skip


def test_single_valuation_is_money_with_an_interval(fitted: tuple) -> None:
    _, _, model, sales = fitted
    v = model.value(_subject(sales), date(2026, 6, 1), today=TODAY)
    assert v.valued and v.reason is None
    assert v.low < v.value < v.high
    assert v.confidence == round(100 * (1 - v.fsd))
    assert v.value.amount == v.value.amount.to_integral_value()  # whole yuan, Decimal
    d = v.to_dict()
    assert d["currency"] == "CNY" and d["model_version"].startswith("avm-")


def test_batch_and_single_agree(fitted: tuple) -> None:
    _, _, model, sales = fitted
    s = _subject(sales)
    single = model.value(s, date(2026, 6, 1))
    batch = model.value_frame(pl.DataFrame([s.row()]), date(2026, 6, 1))
    assert float(single.value.amount) == pytest.approx(batch["value"][0], abs=0.51)


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [({"area": 0.0}, ValidationError, "area_out_of_range"), ({"area": -5.0}, ValidationError, "area_out_of_range"),
     ({"area": 90_000.0}, ValidationError, "area_out_of_range"),
     ({"compound": "C9999999"}, NotFound, "unknown_compound"),
     ({"orientation": "up"}, ValidationError, "unknown_orientation"),
     ({"floor": 40, "total_floors": 6}, ValidationError, "floor_out_of_range")],
)  # fmt: skip
def test_bad_requests_raise_typed_errors(fitted: tuple, change: dict, error: type, code: str) -> None:
    _, _, model, sales = fitted
    row = {**_subject(sales).row(), **change}
    with pytest.raises(error) as e:
        model.value(row, date(2026, 6, 1), today=TODAY)
    assert e.value.code == code
    assert e.value.to_problem()["status"] in (404, 422)


def test_dates_in_the_future_or_before_the_history_are_refused(fitted: tuple) -> None:
    _, _, model, sales = fitted
    with pytest.raises(ValidationError) as e:
        model.value(_subject(sales), date(2026, 12, 1), today=TODAY)
    assert e.value.code == "valuation_date_in_future"
    with pytest.raises(ValidationError) as e:
        model.value(_subject(sales), date(2001, 1, 1))
    assert e.value.code == "valuation_date_before_history"


def test_no_value_answers_say_why(fitted: tuple) -> None:
    _, _, model, sales = fitted
    stale = model.value(_subject(sales), date(2028, 1, 1))  # 20 months past the data: index too stale
    assert not stale.valued and stale.reason == "stale_market" and stale.value is None and stale.fsd is None
    strict = with_settings(model, max_fsd=0.01)
    tight = strict.value(_subject(sales), date(2026, 6, 1))
    assert tight.reason == "fsd_above_limit"
    odd = model.value({**_subject(sales).row(), "area": 4_000.0}, date(2026, 6, 1))
    assert odd.reason == "outside_model_range"


def test_save_and_load_give_the_same_values(fitted: tuple, tmp_path: Path) -> None:
    _, _, model, sales = fitted
    folder = model.save(tmp_path / "m")
    again = load(folder)
    sample = sales.filter(pl.col("channel") == "agency").tail(200)
    a = model.value_frame(sample, sample["date"])
    b = again.value_frame(sample, sample["date"])
    np.testing.assert_allclose(a["raw_value"].to_numpy(), b["raw_value"].to_numpy(), rtol=1e-12)
    assert again.version == model.version
    (folder / "gbm.pkl").write_bytes(b"tampered")
    with pytest.raises(ConfigurationError) as e:
        load(folder)
    assert e.value.code == "avm_model_tampered"
    with pytest.raises(NotFound):
        load(tmp_path / "nothing")


def test_a_unit_that_sold_before_carries_its_own_premium(fitted: tuple) -> None:
    _, _, model, sales = fitted
    st = model.state
    # a unit whose fitted sales left a clear residual: its own history should move its value that way
    big = np.flatnonzero(np.abs(st.unit_sum / st.unit_n) > 0.05)
    unit = str(st.unit_ids[big[0]])
    row = sales.filter(pl.col("unit_id") == unit).row(-1, named=True)
    s = Subject(compound=row["compound"], area=row["area"], unit_id=unit, floor=row["floor"],
                total_floors=row["total_floors"], rooms=row["rooms"], orientation=row["orientation"],
                decoration=row["decoration"], building_type=row["building_type"], elevator=row["elevator"])  # fmt: skip
    known = model.value(s, date(2026, 6, 1))
    anonymous = model.value({**s.row(), "unit_id": None}, date(2026, 6, 1))
    shift = np.log(float(known.value.amount) / float(anonymous.value.amount))
    ebar = st.unit_sum[big[0]] / st.unit_n[big[0]]
    assert np.sign(shift) == np.sign(ebar) and abs(shift) < abs(ebar)  # shrunk towards zero, never beyond
    assert 0.0 < st.sigma_unit < st.sigma  # the generator's unit latent is 0.04 in log points
