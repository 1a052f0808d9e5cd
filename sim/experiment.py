"""Experiments: scenarios x sweep points x replications, expanded deterministically and run on an executor.

An experiment file is a scenario file with two optional tables (docs/CONFIG.md, Experiments):

- ``[scenarios.<name>]``: overrides of any key (dotted keys or nested tables); ``baseline`` (no overrides)
  is always run first unless the file defines it.
- ``[sweep]``: ``method = "grid"`` (full factorial of the listed values) or ``"lhs"`` (a seeded Latin-hypercube
  sample of ``samples`` points over ``{low, high}`` ranges or lists of levels), keyed by dotted config keys.

Seeds: replication i of every scenario and sweep point gets the i-th child of
``SeedSequence(experiment.seed).spawn(replications)`` (common random numbers: differences between scenarios
are the policy's, not noise).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import traceback
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import make_model, metrics
from sim.config import ConfigError, Scenario, apply_overrides, build_scenario, flatten, read_toml
from sim.progress import QueueReport, Report, RunProgress

__all__ = ["Experiment", "RunResult", "RunSpec", "SerialExecutor", "Sweep", "expand", "load_experiment",
           "make_executor", "run_one"]


@dataclass(frozen=True)
class Sweep:
    """Swept parameters: ``grid`` values per key, or ``lhs`` ranges ({low, high}) or levels (lists)."""

    method: str
    params: dict[str, Any]
    samples: int = 0

    def points(self, seed: int) -> list[dict[str, Any]]:
        """The sweep's points in a fixed order (LHS seeded by the experiment seed)."""
        keys = list(self.params)
        if self.method == "grid":
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.params.values())]
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5EE9,)))
        points: list[dict[str, Any]] = [{} for _ in range(self.samples)]
        for key in keys:
            spec = self.params[key]
            strata = (rng.permutation(self.samples) + rng.random(self.samples)) / self.samples
            for point, q in zip(points, strata, strict=True):
                if isinstance(spec, list):
                    point[key] = spec[min(int(q * len(spec)), len(spec) - 1)]
                else:
                    point[key] = float(spec["low"] + q * (spec["high"] - spec["low"]))
        return points


@dataclass(frozen=True)
class RunSpec:
    """One run: a scenario at a sweep point with one replication's seed."""

    run_id: str
    scenario_name: str
    point: int
    replication: int
    params: dict[str, Any]
    scenario: Scenario
    seed: np.random.SeedSequence

    @property
    def seed_record(self) -> dict[str, Any]:
        return {"entropy": int(self.seed.entropy), "spawn_key": list(self.seed.spawn_key)}


