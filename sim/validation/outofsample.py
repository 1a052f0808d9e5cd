"""Out-of-sample checks of the calibration (docs/VALIDATION.md):

1. **Leave one episode out.** For each fit in ``experiments/calibration/leave_one_out/<episode>/`` (``sim
   calibrate`` of the other episodes with ``--leave-out``), the left-out episode is nowcast from its first
   week of data alone (:mod:`sim.fit.nowcast`) and predicted to its end; each of its targets' data range is
   set against the 50 % and 90 % predictive intervals, with the intervals' widths. The check passes when at
   least :data:`LOO_PASS` of all left-out targets meet their 90 % interval (a calibrated model meets about 90 %).
2. **Coverage on synthetic data.** A synthetic episode (two platforms, one alarming news item) is simulated
   from parameters drawn from its priors, fitted by the same ABC-SMC, and each true value is checked against
   its 90 % credible interval, :data:`SYNTHETIC_FITS` times. The check passes when the coverage's 95 % Wilson
   interval contains 90 %.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim.fit.posterior import POSTERIOR, Posterior
from sim.validation import Section, display
from sim.validation.calibration import CALIBRATION_DIR, data_range, fmt, intervals

__all__ = ["LOO_PASS", "SYNTHETIC_FITS", "coverage_section", "leave_one_out_section", "synthetic_fit",
           "wilson"]

#: Share of left-out targets whose data range must meet the 90 % predictive interval.
LOO_PASS = 0.8
#: Synthetic fits of the coverage check.
SYNTHETIC_FITS = 20


def leave_one_out_section(folder: Path = CALIBRATION_DIR / "leave_one_out", quick: bool = False) -> Section | None:
    """The leave-one-out section from the fits saved in ``folder`` (None if there are none)."""
    from sim.fit.nowcast import nowcast

    fits = sorted(p.parent for p in folder.glob(f"*/{POSTERIOR}"))
    if not fits:
        return None
    draws, tries, n = (8, 4, 1500) if quick else (40, 8, 3000)
    lines = [f"Each episode in turn is left out of the fit (`sim calibrate` of the other episodes with "
             f"`--leave-out`; fits in `{display(folder)}`). Its own parameters are then fitted to its **first week "
             f"of data alone** (the nowcast: {draws} posterior draws x {tries} values of its own parameters, the "
             f"best quarter kept, N = {n:,}) and it is predicted to its end. A target's data range either meets "
             "the 50 % and 90 % predictive intervals or not; the width is the 90 % interval's.", ""]
    met50 = met90 = total = 0
    numbers: dict[str, float] = {}
    for fit in fits:
        posterior = Posterior.load(fit / POSTERIOR)
        config = posterior.manifest.get("left_out_config")
        if not config:
            continue
        cast = nowcast(posterior, config, draws, tries, keep=0.25, seed=int(posterior.manifest["settings"]["rng_seed"]),
                       n=n)
        scenario = cast.scenario
        name = scenario.experiment.name
        found = intervals(scenario, cast.runs)
        lines += [f"*{name}* (left out; nowcast from {cast.points} data points from day {cast.first_day}, "
                  f"{len(cast.runs)} predictive runs)", "",
                  "| target | data | median | 50 % | 90 % | in 50 % | in 90 % | 90 % width |",
                  "|---|---|---|---|---|---|---|---|"]
        for t in scenario.observed.targets:
            iv = found[t.id]
            a, b = iv.meets(t.low, t.high, wide=False), iv.meets(t.low, t.high)
            met50, met90, total = met50 + a, met90 + b, total + 1
            p = t.percent
            lines.append(f"| {t.id} | {data_range(t)} | {fmt(iv.median, p)} | {fmt(iv.q25, p)} – {fmt(iv.q75, p)} | "
                         f"{fmt(iv.q05, p)} – {fmt(iv.q95, p)} | {'yes' if a else 'no'} | {'yes' if b else 'no'} | "
                         f"{fmt(iv.q95 - iv.q05, p)} |")
        lines.append("")
    if not total:
        return None
    share90, share50 = met90 / total, met50 / total
    passed = share90 >= LOO_PASS
    lines += [f"Left-out targets whose data range meets the 50 % interval: {met50} of {total} ({share50:.0%}); "
              f"the 90 % interval: {met90} of {total} ({share90:.0%}). The check asks for at least {LOO_PASS:.0%} "
              f"at 90 %: it {'holds' if passed else '**fails**'}."]
    numbers |= {"met90": share90, "met50": share50, "targets": float(total)}
    return Section("Out of sample: leave one episode out", "\n".join(lines),
                   "sim validate --only leave_one_out" + (" --quick" if quick else ""), passed, numbers)


# Coverage on synthetic data --------------------------------------------------------------------------------
SYNTHETIC = """[experiment]
name = "synthetic"
seed = {seed}
steps = 50
engine = "array"

[population]
n = {n}

[network]
kind = "erdos_renyi"
mean_degree = 8

