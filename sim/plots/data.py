"""Plot data: a results folder read once into the typed, plot-ready numbers the figures draw.

Data flows one way::

    results folder --sim.store.load_results--> Results --plot_data--> PlotData --sim.plots.*--> Figure

:func:`plot_data` takes the finished runs and their daily rows once, splits them by scenario (and sweep
point) and reduces them to what is drawn: per scenario the mean and 95 % band of each platform's active share,
the composition of users and the events; per point of a one-parameter grid the first rival's band; the runs
table for the outcome panels. :func:`network_data` reads one run's network snapshots. The drawing modules
(:mod:`sim.plots.timeseries`, :mod:`~sim.plots.outcomes`, :mod:`~sim.plots.network`) take these objects and
never open a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario, build_scenario
from sim.episode import ObservedData, load_series, observables, panels
from sim.intervals import mean_ci95
from sim.store import MANIFEST, OBSERVED, Results, ResultsError
from sim.summary import is_prediction

__all__ = ["Band", "Composition", "Event", "EventMark", "ExperimentInfo", "NetworkSnapshots", "ObservedPanel",
           "ObservedPoints", "PlotData", "PointSeries", "ScenarioSeries", "SweepData", "composition", "episode",
           "event_marks", "network_data", "outcome_table", "plot_data"]


@dataclass(frozen=True)
class ExperimentInfo:
    """What every figure says about the experiment: its name, platforms, calendar and size."""

    name: str
    platforms: tuple[str, ...]
    incumbent: str
    start_date: str
    users: int | None
    scale_to: float | None
    #: Display names and colours per platform, as the config gives them ("" where it does not).
    labels: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()

    @property
    def rivals(self) -> tuple[str, ...]:
        """The platforms other than the incumbent, in config order."""
        return tuple(p for p in self.platforms if p != self.incumbent)


@dataclass(frozen=True)
class Band:
    """A quantity per day across runs: ``mean`` and the 95 % CI half-width ``half`` (NaN for one run); for a
    prediction, ``mean`` is the median over the draws' runs, ``half`` NaN and ``spread`` the 5, 25, 50, 75
    and 95 % quantiles per day (rows), so that the 50 % and 90 % predictive bands can be drawn."""

    day: np.ndarray
    mean: np.ndarray
    half: np.ndarray
    spread: np.ndarray | None = None

    @classmethod
    def of(cls, days: pd.Series, values: pd.Series, predictive: bool = False) -> Band:
        """The band of ``values`` (aligned with ``days``) over the runs of each day
        (:func:`sim.intervals.mean_ci95`, or with ``predictive`` the quantiles)."""
        if predictive:
            q = values.groupby(days, sort=True).quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
            spread = q.to_numpy(dtype=float).T
            return cls(q.index.to_numpy(), spread[2], np.full(len(q), np.nan), spread)
        rows = [(day, *mean_ci95(grp)) for day, grp in values.groupby(days, sort=True)]
        day, mean, half = (np.array(column) for column in zip(*rows, strict=True))
        return cls(day, mean.astype(float), half.astype(float))


@dataclass(frozen=True)
class Composition:
    """Per day, the mean share of users on the incumbent only, on the incumbent and a rival, on rivals only."""

    day: np.ndarray
    incumbent_only: np.ndarray
    both: np.ndarray
    rivals_only: np.ndarray


@dataclass(frozen=True)
class Event:
    """An event of a scenario's timeline as the manifest records it."""

    id: str
    day: int
    kind: str


@dataclass(frozen=True)
class EventMark:
    """An event as marked on a time axis: its number in the key, id, day and kind."""

    number: int
    id: str
    day: int
    kind: str

    @property
    def label(self) -> str:
        return self.id.replace("_", " ")


def event_marks(timeline: Sequence[Event], last_day: int) -> list[EventMark]:
    """The events within days 0..``last_day``, numbered in day order."""
    inside = sorted((e for e in timeline if 0 <= e.day <= last_day), key=lambda e: e.day)
    return [EventMark(i, e.id, e.day, e.kind) for i, e in enumerate(inside, start=1)]


