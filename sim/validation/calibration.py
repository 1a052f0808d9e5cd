"""The Calibration section of docs/VALIDATION.md, from the shipped posterior (experiments/calibration/), checked
again against the current code: the posterior predictive of every episode is run now, not read from a file.

What it reports, and labels:

- the command that produced the posterior, the model variants' posterior probabilities (ABC model
  selection), and per episode and jointly the number of fitted parameters against the data points;
- per parameter, its prior range, posterior median and 90 % interval, and the interval's share of the prior
  range (what the data identify);
- **in sample**: each episode's targets against the 50 % and 90 % intervals of the posterior predictive (the
  data the fit used); a target whose data range does not meet its 90 % interval is a miss;
- **out of sample, forecasts**: each episode's ``[[observed.forecasts]]`` (numbers the data do not give) with
  their 50 % and 90 % predictive intervals.

The section passes when every target's data range meets its 90 % predictive interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import Scenario
from sim.config.schema import Target
from sim.episode import target_values
from sim.fit.distance import TARGET_SCALE
from sim.fit.figures import predictive, predictive_runs
from sim.fit.posterior import POSTERIOR, Posterior
from sim.validation import Section, display, link

__all__ = ["CALIBRATION_DIR", "Interval", "calibration_section", "intervals"]

#: The shipped posterior and its manifest, relative to the working directory.
CALIBRATION_DIR = Path("experiments") / "calibration"
#: Where fits of each episode alone live, one folder per episode, inside the calibration folder.
PER_EPISODE = "per_episode"


@dataclass(frozen=True)
class Interval:
    """A predictive distribution of one number: median, 50 % and 90 % intervals."""

    median: float
    q25: float
    q75: float
    q05: float
    q95: float

    @classmethod
    def of(cls, values: np.ndarray) -> Interval:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if len(v) == 0:
            return cls(*(np.nan,) * 5)
        q = np.quantile(v, [0.5, 0.25, 0.75, 0.05, 0.95])
        return cls(*(float(x) for x in q))

    def meets(self, low: float | None, high: float | None, wide: bool = True) -> bool:
        """Whether the data's range [low, high] meets the 90 % (``wide``) or 50 % interval."""
        a, b = (self.q05, self.q95) if wide else (self.q25, self.q75)
        return (high is None or a <= high) and (low is None or b >= low) and np.isfinite(a)


#: A fit whose last population still lowered the threshold by more than this share has not converged.
CONVERGED_DROP = 0.05


def last_fall(generations: list[dict]) -> float:
    """The share by which a fit's last population lowered the acceptance threshold (NaN with one population)."""
    if len(generations) < 2:
        return float("nan")
    return 1 - generations[-1]["epsilon"] / generations[-2]["epsilon"]


def converged(generations: list[dict]) -> bool:
    """Whether the last population lowered the threshold by at most :data:`CONVERGED_DROP` (one population: no)."""
    return last_fall(generations) <= CONVERGED_DROP


def convergence(generations: list[dict]) -> str:
    """One sentence on whether the fit converged: the last population's fall of the threshold and its
    effective sample size."""
    last = generations[-1]
    ess = f"an effective sample size of {last.get('ess', float('nan')):.0f} of {last['particles']}"
    if len(generations) < 2:
        return f"**Convergence**: one population only ({ess}): not converged."
    drop = last_fall(generations)
    verdict = ("has converged" if converged(generations) else "has **not converged**: its posterior is wider, and "
               "its model probabilities less settled, than a longer fit's would be")
    return (f"**Convergence**: the last population lowered the threshold by {drop:.0%} "
            f"({generations[-2]['epsilon']:.4g} to {last['epsilon']:.4g}), with {ess}. By the rule that a fit has "
            f"converged when its threshold falls by at most {CONVERGED_DROP:.0%} a population, this fit {verdict}.")


