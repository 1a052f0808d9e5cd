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
import math
import os
import re
import signal
import sys
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
from sim.config.loading import not_applying
from sim.config.schema import IDENTIFIER, MAX_RUNS, TOP_KEYS
from sim.config.validation import did_you_mean
from sim.episode import target_values
from sim.events import schedule
from sim.progress import QueueReport, Report, RunProgress
from sim.sampling import LevelsParameter, Parameter, RealParameter, latin_hypercube

__all__ = ["EXPERIMENT_KEYS", "Experiment", "RunResult", "RunSpec", "SerialExecutor", "Sweep", "expand",
           "late_events", "load_experiment", "make_executor", "run_one"]


@dataclass(frozen=True)
class Sweep:
    """Swept parameters: ``grid`` values per key, or ``lhs`` ranges ({low, high}) or levels (lists); or given
    points (``posterior``: ``sim predict``'s draws; any other method name a caller builds them for): the
    ``draws`` (dotted-key overrides, one run each), recorded by their ``source`` (what they came from). Given
    points run once each; point j uses seed ``seed_groups[j]`` (the i-th child of the root seed), by default
    its own (j), so points that share a group share their random numbers (common random numbers)."""

    method: str
    params: dict[str, Any]
    samples: int = 0
    draws: tuple[dict[str, Any], ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    seed_groups: tuple[int, ...] = ()

    @property
    def given(self) -> bool:
        """Whether the points are given (one run each) rather than a grid or a Latin hypercube."""
        return self.method not in ("grid", "lhs")

    def parameters(self) -> list[Parameter]:
        """The swept keys as typed parameters, in file order: a list is levels, ``{low, high}`` a real range."""
        return [LevelsParameter(key, tuple(spec)) if isinstance(spec, list)
                else RealParameter(key, float(spec["low"]), float(spec["high"]))
                for key, spec in self.params.items()]

    def points(self, seed: int) -> list[dict[str, Any]]:
        """The sweep's points in a fixed order: the grid's full factorial, or a Latin hypercube
        (:func:`sim.sampling.latin_hypercube`) seeded by the experiment seed (its own stream, so the points do
        not move with the replications' seeds)."""
        if self.given:
            return [dict(d) for d in self.draws]
        if self.method == "grid":
            keys = list(self.params)
            return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.params.values())]
        return latin_hypercube(self.parameters(), self.samples, np.random.SeedSequence(seed, spawn_key=(0x5EE9,)))


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