@dataclass(frozen=True)
class ObservedPoints:
    """One observed series of the episode as drawn: its id, label, days and values (in the model's units),
    and its model expression at those days (mean and 95 % CI half-width over runs)."""

    id: str
    label: str
    days: np.ndarray
    values: np.ndarray
    expression: str
    model_mean: np.ndarray
    model_half: np.ndarray


@dataclass(frozen=True)
class ObservedPanel:
    """One kind of data about some platforms (:func:`sim.episode.panels`): its series, and where they share
    one model expression, that expression's mean and 95 % band over runs on every day (else None)."""

    title: str
    expression: str | None
    model: Band | None
    observed: tuple[ObservedPoints, ...]


@dataclass(frozen=True)
class ScenarioSeries:
    """The finished runs of one scenario, day by day (pooled over sweep points, if any)."""

    name: str
    runs: int
    last_day: int
    active: dict[str, Band]
    composition: Composition
    #: Days of the events this scenario moves or adds relative to the baseline.
    moved: tuple[int, ...]
    #: The episode's observed series against the model, one panel per model expression (none if the config
    #: declares no observed series).
    observed: tuple[ObservedPanel, ...]


@dataclass(frozen=True)
class PointSeries:
    """The finished runs of one sweep point of a scenario: the swept value and the first rival's band."""

    point: int
    value: Any
    runs: int
    last_day: int
    rival: Band


@dataclass(frozen=True)
class SweepData:
    """The sweep: method, swept keys and, for one-parameter grids (the only sweep drawn over time), each
    scenario's points in order."""

    method: str
    params: tuple[str, ...]
    points: dict[str, tuple[PointSeries, ...]]


@dataclass(frozen=True)
class PlotData:
    """A results folder as the figures draw it (:func:`plot_data`)."""

    root: Path
    info: ExperimentInfo
    #: The finished runs, one row each: inputs, ``param:<key>`` columns and outcomes.
    runs: pd.DataFrame
    #: The scenarios with finished runs, in the manifest's order.
    scenarios: dict[str, ScenarioSeries]
    #: Every scenario's events (also of scenarios without finished runs).
    timelines: dict[str, tuple[Event, ...]]
    sweep: SweepData | None
    #: Per scenario, the run whose network snapshots are drawn (lowest sweep point, then replication).
    snapshot_runs: dict[str, str]
    #: A prediction (``sim predict``): bands are the draws' 50 % and 90 % predictive intervals, not CIs.
    predictive: bool = False

    def scenario(self, name: str) -> ScenarioSeries:
        """One scenario's series; ResultsError if it has no finished runs."""
        if name not in self.scenarios:
            raise ResultsError(f"{self.root}: no finished runs of scenario {name!r} to plot (finished: "
                               f"{', '.join(self.scenarios)})")
        return self.scenarios[name]

    def runs_of(self, scenario: str) -> pd.DataFrame:
        """The finished runs of ``scenario``."""
        return self.runs[self.runs["scenario"] == scenario]


def composition(ts: pd.DataFrame, incumbent: str) -> pd.DataFrame:
    """Per run and day, the partition of users: on the incumbent only, on the incumbent and a rival, on rivals
    only. Exact from the ``incumbent_only`` and ``rivals_only`` columns; results written before those
    existed get an approximation that counts every multi-homer as on the incumbent (rival-rival multi-homers
    are rare while nearly everyone keeps the incumbent)."""
    if {"incumbent_only", "rivals_only"} <= set(ts.columns):
        only_inc, only_riv = ts["incumbent_only"], ts["rivals_only"]
    else:
        only_inc = ts[f"active_{incumbent}"] - ts["multihoming"]
        only_riv = 1 - ts[f"active_{incumbent}"]
    return pd.DataFrame({"incumbent_only": only_inc, "both": 1 - only_inc - only_riv,
                         "rivals_only": only_riv})