@dataclass
class RunResult:
    """What a run returns: its time series and outcomes, or the traceback of its failure."""

    run_id: str
    status: str
    seconds: float
    timeseries: pd.DataFrame | None = None
    outcomes: dict[str, float] = field(default_factory=dict)
    error: str = ""
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    path: str
    raw: dict[str, Any]
    base: Scenario
    scenarios: dict[str, dict[str, Any]]
    sweep: Sweep | None

    @property
    def name(self) -> str:
        return self.base.experiment.name

    @property
    def resolved(self) -> dict[str, Any]:
        """The experiment as resolved (extends merged, overrides applied, defaults filled)."""
        d = self.base.to_dict()
        d["scenarios"] = self.scenarios
        if self.sweep:
            d["sweep"] = {"method": self.sweep.method, "samples": self.sweep.samples, **self.sweep.params}
        return d

    @property
    def config_hash(self) -> str:
        """Hash of the resolved experiment: same hash, same runs and numbers."""
        text = json.dumps(self.resolved, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _parse_sweep(raw: Any, where: str, base_data: dict[str, Any]) -> Sweep:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"key 'sweep' in {where}: expected a table of dotted keys")
    table = dict(raw)
    method = table.pop("method", "grid")
    samples = table.pop("samples", 0)
    if method not in ("grid", "lhs"):
        raise ConfigError(f"key 'sweep.method' in {where}: expected 'grid' or 'lhs', got {method!r}")
    if method == "lhs" and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 1):
        raise ConfigError(f"key 'sweep.samples' in {where}: expected a positive integer for method 'lhs', "
                          f"got {samples!r}")
    if not table:
        raise ConfigError(f"key 'sweep' in {where}: no parameters to sweep")
    for key, spec in table.items():
        full = f"sweep.\"{key}\""
        if isinstance(spec, list):
            if not spec:
                raise ConfigError(f"key {full} in {where}: expected a non-empty list of values, got []")
        elif method == "lhs" and isinstance(spec, Mapping):
            extra = set(spec) - {"low", "high"}
            if extra or not all(isinstance(spec.get(b), int | float) and not isinstance(spec.get(b), bool)
                                for b in ("low", "high")):
                raise ConfigError(f"key {full} in {where}: expected {{low = <number>, high = <number>}}, "
                                  f"got {dict(spec)!r}")
            if spec["low"] > spec["high"]:
                raise ConfigError(f"key {full} in {where}: low ({spec['low']}) exceeds high ({spec['high']})")
        else:
            kind = "a list of values" + (" or {low, high}" if method == "lhs" else "")
            raise ConfigError(f"key {full} in {where}: expected {kind}, got {spec!r}")
        first = spec[0] if isinstance(spec, list) else spec["low"]
        build_scenario(apply_overrides(base_data, {key: first}, f"{where} [sweep]"), f"{where} [sweep]")
    return Sweep(method=method, params=table, samples=samples if method == "lhs" else 0)


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """Load and validate an experiment file: the base scenario, every scenario, the sweep."""
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    scen_raw = data.pop("scenarios", {})
    sweep_raw = data.pop("sweep", None)
    if overrides:
        data = apply_overrides(data, overrides, "--set")
    base = build_scenario(data, where, base_dir=path.parent)
    if not isinstance(scen_raw, Mapping):
        raise ConfigError(f"key 'scenarios' in {where}: expected tables [scenarios.<name>]")
    scenarios: dict[str, dict[str, Any]] = {"baseline": {}}
    for name, table in scen_raw.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"key 'scenarios.{name}' in {where}: expected a table of overrides")
        flat = flatten(table)
        label = f"{where} [scenarios.{name}]"
        build_scenario(apply_overrides(data, flat, label), label, base_dir=path.parent)
        scenarios[name] = flat
    sweep = _parse_sweep(sweep_raw, where, data) if sweep_raw is not None else None
    return Experiment(path=where, raw=data, base=base, scenarios=scenarios, sweep=sweep)


def expand(exp: Experiment) -> list[RunSpec]:
    """All runs, interleaved: replication-major, so a stopped experiment still covers every scenario and
    sweep point evenly. Replication i uses the same seed everywhere (common random numbers)."""
    base = exp.base.experiment
    seeds = np.random.SeedSequence(base.seed).spawn(base.replications)
    points = exp.sweep.points(base.seed) if exp.sweep else [{}]
    built: dict[tuple[str, int], Scenario] = {}
    for name, overrides in exp.scenarios.items():
        for j, point in enumerate(points):
            label = f"{exp.path} [scenarios.{name}]"
            data = apply_overrides(exp.raw, {**overrides, **point}, label)
            built[name, j] = build_scenario(data, label, base_dir=Path(exp.path).parent)
    specs = []
    width = len(str(max(base.replications - 1, 1)))
    for rep, seed in enumerate(seeds):
        for j, point in enumerate(points):
            for name in exp.scenarios:
                run_id = f"{name}-p{j:03d}-r{rep:0{width}d}" if exp.sweep else f"{name}-r{rep:0{width}d}"
                specs.append(RunSpec(run_id=run_id, scenario_name=name, point=j, replication=rep, params=point,
                                     scenario=built[name, j], seed=seed))
    return specs


