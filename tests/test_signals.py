"""Signals and concurrency: workers die with their parent, SIGTERM stops at once and resumes to the same
numbers, two runs into one folder compute each run once, racing creators of a folder get the right message."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from conftest import ROOT

import sim.store
from sim.experiment import Experiment, expand, load_experiment
from sim.store import ResultsError, ResultsStore, load_results

# Two quick runs (scenario baseline) and two long ones (scenario long, ~7 s each on one core here), in the
# order baseline-r0, long-r0, baseline-r1, long-r1: with two workers both long runs are in flight once both
# quick ones are stored.
CONFIG = """
[experiment]
name = "signals"
seed = 3
replications = 2
steps = 25
engine = "array"

[population]
n = 400

[network]
kind = "watts_strogatz"
mean_degree = 6

[platforms.kakao]
incumbent = true
domestic = true
exposure = 0.8
initial_share = 1.0

[platforms.telegram]
exposure = 0.05
appeal = 0.05
initial_share = 0.01

[[events]]
id = "crackdown"
day = 3
kind = "announcement"
reach = 0.9
intensity = 0.7

[scenarios.long]
"population.n" = 60000
"experiment.steps" = {steps}
"""
QUICK = ("baseline-r0", "baseline-r1")


def config(tmp_path: Path, steps: int = 2500, seed: int = 3, name: str = "signals.toml") -> Path:
    path = tmp_path / name
    path.write_text(CONFIG.format(steps=steps).replace("seed = 3", f"seed = {seed}"), encoding="utf-8")
    return path


def sim_run(path: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out), *args]


def records(out: Path) -> set[str]:
    return {p.stem for p in (out / "runs").glob("*.json")} if (out / "runs").is_dir() else set()


def wait_for(condition: Callable[[], bool], timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (a dead orphan may wait for a reaper that this container lacks)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Spawned:
    """Processes a test starts, and their descendants as seen while they lived (orphans are reparented, so they
    must be remembered): all are killed after the test, pass or fail."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.family: list[psutil.Process] = []

    def start(self, cmd: list[str], log: Path) -> subprocess.Popen:
        with open(log, "w") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        self.procs.append(proc)
        return proc

    def children(self, proc: subprocess.Popen) -> list[psutil.Process]:
        found = psutil.Process(proc.pid).children(recursive=True)
        self.family.extend(found)
        return found

    def kill_all(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.children(proc)
            proc.kill()
            proc.wait()
        for p in self.family:
            if alive(p):
                p.kill()


@pytest.fixture
def spawned() -> Iterator[Spawned]:
    processes = Spawned()
    yield processes
    processes.kill_all()


def workers_in_flight(spawned: Spawned, proc: subprocess.Popen, out: Path) -> list[psutil.Process]:
    """Once both quick runs are stored, both workers are on long runs: the parent's descendants then."""
    wait_for(lambda: records(out) >= set(QUICK) or proc.poll() is not None, what="the quick runs")
    assert proc.poll() is None, "the experiment ended too early"
    time.sleep(1.5)
    children = spawned.children(proc)
    assert len(children) >= 3, "two workers and multiprocessing's resource tracker (and progress manager)"
    assert not records(out) - set(QUICK), "the long runs should still be running"
    return children


@pytest.mark.slow
def test_killing_the_parent_kills_its_workers(tmp_path: Path, spawned: Spawned) -> None:
    out = tmp_path / "out"
    # Without --quiet, progress comes through a multiprocessing Manager: a process of its own.
    proc = spawned.start(sim_run(config(tmp_path), out, "--workers", "2"), tmp_path / "err.txt")
    children = workers_in_flight(spawned, proc, out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [(c.pid, c.cmdline()) for c in children if alive(c)]
    assert not left, f"orphans 10 s after the parent was killed: {left}"


@pytest.mark.slow
def test_sigterm_stops_the_workers_at_once_and_a_rerun_resumes_to_identical_results(
        tmp_path: Path, spawned: Spawned) -> None:
    path = config(tmp_path)
    out = tmp_path / "out"
    # --quiet: no progress manager, whose shutdown would end the workers' runs early by accident.
    proc = spawned.start(sim_run(path, out, "--workers", "2", "--quiet"), tmp_path / "err.txt")
    children = workers_in_flight(spawned, proc, out)
    sent = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    status = proc.wait(timeout=60)
    took = time.monotonic() - sent
    err = (tmp_path / "err.txt").read_text()
    assert status == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert took < 3, f"the long runs in flight were waited for ({took:.1f} s)"
    wait_for(lambda: not any(alive(c) for c in children), timeout=5, what="the workers to be gone")
    assert records(out) == set(QUICK), "finished runs are saved, runs in flight are not"

    resumed = subprocess.run(sim_run(path, out, "--workers", "2", "--quiet"), cwd=ROOT, capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "4 runs (2 already done, 2 to run)" in resumed.stderr
    whole = tmp_path / "whole"
    subprocess.run(sim_run(path, whole, "--workers", "2", "--quiet"), cwd=ROOT, check=True, capture_output=True)
    for name in ("runs.parquet", "timeseries.parquet"):
        got, want = pd.read_parquet(out / name), pd.read_parquet(whole / name)
        pd.testing.assert_frame_equal(got.drop(columns="seconds", errors="ignore"),
                                      want.drop(columns="seconds", errors="ignore"), check_exact=True)


@pytest.mark.slow
def test_sigterm_of_a_serial_run_stops_it_instead_of_failing_the_run(
        tmp_path: Path, spawned: Spawned) -> None:
    out = tmp_path / "out"
    proc = spawned.start(sim_run(config(tmp_path), out, "--workers", "1", "--quiet"), tmp_path / "err.txt")
    wait_for(lambda: "baseline-r0" in records(out), what="the first run")
    time.sleep(1.0)                                    # into run long-r0
    os.kill(proc.pid, signal.SIGTERM)
    status = proc.wait(timeout=60)
    err = (tmp_path / "err.txt").read_text()
    assert status == 143, err
    assert records(out) == {"baseline-r0"}, "the interrupted run is not recorded (as failed or otherwise)"


@pytest.mark.slow
def test_two_identical_runs_into_one_folder_compute_each_run_once(
        tmp_path: Path, spawned: Spawned) -> None:
    path = config(tmp_path, steps=800)
    out = tmp_path / "out"
    cmd = sim_run(path, out, "--workers", "1", "--quiet")
    first = spawned.start(cmd, tmp_path / "first.txt")
    wait_for(lambda: bool(records(out)), what="the first run of the first process")
    second = spawned.start(cmd, tmp_path / "second.txt")
    assert first.wait(timeout=300) == 0, (tmp_path / "first.txt").read_text()
    assert second.wait(timeout=300) == 0, (tmp_path / "second.txt").read_text()
    err = (tmp_path / "second.txt").read_text()
    assert "waiting" in err and "4 runs (4 already done, 0 to run)" in err, err
    writers = {rid: json.loads((out / "runs" / f"{rid}.json").read_text())["pid"] for rid in records(out)}
    assert writers == dict.fromkeys(["baseline-r0", "baseline-r1", "long-r0", "long-r1"], first.pid)


def slow_creation(monkeypatch: pytest.MonkeyPatch, thread: str, seconds: float) -> None:
    """Make the named thread's folder creation take ``seconds`` (while it writes config.toml)."""
    real = sim.store.to_toml

    def slow(data: dict[str, Any]) -> str:
        if threading.current_thread().name == thread:
            time.sleep(seconds)
        return real(data)

    monkeypatch.setattr(sim.store, "to_toml", slow)


def in_thread(name: str, action: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    """Start ``action`` in a thread called ``name``; its return value or exception lands in the dict."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except Exception as exc:  # handed to the test
            outcome["value"] = exc

    thread = threading.Thread(target=target, name=name)
    thread.start()
    return thread, outcome


def opened(exp: Experiment, out: Path | None = None) -> tuple[Path, bool]:
    """Open (and release) the results folder of ``exp``: its path and whether it was resumed."""
    store, resumed = ResultsStore.open(exp, expand(exp), out)
    store.close()
    return store.root, resumed


def test_racing_creators_of_one_folder_get_the_right_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    exp_a, exp_b = (load_experiment(config(tmp_path, 25, seed, f"{seed}.toml")) for seed in (1, 2))
    slow_creation(monkeypatch, "A", 1.0)
    thread, a = in_thread("A", lambda: opened(exp_a, out))
    try:
        time.sleep(0.3)                                # A is creating the folder: B comes and wins
        assert opened(exp_b, out) == (out, False)
    finally:
        thread.join()
    assert load_results(out).manifest["config_hash"] == exp_b.config_hash
    assert isinstance(a["value"], ResultsError), a["value"]
    assert "holds results of another configuration" in str(a["value"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"


def test_identical_runs_without_out_share_one_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exp = load_experiment(config(tmp_path, 25), {"experiment.output": str(tmp_path / "results")})
    slow_creation(monkeypatch, "A", 1.2)               # past a second: its folder's timestamp is not B's
    thread, a = in_thread("A", lambda: opened(exp))
    try:
        time.sleep(0.3)
        root_b, resumed_b = opened(exp)
    finally:
        thread.join()
    assert a["value"] == (root_b, False) and resumed_b, "B resumes the folder A created"
    assert list((tmp_path / "results" / "signals").iterdir()) == [root_b]
