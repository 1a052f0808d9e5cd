"""The key reference of docs/CONFIG.md, generated from the schema's field metadata (a test keeps the two in
sync)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

from sim.config.schema import (
    EVENT_KINDS,
    SECTIONS,
    Distribution,
    EventSpec,
    Forecast,
    ObservedSeries,
    PlatformSpec,
    Prior,
    Segment,
    Target,
    plain,
)

__all__ = ["config_reference"]


def _fmt_default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "(required)"
    if dataclasses.is_dataclass(value):
        return "; ".join(f"{k}={v}" for k, v in plain(value).items() if k in _dist_keys(value))
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[]"
    if value is None:
        return "(none)"
    return repr(value)


def _dist_keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, Distribution):
        return {"beta": ("dist", "a", "b"), "normal": ("dist", "mean", "sd", "low", "high"),
                "uniform": ("dist", "low", "high"), "fixed": ("dist", "value")}[value.dist]
    return tuple(f.name for f in dataclasses.fields(value) if not dataclasses.is_dataclass(getattr(value, f.name)))


def _fmt_range(f: dataclasses.Field) -> str:
    lo, hi, choices = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("choices")
    pattern = f.metadata.get("pattern")
    if choices:
        return " \\| ".join(f"`{c}`" for c in choices)
    if pattern:
        return pattern[1]
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    if lo is not None:
        return f">= {lo}"
    if hi is not None:
        return f"<= {hi}"
    return ""


def _type_name(tp: Any) -> str:
    """How a field's type reads in the reference: table, array of ..., an optional number."""
    if dataclasses.is_dataclass(tp):
        return "table"
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple:
        return "array of tables" if dataclasses.is_dataclass(args[0]) else f"array of {args[0].__name__}"
    if args and type(None) in args:
        return f"{next(a for a in args if a is not type(None)).__name__} (optional)"
    return tp.__name__


def _table(cls: type, prefix: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if cls is PlatformSpec and f.name == "name":
            continue
        tp = hints[f.name]
        tname = _type_name(tp)
        rng = _fmt_range(f) or ("finite" if tp is float else "")
        rows.append(f"| `{prefix}{f.name}` | {tname} | {_fmt_default(f)} | {rng} | {f.metadata.get('doc', '')} |")
    return rows


def config_reference() -> str:
    """The key reference of docs/CONFIG.md, generated from the schema (a test keeps the two in sync)."""
    out: list[str] = []
    for name, cls in SECTIONS.items():
        out += [f"### `[{name}]`", "", inspect.cleandoc(cls.__doc__ or ""), "", *_table(cls, ""), ""]
    out += ["### Distributions (`population.concern`, `.attention`, `.inertia`, `.threshold`, "
            "`population.engaged.concern`, `.attention`)", "", inspect.cleandoc(Distribution.__doc__ or ""), "",
            *_table(Distribution, ""), ""]
    out += ["### `[population.engaged]`", "", inspect.cleandoc(Segment.__doc__ or ""), "", *_table(Segment, ""), ""]
    out += ["### `[platforms.<name>]`", "", inspect.cleandoc(PlatformSpec.__doc__ or ""), "",
            *_table(PlatformSpec, ""), ""]
    out += ["### `[[events]]`", "", inspect.cleandoc(EventSpec.__doc__ or ""), "", *_table(EventSpec, ""), "",
            "| kind | parameters |", "|---|---|"]
    out += [f"| `{k}` | {', '.join(f'`{p}`' for p in v)} |" for k, v in EVENT_KINDS.items()]
    out += ["", "### `[[observed.series]]`", "", inspect.cleandoc(ObservedSeries.__doc__ or ""), "",
            *_table(ObservedSeries, ""), ""]
    out += ["### `[[observed.targets]]`", "", inspect.cleandoc(Target.__doc__ or ""), "", *_table(Target, ""), ""]
    out += ["### `[[observed.forecasts]]`", "", inspect.cleandoc(Forecast.__doc__ or ""), "",
            *_table(Forecast, ""), ""]
    out += ["### `[[calibration.priors]]`", "", inspect.cleandoc(Prior.__doc__ or ""), "", *_table(Prior, "")]
    return "\n".join(out) + "\n"
