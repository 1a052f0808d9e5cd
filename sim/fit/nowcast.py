"""The nowcast of a new episode: what a user would know a few days into it.

The shared parameters come from a posterior fitted without the episode. The episode's own parameters (its
news scale, say) are fitted to its **first observations alone**: the data points of its fitted series within
the first week of data (days ``d0 .. d0 + 6``, d0 the earliest observed day). By rejection: for each of
``draws`` posterior draws, ``tries`` values of the own parameters from a Latin hypercube over their priors;
each pair is run up to the end of that week and scored on those points only (the distance of
:mod:`sim.fit.distance`); the best ``keep`` share of the pairs is the nowcast. Each kept pair is then run to
the end of the episode: the predictive distribution of its targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario, load_config
from sim.episode import ObservedData
from sim.fit.distance import fitted_series
from sim.fit.posterior import Posterior
from sim.fit.problem import episode_of, prior_overrides, with_values
from sim.sampling import unit_latin_hypercube

__all__ = ["NOWCAST_DAYS", "Nowcast", "first_observations", "nowcast"]

#: The first observations: data points within this many days of the earliest one.
NOWCAST_DAYS = 7


@dataclass(frozen=True)
class Nowcast:
    """The kept parameter sets (dotted-key overrides), the full runs of each, and what was used."""

    scenario: Scenario
    overrides: list[dict[str, float]]
    runs: list[pd.DataFrame]
    first_day: int
    points: int


def first_observations(series: list[ObservedData]) -> tuple[list[ObservedData], int]:
    """The fitted series cut to their points in the first week of data, and that week's first day."""
    d0 = int(min(d.days.min() for d in series))
    out = []
    for d in series:
        keep = d.days < d0 + NOWCAST_DAYS
        if keep.any():
            out.append(ObservedData(d.spec, d.days[keep], d.values[keep], d.model))
    return out, d0


def _score(scenario: Scenario, run: pd.DataFrame, early: list[ObservedData]) -> float:
    from sim.episode import observables

    total = 0.0
    for d in early:
        model = np.asarray(d.model.evaluate(observables(scenario, run)), dtype=float)[d.days]
        if not np.isfinite(model).all():
            return np.inf
        r = np.log(np.maximum(model, 1e-9)) - np.log(np.maximum(d.values, 1e-9))
        total += float(np.sum(r**2)) / d.spec.sigma**2
    return total


def nowcast(posterior: Posterior, config: str | Path, draws: int, tries: int, keep: float, seed: int,
            n: int) -> Nowcast:
    """The nowcast of the episode in ``config`` from a posterior fitted without it (module docstring)."""
    from sim import simulate

    base = load_config(config, {"population.n": n, "experiment.engine": "array"})
    episode = episode_of(config)
    own = [p for p in base.calibration.priors if not p.shared]
    early, d0 = first_observations(fitted_series(base))
    horizon = min(base.experiment.steps, d0 + 2 * NOWCAST_DAYS)  # a week's mean needs the week after its day
    short = with_values(base, {"experiment.steps": horizon})
    root = np.random.SeedSequence(seed)
    draw_seq, lhs_seq, run_seq, full_seq = root.spawn(4)
    rows = posterior.draws(draws, draw_seq)
    grid = unit_latin_hypercube(len(own), tries, lhs_seq) if own else np.zeros((1, 0))
    candidates, scores = [], []
    seeds = iter(run_seq.spawn(draws * len(grid)))
    for _, row in rows.iterrows():
        shared, _ = posterior.overrides(row, base, episode)
        for u in grid:
            values = [p.low + q * (p.high - p.low) for p, q in zip(own, u, strict=True)]
            overrides = {**shared, **prior_overrides(base, own, values)}
            run = simulate(with_values(short, overrides), next(seeds), "array")
            candidates.append(overrides)
            scores.append(_score(short, run, early))
    order = np.argsort(scores, kind="stable")[:max(1, round(keep * len(scores)))]
    kept = [candidates[i] for i in order]
    full_seeds = full_seq.spawn(len(kept))
    runs = [simulate(with_values(base, o), s, "array") for o, s in zip(kept, full_seeds, strict=True)]
    return Nowcast(base, kept, runs, d0, sum(len(d.days) for d in early))
