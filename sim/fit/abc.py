"""ABC-SMC with pyabc: one posterior of the shared and the episodes' own parameters, fitted to every episode
at once, and ABC model selection between model variants (``sim calibrate``).

pyabc does the inference: the priors (uniform, from the configs), the sequence of populations with adaptive
acceptance thresholds (median of the last population's distances), the perturbation kernels (multivariate
normal), the model-selection probabilities and the samplers (one core, a process pool, dask). This module
supplies the model (runs of every episode for a parameter set, on fresh seeds: :class:`EpisodeModel`), the
distance (:mod:`sim.fit.distance`) and the outputs (:func:`fit`).

Reproducibility: with one worker the fit is a function of ``rng_seed`` (pyabc draws from numpy's global
generator, seeded here; each parameter set's model seeds are drawn from it too). pyabc's parallel samplers
accept particles in the order they finish, so a parallel fit is another sample from the same posterior,
not the same numbers.
"""

from __future__ import annotations

import datetime
import hashlib
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.episode import ObservedData
from sim.errors import ResultsError
from sim.fit.distance import distance, fitted_series, observed_statistics, statistics
from sim.fit.posterior import Posterior
from sim.fit.problem import VARIANTS, Problem

__all__ = ["QUICK", "EpisodeModel", "FitSettings", "JointDistance", "fit"]


@dataclass(frozen=True)
class FitSettings:
    """How a fit runs: users per run, seeds per parameter set, particles per population, populations at
    most, the acceptance rate below which it stops, the model variants compared, workers, the root seed."""

    n: int = 2000
    seeds: int = 1
    population: int = 400
    generations: int = 8
    min_acceptance: float = 0.02
    models: tuple[str, ...] = ("contacts", "media_only", "population", "salience")
    workers: int = 1
    dask: bool = False
    scheduler: str | None = None
    rng_seed: int = 2014
    #: Sampling stops at the first population that ends after this many minutes (the shipped fit's budget).
    walltime_minutes: float | None = 50.0
    #: Width of pyabc's multivariate normal perturbation kernels relative to Silverman's rule. With 14-16
    #: parameters the default (1) collapses the importance weights (measured: an effective sample size of 1-6
    #: of 100 particles by the third population), x 2.5 kept it at 20-60.
    kernel_scaling: float = 2.5


#: What ``--quick`` changes (a few minutes: for trying the command and for CI).
QUICK = {"n": 1500, "seeds": 1, "population": 30, "generations": 3}


class EpisodeModel:
    """The model pyabc calls: for one parameter set, run every episode on ``seeds`` fresh seeds (drawn from
    numpy's global generator, which pyabc seeds) and return the statistics of each, keys prefixed with the
    episode's name."""

    def __init__(self, problem: Problem, seeds: int, names: Mapping[str, str]) -> None:
        self.problem, self.seeds = problem, seeds
        self.names = dict(names)  # pyabc's parameter name -> posterior column
        self.series = {ep.name: fitted_series(ep.base) for ep in problem.episodes}

    def __call__(self, parameter: Mapping[str, float]) -> dict[str, Any]:
        from sim import simulate

        values = {self.names[k]: float(v) for k, v in parameter.items()}
        root = np.random.SeedSequence(int(np.random.randint(0, 2**62)))
        out: dict[str, Any] = {}
        for k, ep in enumerate(self.problem.episodes):
            scenario = self.problem.fast_scenario(ep.name, values)
            runs = [simulate(scenario, seed, "array") for seed in root.spawn(len(self.problem.episodes))[k]
                    .spawn(self.seeds)]
            out |= statistics(scenario, runs, self.series[ep.name], prefix=f"{ep.name}:")
        return out


class JointDistance:
    """pyabc's distance: :func:`sim.fit.distance.distance` of the statistics to the data and targets."""

    def __init__(self, scenarios: Mapping[str, Scenario], series: Mapping[str, Sequence[ObservedData]]) -> None:
        self.scenarios, self.series = dict(scenarios), {k: list(v) for k, v in series.items()}

    def __call__(self, x: Mapping[str, Any], x0: Mapping[str, Any]) -> float:
        return distance(x, self.scenarios, self.series, x0)


