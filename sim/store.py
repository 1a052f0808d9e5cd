"""Results folders: self-describing, written atomically, resumable.

Layout of ``results/<experiment>/<UTC timestamp>-<config hash>/``::

    manifest.json        config as given and resolved, hash, seeds, versions, git, host, times, run status
    config.toml          the resolved experiment
    runs/<run_id>.json   one per finished or failed run (written last: the run's commit marker)
    runs/<run_id>.parquet    its daily time series
    runs/<run_id>.npz        its network snapshots, if any
    runs.parquet         one row per run (inputs, seed, status, outcomes)   } consolidated when the
    timeseries.parquet   all runs' time series, with a run_id column         } experiment ends

Every file is written to a temporary name and renamed, so a killed run leaves no half-written file; the
per-run files are the source of truth and readers use them, so a partial folder reads (and plots) fine.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment import Experiment, RunResult, RunSpec

__all__ = ["Results", "ResultsError", "ResultsStore", "load_results", "to_toml", "write_text_atomic"]

MANIFEST = "manifest.json"


class ResultsError(ValueError):
    """A folder that is not (or not this experiment's) results folder."""


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via ``write(tmp)`` to a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file + rename)."""
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()
                                if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(data: dict[str, Any]) -> str:
    """Plain data (tables of scalars, arrays, inline tables) as TOML text."""
    lines: list[str] = []

    def table(name: str, body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict) and v is not None}
        tables = {k: v for k, v in body.items() if isinstance(v, dict)}
        if name:
            lines.append(f"\n[{name}]")
        lines.extend(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in tables.items():
            table(f"{name}.{json.dumps(str(k))}" if name else json.dumps(str(k)), v)

    events = data.get("events", [])
    table("", {k: v for k, v in data.items() if k != "events"})
    for e in events:
        lines.append("\n[[events]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in e.items())
    return "\n".join(lines).lstrip() + "\n"


def _git_info() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("cyber-exile", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class ResultsStore:
    """A results folder being written by ``sim run``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    # Opening ---------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, exp: Experiment, specs: list[RunSpec], out: Path | None = None, new: bool = False,
             as_given: dict[str, Any] | None = None) -> tuple[ResultsStore, bool]:
        """The folder for ``exp``: ``out`` if given (resumed if it holds this experiment, refused if it holds
        another), else the newest folder of this config under ``experiment.output/<name>`` (unless ``new``),
        else a new timestamped one. Returns (store, resumed)."""
        if out is not None:
            store = cls(out)
            if (store.root / MANIFEST).exists():
                store._check_same(exp)
                return store, True
            if store.root.exists() and any(store.root.iterdir()):
                raise ResultsError(f"{store.root} exists, is not empty and is not a results folder; "
                                   "choose another --out")
        else:
            parent = Path(exp.base.experiment.output) / exp.name
            if not new:
                for folder in sorted(parent.glob(f"*-{exp.config_hash}"), reverse=True):
                    if (folder / MANIFEST).exists():
                        return cls(folder), True
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
            store = cls(parent / f"{stamp}-{exp.config_hash}")
        store._create(exp, specs, as_given or {})
        return store, False

    def _check_same(self, exp: Experiment) -> None:
        manifest = self.manifest()
        if manifest.get("config_hash") != exp.config_hash:
            raise ResultsError(
                f"{self.root} holds results of another configuration (experiment "
                f"'{manifest.get('name')}', config hash {manifest.get('config_hash')}; this config's hash is "
                f"{exp.config_hash}). Use another --out, or omit --out for a new folder.")

    def _create(self, exp: Experiment, specs: list[RunSpec], as_given: dict[str, Any]) -> None:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        manifest = {
            "name": exp.name,
            "description": exp.base.experiment.description,
            "config_path": exp.path,
            "config_as_given": as_given,
            "config_resolved": exp.resolved,
            "config_hash": exp.config_hash,
            "root_seed": exp.base.experiment.seed,
            "platforms": list(exp.base.platform_names),
            "incumbent": exp.base.platform_names[exp.base.incumbent],
            "start_date": exp.base.experiment.start_date,
            "scenarios": list(exp.scenarios),
            "sweep": ({"method": exp.sweep.method, "params": list(exp.sweep.params)} if exp.sweep else None),
            "events": [{"id": e.id, "day": e.day, "kind": e.kind} for e in exp.base.events],
            "scenario_events": {name: [{"id": e.id, "day": e.day, "kind": e.kind} for e in s.scenario.events]
                                for name, s in {s.scenario_name: s for s in specs}.items()},
            "runs": {s.run_id: {"scenario": s.scenario_name, "point": s.point, "replication": s.replication,
                                "params": s.params, "seed": s.seed_record} for s in specs},
            "versions": _versions(),
            "git": _git_info(),
            "host": platform.node(),
            "command": sys.argv,
            "started": _now(),
            "finished": None,
        }
        write_text_atomic(self.root / "config.toml", to_toml(exp.resolved))
        self._write_manifest(manifest)

    # Writing -----------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text_atomic(self.root / MANIFEST, json.dumps(manifest, indent=1, default=str))

    def finished(self) -> set[str]:
        """Ids of runs that finished (failed runs are retried on resume)."""
        return {rid for rid, meta in self._run_meta().items() if meta["status"] == "done"}

    def _run_meta(self) -> dict[str, dict[str, Any]]:
        out = {}
        for path in sorted(self.runs_dir.glob("*.json")):
            meta = json.loads(path.read_text(encoding="utf-8"))
            out[meta["run_id"]] = meta
        return out

    def write(self, result: RunResult) -> None:
        """Store one run whole: data files first, then its JSON record (the commit marker)."""
        base = self.runs_dir / result.run_id
        if result.timeseries is not None:
            ts = result.timeseries
            _atomic_write(base.with_suffix(".parquet"), lambda p: ts.to_parquet(p, index=False))
        if result.snapshots:
            snaps = result.snapshots

            def save(p: Path) -> None:
                with open(p, "wb") as fh:
                    np.savez_compressed(fh, **snaps)

            _atomic_write(base.with_suffix(".npz"), save)
        meta = {"run_id": result.run_id, "status": result.status, "seconds": round(result.seconds, 3),
                "outcomes": result.outcomes, "error": result.error, "written": _now()}
        write_text_atomic(base.with_suffix(".json"), json.dumps(meta, indent=1, default=float))

    def finish(self, scheduled: int) -> dict[str, int]:
        """Consolidate runs.parquet and timeseries.parquet and close the manifest. Returns the counts."""
        results = load_results(self.root)
        _atomic_write(self.root / "runs.parquet", lambda p: results.runs.to_parquet(p, index=False))
        _atomic_write(self.root / "timeseries.parquet", lambda p: results.timeseries.to_parquet(p, index=False))
        manifest = self.manifest()
        status = results.runs["status"] if len(results.runs) else pd.Series(dtype=str)
        counts = {"scheduled": scheduled, "done": int((status == "done").sum()),
                  "failed": int((status == "failed").sum())}
        manifest.update(counts=counts, finished=_now())
        self._write_manifest(manifest)
        return counts


