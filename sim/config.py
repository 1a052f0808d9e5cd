"""Scenario configuration: TOML files into frozen, validated dataclasses.

A scenario file has the sections ``[experiment]``, ``[population]``, ``[network]``, ``[platforms.<name>]``,
``[behaviour]`` and ``[[events]]`` (see docs/CONFIG.md, generated from the field metadata below by
:func:`config_reference`). ``extends = "base.toml"`` reuses another file; overrides are applied by dotted key
(``{"behaviour.b_priv": 2.0}``, ``{"events.apology.day": 17}``). Every error names the file, the key and what
was expected, and suggests the closest valid key. Input is parsed with :mod:`tomllib` only: no eval, no pickle.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "EVENT_KINDS",
    "Behaviour",
    "ConfigError",
    "Distribution",
    "EventSpec",
    "ExperimentSettings",
    "Network",
    "PlatformSpec",
    "Population",
    "Scenario",
    "Segment",
    "apply_overrides",
    "build_scenario",
    "config_reference",
    "load_config",
    "read_toml",
]


class ConfigError(ValueError):
    """A configuration problem, with the file and key it concerns in the message."""


def param(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
          choices: tuple[str, ...] | None = None, factory: Any = None) -> Any:
    """A dataclass field with its documentation and valid range (read by the validator and the docs)."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """A scalar trait distribution. ``beta`` uses a, b; ``normal`` mean, sd; ``uniform`` low, high; ``fixed``
    value. Draws are clipped to [low, high] (the trait's natural range)."""

    dist: str = param("beta", "distribution family", choices=("beta", "normal", "uniform", "fixed"))
    a: float = param(2.0, "beta shape a", lo=1e-9)
    b: float = param(2.0, "beta shape b", lo=1e-9)
    mean: float = param(0.5, "normal mean")
    sd: float = param(0.1, "normal standard deviation", lo=0.0)
    low: float = param(0.0, "lower bound (uniform support; clip for normal)")
    high: float = param(1.0, "upper bound (uniform support; clip for normal)")
    value: float = param(0.5, "the value of a `fixed` distribution")

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")

    @property
    def expected(self) -> float:
        """The distribution's mean before clipping (for documentation and quick checks)."""
        return {"beta": self.a / (self.a + self.b), "normal": self.mean,
                "uniform": (self.low + self.high) / 2, "fixed": self.value}[self.dist]


@dataclass(frozen=True)
class ExperimentSettings:
    """What to run: name, seed, length, engine."""

    name: str = param("scenario", "name of the experiment (used for the results folder)")
    description: str = param("", "what question the experiment answers")
    seed: int = param(0, "root seed; every run's seed is spawned from it", lo=0)
    replications: int = param(1, "runs per scenario (and sweep point), with spawned seeds", lo=1)
    steps: int = param(122, "days simulated after day 0", lo=1)
    engine: str = param("mesa", "simulation engine", choices=("mesa", "array"))
    start_date: str = param("", "calendar date of day 0 (ISO, e.g. 2014-09-01); empty for none")
    output: str = param("results", "folder under which results folders are written")
    snapshot_days: tuple[int, ...] = param((), "days on which to save each user's primary platform "
                                               "(network snapshots; small N only)", factory=tuple)


@dataclass(frozen=True)
class Segment:
    """The engaged segment (activists, journalists, lawmakers): more concerned, more attentive."""

    share: float = param(0.0, "fraction of users in the engaged segment", lo=0.0, hi=1.0)
    concern: Distribution = param(None, "privacy concern c of engaged users",
                                  factory=lambda: Distribution("beta", a=5.0, b=2.0))
    attention: Distribution = param(None, "attention a (chance to hear news directly) of engaged users",
                                    factory=lambda: Distribution("beta", a=5.0, b=2.0))


@dataclass(frozen=True)
class Population:
    """Users and their traits."""

    n: int = param(1000, "number of simulated users (agents)", lo=2)
    scale_to: int = param(0, "real users the run stands for (0: same as n); scales counts in summaries", lo=0)
    concern: Distribution = param(None, "privacy concern c in [0, 1] of ordinary users",
                                  factory=lambda: Distribution("beta", a=2.0, b=5.0))
    attention: Distribution = param(None, "attention a in [0, 1] of ordinary users",
                                    factory=lambda: Distribution("beta", a=2.0, b=3.0))
    inertia: Distribution = param(None, "switching cost kappa >= 0",
                                  factory=lambda: Distribution("normal", mean=0.4, sd=0.08, low=0.0, high=10.0))
    threshold: Distribution = param(None, "adoption threshold phi (rule `threshold` only)",
                                    factory=lambda: Distribution("uniform", low=0.0, high=0.5))
    taste_sd: float = param(0.06, "sd of the persistent personal taste e_k for each platform", lo=0.0)
    seed_adopters: int = param(0, "users placed on the first rival at day 0 besides initial_share", lo=0)
    engaged: Segment = param(None, "the engaged segment", factory=Segment)


#: Most platforms a scenario may have (neighbour counts pack fresh news plus one flag per platform in 16 bits).
MAX_PLATFORMS = 15

NETWORK_KINDS = ("powerlaw_cluster", "watts_strogatz", "barabasi_albert", "sbm", "erdos_renyi",
                 "complete", "chung_lu", "file")


@dataclass(frozen=True)
class Network:
    """The social graph."""

    kind: str = param("powerlaw_cluster", "graph generator, or `file`", choices=NETWORK_KINDS)
    mean_degree: float = param(10.0, "mean number of contacts (generators)", lo=0.0)
    rewire_prob: float = param(0.1, "Watts-Strogatz rewiring probability", lo=0.0, hi=1.0)
    triangle_prob: float = param(0.5, "Holme-Kim probability of closing a triangle", lo=0.0, hi=1.0)
    exponent: float = param(2.5, "chung_lu: power-law exponent gamma of the expected degrees", lo=2.01)
    engaged_inside: float = param(0.5, "sbm, chung_lu: fraction of an engaged user's ties inside the engaged "
                                       "community", lo=0.0, hi=1.0)
    file: str = param("", "graph file (edge list, .graphml, .gml) for kind = `file`, relative to the config")


@dataclass(frozen=True)
class PlatformSpec:
    """A messenger. Exactly one platform is the incumbent; a scenario has 2 to 15 platforms."""

    name: str = param("", "platform name (the table's key)")
    incumbent: bool = param(False, "the dominant messenger (exactly one)")
    domestic: bool = param(False, "within reach of domestic warrants")
    exposure: float = param(0.1, "how much of a user's talk the state can obtain from it", lo=0.0, hi=1.0)
    appeal: float = param(0.0, "features, language, habits (utility units)")
    initial_share: float = param(0.0, "fraction of users active on it at day 0", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class Behaviour:
    """Decision rule and its parameters (docs/MODEL.md, section Submodels)."""

    rule: str = param("ppm", "decision rule", choices=("ppm", "threshold", "bass"))
    b_net: float = param(1.0, "weight of the share of contacts on a platform in its use value V_k "
                              "(incumbent lock-in)", lo=0.0)
    b_pull: float = param(0.2, "weight of a rival's share of contacts in the switching index X_k", lo=0.0)
    b_appeal: float = param(1.0, "weight of a platform's appeal", lo=0.0)
    b_priv: float = param(1.0, "weight of perceived risk c*R_k in the use value V_k", lo=0.0)
    b_push: float = param(1.0, "weight of the risk relief c*(R_p - R_k) in X_k (held at 1 when fitting: "
                               "only ratios are identified)", lo=0.0)
    lam: float = param(0.15, "daily rate of acting on a wish to adopt (or return)", lo=0.0, hi=1.0)
    lam_drop: float = param(0.1, "daily rate of dropping a rival below the keep level", lo=0.0, hi=1.0)
    lam_exit: float = param(0.05, "daily rate of leaving the incumbent below exit_level", lo=0.0, hi=1.0)
    tau: float = param(0.02, "logistic temperature of decisions (0: deterministic steps)", lo=0.0)
    band: float = param(0.15, "hysteresis between adopting and dropping (>= 0)", lo=0.0)
    exit_level: float = param(0.45, "use value of the incumbent below which users leave it")
    habit: float = param(1.0, "bonus of the current primary when choosing the primary", lo=0.0)
    mu: float = param(0.5, "word of mouth: alarm gain per unit share of contacts with fresh news",
                      lo=0.0, hi=1.0)
    buzz_days: int = param(3, "days that directly heard news stays fresh for word of mouth", lo=1)
    delta: float = param(0.06, "daily forgetting rate of alarm toward its baseline", lo=0.0, hi=1.0)
    r_base: float = param(0.05, "baseline alarm per unit concern (alarm rests at r_base * c)", lo=0.0, hi=1.0)
    bass_p: float = param(0.01, "Bass innovation coefficient p (rule `bass`)", lo=0.0)
    bass_q: float = param(0.3, "Bass imitation coefficient q (rule `bass`)", lo=0.0)


EVENT_KINDS: dict[str, tuple[str, ...]] = {
    # kind -> the parameters that kind takes (besides day, kind, id, enabled, note)
    "announcement": ("reach", "intensity", "duration_days"),
    "revelation": ("reach", "intensity", "duration_days"),
    "retention_cut": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "encryption_promise": ("reach", "credibility", "duration_days"),
    "encryption_launch": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "apology_refusal": ("reach", "credibility", "duration_days", "exposure_factor", "exposure_to"),
    "clarification": ("reach", "credibility", "duration_days"),
    "localisation": ("platform", "appeal_gain"),
    "feature": ("platform", "appeal_gain"),
    "outage": ("duration_days", "severity"),
}


@dataclass(frozen=True)
class EventSpec:
    """A dated event. Which parameters apply depends on the kind (docs/CONFIG.md, Events)."""

    day: int = param(0, "day the event starts (day 0 is the initial state; events act from day 1)", lo=1)
    kind: str = param("announcement", "what happens", choices=tuple(EVENT_KINDS))
    id: str = param("", "unique name, used by overrides (`events.<id>.day`); default: the kind")
    enabled: bool = param(True, "false removes the event (counterfactuals)")
    note: str = param("", "free text: what happened, source")
    reach: float = param(1.0, "chance that a fully attentive user hears the news (times attention a_i)",
                         lo=0.0, hi=1.0)
    intensity: float = param(0.5, "alarming news: r <- r + intensity * (1 - r) for hearers", lo=0.0, hi=1.0)
    credibility: float = param(0.0, "calming news: r <- r * (1 - credibility) for hearers", lo=0.0, hi=1.0)
    duration_days: int = param(1, "days of news coverage over which hearers are spread (outage: days "
                                  "the incumbent is down)", lo=1)
    exposure_factor: float = param(1.0, "multiply the incumbent's exposure by this", lo=0.0)
    exposure_to: float = param(-1.0, "set the incumbent's exposure to this (-1: leave it)", lo=-1.0, hi=1.0)
    platform: str = param("", "the rival concerned (default: the first rival)")
    appeal_gain: float = param(0.0, "added to the rival's appeal")
    severity: float = param(1.0, "outage: push toward rivals while the incumbent is down (utility units)",
                            lo=0.0)


@dataclass(frozen=True)
class Scenario:
    """Everything one run needs. Build with :func:`load_config`."""

    experiment: ExperimentSettings
    population: Population
    network: Network
    platforms: tuple[PlatformSpec, ...]
    behaviour: Behaviour
    events: tuple[EventSpec, ...]
    source: str = ""
    base_dir: str = "."

    @property
    def platform_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.platforms)

    @property
    def incumbent(self) -> int:
        """Index of the incumbent in :attr:`platforms`."""
        return next(i for i, p in enumerate(self.platforms) if p.incumbent)

    @property
    def rivals(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.platforms) if not p.incumbent)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain TOML-able data (platforms keyed by name, events as a list)."""
        d = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
             if f.name not in ("platforms", "events", "source", "base_dir")}
        d["platforms"] = {p.name: {k: v for k, v in _plain(p).items() if k != "name"} for p in self.platforms}
        d["events"] = [_plain(e) for e in self.events]
        return d


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [_plain(x) for x in obj]
    return obj


SECTIONS: dict[str, type] = {"experiment": ExperimentSettings, "population": Population, "network": Network,
                             "behaviour": Behaviour}
TOP_KEYS = (*SECTIONS, "platforms", "events", "extends")


# ---------------------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------------------

def read_toml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a TOML file, resolving ``extends`` (relative to the file) into one merged dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    resolved = path.resolve()
    if resolved in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, resolved))
        raise ConfigError(f"circular 'extends' in {path}: {chain}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"key 'extends' in {path}: expected a file name (string), got {base!r}")
    parent = read_toml(path.parent / base, (*_seen, resolved))
    return _merge(parent, data)


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into a copy of ``base``: tables merge, everything else (arrays too) is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Apply dotted-key overrides to raw config data (returns a new dict).

    ``section.key = value`` sets a key (a table value merges); ``events.<id>.<key>`` changes one event;
    ``events.<new id> = {day = ..., kind = ...}`` adds one. ``where`` names the source in error messages.
    """
    out = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        parts = str(dotted).split(".")
        if parts[0] == "events" and len(parts) >= 2:
            _override_event(out, parts[1:], value, dotted, where)
            continue
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{dotted}' in {where}: '{'.'.join(parts[:i + 1])}' is not a table")
            node = child
        last = parts[-1]
        if isinstance(value, Mapping) and isinstance(node.get(last), dict):
            node[last] = _merge(node[last], value)
        else:
            node[last] = copy.deepcopy(value)
    return out


