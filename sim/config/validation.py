"""Validating raw config data into a :class:`~sim.config.schema.Scenario`: keys, types, ranges and the
constraints between keys. Every error names the source, the key, what was expected and what was found,
and suggests the closest valid key."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.config.schema import (
    EVENT_KINDS,
    IDENTIFIER,
    MAX_PLATFORMS,
    SECTIONS,
    TOP_KEYS,
    ConfigError,
    Distribution,
    EventSpec,
    PlatformSpec,
    Scenario,
)
from sim.graphfile import users_in

__all__ = ["build_scenario", "did_you_mean", "event_id"]


def event_id(raw: Any, index: int, events: list[Any]) -> str:
    """An event's id: its ``id`` key, else its kind (suffixed with its position if the kind repeats)."""
    if isinstance(raw, Mapping) and raw.get("id"):
        return str(raw["id"])
    kind = raw.get("kind", "event") if isinstance(raw, Mapping) else "event"
    same = [e for e in events if isinstance(e, Mapping) and e.get("kind") == kind and not e.get("id")]
    return kind if len(same) == 1 else f"{kind}_{index}"


def did_you_mean(key: str, options: Any) -> str:
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
        if not math.isfinite(value):
            raise ConfigError(f"key '{key}' in {where}: expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad()
        return value
    raise TypeError(f"unsupported field type {tp}")  # a schema bug, not a user error


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"in [{lo}, {hi}]"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def _check_range(value: Any, f: dataclasses.Field, key: str, where: str) -> None:
    lo, hi, choices = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"key '{key}' in {where}: expected one of {', '.join(map(repr, choices))}, "
                          f"got {value!r}{did_you_mean(str(value), choices)}")
    if isinstance(value, Distribution) and (lo is not None or hi is not None):
        _check_support(value, lo, hi, key, where)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        raise ConfigError(f"key '{key}' in {where}: expected a value {_range_text(lo, hi)}, got {value!r}")
    pattern = f.metadata.get("pattern")
    if pattern is not None and not re.fullmatch(pattern[0], value):
        raise ConfigError(f"key '{key}' in {where}: expected {pattern[1]}, got {value!r}")


def _check_support(d: Distribution, lo: float | None, hi: float | None, key: str, where: str) -> None:
    """A trait's distribution must draw only values in the trait's documented range (draws are clipped to
    the distribution's own [low, high], which must therefore lie in that range)."""
    if d.dist == "fixed" and not d.low <= d.value <= d.high:
        raise ConfigError(f"key '{key}.value' in {where}: expected a value in [low, high] = [{d.low}, {d.high}] "
                          f"(it would be clipped), got {d.value!r}")
    low, high = {"beta": (max(d.low, 0.0), min(d.high, 1.0)), "fixed": (d.value, d.value)}.get(
        d.dist, (d.low, d.high))
    if (lo is not None and low < lo) or (hi is not None and high > hi):
        raise ConfigError(f"key '{key}' in {where}: a {d.dist} distribution drawing values in [{low}, {high}] "
                          f"leaves the trait's range ({_range_text(lo, hi)}); set low and high within it")


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
            hint = did_you_mean(key, valid)
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
        if key not in TOP_KEYS and key not in ("scenarios", "sweep", "explore"):
            raise ConfigError(f"unknown key '{key}' in {where}{did_you_mean(key, TOP_KEYS)}")
    sections = {}
    for name, cls in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"key '{name}' in {where}: expected a table, got {raw!r}")
        sections[name] = _build(cls, raw, name, where)
    platforms = _build_platforms(data.get("platforms"), where)
    events = _build_events(data.get("events", []), platforms, where)
    scenario = Scenario(platforms=platforms, events=events, source=where, base_dir=str(base_dir), **sections)
    _check_consistency(scenario, data, where)
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
        eid = event_id(body, i, raw)
        prefix = f"events.{eid}"
        if "day" not in body or "kind" not in body:
            raise ConfigError(f"event '{eid}' in {where}: 'day' and 'kind' are required")
        kind = body["kind"]
        if not isinstance(kind, str) or kind not in EVENT_KINDS:
            raise ConfigError(f"key '{prefix}.kind' in {where}: expected one of "
                              f"{', '.join(map(repr, EVENT_KINDS))}, got {kind!r}"
                              f"{did_you_mean(str(kind), EVENT_KINDS)}")
        spec = _build(EventSpec, {**body, "id": eid}, prefix, where, allowed=(*common, *EVENT_KINDS[kind]))
        if kind in ("localisation", "feature", "promotion"):
            name = spec.platform or rivals[0]
            if name not in rivals:
                raise ConfigError(f"key '{prefix}.platform' in {where}: expected a rival "
                                  f"({', '.join(rivals)}), got {name!r}{did_you_mean(name, rivals)}")
            spec = dataclasses.replace(spec, platform=name)
        if kind == "quality_change":
            names = [p.name for p in platforms]
            if spec.platform not in names:
                raise ConfigError(f"key '{prefix}.platform' in {where}: expected one of the platforms "
                                  f"({', '.join(names)}), got {spec.platform!r}{did_you_mean(spec.platform, names)}")
            if "duration_days" in body and not spec.temporary:
                raise ConfigError(f"key '{prefix}.duration_days' in {where}: only a temporary quality_change lasts "
                                  "for some days; set temporary = true or leave duration_days out")
        out.append(spec)
    ids = [e.id for e in out]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise ConfigError(f"key 'events' in {where}: event ids must be unique, repeated: {', '.join(dupes)}")
    targets = [e.target for e in out if e.kind == "postponement"]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise ConfigError(f"key 'events' in {where}: an event can be postponed once; more than one postponement "
                          f"targets {', '.join(twice)}")
    for e in out:
        if e.kind == "postponement":
            _check_postponement(e, {x.id: x for x in out}, where)
    return tuple(sorted((e for e in out if e.enabled), key=lambda e: e.day))


