"""Network snapshots: the social graph coloured by each user's primary platform on the saved days, drawn from
:class:`sim.plots.data.NetworkSnapshots`."""

from __future__ import annotations

import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.plots.data import ExperimentInfo, NetworkSnapshots
from sim.plots.style import Platforms, day_label, new_figure, style

__all__ = ["MAX_NODES", "layout", "plot_network"]

#: Larger graphs are not drawn: unreadable, and networkx's layout of 2,000 nodes already takes ~20 s.
MAX_NODES = 2000
NO_PLATFORM = "#d9d9d9"


def layout(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Node positions (n x 2) of the CSR graph: networkx spring layout, seed 0."""
    n = len(indptr) - 1
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    rows = np.repeat(np.arange(n), np.diff(indptr))
    graph.add_edges_from(zip(rows.tolist(), indices.tolist(), strict=True))
    pos = nx.spring_layout(graph, seed=0)
    return np.array([pos[i] for i in range(n)])


def _ring_colours(active: np.ndarray, primary: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Edge colour per user: none for single-homers, the other platform's colour for users on two, black for
    users on three or more."""
    others = active.copy()
    others[np.arange(len(primary)), np.clip(primary, 0, None)] &= primary < 0
    count = active.sum(axis=1)
    ring = np.where(count >= 3, "black", "none").astype(object)
    two = count == 2
    ring[two] = colours[np.argmax(others[two], axis=1)]
    return ring


def plot_network(info: ExperimentInfo, snaps: NetworkSnapshots) -> Figure:
    """A row of panels, one per saved day, of the run's graph: nodes filled with the colour of their primary
    platform; users active on two or more platforms (multi-homers) ringed in the colour of the other platform
    they use (black if on three or more). One layout for all days."""
    pf = Platforms(info)
    start = info.start_date
    days = snaps.days
    indptr, indices = snaps.indptr, snaps.indices
    pos = layout(indptr, indices)
    n = len(pos)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    upper = rows < indices
    segments = np.stack([pos[rows[upper]], pos[indices[upper]]], axis=1)
    colours = np.array([pf.colour(p) for p in pf.names] + [NO_PLATFORM])
    size = float(np.clip(6000 / n, 4, 40))
    inc = pf.names.index(pf.incumbent)
    with style():
        fig = new_figure(3.3 * len(days) + 0.4, 4.1)
        axes = np.atleast_1d(fig.subplots(1, len(days)))
        for ax, day in zip(axes, days, strict=True):
            primary = snaps.primary[day]
            active = snaps.active[day]
            multi = active.sum(axis=1) >= 2
            ring = _ring_colours(active, primary, colours)
            ax.add_collection(LineCollection(segments, colors="#b5b5b5", linewidths=0.25, alpha=0.35,
                                             zorder=1))
            # drawn last, on top: multi-homers, then users whose primary platform is a rival
            order = np.lexsort((multi, primary != inc))
            face = colours[np.where(primary >= 0, primary, len(pf.names))][order]
            ax.scatter(pos[order, 0], pos[order, 1], s=size, c=face, edgecolors=ring[order], linewidths=1.3,
                       zorder=2, gid=f"nodes:{day}")
            ax.set_aspect("equal")
            ax.set_axis_off()
            shares = ", ".join(f"{pf.label(p)} {100 * np.mean(primary == k):.1f}%"
                               for k, p in enumerate(pf.names) if p != pf.incumbent)
            when = day_label(start, day) + (f" (day {day})" if start else "")
            ax.set_title(f"{when}\nprimary: {shares}\nmulti-homing {100 * multi.mean():.1f}%", fontsize=8.5,
                         fontweight="normal", loc="center")
        handles = [Line2D([], [], ls="none", marker="o", ms=7, mfc=pf.colour(p), mec="none",
                          label=f"primary: {pf.label(p)}") for p in pf.names]
        handles += [Line2D([], [], ls="none", marker="o", ms=7, mfc="white", mec=pf.colour(p), mew=1.6,
                           label=f"ring: also on {pf.label(p)}") for p in pf.names]
        if len(pf.names) > 2:
            handles.append(Line2D([], [], ls="none", marker="o", ms=7, mfc="white", mec="black", mew=1.6,
                                  label="ring: on 3+ platforms"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        fig.suptitle(f"{info.name}: network of {n} users by primary platform (run {snaps.run_id})")
    return fig
