"""The calibrated 2014 scenario against the four patterns of shared/data/korea_2014/README.md, through the
generic episode check (sim/validation/episodes.py) and the targets its config declares.

The ranges below are copied from the data README (and its panel figures), not taken from the config or the
model's output: a config whose targets drifted from the README would fail here. The quick check runs 5
replications at N = 5,000 on the array engine (a few seconds).
"""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

import sim
from sim.validation import episodes

KOREA = ROOT / "experiments" / "korea_2014.toml"

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
    return episodes.check(KOREA, quick=True, figures=tmp_path_factory.mktemp("figures"))


def test_the_config_declares_the_readme_ranges():
    targets = {t.id: t for t in sim.load_config(KOREA).observed.targets}
    for key, (low, high) in README_RANGES.items():
        t = targets[key]
        assert (t.low or 0.0, math.inf if t.high is None else t.high) == pytest.approx((low, high), rel=1e-4), key
    assert (targets["peak_week"].low, targets["peak_week"].high) == (1.0, 1.0)
    assert (targets["recovered"].low, targets["recovered"].high) == (1.0, 1.0)


@pytest.mark.parametrize("key", list(README_RANGES))
def test_numeric_pattern_mean_is_within_the_data_range(section, key):
    low, high = README_RANGES[key]
    mean = section.numbers[f"{key}_mean"]
    assert low <= mean <= high, f"{key}: mean {mean:.4g} outside [{low}, {high}]"


def test_w42_is_the_highest_calendar_week_in_most_replications(section):
    assert section.numbers["peak_week_mean"] > 0.5


def test_the_incumbent_recovers_in_most_replications(section):
    assert section.numbers["recovered_mean"] > 0.5


def test_section_reports_every_target_with_its_command_and_figure(section):
    assert section.command == "sim validate --only korea_2014 --quick"
    assert section.passed
    for t in sim.load_config(KOREA).observed.targets:
        assert f"{t.id}: {t.text}" in section.markdown
    assert section.figures and section.figures[0].is_file()
    assert "korea_2014_targets_quick.png" in section.markdown
    assert "koreanclick | 42 | 0.06853 |" in section.markdown                # the data beside the model