def _check_postponement(e: EventSpec, events: Mapping[str, EventSpec], where: str) -> None:
    """A postponement names a later event (by id) and moves it to a day after its own (or cancels it)."""
    key = f"events.{e.id}"
    others = sorted(i for i in events if i != e.id)
    if e.target not in events or e.target == e.id:
        raise ConfigError(f"key '{key}.target' in {where}: expected the id of another event ({', '.join(others)}), "
                          f"got {e.target!r}{did_you_mean(e.target, others)}")
    target = events[e.target]
    if target.kind == "postponement":
        raise ConfigError(f"key '{key}.target' in {where}: expected an event that is not itself a postponement, "
                          f"got {e.target!r}")
    if target.day <= e.day:
        raise ConfigError(f"key '{key}.target' in {where}: event {e.target!r} starts on day {target.day}, not after "
                          f"the postponement (day {e.day}); only an event still to come can be moved")
    if 0 < e.to_day <= e.day:
        raise ConfigError(f"key '{key}.to_day' in {where}: expected a day after the postponement (day {e.day}) or "
                          f"0 to cancel, got {e.to_day}")


def _check_priors(s: Scenario, where: str) -> None:
    """The priors' form (their values are checked against the config when a fit starts: sim.fit)."""
    keys = [p.key for p in s.calibration.priors]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"key 'calibration.priors' in {where}: each key is fitted once, repeated: "
                          f"{', '.join(repeated)}")
    for p in s.calibration.priors:
        key = f"calibration.priors.{p.key}"
        if not (math.isfinite(p.low) and math.isfinite(p.high)) or p.low >= p.high:
            raise ConfigError(f"key '{key}' in {where}: expected finite low < high, got [{p.low}, {p.high}]")
        if p.scales:
            if not re.fullmatch(IDENTIFIER[0], p.key):
                raise ConfigError(f"key '{key}' in {where}: a factor (with scales) is named by an identifier, "
                                  f"got {p.key!r}")
            bad = [k for k in p.scales if "." not in k]
            if bad:
                raise ConfigError(f"key '{key}.scales' in {where}: expected dotted config keys, got {bad[0]!r}")
            if not (math.isfinite(p.point) and p.point > 0):
                raise ConfigError(f"key '{key}.point' in {where}: expected a finite number above 0, got {p.point}")
        elif p.point != 1.0:
            raise ConfigError(f"key '{key}.point' in {where}: only a factor (with scales) has a point value; "
                              f"remove it, or list the keys it scales")
        elif "." not in p.key:
            raise ConfigError(f"key '{key}' in {where}: expected a dotted config key (e.g. behaviour.mu), or "
                              "scales for a factor")


