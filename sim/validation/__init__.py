"""Validation against theory (Bass, Granovetter, Watts) and against the 2014 episode (docs/VALIDATION.md).

Each check is a function ``check(quick: bool, figures: Path) -> Section``: it runs the simulations it needs
(the reduced version when ``quick``), draws its figures into ``figures`` and returns its part of the report.
``sim validate`` runs them all and writes docs/VALIDATION.md (:mod:`sim.validation.report`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.store import write_text_atomic

__all__ = ["SavedResult", "Section", "display", "link", "plain", "save_figure"]


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


def plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python numbers, floats that are not finite to null."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class SavedResult:
    """Mixin for the dataclass results of ``sim calibrate`` and ``sim sensitivity``: saved as JSON (atomically,
    so an interrupted save never leaves a half-written file) and read back by the report."""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(plain(asdict(self)), indent=1, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def display(path: str | Path) -> str:
    """A path relative to the working directory when inside it (for reports and commands to re-run), else as
    given."""
    p, here = Path(path).resolve(), Path.cwd().resolve()
    return str(p.relative_to(here)) if p.is_relative_to(here) else str(path)


def link(figure: str | Path) -> str:
    """A figure's link in the report, which lives in docs/: a path relative to docs/ for a figure given
    relative to the working directory (``docs/x.png`` -> ``x.png``, ``experiments/x.png`` ->
    ``../experiments/x.png``), else the absolute path (a figure outside the repository)."""
    figure = str(figure)
    if figure.startswith("docs/"):
        return figure.removeprefix("docs/")
    return str(Path(figure).resolve()) if Path(figure).is_absolute() else f"../{figure}"


def save_figure(fig: plt.Figure, path: Path, dpi: int = 130) -> Path:
    """Lay out ``fig``, write it to ``path`` and close it; returns ``path``."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
