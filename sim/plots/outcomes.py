"""Figures of per-run outcomes: by scenario (dot and 95% CI whisker) and against swept parameters (line with
band, heatmaps, or scatter for Latin-hypercube samples), drawn from the runs table of
:class:`sim.plots.data.PlotData`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plots.data import PlotData, outcome_table
from sim.plots.style import Platforms, new_figure, style

__all__ = ["Outcome", "outcome_values", "plot_scenario_outcomes", "plot_sweep", "sweep_outcomes"]


@dataclass(frozen=True)
class Outcome:
    """A per-run outcome as plotted: how to compute it from the runs table, its label, unit scale, format."""

    key: str
    label: str
    platform: str
    scale: float
    fmt: str
    compute: Callable[[pd.DataFrame], pd.Series]

    @property
    def title(self) -> str:
        """The label without its unit, capitalised."""
        text = self.label.split(" (")[0]
        return text[0].upper() + text[1:]


def _column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda runs: runs[name].astype(float)


def _kept(rival: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda runs: runs[f"after21_{rival}"].astype(float) / runs[f"peak_{rival}"].astype(float)


def _rival_outcomes(pf: Platforms, rival: str) -> list[Outcome]:
    name = pf.label(rival)
    return [Outcome(f"peak_{rival}", f"peak {name} share (% of users)", rival, 100, "{:.2f}",
                    _column(f"peak_{rival}")),
            Outcome(f"peak_day_{rival}", f"day of {name}'s peak", rival, 1, "{:.1f}",
                    _column(f"peak_day_{rival}")),
            Outcome(f"kept_{rival}", f"{name} share kept 3 weeks after its peak (% of peak)", rival, 100,
                    "{:.1f}", _kept(rival))]


def _trough(pf: Platforms) -> Outcome:
    inc = pf.incumbent
    return Outcome(f"trough_{inc}", f"{pf.label(inc)} trough (% of users active)", inc, 100, "{:.2f}",
                   _column(f"trough_{inc}"))


def sweep_outcomes(pf: Platforms) -> list[Outcome]:
    """The outcomes shown against swept parameters: the first rival's peak share and day, the incumbent's
    trough."""
    return [*_rival_outcomes(pf, pf.rivals[0])[:2], _trough(pf)]


def outcome_values(runs: pd.DataFrame, outcome: Outcome, by: list[str]) -> pd.DataFrame:
    """Mean and 95% CI half-width (:func:`sim.plots.data.outcome_table`) of ``outcome`` over the runs of each
    ``by`` group, in the plotted unit. Columns: the ``by`` columns, mean, half."""
    return outcome_table(outcome.compute(runs) * outcome.scale, runs[by])


# Scenarios -------------------------------------------------------------------------------------------------
def plot_scenario_outcomes(data: PlotData) -> Figure:
    """Outcomes by scenario, mean and 95% CI across replications: each rival's peak share, peak day and share
    kept three weeks after the peak, and the incumbent's trough; the baseline's row is shaded and its value
    drawn as a dashed reference line."""
    pf = Platforms(data.info)
    runs = data.runs
    order = list(data.scenarios)
    ypos = {s: i for i, s in enumerate(order)}
    per_rival = {r: _rival_outcomes(pf, r) for r in pf.rivals}
    panels = [[(r, outs[i]) for r, outs in per_rival.items()] for i in range(3)]
    panels.append([(pf.incumbent, _trough(pf))])
    with style():
        fig = new_figure(11.5, 1.6 + 0.42 * len(order))
        axes = fig.subplots(1, len(panels), sharey=True)
        for ax, panel in zip(axes, panels, strict=True):
            offsets = np.linspace(-0.18, 0.18, len(panel)) if len(panel) > 1 else [0.0]
            for (platform, outcome), dy in zip(panel, offsets, strict=True):
                table = outcome_values(runs, outcome, ["scenario"]).set_index("scenario").loc[order]
                y = np.array([ypos[s] for s in order]) + dy
                bars = ax.errorbar(table["mean"].to_numpy(float), y, xerr=table["half"].fillna(0).to_numpy(float),
                                   ls="none", marker="o", ms=5,
                                   color=pf.colour(platform), elinewidth=1.4, capsize=2.5,
                                   label=pf.label(platform))
                bars.lines[0].set_gid(outcome.key)
                if "baseline" in ypos:
                    ax.axvline(table.loc["baseline", "mean"], color=pf.colour(platform), lw=0.8, ls="--",
                               zorder=0)
            title, xlabel = _panel_labels(pf, panel[0][1].key)
            ax.set_title(title, fontsize=9.5)
            ax.set_xlabel(xlabel)
            if "baseline" in ypos:
                ax.axhspan(ypos["baseline"] - 0.45, ypos["baseline"] + 0.45, color="#ebebeb", zorder=-1, lw=0)
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(range(len(order)), order)
        axes[0].set_ylim(len(order) - 0.5, -0.5)
        for label in axes[0].get_yticklabels():
            if label.get_text() == "baseline":
                label.set_fontweight("bold")
        handles, labels = (a + b for a, b in zip(axes[0].get_legend_handles_labels(),
                                                  axes[-1].get_legend_handles_labels(), strict=True))
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
        n = runs.groupby("scenario").size()
        runs_text = f"{n.min()}" if n.min() == n.max() else f"{n.min()} to {n.max()}"
        fig.suptitle(f"{data.info.name}: outcomes by scenario (mean and 95% CI of {runs_text} "
                     "replications; dashed = baseline)")
    return fig


def _panel_labels(pf: Platforms, key: str) -> tuple[str, str]:
    """Title and axis label of a scenario-comparison panel (each rival in its colour)."""
    if key.startswith("peak_day_"):
        return "Day of the rivals' peak", "day"
    if key.startswith("peak_"):
        return "Peak share of the rivals", "active users (% of all users)"
    if key.startswith("kept_"):
        return "Kept 3 weeks after the peak", "% of the peak share"
    return f"{pf.label(pf.incumbent)}'s lowest share", "active users (% of all users)"


# Sweeps -----------------------------------------------------------------------------------------------------
def _axis_values(runs: pd.DataFrame, key: str) -> list:
    """A swept parameter's values: ascending if numbers, else in the sweep's order."""
    values = runs.sort_values("point")[f"param:{key}"].dropna().unique().tolist()
    return sorted(values) if all(isinstance(v, int | float) for v in values) else values


def _fmt_value(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def plot_sweep(data: PlotData, scenario: str = "baseline") -> Figure:
    """Outcomes against the swept parameters of one scenario, by the sweep's shape: one grid parameter ->
    mean line with 95% band per outcome; two or more -> heatmaps of the mean over the first two parameters
    (a row per value of the third; further parameters pooled); Latin hypercube -> scatter of every run and
    of each sweep point's mean against each parameter."""
    sweep = data.sweep
    if sweep is None:
        raise ValueError(f"{data.root}: the experiment has no sweep")
    params = list(sweep.params)
    data.scenario(scenario)  # a clear error for a scenario without finished runs
    runs = data.runs_of(scenario)
    pf = Platforms(data.info)
    outcomes = sweep_outcomes(pf)
    where = "" if scenario == "baseline" else f" (scenario {scenario})"
    with style():
        if sweep.method == "lhs":
            fig = _sweep_scatter(runs, params, outcomes, pf)
        elif len(params) == 1:
            fig = _sweep_line(runs, params[0], outcomes, pf)
        else:
            fig = _sweep_heatmaps(runs, params, outcomes)
        reps = runs.groupby("point").size()
        each = f"{reps.min()}" if reps.min() == reps.max() else f"{reps.min()} to {reps.max()}"
        fig.suptitle(f"{data.info.name}{where}: outcomes across the {sweep.method} sweep "
                     f"({len(reps)} points, {each} replications each)")
    return fig


