"""Figures from results folders: each kind is drawn for its kind of experiment, and what is drawn is the
saved numbers (read back from the matplotlib artists); the folder is read once into plot data, which the
drawing takes; partial folders plot, wrong folders fail clearly."""

from __future__ import annotations

import datetime
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from scipy import stats

from sim.cli import main
from sim.dates import date_of, month_starts
from sim.intervals import mean_ci95
from sim.metrics import weekly_ratio
from sim.palette import platform_colours
from sim.plots import (
    make_figures,
    plot_composition,
    plot_data,
    plot_network,
    plot_results,
    plot_scenario_outcomes,
    plot_scenario_timeseries,
    plot_sweep,
    plot_sweep_timeseries,
    plot_timeseries,
)
from sim.plots.data import composition, event_marks, network_data
from sim.store import Results, ResultsError, load_results
from sim.summary import summarise

KOREA = (ROOT / "experiments" / "korea_2014.toml").as_posix()
SMALL = ["--quiet", "--workers", "1", "--set", "population.n=600", "--steps", "60"]
SNAPSHOT_DAYS = [0, 20, 45]
NETWORK_N = 400  # below 500 nodes networkx lays out fast (dense)


def run(folder: Path, config: str | Path, *args: str) -> Results:
    """Run ``config`` small and serial into ``folder`` and load it."""
    assert main(["run", str(config), "--out", str(folder), *SMALL, *args]) == 0
    return load_results(folder)