def _sampler(settings: FitSettings) -> tuple[Any, list[Any]]:
    import pyabc

    if settings.scheduler or settings.dask:
        from distributed import Client, LocalCluster

        if settings.scheduler:
            client = Client(settings.scheduler)
            return pyabc.sampler.DaskDistributedSampler(dask_client=client), [client]
        cluster = LocalCluster(n_workers=settings.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        return pyabc.sampler.DaskDistributedSampler(dask_client=client), [client, cluster]
    # check_max_eval: a population ends after population / min_acceptance simulations however few were accepted
    # (and the fit with it, keeping the populations before). Without it (pyabc's default) a population whose
    # acceptance collapses runs on, and the time budget, checked between populations, cannot stop it.
    # pyabc's dask sampler has no such bound.
    if settings.workers > 1:
        return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=settings.workers, check_max_eval=True), []
    return pyabc.sampler.SingleCoreSampler(check_max_eval=True), []


def _file_record(path: Path) -> dict[str, str]:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def fit(configs: Sequence[str | Path], out: Path, settings: FitSettings, leave_out: str | None = None,
        report: Any = None, command: Sequence[str] | None = None) -> Posterior:
    """Fit the episodes in ``configs`` jointly (less ``leave_out``), comparing ``settings.models``; write the
    posterior, its manifest and pyabc's database (``abc.db``) into ``out``; return the posterior. ``command``:
    the command line to record in the manifest (default: this process's).

    Everything is checked before any run (ConfigError): the configs, the priors at both ends, the variants.
    """
    import pyabc

    tell = report or (lambda message: None)
    unknown = [m for m in settings.models if m not in VARIANTS]
    if unknown:
        raise ConfigError(f"--models {unknown[0]}: no such model variant; expected some of {', '.join(VARIANTS)}")
    fixed = {"population.n": settings.n, "experiment.engine": "array"}
    problems = [Problem(configs, VARIANTS[m], fixed) for m in settings.models]
    problems_all = problems
    if leave_out is not None:
        names = [ep.name for ep in problems[0].episodes]
        if leave_out not in names:
            raise ConfigError(f"--leave-out {leave_out}: not one of the episodes given ({', '.join(names)})")
        kept = [ep.path for ep in problems[0].episodes if ep.name != leave_out]
        if not kept:
            raise ConfigError(f"--leave-out {leave_out}: no episode left to fit")
        problems = [Problem(kept, VARIANTS[m], fixed) for m in settings.models]
    base = problems[0]
    scenarios = {ep.name: ep.base for ep in base.episodes}
    series = {ep.name: fitted_series(ep.base) for ep in base.episodes}
    observed = {}
    for name, data in series.items():
        observed |= observed_statistics(data, prefix=f"{name}:")
    models, priors, names_of = [], [], []
    for problem in problems:
        names = {f"p{i}": p.column for i, p in enumerate(problem.parameters)}
        names_of.append(names)
        models.append(EpisodeModel(problem, settings.seeds, names))
        priors.append(pyabc.Distribution(**{safe: pyabc.RV("uniform", p.prior.low, p.prior.high - p.prior.low)
                                             for safe, p in zip(names, problem.parameters, strict=True)}))
    sampler, resources = _sampler(settings)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "abc.db"
    db.unlink(missing_ok=True)
    np.random.seed(settings.rng_seed % 2**32)
    start = time.perf_counter()
    try:
        transitions = [pyabc.MultivariateNormalTransition(scaling=settings.kernel_scaling) for _ in models]
        abc = pyabc.ABCSMC(models, priors, JointDistance(scenarios, series), population_size=settings.population,
                           sampler=sampler, transitions=transitions)
        abc.new(f"sqlite:///{db}", observed)
        walltime = (datetime.timedelta(minutes=settings.walltime_minutes) if settings.walltime_minutes else None)
        history = abc.run(minimum_epsilon=0.0, max_nr_populations=settings.generations,
                          min_acceptance_rate=settings.min_acceptance, max_walltime=walltime)
    finally:
        for r in resources:
            r.close()
    seconds = time.perf_counter() - start
    t = history.max_t
    if t < 0:
        raise ResultsError(f"{out}: the fit's first population accepted fewer than {settings.population} particles "
                           f"within {settings.population / settings.min_acceptance:.0f} simulations (an acceptance "
                           f"below {settings.min_acceptance}); pyabc's history is in {db}")
    probabilities = history.get_model_probabilities()
    final = probabilities.loc[t]
    parts = []
    for m in range(len(problems)):
        p_m = float(final.get(m, 0.0))
        if p_m <= 0:
            continue
        df, w = history.get_distribution(m=m, t=t)
        frame = df.rename(columns=names_of[m]).reset_index(drop=True)
        frame["model"] = settings.models[m]
        frame["weight"] = np.asarray(w, dtype=float) * p_m
        parts.append(frame)
    particles = pd.concat(parts, ignore_index=True)
    columns = list(dict.fromkeys(c for problem in problems for c in (p.column for p in problem.parameters)))
    particles = particles[[*columns, "model", "weight"]]
    particles["weight"] /= particles["weight"].sum()
    populations = history.get_all_populations()
    generations = []
    for _, row in populations.iterrows():
        if int(row["t"]) < 0:
            continue
        gt = int(row["t"])
        w = history.get_weighted_distances(t=gt)["w"].to_numpy()
        ess = float(1.0 / np.sum((w / w.sum()) ** 2))
        generations.append({"t": gt, "epsilon": float(row["epsilon"]), "samples": int(row["samples"]),
                            "particles": int(row["particles"]), "ess": ess,
                            "model_probabilities": {settings.models[m]: float(p)
                                                    for m, p in probabilities.loc[gt].items()}})
    records = []
    for column in columns:
        p = next(q for problem in problems for q in problem.parameters if q.column == column)
        records.append({"column": column, "key": p.prior.key, "episode": p.episode, "low": p.prior.low,
                        "high": p.prior.high, "scales": list(p.prior.scales), "reason": p.prior.reason,
                        "models": [settings.models[m] for m, problem in enumerate(problems)
                                   if column in {q.column for q in problem.parameters}]})
    import importlib.metadata as md

    manifest = {
        "command": list(command) if command is not None else (
            ["sim", *sys.argv[1:]] if sys.argv and sys.argv[0].endswith("sim") else sys.argv),
        "configs": [_file_record(ep.path) | {"episode": ep.name} for ep in base.episodes],
        "left_out": leave_out,
        "left_out_config": (str(next(ep.path for ep in problems_all[0].episodes if ep.name == leave_out))
                            if leave_out else None),
        "models": {m: VARIANTS[m].text for m in settings.models},
        "model_fixed": {m: VARIANTS[m].fixed for m in settings.models},
        "settings": {k: getattr(settings, k) for k in ("n", "seeds", "population", "generations", "min_acceptance",
                                                        "rng_seed", "workers", "dask", "scheduler", "kernel_scaling")},
        "sampler": type(sampler).__name__,
        "generations": generations,
        "model_probabilities": {settings.models[m]: float(p) for m, p in final.items()},
        "data_points": {ep.name: base.data_points(ep.name) for ep in base.episodes},
        "fitted": {settings.models[m]: {ep.name: len(problem.of(ep.name)) for ep in problem.episodes}
                   for m, problem in enumerate(problems)},
        "seconds": seconds,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": {name: md.version(name) for name in ("pyabc", "numpy", "numba", "mesa")},
    }
    posterior = Posterior(particles, records, manifest)
    posterior.save(out)
    tell(f"posterior: {out / 'posterior.parquet'} ({len(particles)} particles, {len(generations)} populations, "
         f"{seconds / 60:.1f} min)")
    return posterior
