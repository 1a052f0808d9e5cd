"""Figures over time: platform shares with events (and observed panels), composition of users, scenarios'
and sweep points' curves of the first rival. Drawn from :class:`sim.plots.data.PlotData` only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.plots.data import Band, ObservedPanel, PlotData, event_marks
from sim.plots.style import (
    BASELINE_COLOUR,
    SCENARIO_COLOURS,
    Platforms,
    apply_day_axis,
    draw_event_key,
    mark_events,
    new_figure,
    percent,
    style,
)

__all__ = ["plot_composition", "plot_scenario_timeseries", "plot_sweep_timeseries", "plot_timeseries"]


def _line_band(ax: Axes, band: Band, colour: str, label: str, gid: str, lw: float = 1.8,
               alpha: float = 0.22, zorder: float = 2) -> None:
    """The mean line (in %) and its shaded 95% band; for a prediction the median and the 90% and 50%
    predictive bands. The line carries ``gid`` for lookup."""
    if band.spread is not None:
        q = percent(band.spread)
        ax.fill_between(band.day, q[0], q[4], color=colour, alpha=alpha * 0.6, lw=0, gid=f"band90:{gid}",
                        zorder=zorder - 0.6)
        ax.fill_between(band.day, q[1], q[3], color=colour, alpha=alpha * 1.5, lw=0, gid=f"band:{gid}",
                        zorder=zorder - 0.5)
    else:
        ax.fill_between(band.day, percent(band.mean - band.half), percent(band.mean + band.half),
                        color=colour, alpha=alpha, lw=0, gid=f"band:{gid}", zorder=zorder - 0.5)
    ax.plot(band.day, percent(band.mean), color=colour, lw=lw, label=label, gid=gid, zorder=zorder)


def _runs_note(n: int, band: bool = True, predictive: bool = False) -> str:
    if predictive:
        return f"median of {n} posterior draws" + (", bands = 50% and 90% predictive" if band else "")
    return f"mean of {n} replication{'s' * (n != 1)}" + (", band = 95% CI" if band and n > 1 else "")


def plot_timeseries(data: PlotData, scenario: str = "baseline") -> Figure:
    """Active share of each rival (top) and of the incumbent (own panel: it stays near 100%) in one
    scenario, mean over replications with its 95% band, events marked and keyed. For an episode with observed
    series, one more panel per model expression they compare with: the expression's band against the data
    points."""
    info = data.info
    pf = Platforms(info)
    start = info.start_date
    series = data.scenario(scenario)
    last = series.last_day
    observed = series.observed
    with style():
        fig = new_figure(10.5, 6.2 + 2.4 * len(observed))
        grid = fig.add_gridspec(2 + len(observed), 2, width_ratios=(4.6, 1),
                                height_ratios=(3, 1.5, *(2.6,) * len(observed)))
        ax_r = fig.add_subplot(grid[0, 0])
        ax_i = fig.add_subplot(grid[1, 0], sharex=ax_r)
        axes = [ax_r, ax_i]
        for p in pf.rivals:
            _line_band(ax_r, series.active[p], pf.colour(p), pf.label(p), f"mean:{p}")
        ax_r.set_ylabel("active users (% of all users)")
        ax_r.set_ylim(bottom=0)
        ax_r.legend(loc="upper right", title=f"rivals ({_runs_note(series.runs, predictive=data.predictive)})",
                    title_fontsize=8.5)
        scale = info.scale_to
        if scale:
            sec = ax_r.secondary_yaxis("right", functions=(lambda v: v * scale / 1e8,
                                                           lambda m: m * 1e8 / scale))
            sec.set_ylabel(f"millions of users (scaled to {scale / 1e6:g}M)")
        inc = pf.incumbent
        _line_band(ax_i, series.active[inc], pf.colour(inc), pf.label(inc), f"mean:{inc}")
        ax_i.set_ylabel("active users (%)")
        ax_i.set_title(f"Incumbent {pf.label(inc)}: users active in the past week")
        for row, panel in enumerate(observed, start=2):
            ax_o = fig.add_subplot(grid[row, 0], sharex=ax_r)
            axes.append(ax_o)
            _observed_panel(ax_o, panel, pf)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        apply_day_axis(axes[-1], start, last)
        events = event_marks(data.timelines[scenario], last)
        pad = mark_events(axes, events, last)
        ax_r.set_title("Rival platforms: users active in the past week", pad=pad)
        draw_event_key(fig.add_subplot(grid[:, 1]), events, start)
        where = "" if scenario == "baseline" else f", scenario {scenario}"
        users = f" ({info.users:,} simulated users)" if info.users else ""
        fig.suptitle(f"{info.name}{where}: platform use over time{users}")
    return fig


#: Markers of the observed series of one panel, in order.
MARKERS = "osD^v<>ph*"


def _observed_panel(ax: Axes, panel: ObservedPanel, pf: Platforms) -> None:
    """The panel's data (open markers) against the model: its band over runs where the series share one model
    expression, else the model at each series' days (filled markers with their 95 % CI). Shares and ratios of
    shares (all values at most 1.5) are drawn in %; counts over windows of different lengths on a log axis."""
    values = np.concatenate([*(obs.values for obs in panel.observed), *(obs.model_mean for obs in panel.observed)])
    values = values[np.isfinite(values)]
    scale = 100.0 if np.abs(values).max(initial=0.0) <= 1.5 else 1.0
    colour = pf.colour(next((p for p in pf.rivals if p in panel.title), pf.rivals[0]))
    if panel.model is not None:
        band = panel.model
        if band.spread is not None:  # a prediction: the 90 % and 50 % predictive bands
            q = scale * band.spread
            ax.fill_between(band.day, q[0], q[4], color=colour, alpha=0.13, lw=0, label="90% predictive",
                            gid=f"band90:model:{panel.expression}", zorder=1.4)
            ax.fill_between(band.day, q[1], q[3], color=colour, alpha=0.33, lw=0, label="50% predictive",
                            gid=f"band:model:{panel.expression}", zorder=1.5)
        else:
            ax.fill_between(band.day, scale * (band.mean - band.half), scale * (band.mean + band.half),
                            color=colour, alpha=0.22, lw=0, gid=f"band:model:{panel.expression}", zorder=1.5)
        ax.plot(band.day, scale * band.mean, color=colour, lw=1.8, label=f"model: {panel.expression}",
                gid=f"model:{panel.expression}", zorder=2)
    for k, (marker, obs) in enumerate(zip(MARKERS * 3, panel.observed, strict=False)):
        ax.plot(obs.days, scale * obs.values, ls="none", marker=marker, ms=6, mfc="white", mec="black", mew=1.2,
                label=f"observed: {obs.label}", gid=f"observed:{obs.id}", zorder=4)
        if panel.model is None:
            ax.errorbar(obs.days, scale * obs.model_mean, yerr=scale * obs.model_half, fmt=marker, ms=4,
                        color=colour, lw=0.8, gid=f"model:{obs.id}", zorder=3,
                        label="model at the data's days (filled; bars: 95% CI)" if k == 0 else None)
    if panel.model is None and (values > 0).all():
        ax.set_yscale("log")
    else:
        ax.set_ylim(min(0.0, ax.get_ylim()[0]), ax.get_ylim()[1] * 1.3)
    ax.set_ylabel("%" if scale == 100.0 else "value")
    ax.set_title(f"Model vs observed: {panel.title}", fontsize=9.5)
    ax.legend(loc="best", fontsize=7, labelspacing=0.6)


def plot_composition(data: PlotData, scenario: str = "baseline") -> Figure:
    """Stacked areas of users on the incumbent only, on the incumbent and a rival (multi-homing) and on rivals
    only, mean over the scenario's replications; the axis is cut below to show the thin layers."""
    pf = Platforms(data.info)
    inc = pf.incumbent
    series = data.scenario(scenario)
    means = series.composition
    days = means.day
    layers = [("incumbent_only", f"{pf.label(inc)} only", {"fc": pf.colour(inc)}),
              ("both", f"{pf.label(inc)} and a rival (multi-homing)",
               {"fc": pf.colour(inc), "alpha": 0.45, "hatch": "////", "ec": pf.colour(pf.rivals[0])}),
              ("rivals_only", f"off {pf.label(inc)} (rivals only)",
               {"fc": pf.colour(pf.rivals[0]) if len(pf.rivals) == 1 else "#555555"})]
    start = data.info.start_date
    last = int(days.max())
    with style():
        fig = new_figure(10.5, 5.0)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        bottom = np.zeros(len(days))
        handles = []
        for key, label, look in layers:
            top = bottom + percent(getattr(means, key))
            ax.fill_between(days, bottom, top, lw=0, gid=f"area:{key}", **look)
            ax.plot(days, top, color="white", lw=0.8, gid=f"top:{key}")
            handles.append(Patch(label=label, **look))
            bottom = top
        ax.set_ylim(max(np.floor(percent(means.incumbent_only.min())) - 2, 0), 100.3)
        ax.set_ylabel("users (% of all users)")
        ax.legend(handles=handles[::-1], loc="lower left", frameon=True, facecolor="white", framealpha=0.9)
        apply_day_axis(ax, start, last)
        events = event_marks(data.timelines[scenario], last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"Where users are: {pf.label(inc)} only, both, or rivals only "
                     f"({_runs_note(series.runs, band=False)})", pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start)
        fig.suptitle(f"{data.info.name}: composition of users over time")
    return fig


