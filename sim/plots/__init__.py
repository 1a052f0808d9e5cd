"""Figures from a results folder (``sim plot``, ``sim run --plot``): read the saved files, never re-run.

Data flows one way: results folder -> :func:`sim.plots.data.plot_data` (read once into typed plot data) ->
``plot_*`` (drawing only). :func:`make_figures` picks what fits the experiment; each ``plot_*`` function
returns one Figure (so tests can read the plotted numbers) and :func:`plot_results` writes them in the
requested formats:

- ``timeseries``: active share of each rival and of the incumbent, mean and 95% band, events marked; for
  results with observed panels also the model's weekly ratio against them (no sweep)
- ``composition``: users on the incumbent only, on both, on rivals only (no sweep)
- ``scenario_outcomes``, ``scenario_timeseries``: scenarios compared (more than one scenario, no sweep)
- ``sweep[_<scenario>]``: outcomes against the swept parameters; ``sweep_timeseries``: one-parameter grids
- ``network_<scenario>``: the graph by primary platform on the saved days (runs with snapshots, small N)

An exploration's folder (``sim explore``) gets its own figures instead, from its saved analysis
(:mod:`sim.plots.explore`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from sim.explore import files as exploration_files
from sim.plots.data import PlotData, network_data, plot_data
from sim.plots.explore import exploration_figures
from sim.plots.network import MAX_NODES, plot_network
from sim.plots.outcomes import plot_scenario_outcomes, plot_sweep
from sim.plots.style import style
from sim.plots.timeseries import (
    plot_composition,
    plot_scenario_timeseries,
    plot_sweep_timeseries,
    plot_timeseries,
)
from sim.store import Results

__all__ = ["FORMATS", "PlotData", "make_figures", "plot_composition", "plot_data", "plot_network", "plot_results",
           "plot_scenario_outcomes", "plot_scenario_timeseries", "plot_sweep", "plot_sweep_timeseries",
           "plot_timeseries"]

FORMATS = ("png", "svg", "pdf")


def make_figures(results: Results) -> dict[str, Figure]:
    """The figures that fit the experiment, by file stem. Raises ResultsError if no run has finished."""
    if (results.manifest.get("sweep") or {}).get("method") == exploration_files.METHOD:
        return exploration_figures(exploration_files.load(results.root))
    data = plot_data(results)
    scenarios = list(data.scenarios)
    main = "baseline" if "baseline" in scenarios else scenarios[0]
    sweep = data.sweep
    figures: dict[str, Figure] = {}
    if sweep:
        for s in scenarios:
            figures["sweep" if len(scenarios) == 1 else f"sweep_{s}"] = plot_sweep(data, s)
        if main in sweep.points:
            figures["sweep_timeseries"] = plot_sweep_timeseries(data, main)
    else:
        figures["timeseries"] = plot_timeseries(data, main)
        figures["composition"] = plot_composition(data, main)
        if len(scenarios) > 1:
            figures["scenario_outcomes"] = plot_scenario_outcomes(data)
            figures["scenario_timeseries"] = plot_scenario_timeseries(data)
    n = data.info.users or 0
    for s in scenarios:
        run_id = data.snapshot_runs.get(s)
        if run_id is None:
            continue
        if n > MAX_NODES:
            warnings.warn(f"{results.root}: network snapshots of {n} users not drawn (more than {MAX_NODES})",
                          stacklevel=2)
            break
        figures[f"network_{s}"] = plot_network(data.info, network_data(results, run_id))
    return figures


def plot_results(results: Results, out_dir: str | Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write every figure of :func:`make_figures` into ``out_dir`` in each of ``formats`` (png, svg, pdf).
    Returns the paths written."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"figure formats {list(formats)}: expected some of {', '.join(FORMATS)}")
    figures = make_figures(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with style():
        for stem, fig in figures.items():
            for fmt in formats:
                path = out / f"{stem}.{fmt}"
                fig.savefig(path, format=fmt)
                paths.append(path)
    return paths