def _check_consistency(s: Scenario, given: Mapping[str, Any], where: str) -> None:
    """Constraints between keys (``given``: the raw data, to tell keys set from defaults)."""
    if s.network.kind == "file" and not s.network.file:
        raise ConfigError(f"key 'network.file' in {where}: required when network.kind = 'file'")
    if s.network.kind != "file" and s.network.file:
        raise ConfigError(f"key 'network.file' in {where}: only used with network.kind = 'file' "
                          f"(kind is {s.network.kind!r})")
    network = given.get("network", {})
    _check_network(s, network if isinstance(network, Mapping) else {}, where)
    _check_priors(s, where)
    if s.observed.series or s.observed.targets or s.observed.forecasts:
        from sim.episode import check  # reads the data files: only for configs that declare them

        check(s, where)
    if s.experiment.engine == "mesa" and s.network.kind == "complete" and s.population.n > MAX_MESA_COMPLETE:
        raise ConfigError(f"key 'experiment.engine' in {where}: the Mesa engine draws complete graphs up to "
                          f"{MAX_MESA_COMPLETE:,} users (population.n is {s.population.n:,}); use engine = 'array' "
                          "(exact mean field)")
    if s.population.seed_adopters > s.population.n:
        raise ConfigError(f"key 'population.seed_adopters' in {where}: expected at most population.n "
                          f"({s.population.n}), got {s.population.seed_adopters}")
    late = [d for d in s.experiment.snapshot_days if not 0 <= d <= s.experiment.steps]
    if late:
        raise ConfigError(f"key 'experiment.snapshot_days' in {where}: expected days in [0, {s.experiment.steps}] "
                          f"(day 0 to experiment.steps = {s.experiment.steps}), got {late[0]}; remove it or "
                          "raise experiment.steps")
    if s.experiment.start_date:
        try:
            datetime.date.fromisoformat(s.experiment.start_date)
        except ValueError:
            raise ConfigError(f"key 'experiment.start_date' in {where}: expected an ISO date like "
                              f"2014-09-01, got {s.experiment.start_date!r}") from None


#: Largest complete graph the Mesa engine builds (it lists every contact of every agent).
MAX_MESA_COMPLETE = 2000
GROWTH_KINDS = ("watts_strogatz", "barabasi_albert", "powerlaw_cluster")


def _check_network(s: Scenario, given: Mapping[str, Any], where: str) -> None:
    """The network must be the one asked for: no mean degree quietly capped or rounded, no block quietly
    given more or fewer ties than asked."""
    net, n, kind, d = s.network, s.population.n, s.network.kind, s.network.mean_degree
    key = f"key 'network.mean_degree' in {where}"
    if kind in GROWTH_KINDS:
        if d < 2 or d != int(d) or int(d) % 2:
            raise ConfigError(f"{key}: expected an even whole number >= 2 for kind '{kind}' (each user adds "
                              f"mean_degree / 2 links), got {d:g}")
        if d > n - 1:
            raise ConfigError(f"{key}: expected at most N - 1 = {n - 1} for kind '{kind}' (population.n is "
                              f"{n}), got {d:g}")
    elif kind in ("erdos_renyi", "sbm", "chung_lu") and d > n - 1:
        raise ConfigError(f"{key}: expected at most N - 1 = {n - 1} for kind '{kind}' (population.n is {n}), "
                          f"got {d:g}")
    elif kind in ("complete", "file") and "mean_degree" in given:
        why = "every user has the n - 1 others as contacts" if kind == "complete" else "the file gives the contacts"
        raise ConfigError(f"{key}: does not apply to kind '{kind}' ({why}); remove it")
    m = round(s.population.engaged.share * n)
    if kind == "sbm" or (kind == "chung_lu" and 0 < m < n):  # chung_lu may have no community, or only one
        _check_blocks(net, n, m, where)
    if kind == "file":
        path = Path(s.base_dir) / net.file
        users = users_in(path, f"key 'network.file' in {where}")
        if users != n:
            raise ConfigError(f"key 'population.n' in {where}: the graph file {path} has {users} users, "
                              f"population.n is {n}; set population.n = {users}")


def _check_blocks(net: Any, n: int, m: int, where: str) -> None:
    """The engaged community (m users) and the rest must each hold the ties the kind gives them."""
    if m < 2 or n - m < 2:
        raise ConfigError(f"key 'population.engaged.share' in {where}: network kind '{net.kind}' needs at least "
                          f"2 users in the engaged community and 2 outside it (engaged: {m}, rest: {n - m})")
    d, inside = net.mean_degree, net.engaged_inside
    if d * inside > m - 1:
        raise ConfigError(f"key 'network.engaged_inside' in {where}: an engaged user would need {d * inside:g} "
                          f"contacts inside the engaged community, which has {m - 1} other users; raise "
                          "population.engaged.share or lower network.engaged_inside or network.mean_degree")
    if m * (1 - inside) > n - m:
        raise ConfigError(f"key 'network.engaged_inside' in {where}: the engaged community's {m} users would "
                          f"have {m * d * (1 - inside):g} ties outside it, more than the other {n - m} users' "
                          f"{(n - m) * d:g}; raise network.engaged_inside or lower population.engaged.share")
