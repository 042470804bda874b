"""Five-category classification: the dpd floors of 商业银行金融资产风险分类办法 (2023) at their boundaries
("超过" excludes the day, 民法典 Art 1259), dated settings, judgement, and the borrower's worst class."""

from __future__ import annotations

from datetime import date

import pytest

from puhui.core.errors import ConfigurationError, NotFound, ValidationError
from puhui.core.regulatory import DatedSetting, SettingsBook
from puhui.lending import FiveClass, apply_borrower_level, borrower_class, classify, dpd_floors

ON = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("dpd", "expected", "chinese"),
    [
        (0, FiveClass.NORMAL, "正常"),
        (1, FiveClass.SPECIAL_MENTION, "关注"),
        (90, FiveClass.SPECIAL_MENTION, "关注"),
        (91, FiveClass.SUBSTANDARD, "次级"),
        (270, FiveClass.SUBSTANDARD, "次级"),
        (271, FiveClass.DOUBTFUL, "可疑"),
        (360, FiveClass.DOUBTFUL, "可疑"),
        (361, FiveClass.LOSS, "损失"),
        (5000, FiveClass.LOSS, "损失"),
    ],
)
def test_dpd_boundaries(dpd: int, expected: FiveClass, chinese: str) -> None:
    c = classify(dpd, ON)
    assert c is expected
    assert c.chinese == chinese == str(c)


def test_floors_come_from_the_dated_setting() -> None:
    assert dpd_floors(ON) == {FiveClass.SPECIAL_MENTION: 0, FiveClass.SUBSTANDARD: 90, FiveClass.DOUBTFUL: 270,
                              FiveClass.LOSS: 360}
    with pytest.raises(NotFound) as e:
        classify(10, date(2023, 6, 30))  # before the 2023 rules took effect: no setting, no guess
    assert e.value.code == "setting_not_in_force"


def test_a_later_setting_applies_from_its_date() -> None:
    book = SettingsBook([
        DatedSetting("five_class_dpd_floors", {"special_mention": 0, "substandard": 90, "doubtful": 270,
                                               "loss": 360}, date(2023, 7, 1), "2023 rules"),
        DatedSetting("five_class_dpd_floors", {"special_mention": 0, "substandard": 60, "doubtful": 180,
                                               "loss": 360}, date(2027, 1, 1), "a stricter bank policy"),
    ])
    assert classify(61, date(2026, 12, 31), settings=book) is FiveClass.SPECIAL_MENTION
    assert classify(61, date(2027, 1, 1), settings=book) is FiveClass.SUBSTANDARD


def test_bad_floor_settings_are_configuration_errors() -> None:
    book = SettingsBook([DatedSetting("five_class_dpd_floors", {"substandard": 90}, date(2023, 7, 1), "x")])
    with pytest.raises(ConfigurationError):
        classify(1, ON, settings=book)
    book2 = SettingsBook([DatedSetting("five_class_dpd_floors", {"special_mention": 0, "substandard": 300,
                                                                 "doubtful": 270, "loss": 360},
                                       date(2023, 7, 1), "x")])
    with pytest.raises(ConfigurationError):
        classify(1, ON, settings=book2)


def test_judgement_can_only_make_a_loan_worse() -> None:
    assert classify(0, ON, judged=FiveClass.SUBSTANDARD) is FiveClass.SUBSTANDARD
    assert classify(200, ON, judged=FiveClass.NORMAL) is FiveClass.SUBSTANDARD
    assert classify(0, ON, judged="可疑") is FiveClass.DOUBTFUL


def test_borrower_level_takes_the_worst_class() -> None:
    loans = {"L1": classify(0, ON), "L2": classify(95, ON), "L3": classify(10, ON)}
    assert borrower_class(loans.values()) is FiveClass.SUBSTANDARD
    assert apply_borrower_level(loans) == dict.fromkeys(loans, FiveClass.SUBSTANDARD)
    with pytest.raises(ValidationError) as e:
        borrower_class([])
    assert e.value.code == "no_loans"


def test_non_performing_and_parsing() -> None:
    assert [c.is_non_performing for c in FiveClass] == [False, False, True, True, True]
    assert FiveClass.parse("substandard") is FiveClass.parse("次级") is FiveClass.parse(3) is FiveClass.SUBSTANDARD
    with pytest.raises(ValidationError) as e:
        FiveClass.parse("bad")
    assert e.value.code == "unknown_five_class"


@pytest.mark.parametrize("dpd", [-1, True, "5"])
def test_bad_dpd(dpd) -> None:
    with pytest.raises(ValidationError) as e:
        classify(dpd, ON)
    assert e.value.code == "invalid_dpd"