def _override_event(data: dict[str, Any], parts: list[str], value: Any, dotted: str, where: str) -> None:
    events = data.setdefault("events", [])
    ids = [_event_id(e, i, events) for i, e in enumerate(events)]
    eid = parts[0]
    if eid not in ids:
        if len(parts) == 1 and isinstance(value, Mapping):
            events.append({"id": eid, **value})
            return
        hint = _did_you_mean(eid, ids)
        raise ConfigError(f"override '{dotted}' in {where}: no event with id '{eid}'{hint} "
                          f"(events: {', '.join(ids) or 'none'}); to add one give a table with day and kind")
    target = events[ids.index(eid)]
    if len(parts) == 1:
        if not isinstance(value, Mapping):
            raise ConfigError(f"override '{dotted}' in {where}: expected a table of event keys")
        target.update(copy.deepcopy(dict(value)))
    elif len(parts) == 2:
        target[parts[1]] = copy.deepcopy(value)
    else:
        raise ConfigError(f"override '{dotted}' in {where}: expected events.<id> or events.<id>.<key>")


def _event_id(raw: Any, index: int, events: list[Any]) -> str:
    """An event's id: its ``id`` key, else its kind (suffixed with its position if the kind repeats)."""
    if isinstance(raw, Mapping) and raw.get("id"):
        return str(raw["id"])
    kind = raw.get("kind", "event") if isinstance(raw, Mapping) else "event"
    same = [e for e in events if isinstance(e, Mapping) and e.get("kind") == kind and not e.get("id")]
    return kind if len(same) == 1 else f"{kind}_{index}"


