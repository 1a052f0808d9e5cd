"""The page's pictures as PNG bytes: the social network and the live charts (matplotlib, no pyplot).

The network is drawn by blitting: the edges and the legend are rendered once per model into a background,
and each frame only restores that background and draws the users' markers on top. The node positions come
from the model (computed once per graph), so a frame costs a few milliseconds at 1,000 users.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from PIL import Image

from sim.config import EventSpec
from sim.dates import date_of, month_starts
from sim.network import SocialGraph
from sim.palette import label_for, platform_colours

__all__ = ["ALARMING_KINDS", "ChartPicture", "NetworkPicture", "png_bytes"]

#: Event kinds that raise alarm (drawn in vermillion on the charts); the others calm it or change platforms.
ALARMING_KINDS = frozenset({"announcement", "revelation", "outage"})
ALARM_COLOUR = "#D55E00"
CALM_COLOUR = "#7a7a7a"
EDGE_COLOUR = "#9a9a9a"
RING_COLOUR = "#111111"
#: Edges drawn at most; beyond this a fixed random sample is drawn (30k lines are a grey smear anyway).
MAX_EDGES = 12_000


def png_bytes(rgba: np.ndarray | memoryview) -> bytes:
    """Encode an RGBA buffer as PNG, fast rather than small (the page redraws every step)."""
    out = io.BytesIO()
    # RGB halves the encoding time of RGBA here; the pictures are opaque anyway
    Image.fromarray(np.asarray(rgba)).convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


class NetworkPicture:
    """The social graph with users coloured by primary platform, for one model's graph and layout.

    Encoding: fill colour = primary platform; a ring = active on two or more platforms (multi-homing), in the
    colour of the other platform used; a diamond = has left the incumbent (was active on it, is no longer).
    Build once per model, then call :meth:`render` each frame.
    """

    def __init__(self, graph: SocialGraph, pos: np.ndarray, names: Sequence[str], incumbent: int,
                 size_px: int = 720, dpi: int = 100, labels: Sequence[str] | None = None,
                 colours: Sequence[str] | None = None) -> None:
        self.pos = np.asarray(pos, dtype=float)
        self.names = tuple(names)
        self.labels = tuple(labels or (label_for(p) for p in self.names))
        self.incumbent = incumbent
        self.colours = to_rgba_array(colours or platform_colours(self.names))
        n = graph.n
        self.size = float(np.clip(14_000 / n, 5.0, 40.0))  # marker area (pt^2): smaller dots for more users
        ring = 0.22 * np.sqrt(self.size * 3)  # ring width ~ a fifth of the marker's diameter: fill stays visible
        legend_px = 70
        self.fig = Figure(figsize=(size_px / dpi, (size_px + legend_px) / dpi), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        frac = legend_px / (size_px + legend_px)
        ax = self.fig.add_axes((0.0, frac, 1.0, 1.0 - frac))
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_axis_off()
        self._draw_edges(ax, graph)
        self._draw_legend()
        self.layers = {
            "plain": ax.scatter([], [], s=self.size, marker="o", linewidths=0, animated=True),
            "multi": ax.scatter([], [], s=self.size * 3, marker="o", linewidths=ring, animated=True),
            "exit": ax.scatter([], [], s=self.size * 3, marker="D", edgecolors=RING_COLOUR, linewidths=ring,
                               animated=True),
        }
        self.ax = ax
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _draw_edges(self, ax: Any, graph: SocialGraph) -> None:
        if graph.complete:
            return
        rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
        keep = rows < graph.indices
        a, b = rows[keep], np.asarray(graph.indices)[keep]
        if len(a) > MAX_EDGES:
            pick = np.random.default_rng(0).choice(len(a), MAX_EDGES, replace=False)
            a, b = a[pick], b[pick]
        alpha = float(np.clip(900 / max(len(a), 1), 0.04, 0.35))
        segments = np.stack([self.pos[a], self.pos[b]], axis=1)
        ax.add_collection(LineCollection(segments, colors=EDGE_COLOUR, linewidths=0.4, alpha=alpha,
                                         rasterized=True))

    def _draw_legend(self) -> None:
        handles = [Line2D([], [], ls="none", marker="o", ms=8, mfc=c, mec="none", label=label)
                   for label, c in zip(self.labels, self.colours, strict=True)]
        handles += [
            Line2D([], [], ls="none", marker="o", ms=8, mfc="white", mec=EDGE_COLOUR, mew=2,
                   label="2+ apps (ring)"),
            Line2D([], [], ls="none", marker="D", ms=7, mfc="white", mec=RING_COLOUR, mew=1.3,
                   label=f"left {self.labels[self.incumbent]}"),
        ]
        self.fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False,
                        fontsize=12, handletextpad=0.1, columnspacing=0.8, bbox_to_anchor=(0.5, 0.0))

    def render(self, active: np.ndarray, primary: np.ndarray, ever: np.ndarray) -> bytes:
        """A PNG of the current state (arrays over users in node order, as ``state_arrays`` gives them)."""
        inc = self.incumbent
        left = ever[:, inc] & ~active[:, inc]
        multi = (active.sum(axis=1) >= 2) & ~left
        plain = ~(left | multi)
        others = active.copy()
        others[np.arange(len(primary)), primary] = False
        other = np.argmax(others, axis=1)  # first platform used besides the primary (multi-homers only)
        self.layers["multi"].set_edgecolor(self.colours[other[multi]])
        self.canvas.restore_region(self.background)
        for name, mask in (("plain", plain), ("multi", multi), ("exit", left)):
            layer = self.layers[name]
            layer.set_offsets(self.pos[mask] if mask.any() else np.empty((0, 2)))
            layer.set_facecolor(self.colours[primary[mask]])
            self.ax.draw_artist(layer)
        return png_bytes(self.canvas.buffer_rgba())


# Charts ------------------------------------------------------------------------------------------------------
def _percent(y: float, _pos: Any = None) -> str:
    return f"{y:g}%"


def _date_ticks(ax: Any, start: datetime.date, last_day: int) -> None:
    """Label the day axis with the first of each month (``1 Oct``)."""
    days = month_starts(start, last_day)
    ax.set_xticks(days, [f"{d.day} {d:%b}" for d in (date_of(start, day) for day in days)])


class ChartPicture:
    """Two stacked panels over days: active share per platform (log scale, % of users, plus multi-homing)
    and mean alarm, with the fired events as dotted vertical lines (vermillion: alarming news; grey: the
    rest).

    Blitted like the network: axes, ticks, titles, legend and event lines form a background that is redrawn
    only when an event fires or the run outgrows the x range (text layout is most of a full draw); each frame
    draws just the data lines on it. So the axes are fixed: x covers the scenario's days (and grows past
    them if the run goes on), alarm is on its whole range [0, 1].
    """

    def __init__(self, names: Sequence[str], incumbent: int, last_day: int, start: datetime.date | None,
                 width_px: int = 600, height_px: int = 640, dpi: int = 100, labels: Sequence[str] | None = None,
                 colours: Sequence[str] | None = None) -> None:
        self.names = tuple(names)
        self.labels = tuple(labels or (label_for(p) for p in self.names))
        self.start = start
        colours = list(colours or platform_colours(self.names))
        self.fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self.top, self.bottom = self.fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        self.fig.subplots_adjust(left=0.12, right=0.97, top=0.95, bottom=0.06, hspace=0.2)
        self.share_lines = [self.top.plot([], [], color=colours[k], lw=2.2 if k == incumbent else 1.8, marker="o",
                                          ms=4, label=self.labels[k], animated=True)[0]
                            for k, p in enumerate(self.names)]
        self.multi_line = self.top.plot([], [], color="#444444", lw=1.2, ls="--", label="2+ apps",
                                        animated=True)[0]
        self.alarm_line = self.bottom.plot([], [], color=ALARM_COLOUR, lw=2, marker="o", ms=4, animated=True)[0]
        self.alarm_fill: Any = None
        self.drawn_events: set[tuple[int, str]] = set()
        self._style_axes()
        self.last_day = -1
        self.background: Any = None

    def _style_axes(self) -> None:
        top, bottom = self.top, self.bottom
        top.set_yscale("log")
        top.set_ylim(0.05, 150)
        top.yaxis.set_major_locator(LogLocator(base=10))
        top.yaxis.set_major_formatter(FuncFormatter(_percent))
        top.yaxis.set_minor_formatter(NullFormatter())
        top.set_title("Active users by platform (% of users, log scale)", loc="left", fontsize=13,
                      fontweight="bold")
        top.legend(loc="lower left", ncol=len(self.names) + 1, fontsize=11, frameon=False, handlelength=1.2,
                   columnspacing=0.9, handletextpad=0.4)
        bottom.set_ylim(0, 1)
        bottom.set_title("Mean alarm (perceived surveillance risk)", loc="left", fontsize=13, fontweight="bold")
        for ax in (top, bottom):
            ax.grid(True, color="#e6e6e6", lw=0.6)
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=11)

    def _update_background(self, events: Sequence[EventSpec], last_day: int) -> None:
        """Redraw the static part if the x range grew or new events fired."""
        stale = self.background is None
        if last_day > self.last_day:
            self.last_day = last_day
            self.bottom.set_xlim(0, last_day)
            if self.start is not None:
                _date_ticks(self.bottom, self.start, last_day)
            else:
                self.bottom.set_xlabel("day", fontsize=11)
            stale = True
        for e in events:
            if (e.day, e.id) not in self.drawn_events:
                self.drawn_events.add((e.day, e.id))
                colour = ALARM_COLOUR if e.kind in ALARMING_KINDS else CALM_COLOUR
                for ax in (self.top, self.bottom):
                    ax.axvline(e.day, color=colour, lw=0.9, ls=":", alpha=0.8, zorder=0)
                stale = True
        if stale:
            self.canvas.draw()  # animated artists (the data) are left out
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, records: Sequence[dict[str, float]], events: Sequence[EventSpec], last_day: int) -> bytes:
        """A PNG of the series so far (``records``: the model's daily rows) with ``events`` marked."""
        self._update_background(events, last_day)
        days = np.array([r["day"] for r in records], dtype=float)
        for line, p in zip(self.share_lines, self.names, strict=True):
            line.set_data(days, np.maximum([100 * r[f"active_{p}"] for r in records], 1e-3))
        self.multi_line.set_data(days, np.maximum([100 * r["multihoming"] for r in records], 1e-3))
        alarm = np.array([r["mean_alarm"] for r in records])
        self.alarm_line.set_data(days, alarm)
        for line in (*self.share_lines, self.alarm_line):
            line.set_markevery([len(days) - 1])  # a dot on today's value (also visible on day 0, a single point)
        if self.alarm_fill is not None:
            self.alarm_fill.remove()
        self.alarm_fill = self.bottom.fill_between(days, alarm, color=ALARM_COLOUR, alpha=0.12, lw=0,
                                                   animated=True)
        self.canvas.restore_region(self.background)
        for artist in (*self.share_lines, self.multi_line, self.alarm_fill, self.alarm_line):
            artist.axes.draw_artist(artist)
        return png_bytes(self.canvas.buffer_rgba())
