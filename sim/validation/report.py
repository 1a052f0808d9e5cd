"""Assemble docs/VALIDATION.md from the validation checks (``sim validate``)."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.config import ConfigError, load_config
from sim.store import write_text_atomic
from sim.validation import Section, episodes, theory

__all__ = ["SAVED", "THEORY", "checks", "write_report"]

Check = Callable[[bool, Path], Section]

#: The checks against theory, in report order.
THEORY: list[tuple[str, Check]] = [
    ("bass", theory.bass),
    ("granovetter", theory.granovetter),
    ("watts", theory.watts),
]


def checks(configs: Sequence[Path]) -> list[tuple[str, Check]]:
    """The checks run by ``sim validate``, in report order: theory, then one per episode config (named by its
    ``experiment.name``), in the order of their start dates."""
    found = []
    for config in configs:
        scenario = load_config(config)
        if not scenario.observed.targets:
            raise ConfigError(f"{config}: expected an episode, with [[observed.targets]]; it declares none")
        found.append((scenario.experiment.start_date, scenario.experiment.name, config))
    return [*THEORY, *((name, functools.partial(episodes.check, config))
                       for _, name, config in sorted(found, key=lambda f: (f[0], f[1])))]


def _calibration(quick: bool, figures: Path) -> Section | None:
    from sim.validation.calibration import calibration_section

    return calibration_section(quick=quick, figures=figures)


def _leave_one_out(quick: bool, figures: Path) -> Section | None:
    from sim.validation.outofsample import leave_one_out_section

    return leave_one_out_section(quick=quick)


def _coverage(quick: bool, figures: Path) -> Section | None:
    from sim.validation.outofsample import coverage_section

    return coverage_section(quick=quick, figures=figures)


def _sensitivity(quick: bool, figures: Path) -> Section | None:
    from sim.sensitivity import SENSITIVITY_PATH, sensitivity_section

    return sensitivity_section(SENSITIVITY_PATH) if SENSITIVITY_PATH.exists() else None


#: Sections built on saved fits (``sim calibrate``: the shipped posterior and the leave-one-out fits; ``sim
#: sensitivity``): the fits take an hour, so ``sim validate`` does not repeat them, but it runs their
#: predictions again with the current code. A section whose saved fit is missing is skipped. ``coverage``
#: fits synthetic data itself (minutes).
SAVED: list[tuple[str, Callable[[bool, Path], Section | None]]] = [
    ("calibration", _calibration),
    ("leave_one_out", _leave_one_out),
    ("coverage", _coverage),
    ("sensitivity", _sensitivity),
]

INTRO = """# Validation

What the model reproduces and what it does not, with numbers. Every number below was produced by the command
given with its section; rerun it to regenerate this page (`sim validate` writes it; `--quick` runs reduced
versions, as the `validation`-marked tests do in CI). Figures are in `docs/figures/`.
"""


def _blocks(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The summary rows and the "## " sections of an existing report, by title."""
    rows, blocks, title = {}, {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            blocks[title] = ""
        elif title is not None:
            blocks[title] += line + "\n"
        elif line.startswith("| ") and not line.startswith(("| check ", "|---")):
            rows[line.split(" | ")[0][2:]] = line
    return rows, {k: v.strip("\n") for k, v in blocks.items()}


def _glance(sections: list[Section]) -> Section:
    """One row per episode checked in this run: how many of its targets the model meets, and which it misses."""
    rows = ["| episode | targets met | missed |", "|---|---|---|"]
    for sec in sections:
        name = sec.title.removeprefix("Episode ").removesuffix(": targets")
        missed = sorted(k.removesuffix("_passed") for k, v in sec.numbers.items() if k.endswith("_passed") and not v)
        rows.append(f"| {name} | {sec.numbers['targets_met']:.0f} of {sec.numbers['targets']:.0f} | "
                    f"{', '.join(missed) or '—'} |")
    md = "\n".join(["Each episode's config as shipped: its fitted parameters (the shared behaviour, its own factors "
                    "on its events) at the joint posterior's weighted medians, the rest hand-set (sections below; "
                    "why each target is missed is in each section's notes and in docs/MODEL.md, section 11). These "
                    "are in-sample checks: the joint fit used every target below. A median of each parameter is "
                    "one point of a wide posterior, not its best fit: the calibration section's posterior "
                    "predictive is the fit's own account, and the leave-one-out section the out-of-sample one.",
                    "", *rows])
    return Section("Episodes at a glance", md, "sim validate", all(s.passed for s in sections))


def write_report(out: Path, quick: bool = False, only: list[str] | None = None,
                 configs: Sequence[Path] | None = None) -> list[Section]:
    """Run the checks (all, or those named in ``only``), write the report to ``out`` and its figures to
    ``out.parent / "figures"``. Returns the sections run or read. ``configs``: the episodes to check (default:
    :func:`sim.validation.episodes.episode_configs` of ./experiments); every config is loaded and checked
    before any check runs.

    With ``only``, an existing report at ``out`` is updated: the sections run replace those of the same
    title, the others are kept as they were (read when the checks are done, so that two updates of different
    sections can run side by side). A name in ``only`` that is no check is an error (ConfigError), before
    anything runs."""
    runs = checks(episodes.episode_configs() if configs is None else configs)
    known = [name for name, _ in runs] + [name for name, _ in SAVED]
    unknown = [name for name in only or () if name not in known]
    if unknown:
        raise ConfigError(f"--only {unknown[0]}: no such check; expected one of {', '.join(known)}")
    figures = out.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    fresh: list[tuple[Section, str]] = []

    def add(section: Section, seconds: str) -> None:
        fresh.append((section, seconds))

    done = []
    for name, check in runs:
        if not only or name in only:
            start = time.perf_counter()
            done.append((check(quick, figures), f"{time.perf_counter() - start:.0f}"))
    episode_sections = [sec for sec, _ in done if sec.title.startswith("Episode ")]
    for section, seconds in done:
        if len(episode_sections) > 1 and section is episode_sections[0]:
            add(_glance(episode_sections), "")  # before the episodes it sums up
        add(section, seconds)
    for name, read in SAVED:
        if not only or name in only:
            start = time.perf_counter()
            if (saved := read(quick, figures)) is not None:
                add(saved, f"{time.perf_counter() - start:.0f}")
    rows, blocks = _blocks(out.read_text(encoding="utf-8")) if only and out.exists() else ({}, {})
    for section, seconds in fresh:
        verdict = "matches" if section.passed else "MISSES (see below)"
        rows[section.title] = f"| {section.title} | {verdict} | {seconds} |"
        blocks[section.title] = f"Command: `{section.command}`\n\n{section.markdown}"
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    scope = f"; sections {', '.join(s.title for s, _ in fresh)} updated" if only else ""
    lines = [INTRO, "| check | result | seconds |", "|---|---|---|", *rows.values(), "",
             f"Generated {stamp}{' (quick mode)' if quick else ''}{scope}.", ""]
    for title, block in blocks.items():
        lines += [f"## {title}", "", block, ""]
    write_text_atomic(out, "\n".join(lines))
    return [section for section, _ in fresh]