def run_one(spec: RunSpec, report: Report | None = None) -> RunResult:
    """Run one simulation, reporting its progress to ``report`` if given. Never raises: a failure comes back
    as a result with its traceback."""
    start = time.perf_counter()
    tell = report or (lambda message: None)
    try:
        tell(RunProgress(spec.run_id, "graph"))
        model = make_model(spec.scenario, spec.seed)
        steps = spec.scenario.experiment.steps
        tell(RunProgress(spec.run_id, "days", 0, steps))
        snap_days = set(spec.scenario.experiment.snapshot_days)
        snapshots: dict[str, np.ndarray] = {}
        for day in range(steps + 1):
            if day:
                model.step()
                tell(RunProgress(spec.run_id, "days", day, steps))
            if day in snap_days:
                state = model.user_state()
                snapshots[f"primary_{day}"] = np.asarray(state.primary, dtype=np.int8)
                snapshots[f"active_{day}"] = state.active
        if snapshots:
            g = model.graph
            snapshots["indptr"], snapshots["indices"] = g.indptr, g.indices
        ts = model.timeseries()
        out = metrics.outcomes(ts, spec.scenario.platform_names, spec.scenario.incumbent)
        return RunResult(spec.run_id, "done", time.perf_counter() - start, ts, out, snapshots=snapshots)
    except Exception:
        return RunResult(spec.run_id, "failed", time.perf_counter() - start, error=traceback.format_exc())
    finally:
        tell(RunProgress(spec.run_id, "end"))


class SerialExecutor(Executor):
    """Runs each task at submit time in this process (``--workers 1``): simplest to debug and profile."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make_executor(workers: int | None = None, dask: bool = False,
                  scheduler: str | None = None) -> tuple[Executor, list[Any]]:
    """An executor and the resources to close after it (dask client and cluster).

    ``scheduler`` connects to a running dask.distributed scheduler; ``dask`` starts a LocalCluster with
    ``workers`` single-threaded worker processes; otherwise a local process pool (``workers = 1``: serial).
    """
    import os

    n = workers or os.cpu_count() or 1
    if dask or scheduler:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("dask.distributed is not installed: pip install 'cyber-exile[cluster]'") from None
        if scheduler:
            client = Client(scheduler)
            return client.get_executor(pure=False), [client]
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        return client.get_executor(pure=False), [client, cluster]
    if n == 1:
        return SerialExecutor(), []
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")), []


def iter_results(executor: Executor, specs: list[RunSpec], report: Report | None = None
                 ) -> Iterator[RunResult]:
    """Submit every spec and yield results as they finish.

    Runs that finish while specs are still being submitted are yielded before the next submission, so with
    an executor that runs tasks at submit time (:class:`SerialExecutor`) each run is stored before the
    next one starts, as with the parallel executors.

    ``report`` receives the runs' progress: directly from runs in this process, through a queue from a
    local process pool's workers (drained here while waiting); runs on dask report nothing.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    manager, queue, worker_report = None, None, None
    if report is not None:
        if isinstance(executor, SerialExecutor):
            worker_report = report
        elif isinstance(executor, ProcessPoolExecutor):
            import multiprocessing

            manager = multiprocessing.get_context("spawn").Manager()
            queue = manager.Queue()
            worker_report = QueueReport(queue)

    def drain() -> None:
        while queue is not None and not queue.empty():
            report(queue.get())  # type: ignore[misc]

    pending: dict[Future, RunSpec] = {}
    finished: deque[Future] = deque()  # filled by done-callbacks, possibly from executor threads
    try:
        for spec in specs:
            future = (executor.submit(run_one, spec, worker_report) if worker_report is not None
                      else executor.submit(run_one, spec))
            pending[future] = spec
            future.add_done_callback(finished.append)
            while finished:
                done = finished.popleft()
                drain()
                yield _result(done, pending.pop(done))
        while pending:
            done_now, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
            for future in done_now:
                yield _result(future, pending.pop(future))
    finally:
        if manager is not None:
            manager.shutdown()


def _result(future: Future, spec: RunSpec) -> RunResult:
    try:
        return future.result()
    except Exception:  # the worker itself died (e.g. killed); record it like a failed run
        return RunResult(spec.run_id, "failed", 0.0, error=traceback.format_exc())