def _sweep_line(runs: pd.DataFrame, key: str, outcomes: list[Outcome], pf: Platforms) -> Figure:
    fig = new_figure(4.0 * len(outcomes), 3.6)
    axes = fig.subplots(1, len(outcomes))
    values = _axis_values(runs, key)
    numeric = all(isinstance(v, int | float) for v in values)
    for ax, outcome in zip(axes, outcomes, strict=True):
        table = outcome_values(runs, outcome, [f"param:{key}"]).set_index(f"param:{key}").loc[values]
        x = np.asarray(values, dtype=float) if numeric else np.arange(len(values))
        mean, half = table["mean"].to_numpy(), table["half"].to_numpy()
        colour = pf.colour(outcome.platform)
        ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.2, lw=0, gid=f"band:{outcome.key}")
        ax.plot(x, mean, marker="o", color=colour, lw=1.8, ms=5, gid=outcome.key)
        ax.set_xticks(x, [_fmt_value(v) for v in values])  # the swept values
        ax.set_xlabel(key)
        ax.set_ylabel(outcome.label)
        ax.set_title(f"{outcome.title} (mean, band = 95% CI)", fontsize=9.5)
    return fig


def _sweep_heatmaps(runs: pd.DataFrame, params: list[str], outcomes: list[Outcome]) -> Figure:
    kx, ky = params[0], params[1]
    xs, ys = _axis_values(runs, kx), _axis_values(runs, ky)
    rows: list[object] = _axis_values(runs, params[2]) if len(params) > 2 else [None]
    cell = 0.55
    fig = new_figure(len(outcomes) * (1.9 + cell * len(xs)), len(rows) * (1.2 + cell * len(ys)) + 0.6)
    axes = np.atleast_2d(fig.subplots(len(rows), len(outcomes), squeeze=False))
    for j, outcome in enumerate(outcomes):
        by = [f"param:{kx}", f"param:{ky}"] + ([f"param:{params[2]}"] if len(params) > 2 else [])
        table = outcome_values(runs, outcome, by)
        grids = []
        for row in rows:
            sub = table if row is None else table[table[f"param:{params[2]}"] == row]
            grids.append(sub.pivot_table(index=f"param:{ky}", columns=f"param:{kx}", values="mean",
                                         dropna=False).reindex(index=ys, columns=xs).to_numpy(dtype=float))
        vmin, vmax = np.nanmin(grids), np.nanmax(grids)
        for i, (row, grid) in enumerate(zip(rows, grids, strict=True)):
            ax = axes[i, j]
            image = ax.imshow(grid, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto",
                              gid=f"{outcome.key}:{i}")
            for (r, c), v in np.ndenumerate(grid):
                if not math.isnan(v):
                    light = (v - vmin) / (vmax - vmin) > 0.6 if vmax > vmin else False
                    ax.text(c, r, outcome.fmt.format(v), ha="center", va="center", fontsize=7.5,
                            color="black" if light else "white")
            ax.set_xticks(range(len(xs)), [_fmt_value(v) for v in xs])
            ax.set_yticks(range(len(ys)), [_fmt_value(v) for v in ys])
            ax.grid(False)
            ax.set_xlabel(kx if i == len(rows) - 1 else "")
            ax.set_ylabel(ky if j == 0 else "")
            title = outcome.title if row is None else f"{outcome.title}\n{params[2]} = {_fmt_value(row)}"
            ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=axes[:, j], shrink=0.9, label=outcome.label, location="bottom"
                     ).ax.tick_params(labelsize=7.5)
    if len(params) > 3:
        fig.text(0.0, 0.0, f"pooled over {', '.join(params[3:])}", fontsize=8, color="#404040")
    return fig


