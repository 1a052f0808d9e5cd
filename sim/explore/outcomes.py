"""What an exploration judges each run by: scalar outcomes of its daily time series, and predicates on them.

An outcome is an expression of the observation language (:mod:`sim.expressions`) that gives one number. The
built-in kinds are such expressions, written out for the scenario (``p`` a rival, ``i`` the incumbent, ``T``
the run's last day):

- ``peak``: ``max(active.p, 0, T)``, the rival's peak share of users;
- ``peak_day``: ``argmax(active.p, 0, T)``, the first day of that peak;
- ``loss``: ``(at(active.i, 0) - min(active.i, 0, T)) / at(active.i, 0)``, the incumbent's loss at its trough,
  as a share of its users on day 0;
- ``after`` (``days = n``): ``at(active.p, argmax(active.p, 0, T) + n)``, the rival's share n days after its
  peak;
- ``multihoming``: ``at(multihoming, T)``, the share on two or more apps at the end;
- ``exit``: ``at(exit, T)``, the share that left the incumbent by the end.

An outcome that cannot be computed on a run (``after`` past the run's end) is NaN. A predicate is one or more
clauses ``<outcome> <op> <number>[%]`` that must all hold (``%`` divides the number by 100); a clause on a NaN
outcome does not hold.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.expressions import Expression, ExpressionError, Observables, parse

__all__ = ["OPERATORS", "OUTCOME_KINDS", "Clause", "Outcome", "Predicate", "builtin_expression", "evaluate",
           "parse_clause", "predicate_values"]

#: Built-in outcome kinds and the keys each takes besides ``kind`` and ``goal``.
OUTCOME_KINDS: dict[str, tuple[str, ...]] = {"peak": ("platform",), "peak_day": ("platform",), "loss": (),
                                             "after": ("platform", "days"), "multihoming": (), "exit": ()}
#: Comparison operators of a clause.
OPERATORS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                                        ">=": operator.ge}
_CLAUSE = re.compile(r"\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)\s*")


@dataclass(frozen=True)
class Outcome:
    """A named outcome: its expression (a built-in kind's written out), its kind, and whether lower (``min``)
    or higher (``max``) values are better for the policies' regret ("" for neither: no regret)."""

    name: str
    text: str
    kind: str = "expression"
    goal: str = ""


@dataclass(frozen=True)
class Clause:
    """``outcome op value``: one condition of a predicate."""

    outcome: str
    op: str
    value: float

    def holds(self, x: float) -> bool:
        """Whether ``x`` (the outcome's value) meets the condition; never for NaN."""
        return not math.isnan(x) and OPERATORS[self.op](x, self.value)


@dataclass(frozen=True)
class Predicate:
    """A named question of a run: all its clauses hold."""

    name: str
    text: str
    clauses: tuple[Clause, ...]

    def holds(self, values: Mapping[str, float]) -> bool:
        return all(c.holds(values[c.outcome]) for c in self.clauses)


def builtin_expression(kind: str, platform: str, days: int | str, incumbent: str, last_day: int | str) -> str:
    """The expression of a built-in outcome kind (module docstring) for rival ``platform``, ``days`` after the
    peak, the ``incumbent`` and the run's ``last_day`` (numbers, or letters standing for them in the docs)."""
    p, i, t = platform, incumbent, last_day
    return {"peak": f"max(active.{p}, 0, {t})",
            "peak_day": f"argmax(active.{p}, 0, {t})",
            "loss": f"(at(active.{i}, 0) - min(active.{i}, 0, {t})) / at(active.{i}, 0)",
            "after": f"at(active.{p}, argmax(active.{p}, 0, {t}) + {days})",
            "multihoming": f"at(multihoming, {t})",
            "exit": f"at(exit, {t})"}[kind]


def parse_clause(text: str) -> Clause:
    """A clause ``<outcome> <op> <number>[%]``; ValueError if ``text`` is not one."""
    match = _CLAUSE.fullmatch(text)
    if match is None:
        raise ValueError(f"expected '<outcome> <op> <number>' with op one of {', '.join(OPERATORS)} and an "
                         f"optional %, e.g. 'loss > 1%', got {text!r}")
    name, op, number, percent = match.groups()
    value = float(number) / (100 if percent else 1)
    return Clause(name, op, value)


@functools.cache
def _parsed(text: str, platforms: tuple[str, ...]) -> Expression:
    return parse(text, platforms)


def evaluate(outcomes: Sequence[Outcome], obs: Observables) -> dict[str, float]:
    """Each outcome's value on one run (NaN where the run does not allow it, e.g. days past its end)."""
    out = {}
    for outcome in outcomes:
        try:
            out[outcome.name] = float(_parsed(outcome.text, obs.platforms).evaluate(obs))
        except ExpressionError:
            out[outcome.name] = math.nan
    return out


def predicate_values(predicates: Sequence[Predicate], values: pd.DataFrame) -> pd.DataFrame:
    """Per row of outcome ``values``, whether each predicate holds (bool columns named by predicate)."""
    return pd.DataFrame({p.name: [p.holds(row) for row in values.to_dict("records")] for p in predicates},
                        index=values.index, dtype=bool)