def outcome_table(values: pd.Series, groups: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % CI half-width (:func:`sim.intervals.mean_ci95`) of per-run ``values`` in each group of
    the columns of ``groups`` (aligned with ``values``). Columns: the group columns, mean, half."""
    by = list(groups.columns)
    rows = [(*(key if isinstance(key, tuple) else (key,)), *mean_ci95(grp))
            for key, grp in values.groupby([groups[c] for c in by], sort=True)]
    return pd.DataFrame(rows, columns=[*by, "mean", "half"])


def _info(manifest: dict[str, Any]) -> ExperimentInfo:
    config = manifest.get("config_resolved", {})
    population, specs = config.get("population", {}), config.get("platforms", {})
    names = tuple(manifest["platforms"])
    return ExperimentInfo(name=manifest["name"], platforms=names,
                          incumbent=manifest["incumbent"], start_date=manifest.get("start_date", "") or "",
                          users=population.get("n"), scale_to=population.get("scale_to"),
                          labels=tuple(specs.get(p, {}).get("label", "") for p in names),
                          colours=tuple(specs.get(p, {}).get("colour", "") for p in names))


def _timelines(manifest: dict[str, Any]) -> dict[str, tuple[Event, ...]]:
    recorded = manifest.get("scenario_events", {})
    return {s: tuple(Event(e["id"], int(e["day"]), e["kind"]) for e in recorded.get(s, manifest.get("events", [])))
            for s in manifest["scenarios"]}


def _moved(manifest: dict[str, Any], scenario: str) -> tuple[int, ...]:
    recorded = manifest.get("scenario_events", {})
    baseline = {(e["id"], e["day"]) for e in recorded.get("baseline", [])}
    return tuple(e["day"] for e in recorded.get(scenario, []) if (e["id"], e["day"]) not in baseline)


def episode(results: Results) -> tuple[Scenario, list[ObservedData]] | None:
    """The experiment's scenario and its observed series as the results folder keeps them (the config in the
    manifest, the data files copied into ``observed/``, verified), or None if it declares no observed
    series."""
    config = results.manifest.get("config_resolved", {})
    if not config.get("observed", {}).get("series"):
        return None
    results.observed_folder()  # verified copies, or ResultsError naming the file
    data = _without_none({k: v for k, v in config.items() if k not in ("scenarios", "sweep")})
    data["observed"] = {**data["observed"], "folder": OBSERVED}
    scenario = build_scenario(data, str(results.root / MANIFEST), base_dir=results.root)
    return scenario, [load_series(scenario, spec) for spec in scenario.observed.series]


def _without_none(value: Any) -> Any:
    """Plain data with the keys whose value is None left out (an unset optional key, as in config.toml)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _observed(ts: pd.DataFrame, found: tuple[Scenario, list[ObservedData]] | None, predictive: bool
              ) -> tuple[ObservedPanel, ...]:
    """The episode's series in panels, each with the model expression it compares with, per run and day."""
    if found is None:
        return ()
    scenario, observed = found
    runs = [run for _, run in ts.groupby("run_id", sort=False)]
    out = []
    for title, members in panels(observed).items():
        points = []
        bands: dict[str, Band] = {}
        for data in members:
            text = data.model.text
            if text not in bands:
                values = pd.concat([pd.Series(data.model.evaluate(observables(scenario, run)), index=run.index)
                                    for run in runs])
                bands[text] = Band.of(ts["day"], values.reindex(ts.index), predictive)
            band = bands[text]
            at = np.searchsorted(band.day, data.days)
            inside = (at < len(band.day)) & (band.day[np.minimum(at, len(band.day) - 1)] == data.days)
            mean = np.where(inside, band.mean[np.minimum(at, len(band.day) - 1)], np.nan)
            half = np.where(inside, band.half[np.minimum(at, len(band.day) - 1)], np.nan)
            points.append(ObservedPoints(data.spec.id, data.spec.label or data.spec.id, data.days, data.values, text,
                                         mean, half))
        one = next(iter(bands)) if len(bands) == 1 else None
        out.append(ObservedPanel(title, one, bands[one] if one else None, tuple(points)))
    return tuple(out)


def _scenario_series(name: str, ts: pd.DataFrame, runs: int, manifest: dict[str, Any], info: ExperimentInfo,
                     found: tuple[Scenario, list[ObservedData]] | None, predictive: bool) -> ScenarioSeries:
    parts = composition(ts, info.incumbent).groupby(ts["day"], sort=True).mean()
    return ScenarioSeries(
        name=name, runs=runs, last_day=int(ts["day"].max()),
        active={p: Band.of(ts["day"], ts[f"active_{p}"], predictive) for p in info.platforms},
        composition=Composition(parts.index.to_numpy(), *(parts[k].to_numpy() for k in
                                                          ("incumbent_only", "both", "rivals_only"))),
        moved=_moved(manifest, name), observed=_observed(ts, found, predictive))