#: Keys that hold for the whole experiment: a scenario or a sweep point cannot change them.
EXPERIMENT_KEYS = ("experiment.name", "experiment.description", "experiment.seed", "experiment.replications",
                   "experiment.output")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file.

    ``raw`` is the file's data (``extends`` merged); ``cli`` the command line's overrides, which win over the
    file, its scenarios and its sweep points; ``scenarios`` each scenario's own overrides (less those the
    command line overrides); ``inputs`` the SHA-256 of every file the config reads besides itself (graph
    files, observed data files); ``notices`` what the command line overrode, for the user; ``flags`` the
    command-line flag that gave an override, where it was not ``--set`` (``experiment.engine`` -> ``--engine``).
    """

    path: str
    raw: dict[str, Any]
    base: Scenario
    scenarios: dict[str, dict[str, Any]]
    sweep: Sweep | None
    cli: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
    flags: dict[str, str] = field(default_factory=dict)

    def given_as(self, key: str) -> str:
        """How the experiment's ``key`` was given, for messages: its flag, ``--set key``, or the key itself."""
        if key in self.cli:
            return self.flags.get(key, f"--set {key}")
        return key

    @property
    def points(self) -> int:
        """How many sweep points (1 without a sweep), computed without listing them."""
        if self.sweep is None:
            return 1
        if self.sweep.given:
            return len(self.sweep.draws)
        if self.sweep.method == "lhs":
            return self.sweep.samples
        return math.prod(len(v) for v in self.sweep.params.values())

    def check_size(self) -> None:
        """Refuse (ConfigError) an experiment of more than :data:`MAX_RUNS` runs, before anything is allocated."""
        reps = 1 if self.sweep is not None and self.sweep.given else self.base.experiment.replications
        total = len(self.scenarios) * self.points * reps
        if total > MAX_RUNS:
            fix = [self.given_as("experiment.replications")] if reps > 1 else []
            if self.sweep is not None:
                fix.append("sweep.samples" if self.sweep.method == "lhs" else
                           "the sweep's points" if self.sweep.given else "the sweep's lists of values")
            if len(self.scenarios) > 1:
                fix.append("the scenarios")
            raise ConfigError(f"{self.path}: {len(self.scenarios)} scenario(s) x {self.points:,} sweep point(s) x "
                              f"{reps:,} replication(s) = {total:,} runs, more than the {MAX_RUNS:,} an experiment "
                              f"may have; lower {' or '.join(fix)}")

    @property
    def name(self) -> str:
        return self.base.experiment.name

    @property
    def resolved(self) -> dict[str, Any]:
        """The experiment as resolved (extends merged, overrides applied, defaults filled)."""
        d = self.base.to_dict()
        d["scenarios"] = self.scenarios
        if self.sweep and self.sweep.given:
            d["sweep"] = {"method": self.sweep.method, **self.sweep.source}
        elif self.sweep:
            d["sweep"] = {"method": self.sweep.method, "samples": self.sweep.samples, **self.sweep.params}
        return d

    @property
    def config_hash(self) -> str:
        """Hash of the resolved experiment and the contents of the files it reads: same hash, same runs and
        numbers."""
        text = json.dumps({"config": self.resolved, "inputs": self.inputs}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _parse_sweep(raw: Any, where: str, base_data: dict[str, Any], cli: Mapping[str, Any]) -> Sweep:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"key 'sweep' in {where}: expected a table of dotted keys")
    table = dict(raw)
    method = table.pop("method", "grid")
    samples = table.pop("samples", 0)
    if method not in ("grid", "lhs"):
        raise ConfigError(f"key 'sweep.method' in {where}: expected 'grid' or 'lhs', got {method!r}")
    if method == "lhs" and (not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_RUNS):
        raise ConfigError(f"key 'sweep.samples' in {where}: expected a positive integer for method 'lhs', at most "
                          f"{MAX_RUNS:,} (the runs an experiment may have), got {samples!r}")
    if not table:
        raise ConfigError(f"key 'sweep' in {where}: no parameters to sweep")
    if method == "grid" and all(isinstance(v, list) for v in table.values()):
        points = math.prod(len(v) for v in table.values())
        if points > MAX_RUNS:
            raise ConfigError(f"key 'sweep' in {where}: a grid of {points:,} points ("
                              f"{' x '.join(str(len(v)) for v in table.values())}), more than the {MAX_RUNS:,} runs "
                              "an experiment may have; use fewer values, or method = 'lhs' with samples")
    for key, spec in table.items():
        full = f"sweep.\"{key}\""
        if key in EXPERIMENT_KEYS:
            raise ConfigError(f"key {full} in {where}: '{key}' holds for the whole experiment and cannot be swept")
        if key in cli:
            raise ConfigError(f"--set {key}: the experiment sweeps '{key}' ({full} in {where}); an override "
                              "would run every sweep point with one value. Drop --set or the sweep")
        if isinstance(spec, list):
            if not spec:
                raise ConfigError(f"key {full} in {where}: expected a non-empty list of values, got []")
        elif method == "lhs" and isinstance(spec, Mapping):
            extra = set(spec) - {"low", "high"}
            if extra or not all(isinstance(spec.get(b), int | float) and not isinstance(spec.get(b), bool)
                                for b in ("low", "high")):
                raise ConfigError(f"key {full} in {where}: expected {{low = <number>, high = <number>}}, "
                                  f"got {dict(spec)!r}")
            if not all(math.isfinite(spec[b]) for b in ("low", "high")):
                raise ConfigError(f"key {full} in {where}: expected finite low and high, got {dict(spec)!r}")
            if spec["low"] > spec["high"]:
                raise ConfigError(f"key {full} in {where}: low ({spec['low']}) exceeds high ({spec['high']})")
        else:
            kind = "a list of values" + (" or {low, high}" if method == "lhs" else "")
            raise ConfigError(f"key {full} in {where}: expected {kind}, got {spec!r}")
        for value in spec if isinstance(spec, list) else (spec["low"], spec["high"]):  # each value alone
            label = f"{where} [sweep] {key} = {value!r}"
            build_scenario(apply_overrides(base_data, {key: value}, label), label, base_dir=Path(where).parent)
    return Sweep(method=method, params=table, samples=samples if method == "lhs" else 0)


