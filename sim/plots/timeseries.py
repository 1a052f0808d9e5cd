"""Figures over time: platform shares with events (and the 2014 panels), composition of users, scenarios'
and sweep points' curves of the first rival."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.metrics import weekly_ratio
from sim.plots.observed import OBSERVED_DIR, is_korea_2014, load_observed
from sim.plots.style import (
    BASELINE_COLOUR,
    SCENARIO_COLOURS,
    Platforms,
    apply_day_axis,
    done_ids,
    draw_event_key,
    mark_events,
    mean_band,
    new_figure,
    percent,
    scenario_events,
    series_of,
    style,
)
from sim.store import Results

__all__ = ["composition", "plot_composition", "plot_scenario_timeseries", "plot_sweep_timeseries",
           "plot_timeseries"]


def _line_band(ax: Axes, band: pd.DataFrame, colour: str, label: str, gid: str, lw: float = 1.8,
               alpha: float = 0.22, zorder: float = 2) -> None:
    """The mean line (in %) and its shaded 95% band; the line carries ``gid`` for lookup."""
    x = band["day"].to_numpy()
    ax.fill_between(x, percent(band["mean"] - band["half"]), percent(band["mean"] + band["half"]),
                    color=colour, alpha=alpha, lw=0, gid=f"band:{gid}", zorder=zorder - 0.5)
    ax.plot(x, percent(band["mean"]), color=colour, lw=lw, label=label, gid=gid, zorder=zorder)


def _runs_note(n: int, band: bool = True) -> str:
    return f"mean of {n} replication{'s' * (n != 1)}" + (", band = 95% CI" if band and n > 1 else "")


def plot_timeseries(results: Results, scenario: str = "baseline",
                    observed_dir: Path = OBSERVED_DIR) -> Figure:
    """Active share of each rival (top) and of the incumbent (own panel: it stays near 100%) in one
    scenario, mean over replications with its 95% band, events marked and keyed. For the 2014 episode, a
    third panel sets the model's weekly ratio w(d) of Telegram to KakaoTalk users against the panels'
    observed weekly figures."""
    pf = Platforms(results.manifest)
    start = results.manifest.get("start_date", "")
    ids = done_ids(results, scenario)
    ts = series_of(results, ids)
    last = int(ts["day"].max())
    korea = is_korea_2014(results.manifest)
    with style():
        fig = new_figure(10.5, 8.6 if korea else 6.2)
        grid = fig.add_gridspec(3 if korea else 2, 2, width_ratios=(4.6, 1),
                                height_ratios=(3, 1.5, 2.6) if korea else (3, 1.5))
        ax_r = fig.add_subplot(grid[0, 0])
        ax_i = fig.add_subplot(grid[1, 0], sharex=ax_r)
        axes = [ax_r, ax_i]
        for p in pf.rivals:
            _line_band(ax_r, mean_band(ts, ts[f"active_{p}"]), pf.colour(p), pf.label(p), f"mean:{p}")
        ax_r.set_ylabel("active users (% of all users)")
        ax_r.set_ylim(bottom=0)
        ax_r.legend(loc="upper right", title=f"rivals ({_runs_note(len(ids))})", title_fontsize=8.5)
        scale = results.manifest.get("config_resolved", {}).get("population", {}).get("scale_to")
        if scale:
            sec = ax_r.secondary_yaxis("right", functions=(lambda v: v * scale / 1e8,
                                                           lambda m: m * 1e8 / scale))
            sec.set_ylabel(f"millions of users (scaled to {scale / 1e6:g}M)")
        inc = pf.incumbent
        _line_band(ax_i, mean_band(ts, ts[f"active_{inc}"]), pf.colour(inc), pf.label(inc), f"mean:{inc}")
        ax_i.set_ylabel("active users (%)")
        ax_i.set_title(f"Incumbent {pf.label(inc)}: users active in the past week")
        if korea:
            ax_w = fig.add_subplot(grid[2, 0], sharex=ax_r)
            axes.append(ax_w)
            _observed_panel(ax_w, ts, pf, observed_dir)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        apply_day_axis(axes[-1], start, last)
        events = scenario_events(results.manifest, scenario, last)
        pad = mark_events(axes, events, last)
        ax_r.set_title("Rival platforms: users active in the past week", pad=pad)
        draw_event_key(fig.add_subplot(grid[:, 1]), events, start)
        where = "" if scenario == "baseline" else f", scenario {scenario}"
        n = results.manifest.get("config_resolved", {}).get("population", {}).get("n")
        users = f" ({n:,} simulated users)" if n else ""
        fig.suptitle(f"{results.manifest['name']}{where}: platform use over time{users}")
    return fig


def _observed_panel(ax: Axes, ts: pd.DataFrame, pf: Platforms, observed_dir: Path) -> None:
    """Model w(d) (Telegram / KakaoTalk active users, mean of days d..d+6, per run) against the panels'
    weekly users of the week starting on day d."""
    w = pd.concat([weekly_ratio(run, "telegram", pf.incumbent)
                   for _, run in ts.groupby("run_id", sort=False)])
    _line_band(ax, mean_band(ts, w.reindex(ts.index)), pf.colour("telegram"),
               "model: w(d), Telegram / KakaoTalk\nactive users, mean of days d..d+6", "model:w")
    for obs in load_observed(observed_dir):
        ax.plot(obs.days, obs.percent, ls="none", marker=obs.marker, ms=6.5, mfc="white", mec="black",
                mew=1.3, label=obs.label, gid=f"observed:{obs.marker}", zorder=4)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_ylabel("Telegram weekly users\n(% of KakaoTalk's)")
    ax.set_title("Model vs observed: Telegram's weekly users in % of KakaoTalk's (week from day d)")
    ax.legend(loc="upper right", fontsize=8, labelspacing=0.8)


def composition(ts: pd.DataFrame, incumbent: str) -> pd.DataFrame:
    """Per run and day, the partition of users: on the incumbent only, on the incumbent and a rival, on rivals
    only. Exact from the ``incumbent_only`` and ``rivals_only`` columns; results written before those
    existed get an approximation that counts every multi-homer as on the incumbent (rival-rival multi-homers
    are rare while nearly everyone keeps the incumbent)."""
    if {"incumbent_only", "rivals_only"} <= set(ts.columns):
        only_inc, only_riv = ts["incumbent_only"], ts["rivals_only"]
    else:
        only_inc = ts[f"active_{incumbent}"] - ts["multihoming"]
        only_riv = 1 - ts[f"active_{incumbent}"]
    return pd.DataFrame({"incumbent_only": only_inc, "both": 1 - only_inc - only_riv,
                         "rivals_only": only_riv})


def plot_composition(results: Results, scenario: str = "baseline") -> Figure:
    """Stacked areas of users on the incumbent only, on the incumbent and a rival (multi-homing) and on rivals
    only, mean over the scenario's replications; the axis is cut below to show the thin layers."""
    pf = Platforms(results.manifest)
    inc = pf.incumbent
    ids = done_ids(results, scenario)
    ts = series_of(results, ids)
    parts = composition(ts, inc)
    means = parts.groupby(ts["day"], sort=True).mean()
    days = means.index.to_numpy()
    layers = [("incumbent_only", f"{pf.label(inc)} only", {"fc": pf.colour(inc)}),
              ("both", f"{pf.label(inc)} and a rival (multi-homing)",
               {"fc": pf.colour(inc), "alpha": 0.45, "hatch": "////", "ec": pf.colour(pf.rivals[0])}),
              ("rivals_only", f"off {pf.label(inc)} (rivals only)",
               {"fc": pf.colour(pf.rivals[0]) if len(pf.rivals) == 1 else "#555555"})]
    start = results.manifest.get("start_date", "")
    last = int(days.max())
    with style():
        fig = new_figure(10.5, 5.0)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        bottom = np.zeros(len(days))
        handles = []
        for key, label, look in layers:
            top = bottom + percent(means[key].to_numpy())
            ax.fill_between(days, bottom, top, lw=0, gid=f"area:{key}", **look)
            ax.plot(days, top, color="white", lw=0.8, gid=f"top:{key}")
            handles.append(Patch(label=label, **look))
            bottom = top
        ax.set_ylim(max(np.floor(percent(means["incumbent_only"].min())) - 2, 0), 100.3)
        ax.set_ylabel("users (% of all users)")
        ax.legend(handles=handles[::-1], loc="lower left", frameon=True, facecolor="white", framealpha=0.9)
        apply_day_axis(ax, start, last)
        events = scenario_events(results.manifest, scenario, last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"Where users are: {pf.label(inc)} only, both, or rivals only "
                     f"({_runs_note(len(ids), band=False)})", pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start)
        fig.suptitle(f"{results.manifest['name']}: composition of users over time")
    return fig


