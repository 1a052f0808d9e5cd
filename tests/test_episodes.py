"""Episodes as data: a config's [observed] series load in the model's units, its targets compute what the data
README defines, and bad declarations are refused in one line naming the key and the file."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SMALL

import sim
from sim.config import ConfigError, build_scenario, read_toml
from sim.episode import load_series, reads_monthly, target_values
from sim.validation.episodes import episode_configs, summarise, target_holds

KOREA = ROOT / "experiments" / "korea_2014.toml"


@pytest.fixture(scope="module")
def korea():
    return sim.load_config(KOREA)


def test_the_panels_are_read_as_telegram_over_kakaotalk_weekly_users(korea):
    kc, rk = (load_series(korea, s) for s in korea.observed.series)
    assert kc.days.tolist() == [14, 21, 28, 35, 42, 49]
    assert kc.values[4] == pytest.approx(1.72e6 / 25.1e6)
    assert rk.days.tolist() == [27, 34, 41]
    assert rk.values[2] == pytest.approx(2934880 / 29172956)          # Telegram / KakaoTalk, same week
    assert kc.model.text == rk.model.text == "week(active.telegram / active.kakaotalk)"


def test_korea_targets_compute_the_readme_patterns_on_a_run_with_known_values(korea):
    """x(d) = rival / incumbent active share steps weekly; the incumbent dips 0.5 % on days 30-39."""
    days = np.arange(123)
    x = np.full(123, 0.002)
    weekly = {21: 0.02, 28: 0.03, 35: 0.05, 42: 0.08, 49: 0.07, 56: 0.05, 63: 0.04, 70: 0.03}
    for start, v in weekly.items():
        x[start:start + 7] = v
    inc = np.ones(123)
    inc[30:40] = 0.995
    ts = pd.DataFrame({"day": days, "active_kakaotalk": inc, "active_telegram": x * inc, "active_line": 0.03})
    t = target_values(korea, ts)
    assert t["b0"] == pytest.approx(0.002)
    assert t["growth"] == pytest.approx(0.08 / 0.002)
    assert t["step"] == pytest.approx((0.05 - 0.03) / (0.03 - 0.02))
    assert t["peak"] == pytest.approx(0.08)
    assert t["peak_week"] == 1.0
    assert t["decline"] == pytest.approx(0.07 / 0.08)
    assert t["incumbent_loss"] == pytest.approx(0.005)
    assert t["recovered"] == 1.0
    x[49:56] = 0.09                                                   # the peak moves a week later
    t = target_values(korea, ts.assign(active_telegram=x * inc))
    assert t["peak_week"] == 0.0 and t["decline"] == pytest.approx(0.09 / 0.08)


def test_a_target_the_run_is_too_short_for_is_nan(korea):
    ts = pd.DataFrame({"day": np.arange(20), "active_kakaotalk": 1.0, "active_telegram": 0.002, "active_line": 0.03})
    assert np.isnan(target_values(korea, ts)["peak"])


def test_targets_pass_on_the_mean_and_yes_no_targets_on_most_runs(korea):
    runs = [{t.id: 0.0 for t in korea.observed.targets} for _ in range(3)]
    for r, (peak, week) in zip(runs, [(0.07, 1.0), (0.11, 1.0), (0.08, 0.0)], strict=True):
        r["peak"], r["peak_week"] = peak, week
    table = summarise(korea, runs)
    assert table.loc["peak", "mean"] == pytest.approx(0.26 / 3)
    assert table.loc["peak", "share_in_range"] == pytest.approx(2 / 3)
    assert table.loc["peak", "passed"]                                # mean 8.7 % in 6.5-10 %
    assert table.loc["peak_week", "passed"]                           # 2 of 3 runs
    assert not table.loc["growth", "passed"]                          # 0 is not in 28-50
    peak = next(t for t in korea.observed.targets if t.id == "peak")
    assert target_holds(peak, 0.065) and target_holds(peak, 0.10) and not target_holds(peak, 0.1001)
    assert not target_holds(peak, float("nan"))


def test_episodes_are_the_configs_that_declare_targets_in_their_own_file(tmp_path):
    found = [p.name for p in episode_configs(ROOT / "experiments")]
    assert "korea_2014.toml" in found
    assert "korea_2014_full.toml" not in found and "sweep_policy.toml" not in found   # they extend it
    (tmp_path / "broken.toml").write_text("[observed\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        episode_configs(tmp_path)


def test_a_config_that_extends_an_episode_finds_its_data(tmp_path):
    (tmp_path / "mine.toml").write_text(f'extends = "{KOREA.as_posix()}"\n[population]\nn = 500\n')
    s = sim.load_config(tmp_path / "mine.toml")
    assert (Path(s.base_dir) / s.observed.folder).resolve() == (ROOT / "experiments" / "data" / "korea_2014")
    assert len(load_series(s, s.observed.series[0]).days) == 6


def test_only_configs_that_read_monthly_users_record_them(korea):
    assert not reads_monthly(korea)
    data = copy.deepcopy(SMALL)
    data["observed"] = {"targets": [{"id": "m", "value": "at(monthly.rival, 3) / at(active.rival, 3)"}]}
    assert reads_monthly(build_scenario(data, "test"))


# Bad declarations: one line with the key, the file and what was expected -----------------------------------
def _episode(tmp_path, series: dict | None = None, targets: list | None = None, csv: str | None = None):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "obs.csv").write_text(csv or "day,app,users\n3,rival,10\n3,incumbent,100\n5,rival,20\n"
                                                      "5,incumbent,100\n")
    data = copy.deepcopy(SMALL)
    data["observed"] = {"folder": "data", "series": [{"id": "s", "file": "obs.csv", "value": "users",
                                                      "where": ["app=rival"], "model": "active.rival",
                                                      **(series or {})}],
                        "targets": targets or []}
    return build_scenario(data, str(tmp_path / "cfg.toml"), base_dir=tmp_path)


def test_a_series_is_converted_with_its_filters_scale_and_denominator(tmp_path):
    s = _episode(tmp_path, {"divide_by": ["app=incumbent"], "scale": 2.0, "per": 4.0, "shift": 10})
    d = load_series(s, s.observed.series[0])
    assert d.days.tolist() == [13, 15]
    assert d.values.tolist() == [pytest.approx(10 * 2 / 4 / (100 * 2 / 4)), pytest.approx(0.2)]


@pytest.mark.parametrize(("series", "csv", "message"), [
    ({"file": "none.csv"}, None, r"observed.series.s.file.*data file not found: .*none.csv"),
    ({"value": "people"}, None, r"observed.series.s.value.*has no column 'people' \(columns: day, app, users\)"),
    ({"where": ["platform=rival"]}, None, r"observed.series.s.where.*has no column 'platform'"),
    ({"where": ["app=nobody"]}, None, r"observed.series.s.where.*no row of .*obs.csv matches \['app=nobody'\]"),
    ({"where": ["app"]}, None, r"expected filters 'column=value', got 'app'"),
    ({}, "day,app,users\n3,rival,ten\n", r"observed.series.s.value.*column 'users': expected numbers, got 'ten'"),
    ({"divide_by": ["app=incumbent"]}, "day,app,users\n3,rival,1\n4,incumbent,5\n",
     r"observed.series.s.divide_by.*no row matching \['app=incumbent'\] on day 3"),
    ({"model": "active.nobody"}, None, r"observed.series.s.model.*unknown platform 'nobody'"),
    ({"model": "at(active.rival, 3)"}, None, r"observed.series.s.model.*expected a series"),
    ({"kind": "hourly"}, None, r"observed.series\[0\].kind.*expected one of .weekly_active.*got .hourly."),
])
def test_bad_series_are_refused_naming_the_key(tmp_path, series, csv, message):
    with pytest.raises(ConfigError, match=message):
        _episode(tmp_path, series, csv=csv)


@pytest.mark.parametrize(("targets", "message"), [
    ([{"id": "t", "value": "active.rival"}], r"observed.targets.t.value.*expected a number"),
    ([{"id": "t", "value": "at(active.rival, 3)", "low": 0.5, "high": 0.1}], r"low \(0.5\) exceeds high \(0.1\)"),
    ([{"id": "t", "value": "1"}, {"id": "t", "value": "2"}], "ids must be unique, repeated: t"),
    ([{"value": "1"}], "every entry needs an id"),
    ([{"id": "t", "value": "at(activ.rival, 3)"}], "unknown series family 'activ'"),
])
def test_bad_targets_are_refused_naming_the_key(tmp_path, targets, message):
    with pytest.raises(ConfigError, match=message):
        _episode(tmp_path, targets=targets)


def test_every_shipped_episode_loads_with_its_data():
    for path in episode_configs(ROOT / "experiments"):
        s = sim.load_config(path)
        assert s.observed.targets, path
        raw = read_toml(path)
        assert raw["experiment"]["name"] == path.stem
        for spec in s.observed.series:
            d = load_series(s, spec)
            assert len(d.days) and np.isfinite(d.values).all(), (path, spec.id)
            assert (d.days >= 0).all() and (d.days <= s.experiment.steps).all(), (path, spec.id)