def _check_cli_keys(cli: Mapping[str, Any], data: dict[str, Any]) -> None:
    """A command-line key that names no config key is the command line's error, reported as such (other
    errors of its values are reported with the config they were applied to)."""
    sections = [k for k in TOP_KEYS if k != "extends"]
    for key, value in cli.items():
        head = key.split(".")[0]
        if head in ("scenarios", "sweep", "explore", "extends"):
            raise ConfigError(f"--set {key}: --set changes a scenario's keys, not the file's [{head}]; edit the "
                              "config file")
        if head not in sections:
            raise ConfigError(f"unknown key '{key}' in --set: no section '{head}'{did_you_mean(head, sections)} "
                              f"(sections: {', '.join(sections)})")
        try:
            build_scenario(apply_overrides(data, {key: value}, "--set"), "--set")
        except ConfigError as exc:
            if f"'{key}' in --set" in str(exc) and ("unknown key" in str(exc) or "does not apply" in str(exc)):
                raise
            if "override" in str(exc) and "in --set" in str(exc):
                raise


def _input_files(scenarios: list[Scenario]) -> dict[str, str]:
    """SHA-256 of each file the scenarios read (graph files, an episode's observed data files), by path."""
    out: dict[str, str] = {}
    for s in scenarios:
        paths = [Path(s.base_dir) / s.network.file] if s.network.kind == "file" else []
        paths += [Path(s.base_dir) / s.observed.folder / series.file for series in s.observed.series]
        for path in paths:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None,
                    flags: Mapping[str, str] | None = None) -> Experiment:
    """Load and validate an experiment file: the base scenario, every scenario, the sweep. ``overrides`` (the
    command line's) win over everything in the file; the file is validated with them applied (an override may
    repair it). ``flags`` names the flag that gave an override, where it was not ``--set``."""
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    scen_raw = data.pop("scenarios", {})
    sweep_raw = data.pop("sweep", None)
    cli = dict(overrides or {})
    flags = {k: v for k, v in (flags or {}).items() if k in cli}
    _check_cli_keys(cli, data)
    with_cli = f"{where} with {', '.join(flags.get(k, f'--set {k}') for k in cli)}" if cli else where
    base_data = apply_overrides(data, cli, "--set")
    try:
        base = build_scenario(base_data, with_cli, base_dir=path.parent)
    except ConfigError as exc:
        if cli:  # an error the overrides have no part in is the file's own
            try:
                build_scenario(data, where, base_dir=path.parent)
            except ConfigError as own:
                if str(own).replace(where, with_cli, 1) == str(exc):
                    raise own from None
        raise
    if not isinstance(scen_raw, Mapping):
        raise ConfigError(f"key 'scenarios' in {where}: expected tables [scenarios.<name>]")
    scenarios: dict[str, dict[str, Any]] = {"baseline": {}}
    kind = flatten(cli).get("network.kind")
    notices = [f"--set network.kind={kind}: {k} = {v!r} of {where} does not apply to kind {kind!r} and is not used"
               for k, v in not_applying(data, cli).items()]
    built = [base]
    for name, table in scen_raw.items():
        label = f"{where} [scenarios.{name}]"
        if not re.fullmatch(IDENTIFIER[0], name):
            raise ConfigError(f"key 'scenarios.{name}' in {where}: expected {IDENTIFIER[1]} as a scenario name")
        if not isinstance(table, Mapping):
            raise ConfigError(f"key 'scenarios.{name}' in {where}: expected a table of overrides")
        flat = flatten(table)
        for key in flat:
            if key in EXPERIMENT_KEYS:
                raise ConfigError(f"key '{key}' in {label}: holds for the whole experiment; set it in "
                                  f"[{key.split('.')[0]}]")
        for key in flat.keys() & cli.keys():
            notices.append(f"the command line's {key} = {cli[key]!r} overrides {key} = {flat[key]!r} of "
                           f"scenario '{name}'")
        flat = {k: v for k, v in flat.items() if k not in cli}
        notices += [f"scenario '{name}' sets network.kind = {flat.get('network.kind')!r}: {k} = {v!r} does not "
                    "apply to it and is not used" for k, v in not_applying(base_data, flat).items()]
        built.append(build_scenario(apply_overrides(base_data, flat, label), label + (" with --set" if cli else ""),
                                    base_dir=path.parent))
        scenarios[name] = flat
    sweep = _parse_sweep(sweep_raw, where, base_data, cli) if sweep_raw is not None else None
    if sweep is not None:
        for key, spec in sweep.params.items():
            for value in spec if isinstance(spec, list) else ():
                notices += [f"sweep points with {key} = {value!r}: {k} = {v!r} does not apply to them and is not "
                            "used" for k, v in not_applying(base_data, {key: value}).items()]
    files = _input_files(built)
    if sweep and "network.file" in sweep.params and isinstance(sweep.params["network.file"], list):
        files |= {str(path.parent / f): hashlib.sha256((path.parent / f).read_bytes()).hexdigest()
                  for f in sweep.params["network.file"]}
    exp = Experiment(path=where, raw=data, base=base, scenarios=scenarios, sweep=sweep, cli=cli, inputs=files,
                     notices=tuple(notices), flags=flags)
    exp.check_size()
    return exp


