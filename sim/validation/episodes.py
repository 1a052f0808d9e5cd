"""Episodes against their data: each config that declares ``[observed]`` targets is run with its seeds and
every target is reported with its spread, next to the observed series and the model at the same days.

The tolerance is the spread across seeds (:func:`summarise`): a numeric target passes when the 95 % CI of its
mean across replications meets the data's range; a yes/no target (range [1, 1]) when the 95 % Wilson interval
of the share of replications in which it holds reaches one half. The ranges are the data's (the config's
``[[observed.targets]]``, copied from the data README); nothing is tuned to the model's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim import simulate
from sim.config import Scenario, load_config
from sim.config.schema import Target
from sim.episode import ObservedData, episode_configs, load_series, observables, panels, target_values
from sim.intervals import mean_ci95
from sim.validation import Section, save_figure

__all__ = ["EpisodeRuns", "check", "episode_configs", "run_episode", "summarise", "target_holds"]


@dataclass(frozen=True)
class EpisodeRuns:
    """An episode's scenario and the time series of its replications."""

    config: Path
    scenario: Scenario
    series: list[pd.DataFrame]


def run_episode(config: Path, quick: bool) -> EpisodeRuns:
    """Run the episode's replications on the array engine with the seeds ``sim run`` uses (quick: 5
    replications of 5,000 users)."""
    overrides = {"population.n": 5000, "experiment.replications": 5} if quick else {}
    scenario = load_config(config, {**overrides, "experiment.engine": "array"})
    seeds = np.random.SeedSequence(scenario.experiment.seed).spawn(scenario.experiment.replications)
    return EpisodeRuns(config, scenario, [simulate(scenario, seed) for seed in seeds])


def target_holds(target: Target, value: float) -> bool:
    return ((target.low is None or value >= target.low) and (target.high is None or value <= target.high)
            and not math.isnan(value))


def _boolean(target: Target) -> bool:
    return target.low == target.high == 1.0


def summarise(scenario: Scenario, values: list[dict[str, float]]) -> pd.DataFrame:
    """Per target: mean, 95 % CI of the mean, min, max across replications, the share of runs in range and the
    verdict. The tolerance is the spread across seeds: a numeric target passes when the 95 % CI of its mean
    meets the data's range (with one run: when the run's value is in it); a yes/no target when the 95 % Wilson
    interval of the share of runs in which it holds reaches one half."""
    from sim.validation.outofsample import wilson

    rows = []
    for t in scenario.observed.targets:
        v = pd.Series([r[t.id] for r in values], dtype=float)
        mean, half = mean_ci95(v)
        within = np.array([target_holds(t, x) for x in v])
        if _boolean(t):
            passed = wilson(int(within.sum()), len(within))[1] >= 0.5
        elif math.isnan(half):
            passed = target_holds(t, mean)
        else:
            passed = ((t.high is None or mean - half <= t.high) and (t.low is None or mean + half >= t.low))
        rows.append({"id": t.id, "mean": mean, "ci_low": mean - half, "ci_high": mean + half, "min": v.min(),
                     "max": v.max(), "share_in_range": within.mean(), "passed": bool(passed)})
    return pd.DataFrame(rows).set_index("id")


def _fmt(t: Target, v: float) -> str:
    if _boolean(t):
        return f"{v:.0%}"
    if math.isnan(v):
        return "n/a"
    return f"{100 * v:.3g} %" if t.percent else f"{v:.3g}"


def _range_text(t: Target) -> str:
    if _boolean(t):
        return "yes"
    scale, unit = (100.0, " %") if t.percent else (1.0, "")
    if t.high is None:
        return f"≥ {t.low * scale:.3g}{unit}"
    if t.low is None:
        return f"≤ {t.high * scale:.3g}{unit}"
    return f"{t.low * scale:.3g}–{t.high * scale:.3g}{unit}"


