"""Dated regulatory settings: the value in force on a date, and clear errors outside their range."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from puhui.core.errors import ConfigurationError, NotFound
from puhui.core.regulatory import REGULATORY, SettingsBook


def test_lpr_series_steps_on_fixing_dates() -> None:
    # LPR 1Y: 3.10% from 2024-10-21, 3.00% from 2025-05-20 (全国银行间同业拆借中心 announcements)
    assert REGULATORY.get("lpr_1y", dt.date(2025, 5, 19)) == Decimal("0.0310")
    assert REGULATORY.get("lpr_1y", dt.date(2025, 5, 20)) == Decimal("0.0300")


def test_values_are_exact_decimals_with_sources() -> None:
    entry = REGULATORY.entry("penalty_uplift", dt.date(2026, 11, 29))
    assert entry.value == Decimal("0.50")
    assert "251" in entry.source


def test_before_first_entry_and_unknown_key_are_errors() -> None:
    with pytest.raises(NotFound) as e:
        REGULATORY.get("lpr_1y", dt.date(2020, 1, 1))
    assert e.value.code == "setting_not_in_force"
    with pytest.raises(NotFound):
        REGULATORY.get("no_such_setting", dt.date(2026, 1, 1))


def test_a_bad_settings_file_names_the_entry(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("- key: x\n  value: 1\n  effective_from: 2020-01-01\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="entry 1 lacks"):
        SettingsBook.load(f)
