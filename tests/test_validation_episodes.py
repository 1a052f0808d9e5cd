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


EPISODES = sorted(p.stem for p in episodes.episode_configs(ROOT / "experiments"))


def test_the_five_episodes_are_shipped():
    assert EPISODES == ["brazil_2015", "korea_2014", "mastodon_2022", "turkey_2021", "whatsapp_2021"]


@pytest.mark.parametrize("name", EPISODES)
def test_each_episode_runs_with_plot_and_draws_its_observed_series(name, tmp_path):
    from sim.cli import main
    from sim.plots import plot_data, plot_timeseries
    from sim.store import load_results

    out = tmp_path / name
    assert main(["run", str(ROOT / "experiments" / f"{name}.toml"), "--replications", "2", "--set",
                 "population.n=1500", "--quiet", "--out", str(out), "--plot"]) == 0
    assert (out / "figures" / "timeseries.png").is_file()
    results = load_results(out)
    s = sim.load_config(ROOT / "experiments" / f"{name}.toml")
    assert {f"target_{t.id}" for t in s.observed.targets} <= set(results.runs.columns)
    fig = plot_timeseries(plot_data(results))
    drawn = {a.get_gid() for ax in fig.axes for a in ax.get_children()}
    assert {f"observed:{spec.id}" for spec in s.observed.series} <= drawn


@pytest.mark.parametrize("name", EPISODES)
def test_each_episode_section_reports_every_target_with_its_spread(name, tmp_path):
    section = episodes.check(ROOT / "experiments" / f"{name}.toml", quick=True, figures=tmp_path)
    s = sim.load_config(ROOT / "experiments" / f"{name}.toml")
    for t in s.observed.targets:
        assert f"| {t.pattern} | {t.id}: " in section.markdown
        assert math.isfinite(section.numbers[f"{t.id}_mean"]), t.id        # every target is inside the run
    assert section.numbers["targets"] == len(s.observed.targets)
    assert section.passed == (section.numbers["targets_met"] == len(s.observed.targets))
    assert section.figures[0].is_file()


@pytest.mark.parametrize("root", range(16))
def test_the_quick_2014_check_passes_for_any_root_seed(root, tmp_path):
    """The tolerance comes from the spread across seeds, so the unbroken model passes whatever the root seed
    (test_broken_models.py shows the same check failing with a broken mechanism)."""
    from sim.store import to_toml

    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "data").symlink_to(ROOT / "experiments" / "data")
    raw = sim.config.read_toml(KOREA)
    raw["experiment"]["seed"] = 1000 + root
    (folder / "korea_2014.toml").write_text(to_toml(raw))
    section = episodes.check(folder / "korea_2014.toml", quick=True, figures=tmp_path / "figures")
    assert section.passed, [k for k, v in section.numbers.items() if k.endswith("_passed") and not v]