def per_episode(folder: Path, models: list[str], numbers: dict[str, float]) -> list[str]:
    """The model selection of each episode fitted alone (``<folder>/per_episode/<episode>/``), as report lines
    (none if no such fit is shipped); each probability into ``numbers`` as ``p_<episode>_<model>``."""
    fits = sorted(p.parent for p in (folder / PER_EPISODE).glob(f"*/{POSTERIOR}"))
    if not fits:
        return []
    lines = ["**Model selection, episode by episode** (each episode fitted alone, same priors and variants: "
             f"`{display(folder / PER_EPISODE)}/<episode>/`, the command in each manifest):", "",
             "| episode | populations of | final threshold | last fall | " + " | ".join(models) + " | prefers |",
             "|---|---|---|---|" + "---|" * (len(models) + 1)]
    for fit in fits:
        m = Posterior.load(fit).manifest
        episode, g = m["configs"][0]["episode"], m["generations"]
        probs = m["model_probabilities"]
        numbers |= {f"p_{episode}_{k}": float(probs.get(k, 0.0)) for k in models}
        cells = " | ".join(f"{probs.get(k, 0.0):.3f}" if k in m["models"] else "—" for k in models)
        lines.append(f"| {episode} | {len(g)} × {m['settings']['population']} | {g[-1]['epsilon']:.4g} | "
                     f"{last_fall(g):.0%} | {cells} | {max(probs, key=probs.get)} |")
    return [*lines, "", f"A fall of the threshold above {CONVERGED_DROP:.0%} in the last population: that fit has "
            "not converged either, and its probabilities are as unsettled as the joint fit's.", ""]


def intervals(scenario: Scenario, runs: list[pd.DataFrame], forecasts: bool = False) -> dict[str, Interval]:
    """Each target's (or forecast's) predictive interval over ``runs``."""
    values = [target_values(scenario, ts, forecasts) for ts in runs]
    items = scenario.observed.forecasts if forecasts else scenario.observed.targets
    return {t.id: Interval.of(np.array([v[t.id] for v in values])) for t in items}


def fmt(value: float, percent: bool) -> str:
    """A number of a report table (a percentage where ``percent``), or n/a."""
    if not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.3g} %" if percent else f"{value:.3g}"


def data_range(t: Target) -> str:
    """A target's data range as a report shows it."""
    if t.low == t.high == 1.0:
        return "yes (1)"
    scale, unit = (100.0, " %") if t.percent else (1.0, "")
    low = "−∞" if t.low is None else f"{t.low * scale:.3g}"
    high = "∞" if t.high is None else f"{t.high * scale:.3g}"
    return f"{low} – {high}{unit}"


