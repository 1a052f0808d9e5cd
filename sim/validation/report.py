"""Assemble docs/VALIDATION.md from the validation checks (``sim validate``)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path

from sim.validation import Section, theory

__all__ = ["CHECKS", "write_report"]

#: The checks run by ``sim validate``, in report order.
CHECKS: list[tuple[str, Callable[[bool, Path], Section]]] = [
    ("bass", theory.bass),
    ("granovetter", theory.granovetter),
    ("watts", theory.watts),
]

INTRO = """# Validation

What the model reproduces and what it does not, with numbers. Every number below was produced by the command
given with its section; rerun it to regenerate this page (`sim validate` writes it; `--quick` runs reduced
versions, as the `validation`-marked tests do in CI). Figures are in `docs/figures/`.
"""


def write_report(out: Path, quick: bool = False, only: list[str] | None = None) -> list[Section]:
    """Run the checks (all, or those named in ``only``), write the report to ``out`` and its figures to
    ``out.parent / "figures"``. Returns the sections."""
    figures = out.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    sections, lines = [], [INTRO]
    summary = ["| check | result | seconds |", "|---|---|---|"]
    for name, check in CHECKS:
        if only and name not in only:
            continue
        start = time.perf_counter()
        section = check(quick, figures)
        seconds = time.perf_counter() - start
        sections.append(section)
        summary.append(f"| {section.title} | {'matches' if section.passed else 'MISSES (see below)'} | "
                       f"{seconds:.0f} |")
        lines += [f"## {section.title}", "", f"Command: `{section.command}`", "", section.markdown, ""]
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    head = [*summary, "", f"Generated {stamp}{' (quick mode)' if quick else ''}.", ""]
    out.write_text("\n".join([lines[0], *head, *lines[1:]]), encoding="utf-8")
    return sections