def experiment(tmp: Path, name: str, body: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(f'extends = "{KOREA}"\n\n[experiment]\nname = "{name}"\n\n{body}', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plots")


@pytest.fixture(scope="module")
def korea(tmp: Path) -> Results:
    """The 2014 baseline, 3 replications, with network snapshots."""
    return run(tmp / "korea", KOREA, "--replications", "3", "--set", f"experiment.snapshot_days={SNAPSHOT_DAYS}",
               "--set", f"population.n={NETWORK_N}")


@pytest.fixture(scope="module")
def scenarios(tmp: Path) -> Results:
    body = ('[scenarios.no_apology]\n"events.kakao_apology.enabled" = false\n\n'
            '[scenarios.early_apology]\n"events.kakao_apology.day" = 20\n')
    return run(tmp / "scenarios", experiment(tmp, "plots_scenarios", body), "--replications", "3")


@pytest.fixture(scope="module")
def sweep1(tmp: Path) -> Results:
    body = '[sweep]\nmethod = "grid"\n"behaviour.mu" = [0.2, 0.5]\n'
    return run(tmp / "sweep1", experiment(tmp, "plots_sweep1", body), "--replications", "2")


@pytest.fixture(scope="module")
def sweep2(tmp: Path) -> Results:
    body = '[sweep]\nmethod = "grid"\n"behaviour.mu" = [0.2, 0.5]\n"events.prosecutors_team.intensity" = [0.3, 0.9]\n'
    return run(tmp / "sweep2", experiment(tmp, "plots_sweep2", body), "--replications", "2")


@pytest.fixture(scope="module")
def lhs(tmp: Path) -> Results:
    body = ('[sweep]\nmethod = "lhs"\nsamples = 4\n"behaviour.mu" = {low = 0.2, high = 0.6}\n'
            '"events.prosecutors_team.intensity" = {low = 0.2, high = 1.0}\n')
    return run(tmp / "lhs", experiment(tmp, "plots_lhs", body), "--replications", "2")


def artists(fig: Figure, gid: str) -> list[Line2D | PathCollection | AxesImage]:
    """The artists of ``fig`` with this gid."""
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def artist(fig: Figure, gid: str) -> Line2D | PathCollection | AxesImage:
    """The one artist of ``fig`` with this gid."""
    found = artists(fig, gid)
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def daily_mean(results: Results, column: str, scenario: str = "baseline") -> pd.Series:
    runs = results.done.loc[results.done["scenario"] == scenario, "run_id"]
    ts = results.timeseries[results.timeseries["run_id"].isin(runs)]
    return ts.groupby("day")[column].mean()


# Time series ---------------------------------------------------------------------------------------------
def test_timeseries_draws_the_mean_over_replications_with_events_and_dates(korea: Results, tmp: Path) -> None:
    fig = plot_timeseries(plot_data(korea))
    for p in ("kakaotalk", "telegram", "line"):
        line = artist(fig, f"mean:{p}")
        expected = daily_mean(korea, f"active_{p}")
        np.testing.assert_array_equal(line.get_xdata(), expected.index)
        np.testing.assert_allclose(line.get_ydata(), 100 * expected)
        assert to_hex(line.get_color()) == to_hex(platform_colours(korea.manifest["platforms"])[
            korea.manifest["platforms"].index(p)])
    band = artist(fig, "band:mean:telegram").get_paths()[0].vertices
    assert band[:, 1].max() > 100 * daily_mean(korea, "active_telegram").max()  # a real band around the mean
    for e in korea.manifest["events"]:
        marks = artists(fig, f"event:{e['id']}")
        assert len(marks) == (3 if e["day"] <= 60 else 0)  # on each panel (two, and one observed), in 60 days
        assert all(m.get_xdata()[0] == e["day"] for m in marks)
    labels = [t.get_text() for t in fig.axes[-2].get_xticklabels()]  # bottom time axis (last is the key)
    assert labels[:2] == ["Sep 1", "Oct 1"]
    assert "2014" in fig.axes[-2].get_xlabel()


def test_timeseries_sets_the_model_expression_against_the_observed_series(korea: Results) -> None:
    """The episode's series (koreanclick, rankey) against its model expression, w(d) = week(telegram /
    kakaotalk), from the copies of the data files in the results folder."""
    fig = plot_timeseries(plot_data(korea))
    koreanclick, rankey = artist(fig, "observed:koreanclick"), artist(fig, "observed:rankey")
    np.testing.assert_array_equal(koreanclick.get_xdata(), [14, 21, 28, 35, 42, 49])
    np.testing.assert_allclose(koreanclick.get_ydata()[[0, 4]], [100 * 0.04e6 / 25.1e6, 100 * 1.72e6 / 25.1e6])
    np.testing.assert_allclose(rankey.get_ydata()[0], 100 * 1381103 / 29235772)
    model = artist(fig, "model:week(active.telegram / active.kakaotalk)")
    assert "observed" in koreanclick.get_label() and model.get_label().startswith("model")
    w = pd.concat([weekly_ratio(ts, "telegram", "kakaotalk") for _, ts in korea.timeseries.groupby("run_id")])
    expected = w.groupby(korea.timeseries.loc[w.index, "day"]).mean()
    np.testing.assert_allclose(model.get_ydata(), 100 * expected.to_numpy()[model.get_xdata()])


def test_the_results_folder_keeps_the_observed_data_and_refuses_a_damaged_copy(korea: Results, tmp: Path) -> None:
    folder = tmp / "damaged-data"
    shutil.copytree(korea.root, folder)
    kept = sorted(p.name for p in (folder / "observed").iterdir())
    assert kept == ["telegram_weekly_users_koreanclick.csv", "weekly_users_rankey.csv"]
    source = ROOT / "experiments" / "data" / "korea_2014"
    assert all((folder / "observed" / name).read_bytes() == (source / name).read_bytes() for name in kept)
    (folder / "observed" / kept[0]).write_text("day,x\n1,2\n")
    with pytest.raises(ResultsError, match=r"observed/telegram_weekly_users_koreanclick.csv is missing or damaged;"
                                           r" run the 'sim run' command"):
        plot_data(load_results(folder))


def test_timeseries_of_another_experiment_has_no_observed_panel(sweep1: Results) -> None:
    config = {k: v for k, v in sweep1.manifest["config_resolved"].items() if k != "observed"}
    manifest = {**sweep1.manifest, "start_date": "", "sweep": None, "config_resolved": config}
    fig = plot_timeseries(plot_data(Results(sweep1.root, manifest, sweep1.runs, sweep1.timeseries)))
    assert len(fig.axes) == 3  # rivals, incumbent, event key
    assert fig.axes[1].get_xlabel() == "day"


def test_composition_stacks_the_saved_partition(korea: Results) -> None:
    fig = plot_composition(plot_data(korea))
    inc_only = daily_mean(korea, "incumbent_only")
    rivals_only = daily_mean(korea, "rivals_only")
    np.testing.assert_allclose(artist(fig, "top:incumbent_only").get_ydata(), 100 * inc_only)
    np.testing.assert_allclose(artist(fig, "top:both").get_ydata(), 100 * (1 - rivals_only))
    np.testing.assert_allclose(artist(fig, "top:rivals_only").get_ydata(), 100)


def test_composition_falls_back_without_the_partition_columns(korea: Results) -> None:
    ts = korea.timeseries
    exact = composition(ts, "kakaotalk")
    approx = composition(ts.drop(columns=["incumbent_only", "rivals_only"]), "kakaotalk")
    np.testing.assert_allclose(approx.sum(axis=1), 1)
    np.testing.assert_allclose(approx["rivals_only"], exact["rivals_only"])
    assert (approx["incumbent_only"] <= exact["incumbent_only"] + 1e-12).all()


def test_scenario_timeseries_has_every_scenario_and_the_moved_event(scenarios: Results) -> None:
    fig = plot_scenario_timeseries(plot_data(scenarios))
    for s in ("baseline", "no_apology", "early_apology"):
        np.testing.assert_allclose(artist(fig, f"scenario:{s}").get_ydata(),
                                   100 * daily_mean(scenarios, "active_telegram", s))
    assert list(artist(fig, "moved:early_apology").get_xdata()) == [20]
    assert artist(fig, "scenario:baseline").get_color() == "#000000"


# Outcomes ------------------------------------------------------------------------------------------------
def test_scenario_outcomes_are_the_summarised_means(scenarios: Results) -> None:
    fig = plot_scenario_outcomes(plot_data(scenarios))
    table = summarise(scenarios).set_index("scenario")
    order = ["baseline", "no_apology", "early_apology"]
    for key, scale in (("peak_telegram", 100), ("peak_day_telegram", 1), ("peak_line", 100),
                       ("trough_kakaotalk", 100)):
        np.testing.assert_allclose(artist(fig, key).get_xdata(), scale * table.loc[order, key])
    kept = (scenarios.done["after21_telegram"] / scenarios.done["peak_telegram"]).groupby(
        scenarios.done["scenario"]).mean()
    np.testing.assert_allclose(artist(fig, "kept_telegram").get_xdata(), 100 * kept[order])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == order
    assert fig.axes[0].get_yticklabels()[0].get_fontweight() == "bold"


def test_one_parameter_sweep_is_a_line_with_band(sweep1: Results) -> None:
    figures = make_figures(sweep1)
    assert set(figures) == {"sweep", "sweep_timeseries"}
    line = artist(figures["sweep"], "peak_telegram")
    table = summarise(sweep1)
    np.testing.assert_allclose(line.get_xdata(), table["param:behaviour.mu"])
    np.testing.assert_allclose(line.get_ydata(), 100 * table["peak_telegram"])
    curves = plot_sweep_timeseries(plot_data(sweep1))
    for point in (0, 1):
        runs = sweep1.done.loc[sweep1.done["point"] == point, "run_id"]
        ts = sweep1.timeseries[sweep1.timeseries["run_id"].isin(runs)]
        np.testing.assert_allclose(artist(curves, f"point:{point}").get_ydata(),
                                   100 * ts.groupby("day")["active_telegram"].mean())


def test_two_parameter_sweep_is_a_heatmap_of_grouped_means(sweep2: Results) -> None:
    fig = plot_sweep(plot_data(sweep2))
    done = sweep2.done
    expected = (done.groupby(["param:events.prosecutors_team.intensity", "param:behaviour.mu"])["peak_telegram"]
                .mean().unstack().to_numpy())
    np.testing.assert_allclose(artist(fig, "peak_telegram:0").get_array(), 100 * expected)
    np.testing.assert_allclose(artist(fig, "trough_kakaotalk:0").get_array(), 100 * done.groupby(
        ["param:events.prosecutors_team.intensity", "param:behaviour.mu"])["trough_kakaotalk"].mean().unstack())


def test_lhs_sweep_is_a_scatter_of_runs_and_point_means(lhs: Results) -> None:
    fig = plot_sweep(plot_data(lhs))
    table = summarise(lhs)
    for ax, key in zip(fig.axes[:2], ("behaviour.mu", "events.prosecutors_team.intensity"), strict=True):
        means, = (a for a in ax.get_children() if a.get_gid() == "peak_telegram")
        np.testing.assert_allclose(means.get_offsets()[:, 0], table[f"param:{key}"])
        np.testing.assert_allclose(means.get_offsets()[:, 1], 100 * table["peak_telegram"])
        runs, = (a for a in ax.get_children() if a.get_gid() == "runs:peak_telegram")
        np.testing.assert_allclose(runs.get_offsets()[:, 1], 100 * lhs.done["peak_telegram"])


# Network -------------------------------------------------------------------------------------------------
def test_network_panels_colour_primary_platform_and_ring_multihomers(korea: Results) -> None:
    run_id = "baseline-r0"
    snaps = korea.snapshots(run_id)
    fig = plot_network(plot_data(korea).info, network_data(korea, run_id))
    colours = platform_colours(korea.manifest["platforms"])
    positions = []
    for day in SNAPSHOT_DAYS:
        nodes = artist(fig, f"nodes:{day}")
        face = [to_hex(c) for c in nodes.get_facecolors()]
        primary = snaps[f"primary_{day}"]
        assert len(face) == len(primary) == NETWORK_N
        for k, colour in enumerate(c.lower() for c in colours):
            assert face.count(colour) == int((primary == k).sum())
        ringed = int((nodes.get_edgecolors()[:, 3] > 0).sum())
        assert ringed == int((snaps[f"active_{day}"].sum(axis=1) >= 2).sum())
        positions.append(np.sort(nodes.get_offsets(), axis=0))
    for pos in positions[1:]:
        np.testing.assert_array_equal(pos, positions[0])  # one layout for all days


# Plot data -----------------------------------------------------------------------------------------------
def test_the_folder_is_read_once_and_the_drawing_needs_only_the_plot_data(korea: Results, tmp: Path) -> None:
    folder = tmp / "read-once"
    shutil.copytree(korea.root, folder)
    results = load_results(folder)
    data = plot_data(results)
    snaps = network_data(results, "baseline-r0")
    shutil.rmtree(folder)
    for fig in (plot_timeseries(data), plot_composition(data), plot_network(data.info, snaps)):
        assert fig.axes


def test_plot_data_bands_are_the_daily_mean_and_95_percent_interval_over_runs(korea: Results) -> None:
    data = plot_data(korea)
    baseline = data.scenario("baseline")
    assert baseline.runs == 3 and baseline.last_day == 60 and list(data.scenarios) == ["baseline"]
    band = baseline.active["telegram"]
    ts = korea.timeseries
    for day in (0, 17, 60):
        assert (band.mean[day], band.half[day]) == mean_ci95(ts.loc[ts["day"] == day, "active_telegram"])
    assert [e.day for e in event_marks(data.timelines["baseline"], 60)] == sorted(
        e["day"] for e in korea.manifest["events"] if e["day"] <= 60)
    with pytest.raises(ResultsError, match="no finished runs of scenario 'nope'"):
        data.scenario("nope")


# Folders -------------------------------------------------------------------------------------------------
def test_plot_results_writes_each_figure_in_each_format(korea: Results, tmp: Path) -> None:
    paths = plot_results(korea, tmp / "figures", formats=("png", "svg", "pdf"))
    stems = {"timeseries", "composition", "network_baseline"}
    assert {p.name for p in paths} == {f"{s}.{f}" for s in stems for f in ("png", "svg", "pdf")}
    assert all(p.stat().st_size > 1000 for p in paths)
    assert (tmp / "figures" / "timeseries.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_plot_of_scenarios(scenarios: Results, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp / "scenario-figures"
    assert main(["plot", str(scenarios.root), "--out", str(out), "--format", "png"]) == 0
    written = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in written) == sorted(
        f"{s}.png" for s in ("timeseries", "composition", "scenario_outcomes", "scenario_timeseries"))


def test_partial_folder_plots_the_finished_runs(scenarios: Results, tmp: Path) -> None:
    folder = tmp / "partial"
    shutil.copytree(scenarios.root, folder)
    for name in ("runs.parquet", "timeseries.parquet", "runs/baseline-r2.json", "runs/no_apology-r0.json",
                 "runs/no_apology-r1.json", "runs/no_apology-r2.json"):
        (folder / name).unlink()
    partial = load_results(folder)
    figures = make_figures(partial)
    assert set(figures) == {"timeseries", "composition", "scenario_outcomes", "scenario_timeseries"}
    np.testing.assert_allclose(artist(figures["timeseries"], "mean:telegram").get_ydata(),
                               100 * daily_mean(partial, "active_telegram"))
    assert partial.done["scenario"].value_counts()["baseline"] == 2
    assert [t.get_text() for t in figures["scenario_outcomes"].axes[0].get_yticklabels()] == [
        "baseline", "early_apology"]


def test_folder_without_finished_runs_fails_clearly(scenarios: Results, tmp: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp / "empty"
    shutil.copytree(scenarios.root, folder)
    for path in (folder / "runs").glob("*.json"):
        path.unlink()
    with pytest.raises(ResultsError, match=f"{folder}: no finished runs"):
        plot_results(load_results(folder), tmp / "never")
    assert main(["plot", str(folder)]) == 2
    assert "no finished runs" in capsys.readouterr().err
    assert not (tmp / "never").exists()


def test_wrong_folder_and_format_fail_clearly(korea: Results, tmp: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp)]) == 2
    assert "is not a results folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected some of png, svg, pdf"):
        plot_results(korea, tmp / "never", formats=("jpeg",))


