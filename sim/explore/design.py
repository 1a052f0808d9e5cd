"""An exploration's design: its scenarios (samples of the uncertainties, or posterior draws), its policies
(the reference and samples of the levers), and the experiment that runs every scenario under every policy.

The experiment is the config's own, with a sweep of given points (:class:`sim.experiment.Sweep`, method
``explore``): point ``j = i M + k`` is scenario ``i`` under policy ``k`` (M policies), and its seed is scenario
``i``'s, so the policies of one scenario share their random numbers (common random numbers) and differ by
their choices alone. The points run, resume and are stored like any experiment's (``sim run``'s results
folder).

A posterior's draw applies to the config as in ``sim predict`` (:meth:`sim.fit.posterior.Posterior.overrides`);
the analysis sees it by the posterior's columns (a factor as its own value, not as the keys it scales), each at
the value the run uses, and, if the posterior holds several model variants, the draw's ``variant``.

Seeds: everything comes from the config's ``experiment.seed``. The scenarios' Latin hypercube, the policies'
Latin hypercube, the posterior draws and the analysis each draw from their own child
``SeedSequence(seed, spawn_key=(STREAM, n))``, n = 1, 2, 3, 4; the runs use the experiment layer's seeds (the
i-th child of ``SeedSequence(seed)`` for scenario i).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError, Scenario
from sim.errors import ResultsError
from sim.experiment import Experiment, Sweep, load_experiment
from sim.explore.config import NEVER, Dimension, ExploreSpec, parse_explore, posterior_path, with_size
from sim.explore.files import METHOD
from sim.fit.problem import config_value, factor_point, scaled
from sim.sampling import latin_hypercube

__all__ = ["STREAM", "Design", "load_exploration", "seed_of"]

#: First spawn key of the exploration's own random streams (module docstring).
STREAM = 0xE4
#: The streams: scenarios' sample, policies' sample, posterior draws, analysis (extra trees).
_SCENARIOS, _POLICIES, _POSTERIOR, ANALYSIS = 1, 2, 3, 4
#: The input column of a posterior draw's model variant (when the posterior holds more than one).
VARIANT = "variant"
_EVENT = re.compile(r"events\.([^.]+)\.(day|enabled)")


def seed_of(root: int, stream: int) -> np.random.SeedSequence:
    """The exploration's random stream ``stream`` of root seed ``root``."""
    return np.random.SeedSequence(root, spawn_key=(STREAM, stream))


