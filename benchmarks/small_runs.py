"""A 20,000-user, 122-day run of the 2014 scenario (what calibration repeats), with this code and with the
code before the compiled kernels, side by side in one run (not a test: prints a table; docs/PERFORMANCE.md
quotes it).

The reference code is checked out from git (:data:`REFERENCE`, the last commit before the compiled kernels)
into a temporary worktree; each version runs in child processes of its own, alternating, ``--repeats``
times, both on the reference commit's ``experiments/korea_2014.toml`` (the configs have been refitted since;
both versions read that one). A run is timed from the loaded config to its time series (network built, all
days run); the script also checks that both versions give the same numbers in every column the reference
reports (the time series has gained columns since)::

    python benchmarks/small_runs.py              # ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path.cwd()  # run from the repository root, as `make bench` does
if not (ROOT / "experiments").is_dir():
    sys.exit("run this from the repository root (no experiments/ folder here)")
#: The last commit before the compiled kernels (numpy-vectorised rules).
REFERENCE = "e316ebe"

RUN = """
import json, sys, time, sim
config = sys.argv[1]
s = sim.load_config(config)
sim.simulate(sim.load_config(config, {"population.n": 500, "experiment.steps": 3}), 1)
times = []
for seed in (1, 2):
    t = time.perf_counter()
    ts = sim.simulate(s, seed)
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds": min(times), "n": s.population.n, "steps": s.experiment.steps,
                  "series": ts.to_dict(orient="list")}))
"""


def timed(code_dir: Path, config: Path) -> dict:
    """One child process on the code in ``code_dir``: the faster of two runs (seeds 1, 2) of ``config``, after
    a warm-up."""
    out = subprocess.run([sys.executable, "-c", RUN, str(config)], cwd=code_dir,
                         env={**os.environ, "PYTHONPATH": str(code_dir)}, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="child processes per version, alternating")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = Path(tmp) / "reference"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_dir), REFERENCE],
                       check=True, capture_output=True)
        try:
            runs: dict[str, list[dict]] = {"now": [], "reference": []}
            config = old_dir / "experiments" / "korea_2014.toml"
            for _ in range(args.repeats):
                runs["now"].append(timed(ROOT, config))
                runs["reference"].append(timed(old_dir, config))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_dir)], check=True)
    now = statistics.median(r["seconds"] for r in runs["now"])
    ref = statistics.median(r["seconds"] for r in runs["reference"])
    reference, current = runs["reference"][0]["series"], runs["now"][0]["series"]
    same = all(current.get(column) == values for column, values in reference.items())
    r = runs["now"][0]
    print(f"### A {r['n']:,}-user, {r['steps']}-day run of {REFERENCE}'s experiments/korea_2014.toml (network "
          f"build included; median of {args.repeats} processes)\n")
    print("| code | s per run |")
    print("|---|---|")
    print(f"| before the compiled kernels ({REFERENCE}) | {ref:.3f} |")
    print(f"| now | {now:.3f} |")
    print(f"\nspeed-up: **{ref / now:.1f}x**; same time series in the reference's {len(reference)} columns: "
          f"{'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
