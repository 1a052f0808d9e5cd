"""Figures of a policy exploration, drawn from its saved analysis (:class:`sim.explore.files.Exploration`, read
from ``<results folder>/explore/``; nothing here opens a file):

- ``prim_<predicate>``: PRIM's peeling trajectory (coverage against density, coloured by the number of
  restricted inputs, the reported box circled) and that box's limits within each input's range, with their
  quasi-p-values;
- ``feature_scores``: the extra-trees score of every input (rows) for every outcome and predicate (columns);
- ``robustness``: per policy, the share of scenarios where each predicate holds, and its regret for each
  outcome with a goal (90th percentile as a bar, maximum as a dot);
- ``scatter_<predicate>``: each outcome the predicate reads against the two inputs that score highest for it,
  every run coloured by whether the predicate holds, the clause's threshold drawn.

An input's "never" (a day lever's event that does not happen) is its last tick, labelled so.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.explore.files import BoxLimit, Exploration
from sim.explore.outcomes import parse_clause
from sim.explore.report import limit_text
from sim.plots.style import SCENARIO_COLOURS, new_figure, style

__all__ = ["exploration_figures", "plot_feature_scores", "plot_prim", "plot_robustness", "plot_scatter"]

#: Built-in outcome kinds that are shares of users (drawn in %).
SHARES = ("peak", "loss", "after", "multihoming", "exit")
HOLDS, FAILS = "#117733", "#CC6677"


def _scale(e: Exploration, outcome: str) -> tuple[float, str]:
    """How an outcome is drawn: its factor and unit label."""
    return (100.0, " (%)") if e.outcomes[outcome]["kind"] in SHARES else (1.0, "")


def _position(limit: BoxLimit) -> tuple[float, float]:
    """The box's side positions within the input's range over all runs (0 = its lowest, 1 = its highest)."""
    if limit.all_levels:
        return 0.0, 1.0
    span = limit.full_high - limit.full_low
    if span <= 0:
        return 0.0, 1.0
    return (limit.low - limit.full_low) / span, (limit.high - limit.full_low) / span


def plot_prim(e: Exploration, predicate: str) -> Figure:
    """PRIM's trade-off and the reported box of one predicate (module docstring)."""
    p = e.prim[predicate]
    with style():
        fig = new_figure(11, max(3.2, 1.0 + 0.45 * len(p.limits)))
        left, right = fig.subplots(1, 2, width_ratios=(1, 1.4))
        t = p.trajectory
        dims = int(t["res_dim"].max())
        colours = mpl.colormaps["viridis"].resampled(dims + 1)
        dots = left.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap=colours, vmin=-0.5, vmax=dims + 0.5,
                            s=18, gid="prim:trajectory")
        box = p.box
        left.scatter([box["coverage"]], [box["density"]], s=140, facecolors="none", edgecolors="black",
                     linewidths=1.5, gid="prim:chosen")
        left.annotate(f"box {p.chosen}", (box["coverage"], box["density"]), xytext=(8, -12),
                      textcoords="offset points", fontsize=8.5)
        fig.colorbar(dots, ax=left, label="inputs restricted", ticks=range(dims + 1))
        left.set(xlabel="coverage", ylabel="density", title=f"{predicate}: peeling trajectory")
        _draw_limits(right, p.limits, e.never)
        right.set_title(f"box {p.chosen}: coverage {box['coverage']:.2f}, density {box['density']:.2f}, "
                        f"mass {box['mass']:.2f}")
        fig.suptitle(f"Where {p.text} holds ({p.cases} of {p.runs} runs)")
    return fig


def _draw_limits(ax: Axes, limits: tuple[BoxLimit, ...], never: dict[str, int]) -> None:
    ys = np.arange(len(limits))[::-1]
    for y, limit in zip(ys, limits, strict=True):
        lo, hi = _position(limit)
        ax.barh(y, 1.0, left=0.0, color="#eeeeee", height=0.55)
        ax.barh(y, hi - lo, left=lo, color=SCENARIO_COLOURS[1], height=0.55, gid=f"box:{limit.input}",
                hatch="//" if limit.all_levels else None)
        ax.text(1.02, y, limit_text(limit, never).removeprefix(limit.input + " "), va="center", fontsize=8)
    ax.set_yticks(ys, [limit.input for limit in limits])
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within the input's range over all runs")
    ax.grid(False, axis="y")