def _model_at(runs: EpisodeRuns, data: ObservedData) -> np.ndarray:
    """The model expression of an observed series at the series' days: replications x days (NaN outside)."""
    out = np.full((len(runs.series), len(data.days)), np.nan)
    for i, ts in enumerate(runs.series):
        values = data.model.evaluate(observables(runs.scenario, ts))
        inside = (data.days >= 0) & (data.days < len(values))
        out[i, inside] = values[data.days[inside]]
    return out


def _series_table(runs: EpisodeRuns, observed: list[ObservedData]) -> list[str]:
    rows = ["| series | day | data | model mean (min – max) |", "|---|---|---|---|"]
    for data in observed:
        model = _model_at(runs, data)
        for j, day in enumerate(data.days):
            m = model[:, j]
            cell = ("outside the run" if np.isnan(m).all() else
                    f"{np.nanmean(m):.4g} ({np.nanmin(m):.4g} – {np.nanmax(m):.4g})")
            rows.append(f"| {data.spec.id} | {day} | {data.values[j]:.4g} | {cell} |")
    return rows


def _figure(runs: EpisodeRuns, observed: list[ObservedData], path: Path, title: str) -> None:
    """One panel per kind of data and platform (:func:`sim.episode.panels`): where the series of a panel share
    one model expression, its mean and min–max band over replications as a line; otherwise the model at each
    series' days (filled, with its min–max) next to the data (open). Last, the incumbent's active share."""
    groups = panels(observed)
    scenario = runs.scenario
    inc = scenario.platform_names[scenario.incumbent]
    fig, axes = plt.subplots(len(groups) + 1, 1, figsize=(12, 2.8 * len(groups) + 2.2), sharex=True, squeeze=False)
    markers = "os^Dv<>p*h"
    for ax, (name, members) in zip(axes[:-1, 0], groups.items(), strict=False):
        if len({m.model.text for m in members}) == 1:
            values = np.array([members[0].model.evaluate(observables(scenario, ts)) for ts in runs.series])
            days = np.flatnonzero(np.isfinite(values).any(axis=0))  # e.g. a weekly mean ends 6 days early
            values = values[:, days]
            ax.fill_between(days, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color="C0", alpha=0.25,
                            lw=0, label="model, min–max over replications")
            ax.plot(days, np.nanmean(values, axis=0), color="C0", lw=1.6, label=f"model: {members[0].model.text}")
        for k, data in enumerate(members):
            colour, marker = f"C{k + 1}", markers[k % len(markers)]
            ax.plot(data.days, data.values, marker, color=colour, mfc="none",
                    label=f"data: {data.spec.label or data.spec.id}")
            if len({m.model.text for m in members}) > 1:
                model = _model_at(runs, data)
                mean = np.nanmean(model, axis=0)
                ax.errorbar(data.days, mean, yerr=[mean - np.nanmin(model, axis=0), np.nanmax(model, axis=0) - mean],
                            fmt=marker, color=colour, ms=4, lw=0.8,
                            label="model at the data's days (filled; bars: min–max)" if k == 0 else None)
        if len({m.model.text for m in members}) > 1 and all((m.values > 0).all() for m in members):
            ax.set_yscale("log")  # windows of different lengths: counts an order of magnitude apart
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    share = np.array([ts[f"active_{inc}"].to_numpy() for ts in runs.series])
    ax_i = axes[-1, 0]
    ax_i.fill_between(np.arange(share.shape[1]), share.min(axis=0), share.max(axis=0), color="C2", alpha=0.3, lw=0)
    ax_i.plot(share.mean(axis=0), color="C2", lw=1.5)
    start = scenario.experiment.start_date
    ax_i.set(xlabel=f"day (0 = {start})" if start else "day", ylabel=f"{inc} active share")
    fig.suptitle(title)
    save_figure(fig, path)