def plot_scenario_timeseries(results: Results) -> Figure:
    """The first rival's active share in every scenario (mean and 95% band), the baseline in black; events
    of the baseline marked and keyed, events a scenario moves or adds marked by triangles in its colour."""
    pf = Platforms(results.manifest)
    rival = pf.rivals[0]
    start = results.manifest.get("start_date", "")
    scenarios = [s for s in results.manifest["scenarios"] if done_ids(results, s)]
    colours = dict(zip([s for s in scenarios if s != "baseline"], SCENARIO_COLOURS * 3, strict=False))
    colours["baseline"] = BASELINE_COLOUR
    scenario_evs = results.manifest.get("scenario_events", {})
    base_events = {(e["id"], e["day"]) for e in scenario_evs.get("baseline", [])}
    with style():
        fig = new_figure(10.5, 5.4)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        last = 0
        for s in scenarios:
            ids = done_ids(results, s)
            ts = series_of(results, ids)
            last = max(last, int(ts["day"].max()))
            is_base = s == "baseline"
            _line_band(ax, mean_band(ts, ts[f"active_{rival}"]), colours[s], f"{s} ({len(ids)} runs)",
                       f"scenario:{s}", lw=2.2 if is_base else 1.5, alpha=0.13, zorder=4 if is_base else 2)
            moved = [e["day"] for e in scenario_evs.get(s, []) if (e["id"], e["day"]) not in base_events]
            if moved:
                ax.plot(moved, [0] * len(moved), ls="none", marker="^", ms=8, color=colours[s], clip_on=False,
                        zorder=6, gid=f"moved:{s}")
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{pf.label(rival)} active users (% of all users)")
        ax.legend(loc="upper right", title="scenario (▲ = event moved or added)", title_fontsize=8.5)
        apply_day_axis(ax, start, last)
        events = scenario_events(results.manifest, "baseline", last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"{pf.label(rival)} by scenario: mean over replications, band = 95% CI", pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start, title="baseline events")
        fig.suptitle(f"{results.manifest['name']}: scenarios compared over time")
    return fig


