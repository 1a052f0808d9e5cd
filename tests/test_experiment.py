"""Experiments: expansion, common random numbers, executors, the results store, resuming, failures."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from sim import make_model
from sim.cli import main
from sim.config import ConfigError
from sim.experiment import expand, iter_results, load_experiment, make_executor, run_one
from sim.progress import RunBars, RunProgress
from sim.store import ResultsError, ResultsStore, load_results

EXPERIMENT = """
[experiment]
name = "tiny"
seed = 99
replications = 3
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

[[events]]
id = "apology"
day = 12
kind = "apology_refusal"
reach = 0.7
credibility = 0.4

[scenarios.no_apology]
"events.apology.enabled" = false

[scenarios.loud.behaviour]
mu = 0.8
"""


def write(tmp_path: Path, text: str = EXPERIMENT, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str) -> int:
    return main(["run", *args, "--quiet"])


def frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = load_results(folder)
    keep = [c for c in r.runs.columns if c not in ("seconds",)]
    return r.runs[keep], r.timeseries


def test_expansion_is_interleaved_and_uses_common_random_numbers(tmp_path):
    specs = expand(load_experiment(write(tmp_path)))
    assert len(specs) == 3 * 3
    assert [s.scenario_name for s in specs[:3]] == ["baseline", "no_apology", "loud"]
    assert [s.replication for s in specs] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for rep in range(3):
        seeds = {(s.seed.entropy, s.seed.spawn_key) for s in specs if s.replication == rep}
        assert len(seeds) == 1, "replication i must share its seed across scenarios"
    assert len({(s.seed.entropy, s.seed.spawn_key) for s in specs}) == 3
    root = np.random.SeedSequence(99).spawn(3)
    assert [s.seed.spawn_key for s in specs[::3]] == [c.spawn_key for c in root]


def test_scenario_overrides_apply_only_to_their_scenario(tmp_path):
    specs = {s.scenario_name: s.scenario for s in expand(load_experiment(write(tmp_path)))}
    assert [e.id for e in specs["no_apology"].events] == ["crackdown"]
    assert [e.id for e in specs["baseline"].events] == ["crackdown", "apology"]
    assert specs["loud"].behaviour.mu == 0.8 and specs["baseline"].behaviour.mu != 0.8


def test_grid_sweep_expands_the_full_factorial(tmp_path):
    sweep = '[sweep]\n"behaviour.mu" = [0.2, 0.4]\n"network.mean_degree" = [4, 6, 8]\n'
    text = EXPERIMENT.split("[scenarios")[0] + sweep
    specs = expand(load_experiment(write(tmp_path, text)))
    assert len(specs) == 6 * 3
    assert {(s.params["behaviour.mu"], s.params["network.mean_degree"]) for s in specs} == {
        (a, b) for a in (0.2, 0.4) for b in (4, 6, 8)}
    assert specs[0].scenario.behaviour.mu == 0.2 and specs[0].scenario.network.mean_degree == 4


def test_lhs_sweep_is_seeded_and_stratified(tmp_path):
    text = (EXPERIMENT.split("[scenarios")[0] + '[sweep]\nmethod = "lhs"\nsamples = 8\n'
            '"behaviour.mu" = { low = 0.0, high = 0.8 }\n"network.kind" = ["watts_strogatz", "erdos_renyi"]\n')
    exp = load_experiment(write(tmp_path, text))
    points = exp.sweep.points(99)
    assert points == exp.sweep.points(99) != exp.sweep.points(100)
    strata = sorted(int(p["behaviour.mu"] / 0.1) for p in points)
    assert strata == list(range(8)), "one sample per stratum"
    assert sorted(p["network.kind"] for p in points).count("erdos_renyi") == 4


@pytest.mark.parametrize(("fragment", "message"), [
    ('[scenarios.x]\n"behaviour.b_psh" = 1\n',
     r"unknown key 'behaviour.b_psh' in .*\[scenarios.x\]; did you mean 'b_push'"),
    ('[scenarios.x]\n"events.apolgy.day" = 4\n', r"no event with id 'apolgy'; did you mean 'apology'"),
    ('[sweep]\n"behaviour.mu" = []\n', r"sweep.\"behaviour.mu\".*expected a non-empty list"),
    ('[sweep]\nmethod = "lhs"\nsamples = 4\n"behaviour.mu" = { low = "a", high = 1 }\n',
     r"sweep.\"behaviour.mu\".*expected \{low = <number>, high = <number>\}"),
    ('[sweep]\n"behaviour.mu" = 0.3\n', r"expected a list of values"),
    ('[sweep]\n"behaviour.mu" = [2.0]\n', r"behaviour.mu.*expected a value in \[0.0, 1.0\]"),
    ('[sweep]\nmethod = "random"\n"behaviour.mu" = [0.1]\n', r"sweep.method.*expected 'grid' or 'lhs'"),
])
def test_bad_experiment_configs_get_clear_errors(tmp_path, fragment, message):
    text = EXPERIMENT.split("[scenarios")[0] + fragment
    with pytest.raises(ConfigError, match=message):
        load_experiment(write(tmp_path, text))


def test_cli_reports_config_errors_without_a_traceback(tmp_path, capsys):
    path = write(tmp_path, EXPERIMENT + '\n[scenarios.y]\n"behaviour.b_psh" = 1\n')
    assert run_cli(str(path), "--out", str(tmp_path / "out")) == 2
    assert "did you mean 'b_push'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "nothing written for a bad config"


def test_run_writes_a_self_describing_results_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(str(write(tmp_path)), "--out", str(out), "--workers", "1") == 0
    printed = capsys.readouterr().out
    assert "no_apology" in printed and "peak telegram" in printed
    for name in ("manifest.json", "config.toml", "runs.parquet", "timeseries.parquet"):
        assert (out / name).is_file()
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == {"scheduled": 9, "done": 9, "failed": 0}
    assert m["root_seed"] == 99 and len(m["config_hash"]) == 12
    assert m["runs"]["loud-r1"]["seed"] == {"entropy": 99, "spawn_key": [1]}
    assert {"mesa", "numpy", "python"} <= set(m["versions"])
    assert {"commit", "dirty"} <= set(m["git"]) and m["host"]
    assert m["started"][-6] in "+-" and m["finished"][-6] in "+-"      # ISO 8601 with zone
    assert "[scenarios.loud.behaviour]" in m["config_as_given"]["text"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["status"]) == {"done"} and len(runs) == 9
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 9 * 26
    assert not list(out.rglob("*.tmp")), "no temporary files left behind"


def test_results_command_shows_scenarios_side_by_side(tmp_path, capsys):
    out = tmp_path / "out"
    run_cli(str(write(tmp_path)), "--out", str(out), "--workers", "1")
    capsys.readouterr()
    assert main(["results", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[0] for line in lines if line.split() and line.split()[0] in ("baseline", "no_apology", "loud")]
    assert rows == ["baseline", "no_apology", "loud"]


def test_rerun_resumes_without_recomputing_finished_runs(tmp_path, capsys):
    out = tmp_path / "out"
    path = write(tmp_path)
    run_cli(str(path), "--out", str(out), "--workers", "1")
    written = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    (out / "runs" / "loud-r2.json").unlink()                       # as if that run never finished
    capsys.readouterr()
    run_cli(str(path), "--out", str(out), "--workers", "1")
    assert "8 already done, 1 to run" in capsys.readouterr().err
    now = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    assert {k for k in now if now[k] != written.get(k)} == {"loud-r2.json"}


def test_a_different_config_is_refused_in_an_existing_folder(tmp_path, capsys):
    out = tmp_path / "out"
    run_cli(str(write(tmp_path)), "--out", str(out), "--workers", "1")
    other = write(tmp_path, EXPERIMENT.replace("seed = 99", "seed = 100"), "other.toml")
    assert run_cli(str(other), "--out", str(out), "--workers", "1") == 2
    assert "holds results of another configuration" in capsys.readouterr().err


def test_without_out_the_same_config_reuses_its_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path)
    run_cli(str(path), "--workers", "1")
    run_cli(str(path), "--workers", "1")
    assert "resuming" in capsys.readouterr().err
    assert len(list((tmp_path / "results" / "tiny").iterdir())) == 1


def test_a_run_that_raises_is_stored_as_failed_while_the_rest_finish(tmp_path, capsys, monkeypatch):
    import sim.experiment as experiment

    def exploding(scenario, seed):
        if scenario.population.seed_adopters == 7:
            raise RuntimeError("the model exploded")
        return make_model(scenario, seed)

    make_model = experiment.make_model
    monkeypatch.setattr(experiment, "make_model", exploding)
    text = EXPERIMENT + '\n[scenarios.broken]\n"population.seed_adopters" = 7\n'
    out = tmp_path / "out"
    assert run_cli(str(write(tmp_path, text)), "--out", str(out), "--workers", "1") == 1
    assert "3 run(s) failed" in capsys.readouterr().err
    r = load_results(out)
    failed = r.runs[r.runs["status"] == "failed"]
    assert sorted(failed["run_id"]) == ["broken-r0", "broken-r1", "broken-r2"]
    assert all("the model exploded" in e and "Traceback" in e for e in failed["error"])
    assert len(r.done) == 9 and r.manifest["counts"]["failed"] == 3


def test_serial_results_come_one_run_at_a_time(tmp_path, monkeypatch):
    """With --workers 1 each run is stored before the next starts (not all at the end)."""
    import sim.experiment as experiment

    calls: list[str] = []
    real = experiment.run_one
    monkeypatch.setattr(experiment, "run_one", lambda spec: calls.append(spec.run_id) or real(spec))
    specs = expand(load_experiment(write(tmp_path)))
    results = iter_results(make_executor(workers=1)[0], specs)
    first = next(results)
    assert calls == [first.run_id]
    assert [r.run_id for r in results] == [s.run_id for s in specs[1:]]
    assert len(calls) == len(specs)


def _progress_of_each_run(messages: list[RunProgress]) -> dict[str, list[tuple[str, int, int]]]:
    out: dict[str, list[tuple[str, int, int]]] = {}
    for m in messages:
        out.setdefault(m.run_id, []).append((m.stage, m.done, m.total))
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_each_run_reports_its_network_then_its_days_then_its_end(tmp_path, workers):
    specs = expand(load_experiment(write(tmp_path)))
    messages: list[RunProgress] = []
    executor, _ = make_executor(workers=workers)
    try:
        results = list(iter_results(executor, specs, messages.append))
    finally:
        executor.shutdown()
    assert len(results) == len(specs)
    runs = _progress_of_each_run(messages)
    assert sorted(runs) == sorted(s.run_id for s in specs)
    for stages in runs.values():
        assert stages[0] == ("graph", 0, 0) and stages[1] == ("days", 0, 25) and stages[-1] == ("end", 0, 0)
        days = [done for stage, done, _ in stages if stage == "days"]
        assert days == sorted(days) and days[-1] == 25
        if workers == 1:
            assert days == list(range(26))  # in-process: every day; from workers: throttled


def test_run_bars_appear_only_for_runs_that_last(capsys):
    bars = RunBars(delay=3600)
    bars(RunProgress("r0", "graph"))
    bars(RunProgress("r0", "days", 0, 10))
    bars(RunProgress("r0", "days", 5, 10))
    assert bars._bars["r0"][0].n == 5 and bars._bars["r0"][0].total == 10
    bars(RunProgress("r0", "end"))
    assert not bars._bars
    assert "r0" not in capsys.readouterr().err  # a delay not reached: nothing was drawn


def _results_via(executor_args: dict, path: Path, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    exp = load_experiment(path)
    specs = expand(exp)
    store, _ = ResultsStore.open(exp, specs, out)
    executor, resources = make_executor(**executor_args)
    try:
        for result in iter_results(executor, specs):
            store.write(result)
    finally:
        executor.shutdown()
        for r in resources:
            r.close()
    store.finish(len(specs))
    return frames(out)


@pytest.mark.slow
def test_serial_and_process_pool_give_identical_results(tmp_path):
    path = write(tmp_path)
    serial = _results_via({"workers": 1}, path, tmp_path / "serial")
    pool = _results_via({"workers": 2}, path, tmp_path / "pool")
    pd.testing.assert_frame_equal(serial[0], pool[0], check_exact=True)
    pd.testing.assert_frame_equal(serial[1], pool[1], check_exact=True)


@pytest.mark.slow
@pytest.mark.cluster
def test_dask_local_cluster_gives_the_same_results_as_serial(tmp_path):
    pytest.importorskip("distributed")
    from sim.cli import main

    path = write(tmp_path)
    serial = _results_via({"workers": 1}, path, tmp_path / "serial")
    # through the command line, as a user runs it (its executor's shutdown differs from a pool's)
    assert main(["run", str(path), "--dask", "--workers", "2", "--quiet", "--out", str(tmp_path / "dask")]) == 0
    dask = frames(tmp_path / "dask")
    pd.testing.assert_frame_equal(serial[0], dask[0], check_exact=True)
    pd.testing.assert_frame_equal(serial[1], dask[1], check_exact=True)


@pytest.mark.slow
@pytest.mark.cluster
def test_scheduler_address_connects_to_a_running_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = _results_via({"scheduler": cluster.scheduler_address}, path, tmp_path / "remote")
    serial = _results_via({"workers": 1}, path, tmp_path / "serial")
    pd.testing.assert_frame_equal(serial[1], remote[1], check_exact=True)


@pytest.mark.slow
def test_killed_run_resumes_to_exactly_the_uninterrupted_results(tmp_path):
    text = EXPERIMENT.replace("replications = 3", "replications = 12").replace("n = 400", "n = 3000")
    path = write(tmp_path, text)
    sim_cmd = [sys.executable, "-m", "sim.cli", "run", str(path), "--workers", "1", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*sim_cmd, "--out", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((killed / "runs").glob("*.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in (killed / "runs").glob("*.json")}
    assert 5 <= len(before) < 36, "killed mid-experiment"
    assert not (killed / "runs.parquet").exists()
    subprocess.run([*sim_cmd, "--out", str(killed)], cwd=ROOT, check=True, capture_output=True)
    after = {p.name: p.stat().st_mtime_ns for p in (killed / "runs").glob("*.json")}
    assert all(after[k] == v for k, v in before.items()), "finished runs were not recomputed"
    assert len(after) == 36
    subprocess.run([*sim_cmd, "--out", str(tmp_path / "whole")], cwd=ROOT, check=True, capture_output=True)
    got, want = frames(killed), frames(tmp_path / "whole")
    pd.testing.assert_frame_equal(got[0], want[0], check_exact=True)
    pd.testing.assert_frame_equal(got[1], want[1], check_exact=True)


def test_not_a_results_folder_is_reported(tmp_path):
    with pytest.raises(ResultsError, match="is not a results folder"):
        load_results(tmp_path)


def test_one_run_asked_to_use_workers_runs_here_and_says_so(tmp_path, capsys):
    args = ["run", str(ROOT / "experiments" / "korea_2014.toml"), "--replications", "1", "--steps", "5",
            "--set", "population.n=300", "--quiet", "--out", str(tmp_path / "one")]
    assert main([*args, "--workers", "2"]) == 0
    said = capsys.readouterr().err
    assert "note: one run to do: it runs in this process (--workers 2 would add only start-up)" in said
    assert main([*args[:-1], str(tmp_path / "two")]) == 0                 # the default: nothing to say
    assert "one run to do" not in capsys.readouterr().err


def test_a_run_whose_initial_state_is_not_finite_is_failed_never_done(tmp_path):
    """A scenario that slips past the config's ranges (built in code) fails at set-up with a clear error."""
    import dataclasses

    from sim.experiment import run_one

    spec = expand(load_experiment(write(tmp_path)))[0]
    s = spec.scenario
    broken = dataclasses.replace(s, population=dataclasses.replace(s.population, taste_sd=1e308),
                                 behaviour=dataclasses.replace(s.behaviour, b_appeal=10.0))
    result = run_one(dataclasses.replace(spec, scenario=broken))
    assert result.status == "failed" and result.timeseries is None
    assert "FloatingPointError: set-up: the users'" in result.error