@dataclass(frozen=True)
class Results:
    """A results folder as read: manifest, one row per run, and the time series of finished runs."""

    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    timeseries: pd.DataFrame

    @property
    def done(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "done"] if len(self.runs) else self.runs

    def snapshots(self, run_id: str) -> dict[str, np.ndarray]:
        """A run's saved network snapshots (empty if it saved none)."""
        path = self.root / "runs" / f"{run_id}.npz"
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def load_results(root: str | Path) -> Results:
    """Read a results folder (finished or partial) from its per-run files."""
    root = Path(root)
    if not (root / MANIFEST).is_file():
        raise ResultsError(f"{root} is not a results folder (no {MANIFEST}); results folders are written by "
                           "'sim run' under results/<experiment>/")
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    rows, series = [], []
    store = ResultsStore(root)
    for rid, meta in store._run_meta().items():
        info = manifest["runs"].get(rid, {})
        seed = info.get("seed", {})
        row = {"run_id": rid, "scenario": info.get("scenario"), "point": info.get("point"),
               "replication": info.get("replication"), "seed_entropy": str(seed.get("entropy")),
               "seed_spawn_key": json.dumps(seed.get("spawn_key")), "status": meta["status"],
               "seconds": meta["seconds"], "error": meta["error"]}
        row |= {f"param:{k}": v for k, v in info.get("params", {}).items()}
        row |= meta["outcomes"]
        rows.append(row)
        ts_path = store.runs_dir / f"{rid}.parquet"
        if meta["status"] == "done" and ts_path.exists():
            ts = pd.read_parquet(ts_path)
            ts.insert(0, "run_id", rid)
            series.append(ts)
    runs = pd.DataFrame(rows)
    if len(runs):
        runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
    timeseries = (pd.concat(series, ignore_index=True).sort_values(["run_id", "day"], kind="stable")
                  .reset_index(drop=True) if series else pd.DataFrame())
    return Results(root=root, manifest=manifest, runs=runs, timeseries=timeseries)
