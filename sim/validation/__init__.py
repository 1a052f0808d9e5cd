"""Validation against theory (Bass, Granovetter, Watts) and against the 2014 episode (docs/VALIDATION.md).

Each check is a function ``check(quick: bool, figures: Path) -> Section``: it runs the simulations it needs
(the reduced version when ``quick``), draws its figures into ``figures`` and returns its part of the report.
``sim validate`` runs them all and writes docs/VALIDATION.md (:mod:`sim.validation.report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Section"]


@dataclass
class Section:
    """One part of the validation report.

    ``markdown`` is the section body (tables, figure links relative to docs/); ``numbers`` the headline
    numbers, also used by the tests; ``passed`` whether the model matched within the stated tolerance;
    ``command`` the command that reproduces the section.
    """

    title: str
    markdown: str
    command: str
    passed: bool
    numbers: dict[str, float] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