@dataclass(frozen=True)
class Design:
    """Scenarios x policies: each scenario's and each policy's input values (the analysis' X: a day lever's
    "never" coded as ``spec.never_day``) and config overrides; ``notes`` say what a posterior's draws do not
    apply."""

    spec: ExploreSpec
    scenarios: pd.DataFrame
    policies: pd.DataFrame
    scenario_overrides: tuple[dict[str, Any], ...]
    policy_overrides: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()

    @property
    def inputs(self) -> list[str]:
        """The input columns: the scenarios' (uncertainties, posterior keys), then the policies' (levers)."""
        return [*self.scenarios.columns, *self.policies.columns]

    def points(self) -> pd.DataFrame:
        """One row per point j (scenario-major): ``point``, ``scenario`` (its number), ``policy`` (its name) and
        the inputs."""
        m = len(self.policies)
        j = np.arange(len(self.scenarios) * m)
        frame = pd.concat([self.scenarios.iloc[j // m].reset_index(drop=True),
                           self.policies.iloc[j % m].reset_index(drop=True)], axis=1)
        frame.insert(0, "policy", self.policies.index[j % m])
        frame.insert(0, "scenario", j // m)
        frame.insert(0, "point", j)
        return frame


def _scenario_values(spec: ExploreSpec, base: Scenario, n: int, seed: int
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per scenario, its inputs and overrides from the uncertainties' Latin hypercube."""
    if not spec.uncertainties:
        return [{} for _ in range(n)], [{} for _ in range(n)]
    points = latin_hypercube([d.parameter() for d in spec.uncertainties], n, seed_of(seed, _SCENARIOS))
    at = {d.name: factor_point(base, d.name) for d in spec.uncertainties if d.scales}
    overrides = []
    for point in points:
        out: dict[str, Any] = {}
        for d in spec.uncertainties:
            value = point[d.name]
            out |= ({k: scaled(config_value(base, k), value, at[d.name]) for k in d.scales} if d.scales
                    else {d.name: value})
        overrides.append(out)
    return points, overrides


def _posterior_values(spec: ExploreSpec, exp: Experiment, n: int
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], str]:
    """Per scenario, the analysis' inputs and the config overrides of one posterior draw; the notes of what
    the draws do not apply; the posterior file's SHA-256."""
    from sim.fit.posterior import Posterior
    from sim.fit.problem import episode_of

    path = posterior_path(spec, exp.path)
    try:
        posterior = Posterior.load(path)
    except ResultsError as exc:
        raise ConfigError(f"key 'explore.posterior' in {exp.path}: {exc}; or explore without it (remove the key and "
                          "declare [explore.uncertainties])") from None
    episode = episode_of(exp.path)
    variants = posterior.particles["model"].nunique() > 1
    inputs, draws, notes = [], [], {}
    for _, row in posterior.draws(n, seed_of(exp.base.experiment.seed, _POSTERIOR)).iterrows():
        applied, skipped = posterior.overrides(row, exp.base, episode)
        inputs.append(_draw_inputs(posterior.parameters, row, applied, exp.base, episode) |
                      ({VARIANT: str(row["model"])} if variants else {}))
        draws.append(applied)
        notes |= dict.fromkeys(skipped)
    keys = {k for d in draws for k in d} | {k for i in inputs for k in i}
    sampled = {k for d in spec.uncertainties for k in (d.name, *d.scales)}
    both = sorted(keys & (sampled | {d.name for d in spec.levers}))
    if both:
        raise ConfigError(f"key 'explore.posterior' in {exp.path}: the posterior draws '{both[0]}', which is also "
                          "an uncertainty or a lever; drop it from one of them")
    return inputs, draws, list(notes), posterior.manifest["posterior_sha256"]


def _draw_inputs(records: list[dict[str, Any]], row: pd.Series, applied: dict[str, Any], base: Scenario,
                 episode: str | None) -> dict[str, Any]:
    """One draw as the analysis sees it: each parameter that applies to this config by its posterior column (a
    factor by its own value, not the keys it scales), at the value the run uses: drawn, fixed by the draw's
    model variant, or, where the variant does not fit it, as configured (a factor: the value already in the
    configured values, :func:`sim.fit.problem.factor_point`)."""
    out: dict[str, Any] = {}
    for record in records:
        column, key = record["column"], record["key"]
        if record["episode"] not in (None, episode):
            continue
        if record.get("scales"):
            value = float(row[column])
            out[column] = factor_point(base, key) if np.isnan(value) else value
        elif key in applied:
            out[column] = applied[key]
        else:
            try:
                out[column] = config_value(base, key)
            except KeyError:
                continue  # the config has no such key: the draw's notes say so
    return out


def _configured(base: Scenario, lever: Dimension, spec: ExploreSpec) -> Any:
    """The config's own value of a lever (the reference policy's), coded as in the analysis."""
    try:
        return config_value(base, lever.name)
    except KeyError:
        match = _EVENT.fullmatch(lever.name)
        if match is None:
            raise ConfigError(f"key 'explore.reference' in {base.source}: the config has no value of lever "
                              f"'{lever.name}' to keep; set reference = false or give the key a value") from None
        return spec.never_day if match.group(2) == "day" else False  # a disabled event


def _policy_values(spec: ExploreSpec, base: Scenario, seed: int
                   ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The policies' lever values (index: their names) and overrides: the reference first, if kept, then the
    levers' Latin hypercube."""
    names, rows, overrides = [], [], []
    if spec.reference:
        names.append("reference")
        rows.append({d.name: _configured(base, d, spec) for d in spec.levers})
        overrides.append({})
    sampled = spec.policies - len(names)
    points = latin_hypercube([d.parameter() for d in spec.levers], sampled, seed_of(seed, _POLICIES)) if sampled else []
    width = len(str(sampled))
    for k, point in enumerate(points, start=1):
        names.append(f"p{k:0{width}d}")
        rows.append({key: spec.never_day if value == NEVER else value for key, value in point.items()})
        overrides.append({(f"events.{_EVENT.fullmatch(key).group(1)}.enabled" if value == NEVER else key):
                          (False if value == NEVER else value) for key, value in point.items()})
    frame = pd.DataFrame(rows, index=pd.Index(names, name="policy"), columns=[d.name for d in spec.levers])
    return frame, overrides


def load_exploration(config: str | Path, scenarios: int | None = None, policies: int | None = None
                     ) -> tuple[Experiment, Design]:
    """The exploration of ``config`` (its ``[explore]`` table; ``scenarios`` and ``policies`` override its
    sizes): the experiment to run and its design. ConfigError, before any run, for any problem."""
    exp = load_experiment(config)
    where = exp.path
    if len(exp.scenarios) > 1 or exp.sweep is not None:
        what = "[scenarios]" if len(exp.scenarios) > 1 else "[sweep]"
        raise ConfigError(f"{where}: it has {what}; an exploration's policies come from [explore.levers] and its "
                          f"scenarios from [explore.uncertainties]: remove {what}")
    data = {k: v for k, v in exp.raw.items() if k != "explore"}
    spec = parse_explore(exp.raw.get("explore"), where, data, exp.base)
    spec = with_size(spec, scenarios or spec.scenarios, policies or spec.policies, "--policies")
    seed = exp.base.experiment.seed
    inputs, scenario_overrides = _scenario_values(spec, exp.base, spec.scenarios, seed)
    notes: list[str] = []
    files = dict(exp.inputs)
    if spec.posterior:
        drawn_inputs, drawn, notes, digest = _posterior_values(spec, exp, spec.scenarios)
        inputs = [{**d, **i} for d, i in zip(drawn_inputs, inputs, strict=True)]
        scenario_overrides = [{**d, **o} for d, o in zip(drawn, scenario_overrides, strict=True)]
        files[str(posterior_path(spec, where))] = digest
    columns = list(dict.fromkeys(k for i in inputs for k in i))
    policy_frame, policy_overrides = _policy_values(spec, exp.base, seed)
    design = Design(spec, pd.DataFrame(inputs, columns=columns), policy_frame, tuple(scenario_overrides),
                    tuple(policy_overrides), tuple(notes))
    m = spec.policies
    draws = tuple({**s, **p} for s in scenario_overrides for p in policy_overrides)
    source = {"explore": spec.design(),
              "policy_levers": {str(name): {k: _plain(v) for k, v in row.items()}
                                for name, row in policy_frame.iterrows()}}
    sweep = Sweep(METHOD, {k: [] for k in dict.fromkeys(k for d in draws for k in d)}, draws=draws, source=source,
                  seed_groups=tuple(j // m for j in range(len(draws))))
    return dataclasses.replace(exp, sweep=sweep, inputs=files), design


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (for the manifest's JSON and config.toml)."""
    return value.item() if isinstance(value, np.generic) else value