def _dynamics(runs: EpisodeRuns) -> list[str]:
    """Beyond the targets, for every episode: each rival's peak day, and the burn-in drift of its share from day
    0 to the day before the first event (MODEL_SPEC: under 5 % per run), with the counting noise of one user."""
    scenario = runs.scenario
    names = scenario.platform_names
    first = min((e.day for e in scenario.events), default=scenario.experiment.steps + 1)
    lines = []
    for k in scenario.rivals:
        shares = np.array([ts[f"active_{names[k]}"].to_numpy() for ts in runs.series])
        peak_days = shares.argmax(axis=1)
        text = (f"{names[k]}: peak active share on day {peak_days.mean():.1f} on average (range "
                f"{peak_days.min()}–{peak_days.max()})")
        start = shares[:, 0]
        if first > 1 and (start > 0).all():
            drift = shares[:, first - 1] / start - 1
            users = start.mean() * scenario.population.n
            text += (f"; burn-in drift from day 0 to day {first - 1}, before the first event: "
                     f"{100 * drift.mean():+.2f} % on average, at most {100 * np.abs(drift).max():.1f} % "
                     f"in a run (one user is {100 / users:.1f} % of its {users:,.0f} starting users at this N)")
        lines.append(f"- {text}.")
    return lines


def check(config: Path, quick: bool, figures: Path) -> Section:
    """Run one episode and report its targets, its observed series against the model, and a figure."""
    runs = run_episode(config, quick)
    scenario = runs.scenario
    name = scenario.experiment.name
    values = [target_values(scenario, ts) for ts in runs.series]
    table = summarise(scenario, values)
    observed = [load_series(scenario, spec) for spec in scenario.observed.series]
    figures.mkdir(parents=True, exist_ok=True)
    path = figures / f"{name}_targets{'_quick' if quick else ''}.png"
    n, reps = scenario.population.n, scenario.experiment.replications
    _figure(runs, observed, path, f"{name}, N = {n:,}, {reps} replications")
    command = f"sim validate --only {name}" + (" --quick" if quick else "")
    rows = []
    for t in scenario.observed.targets:
        r = table.loc[t.id]
        spread = (f"{r['share_in_range']:.0%} of runs" if _boolean(t) else
                  f"{_fmt(t, r['min'])} – {_fmt(t, r['max'])}")
        ci = "" if _boolean(t) else f"{_fmt(t, r['ci_low'])} – {_fmt(t, r['ci_high'])}"
        rows.append(f"| {t.pattern} | {t.id}: {t.text} | {_fmt(t, r['mean'])} | {ci} | {spread} | {_range_text(t)} "
                    f"| {r['share_in_range']:.0%} | {'pass' if r['passed'] else '**MISS**'} |")
    missed = [t.id for t in scenario.observed.targets if not table.loc[t.id, "passed"]]
    verdict = ("All targets are within the data's ranges." if not missed else
               f"The model misses {len(missed)} of {len(table)} targets: {', '.join(missed)}.")
    md = [
        f"`{config}` on the array engine, N = {n:,} users, {reps} replications (seeds: children of "
        f"SeedSequence({scenario.experiment.seed})). The tolerance is the spread across seeds: a numeric target "
        "passes when the 95 % CI of its mean meets the data's range; a yes/no target when the 95 % Wilson "
        "interval of the share of runs in which it holds reaches one half.",
        "",
        "| pattern | target | mean | 95 % CI of mean | spread (min – max) | data range | runs in range | verdict |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        verdict,
        "",
        *_dynamics(runs),
    ]
    if scenario.observed.notes:
        md += ["", "The modeller's reading, from the config's `observed.notes` (written with the config; the numbers "
               "in the table above are this run's):", "", "> " + " ".join(scenario.observed.notes.split())]
    if observed:
        md += ["", "Observed series against the model at the same days (the model expression each series is "
               "compared with is in the config):", "", *_series_table(runs, observed)]
    md += ["", f"![{name}](figures/{path.name})"]
    numbers = {f"{t.id}_{stat}": float(table.loc[t.id, stat]) for t in scenario.observed.targets
               for stat in ("mean", "min", "max", "passed")} | {"replications": float(reps), "n": float(n),
                                                                "targets": float(len(table)),
                                                                "targets_met": float(table["passed"].sum())}
    return Section(f"Episode {name}: targets", "\n".join(md), command, not missed, numbers, [path])