# ---------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------

def _did_you_mean(key: str, options: Any) -> str:
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def _type_name(tp: Any) -> str:
    if dataclasses.is_dataclass(tp):
        return "a table"
    if typing.get_origin(tp) is tuple:
        return f"an array of {_type_name(typing.get_args(tp)[0])}s"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, key: str, where: str) -> Any:
    """Check ``value`` against type ``tp``; return it in the field's type or raise ConfigError."""
    def bad() -> ConfigError:
        return ConfigError(f"key '{key}' in {where}: expected {_type_name(tp)}, got {value!r}")

    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise bad()
        return _build(tp, value, key, where)
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list | tuple):
            raise bad()
        inner = typing.get_args(tp)[0]
        return tuple(_coerce(v, inner, f"{key}[{i}]", where) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise bad()
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if math.isnan(value):
            raise bad()
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad()
        return value
    raise TypeError(f"unsupported field type {tp}")  # a schema bug, not a user error


def _check_range(value: Any, f: dataclasses.Field, key: str, where: str) -> None:
    lo, hi, choices = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"key '{key}' in {where}: expected one of {', '.join(map(repr, choices))}, "
                          f"got {value!r}{_did_you_mean(str(value), choices)}")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        rng = f"in [{lo}, {hi}]" if lo is not None and hi is not None else (
            f">= {lo}" if lo is not None else f"<= {hi}")
        raise ConfigError(f"key '{key}' in {where}: expected a value {rng}, got {value!r}")


