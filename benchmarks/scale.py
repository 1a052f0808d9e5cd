"""The array engine on the 2014 scenario at population scale: graph build, set-up, seconds per day, wall time
and peak memory for each size, and each day against the memory-bandwidth bound (not a test: prints a table;
docs/PERFORMANCE.md quotes it).

The bound is what a day must at least stream through memory, :data:`BYTES_PER_USER` (docs/PERFORMANCE.md,
"How close to the memory-bandwidth bound") times N, at the copy bandwidth measured at the start of this
run. Each size runs in a subprocess of its own so that its peak memory is its own::

    python benchmarks/scale.py                          # N = 1e5, 1e6, 1e7, 3.5e7, all 122 days (~6 min)
    python benchmarks/scale.py --sizes 1e5 1e6 --steps 30
    python benchmarks/scale.py --threads 1              # one core (default: SIM_THREADS or all cores)
    python benchmarks/scale.py --sizes 1e6 --degrees 6 12 24 48 --steps 20   # cost against edges

The scenario is experiments/korea_2014_full.toml (Chung-Lu network, mean degree 12) with ``population.n``
overridden, so every size runs the same events and parameters.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path.cwd()  # run from the repository root, as `make bench` does
if not (ROOT / "experiments").is_dir():
    sys.exit("run this from the repository root (no experiments/ folder here)")

import sim  # noqa: E402
from sim.engine import ArrayModel, default_threads  # noqa: E402
from sim.network import build_graph  # noqa: E402
from sim.world import streams  # noqa: E402

CONFIG = ROOT / "experiments" / "korea_2014_full.toml"
SEED = 1
#: Bytes a day must stream per user with 3 platforms (docs/PERFORMANCE.md): uniforms, word of mouth,
#: forgetting, decisions and the day's record, each phase's inputs read and outputs written once.
BYTES_PER_USER = 216


def cpu_s() -> float:
    """CPU seconds (user + system) of this process so far: less sensitive than wall time to other load."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_gb() -> float:
    """This process's peak resident memory: VmHWM, the high-water mark of its own address space. (ru_maxrss
    would do in a fresh process, but a child started with vfork + exec inherits the parent's maximum.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # not Linux: KiB on most systems


def copy_bandwidth_gb_s(gib: float = 1.0) -> float:
    """Memory bandwidth as numpy sees it: bytes read plus written per second by a copy of a ``gib`` GiB
    array (best of three, pages touched beforehand), the bound for streaming array passes."""
    a = np.ones(int(gib * 2**30) // 8)
    b = np.zeros_like(a)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9


def run_one(n: int, degree: float | None, steps: int | None, threads: int | None) -> dict[str, float]:
    """Build and run one size in this process; return its measurements."""
    # Every kernel the timed run calls (the events' included) loaded before timing: all days, a small graph.
    warm = sim.load_config(CONFIG, {"population.n": 2000})
    ArrayModel(warm, rng=SEED, threads=threads or default_threads(n)).run()
    start = time.perf_counter()
    s = sim.load_config(CONFIG, {"population.n": n} | ({"network.mean_degree": degree} if degree else {}))
    days = s.experiment.steps if steps is None else steps
    t = time.perf_counter()
    graph = build_graph(s, np.random.default_rng(streams(SEED).graph))  # the stream ArrayModel would use
    graph_s = time.perf_counter() - t
    graph_rss = peak_rss_gb()
    t = time.perf_counter()
    model = ArrayModel(s, rng=SEED, graph=graph, threads=threads)
    setup_s = time.perf_counter() - t
    t = time.perf_counter()
    model.count_contacts(0)  # the first count is a full one: contacts per flag, over every edge
    count_s = time.perf_counter() - t
    per_day = []
    for _ in range(days):
        t = time.perf_counter()
        model.step()
        per_day.append(time.perf_counter() - t)
    ts = model.timeseries()
    return {"n": n, "mean_degree": s.network.mean_degree, "edges": graph.n_edges, "count_s": count_s,
            "max_degree": int(graph.degree.max()), "threads": model.threads,
            "graph_s": graph_s, "graph_rss_gb": graph_rss, "setup_s": setup_s, "days": days,
            "day_mean_s": float(np.mean(per_day)), "day_median_s": float(np.median(per_day)),
            "day_max_s": float(np.max(per_day)), "wall_s": time.perf_counter() - start, "cpu_s": cpu_s(),
            "peak_rss_gb": peak_rss_gb(), "peak_telegram": float(ts["active_telegram"].max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7, 3.5e7], help="population sizes")
    ap.add_argument("--degrees", nargs="+", type=float, default=[0.0],
                    help="mean degrees to run at each size (default: the scenario's 12)")
    ap.add_argument("--steps", type=int, help="days to run (default: the scenario's 122)")
    ap.add_argument("--threads", type=int, help="worker threads (default: SIM_THREADS or all cores)")
    ap.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)  # a child: N, degree; prints JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1], args.steps, args.threads)))
        return
    runs = []
    for n, degree in itertools.product(args.sizes, args.degrees):
        cmd = [sys.executable, sys.argv[0], "--one", str(n), str(degree)]
        cmd += ["--steps", str(args.steps)] if args.steps is not None else []
        cmd += ["--threads", str(args.threads)] if args.threads is not None else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    # The bandwidth after the runs: the copy's 2 GiB, handed back to the system just before a run, slowed its
    # days (measured at 10^6 users: the mean day 1-2 ms slower, the slowest 60-140 ms instead of 36 ms).
    bandwidth = copy_bandwidth_gb_s()
    print("| N | mean degree | edges | max degree | threads | graph build s | graph peak GB | set-up s | "
          "full count s | days | s/day mean (median, max) | bound s/day | mean / bound | wall s | CPU s | "
          "peak RSS GB | peak Telegram |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        bound = BYTES_PER_USER * r["n"] / (bandwidth * 1e9)
        cells = [f"{r['n']:,}", f"{r['mean_degree']:g}", f"{r['edges']:,}", f"{r['max_degree']:,}",
                 str(r["threads"]), f"{r['graph_s']:.1f}", f"{r['graph_rss_gb']:.2f}", f"{r['setup_s']:.1f}",
                 f"{r['count_s']:.2f}", str(r["days"]),
                 f"{r['day_mean_s']:.4f} ({r['day_median_s']:.4f}, {r['day_max_s']:.3f})", f"{bound:.4f}",
                 f"{r['day_mean_s'] / bound:.1f}", f"{r['wall_s']:.0f}", f"{r['cpu_s']:.0f}",
                 f"{r['peak_rss_gb']:.2f}", f"{r['peak_telegram']:.4f}"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nmemory bandwidth (numpy copy, read + write, measured after the runs): {bandwidth:.1f} GB/s; bound = "
          f"{BYTES_PER_USER} B per user and day at that bandwidth")


if __name__ == "__main__":
    main()
