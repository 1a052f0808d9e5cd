"""Results folders: self-describing, verified, written atomically, resumable, one writer at a time.

Layout of ``results/<experiment>/<UTC timestamp>-<config hash>/``::

    manifest.json        config as given and resolved, hash, seeds, versions, git, host, times, run status,
                         SHA-256 of the aggregates
    config.toml          the resolved experiment, headed by its config hash
    observed/<file>      an episode's observed data files (its [observed] series), so that the folder's figures
                         need nothing else
    runs/<run_id>.json   one per finished or failed run, with the SHA-256 of its data files (written last: the
                         run's commit marker)
    runs/<run_id>.parquet    its daily time series
    runs/<run_id>.npz        its network snapshots, if any
    runs.parquet         one row per run (inputs, seed, status, outcomes)   } consolidated when the
    timeseries.parquet   all runs' time series, with a run_id column         } experiment ends

What holds, whatever happens to the folder:

- Every file is written to a temporary name, flushed to disk and renamed, so a killed run leaves no half-written
  file; a new folder is built under a temporary name and renamed into place whole.
- A run counts as finished only if its record reads and its data files match the record's checksums; a resume
  runs any other run again, and the readers refuse a damaged one with an error naming the file.
- The per-run files are the primary copy. A run with no file left in ``runs/`` is read from the aggregates
  (verified against the manifest's checksums), and a resume restores its files from them (unless its network
  snapshots, which the aggregates do not hold, are lost: then it runs again).
- The aggregates are rebuilt from verified runs only, and never replaced by ones holding fewer finished runs
  unless asked to (``sim run --rebuild-aggregates``).
- ``sim run`` holds an exclusive lock (``flock``) on the folder while it writes: a second one waits, then
  resumes.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import io
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.errors import ResultsError
from sim.events import schedule
from sim.experiment import Experiment, RunResult, RunSpec

__all__ = ["Results", "ResultsError", "ResultsStore", "load_results", "to_toml", "write_text_atomic"]

MANIFEST = "manifest.json"
#: Folder of the copies of an episode's observed data files.
OBSERVED = "observed"
CONFIG = "config.toml"
AGGREGATES = ("runs.parquet", "timeseries.parquet")

#: What the readers take from a manifest, and its type.
_MANIFEST_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "config_hash": str, "config_path": str, "root_seed": int, "started": str, "runs": dict,
    "scenarios": list, "platforms": list, "incumbent": str}
#: What a run's record holds (besides ``files``, absent from records written before checksums were kept).
_RECORD_KEYS: dict[str, type | tuple[type, ...]] = {
    "run_id": str, "status": str, "seconds": (int, float), "outcomes": dict, "error": str}
#: Columns of runs.parquet that are not parameters (``param:*``) or outcomes.
_RUN_COLUMNS = ("run_id", "scenario", "point", "replication", "seed_entropy", "seed_spawn_key", "status", "seconds",
                "error")

Tell = Callable[[str], None]


class _DamageError(Exception):
    """A file of a results folder that cannot be used: its path and what is wrong with it ("is missing",
    "is damaged (...)")."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (it is an entry of the folder, not of the file)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, flushed to disk, renamed into
    place. It gets the mode a plain ``open`` would (0666 less the umask), unlike ``tempfile.mkstemp``'s 0600."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file + rename)."""
    _write_atomic(path, text.encode("utf-8"))


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _DamageError(path, "is missing") from None
    except IsADirectoryError:
        raise _DamageError(path, "is damaged (a folder, expected a file)") from None


def _read_parquet(path: Path, data: bytes) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise _DamageError(path, f"is damaged (not a readable Parquet file: {first})") from None