# What the figures share with the summaries and the page ----------------------------------------------------
def test_the_95_percent_interval_is_the_t_interval_the_summaries_always_used() -> None:
    rng = np.random.default_rng(3)
    for n in (2, 3, 10, 41):
        x = pd.Series(rng.normal(0.3, 0.1, n))
        half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)  # the formula of sim.summary before
        assert mean_ci95(x) == (float(x.mean()), float(half))
        assert mean_ci95(x.to_numpy(), one_sided=True)[1] == float(stats.t.ppf(0.95, n - 1) * x.std(ddof=1)
                                                                     / math.sqrt(n))
    assert mean_ci95([0.5, math.nan, 0.7]) == mean_ci95([0.5, 0.7])
    mean, half = mean_ci95([0.5])
    assert mean == 0.5 and math.isnan(half)
    assert all(math.isnan(v) for v in mean_ci95([]))
    mean, half = mean_ci95([math.inf, 4.8, 2.8])  # e.g. a ratio over a zero
    assert mean == math.inf and math.isnan(half)


def test_a_day_is_dated_from_the_start_date_and_months_start_where_the_calendar_says() -> None:
    assert date_of("2014-09-01", 0) == datetime.date(2014, 9, 1)
    assert date_of("2014-09-01", 30) == date_of(datetime.date(2014, 9, 1), 30) == datetime.date(2014, 10, 1)
    assert date_of("", 30) is None and date_of(None, 3) is None
    assert month_starts("2014-12-15", 50) == [17, 48]  # Jan 1 and Feb 1 of the next year
    assert month_starts("2016-02-01", 29) == [0, 29]  # a leap February
    assert month_starts("2014-09-02", 28) == []
