"""Five-category loan classification (五级分类): 正常 / 关注 / 次级 / 可疑 / 损失, and the borrower rule.

商业银行金融资产风险分类办法 (银保监会 人民银行令〔2023〕第1号, in force 2023-07-01) sets *floors* by days
past due on principal, interest or income: more than 0 days → at least 关注, more than 90 → at least
次级, more than 270 → at least 可疑, more than 360 → 损失. "超过" excludes the boundary (民法典 Art 1259),
so 90 dpd is still 关注 and 91 is 次级. The day numbers are the dated setting `five_class_dpd_floors`
(`puhui.core.regulatory`), read for the classification date — never literals here. A credit officer's
judgement (`judged`) can only push a loan *below* its floor, never above it.

Borrower level: every loan of a borrower takes the worst class among them (`borrower_class`,
`apply_borrower_level`), as issue 5 asks. 次级, 可疑 and 损失 are non-performing (不良).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from enum import IntEnum
from typing import TypeVar

from puhui.core.errors import ConfigurationError, ValidationError
from puhui.core.regulatory import REGULATORY, SettingsBook

K = TypeVar("K", bound=Hashable)


class FiveClass(IntEnum):
    """A risk class; a larger value is worse, so `max` gives the worst."""

    NORMAL = 1
    SPECIAL_MENTION = 2
    SUBSTANDARD = 3
    DOUBTFUL = 4
    LOSS = 5

    @property
    def chinese(self) -> str:
        return _CHINESE[self]

    @property
    def is_non_performing(self) -> bool:
        """不良: 次级, 可疑 or 损失."""
        return self >= FiveClass.SUBSTANDARD

    @property
    def key(self) -> str:
        """The name used in the settings and the API (`substandard`)."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str | int | FiveClass) -> FiveClass:
        """`substandard`, `SUBSTANDARD`, `次级` or 3 → FiveClass.SUBSTANDARD."""
        if isinstance(text, FiveClass):
            return text
        if isinstance(text, int) and not isinstance(text, bool) and 1 <= text <= 5:
            return cls(text)
        key = str(text).strip()
        for c in cls:
            if key.lower() in (c.key, str(c.value)) or key == c.chinese:
                return c
        raise ValidationError(
            f"unknown five-category class {text!r}; use {[c.key for c in cls]} or 正常/关注/次级/可疑/损失",
            code="unknown_five_class", field="class",
        )

    def __str__(self) -> str:
        return self.chinese


_CHINESE = {
    FiveClass.NORMAL: "正常",
    FiveClass.SPECIAL_MENTION: "关注",
    FiveClass.SUBSTANDARD: "次级",
    FiveClass.DOUBTFUL: "可疑",
    FiveClass.LOSS: "损失",
}

_FLOOR_KEYS = (FiveClass.SPECIAL_MENTION, FiveClass.SUBSTANDARD, FiveClass.DOUBTFUL, FiveClass.LOSS)


def dpd_floors(on: date, *, settings: SettingsBook = REGULATORY) -> dict[FiveClass, int]:
    """The floors in force on `on`: a loan more than N days past due is at least that class."""
    raw = settings.get("five_class_dpd_floors", on)
    try:
        floors = {c: int(raw[c.key]) for c in _FLOOR_KEYS}
    except (KeyError, TypeError, ValueError):
        raise ConfigurationError(
            f"five_class_dpd_floors must map {[c.key for c in _FLOOR_KEYS]} to day counts, got {raw!r}",
            key="five_class_dpd_floors",
        ) from None
    values = [floors[c] for c in _FLOOR_KEYS]
    if values != sorted(values) or values[0] < 0:
        raise ConfigurationError(
            f"five_class_dpd_floors must be non-negative and increasing, got {values}", key="five_class_dpd_floors"
        )
    return floors


def classify(
    dpd: int, on: date, *, judged: FiveClass | None = None, settings: SettingsBook = REGULATORY
) -> FiveClass:
    """The class of a loan `dpd` days past due on `on`: the worse of the dpd floor and `judged`."""
    if isinstance(dpd, bool) or not isinstance(dpd, int) or dpd < 0:
        raise ValidationError(f"dpd must be a non-negative int, got {dpd!r}", code="invalid_dpd", field="dpd")
    floor = FiveClass.NORMAL
    for cls, days in dpd_floors(on, settings=settings).items():
        if dpd > days:
            floor = cls
    return floor if judged is None else max(floor, FiveClass.parse(judged))


def borrower_class(classes: Iterable[FiveClass]) -> FiveClass:
    """The worst class among a borrower's loans."""
    worst = max((FiveClass.parse(c) for c in classes), default=None)
    if worst is None:
        raise ValidationError("a borrower class needs at least one loan", code="no_loans")
    return worst


def apply_borrower_level(loans: Mapping[K, FiveClass]) -> dict[K, FiveClass]:
    """Give every loan of one borrower the borrower's worst class (keys are the loans' ids)."""
    worst = borrower_class(loans.values())
    return dict.fromkeys(loans, worst)
