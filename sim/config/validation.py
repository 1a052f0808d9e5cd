"""Validating raw config data into a :class:`~sim.config.schema.Scenario`: keys, types, ranges and the
constraints between keys. Every error names the source, the key, what was expected and what was found,
and suggests the closest valid key."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.config.schema import (
    EVENT_KINDS,
    MAX_PLATFORMS,
    SECTIONS,
    TOP_KEYS,
    ConfigError,
    EventSpec,
    PlatformSpec,
    Scenario,
)

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
                          f"got {value!r}{did_you_mean(str(value), choices)}")
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
        if key not in TOP_KEYS and key not in ("scenarios", "sweep"):
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
        eid = event_id(body, i, raw)
        prefix = f"events.{eid}"
        if "day" not in body or "kind" not in body:
            raise ConfigError(f"event '{eid}' in {where}: 'day' and 'kind' are required")
        kind = body["kind"]
        if kind not in EVENT_KINDS:
            raise ConfigError(f"key '{prefix}.kind' in {where}: expected one of "
                              f"{', '.join(map(repr, EVENT_KINDS))}, got {kind!r}"
                              f"{did_you_mean(str(kind), EVENT_KINDS)}")
        spec = _build(EventSpec, {**body, "id": eid}, prefix, where, allowed=(*common, *EVENT_KINDS[kind]))
        if kind in ("localisation", "feature"):
            name = spec.platform or rivals[0]
            if name not in rivals:
                raise ConfigError(f"key '{prefix}.platform' in {where}: expected a rival "
                                  f"({', '.join(rivals)}), got {name!r}{did_you_mean(name, rivals)}")
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
