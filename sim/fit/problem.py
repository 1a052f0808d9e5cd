"""What a joint fit fits: the episodes, their parameters and the model variants compared.

Each episode config declares its priors (``[[calibration.priors]]``). A ``shared`` prior is one parameter for
every episode of the fit (the behaviour is the same people's); the others are the episode's own (its news
scale, say) and are named ``<episode>:<key>`` in the posterior. A prior with ``scales`` is a factor that
multiplies the configured values of the listed keys, so one number moves all of an episode's news together.

A model variant (:data:`VARIANTS`) is a mechanism switched on or off for every episode at once: the
configured model, the media alone (no word of mouth and no pull of contacts), word of mouth from the whole
population (mean field), and the two timescales of alarm. ABC model selection compares them.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config import ConfigError, Scenario, apply_overrides, build_scenario, read_toml
from sim.config.loading import read_toml_file
from sim.config.schema import Prior

__all__ = ["VARIANTS", "Episode", "FitParameter", "Problem", "Variant", "config_value", "episode_of",
           "factor_point", "prior_overrides", "scaled", "with_values"]


@dataclass(frozen=True)
class Variant:
    """A model variant: keys it fixes for every episode, priors it adds (shared), priors it drops."""

    name: str
    text: str
    fixed: dict[str, Any] = field(default_factory=dict)
    extra: tuple[Prior, ...] = ()

    def drops(self, key: str) -> bool:
        return key in self.fixed


#: The model variants a fit can compare (``sim calibrate --models``).
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("contacts", "the model as configured: word of mouth from a user's contacts"),
    Variant("media_only", "the media alone: no word of mouth and no pull of contacts (mu = b_pull = 0)",
            fixed={"behaviour.mu": 0.0, "behaviour.b_pull": 0.0}),
    Variant("population", "word of mouth from the whole population (mean field), not from contacts",
            fixed={"behaviour.word_of_mouth": "population"}),
    Variant("salience", "two timescales: news splits between slow alarm and fast salience",
            extra=(Prior("behaviour.salience", 0.0, 0.95, shared=True,
                         reason="share of news going to the fast salience: none to nearly all"),
                   Prior("behaviour.salience_decay", 0.05, 0.7, shared=True,
                         reason="salience half-life from 1 to 14 days"))),
)}


@dataclass(frozen=True)
class FitParameter:
    """A fitted parameter: its posterior column, its prior, and its episode (None: shared by all)."""

    column: str
    prior: Prior
    episode: str | None


@dataclass(frozen=True)
class Episode:
    """An episode of the fit: its name, config path, raw data (fit settings applied) and base scenario."""

    name: str
    path: Path
    raw: dict[str, Any]
    base: Scenario


def config_value(scenario: Scenario, key: str) -> Any:
    """The configured value of a dotted key (``events.<id>.<field>`` for an event's)."""
    data = scenario.to_dict()
    parts = key.split(".")
    if parts[0] == "events" and len(parts) == 3:
        event = next((e for e in data["events"] if e["id"] == parts[1]), None)
        if event is None or parts[2] not in event:
            raise KeyError(key)
        return event[parts[2]]
    node: Any = data
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def scaled(configured: float, factor: float, point: float) -> float:
    """A configured value under a factor: ``configured * factor / point``, to 12 significant digits. The
    configured value holds the factor's ``point`` already (written in decimal, both rounded), so at the factor's
    ends the product may differ from the decimal one in the last binary place: 0.542 x 2 / 1.08 is not 1.0
    exactly. Twelve digits keep every digit a config can mean and drop that noise, so a range check at an end
    of the factor's prior sees the value its decimals give."""
    return float(f"{configured * factor / point:.12g}")


def factor_point(scenario: Scenario, name: str) -> float:
    """The value of factor ``name`` already in the scenario's configured values: its prior's ``point``, or 1
    if the scenario declares no prior of that name."""
    return next((p.point for p in scenario.calibration.priors if p.key == name and p.scales), 1.0)


def prior_overrides(base: Scenario, priors: Sequence[Prior], values: Sequence[float]) -> dict[str, Any]:
    """Dotted-key overrides for ``values`` of ``priors``: a key's value, or for a factor the configured value
    of each key it scales times factor / point (the configured values include the factor's point value)."""
    out: dict[str, Any] = {}
    for prior, v in zip(priors, values, strict=True):
        if prior.scales:
            out |= {k: scaled(config_value(base, k), v, prior.point) for k in prior.scales}
        else:
            out[prior.key] = v
    return out


def with_values(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario with dotted keys replaced (sections' fields, ``population.<trait>.<field>``,
    ``platforms.<name>.<field>``, ``events.<id>.<field>``), without validating again: for values already
    checked (each prior's range is checked at both ends when a :class:`Problem` is built)."""
    out = scenario
    for key, value in overrides.items():
        parts = key.split(".")
        if parts[0] == "events":
            events = tuple(dataclasses.replace(e, **{parts[2]: value}) if e.id == parts[1] else e
                           for e in out.events)
            out = dataclasses.replace(out, events=events)
        elif parts[0] == "platforms":
            platforms = tuple(dataclasses.replace(p, **{parts[2]: value}) if p.name == parts[1] else p
                              for p in out.platforms)
            out = dataclasses.replace(out, platforms=platforms)
        else:
            out = dataclasses.replace(out, **{parts[0]: _replaced(getattr(out, parts[0]), parts[1:], value)})
    return out


def _replaced(node: Any, path: list[str], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(node, **{path[0]: value})
    return dataclasses.replace(node, **{path[0]: _replaced(getattr(node, path[0]), path[1:], value)})


def episode_of(path: str | Path) -> str | None:
    """The episode a config belongs to: the ``experiment.name`` of the first file along its ``extends`` chain
    (itself first) whose own text declares ``[observed]`` targets; None if there is none."""
    path = Path(path)
    seen: set[Path] = set()
    while path.resolve() not in seen:
        seen.add(path.resolve())
        raw = read_toml_file(path)
        observed, experiment = raw.get("observed"), raw.get("experiment", {})
        if isinstance(observed, dict) and observed.get("targets") and isinstance(experiment, dict):
            name = experiment.get("name")
            if isinstance(name, str):
                return name
        parent = raw.get("extends")
        if not isinstance(parent, str):
            return None
        path = path.parent / parent
    return None


class Problem:
    """The episodes of one fit with one model variant, and how a parameter set becomes each episode's run.

    ``settings`` are dotted-key overrides applied to every episode first (users per run, engine). Everything
    is checked here, before any run: shared priors agree across episodes, every key exists, and a run at
    both ends of every prior builds (ConfigError otherwise).
    """

    def __init__(self, configs: Sequence[str | Path], variant: Variant, settings: Mapping[str, Any]) -> None:
        self.variant = variant
        self.episodes: list[Episode] = []
        for config in configs:
            path = Path(config)
            raw = apply_overrides(read_toml(path), {**settings, **variant.fixed}, f"{path} (calibration)")
            base = build_scenario(raw, f"{path} (calibration)", base_dir=path.parent)
            if any(e.name == base.experiment.name for e in self.episodes):
                raise ConfigError(f"{path}: episode {base.experiment.name!r} is given twice")
            self.episodes.append(Episode(base.experiment.name, path, raw, base))
        self.parameters = self._parameters()
        self._check()

    def _parameters(self) -> list[FitParameter]:
        shared: dict[str, tuple[Prior, str]] = {}
        own: list[FitParameter] = []
        for ep in self.episodes:
            for prior in ep.base.calibration.priors:
                if self.variant.drops(prior.key):
                    continue
                if prior.shared:
                    if prior.key in shared and _form(shared[prior.key][0]) != _form(prior):
                        first = shared[prior.key][1]
                        raise ConfigError(f"key 'calibration.priors.{prior.key}' in {ep.path}: a shared prior must be "
                                          f"the same in every episode; {first} gives {_form(shared[prior.key][0])}, "
                                          f"this one {_form(prior)}")
                    shared.setdefault(prior.key, (prior, ep.name))
                else:
                    own.append(FitParameter(f"{ep.name}:{prior.key}", prior, ep.name))
        clash = sorted({p.prior.key for p in own} & shared.keys())
        if clash:
            raise ConfigError(f"calibration: {clash[0]} is shared in one episode and its own in another; "
                              "declare it alike in every episode")
        for prior in self.variant.extra:
            shared.setdefault(prior.key, (prior, "the variant"))
        return [FitParameter(key, prior, None) for key, (prior, _) in shared.items()] + own

    def _check(self) -> None:
        if not self.parameters:
            raise ConfigError("calibration: no parameters to fit; declare [[calibration.priors]] in the episodes")
        for ep in self.episodes:
            mine = self.of(ep.name)
            for p in mine:
                for key in p.prior.scales or (p.prior.key,):
                    try:
                        value = config_value(ep.base, key)
                    except KeyError:
                        raise ConfigError(f"key 'calibration.priors.{p.prior.key}' in {ep.path}: {key} is not a key "
                                          "of this config") from None
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        raise ConfigError(f"key 'calibration.priors.{p.prior.key}' in {ep.path}: {key} is "
                                          f"{value!r}, not a number to fit")
            for end in ("low", "high"):
                values = {p.column: getattr(p.prior, end) for p in mine}
                self.scenario(ep.name, values, where=f"{ep.path} with every prior at its {end} end")

    def of(self, episode: str) -> list[FitParameter]:
        """The parameters that act on ``episode``: the shared ones and its own."""
        return [p for p in self.parameters if p.episode in (None, episode)]

    def overrides(self, episode: str, values: Mapping[str, float]) -> dict[str, Any]:
        """Dotted-key overrides of ``episode`` for a parameter set (posterior columns -> values)."""
        ep = self.episode(episode)
        mine = self.of(episode)
        return prior_overrides(ep.base, [p.prior for p in mine], [float(values[p.column]) for p in mine])

    def scenario(self, episode: str, values: Mapping[str, float], where: str | None = None) -> Scenario:
        """The episode's scenario for a parameter set, validated in full (ConfigError naming ``where``)."""
        ep = self.episode(episode)
        label = where or f"{ep.path} (calibration)"
        data = apply_overrides(copy.deepcopy(ep.raw), self.overrides(episode, values), label)
        return build_scenario(data, label, base_dir=ep.path.parent)

    def fast_scenario(self, episode: str, values: Mapping[str, float]) -> Scenario:
        """The same scenario as :meth:`scenario`, built by replacing the fitted keys in the base scenario
        (the values lie within priors whose ends were validated)."""
        return with_values(self.episode(episode).base, self.overrides(episode, values))

    def episode(self, name: str) -> Episode:
        return next(e for e in self.episodes if e.name == name)

    def data_points(self, episode: str) -> int:
        """What the episode's data give the fit: its targets and the points of its fitted series."""
        from sim.episode import load_series

        ep = self.episode(episode)
        points = sum(len(load_series(ep.base, s).days) for s in ep.base.observed.series if s.fit)
        return points + len(ep.base.observed.targets)


def _form(prior: Prior) -> tuple[float, float, tuple[str, ...]]:
    return (prior.low, prior.high, prior.scales)

