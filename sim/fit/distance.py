"""Summary statistics of an episode's runs, and their distance to its data and targets.

For one parameter set the model is run on a few seeds; its statistics are the means over those runs of

- each target's value (a yes/no target: the share of runs in which it holds), and
- each fitted series' model expression at the data's days.

The distance of an episode is the root of a sum of squares:

- a target inside the data's range adds nothing; outside, it adds ``(excess / width / TARGET_SCALE)²``, with
  width the range (one-sided: the bound's size, yes/no: 1 and excess 0.5 - share holding);
- a fitted series adds ``Σ (log model - log data)² / sigma²`` over its points (``sigma`` from its config:
  the data's error on a log scale), both sides floored at half a user's share of the run's population
  (:func:`resolution`): a run of N users cannot tell a share below 1 / (2N) from zero, so a day on which no
  run user happened to act costs what its resolution allows, not the log of 0 (with a floor of 1e-9 such days
  made most of the distance's spread across seeds).

The joint distance adds the episodes' squares. Statistics come from fresh seeds for every parameter set, so
the distance is stochastic and the posterior is not a property of a few fixed seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.config.schema import Scenario, Target
from sim.episode import ObservedData, load_series, observables, target_values

__all__ = ["MISSING", "TARGET_SCALE", "distance", "fitted_series", "observed_statistics", "resolution",
           "series_squares", "statistics", "target_distance"]

#: A target missed by this share of its range counts as one unit: as much as a series point off by its sigma.
TARGET_SCALE = 0.1
#: Contribution of a statistic the run cannot give (NaN: a run too short, a ratio over zero), per statistic.
MISSING = 100.0


def fitted_series(scenario: Scenario) -> list[ObservedData]:
    """The episode's observed series used by the fit (``fit = true``)."""
    return [load_series(scenario, s) for s in scenario.observed.series if s.fit]


def statistics(scenario: Scenario, runs: Sequence[pd.DataFrame], series: Sequence[ObservedData],
               prefix: str = "") -> dict[str, float | np.ndarray]:
    """The mean over ``runs`` of every target (``<prefix>target:<id>``) and of every fitted series' model at
    the data's days (``<prefix>series:<id>``, NaN for days outside the run)."""
    values = [target_values(scenario, ts) for ts in runs]
    out: dict[str, float | np.ndarray] = {
        f"{prefix}target:{t.id}": float(np.mean([v[t.id] for v in values])) for t in scenario.observed.targets}
    for data in series:
        at = []
        for ts in runs:
            model = np.asarray(data.model.evaluate(observables(scenario, ts)), dtype=float)
            inside = (data.days >= 0) & (data.days < len(model))
            row = np.full(len(data.days), np.nan)
            row[inside] = model[data.days[inside]]
            at.append(row)
        out[f"{prefix}series:{data.spec.id}"] = np.mean(at, axis=0)
    return out


def observed_statistics(series: Sequence[ObservedData], prefix: str = "") -> dict[str, np.ndarray]:
    """The data the statistics compare with: each fitted series' values (targets carry their ranges)."""
    return {f"{prefix}series:{d.spec.id}": np.asarray(d.values, dtype=float) for d in series}


def target_distance(target: Target, value: float) -> float:
    """How far ``value`` lies outside the target's range, in units of :data:`TARGET_SCALE` of its width."""
    if not math.isfinite(value):
        return MISSING
    if target.low == target.high == 1.0:  # yes/no: the share of runs in which it holds should exceed half
        return max(0.0, 0.5 - value) / TARGET_SCALE
    low = -math.inf if target.low is None else target.low
    high = math.inf if target.high is None else target.high
    if low <= value <= high:
        return 0.0
    if math.isfinite(low) and math.isfinite(high):
        width = high - low
    else:
        bound = low if math.isfinite(low) else high
        width = abs(bound) or 1.0
    excess = low - value if value < low else value - high
    return excess / width / TARGET_SCALE


def resolution(scenario: Scenario) -> float:
    """The smallest share a run of the scenario resolves, taken for smaller ones on the log scale: half a
    user's share of its population."""
    return 0.5 / scenario.population.n


def series_squares(model: np.ndarray, data: np.ndarray, sigma: float, floor: float) -> float:
    """A fitted series' ``Σ (log model - log data)² / sigma²`` over the data's points, both sides floored at
    ``floor`` (:data:`MISSING` squared per point if the model lacks one)."""
    inside = np.isfinite(data)
    m = model[inside]
    if not np.isfinite(m).all():
        return MISSING**2 * len(m)
    r = np.log(np.maximum(m, floor)) - np.log(np.maximum(data[inside], floor))
    return float(np.sum(r**2) / sigma**2)


def distance(stats: Mapping[str, float | np.ndarray], scenarios: Mapping[str, Scenario],
             series: Mapping[str, Sequence[ObservedData]], data: Mapping[str, np.ndarray]) -> float:
    """The joint distance of the statistics of every episode (prefixed ``<episode>:``) to their data."""
    total = 0.0
    for name, scenario in scenarios.items():
        for t in scenario.observed.targets:
            total += target_distance(t, float(stats[f"{name}:target:{t.id}"])) ** 2
        for d in series[name]:
            key = f"{name}:series:{d.spec.id}"
            total += series_squares(np.asarray(stats[key], dtype=float), np.asarray(data[key], dtype=float),
                                    d.spec.sigma, resolution(scenario))
    return math.sqrt(total)
