"""The engines against each other and the Mesa engine against Mesa's own example, measured side by side in
this one run (not a test: prints tables; docs/PERFORMANCE.md quotes them).

1. **Mesa engine against Mesa's ``virus_on_network``** at N = 5,000 and mean degree 12: seconds per step
   and per agent-step of each, over the same number of steps (the example with its page's default
   parameters; ours on the 2014 scenario, news days included), and their ratio (ours / Mesa's example).
2. **Mesa engine against array engine** on the 2014 scenario at N = 10^3, 10^4, 10^5 from the same seed and
   the same prebuilt graph, one thread each, with a check that their time series are identical.
3. **Compilation**: the first call of each engine's kernels with an empty numba cache (a fresh cache folder
   in a child process), against the same call with the cache filled.

::

    python benchmarks/engines.py                 # all three (~2 min)
    python benchmarks/engines.py --max-n 1e4     # shorter
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from mesa.examples.basic.virus_on_network.model import VirusOnNetwork

ROOT = Path.cwd()  # run from the repository root, as `make bench` does
if not (ROOT / "experiments").is_dir():
    sys.exit("run this from the repository root (no experiments/ folder here)")

import sim  # noqa: E402
from sim.engine import ArrayModel  # noqa: E402
from sim.model import MessengerModel  # noqa: E402
from sim.network import build_graph  # noqa: E402
from sim.world import streams  # noqa: E402

CONFIG = ROOT / "experiments" / "korea_2014.toml"
SEED = 1


def time_steps(model: object, steps: int) -> list[float]:
    """Wall seconds of each of ``steps`` steps."""
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()  # type: ignore[attr-defined]
        out.append(time.perf_counter() - t)
    return out


def against_mesa_example(n: int, degree: int, steps: int, repeats: int) -> None:
    """Per agent-step of the Mesa engine and of Mesa's virus_on_network, alternating, ``repeats`` times."""
    s = sim.load_config(CONFIG, {"population.n": n})
    MessengerModel(s, rng=SEED).run(3)  # load the compiled kernels before timing
    ours, example = [], []
    for r in range(repeats):
        model = MessengerModel(s, rng=SEED + r)
        ours.append(statistics.mean(time_steps(model, steps)))
        virus = VirusOnNetwork(num_nodes=n, avg_node_degree=degree, rng=SEED + r)
        example.append(statistics.mean(time_steps(virus, steps)))
    o, e = statistics.median(ours), statistics.median(example)
    print(f"### Mesa engine against Mesa's virus_on_network (N = {n:,}, mean degree {degree}, {steps} steps, "
          f"median of {repeats})\n")
    print("| model | s/step | µs per agent-step |")
    print("|---|---|---|")
    print(f"| Mesa 3.5 `virus_on_network` (its page's defaults) | {e:.4f} | {e / n * 1e6:.2f} |")
    print(f"| our `MessengerModel`, 2014 scenario | {o:.4f} | {o / n * 1e6:.2f} |")
    print(f"\nratio ours / example: **{o / e:.2f}**\n", flush=True)


def mesa_against_array(max_n: float, days: int) -> None:
    print("### Mesa engine against array engine (2014 scenario, same graph, one thread each)\n")
    print("| N | edges | Mesa set-up s | Mesa s/day | array set-up s | array s/day | ratio | identical |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (10**3, 10**4, 10**5):
        if n > max_n:
            break
        s = sim.load_config(CONFIG, {"population.n": n})
        graph = build_graph(s, np.random.default_rng(streams(SEED).graph))
        t = time.perf_counter()
        mesa = MessengerModel(s, rng=SEED, graph=graph)
        mesa_setup = time.perf_counter() - t
        mesa_times = time_steps(mesa, days)
        t = time.perf_counter()
        array = ArrayModel(s, rng=SEED, graph=graph, threads=1)
        array_setup = time.perf_counter() - t
        array_times = time_steps(array, days)
        same = mesa.timeseries().equals(array.timeseries())
        m, a = statistics.median(mesa_times), statistics.median(array_times)
        print(f"| {n:,} | {graph.n_edges:,} | {mesa_setup:.2f} | {m:.4g} | {array_setup:.3f} | {a:.3g} | "
              f"{m / a:.0f}x | {'yes' if same else 'NO'} |", flush=True)
    print()


FIRST_CALLS = """
import json, time, sim
s = sim.load_config("experiments/korea_2014.toml", {"population.n": 500, "experiment.steps": 3})
out = {}
for name, run in (("array engine", lambda: sim.simulate(s, 1, "array")),
                  ("Mesa engine", lambda: sim.simulate(s, 1, "mesa")),
                  ("array engine, parallel loops", lambda: sim.ArrayModel(s, rng=1, threads=2).run())):
    t = time.perf_counter(); run(); out[name] = time.perf_counter() - t
print(json.dumps(out))
"""


def compilation() -> None:
    """First calls with an empty cache, then with the cache filled (each in a fresh process)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"XDG_CACHE_HOME": cache}
        runs = [json.loads(subprocess.run([sys.executable, "-c", FIRST_CALLS], cwd=ROOT, env=env, check=True,
                                          capture_output=True, text=True).stdout) for _ in range(2)]
    print("### Compilation (a 500-user, 3-day run; fresh process each)\n")
    print("| kernels | first call, empty cache s | first call, cache filled s | compile s |")
    print("|---|---|---|---|")
    for name in runs[0]:
        print(f"| {name} | {runs[0][name]:.2f} | {runs[1][name]:.2f} | {runs[0][name] - runs[1][name]:.2f} |")
    total = sum(runs[0].values()) - sum(runs[1].values())
    print(f"\nall kernels: {total:.1f} s of compilation once per source version and machine\n", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-n", type=float, default=1e5, help="largest N of the Mesa/array table")
    ap.add_argument("--days", type=int, default=10, help="days timed per run of the Mesa/array table")
    ap.add_argument("--example-steps", type=int, default=60, help="steps of the comparison with the example")
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats of that comparison")
    args = ap.parse_args()
    against_mesa_example(5000, 12, args.example_steps, args.repeats)
    mesa_against_array(args.max_n, args.days)
    compilation()


if __name__ == "__main__":
    main()
