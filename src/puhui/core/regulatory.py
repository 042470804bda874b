"""Dated settings from regulation and the market (监管与市场参数), each with its source.

`REGULATORY.get("penalty_uplift", on=date(2026, 11, 29))` returns the value in force on that date: the
entry with the latest `effective_from` not after it. Values come from `regulatory.yaml` beside this
module; a bank replaces or extends them with its own file (`SettingsBook.load(path)`). Numbers are
parsed to `Decimal` where they are strings, so rates and caps stay exact. Asking for a date before a
setting's first entry, or for an unknown key, is an error — never a silent default.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from puhui.core.errors import ConfigurationError, NotFound


@dataclass(frozen=True)
class DatedSetting:
    """One value of a setting from `effective_from` on, with the text it comes from."""

    key: str
    value: Any
    effective_from: dt.date
    source: str


def _exact(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


class SettingsBook:
    """All dated settings, looked up by key and business date."""

    def __init__(self, entries: list[DatedSetting]) -> None:
        self._by_key: dict[str, list[DatedSetting]] = {}
        for e in sorted(entries, key=lambda e: (e.key, e.effective_from)):
            series = self._by_key.setdefault(e.key, [])
            if series and series[-1].effective_from == e.effective_from:
                raise ConfigurationError(
                    f"setting {e.key!r} has two values effective {e.effective_from}", key=e.key
                )
            series.append(e)

    @classmethod
    def load(cls, path: Path) -> SettingsBook:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path}: cannot read settings: {exc}", file=str(path)) from None
        entries = []
        for i, item in enumerate(raw or []):
            missing = {"key", "value", "effective_from", "source"} - set(item or {})
            if missing:
                raise ConfigurationError(
                    f"{path}: entry {i + 1} lacks {sorted(missing)}", file=str(path), entry=i + 1
                )
            eff = item["effective_from"]
            if not isinstance(eff, dt.date):
                raise ConfigurationError(f"{path}: entry {i + 1} effective_from is not a date", file=str(path))
            entries.append(DatedSetting(item["key"], _exact(item["value"]), eff, str(item["source"])))
        return cls(entries)

    def entry(self, key: str, on: dt.date) -> DatedSetting:
        """The entry of `key` in force on `on`."""
        series = self._by_key.get(key)
        if not series:
            raise NotFound(f"unknown setting {key!r}", code="unknown_setting", key=key)
        i = bisect.bisect_right([e.effective_from for e in series], on) - 1
        if i < 0:
            raise NotFound(
                f"setting {key!r} has no value before {series[0].effective_from} (asked for {on})",
                code="setting_not_in_force", key=key, on=str(on),
            )
        return series[i]

    def get(self, key: str, on: dt.date) -> Any:
        """The value of `key` in force on `on`."""
        return self.entry(key, on).value

    def history(self, key: str) -> list[DatedSetting]:
        return list(self._by_key.get(key, []))

    def keys(self) -> list[str]:
        return sorted(self._by_key)


REGULATORY = SettingsBook.load(Path(__file__).with_name("regulatory.yaml"))
