"""Observables as small expressions over a run's daily time series: what an episode's observed series are
compared with and how its targets are computed (config ``[observed]``, docs/CONFIG.md).

An expression is arithmetic over the model's daily series, named ``family.platform`` or by a plain name, and
a few functions. It is parsed with :mod:`ast` and evaluated by walking the tree: no ``eval``, and only the
names and functions below are allowed. Days are the time series' days (0 = the initial state).

Series (one value per day):

- ``active.p``: share of users active on platform p (used within the week: weekly active users);
- ``primary.p``: share with p as their main platform; ``secondary.p`` = ``active.p - primary.p``;
- ``daily.p``: share using p on the day (daily active users), from who has it as primary and who as a
  secondary platform: ``primary.p * daily_primary + secondary.p * daily_secondary`` (``[observed]``);
- ``monthly.p``: share active on p on some day of the last 30 (30-day active users);
- ``adopters.p``: share ever active on p; ``adoptions.p``: adoption events per user, cumulative;
- ``multihoming``, ``incumbent_only``, ``rivals_only``, ``exit`` (left the incumbent), ``alarm`` (mean),
  ``day``.

Functions of a series ``s`` giving a series: ``week(s)`` (mean over days d .. d+6, as a panel's week starting
on day d), ``window(s, n)`` (mean over d .. d+n-1), ``trailing(s, n)`` (mean over d-n+1 .. d),
``new(s, n)`` (``s(d) - s(d-n)``: what a cumulative series gained in the n days to d). Functions giving a
number: ``at(s, d)``, ``mean(s, a, b)``, ``max(s, a, b)``, ``min(s, a, b)`` (over days a .. b),
``argmax(s, a, b, step)``, ``argmin(s, a, b, step)`` (the day, among a, a+step, ... <= b), ``abs(x)``.
Comparisons (``<``, ``<=``, ``>``, ``>=``, ``==``) give 1 or 0, and ``and``/``or`` combine them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FAMILIES", "SCALARS", "Expression", "ExpressionError", "Observables", "parse"]

#: Per-platform series and the time-series column each is read from (``{p}``: the platform).
FAMILIES = {"active": "active_{p}", "primary": "primary_{p}", "secondary": None, "daily": None,
            "monthly": "monthly_{p}", "adopters": "adopters_{p}", "adoptions": "adoptions_{p}"}
#: Plain series and their columns (``exit`` is the incumbent's).
SCALARS = {"multihoming": "multihoming", "incumbent_only": "incumbent_only", "rivals_only": "rivals_only",
           "exit": None, "alarm": "mean_alarm", "day": "day"}
#: Functions: name -> (numbers of arguments allowed, gives a series).
FUNCTIONS: dict[str, tuple[tuple[int, ...], bool]] = {
    "week": ((1,), True), "window": ((2,), True), "trailing": ((2,), True), "new": ((2,), True),
    "at": ((2,), False), "mean": ((3,), False), "max": ((3,), False), "min": ((3,), False),
    "argmax": ((3, 4), False), "argmin": ((3, 4), False), "abs": ((1,), False)}


class ExpressionError(ValueError):
    """An expression that does not parse, or names what does not exist."""


@dataclass(frozen=True)
class Observables:
    """What an expression may read: a run's daily time series and the scenario's platform names."""

    series: pd.DataFrame
    platforms: tuple[str, ...]
    incumbent: str
    daily_primary: float = 1.0
    daily_secondary: float = 0.0

    def column(self, family: str, platform: str | None) -> np.ndarray:
        ts = self.series
        if platform is None:
            name = f"exit_{self.incumbent}" if family == "exit" else SCALARS[family]
            return ts[name].to_numpy(dtype=float)
        if family == "secondary":
            return (ts[f"active_{platform}"] - ts[f"primary_{platform}"]).to_numpy(dtype=float)
        if family == "daily":
            return (self.daily_primary * ts[f"primary_{platform}"]
                    + self.daily_secondary * (ts[f"active_{platform}"] - ts[f"primary_{platform}"])).to_numpy(float)
        column = FAMILIES[family].format(p=platform)
        if column not in ts:
            raise ExpressionError(f"the time series has no column {column!r} (the run did not observe it)")
        return ts[column].to_numpy(dtype=float)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree, whether it gives a series, and the series names it reads."""

    text: str
    tree: ast.expr
    is_series: bool
    names: tuple[tuple[str, str | None], ...]

    def evaluate(self, obs: Observables) -> float | np.ndarray:
        """The value on a run's time series: a number, or an array over days."""
        return _Evaluator(obs).visit(self.tree)