def plot_scenario_timeseries(data: PlotData) -> Figure:
    """The first rival's active share in every scenario (mean and 95% band), the baseline in black; events
    of the baseline marked and keyed, events a scenario moves or adds marked by triangles in its colour."""
    pf = Platforms(data.info)
    rival = pf.rivals[0]
    start = data.info.start_date
    scenarios = list(data.scenarios)
    colours = dict(zip([s for s in scenarios if s != "baseline"], SCENARIO_COLOURS * 3, strict=False))
    colours["baseline"] = BASELINE_COLOUR
    with style():
        fig = new_figure(10.5, 5.4)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        last = 0
        for s, series in data.scenarios.items():
            last = max(last, series.last_day)
            is_base = s == "baseline"
            _line_band(ax, series.active[rival], colours[s], f"{s} ({series.runs} runs)",
                       f"scenario:{s}", lw=2.2 if is_base else 1.5, alpha=0.13, zorder=4 if is_base else 2)
            moved = list(series.moved)
            if moved:
                ax.plot(moved, [0] * len(moved), ls="none", marker="^", ms=8, color=colours[s], clip_on=False,
                        zorder=6, gid=f"moved:{s}")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{pf.label(rival)} active users (% of all users)")
        ax.legend(loc="upper right", title="scenario (▲ = event moved or added)", title_fontsize=8.5)
        apply_day_axis(ax, start, last)
        events = event_marks(data.timelines["baseline"], last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"{pf.label(rival)} by scenario: mean over replications, band = 95% CI", pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start, title="baseline events")
        fig.suptitle(f"{data.info.name}: scenarios compared over time")
    return fig