def plot_feature_scores(e: Exploration) -> Figure:
    """The feature-scoring heatmap: inputs (rows) x outcomes and predicates (columns)."""
    scores = e.scores
    with style():
        fig = new_figure(1.6 + 0.75 * scores.shape[1], 1.2 + 0.38 * scores.shape[0])
        ax = fig.subplots()
        image = ax.imshow(scores.to_numpy(dtype=float), cmap="Blues", vmin=0, aspect="auto", gid="scores")
        for (i, j), v in np.ndenumerate(scores.to_numpy(dtype=float)):
            if not math.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7.5,
                        color="white" if v > 0.6 * np.nanmax(scores.to_numpy(dtype=float)) else "black")
        labels = [f"{c}?" if c in e.predicates else c for c in scores.columns]
        ax.set_xticks(range(scores.shape[1]), labels, rotation=35, ha="right")
        ax.set_yticks(range(scores.shape[0]), scores.index)
        ax.grid(False)
        fig.colorbar(image, ax=ax, label="extra-trees feature score")
        ax.set_title("Which inputs decide each outcome (and each predicate, marked ?)")
    return fig


def _policy_label(e: Exploration, name: str) -> str:
    values = e.robustness.loc[name, list(e.levers)]
    shown = []
    for key, v in values.items():
        if key in e.never and float(v) == e.never[key]:
            shown.append("never")
        elif isinstance(v, bool | np.bool_ | str):
            shown.append(str(v).lower())
        else:
            shown.append(f"{float(v):.3g}")
    return f"{name} ({', '.join(shown)})" if shown else str(name)


def plot_robustness(e: Exploration) -> Figure:
    """Each policy's satisficing share per predicate and regret per outcome with a goal."""
    r = e.robustness
    goals = [o for o, spec in e.outcomes.items() if spec["goal"]]
    predicates = list(e.predicates)
    with style():
        fig = new_figure(4.5 + 3.2 * len(goals), 1.4 + 0.42 * len(r))
        axes = np.atleast_1d(fig.subplots(1, 1 + len(goals), sharey=True))
        ys = np.arange(len(r))[::-1]
        height = 0.8 / max(len(predicates), 1)
        for j, name in enumerate(predicates):
            axes[0].barh(ys + 0.4 - height * (j + 0.5), 100 * r[f"satisficing:{name}"].astype(float), height=height,
                         color=SCENARIO_COLOURS[j % len(SCENARIO_COLOURS)], label=name, gid=f"satisficing:{name}")
        axes[0].set_yticks(ys, [_policy_label(e, name) for name in r.index])
        axes[0].set(xlabel="scenarios where it holds (%)", xlim=(0, 100), title="Satisficing")
        if predicates:
            axes[0].legend(loc="lower right", fontsize=7.5)
        for ax, outcome in zip(axes[1:], goals, strict=True):
            factor, unit = _scale(e, outcome)
            ax.barh(ys, factor * r[f"regret_p90:{outcome}"].astype(float), height=0.55, color=SCENARIO_COLOURS[1],
                    label="90th percentile", gid=f"regret_p90:{outcome}")
            ax.plot(factor * r[f"regret_max:{outcome}"].astype(float), ys, "o", color="black", ms=4, label="maximum",
                    gid=f"regret_max:{outcome}")
            ax.set(xlabel=f"regret{unit}", title=f"Regret: {outcome} ({e.outcomes[outcome]['goal']})")
        if goals:
            axes[1].legend(loc="best", fontsize=7.5)
        fig.suptitle(f"Policies across {e.counts['scenarios_compared']} scenarios (levers: {', '.join(e.levers)})",
                     fontsize=9.5)
    return fig


