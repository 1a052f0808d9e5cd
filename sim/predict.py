"""``sim predict``: a config run once per posterior draw, into a results folder of the same form as ``sim run``.

The draws are a seeded weighted resampling of the posterior's particles (seed: the config's
``experiment.seed``); each run has its own seed (the i-th child of the same root, shared by the config's
scenarios, so a counterfactual differs from the baseline by its change alone). A draw applies to the config
by the rules of :class:`sim.fit.posterior.Posterior` (shared keys by dotted key, an episode's own keys only to
its own configs, factors on the keys they scale), and the keys it does not apply are listed. The drawn values
are the ``param:<key>`` columns of ``runs.parquet``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import ConfigError
from sim.experiment import Experiment, Sweep, load_experiment
from sim.fit.posterior import POSTERIOR, Posterior
from sim.fit.problem import episode_of

__all__ = ["DEFAULT_POSTERIOR", "prediction"]

#: The posterior shipped with the project (relative to the working directory).
DEFAULT_POSTERIOR = Path("experiments") / "calibration" / "posterior.parquet"


def prediction(config: str | Path, posterior_path: str | Path, draws: int, overrides: Mapping[str, Any],
               flags: Mapping[str, str] | None = None) -> tuple[Experiment, list[str]]:
    """The experiment of ``config`` (with the command line's ``overrides``, given by ``flags`` where not by
    ``--set``) over ``draws`` posterior draws, and the notes of what the draws do not apply. ConfigError if the
    config sweeps, or an override is drawn."""
    exp = load_experiment(config, overrides, flags)
    if exp.sweep is not None:
        raise ConfigError(f"{config}: it has a [sweep]; a prediction sweeps the posterior's draws instead: remove "
                          "the sweep (or predict its base config)")
    posterior = Posterior.load(_posterior_file(posterior_path))
    episode = episode_of(config)
    seed = np.random.SeedSequence(exp.base.experiment.seed, spawn_key=(0xD4A,))
    rows = posterior.draws(draws, seed)
    points, notes = [], {}
    for _, row in rows.iterrows():
        applied, skipped = posterior.overrides(row, exp.base, episode)
        points.append(applied)
        for message in skipped:
            notes[message] = None
    drawn = sorted({k for p in points for k in p} & set(exp.cli))
    if drawn:
        raise ConfigError(f"--set {drawn[0]}: the posterior draws this key; a prediction cannot also fix it "
                          "(leave it out of --set, or edit the config to predict without the posterior's value)")
    keys = sorted({k for p in points for k in p})
    source = {"posterior": str(Path(posterior_path)), "posterior_sha256": posterior.manifest["posterior_sha256"],
              "draws": draws, "episode": episode, "models": sorted(set(rows["model"]))}
    sweep = Sweep("posterior", {k: [] for k in keys}, draws=tuple(points), source=source)
    inputs = {**exp.inputs, str(posterior.path): posterior.manifest["posterior_sha256"]}
    return dataclasses.replace(exp, sweep=sweep, inputs=inputs), list(notes)


def _posterior_file(path: str | Path) -> Path:
    """The ``--posterior`` given, as an absolute path (so that errors about the files beside it name them in
    full); ConfigError if it cannot be a posterior."""
    given = Path(path)
    path = given.absolute()
    if not path.exists():
        raise ConfigError(f"--posterior {given}: not found; expected {POSTERIOR} written by 'sim calibrate' (or "
                          "its folder)")
    if path.is_file() and path.suffix != ".parquet":
        raise ConfigError(f"--posterior {given}: expected {POSTERIOR} written by 'sim calibrate' (or its folder), "
                          f"got a {path.suffix or 'plain'} file")
    return path