def _sweep(manifest: dict[str, Any], done: pd.DataFrame, ts: pd.DataFrame, run_point: pd.Series,
           info: ExperimentInfo) -> SweepData | None:
    sweep = manifest.get("sweep")
    if not sweep:
        return None
    params = tuple(sweep["params"])
    points: dict[str, tuple[PointSeries, ...]] = {}
    if sweep["method"] == "grid" and len(params) == 1:
        rival = info.rivals[0]
        for scenario, runs in done.groupby("scenario", sort=False):
            values = runs.groupby("point", sort=True)[f"param:{params[0]}"].first()
            sizes = runs.groupby("point").size()
            mine = ts[ts["run_id"].isin(runs["run_id"])]
            by_point = dict(tuple(mine.groupby(mine["run_id"].map(run_point), sort=True)))
            points[str(scenario)] = tuple(
                PointSeries(int(pt), value, int(sizes[pt]), int(by_point[pt]["day"].max()),
                            Band.of(by_point[pt]["day"], by_point[pt][f"active_{rival}"]))
                for pt, value in values.items())
    return SweepData(sweep["method"], params, points)


def _snapshot_runs(results: Results, done: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for scenario, runs in done.sort_values(["point", "replication"]).groupby("scenario", sort=False):
        found = next((rid for rid in runs["run_id"] if (results.root / "runs" / f"{rid}.npz").exists()), None)
        if found is not None:
            out[str(scenario)] = found
    return out


def plot_data(results: Results) -> PlotData:
    """Read ``results`` once into plot data.

    Parameters
    ----------
    results
        A results folder as loaded by :func:`sim.store.load_results` (a partial folder works: only finished
        runs are drawn). An episode's observed series come from its copies in the folder (:func:`episode`).

    Returns
    -------
    PlotData

    Raises
    ------
    ResultsError
        If no run has finished, or a copy of an observed data file is missing or damaged.
    """
    done = results.done
    if done.empty:
        raise ResultsError(f"{results.root}: no finished runs to plot (runs/*.json has none with status "
                           "'done'); run the experiment first")
    manifest = results.manifest
    info = _info(manifest)
    ts = results.timeseries
    ts = ts[ts["run_id"].isin(done["run_id"])]
    run_scenario = done.set_index("run_id")["scenario"]
    by_scenario = dict(tuple(ts.groupby(ts["run_id"].map(run_scenario), sort=False)))
    runs_per = done.groupby("scenario").size()
    found = episode(results)
    predictive = is_prediction(results)
    scenarios = {s: _scenario_series(s, by_scenario[s], int(runs_per[s]), manifest, info, found, predictive)
                 for s in manifest["scenarios"] if s in by_scenario}
    return PlotData(root=results.root, info=info, runs=done, scenarios=scenarios, timelines=_timelines(manifest),
                    sweep=None if predictive else _sweep(manifest, done, ts, done.set_index("run_id")["point"], info),
                    snapshot_runs=_snapshot_runs(results, done), predictive=predictive)


@dataclass(frozen=True)
class NetworkSnapshots:
    """One run's saved network: the graph (CSR) and, per saved day, each user's primary platform (-1: none)
    and platform use (users x platforms)."""

    run_id: str
    indptr: np.ndarray
    indices: np.ndarray
    primary: dict[int, np.ndarray]
    active: dict[int, np.ndarray]

    @property
    def days(self) -> list[int]:
        """The saved days, in order."""
        return sorted(self.primary)


def network_data(results: Results, run_id: str) -> NetworkSnapshots:
    """The network snapshots of ``run_id``; ValueError if it saved none."""
    snaps = results.snapshots(run_id)
    if not snaps:
        raise ValueError(f"{results.root}: run {run_id} saved no network snapshots "
                         "(set experiment.snapshot_days)")
    days = sorted(int(m.group(1)) for k in snaps if (m := re.fullmatch(r"primary_(\d+)", k)))
    return NetworkSnapshots(run_id, snaps["indptr"], snaps["indices"],
                            {d: snaps[f"primary_{d}"].astype(int) for d in days},
                            {d: snaps[f"active_{d}"] for d in days})
