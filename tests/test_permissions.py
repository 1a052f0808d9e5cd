"""Folders that cannot be written: refused in one line before anything runs. Read-only mounts make them (a
permission bit would not stop root, who runs the tests in CI)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT

from sim.cli import main

CONFIG = (ROOT / "experiments" / "korea_2014.toml").read_text()


@contextmanager
def read_only(folder: Path, source: Path | None = None) -> Iterator[Path]:
    """``folder`` as a read-only mount: an empty tmpfs, or a read-only view of ``source``."""
    folder.mkdir(exist_ok=True)
    mount = (["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)] if source is None else
             ["mount", "--bind", str(source), str(folder)])
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("cannot mount a read-only folder here")
    try:
        if source is not None:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True, capture_output=True)


def test_a_read_only_output_folder_is_refused_before_any_run(tmp_path, capsys):
    (tmp_path / "data").symlink_to(ROOT / "experiments" / "data")  # the episode's observed data
    (tmp_path / "cfg.toml").write_text(CONFIG.replace("n = 20000", "n = 500"))
    with read_only(tmp_path / "locked") as locked:
        assert main(["run", str(tmp_path / "cfg.toml"), "--out", str(locked / "out")]) == 2
        assert list(locked.iterdir()) == []
    assert capsys.readouterr().err.strip() == (f"error: --out: cannot write into {tmp_path / 'locked'} "
                                               "(permission denied); choose another folder")


def test_plotting_a_read_only_results_folder_is_refused_with_the_fix(tmp_path, capsys):
    (tmp_path / "data").symlink_to(ROOT / "experiments" / "data")
    (tmp_path / "cfg.toml").write_text(CONFIG.replace("n = 20000", "n = 400").replace("replications = 20",
                                                                                        "replications = 1"))
    assert main(["run", str(tmp_path / "cfg.toml"), "--out", str(tmp_path / "res"), "--quiet",
                 "--workers", "1"]) == 0
    capsys.readouterr()
    with read_only(tmp_path / "view", source=tmp_path / "res") as view:
        assert main(["plot", str(view)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot write into" in err[0] and "(give --out)" in err[0], err
        assert main(["plot", str(view), "--out", str(tmp_path / "figs")]) == 0  # the fix it names works
    assert list((tmp_path / "figs").glob("*.png"))


def test_a_results_folder_whose_runs_folder_is_read_only_is_refused_before_any_run(tmp_path, capsys):
    """A resume whose runs/ cannot be written is refused up front, naming the folder (not a temporary file after a
    run was computed)."""
    (tmp_path / "data").symlink_to(ROOT / "experiments" / "data")
    (tmp_path / "cfg.toml").write_text(CONFIG.replace("n = 20000", "n = 400").replace("replications = 20",
                                                                                        "replications = 2"))
    out = tmp_path / "res"
    argv = ["run", str(tmp_path / "cfg.toml"), "--out", str(out), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    for stale in out.glob("runs/*-r1.*"):
        stale.unlink()
    capsys.readouterr()
    with read_only(out / "runs", source=out / "runs"):
        assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {out / 'runs'}: cannot write into it (permission denied or a read-only file system), "
                   "so no run could be saved; make it writable, or choose another --out")
    assert main(argv) == 0  # writable again: the missing run is computed