def plot_sweep_timeseries(data: PlotData, scenario: str = "baseline") -> Figure:
    """The first rival's active share at each point of a one-parameter grid sweep (mean and 95% band),
    coloured by the parameter's value."""
    pf = Platforms(data.info)
    rival = pf.rivals[0]
    if data.sweep is None or scenario not in data.sweep.points:
        raise ValueError(f"{data.root}: no one-parameter grid sweep of scenario {scenario!r} to draw over time")
    key = data.sweep.params[0]
    points = data.sweep.points[scenario]
    values = pd.Series([p.value for p in points], index=[p.point for p in points])
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric:
        cmap, norm = colormaps["viridis"], Normalize(values.min(), values.max())
        colour = {pt: cmap(0.9 * norm(v)) for pt, v in values.items()}
    else:
        colour = {pt: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, pt in enumerate(values.index)}
    start = data.info.start_date
    with style():
        fig = new_figure(10.5, 5.0)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        last = 0
        for p in points:
            last = max(last, p.last_day)
            _line_band(ax, p.rival, colour[p.point], f"{key} = {p.value:g}" if numeric else f"{key} = {p.value}",
                       f"point:{p.point}", lw=1.6, alpha=0.15)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{pf.label(rival)} active users (% of all users)")
        ax.legend(loc="upper right", title="sweep point", title_fontsize=8.5)
        apply_day_axis(ax, start, last)
        events = event_marks(data.timelines[scenario], last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"{pf.label(rival)} at each value of {key}: mean over replications, band = 95% CI",
                     pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start)
        fig.suptitle(f"{data.info.name}: sweep of {key} over time")
    return fig