def _build(cls: type, data: Mapping[str, Any], prefix: str, where: str,
           allowed: tuple[str, ...] | None = None) -> Any:
    """Build dataclass ``cls`` from ``data``, checking keys, types and ranges."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    valid = allowed if allowed is not None else tuple(fields)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        if key not in valid:
            hint = _did_you_mean(key, valid)
            if key in fields:
                raise ConfigError(f"key '{full}' in {where} does not apply here (valid keys: "
                                  f"{', '.join(valid)})")
            raise ConfigError(f"unknown key '{full}' in {where}{hint}")
        tp = hints[key]
        if isinstance(tp, types.UnionType):
            tp = next(t for t in typing.get_args(tp) if t is not type(None))
        kwargs[key] = _coerce(value, tp, full, where)
        _check_range(kwargs[key], fields[key], full, where)
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ConfigError(f"table '{prefix}' in {where}: {exc}") from None


def build_scenario(data: Mapping[str, Any], where: str, base_dir: str | Path = ".") -> Scenario:
    """Validate raw config data into a :class:`Scenario`. ``where`` names the source in errors."""
    for key in data:
        if key not in TOP_KEYS and key not in ("scenarios", "sweep"):
            raise ConfigError(f"unknown key '{key}' in {where}{_did_you_mean(key, TOP_KEYS)}")
    sections = {}
    for name, cls in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"key '{name}' in {where}: expected a table, got {raw!r}")
        sections[name] = _build(cls, raw, name, where)
    platforms = _build_platforms(data.get("platforms"), where)
    events = _build_events(data.get("events", []), platforms, where)
    scenario = Scenario(platforms=platforms, events=events, source=where, base_dir=str(base_dir), **sections)
    _check_consistency(scenario, where)
    return scenario


def _build_platforms(raw: Any, where: str) -> tuple[PlatformSpec, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"key 'platforms' in {where}: expected tables [platforms.<name>] "
                          f"(one incumbent and at least one rival)")
    out = []
    for name, body in raw.items():
        if not isinstance(body, Mapping):
            raise ConfigError(f"key 'platforms.{name}' in {where}: expected a table, got {body!r}")
        if "name" in body:
            raise ConfigError(f"key 'platforms.{name}.name' in {where}: the name is the table's key")
        out.append(_build(PlatformSpec, {**body, "name": name}, f"platforms.{name}", where))
    incumbents = [p.name for p in out if p.incumbent]
    if len(incumbents) != 1:
        raise ConfigError(f"key 'platforms' in {where}: expected exactly one platform with incumbent = true, "
                          f"found {len(incumbents)} ({', '.join(incumbents) or 'none'})")
    if len(out) < 2:
        raise ConfigError(f"key 'platforms' in {where}: expected at least one rival besides the incumbent")
    if len(out) > MAX_PLATFORMS:
        raise ConfigError(f"key 'platforms' in {where}: expected at most {MAX_PLATFORMS} platforms (the "
                          f"neighbour counts keep one flag per platform plus fresh news in 16 bits), found "
                          f"{len(out)}")
    return tuple(out)


def _build_events(raw: Any, platforms: tuple[PlatformSpec, ...], where: str) -> tuple[EventSpec, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"key 'events' in {where}: expected an array of tables [[events]], got {raw!r}")
    out: list[EventSpec] = []
    common = ("day", "kind", "id", "enabled", "note")
    rivals = [p.name for p in platforms if not p.incumbent]
    for i, body in enumerate(raw):
        if not isinstance(body, Mapping):
            raise ConfigError(f"key 'events[{i}]' in {where}: expected a table, got {body!r}")
        eid = _event_id(body, i, raw)
        prefix = f"events.{eid}"
        if "day" not in body or "kind" not in body:
            raise ConfigError(f"event '{eid}' in {where}: 'day' and 'kind' are required")
        kind = body["kind"]
        if kind not in EVENT_KINDS:
            raise ConfigError(f"key '{prefix}.kind' in {where}: expected one of "
                              f"{', '.join(map(repr, EVENT_KINDS))}, got {kind!r}"
                              f"{_did_you_mean(str(kind), EVENT_KINDS)}")
        spec = _build(EventSpec, {**body, "id": eid}, prefix, where, allowed=(*common, *EVENT_KINDS[kind]))
        if kind in ("localisation", "feature"):
            name = spec.platform or rivals[0]
            if name not in rivals:
                raise ConfigError(f"key '{prefix}.platform' in {where}: expected a rival "
                                  f"({', '.join(rivals)}), got {name!r}{_did_you_mean(name, rivals)}")
            spec = dataclasses.replace(spec, platform=name)
        out.append(spec)
    ids = [e.id for e in out]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise ConfigError(f"key 'events' in {where}: event ids must be unique, repeated: {', '.join(dupes)}")
    return tuple(sorted((e for e in out if e.enabled), key=lambda e: e.day))


def _check_consistency(s: Scenario, where: str) -> None:
    if s.network.kind == "file" and not s.network.file:
        raise ConfigError(f"key 'network.file' in {where}: required when network.kind = 'file'")
    if s.network.kind != "file" and s.network.file:
        raise ConfigError(f"key 'network.file' in {where}: only used with network.kind = 'file' "
                          f"(kind is {s.network.kind!r})")
    if s.population.seed_adopters > s.population.n:
        raise ConfigError(f"key 'population.seed_adopters' in {where}: expected at most population.n "
                          f"({s.population.n}), got {s.population.seed_adopters}")
    if s.experiment.start_date:
        try:
            datetime.date.fromisoformat(s.experiment.start_date)
        except ValueError:
            raise ConfigError(f"key 'experiment.start_date' in {where}: expected an ISO date like "
                              f"2014-09-01, got {s.experiment.start_date!r}") from None


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario from a TOML file, resolving ``extends`` and applying dotted-key ``overrides``.

    >>> s = load_config("experiments/korea_2014.toml", {"population.n": 2000})  # doctest: +SKIP
    """
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    if overrides:
        data = apply_overrides(data, overrides, f"overrides to {path}")
    return build_scenario(data, where, base_dir=path.parent)