def expand(exp: Experiment) -> list[RunSpec]:
    """All runs, interleaved: replication-major, so a stopped experiment still covers every scenario and
    sweep point evenly. Replication i uses the same seed everywhere (common random numbers). Every scenario
    at every sweep point is built (so validated) here, before any run. A posterior's draws are one run each,
    with a seed of its own (the i-th child of the root seed), common to the scenarios."""
    base = exp.base.experiment
    exp.check_size()
    points = exp.sweep.points(base.seed) if exp.sweep else [{}]
    if exp.sweep and exp.sweep.given:
        return _expand_given(exp, points)
    seeds = np.random.SeedSequence(base.seed).spawn(base.replications)
    built: dict[tuple[str, int], Scenario] = {}
    for name, overrides in exp.scenarios.items():
        for j, point in enumerate(points):
            label = f"{exp.path} [scenarios.{name}]" + (f" at sweep point {point}" if point else "")
            data = apply_overrides(exp.raw, {**overrides, **point, **exp.cli}, label)
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


def _expand_given(exp: Experiment, draws: list[dict[str, Any]]) -> list[RunSpec]:
    groups = exp.sweep.seed_groups or tuple(range(len(draws)))
    if len(groups) != len(draws):
        raise ValueError(f"{len(draws)} points but {len(groups)} seed groups")
    children = np.random.SeedSequence(exp.base.experiment.seed).spawn(max(groups) + 1)
    width = len(str(max(len(draws) - 1, 1)))
    specs = []
    for j, draw in enumerate(draws):
        seed = children[groups[j]]
        for name, overrides in exp.scenarios.items():
            label = f"{exp.path} [scenarios.{name}] at point {j} ({exp.sweep.method})"
            data = apply_overrides(exp.raw, {**overrides, **draw, **exp.cli}, label)
            scenario = build_scenario(data, label, base_dir=Path(exp.path).parent)
            specs.append(RunSpec(run_id=f"{name}-d{j:0{width}d}", scenario_name=name, point=j, replication=0,
                                 params=draw, scenario=scenario, seed=seed))
    return specs