def _kind(value: Any) -> str:
    """How a JSON value is described in a message."""
    kinds = {list: "a JSON array", str: "a JSON string", bool: "true or false", int: "a number", float: "a number",
             type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _read_object(path: Path, keys: dict[str, type | tuple[type, ...]], what: str) -> dict[str, Any]:
    """The JSON object in ``path`` with (at least) ``keys`` of their types, else :class:`_DamageError`."""
    data = _read_bytes(path)
    if not data.strip():
        raise _DamageError(path, f"is empty (expected {what})")
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _DamageError(path, f"is damaged (not UTF-8 text; expected {what})") from None
    except json.JSONDecodeError as exc:
        raise _DamageError(path, f"is damaged (not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
                             f"expected {what})") from None
    if not isinstance(value, dict):
        raise _DamageError(path, f"is damaged (expected {what}, found {_kind(value)})")
    wrong = [k for k, kind in keys.items() if not isinstance(value.get(k), kind) or isinstance(value.get(k), bool)]
    if wrong:
        raise _DamageError(path, f"is damaged (expected {what}, found an object without a valid {', '.join(wrong)})")
    return value


def _flock(folder: Path, tell: Tell | None = None, busy: str = "") -> int:
    """A descriptor of ``folder`` holding an exclusive ``flock`` on it (released when it is closed, or when the
    process ends however it ends). If another process holds the lock, ``busy`` is told once and this waits."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if tell is not None:
                tell(busy)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = _flock(folder)
    try:
        yield
    finally:
        os.close(fd)


def _is_results_folder(root: Path) -> bool:
    """A results folder, maybe damaged: it has its manifest or its config (from which the manifest is rebuilt)."""
    return (root / MANIFEST).is_file() or (root / CONFIG).is_file()


def _config_text(exp: Experiment) -> str:
    """config.toml of ``exp``: headed by its hash, which also covers the files it reads (graph files)."""
    return (f"# config hash {exp.config_hash} (of this resolved experiment and the files it reads)\n"
            + to_toml(exp.resolved))


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


def observed_files(scenario: Scenario) -> dict[str, bytes]:
    """The scenario's observed data files (file name as in its ``[[observed.series]]`` -> contents)."""
    folder = Path(scenario.base_dir) / scenario.observed.folder
    return {spec.file: (folder / spec.file).read_bytes() for spec in scenario.observed.series}


def _git_info() -> dict[str, Any]:
    """The git commit of the code that ran, and whether it had uncommitted changes; both None unless the
    package is a git checkout's own ``sim/`` (an editable install). An installed wheel has no commit: its
    folder may lie inside some other repository (a virtualenv in a project), whose commit is not the code's."""
    unknown = {"commit": None, "dirty": None}
    root = Path(__file__).resolve().parent.parent  # the code's own location, not an output path
    try:
        top, commit = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=root, capture_output=True,
                                     text=True, check=True, timeout=10).stdout.splitlines()
        if Path(top).resolve() != root:
            return unknown
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return unknown
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
    """A results folder being written by ``sim run``. :meth:`open` locks it (one writer at a time) until
    :meth:`close`; use the store as a context manager."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self._unlock: weakref.finalize | None = None

    def _hold(self, fd: int) -> None:
        """Keep the folder's lock (descriptor ``fd``) until :meth:`close`, or until this store is collected."""
        self._unlock = weakref.finalize(self, os.close, fd)

    def close(self) -> None:
        """Release the folder's lock (another ``sim run`` waiting for it goes on)."""
        if self._unlock is not None:
            self._unlock()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Opening ---------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, exp: Experiment, specs: list[RunSpec], out: Path | None = None, new: bool = False,
             as_given: dict[str, Any] | None = None, tell: Tell | None = None) -> tuple[ResultsStore, bool]:
        """The folder for ``exp``, locked: ``out`` if given (resumed if it holds this experiment, refused if it
        holds another), else the newest folder of this config under ``experiment.output/<name>`` (unless
        ``new``), else a new timestamped one. Returns (store, resumed).

        A new folder appears whole (built under a temporary name, then renamed), so a racing ``sim run`` sees
        either no folder or a complete one. If another ``sim run`` holds the folder, ``tell`` says so and this
        waits for it. A damaged or missing manifest is rebuilt when config.toml matches this config (else
        ResultsError); a damaged or missing config.toml is rewritten; ``tell`` reports either."""
        tell = tell or (lambda message: None)
        as_given = as_given or {}
        if out is None:
            parent = Path(exp.base.experiment.output) / exp.name
            parent.mkdir(parents=True, exist_ok=True)
            with _locked(parent):  # two identical runs without --out agree on one folder
                found = None if new else next(
                    (f for f in sorted(parent.glob(f"*-{exp.config_hash}"), reverse=True) if _is_results_folder(f)),
                    None)
                if found is None:
                    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
                    found = parent / f"{stamp}-{exp.config_hash}"
                    store = cls._create(found, exp, specs, as_given)
                    if store is not None:
                        return store, False
            out = found  # resumed outside the parent's lock: waiting for its writer must not hold up others
        root = Path(out)
        if not _is_results_folder(root):
            if root.is_dir() and any(root.iterdir()):
                raise ResultsError(f"{root} exists, is not empty and is not a results folder (no {MANIFEST} or "
                                   f"{CONFIG}); choose another --out")
            store = cls._create(root, exp, specs, as_given)
            if store is not None:
                return store, False
            # Another process created the folder meanwhile: resumed, or refused, like any existing folder.
        store = cls(root)
        with suppress(_DamageError):  # another config's folder is refused at once, not after waiting for its lock
            store._refuse_other(store._manifest(), exp)
        for folder in (root, store.runs_dir):  # before any run: a run's files go into runs/, the aggregates beside
            if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
                raise ResultsError(f"{folder}: cannot write into it (permission denied or a read-only file system), "
                                   "so no run could be saved; make it writable, or choose another --out")
        store._hold(_flock(root, tell, f"{root} is being written by another 'sim run'; waiting for it to finish, "
                                       "then resuming"))
        try:
            store._check_same(exp, specs, as_given, tell)
        except BaseException:
            store.close()
            raise
        return store, True

    @classmethod
    def _create(cls, root: Path, exp: Experiment, specs: list[RunSpec], as_given: dict[str, Any]
                ) -> ResultsStore | None:
        """Build the folder under a temporary name and rename it to ``root``: the new store, locked, or None if
        another process created ``root`` first."""
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = root.parent / f".{root.name}.{secrets.token_hex(4)}.tmp"
        staging.mkdir()
        fd = None
        try:
            fd = _flock(staging)  # the lock is the folder's, whatever its name: held across the rename
            (staging / "runs").mkdir()
            write_text_atomic(staging / CONFIG, _config_text(exp))
            for name, data in observed_files(exp.base).items():
                (staging / OBSERVED / name).parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(staging / OBSERVED / name, data)
            cls(staging)._write_manifest(cls._new_manifest(exp, specs, as_given))
            try:
                os.rename(staging, root)  # atomic, and refused if root exists and is not empty
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                shutil.rmtree(staging)
                os.close(fd)
                return None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if fd is not None:
                os.close(fd)
            raise
        _fsync_dir(root.parent)
        store = cls(root)
        store._hold(fd)
        return store

    @staticmethod
    def _new_manifest(exp: Experiment, specs: list[RunSpec], as_given: dict[str, Any]) -> dict[str, Any]:
        return {
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
            "sweep": ({"method": exp.sweep.method, "params": list(exp.sweep.params), **exp.sweep.source}
                      if exp.sweep else None),
            "events": [{"id": e.id, "day": e.day, "kind": e.kind} for e in schedule(exp.base.events)],
            "scenario_events": {name: [{"id": e.id, "day": e.day, "kind": e.kind} for e in schedule(s.scenario.events)]
                                for name, s in {s.scenario_name: s for s in specs}.items()},
            "observed_files": {name: _sha256(data) for name, data in observed_files(exp.base).items()},
            "runs": {s.run_id: {"scenario": s.scenario_name, "point": s.point, "replication": s.replication,
                                "params": s.params, "seed": s.seed_record} for s in specs},
            "versions": _versions(),
            "git": _git_info(),
            "host": platform.node(),
            "command": sys.argv,
            "started": _now(),
            "finished": None,
        }

    def _check_same(self, exp: Experiment, specs: list[RunSpec], as_given: dict[str, Any], tell: Tell) -> None:
        """Refuse a folder of another config; rebuild a damaged manifest or config.toml of this one."""
        config = self.root / CONFIG
        expected = _config_text(exp)
        try:
            manifest = self._manifest()
        except _DamageError as damaged:
            found = config.read_bytes() if config.is_file() else None
            if found != expected.encode("utf-8"):
                why = "is missing" if found is None else "is damaged or holds another configuration"
                raise ResultsError(
                    f"{damaged}, and {config} {why}, so the folder's configuration is unknown: run the config "
                    "that wrote this folder (with the same options), or choose another --out") from None
            self._write_manifest(self._new_manifest(exp, specs, as_given) | {"rebuilt": _now()})
            tell(f"{damaged}; rebuilt it from this config, which matches {config} (its start time is now)")
            return
        self._refuse_other(manifest, exp)
        if not config.is_file() or config.read_bytes() != expected.encode("utf-8"):
            write_text_atomic(config, expected)
            tell(f"{config} was missing, damaged or out of date; rewritten from this config")
        files = observed_files(exp.base)
        for name, data in files.items():
            path = self.root / OBSERVED / name
            if not path.is_file() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(path, data)
                tell(f"{path} was missing or differs from the config's data file; copied again")
        sums = {name: _sha256(data) for name, data in files.items()}
        if manifest.get("observed_files") != sums:
            self._write_manifest(manifest | {"observed_files": sums})

    def _refuse_other(self, manifest: dict[str, Any], exp: Experiment) -> None:
        if manifest["config_hash"] != exp.config_hash:
            raise ResultsError(
                f"{self.root} holds results of another configuration (experiment "
                f"'{manifest['name']}', config hash {manifest['config_hash']}; this config's hash is "
                f"{exp.config_hash}). Use another --out, or omit --out for a new folder.")

    # Reading -----------------------------------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any]:
        return _read_object(self.root / MANIFEST, _MANIFEST_KEYS, "a results manifest")

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        write_text_atomic(self.root / MANIFEST, json.dumps(manifest, indent=1, default=str))

    def _traces(self) -> set[str]:
        """Ids of the runs with any file in runs/ (a record, a time series or snapshots)."""
        if not self.runs_dir.is_dir():
            return set()
        return {p.stem for p in self.runs_dir.iterdir() if p.suffix in (".json", ".parquet", ".npz")}

    def _record(self, run_id: str) -> dict[str, Any]:
        """The run's record, checked; ``files`` maps each data file to its SHA-256 (None for a record written
        before checksums were kept: its time series is then checked by reading it)."""
        path = self.runs_dir / f"{run_id}.json"
        meta = _read_object(path, _RECORD_KEYS, "a run record")
        if meta["run_id"] != run_id or meta["status"] not in ("done", "failed"):
            raise _DamageError(path, f"is damaged (expected run {run_id} done or failed, found run {meta['run_id']!r} "
                                 f"{meta['status']!r})")
        files = meta.setdefault("files", {f"{run_id}.parquet": None} if meta["status"] == "done" else {})
        own = {f"{run_id}.parquet", f"{run_id}.npz"}
        if (not isinstance(files, dict) or not set(files) <= own
                or not all(v is None or isinstance(v, str) for v in files.values())
                or (meta["status"] == "done" and f"{run_id}.parquet" not in files)):
            raise _DamageError(path, f"is damaged (expected 'files' to list {run_id}.parquet and its checksum)")
        return meta

    def _run_files(self, run_id: str, meta: dict[str, Any]) -> dict[str, bytes]:
        """The run's data files, verified against its record."""
        out = {}
        for name, digest in meta["files"].items():
            path = self.runs_dir / name
            data = _read_bytes(path)
            if digest is None:
                _read_parquet(path, data)
            elif _sha256(data) != digest:
                raise _DamageError(path, f"is damaged (its SHA-256 differs from the one in {run_id}.json)")
            out[name] = data
        return out

    def _aggregates(self, verified: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """runs.parquet and timeseries.parquet as written by :meth:`finish`. They must match the manifest's
        checksums: always if ``verified``, else only where the manifest has them."""
        try:
            sums = self._manifest().get("aggregates")
        except _DamageError:
            sums = None
        sums = sums if isinstance(sums, dict) else {}
        frames = []
        for name in AGGREGATES:
            path = self.root / name
            data = _read_bytes(path)
            if name in sums and _sha256(data) != sums[name]:
                raise _DamageError(path, f"is damaged (its SHA-256 differs from the one in {MANIFEST})")
            if verified and name not in sums:
                raise _DamageError(path, f"cannot be verified (no checksum in {MANIFEST})")
            frames.append(_read_parquet(path, data))
        runs, series = frames
        if not {"run_id", "status"} <= set(runs.columns) or "run_id" not in series.columns:
            raise _DamageError(self.root / AGGREGATES[0], "is damaged (no run_id or status column)")
        return runs, series

    def _read(self) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
        """Manifest, runs and time series, every file verified (:class:`_DamageError` if one is not): the runs of
        runs/, and from the aggregates those with no file in runs/."""
        manifest = self._manifest()
        rows, series = [], []
        for path in sorted(self.runs_dir.glob("*.json")):
            rid = path.stem
            meta = self._record(rid)
            info = manifest["runs"].get(rid, {})
            seed = info.get("seed", {})
            row = {"run_id": rid, "scenario": info.get("scenario"), "point": info.get("point"),
                   "replication": info.get("replication"), "seed_entropy": str(seed.get("entropy")),
                   "seed_spawn_key": json.dumps(seed.get("spawn_key")), "status": meta["status"],
                   "seconds": meta["seconds"], "error": meta["error"]}
            row |= {f"param:{k}": v for k, v in info.get("params", {}).items()}
            row |= meta["outcomes"]
            rows.append(row)
            if meta["status"] == "done":
                name = f"{rid}.parquet"
                ts = _read_parquet(self.runs_dir / name, self._run_files(rid, meta)[name])
                ts.insert(0, "run_id", rid)
                series.append(ts)
        run_frames = [pd.DataFrame(rows)] if rows else []
        traced = self._traces()
        if set(manifest["runs"]) - traced:  # only then can the aggregates hold a run that runs/ lacks
            try:
                agg_runs, agg_series = self._aggregates()
            except _DamageError as damaged:
                if not self.runs_dir.is_dir():
                    raise _DamageError(self.runs_dir, f"is missing, and {damaged}: nothing is left to read") from None
            else:
                run_frames.append(agg_runs[~agg_runs["run_id"].isin(traced)])
                series.append(agg_series[~agg_series["run_id"].isin(traced)])
        run_frames = [f for f in run_frames if len(f)]
        series = [f for f in series if len(f)]
        runs = (pd.concat(run_frames, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
                if run_frames else pd.DataFrame())
        timeseries = (pd.concat(series, ignore_index=True).sort_values(["run_id", "day"], kind="stable")
                      .reset_index(drop=True) if series else pd.DataFrame())
        return manifest, runs, timeseries

    # Writing -----------------------------------------------------------------------------------------------
    def verify(self, specs: list[RunSpec], tell: Tell | None = None) -> set[str]:
        """Ids of the runs of ``specs`` that finished and whose files are intact; the others are to run. Each run
        found damaged, or with data files but no record, is told (one line each). A run with no file left in
        runs/ is restored from the verified aggregates, unless its network snapshots (not in the aggregates)
        are lost with its files: then it runs again."""
        tell = tell or (lambda message: None)
        self.runs_dir.mkdir(exist_ok=True)
        traced = self._traces()
        in_aggregates: dict[str, str] = {}
        if any(spec.run_id not in traced for spec in specs):
            with suppress(_DamageError):  # unusable aggregates restore nothing
                agg_runs, agg_series = self._aggregates()
                in_aggregates = dict(zip(agg_runs["run_id"], agg_runs["status"], strict=True))
        finished: set[str] = set()
        restored: list[str] = []
        lost: list[str] = []
        for spec in specs:
            rid = spec.run_id
            if rid not in traced:
                if in_aggregates.get(rid) != "done":
                    continue
                days = spec.scenario.experiment.snapshot_days
                if any(day <= spec.scenario.experiment.steps for day in days):
                    lost.append(rid)
                    continue
                self._restore(agg_runs[agg_runs["run_id"] == rid].iloc[0], agg_series)
                restored.append(rid)
                finished.add(rid)
                continue
            if not (self.runs_dir / f"{rid}.json").exists():
                stray = sorted(self.runs_dir.glob(f"{rid}.*"))[0]
                tell(f"{stray} has no record {rid}.json (its run was stopped while being stored, or the record was "
                     f"deleted); run {rid} is run again")
                continue
            try:
                meta = self._record(rid)
                if meta["status"] == "done":
                    self._run_files(rid, meta)
                    finished.add(rid)
            except _DamageError as damaged:
                tell(f"{damaged}; run {rid} is run again")
        if restored:
            tell(f"restored {len(restored)} run(s) with no file left in {self.runs_dir} from the verified "
                 f"{' and '.join(AGGREGATES)}")
        if lost:
            tell(f"{len(lost)} run(s) with no file left in {self.runs_dir} saved network snapshots, which the "
                 f"aggregates do not hold; they are run again: {', '.join(lost)}")
        return finished

    def _restore(self, row: pd.Series, series: pd.DataFrame) -> None:
        """Write a finished run's files back from its row of runs.parquet and its rows of timeseries.parquet."""
        rid = row["run_id"]
        ts = series[series["run_id"] == rid].drop(columns="run_id").reset_index(drop=True)
        outcomes = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()
                    if k not in _RUN_COLUMNS and not str(k).startswith("param:")}
        meta = {"run_id": rid, "status": "done", "seconds": float(row["seconds"]), "outcomes": outcomes,
                "error": str(row["error"] or ""), "written": _now(), "pid": os.getpid(),
                "restored_from": list(AGGREGATES)}
        self._commit(meta, {f"{rid}.parquet": _parquet_bytes(ts)})

    def _commit(self, meta: dict[str, Any], blobs: dict[str, bytes]) -> None:
        """Write a run's data files, then its record with their checksums (the record commits the run)."""
        for name, data in blobs.items():
            _write_atomic(self.runs_dir / name, data)
        meta["files"] = {name: _sha256(data) for name, data in blobs.items()}
        _write_atomic(self.runs_dir / f"{meta['run_id']}.json", json.dumps(meta, indent=1, default=float).encode())

    def write(self, result: RunResult) -> None:
        """Store one run whole: data files first, then its JSON record (the commit marker) with their SHA-256
        and the writing process's id."""
        blobs = {}
        if result.timeseries is not None:
            blobs[f"{result.run_id}.parquet"] = _parquet_bytes(result.timeseries)
        if result.snapshots:
            blobs[f"{result.run_id}.npz"] = _npz_bytes(result.snapshots)
        meta = {"run_id": result.run_id, "status": result.status, "seconds": round(result.seconds, 3),
                "outcomes": result.outcomes, "error": result.error, "written": _now(), "pid": os.getpid()}
        self._commit(meta, blobs)

    def finish(self, scheduled: int, rebuild: bool = False, tell: Tell | None = None) -> dict[str, int]:
        """Consolidate runs.parquet and timeseries.parquet from the verified runs, record their checksums and
        close the manifest. Aggregates that hold finished runs which the runs lack are kept (and ``tell`` says
        so) unless ``rebuild``. Returns the counts."""
        results = load_results(self.root)
        done = set(results.done["run_id"]) if len(results.runs) else set()
        try:
            old_runs, _ = self._aggregates(verified=False)
            missing = sorted(set(old_runs.loc[old_runs["status"] == "done", "run_id"]) - done)
        except _DamageError:
            missing = []
        manifest = results.manifest
        if missing and not rebuild:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            (tell or (lambda message: None))(
                f"kept {self.root / AGGREGATES[0]} and {AGGREGATES[1]}: they hold {len(missing)} finished run(s) "
                f"that runs/ lacks ({shown}); run again with --rebuild-aggregates to replace them with the "
                f"{len(done)} finished run(s) of runs/")
        else:
            sums = {}
            for name, frame in zip(AGGREGATES, (results.runs, results.timeseries), strict=True):
                data = _parquet_bytes(frame)
                _write_atomic(self.root / name, data)
                sums[name] = _sha256(data)
            manifest["aggregates"] = sums
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

    def observed_folder(self) -> Path:
        """The folder of the copies of the episode's observed data files, each verified against its checksum
        (ResultsError naming the file if one is missing or damaged)."""
        folder = self.root / OBSERVED
        for name, digest in self.manifest.get("observed_files", {}).items():
            path = folder / name
            if not path.is_file() or _sha256(path.read_bytes()) != digest:
                raise ResultsError(f"{path} is missing or damaged; run the 'sim run' command that wrote {self.root} "
                                   f"again (same config and options, --out {self.root}): it copies the data again")
        return folder

    def snapshots(self, run_id: str) -> dict[str, np.ndarray]:
        """A run's saved network snapshots (empty if it saved none)."""
        path = self.root / "runs" / f"{run_id}.npz"
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def load_results(root: str | Path) -> Results:
    """Read a results folder (finished or partial), verifying every file read against its checksum: runs from
    runs/, and runs with no file left there from the aggregates. Raises ResultsError, naming the file and how to
    recover, if a file is missing or damaged."""
    root = Path(root)
    if not _is_results_folder(root):
        raise ResultsError(f"{root} is not a results folder (no {MANIFEST}); results folders are written by "
                           "'sim run' under results/<experiment>/")
    again = f"run the 'sim run' command that wrote {root} again (same config and options, --out {root})"
    try:
        manifest, runs, timeseries = ResultsStore(root)._read()
    except _DamageError as damaged:
        if damaged.path.name == MANIFEST:
            raise ResultsError(f"{damaged}; {again}: it rebuilds the manifest from {CONFIG}") from None
        raise ResultsError(f"{damaged}; {again}: it computes the missing or damaged runs again") from None
    return Results(root=root, manifest=manifest, runs=runs, timeseries=timeseries)