def test_an_override_of_the_network_kind_leaves_out_the_mean_degree_it_does_not_use(tmp_path, capsys):
    """--set network.kind=complete on a file with a mean degree runs a complete graph, with a note; a sweep over
    network.kind may include complete and file (the others keep the file's mean degree)."""
    text = EXPERIMENT.replace("replications = 3", "replications = 1").split("[scenarios.no_apology]")[0]
    path = write(tmp_path, text)
    exp = load_experiment(path, {"network.kind": "complete"})
    assert exp.base.network.kind == "complete"
    assert exp.notices == (f"--set network.kind=complete: network.mean_degree = 6 of {path} does not apply to kind "
                           "'complete' and is not used",)
    with pytest.raises(ConfigError, match=r"with --set network.kind, --set network.mean_degree: does not apply"):
        load_experiment(path, {"network.kind": "complete", "network.mean_degree": 6})
    sweep = '\n[sweep]\n"network.kind" = ["erdos_renyi", "complete"]\n'
    swept = load_experiment(write(tmp_path, text + sweep, "s.toml"))
    kinds = {(s.scenario.network.kind, s.scenario.network.mean_degree) for s in expand(swept)}
    assert kinds == {("erdos_renyi", 6.0), ("complete", 10.0)}  # complete ignores the (default) mean degree
    assert any("sweep points with network.kind = 'complete'" in n for n in swept.notices)
    assert run_cli(str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--set", "network.kind=complete") == 0
    assert "note: --set network.kind=complete: network.mean_degree = 6" in capsys.readouterr().err


def test_overrides_may_repair_a_file_that_is_invalid_alone(tmp_path):
    bad = EXPERIMENT.replace("mean_degree = 6", "mean_degree = 5").split("[scenarios.no_apology]")[0]
    path = write(tmp_path, bad)
    with pytest.raises(ConfigError, match=r"in .*tiny.toml: expected an even whole number"):
        load_experiment(path)
    assert load_experiment(path, {"network.kind": "erdos_renyi"}).base.network.kind == "erdos_renyi"
    (tmp_path / "g.txt").write_text("0 1\n1 2\n2 3\n3 4\n4 0\n")
    five = bad.replace('kind = "watts_strogatz"\nmean_degree = 5', 'kind = "file"\nfile = "g.txt"')
    assert load_experiment(write(tmp_path, five, "f.toml"), {"population.n": 5}).base.population.n == 5


def test_the_config_hash_covers_the_observed_data_files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "obs.csv").write_text("day,value\n0,0.01\n7,0.02\n")
    text = EXPERIMENT.split("[scenarios.no_apology]")[0] + (
        '\n[observed]\nfolder = "data"\n\n[[observed.series]]\nid = "obs"\nfile = "obs.csv"\n'
        'model = "active.telegram"\n')
    path = write(tmp_path, text)
    before = load_experiment(path)
    assert str(data / "obs.csv") in before.inputs
    (data / "obs.csv").write_text("day,value\n0,0.01\n7,0.03\n")
    assert load_experiment(path).config_hash != before.config_hash


@pytest.mark.parametrize("engine", ["array", "mesa"])
def test_network_snapshots_hold_each_days_own_state(engine):
    """A snapshot is a copy: the engine's own arrays go on changing after it (the array engine reuses its
    buffers from day to day) and must not change it."""
    days = (20, 50, 80)
    spec = expand(load_experiment(ROOT / "experiments" / "korea_2014.toml", {
        "population.n": 3000, "experiment.steps": 80, "experiment.snapshot_days": list(days),
        "experiment.engine": engine, "experiment.replications": 1}))[0]
    result = run_one(spec)
    model = make_model(spec.scenario, spec.seed)
    expected = {}
    for day in range(1, max(days) + 1):
        model.step()
        if day in days:
            state = model.user_state()
            expected[day] = (state.primary.copy(), state.active.copy())
    assert any((expected[a][0] != expected[b][0]).any() for a, b in itertools.pairwise(days))  # primaries move
    for day in days:
        np.testing.assert_array_equal(result.snapshots[f"primary_{day}"], expected[day][0], err_msg=f"day {day}")
        np.testing.assert_array_equal(result.snapshots[f"active_{day}"], expected[day][1], err_msg=f"day {day}")