def late_events(specs: list[RunSpec]) -> dict[str, dict[str, Any]]:
    """Per scenario (and sweep point): its last day and the events that start after it (on their day after any
    postponement), so never happen."""
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        s = spec.scenario
        late = [f"{e.id} (day {e.day})" for e in schedule(s.events) if e.day > s.experiment.steps]
        label = spec.scenario_name + (f" at sweep point {spec.point}" if spec.params else "")
        if late and label not in out:
            out[label] = {"last_day": s.experiment.steps, "events": late}
    return out


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
                snapshots[f"primary_{day}"] = np.array(state.primary, dtype=np.int8)  # a copy: the state lives on
                snapshots[f"active_{day}"] = state.active
        if snapshots:
            g = model.graph
            snapshots["indptr"], snapshots["indices"] = g.indptr, g.indices
        ts = model.timeseries()
        out = metrics.outcomes(ts, spec.scenario.platform_names, spec.scenario.incumbent)
        out |= {f"target_{k}": v for k, v in target_values(spec.scenario, ts).items()}
        out |= {f"forecast_{k}": v for k, v in target_values(spec.scenario, ts, forecasts=True).items()}
        return RunResult(spec.run_id, "done", time.perf_counter() - start, ts, out, snapshots=snapshots)
    except Exception:
        return RunResult(spec.run_id, "failed", time.perf_counter() - start, error=traceback.format_exc())
    finally:
        tell(RunProgress(spec.run_id, "end"))


class SerialExecutor(Executor):
    """Runs each task at submit time in this process (``--workers 1``): simplest to debug and profile.

    Ctrl-C and SIGTERM (``sim run`` turns it into a ``BaseException``, as Python does Ctrl-C) get past
    :func:`run_one`'s ``except Exception``, so they stop the experiment instead of failing a run."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _die_with_parent(parent: int) -> None:
    """Initializer of worker and manager processes: on Linux, have the kernel SIGKILL this process when the
    process that started it dies. A killed ``sim run`` would otherwise leave its workers running, then waiting
    for work, for ever."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1  # <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)


def make_executor(workers: int | None = None, dask: bool = False,
                  scheduler: str | None = None) -> tuple[Executor, list[Any]]:
    """An executor and the resources to close after it (dask client and cluster).

    ``scheduler`` connects to a running dask.distributed scheduler; ``dask`` starts a LocalCluster with
    ``workers`` single-threaded worker processes; otherwise a local process pool (``workers = 1``: serial), whose
    workers die with this process.
    """
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

    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),)), []


def iter_results(executor: Executor, specs: list[RunSpec], report: Report | None = None
                 ) -> Iterator[RunResult]:
    """Submit every spec and yield results as they finish.

    Runs that finish while specs are still being submitted are yielded before the next submission, so with
    an executor that runs tasks at submit time (:class:`SerialExecutor`) each run is stored before the
    next one starts, as with the parallel executors.

    ``report`` receives the runs' progress: directly from runs in this process, through a queue from a
    local process pool's workers (drained here while waiting); runs on dask report nothing.

    Stopped early (an exception here, such as Ctrl-C or SIGTERM, or the generator closed by its consumer), it
    cancels the runs not started and kills a local pool's workers rather than wait for the runs in flight.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    manager, queue, worker_report = None, None, None
    if report is not None:
        if isinstance(executor, SerialExecutor):
            worker_report = report
        elif isinstance(executor, ProcessPoolExecutor):
            import multiprocessing
            from multiprocessing.managers import SyncManager

            manager = SyncManager(ctx=multiprocessing.get_context("spawn"))
            manager.start(_die_with_parent, (os.getpid(),))
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
        if pending:
            for future in pending:
                future.cancel()
            if isinstance(executor, ProcessPoolExecutor):
                # No public way to stop a running task before Python 3.14 (ProcessPoolExecutor.kill_workers).
                for process in list((executor._processes or {}).values()):
                    process.kill()
        if manager is not None:
            manager.shutdown()


def _result(future: Future, spec: RunSpec) -> RunResult:
    try:
        return future.result()
    except Exception:  # the worker itself died (e.g. killed); record it like a failed run
        return RunResult(spec.run_id, "failed", 0.0, error=traceback.format_exc())