[platforms.incumbent]
incumbent = true
exposure = 0.8
initial_share = 1.0

[platforms.rival]
exposure = 0.05
initial_share = 0.01

[behaviour]
lam = {lam}

[[events]]
id = "news"
day = 10
kind = "announcement"
reach = 0.9
intensity = {intensity}
duration_days = 3

[observed]
folder = "data"

[[observed.series]]
id = "weekly"
kind = "weekly_active"
file = "weekly.csv"
model = "week(active.rival)"
sigma = 0.15

[[calibration.priors]]
key = "behaviour.lam"
low = 0.05
high = 0.4
shared = true
reason = "synthetic"

[[calibration.priors]]
key = "events.news.intensity"
low = 0.2
high = 0.95
reason = "synthetic"
"""
#: The synthetic episode's parameters and their priors: (config key, posterior column, low, high).
TRUTH = (("behaviour.lam", "behaviour.lam", 0.05, 0.4), ("events.news.intensity", "synthetic:events.news.intensity",
                                                          0.2, 0.95))


def synthetic_fit(index: int, folder: Path, n: int, population: int, generations: int) -> dict[str, float]:
    """One synthetic fit: parameters drawn from the priors (seeded by ``index``), data from one run at them,
    the fit; returns the truth and each parameter's 5 % and 95 % posterior quantiles."""
    from sim import load_config, simulate
    from sim.fit.abc import FitSettings, fit

    rng = np.random.default_rng(np.random.SeedSequence(20261130, spawn_key=(index,)))
    truth = {key: float(rng.uniform(low, high)) for key, _, low, high in TRUTH}
    here = folder / f"fit{index:02d}"
    (here / "data").mkdir(parents=True, exist_ok=True)
    config = here / "synthetic.toml"
    (here / "data" / "weekly.csv").write_text("day,value\n0,0.01\n", encoding="utf-8")  # replaced below
    config.write_text(SYNTHETIC.format(seed=1000 + index, n=n, lam=truth["behaviour.lam"],
                                       intensity=truth["events.news.intensity"]), encoding="utf-8")
    ts = simulate(load_config(config), np.random.SeedSequence(7 + index), "array")
    weekly = ts["active_rival"].rolling(7).mean().shift(-6)
    days = [14, 21, 28, 35, 42]
    pd.DataFrame({"day": days, "value": weekly.loc[days].to_numpy()}).to_csv(here / "data" / "weekly.csv",
                                                                             index=False)
    settings = FitSettings(n=n, seeds=1, population=population, generations=generations, models=("contacts",),
                           rng_seed=index)
    posterior = fit([config], here / "fit", settings)
    out = {}
    for key, column, _, _ in TRUTH:
        q05, q95 = posterior.quantiles(column, np.array([0.05, 0.95]))
        out |= {f"{key}:truth": truth[key], f"{key}:q05": float(q05), f"{key}:q95": float(q95)}
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion k / n."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def coverage_section(quick: bool = False, figures: Path | None = None, fits: int = SYNTHETIC_FITS) -> Section:
    """The coverage of the 90 % credible intervals over synthetic fits (module docstring)."""
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    # 40 particles at least: with 20, the 5 % and 95 % quantiles of the weighted particles are too noisy and the
    # intervals cover too rarely (news intensity 15 of 20)
    n, population, generations = (400, 40, 3) if quick else (800, 40, 4)
    with tempfile.TemporaryDirectory(prefix="sim-coverage-") as tmp:
        rows = [synthetic_fit(i, Path(tmp), n, population, generations) for i in range(fits)]
    lines = [f"{fits} synthetic episodes (two platforms, one alarming news item on day 10, N = {n:,}, a rival's "
             "weekly share observed on five days), each simulated from `behaviour.lam` and the news intensity "
             f"drawn from their priors and fitted by the same ABC-SMC ({population} particles, {generations} "
             "populations, one seed per parameter set). A well-calibrated posterior puts the true value inside "
             "its 90 % credible interval in about 90 % of fits; the check passes when the 95 % Wilson interval "
             "of the coverage contains 90 %.", "", "| parameter | covered | coverage | 95 % interval |",
             "|---|---|---|---|"]
    passed = True
    numbers: dict[str, float] = {}
    for key, _, _, _ in TRUTH:
        k = sum(r[f"{key}:q05"] <= r[f"{key}:truth"] <= r[f"{key}:q95"] for r in rows)
        lo, hi = wilson(k, fits)
        ok = lo <= 0.9 <= hi
        passed &= ok
        numbers[f"coverage_{key}"] = k / fits
        flag = "" if ok else " **(misses 90 %)**"
        lines.append(f"| `{key}` | {k} of {fits} | {k / fits:.0%} | {lo:.0%} – {hi:.0%}{flag} |")
    return Section("Out of sample: coverage on synthetic data", "\n".join(lines),
                   "sim validate --only coverage" + (" --quick" if quick else ""), passed, numbers)