def parse(text: str, platforms: tuple[str, ...]) -> Expression:
    """Parse and check an expression against the scenario's platforms. Raises ExpressionError."""
    text = " ".join(text.split())  # an expression may span lines
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not an expression: {exc.msg} in {text!r}") from None
    names: list[tuple[str, str | None]] = []
    is_series = _check(tree, platforms, names)
    return Expression(text=text, tree=tree, is_series=is_series, names=tuple(names))


def _check(node: ast.AST, platforms: tuple[str, ...], names: list[tuple[str, str | None]]) -> bool:
    """Walk the tree, allowing only known names and functions; return whether it gives a series."""
    match node:
        case ast.Constant(value=bool()) | ast.Constant(value=str()):
            raise ExpressionError(f"expected a number, got {node.value!r}")
        case ast.Constant(value=int() | float()):
            return False
        case ast.Attribute(value=ast.Name(id=family), attr=platform):
            if family not in FAMILIES:
                raise ExpressionError(f"unknown series family {family!r}; expected one of {', '.join(FAMILIES)}")
            if platform not in platforms:
                raise ExpressionError(f"unknown platform {platform!r} in {family}.{platform}; the scenario's "
                                      f"platforms are {', '.join(platforms)}")
            names.append((family, platform))
            return True
        case ast.Name(id=name):
            if name not in SCALARS:
                hint = f" (per platform: write {name}.<platform>)" if name in FAMILIES else ""
                raise ExpressionError(f"unknown name {name!r}{hint}; expected one of {', '.join(SCALARS)}")
            names.append((name, None))
            return True
        case ast.BinOp(op=ast.Add() | ast.Sub() | ast.Mult() | ast.Div()):
            return _check(node.left, platforms, names) | _check(node.right, platforms, names)
        case ast.UnaryOp(op=ast.USub() | ast.UAdd()):
            return _check(node.operand, platforms, names)
        case ast.Compare(ops=[ast.Lt() | ast.LtE() | ast.Gt() | ast.GtE() | ast.Eq()], comparators=[right]):
            if _check(node.left, platforms, names) or _check(right, platforms, names):
                raise ExpressionError("comparisons are between numbers, not series")
            return False
        case ast.BoolOp():
            if any(_check(v, platforms, names) for v in node.values):
                raise ExpressionError("'and' and 'or' combine comparisons, not series")
            return False
        case ast.Call(func=ast.Name(id=fn), args=args, keywords=[]) if fn in FUNCTIONS:
            counts, gives_series = FUNCTIONS[fn]
            if len(args) not in counts:
                raise ExpressionError(f"{fn}() takes {' or '.join(map(str, counts))} arguments, got {len(args)}")
            kinds = [_check(a, platforms, names) for a in args]
            if fn != "abs" and not kinds[0]:
                raise ExpressionError(f"the first argument of {fn}() must be a series")
            if any(kinds[1:]):
                raise ExpressionError(f"{fn}() takes numbers after its series")
            return gives_series
        case ast.Call(func=ast.Name(id=fn)):
            raise ExpressionError(f"unknown function {fn}(); expected one of {', '.join(FUNCTIONS)}")
    raise ExpressionError(f"not allowed in an expression: {ast.unparse(node)!r}")


