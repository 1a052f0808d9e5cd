"""Typed parameters and one seeded Latin-hypercube sampler (``scipy.stats.qmc``) for sweeps and searches.

A parameter maps a position ``q`` in [0, 1) to a value: :class:`RealParameter` linearly onto [lower, upper],
:class:`LevelsParameter` onto one of its levels in equal slices. :func:`unit_latin_hypercube` draws the
positions, one per stratum of width 1/n in every dimension; :func:`latin_hypercube` turns them into points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LevelsParameter", "Parameter", "RealParameter", "latin_hypercube", "unit_latin_hypercube"]


@dataclass(frozen=True)
class RealParameter:
    """A real parameter over the closed range [``lower``, ``upper``] (``lower == upper``: held at that value).

    Raises
    ------
    ValueError
        If a bound is not finite or ``lower`` exceeds ``upper``.
    """

    name: str
    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)) or self.lower > self.upper:
            raise ValueError(f"parameter {self.name!r}: expected finite lower <= upper, got "
                             f"[{self.lower}, {self.upper}]")

    def value(self, q: float) -> float:
        """The value at position ``q`` in [0, 1] of the range: ``lower + q (upper - lower)``."""
        return float(self.lower + q * (self.upper - self.lower))


@dataclass(frozen=True)
class LevelsParameter:
    """A parameter taking one of ``levels`` (numbers, names, files), in equal slices of [0, 1).

    Raises
    ------
    ValueError
        If there are no levels.
    """

    name: str
    levels: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError(f"parameter {self.name!r}: expected at least one level")

    def value(self, q: float) -> Any:
        """Level ``floor(q k)`` of the k levels (the last one for ``q = 1``)."""
        k = len(self.levels)
        return self.levels[min(int(q * k), k - 1)]


Parameter = RealParameter | LevelsParameter


def unit_latin_hypercube(dimensions: int, samples: int,
                         seed: int | np.random.SeedSequence | np.random.Generator) -> np.ndarray:
    """A scrambled Latin hypercube in the unit cube (:class:`scipy.stats.qmc.LatinHypercube`).

    Parameters
    ----------
    dimensions, samples
        Columns and rows of the design.
    seed
        Anything :func:`numpy.random.default_rng` takes; the same seed gives the same design.

    Returns
    -------
    numpy.ndarray
        ``samples x dimensions`` positions in [0, 1): in every column, exactly one in each of the ``samples``
        strata ``[i / samples, (i + 1) / samples)``.
    """
    if dimensions < 1 or samples < 1:
        raise ValueError(f"expected at least one dimension and one sample, got {dimensions} x {samples}")
    # Imported here: scipy.stats takes ~0.4 s to import, and sim.experiment (which every command line and
    # worker imports) needs it only when a Latin hypercube is drawn.
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=dimensions, rng=np.random.default_rng(seed)).random(samples)


def latin_hypercube(parameters: Sequence[Parameter], samples: int,
                    seed: int | np.random.SeedSequence | np.random.Generator) -> list[dict[str, Any]]:
    """``samples`` points of a seeded Latin hypercube over ``parameters``.

    Parameters
    ----------
    parameters
        One dimension each, in this order (the order is part of the design: reordering changes the points).
    samples
        Number of points.
    seed
        As :func:`unit_latin_hypercube`.

    Returns
    -------
    list of dict
        One ``{name: value}`` per point. Each real parameter has one value in each of ``samples`` equal
        slices of its range; a parameter with k levels takes each level ``samples / k`` times when k divides
        ``samples`` (otherwise the counts differ by at most one).

    Examples
    --------
    >>> points = latin_hypercube([RealParameter("mu", 0.0, 1.0), LevelsParameter("kind", ("a", "b"))], 4, 1)
    >>> sorted(int(p["mu"] * 4) for p in points), sorted(p["kind"] for p in points)
    ([0, 1, 2, 3], ['a', 'a', 'b', 'b'])
    """
    unit = unit_latin_hypercube(len(parameters), samples, seed)
    return [{p.name: p.value(float(q)) for p, q in zip(parameters, row, strict=True)} for row in unit]
