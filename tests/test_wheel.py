"""The package works installed from a wheel: it reads its inputs and writes its outputs where the command line
or the working directory says, never beside its own files (a wheel install has no docs/ or experiments/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

#: Modules allowed to use ``__file__``: the code's own git commit (sim/store.py), the package's own data
#: (sim/data), and two modules the episodes work replaces.
ALLOWED = {"store.py", "data/__init__.py", "validation/korea.py", "plots/observed.py"}


def test_no_module_derives_repository_paths_from_its_own_location() -> None:
    users = {str(p.relative_to(ROOT / "sim")) for p in (ROOT / "sim").rglob("*.py")
             if re.search(r"\b__file__\b", p.read_text(encoding="utf-8"))}
    assert users <= ALLOWED


def test_calibration_outputs_and_the_page_follow_the_working_directory(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.calibrate import FIT_PATH, _display
    from sim.sensitivity import SENSITIVITY_PATH
    from sim.viz.session import CONFIG_ENV, DEFAULT_CONFIG, default_choice, list_choices

    assert not FIT_PATH.is_absolute() and SENSITIVITY_PATH.parent == FIT_PATH.parent
    assert not DEFAULT_CONFIG.is_absolute()
    (tmp_path / "experiments").mkdir()
    small = f'extends = "{(ROOT / "experiments" / "korea_2014.toml").as_posix()}"\n[population]\nn = 300\n'
    (tmp_path / "experiments" / "mine.toml").write_text(small, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert _display(tmp_path / "docs" / "calibration") == "docs/calibration"
    assert next(c.path for c in list_choices()) == Path("experiments") / "mine.toml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.toml").write_text(small, encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(elsewhere / "other.toml"))  # sim viz elsewhere/other.toml
    assert default_choice().path.parent == elsewhere
    assert {c.path.name for c in list_choices()} == {"mine.toml"}  # the project's configs are offered
    monkeypatch.chdir(elsewhere)  # a folder without experiments/: the given config's own folder
    assert {c.path.name for c in list_choices()} == {"other.toml"}