def calibration_section(folder: Path = CALIBRATION_DIR, quick: bool = False, figures: Path | None = None
                        ) -> Section | None:
    """The section, or None if there is no posterior in ``folder``. ``quick``: 10 draws per episode at 1,500
    users instead of 60 at the fit's N."""
    if not (folder / POSTERIOR).is_file():
        return None
    posterior = Posterior.load(folder / POSTERIOR)
    m = posterior.manifest
    draws, n = (10, 1500) if quick else (60, m["settings"]["n"])
    command = " ".join(m["command"])
    models = m["model_probabilities"]
    best = max(models, key=models.get)
    lines = [f"Produced by `{command}` ({m['seconds'] / 60:.0f} min, sampler {m['sampler']}); the posterior is "
             f"`{display(folder / POSTERIOR)}` with its manifest. ABC-SMC (pyabc {m['versions']['pyabc']}): "
             f"{len(m['generations'])} populations of {m['settings']['population']} particles, each parameter set "
             f"run on {m['settings']['seeds']} fresh seeds at N = {m['settings']['n']:,}; the final acceptance "
             f"threshold is {m['generations'][-1]['epsilon']:.4g}.",
             "",
             "**Method.** Priors are uniform, declared in each episode config with a reason ([[calibration.priors]]); "
             "the behavioural parameters are shared by all episodes, each episode has its own factors on its "
             "events' intensities (or uptakes, severities). For a parameter set, every episode is run on fresh "
             "seeds; its statistics are the means over those runs of each target and of each fitted series at "
             "the data's days. The distance adds, per episode, (excess of a target outside the data's range / "
             f"width / {TARGET_SCALE})² and Σ (log model − log data)² / sigma² over every fitted series point "
             "(sigma: the series' stated error; both sides floored at half a user's share of the run's population, "
             "the smallest share a run resolves); it is the square root of the sum over episodes. pyabc runs "
             "ABC-SMC with adaptive thresholds (the median distance of the last population) and compares the "
             "model variants by ABC model selection.",
             "", "**Model selection** (posterior probability of each variant, by population):", "",
             "| population | epsilon | simulations | effective sample size | " + " | ".join(models) + " |",
             "|---|---|---|---|" + "---|" * len(models)]
    for g in m["generations"]:
        cells = " | ".join(f"{g['model_probabilities'].get(k, 0.0):.3f}" for k in models)
        lines.append(f"| {g['t']} | {g['epsilon']:.4g} | {g['samples']} | {g.get('ess', float('nan')):.0f} of "
                     f"{g['particles']} | {cells} |")
    lines += ["", f"The data prefer **{best}** ({models[best]:.2f}): {m['models'][best]}. "
              + ("; ".join(f"{k}: {m['models'][k]}" for k in models if k != best)) + ".", ""]
    lines += [convergence(m["generations"]), ""]
    numbers: dict[str, float] = {}
    lines += per_episode(folder, list(models), numbers)
    # Parameters against data points.
    lines += ["**Parameters against data points** (a data point: one fitted series value or one target):", "",
              "| episode | fitted parameters (model " + best + ") | data points |", "|---|---|---|"]
    fitted = m["fitted"][best]
    for episode, points in m["data_points"].items():
        lines.append(f"| {episode} | {fitted[episode]} | {points} |")
    shared = sum(1 for r in posterior.parameters if r["episode"] is None and best in r["models"])
    total = shared + sum(1 for r in posterior.parameters if r["episode"] is not None and best in r["models"])
    lines += [f"| jointly | {total} ({shared} shared) | {sum(m['data_points'].values())} |", ""]
    # Identification.
    lines += ["**What the data identify** (weighted over the particles of every variant that fits the parameter):",
              "", "| parameter | prior | median | 90 % interval | interval / prior |", "|---|---|---|---|---|"]
    for r in posterior.parameters:
        q05, q50, q95 = posterior.quantiles(r["column"], np.array([0.05, 0.5, 0.95]))
        share = (q95 - q05) / (r["high"] - r["low"])
        numbers[f"width_{r['column']}"] = float(share)
        lines.append(f"| `{r['column']}` | {r['low']:g} – {r['high']:g} | {q50:.3g} | {q05:.3g} – {q95:.3g} | "
                     f"{share:.0%} |")
    lines += ["", "A share near 100 % means the data do not narrow the prior: that parameter is not identified.", ""]
    # Posterior predictive, per episode.
    misses, forecast_lines = [], []
    paths = []
    lines += [f"**In sample: the posterior predictive against the targets the fit used** ({draws} draws per "
              f"episode, one run each, N = {n:,}). A target is met when its data range meets the 90 % "
              "interval.", ""]
    for record in m["configs"]:
        config = Path(record["path"])
        scenario, runs = predictive_runs(posterior, config, draws, seed=int(m["settings"]["rng_seed"]), n=n)
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            paths.append(predictive(scenario, runs, figures / f"calibration_{scenario.experiment.name}"
                                    f"{'_quick' if quick else ''}.png",
                                    f"{scenario.experiment.name}: posterior predictive ({draws} draws)"))
        lines += [f"*{scenario.experiment.name}*", "", "| target | data | median | 50 % | 90 % | met |",
                  "|---|---|---|---|---|---|"]
        for t in scenario.observed.targets:
            iv = intervals(scenario, runs)[t.id]
            met = iv.meets(t.low, t.high)
            if not met:
                misses.append(f"{scenario.experiment.name}:{t.id}")
            p = t.percent
            lines.append(f"| {t.id} | {data_range(t)} | {fmt(iv.median, p)} | {fmt(iv.q25, p)} – {fmt(iv.q75, p)} | "
                         f"{fmt(iv.q05, p)} – {fmt(iv.q95, p)} | {'yes' if met else '**no**'} |")
        lines.append("")
        for f in scenario.observed.forecasts:
            iv = intervals(scenario, runs, forecasts=True)[f.id]
            p = f.percent
            numbers[f"forecast_{scenario.experiment.name}_{f.id}_median"] = iv.median
            forecast_lines.append(f"| {scenario.experiment.name} | {f.id}: {f.text} | {fmt(iv.median, p)} | "
                                  f"{fmt(iv.q25, p)} – {fmt(iv.q75, p)} | {fmt(iv.q05, p)} – {fmt(iv.q95, p)} |")
    lines += ["Missed in sample: " + (", ".join(misses) if misses else "none") + ".", ""]
    if forecast_lines:
        lines += ["**Out of sample: forecasts beyond the data** (no data to compare with; the intervals say how "
                  "much the posterior commits to):", "", "| episode | forecast | median | 50 % | 90 % |",
                  "|---|---|---|---|---|", *forecast_lines, ""]
    for f in ("posterior_marginals.png", "posterior_pairs.png"):
        if (folder / "figures" / f).is_file():
            lines.append(f"![{f}]({link(display(folder / 'figures' / f))})")
    lines += [f"![predictive]({link(display(p))})" for p in paths]
    numbers |= {"misses": float(len(misses)), f"p_{best}": float(models[best])}
    return Section("Calibration", "\n".join(lines), command, not misses, numbers, paths)
