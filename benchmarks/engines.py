"""Seconds per day of the Mesa and array engines on the same graph, and their ratio (not a test: prints a
table; docs/PERFORMANCE.md quotes it).

Both engines run the 2014 scenario (experiments/korea_2014.toml, sbm network) at each N from the same seed
and the same prebuilt graph, in this one process, one after the other; the array engine uses one thread, as
Mesa does. The days timed are the first ones (no news yet), and the script checks that both engines'
time series agree on them::

    python benchmarks/engines.py                 # N = 1e3, 1e4, 1e5 (~2 min)
    python benchmarks/engines.py --max-n 1e4     # shorter
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.engine import ArrayModel  # noqa: E402
from sim.model import MessengerModel  # noqa: E402
from sim.network import build_graph  # noqa: E402
from sim.world import streams  # noqa: E402

CONFIG = ROOT / "experiments" / "korea_2014.toml"
SEED = 1


def time_days(model: MessengerModel | ArrayModel, days: int) -> list[float]:
    """Wall seconds of each of ``days`` steps."""
    out = []
    for _ in range(days):
        t = time.perf_counter()
        model.step()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-n", type=float, default=1e5, help="largest N (of 1e3, 1e4, 1e5)")
    ap.add_argument("--days", type=int, default=10, help="days timed per run (Mesa at 1e5: 3)")
    args = ap.parse_args()
    print("| N | edges | Mesa set-up s | Mesa s/day | array set-up s | array s/day | ratio | identical |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (10**3, 10**4, 10**5):
        if n > args.max_n:
            break
        s = sim.load_config(CONFIG, {"population.n": n})
        graph = build_graph(s, np.random.default_rng(streams(SEED).graph))
        mesa_days = args.days if n < 10**5 else min(args.days, 3)
        t = time.perf_counter()
        mesa = MessengerModel(s, rng=SEED, graph=graph)
        mesa_setup = time.perf_counter() - t
        mesa_times = time_days(mesa, mesa_days)
        t = time.perf_counter()
        array = ArrayModel(s, rng=SEED, graph=graph, threads=1)
        array_setup = time.perf_counter() - t
        array_times = time_days(array, args.days)
        same = mesa.timeseries().equals(array.timeseries().iloc[:mesa_days + 1].reset_index(drop=True))
        m, a = statistics.median(mesa_times), statistics.median(array_times)
        print(f"| {n:,} | {graph.n_edges:,} | {mesa_setup:.2f} | {m:.4g} | {array_setup:.2f} | {a:.3g} | "
              f"{m / a:.0f}x | {'yes' if same else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