def _sweep_scatter(runs: pd.DataFrame, params: list[str], outcomes: list[Outcome], pf: Platforms) -> Figure:
    """Each run (small, light) and each sweep point's mean (large) against each parameter."""
    fig = new_figure(3.4 * len(params) + 0.6, 2.6 * len(outcomes) + 0.6)
    axes = np.atleast_2d(fig.subplots(len(outcomes), len(params), squeeze=False))
    point_params = runs.groupby("point", sort=True)[[f"param:{k}" for k in params]].first()
    for i, outcome in enumerate(outcomes):
        table = outcome_values(runs, outcome, ["point"]).join(point_params, on="point")
        colour = pf.colour(outcome.platform)
        for j, key in enumerate(params):
            ax = axes[i, j]
            ax.scatter(runs[f"param:{key}"], outcome.compute(runs) * outcome.scale, s=9, color=colour,
                       alpha=0.3, lw=0, label="run", gid=f"runs:{outcome.key}")
            ax.scatter(table[f"param:{key}"], table["mean"], s=26, color=colour, edgecolors="white", lw=0.6,
                       label="sweep point (mean of its runs)", gid=outcome.key)
            ax.set_xlabel(key if i == len(outcomes) - 1 else "")
            ax.set_ylabel(outcome.label.replace(" (", "\n(") if j == 0 else "")
    axes[0, -1].legend(loc="best", fontsize=7.5)
    return fig