def _axis_values(e: Exploration, column: str) -> tuple[pd.Series, dict[float, str], bool]:
    """An input's values as x positions, the tick labels to set (categories, or a day lever's "never") and
    whether the input is categorical."""
    x = e.runs[column]
    if not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
        codes = {v: float(i) for i, v in enumerate(sorted(x.unique(), key=str))}
        return x.map(codes).astype(float), {i: str(v).lower() for v, i in codes.items()}, True
    return x.astype(float), ({float(e.never[column]): "never"} if column in e.never else {}), False


def plot_scatter(e: Exploration, predicate: str) -> Figure:
    """Each outcome of the predicate against its two highest-scoring inputs, runs coloured by the predicate."""
    clauses = [parse_clause(text) for text in e.predicates[predicate].split(" and ")]
    outcomes = list(dict.fromkeys(c.outcome for c in clauses))
    holds = e.runs[predicate].astype(bool).to_numpy()
    with style():
        fig = new_figure(9, 3.2 * len(outcomes))
        axes = np.atleast_2d(fig.subplots(len(outcomes), 2, squeeze=False))
        for row, outcome in zip(axes, outcomes, strict=True):
            factor, unit = _scale(e, outcome)
            y = factor * e.runs[outcome].astype(float)
            top = _top_inputs(e, outcome, predicate)
            for ax, column in zip(row, top, strict=False):
                x, ticks, categorical = _axis_values(e, column)
                for mask, colour, what in ((~holds, FAILS, "fails"), (holds, HOLDS, "holds")):
                    ax.scatter(x[mask], y[mask], s=6, alpha=0.5, color=colour, linewidths=0,
                               label=f"{predicate} {what}", gid=f"scatter:{outcome}:{column}:{what}")
                for c in clauses:
                    if c.outcome == outcome:
                        ax.axhline(factor * c.value, color="black", lw=0.8, ls="--", gid=f"threshold:{outcome}")
                _set_ticks(ax, ticks, categorical)
                score = e.scores.loc[column, outcome]
                ax.set(xlabel=column, ylabel=f"{outcome}{unit}",
                       title=f"{outcome} against {column}" + ("" if math.isnan(score) else f" (score {score:.2f})"))
            row[0].legend(loc="best", fontsize=7.5, markerscale=2)
        fig.suptitle(f"{predicate}: {e.predicates[predicate]}")
    return fig


def _top_inputs(e: Exploration, outcome: str, predicate: str) -> list[str]:
    """The two inputs that score highest for ``outcome``; where it does not vary (no scores), for the
    predicate; then the first inputs."""
    ranked = [*e.scores[outcome].dropna().sort_values(ascending=False, kind="stable").index,
              *e.scores[predicate].dropna().sort_values(ascending=False, kind="stable").index, *e.inputs]
    return list(dict.fromkeys(ranked))[:2]


def _set_ticks(ax: Axes, ticks: dict[float, str], categorical: bool) -> None:
    """Label the given x positions: a categorical input's levels alone; a numeric input's "never" besides the
    automatic ticks below it."""
    if categorical:
        ax.set_xticks(list(ticks), list(ticks.values()))
        return
    if not ticks:
        return
    low, high = ax.get_xlim()
    room = min(ticks) - 0.08 * (high - low)  # an automatic tick closer than this would overprint "never"
    auto = [t for t in ax.get_xticks() if low <= t <= room]
    ax.set_xticks([*auto, *ticks], [f"{t:g}" for t in auto] + list(ticks.values()))


def exploration_figures(e: Exploration) -> dict[str, Figure]:
    """Every figure of an exploration, by file stem."""
    figures = {}
    for name, p in e.prim.items():
        if not p.skipped:
            figures[f"prim_{name}"] = plot_prim(e, name)
    figures["feature_scores"] = plot_feature_scores(e)
    figures["robustness"] = plot_robustness(e)
    for name in e.predicates:
        figures[f"scatter_{name}"] = plot_scatter(e, name)
    return figures
