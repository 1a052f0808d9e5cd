"""The calibrated 2014 scenario against the four patterns of shared/data/korea_2014/README.md.

The ranges below are copied from the data README (and its panel figures), not taken from the model's output.
The quick check runs 5 replications at N = 5,000 on the array engine (a few seconds).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.validation import korea

pytestmark = pytest.mark.validation

#: README patterns: (statistic, low, high). Incumbent: Rankey's largest decline, 5 weeks x 60k of 29.17M.
README_RANGES = {
    "b0": (0.001, 0.0025),
    "growth": (28.0, 50.0),
    "step": (1.15, math.inf),
    "peak": (0.065, 0.10),
    "incumbent_loss": (0.0, 5 * 60e3 / 29.17e6),
    "decline": (0.75, 0.97),
}


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    return korea.check(quick=True, figures=tmp_path_factory.mktemp("figures"))


@pytest.mark.parametrize("key", list(README_RANGES))
def test_numeric_pattern_mean_is_within_the_data_range(section, key):
    low, high = README_RANGES[key]
    mean = section.numbers[f"{key}_mean"]
    assert low <= mean <= high, f"{key}: mean {mean:.4g} outside [{low}, {high}]"


def test_w42_is_the_highest_calendar_week_in_most_replications(section):
    assert section.numbers["peak_week_mean"] > 0.5


def test_the_incumbent_recovers_in_most_replications(section):
    assert section.numbers["recovered_mean"] > 0.5


def test_section_reports_every_pattern_with_its_command_and_figure(section):
    assert section.command == "sim validate --quick"
    assert section.passed
    for p in korea.PATTERNS:
        assert p.label in section.markdown
    assert section.figures and section.figures[0].is_file()
    assert "korea_patterns_quick.png" in section.markdown


def test_panels_are_read_as_telegram_over_kakaotalk_weekly_users():
    p = korea.load_panels()
    assert list(p.koreanclick.index) == [14, 21, 28, 35, 42, 49]
    assert p.koreanclick.loc[42] == pytest.approx(1.72e6 / 25.1e6)
    assert list(p.rankey.index) == [27, 34, 41]
    assert p.rankey.loc[41] == pytest.approx(2934880 / 29172956)


def test_pattern_statistics_follow_the_readme_definitions():
    """A synthetic run with known x(d): incumbent at 1 (then a 0.5 % dip), rival x stepping weekly."""
    days = np.arange(78)
    x = np.full(78, 0.002)
    weekly = {21: 0.02, 28: 0.03, 35: 0.05, 42: 0.08, 49: 0.07, 56: 0.05, 63: 0.04, 70: 0.03}
    for start, value in weekly.items():
        x[start:start + 7] = value
    inc = np.ones(78)
    inc[30:40] = 0.995
    ts = pd.DataFrame({"day": days, "active_telegram": x * inc, "active_kakaotalk": inc})
    s = korea.patterns(ts)
    assert s["b0"] == pytest.approx(0.002)
    assert s["growth"] == pytest.approx(0.08 / 0.002)
    assert s["step"] == pytest.approx((0.05 - 0.03) / (0.03 - 0.02))
    assert s["peak"] == pytest.approx(0.08)
    assert s["peak_week"] == 1.0
    assert s["decline"] == pytest.approx(0.07 / 0.08)
    assert s["incumbent_loss"] == pytest.approx(0.005)
    assert s["recovered"] == 1.0
    assert s["drift"] == pytest.approx(0.0)
