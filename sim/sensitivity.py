"""Global sensitivity analysis of a scenario (SALib): Morris screening, then Sobol' indices.

**Outputs** (per run, :func:`outputs`): the peak rival share, max over rivals and days of a rival's active
share (of all users; bounded, unlike the ratio to the incumbent's users, which explodes where a parameter set
empties the incumbent), and the incumbent's largest loss, (x_inc(0) − min_d x_inc(d)) / x_inc(0) over the run
(``steps`` days: choose them to cover the episode's peak).

**Method.** (1) Morris elementary effects (Morris 1991; Campolongo et al. 2007's μ*): ``trajectories``
one-at-a-time paths on a 4-level grid over the ranges of the factors (:func:`factors`: the config's
calibration priors, the hand-set behaviour as factors on the configured values, and the incumbent's and the
state's responses: the credibility and the reach of every calming event), r (k + 1) runs; μ* (mean absolute
elementary effect, in units of the output per whole range) ranks influence, σ flags interactions or
non-linearity. (2) Sobol' first-order and total indices (Saltelli 2002/2010 estimators, SALib) on the factors
the screening finds influential (μ* at least 10 % of the largest μ* for either output), from Saltelli's
scheme with ``N`` base samples (a power of 2), N (D + 2) runs, second order not computed, 95 % bootstrap
confidence intervals. Every run uses the same model seed (common random numbers: the indices measure the
parameters, not the noise), the graph built once; runs are evaluated in exactly the order SALib's sampler
returns them, as its estimators require. Other factors stay at the scenario's values.

``habit`` only chooses the primary among platforms already in use (it reaches adoption only through which
platform's risk a user compares with), so it can barely move either output: a built-in negative control whose
indices must come out near zero.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.config import Scenario, load_config
from sim.config.schema import Prior
from sim.fit.problem import config_value, prior_overrides, with_values
from sim.validation import SavedResult, Section, display, link, save_figure

__all__ = ["HAND_SET", "OUTPUTS", "SENSITIVITY_PATH", "SensitivityResult", "factors", "morris_screen", "outputs",
           "sensitivity", "sensitivity_section", "sobol_indices"]

#: Where the result is saved and read back by ``sim validate`` (relative to the working directory).
SENSITIVITY_PATH = Path("docs") / "calibration" / "sensitivity.json"
#: Share of the largest μ* the negative control (habit) may reach before the analysis is not trusted.
CONTROL_LIMIT = 0.05
OUTPUTS = ("peak_share", "incumbent_loss")
OUTPUT_LABELS = {"peak_share": "peak active share of a rival", "incumbent_loss": "incumbent's largest loss"}
#: Screening threshold: a factor is influential if its μ* is at least this fraction of the largest μ*.
INFLUENTIAL = 0.1

#: Hand-set behaviour, as factors on the configured value (key -> low, high factor, why).
HAND_SET: dict[str, tuple[float, float, str]] = {
    "behaviour.b_net": (0.75, 1.25, "incumbent's network lock-in in V (x 0.75-1.25)"),
    "behaviour.b_priv": (0.5, 1.5, "weight of perceived risk in V (x 0.5-1.5)"),
    "behaviour.exit_level": (0.78, 1.22, "use value below which users leave (0.45 +- 0.1)"),
    "behaviour.r_base": (0.5, 1.5, "resting alarm per unit concern (x 0.5-1.5)"),
    "behaviour.lam_drop": (0.5, 1.5, "daily drop rate (x 0.5-1.5)"),
    "behaviour.lam_exit": (0.5, 1.5, "daily rate of leaving the incumbent (x 0.5-1.5)"),
    "behaviour.tau": (0.5, 1.5, "logistic temperature of decisions (x 0.5-1.5)"),
    "behaviour.habit": (0.5, 2.0, "bonus of the current primary (negative control)"),
}
#: Event kinds whose credibility and reach are the responses' factors.
CALMING = ("retention_cut", "encryption_promise", "encryption_launch", "apology_refusal", "clarification",
           "postponement")


def factors(scenario: Scenario) -> list[Prior]:
    """The factors of a scenario: its calibration priors as given, each hand-set behaviour key not among them
    as a factor on its value (:data:`HAND_SET`), and one factor on the credibility and one on the reach of all
    calming events (the responses; ranges keep every value within [0, 1])."""
    out = list(scenario.calibration.priors)
    fitted = {k for p in out for k in (p.scales or (p.key,))}
    for key, (low, high, why) in HAND_SET.items():
        if key not in fitted and config_value(scenario, key) != 0:
            out.append(Prior(f"{key.split('.')[-1]}_factor", low, high, scales=(key,), reason=why))
    calming = [e for e in scenario.events if e.kind in CALMING]
    for field_name in ("credibility", "reach"):
        keys = tuple(f"events.{e.id}.{field_name}" for e in calming if getattr(e, field_name) > 0)
        if keys:
            top = max(getattr(e, field_name) for e in calming)
            out.append(Prior(f"response_{field_name}", 0.5, min(1.5, 1.0 / top), scales=keys,
                             reason=f"the responses' {field_name}: x 0.5 up to 1.5 (at most 1)"))
    return out


def outputs(ts: pd.DataFrame, platforms: Sequence[str], incumbent: str) -> tuple[float, float]:
    """(peak active share of any rival, the incumbent's largest relative loss of active share over the run)
    of one run."""
    peak = max(float(ts[f"active_{p}"].max()) for p in platforms if p != incumbent)
    inc = ts[f"active_{incumbent}"].to_numpy()
    return peak, float(max(inc[0] - inc.min(), 0.0) / inc[0])


def _problem(chosen: Sequence[Prior]) -> dict[str, Any]:
    return {"num_vars": len(chosen), "names": [f.key for f in chosen], "bounds": [[f.low, f.high] for f in chosen]}


def _evaluate_rows(func: Callable[[np.ndarray], Sequence[float]], X: np.ndarray) -> np.ndarray:
    """func on every row of X, strictly in row order (Saltelli's estimators pair rows by position)."""
    return np.array([func(x) for x in X], dtype=float).reshape(len(X), -1)


def morris_screen(problem: dict[str, Any], func: Callable[[np.ndarray], Sequence[float]], trajectories: int,
                  seed: int, num_levels: int = 4) -> tuple[np.ndarray, list[dict[str, list[float]]]]:
    """Morris screening of ``func`` (row of factor values -> outputs). Returns the sample and, per output,
    SALib's ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma`` (one value per factor)."""
    X = morris_sample.sample(problem, trajectories, num_levels=num_levels, seed=seed)
    Y = _evaluate_rows(func, X)
    out = []
    for j in range(Y.shape[1]):
        res = morris_analyze.analyze(problem, X, Y[:, j], num_levels=num_levels, seed=seed)
        out.append({k: np.asarray(res[k], dtype=float).tolist() for k in ("mu", "mu_star", "mu_star_conf", "sigma")})
    return X, out


def sobol_indices(problem: dict[str, Any], func: Callable[[np.ndarray], Sequence[float]], n: int,
                  seed: int) -> tuple[np.ndarray, list[dict[str, list[float]]]]:
    """Sobol' first-order and total indices of ``func`` from Saltelli's scheme with ``n`` base samples (a
    power of 2; n (D + 2) evaluations, second order not computed). Per output: ``S1``, ``S1_conf``, ``ST``,
    ``ST_conf`` (95 % bootstrap half-widths). An output that never varies gets NaN indices."""
    if n < 2 or n & (n - 1):
        raise ValueError(f"sobol n must be a power of 2, got {n}")
    X = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    Y = _evaluate_rows(func, X)
    out = []
    for j in range(Y.shape[1]):
        if np.ptp(Y[:, j]) == 0:
            nan = [math.nan] * problem["num_vars"]
            out.append({"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan})
            continue
        res = sobol_analyze.analyze(problem, Y[:, j], calc_second_order=False, seed=seed)
        out.append({k: np.asarray(res[k], dtype=float).tolist() for k in ("S1", "S1_conf", "ST", "ST_conf")})
    return X, out


@dataclass
class SensitivityResult(SavedResult):
    """What :func:`sensitivity` found; saved as sensitivity.json, read back by :func:`sensitivity_section`."""

    method: dict[str, Any]
    factors: list[dict[str, Any]]
    morris: dict[str, dict[str, dict[str, float]]]
    selected: list[str]
    sobol: dict[str, dict[str, dict[str, float]]]
    runs: dict[str, int]
    seconds: float
    figures: list[str] = field(default_factory=list)


def _by_factor(names: Sequence[str], per_output: list[dict[str, list[float]]]) -> dict[str, dict[str, dict]]:
    return {o: {name: {k: v[i] for k, v in res.items()} for i, name in enumerate(names)}
            for o, res in zip(OUTPUTS, per_output, strict=True)}


def sensitivity(config_path: str | Path, *, morris_trajectories: int = 10, sobol_n: int = 256,
                out_dir: str | Path = SENSITIVITY_PATH.parent, rng_seed: int = 2014, n: int = 5000,
                steps: int | None = None, figures: str | Path | None = None,
                chosen: Sequence[Prior] | None = None) -> SensitivityResult:
    """Morris screening of the factors (default :func:`factors`), then Sobol' indices of the influential ones,
    for the scenario in
    ``config_path`` at ``n`` users over ``steps`` days (default: the config's). Sampling seeds and
    the one model seed come from ``SeedSequence(rng_seed)``. Writes ``out_dir/sensitivity.json`` and the
    figures ``sensitivity_morris.png``, ``sensitivity_sobol.png`` into ``figures`` (default
    ``out_dir/../figures``). The same arguments give the same result."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    figures = Path(figures) if figures is not None else out_dir.parent / "figures"
    sample_seq, model_seq = np.random.SeedSequence(rng_seed).spawn(2)
    sample_seed = int(np.random.default_rng(sample_seq).integers(2**31))
    from sim import simulate

    base = load_config(config_path, {"population.n": n, "experiment.engine": "array",
                                     **({"experiment.steps": steps} if steps else {})})
    every = list(chosen) if chosen is not None else factors(base)
    names, incumbent = base.platform_names, base.platform_names[base.incumbent]
    for f in every:  # both ends of every factor make a valid scenario (ConfigError otherwise), before any run
        for end in (f.low, f.high):
            load_config(config_path, {"population.n": n, **prior_overrides(base, [f], [end])})

    def model(subset: Sequence[Prior]) -> Callable[[np.ndarray], tuple[float, float]]:
        def run(x: np.ndarray) -> tuple[float, float]:
            scenario = with_values(base, prior_overrides(base, subset, [float(v) for v in x]))
            return outputs(simulate(scenario, model_seq, "array"), names, incumbent)
        return run

    X_m, morris = morris_screen(_problem(every), model(every), morris_trajectories, sample_seed)
    top = [max(res["mu_star"]) for res in morris]
    selected = [f for i, f in enumerate(every)
                if any(top[j] > 0 and res["mu_star"][i] >= INFLUENTIAL * top[j] for j, res in enumerate(morris))]
    sobol_res: list[dict[str, list[float]]] = []
    X_s = np.zeros((0, len(selected)))
    if selected and sobol_n > 0:
        X_s, sobol_res = sobol_indices(_problem(selected), model(selected), sobol_n, sample_seed)

    command = (f"sim sensitivity {display(config_path)} --trajectories {morris_trajectories} "
               f"--sobol-n {sobol_n} --n {n} --rng-seed {rng_seed} --out {display(out_dir)}")
    result = SensitivityResult(
        method={"config": display(config_path), "n": n, "steps": base.experiment.steps, "engine": "array",
                "rng_seed": rng_seed, "sample_seed": sample_seed,
                "model_seed": {"entropy": int(model_seq.entropy), "spawn_key": list(model_seq.spawn_key)},
                "morris": f"SALib morris, {morris_trajectories} trajectories, 4 levels",
                "screening": f"influential if mu* >= {INFLUENTIAL:.0%} of the largest mu* for either output",
                "sobol": f"SALib Saltelli scheme (sample.sobol), N = {sobol_n}, calc_second_order = False, "
                         "95 % bootstrap CIs, evaluated in sampler order",
                "outputs": OUTPUT_LABELS, "command": command},
        factors=[{"name": f.key, **asdict(f)} for f in every],
        morris=_by_factor([f.key for f in every], morris),
        selected=[f.key for f in selected],
        sobol=_by_factor([f.key for f in selected], sobol_res) if sobol_res else {},
        runs={"morris": len(X_m), "sobol": len(X_s)}, seconds=0.0)
    figures.mkdir(parents=True, exist_ok=True)
    result.figures = [display(p) for p in _figures(result, figures)]
    result.seconds = time.perf_counter() - start
    result.save(out_dir / "sensitivity.json")
    return result


def _figures(result: SensitivityResult, folder: Path) -> list[Path]:
    """Morris μ* against σ per output; Sobol' S1 and ST with their 95 % intervals per output."""
    paths = []
    fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(10, 4.2))
    for ax, o in zip(axes, OUTPUTS, strict=True):
        m = result.morris[o]
        # Log axes: the effects span orders of magnitude; the floor keeps zero effects (habit) on the plot.
        floor = 1e-3 * max(max(v["mu_star"] for v in m.values()), 1e-12)
        for name, v in m.items():
            xy = (max(v["mu_star"], floor), max(v["sigma"], floor))
            ax.scatter(*xy, s=18, color="C0" if name in result.selected else "0.6")
            ax.annotate(name, xy, fontsize=7, xytext=(3, 2), textcoords="offset points")
        ax.set(xlabel="μ* (mean |elementary effect|)", ylabel="σ", title=OUTPUT_LABELS[o], xscale="log",
               yscale="log")
    fig.suptitle("Morris screening (blue: passed on to Sobol'; zero effects drawn at 1/1000 of the largest)",
                 fontsize=10)
    paths.append(save_figure(fig, folder / "sensitivity_morris.png"))
    if result.sobol:
        fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(10, 4.2), sharey=True)
        for ax, o in zip(axes, OUTPUTS, strict=True):
            s = result.sobol[o]
            names = list(s)
            x = np.arange(len(names))
            for dx, key, colour in ((-0.2, "S1", "C0"), (0.2, "ST", "C1")):
                vals = [s[k][key] if s[k][key] is not None else np.nan for k in names]
                errs = [s[k][f"{key}_conf"] if s[k][f"{key}_conf"] is not None else np.nan for k in names]
                ax.bar(x + dx, vals, width=0.4, yerr=errs, color=colour, label=key, capsize=2)
            ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
            ax.set(title=OUTPUT_LABELS[o])
            ax.axhline(0, color="k", lw=0.6)
        axes[0].set_ylabel("Sobol' index (95 % CI)")
        axes[0].legend(frameon=False)
        paths.append(save_figure(fig, folder / "sensitivity_sobol.png"))
    return paths


def _num(v: float | None, fmt: str = ".3f") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def sensitivity_section(path: str | Path = SENSITIVITY_PATH) -> Section:
    """The report's "Sensitivity" section from a saved sensitivity.json (never re-runs the model)."""
    r = SensitivityResult.load(path)
    m = r.method
    lines = [
        f"Produced by `{m['command']}` ({r.seconds / 60:.1f} min, one core); result in `{display(path)}`. "
        f"Array engine, N = {m['n']:,}, {m['steps']} days, one model seed for every run (common random "
        f"numbers). Outputs: {', '.join(OUTPUT_LABELS.values())}. {m['morris']} ({r.runs['morris']} runs); "
        f"{m['screening']}; {m['sobol']} ({r.runs['sobol']} runs).",
        "",
        "**Morris screening** (μ*, σ in output units per whole range; ranges in the first column):",
        "",
        "| factor | range | " + " | ".join(f"μ* {o} | σ {o}" for o in OUTPUTS) + " | to Sobol' |",
        "|---|---|" + "---|---|" * len(OUTPUTS) + "---|",
    ]
    for f in r.factors:
        cells = " | ".join(f"{_num(r.morris[o][f['name']]['mu_star'], '.4f')} | "
                           f"{_num(r.morris[o][f['name']]['sigma'], '.4f')}" for o in OUTPUTS)
        lines.append(f"| `{f['key']}` | {f['low']:g} – {f['high']:g} | {cells} | "
                     f"{'yes' if f['name'] in r.selected else 'no'} |")
    control = "habit_factor"
    passed = True
    if control in r.morris[OUTPUTS[0]]:
        shares = {o: r.morris[o][control]["mu_star"] / max(v["mu_star"] for v in r.morris[o].values())
                  for o in OUTPUTS if max(v["mu_star"] for v in r.morris[o].values()) > 0}
        passed = all(v <= CONTROL_LIMIT for v in shares.values())
        text = ", ".join(f"{v:.2%} of the largest μ* for {o}" for o, v in shares.items())
        lines += ["", f"Negative control: `habit` only picks the primary among the platforms in use, so it should "
                  f"barely move either output; its μ* is {text} (the check: at most {CONTROL_LIMIT:.0%}; "
                  f"{'holds' if passed else '**fails**: the outputs react to something they should not'})."]
    numbers: dict[str, float] = {}
    if r.sobol:
        lines += ["", "**Sobol' indices** (± 95 % bootstrap half-width):", "",
                  "| factor | " + " | ".join(f"S1 {o} | ST {o}" for o in OUTPUTS) + " |",
                  "|---|" + "---|---|" * len(OUTPUTS)]
        for name in r.selected:
            cells = []
            for o in OUTPUTS:
                s = r.sobol[o][name]
                cells.append(f"{_num(s['S1'], '.2f')} ± {_num(s['S1_conf'], '.2f')} | "
                             f"{_num(s['ST'], '.2f')} ± {_num(s['ST_conf'], '.2f')}")
                numbers[f"ST_{o}_{name}"] = math.nan if s["ST"] is None else float(s["ST"])
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        for o in OUTPUTS:
            ranked = sorted(((v["ST"], k) for k, v in r.sobol[o].items() if v["ST"] is not None), reverse=True)
            matter = [f"{k} (ST {st:.2f})" for st, k in ranked if st >= 0.1]
            label = OUTPUT_LABELS[o]
            lines += ["", f"{label[0].upper()}{label[1:]}: "
                      + ("driven by " + ", ".join(matter) if matter else "no factor with ST ≥ 0.1") + "."]
    lines += ["", *(f"![sensitivity]({link(f)})" for f in r.figures)]
    numbers |= {f"mu_star_{o}_{k}": float(v["mu_star"]) for o in OUTPUTS for k, v in r.morris[o].items()}
    return Section("Sensitivity", "\n".join(lines), m["command"], passed, numbers, [Path(f) for f in r.figures])