class _Evaluator:
    """Evaluates a checked tree on one run's observables."""

    def __init__(self, obs: Observables) -> None:
        self.obs = obs
        self.days = len(obs.series)

    def visit(self, node: ast.AST) -> Any:
        match node:
            case ast.Constant(value=value):
                return float(value)
            case ast.Attribute(value=ast.Name(id=family), attr=platform):
                return self.obs.column(family, platform)
            case ast.Name(id=name):
                return self.obs.column(name, None)
            case ast.BinOp(left=left, op=op, right=right):
                a, b = self.visit(left), self.visit(right)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return _BINARY[type(op)](a, b)
            case ast.UnaryOp(op=op, operand=operand):
                value = self.visit(operand)
                return -value if isinstance(op, ast.USub) else value
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                return float(_COMPARE[type(op)](self.visit(left), self.visit(right)))
            case ast.BoolOp(op=op, values=values):
                results = [bool(self.visit(v)) for v in values]
                return float(all(results) if isinstance(op, ast.And) else any(results))
            case ast.Call(func=ast.Name(id=fn), args=args):
                return getattr(self, f"_{fn}")(*[self.visit(a) for a in args])
        raise AssertionError(ast.dump(node))  # parse() admits only the nodes above

    @staticmethod
    def _whole(x: float, what: str, least: int = 0) -> int:
        """A day or a number of days: a whole number, at least ``least`` (never rounded)."""
        if not float(x).is_integer() or x < least:
            raise ExpressionError(f"{what} must be a whole number of at least {least}, got {x:g}")
        return int(x)

    def _span(self, s: np.ndarray, a: float, b: float) -> np.ndarray:
        lo, hi = self._whole(a, "a day"), self._whole(b, "a day")
        if not 0 <= lo <= hi < len(s):
            raise ExpressionError(f"days {lo}..{hi} are outside the run's days 0..{len(s) - 1}")
        return s[lo:hi + 1]

    def _rolling(self, s: np.ndarray, n: float, forward: bool) -> np.ndarray:
        n = self._whole(n, "a number of days", 1)
        rolled = pd.Series(s).rolling(n).mean().to_numpy()
        return np.concatenate([rolled[n - 1:], np.full(min(n - 1, len(s)), np.nan)]) if forward else rolled

    def _week(self, s: np.ndarray) -> np.ndarray:
        return self._rolling(s, 7, forward=True)

    def _window(self, s: np.ndarray, n: float) -> np.ndarray:
        return self._rolling(s, n, forward=True)

    def _trailing(self, s: np.ndarray, n: float) -> np.ndarray:
        return self._rolling(s, n, forward=False)

    def _new(self, s: np.ndarray, n: float) -> np.ndarray:
        n = self._whole(n, "a number of days", 1)
        out = np.full(len(s), np.nan)
        if n < len(s):
            out[n:] = s[n:] - s[:len(s) - n]
        return out

    def _at(self, s: np.ndarray, d: float) -> float:
        return float(self._span(s, d, d)[0])

    def _mean(self, s: np.ndarray, a: float, b: float) -> float:
        return float(np.mean(self._span(s, a, b)))

    def _max(self, s: np.ndarray, a: float, b: float) -> float:
        return float(np.max(self._span(s, a, b)))

    def _min(self, s: np.ndarray, a: float, b: float) -> float:
        return float(np.min(self._span(s, a, b)))

    def _days(self, s: np.ndarray, a: float, b: float, step: float) -> tuple[np.ndarray, np.ndarray]:
        span = self._span(s, a, b)
        days = np.arange(int(a), int(b) + 1, self._whole(step, "a step", 1))
        values = span[days - int(a)]
        if np.isnan(values).all():
            raise ExpressionError(f"no value on days {int(a)}..{int(b)} (step {int(step)})")
        return days, values

    def _argmax(self, s: np.ndarray, a: float, b: float, step: float = 1) -> float:
        days, values = self._days(s, a, b, step)
        return float(days[np.nanargmax(values)])

    def _argmin(self, s: np.ndarray, a: float, b: float, step: float = 1) -> float:
        days, values = self._days(s, a, b, step)
        return float(days[np.nanargmin(values)])

    @staticmethod
    def _abs(x: float) -> float:
        return float(abs(x))


_BINARY: Mapping[type, Callable[[Any, Any], Any]] = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                                                      ast.Div: np.divide}
_COMPARE: Mapping[type, Callable[[Any, Any], bool]] = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
                                                       ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
                                                       ast.Eq: lambda a, b: a == b}
