"""The package works installed from a wheel: it reads its inputs and writes its outputs where the command line
or the working directory says, never beside its own files (a wheel install has no docs/ or experiments/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT

#: Modules allowed to use ``__file__``: the code's own git commit (sim/store.py).
ALLOWED = {"store.py"}


def test_no_module_derives_repository_paths_from_its_own_location() -> None:
    users = {str(p.relative_to(ROOT / "sim")) for p in (ROOT / "sim").rglob("*.py")
             if re.search(r"\b__file__\b", p.read_text(encoding="utf-8"))}
    assert users <= ALLOWED


def test_calibration_outputs_and_the_page_follow_the_working_directory(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.predict import DEFAULT_POSTERIOR
    from sim.sensitivity import SENSITIVITY_PATH
    from sim.validation import display
    from sim.viz.session import CONFIG_ENV, default_choice, default_config, list_choices

    assert not DEFAULT_POSTERIOR.is_absolute() and not SENSITIVITY_PATH.is_absolute()
    (tmp_path / "experiments").mkdir()
    small = f'extends = "{(ROOT / "experiments" / "korea_2014.toml").as_posix()}"\n[population]\nn = 300\n'
    (tmp_path / "experiments" / "mine.toml").write_text(small, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert display(tmp_path / "docs" / "calibration") == "docs/calibration"
    assert next(c.path for c in list_choices()) == Path("experiments") / "mine.toml"
    assert default_config() == Path("experiments") / "mine.toml"  # no episode of its own there: the first config
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.toml").write_text(small, encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(elsewhere / "other.toml"))  # sim viz elsewhere/other.toml
    assert default_choice().path.parent == elsewhere
    assert {c.path.name for c in list_choices()} == {"mine.toml"}  # the project's configs are offered
    monkeypatch.chdir(elsewhere)  # a folder without experiments/: the given config's own folder
    assert {c.path.name for c in list_choices()} == {"other.toml"}


def _run(*cmd: str | Path, cwd: Path, **env: str) -> str:
    """Run ``cmd`` in ``cwd`` (with ``env`` added to the environment, less PYTHONPATH, which would put another
    ``sim`` first); its output, or a failure with the output's end."""
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **env}
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout + out.stderr


@pytest.mark.slow
def test_a_wheel_install_runs_an_experiment_in_the_working_directory(tmp_path: Path) -> None:
    # Build from a copy of the sources, so that the build's own files never land in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "sim", source / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--quiet", "-w", tmp_path / "dist", cwd=tmp_path)
    wheel, = (tmp_path / "dist").glob("cyber_exile-*.whl")

    # A fresh environment inside another git repository: the results must not record that repository's commit.
    project = tmp_path / "project"
    project.mkdir()
    _run("git", "init", "--quiet", cwd=project)
    venv = project / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel, cwd=tmp_path)
    # The project's dependencies, after the wheel's own site-packages on sys.path; lines of a .pth file are not
    # themselves scanned for .pth files, so the project's editable `sim` finder is never installed here.
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                .strip())
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    where = _run(python, "-c", "import sim; print(sim.__file__)", cwd=tmp_path).strip()
    assert Path(where).is_relative_to(site), f"the wheel's sim is not the one imported: {where}"

    work = tmp_path / "work"
    work.mkdir()
    config = ROOT / "experiments" / "korea_2014.toml"
    shutil.copy(config, work / config.name)
    if (config.parent / "data").is_dir():  # the observed data an episode's config reads beside itself
        shutil.copytree(config.parent / "data", work / "data")
    numba_cache = str(tmp_path / "numba")  # compiled for this install only: keep it out of the user's cache
    sim_cmd = venv / "bin" / "sim"
    _run(sim_cmd, "run", config.name, "--set", "population.n=500", "--replications", "1", "--steps", "20",
         "--quiet", "--workers", "1", cwd=work, NUMBA_CACHE_DIR=numba_cache)
    manifests = list((work / "results").glob("*/*/manifest.json"))
    assert len(manifests) == 1, f"expected one results folder under {work / 'results'}"
    folder = manifests[0].parent
    summary = _run(sim_cmd, "results", folder, cwd=work, NUMBA_CACHE_DIR=numba_cache)
    assert "baseline" in summary and "1 done" in summary
    assert json.loads(manifests[0].read_text())["git"] == {"commit": None, "dirty": None}