def plot_sweep_timeseries(results: Results, scenario: str = "baseline") -> Figure:
    """The first rival's active share at each point of a one-parameter sweep (mean and 95% band), coloured by
    the parameter's value."""
    pf = Platforms(results.manifest)
    rival = pf.rivals[0]
    key = results.manifest["sweep"]["params"][0]
    done = results.done[results.done["scenario"] == scenario]
    values = done.groupby("point", sort=True)[f"param:{key}"].first()
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric:
        cmap, norm = colormaps["viridis"], Normalize(values.min(), values.max())
        colour = {pt: cmap(0.9 * norm(v)) for pt, v in values.items()}
    else:
        colour = {pt: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, pt in enumerate(values.index)}
    start = results.manifest.get("start_date", "")
    with style():
        fig = new_figure(10.5, 5.0)
        grid = fig.add_gridspec(1, 2, width_ratios=(4.6, 1))
        ax = fig.add_subplot(grid[0, 0])
        last = 0
        for pt, v in values.items():
            ts = series_of(results, done_ids(results, scenario, pt))
            last = max(last, int(ts["day"].max()))
            _line_band(ax, mean_band(ts, ts[f"active_{rival}"]), colour[pt], f"{key} = {v:g}" if numeric
                       else f"{key} = {v}", f"point:{pt}", lw=1.6, alpha=0.15)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{pf.label(rival)} active users (% of all users)")
        ax.legend(loc="upper right", title="sweep point", title_fontsize=8.5)
        apply_day_axis(ax, start, last)
        events = scenario_events(results.manifest, scenario, last)
        pad = mark_events([ax], events, last)
        ax.set_title(f"{pf.label(rival)} at each value of {key}: mean over replications, band = 95% CI",
                     pad=pad)
        draw_event_key(fig.add_subplot(grid[0, 1]), events, start)
        fig.suptitle(f"{results.manifest['name']}: sweep of {key} over time")
    return fig
