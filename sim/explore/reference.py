"""The key reference of the ``[explore]`` table in docs/CONFIG.md, generated from the fields' metadata and the
built-in outcome kinds (a test keeps the two in sync)."""

from __future__ import annotations

import dataclasses

from sim.explore.config import NEVER, ExploreSpec, PrimSettings
from sim.explore.outcomes import OPERATORS, OUTCOME_KINDS, builtin_expression

__all__ = ["explore_reference"]

#: What each built-in outcome kind measures (sim.explore.outcomes gives the expressions).
_MEANING = {"peak": "the rival's peak share of users", "peak_day": "the first day of the rival's peak",
            "loss": "the incumbent's loss at its trough, as a share of its users on day 0",
            "after": "the rival's share `days` days after its peak (NaN past the run's end)",
            "multihoming": "the share on two or more apps on the last day",
            "exit": "the share that left the incumbent, on the last day"}


def _default(f: dataclasses.Field) -> str:
    value = f.default
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _range(f: dataclasses.Field) -> str:
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    return f">= {lo}" if lo is not None else ""


def _scalar_rows(cls: type, prefix: str) -> list[str]:
    return [f"| `{prefix}{f.name}` | {f.type} | {_default(f)} | {_range(f)} | {f.metadata['doc']} |"
            for f in dataclasses.fields(cls) if f.type in ("int", "float", "bool", "str") and "doc" in f.metadata]


def explore_reference() -> str:
    """The ``[explore]`` key reference of docs/CONFIG.md."""
    out = ["| key | type | default | range | meaning |", "|---|---|---|---|---|",
           *_scalar_rows(ExploreSpec, "explore."), *_scalar_rows(PrimSettings, "explore.prim."),
           '| `explore.uncertainties."<dotted key>"` | `{low, high}` or list | | the key\'s own range | sampled '
           "(Latin hypercube) per scenario; whole numbers stay whole; not `experiment.*` |",
           "| `explore.uncertainties.<name>` | `{low, high, scales}` | | | a factor multiplying the configured "
           "values of the dotted keys in `scales`, relative to a calibration prior's `point` of the same name "
           "(the factor's value already in them; 1 without such a prior) |",
           '| `explore.levers."<dotted key>"` | list or `{low, high}` | | the key\'s own range | sampled per '
           f'policy; an event\'s `day` may take `"{NEVER}"` (the event does not happen) |',
           '| `explore.outcomes.<name>` | string, `{value, goal}` or `{kind, ...}` | | | an expression giving one '
           "number, or a built-in kind (below); `goal` = `min` or `max` gives the policies' regret |",
           "| `explore.predicates.<name>` | string or list | | | clauses `<outcome> <op> <number>[%]` that must "
           f"all hold; op one of {', '.join(f'`{op}`' for op in OPERATORS)} |",
           "", "| outcome kind | keys besides `kind`, `goal` (`platform`: a rival, the first by default) | expression "
           "(rival `p`, incumbent `i`, last day `T`) | meaning |",
           "|---|---|---|---|"]
    for kind, keys in OUTCOME_KINDS.items():
        shown = ", ".join(f"`{k}`" for k in keys) or "-"
        out.append(f"| `{kind}` | {shown} | `{builtin_expression(kind, 'p', 'n', 'i', 'T')}` | {_MEANING[kind]} |")
    return "\n".join(out) + "\n"