# ---------------------------------------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------------------------------------

def _fmt_default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "(required)"
    if dataclasses.is_dataclass(value):
        return "; ".join(f"{k}={v}" for k, v in _plain(value).items() if k in _dist_keys(value))
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[]"
    return repr(value)


def _dist_keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, Distribution):
        return {"beta": ("dist", "a", "b"), "normal": ("dist", "mean", "sd", "low", "high"),
                "uniform": ("dist", "low", "high"), "fixed": ("dist", "value")}[value.dist]
    return tuple(f.name for f in dataclasses.fields(value) if not dataclasses.is_dataclass(getattr(value, f.name)))


def _fmt_range(f: dataclasses.Field) -> str:
    lo, hi, choices = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("choices")
    if choices:
        return " \\| ".join(f"`{c}`" for c in choices)
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    if lo is not None:
        return f">= {lo}"
    return ""


def _table(cls: type, prefix: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if cls is PlatformSpec and f.name == "name":
            continue
        tp = hints[f.name]
        tname = ("table" if dataclasses.is_dataclass(tp) else
                 "array of int" if typing.get_origin(tp) is tuple else tp.__name__)
        rows.append(f"| `{prefix}{f.name}` | {tname} | {_fmt_default(f)} | {_fmt_range(f)} | "
                    f"{f.metadata.get('doc', '')} |")
    return rows


def config_reference() -> str:
    """The key reference of docs/CONFIG.md, generated from the schema (a test keeps the two in sync)."""
    out: list[str] = []
    for name, cls in SECTIONS.items():
        out += [f"### `[{name}]`", "", (cls.__doc__ or "").strip(), "", *_table(cls, ""), ""]
    out += ["### Distributions (`population.concern`, `.attention`, `.inertia`, `.threshold`, "
            "`population.engaged.concern`, `.attention`)", "", (Distribution.__doc__ or "").strip(), "",
            *_table(Distribution, ""), ""]
    out += ["### `[population.engaged]`", "", (Segment.__doc__ or "").strip(), "", *_table(Segment, ""), ""]
    out += ["### `[platforms.<name>]`", "", (PlatformSpec.__doc__ or "").strip(), "",
            *_table(PlatformSpec, ""), ""]
    out += ["### `[[events]]`", "", (EventSpec.__doc__ or "").strip(), "", *_table(EventSpec, ""), "",
            "| kind | parameters |", "|---|---|"]
    out += [f"| `{k}` | {', '.join(f'`{p}`' for p in v)} |" for k, v in EVENT_KINDS.items()]
    return "\n".join(out) + "\n"
