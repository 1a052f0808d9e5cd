"""Results-folder integrity: every kind of file of a folder truncated, garbled, emptied or deleted, then read
(``sim results``, ``sim plot``) and resumed (``sim run``); checksums, aggregates that hold more runs, file modes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.experiment as experiment
from sim.cli import main
from sim.experiment import RunResult, RunSpec
from sim.progress import Report

CONFIG = """
[experiment]
name = "integrity"
seed = 5
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

[scenarios.loud]
"behaviour.mu" = 0.8
"experiment.snapshot_days" = [0, 10]
"""

RUNS = ("baseline-r0", "baseline-r1", "loud-r0", "loud-r1")
SNAPSHOT_RUNS = {"loud-r0", "loud-r1"}  # only scenario 'loud' saves network snapshots
TARGET = "loud-r1"                      # the run whose files are damaged
FILE_DAMAGE = ("truncate", "garble", "empty", "delete")
JSON_DAMAGE = (*FILE_DAMAGE, "{}", "[]")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "integrity.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pristine(config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An undamaged folder of the experiment, written once for the module (never modified)."""
    out = tmp_path_factory.mktemp("pristine") / "out"
    assert main(["run", str(config), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert sorted(p.name for p in (out / "runs").glob("*.npz")) == sorted(f"{r}.npz" for r in SNAPSHOT_RUNS)
    return out


def copy(pristine: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    shutil.copytree(pristine, folder)
    return folder


def damage(path: Path, how: str) -> None:
    """Damage a file (or every file of a folder) as a crash, a full disk or a careless hand would."""
    if path.is_dir():
        if how == "delete":
            shutil.rmtree(path)
        else:
            for child in path.iterdir():
                child.unlink() if how == "empty" else damage(child, how)
        return
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garble":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + b"\x00\xff garbled \xfe\x00" + data[middle + 14:])
    elif how == "empty":
        path.write_bytes(b"")
    else:  # valid JSON of the wrong shape
        path.write_text(how, encoding="utf-8")


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``sim ARGV`` in this process: exit status, stdout, stderr."""
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The folder's aggregates as written, less the run times (a re-run run takes its own time)."""
    return (pd.read_parquet(folder / "runs.parquet").drop(columns="seconds"),
            pd.read_parquet(folder / "timeseries.parquet"))


def loaded(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The folder as the readers see it (sim results, sim plot), less the run times."""
    from sim.store import load_results

    r = load_results(folder)
    return r.runs.drop(columns="seconds"), r.timeseries


def assert_same_data(folder: Path, pristine: Path) -> None:
    """Every run's data and both aggregates equal the undamaged folder's, exactly."""
    for got, want in zip(frames(folder), frames(pristine), strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    for rid in RUNS:
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "runs" / f"{rid}.parquet"),
                                      pd.read_parquet(pristine / "runs" / f"{rid}.parquet"), check_exact=True)
    for rid in SNAPSHOT_RUNS:
        with np.load(folder / "runs" / f"{rid}.npz") as got, np.load(pristine / "runs" / f"{rid}.npz") as want:
            assert sorted(got.files) == sorted(want.files)
            for key in want.files:
                np.testing.assert_array_equal(got[key], want[key])
    assert (folder / "config.toml").read_text() == (pristine / "config.toml").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config_hash"] == json.loads((pristine / "manifest.json").read_text())["config_hash"]
    assert manifest["counts"] == {"scheduled": 4, "done": 4, "failed": 0}
    assert not list(folder.rglob("*.tmp")), "no temporary files left behind"


def count_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the runs computed from now on (in this process: --workers 1)."""
    computed: list[str] = []
    real = experiment.run_one

    def counting(spec: RunSpec, report: Report | None = None) -> RunResult:
        computed.append(spec.run_id)
        return real(spec, report)

    monkeypatch.setattr(experiment, "run_one", counting)
    return computed


def assert_one_line_error(status: int, err: str, names: Path) -> None:
    assert status == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, f"one line expected, got {err!r}"
    assert str(names) in err, f"the message should name {names}: {err!r}"
    assert "Traceback" not in err


# (file, damages, what the readers do: "error" | "ok" (all runs) | "partial" (all but TARGET), runs re-run)
CASES = [
    *[("manifest.json", how, "error", set()) for how in JSON_DAMAGE],
    *[("config.toml", how, "ok", set()) for how in FILE_DAMAGE],
    *[(f"runs/{TARGET}.json", how, "error", {TARGET}) for how in JSON_DAMAGE if how != "delete"],
    (f"runs/{TARGET}.json", "delete", "partial", {TARGET}),  # a deleted record withdraws its run
    *[(f"runs/{TARGET}.parquet", how, "error", {TARGET}) for how in FILE_DAMAGE],
    *[(f"runs/{TARGET}.npz", how, "error", {TARGET}) for how in FILE_DAMAGE],
    *[("runs.parquet", how, "ok", set()) for how in FILE_DAMAGE],
    *[("timeseries.parquet", how, "ok", set()) for how in FILE_DAMAGE],
    ("runs", "delete", "ok", SNAPSHOT_RUNS),   # read from the aggregates; runs whose snapshots are gone re-run
    ("runs", "empty", "ok", SNAPSHOT_RUNS),
    ("runs", "garble", "error", set(RUNS)),
]


@pytest.mark.parametrize(("name", "how", "readers", "rerun"), CASES,
                         ids=[f"{name}-{how}" for name, how, _, _ in CASES])
def test_a_damaged_folder_reads_or_fails_clearly_and_a_rerun_repairs_exactly_the_damage(
        name: str, how: str, readers: str, rerun: set[str], pristine: Path, config: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy(pristine, tmp_path)
    damage(folder / name, how)
    damaged = folder / name

    status, out, err = call(capsys, "results", str(folder))
    if readers == "error":
        assert_one_line_error(status, err, damaged)
        status, _, err = call(capsys, "plot", str(folder), "--out", str(tmp_path / "figures"))
        assert_one_line_error(status, err, damaged)
        assert not (tmp_path / "figures").exists()
    else:
        assert status == 0, err
        expected = len(RUNS) - (readers == "partial")
        assert f"runs: {expected} done" in out
        runs, series = loaded(folder)
        want_runs, want_series = loaded(pristine)
        keep = want_runs["run_id"] != TARGET if readers == "partial" else want_runs["run_id"].notna()
        pd.testing.assert_frame_equal(runs, want_runs[keep].reset_index(drop=True), check_exact=True)
        keep = want_series["run_id"] != TARGET if readers == "partial" else want_series["run_id"].notna()
        pd.testing.assert_frame_equal(series, want_series[keep].reset_index(drop=True), check_exact=True)

    computed = count_runs(monkeypatch)
    status, _, err = call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet")
    assert status == 0, err
    assert sorted(computed) == sorted(rerun), "exactly the damaged runs are computed again"
    assert f"{len(RUNS)} runs ({len(RUNS) - len(rerun)} already done, {len(rerun)} to run)" in err
    if name.startswith("runs/") and how != "delete":
        assert str(damaged) in err, "the rerun says which file it found damaged"
    assert "Traceback" not in err
    assert_same_data(folder, pristine)
    assert call(capsys, "results", str(folder))[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize(("name", "how"), [("runs", "delete"), ("runs.parquet", "garble"),
                                           ("config.toml", "truncate"), (f"runs/{TARGET}.json", "delete")])
def test_plots_draw_a_damaged_folder_that_still_reads(name: str, how: str, pristine: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy(pristine, tmp_path)
    damage(folder / name, how)
    status, out, err = call(capsys, "plot", str(folder), "--out", str(tmp_path / "figures"))
    assert status == 0, err
    assert {Path(p).name for p in out.split()} >= {"timeseries.png", "scenario_outcomes.png"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_records_and_manifest_hold_checksums_of_the_data_files(pristine: Path) -> None:
    for rid in RUNS:
        record = json.loads((pristine / "runs" / f"{rid}.json").read_text())
        names = {f"{rid}.parquet"} | ({f"{rid}.npz"} if rid in SNAPSHOT_RUNS else set())
        assert record["files"] == {n: sha256(pristine / "runs" / n) for n in names}
    manifest = json.loads((pristine / "manifest.json").read_text())
    assert manifest["aggregates"] == {n: sha256(pristine / n) for n in ("runs.parquet", "timeseries.parquet")}


def test_deleting_a_runs_time_series_reruns_it_instead_of_halving_the_aggregates(
        pristine: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's example: runs/<id>.parquet deleted, the same command run again."""
    folder = copy(pristine, tmp_path)
    (folder / "runs" / "baseline-r1.parquet").unlink()
    status, _, err = call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet")
    assert status == 0, err
    assert "3 already done, 1 to run" in err and "baseline-r1.parquet" in err
    assert len(pd.read_parquet(folder / "timeseries.parquet")) == len(RUNS) * 26
    assert_same_data(folder, pristine)


def test_aggregates_holding_more_runs_are_kept_unless_rebuilding_is_asked_for(
        pristine: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy(pristine, tmp_path)
    (folder / "runs" / f"{TARGET}.json").unlink()          # withdrawn, and its re-run fails
    monkeypatch.setattr(experiment, "run_one",
                        lambda spec, report=None: RunResult(spec.run_id, "failed", 0.0, error="boom"))
    aggregates = {n: (folder / n).read_bytes() for n in ("runs.parquet", "timeseries.parquet")}
    status, _, err = call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet")
    assert status == 1, err
    assert "--rebuild-aggregates" in err and TARGET in err
    assert {n: (folder / n).read_bytes() for n in aggregates} == aggregates, "the fuller aggregates are kept"
    assert json.loads((folder / "manifest.json").read_text())["aggregates"] == {
        n: hashlib.sha256(b).hexdigest() for n, b in aggregates.items()}

    status, _, err = call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet",
                          "--rebuild-aggregates")
    assert status == 1, err
    runs = pd.read_parquet(folder / "runs.parquet").set_index("run_id")["status"]
    assert runs.to_dict() == {**dict.fromkeys(RUNS, "done"), TARGET: "failed"}
    assert len(pd.read_parquet(folder / "timeseries.parquet")) == (len(RUNS) - 1) * 26


def test_a_damaged_manifest_is_not_rebuilt_from_another_config(
        pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy(pristine, tmp_path)
    damage(folder / "manifest.json", "truncate")
    other = tmp_path / "other.toml"
    other.write_text(CONFIG.replace("seed = 5", "seed = 6"), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    status, _, err = call(capsys, "run", str(other), "--out", str(folder), "--workers", "1", "--quiet")
    assert_one_line_error(status, err, folder / "manifest.json")
    assert "config.toml" in err
    assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before, "nothing touched"


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_files_and_folders_follow_the_umask(umask: int, config: Path, tmp_path: Path) -> None:
    previous = os.umask(umask)
    try:
        assert main(["run", str(config), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 0
    finally:
        os.umask(previous)
    paths = [tmp_path / "out", *(tmp_path / "out").rglob("*")]
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in paths}
    want = {name: (0o777 if (tmp_path / name).is_dir() else 0o666) & ~umask for name in modes}
    assert modes == want


def test_a_deleted_runs_folder_with_damaged_aggregates_fails_clearly_and_runs_everything_again(
        pristine: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy(pristine, tmp_path)
    damage(folder / "runs", "delete")
    damage(folder / "timeseries.parquet", "garble")
    status, _, err = call(capsys, "results", str(folder))
    assert_one_line_error(status, err, folder / "timeseries.parquet")
    assert str(folder / "runs") in err
    computed = count_runs(monkeypatch)
    assert call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet")[0] == 0
    assert sorted(computed) == sorted(RUNS)
    assert_same_data(folder, pristine)


def test_a_folder_written_before_checksums_were_kept_reads_and_resumes(
        pristine: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Records without 'files' and a manifest without 'aggregates': their time series are checked by reading."""
    folder = copy(pristine, tmp_path)
    for path in (folder / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        record.pop("files", None)
        record.pop("pid", None)
        path.write_text(json.dumps(record))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("aggregates", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "config.toml").write_text((folder / "config.toml").read_text().split("\n", 1)[1])  # no hash line
    status, out, err = call(capsys, "results", str(folder))
    assert status == 0 and f"runs: {len(RUNS)} done" in out, err
    damage(folder / "runs" / "baseline-r0.parquet", "truncate")
    status, _, err = call(capsys, "results", str(folder))
    assert_one_line_error(status, err, folder / "runs" / "baseline-r0.parquet")

    computed = count_runs(monkeypatch)
    status, _, err = call(capsys, "run", str(config), "--out", str(folder), "--workers", "1", "--quiet")
    assert status == 0, err
    assert computed == ["baseline-r0"]
    assert str(folder / "config.toml") in err, "config.toml is brought up to date, saying so"
    assert_same_data(folder, pristine)
