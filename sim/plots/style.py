"""Shared look of every figure: rc style, platform colours and names, the calendar axis and event markers.

Drawing only: the numbers come from :mod:`sim.plots.data`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from sim.dates import date_of, month_starts
from sim.palette import label_for, platform_colours
from sim.plots.data import EventMark, ExperimentInfo

__all__ = ["BASELINE_COLOUR", "SCENARIO_COLOURS", "Platforms", "apply_day_axis", "day_label", "draw_event_key",
           "mark_events", "new_figure", "percent", "style"]

#: Paul Tol's "muted" qualitative scheme (colour-blind safe) for scenarios; the baseline is drawn in black.
SCENARIO_COLOURS = ("#CC6677", "#332288", "#117733", "#882255", "#44AA99", "#999933", "#AA4499", "#88CCEE",
                    "#DDCC77")
BASELINE_COLOUR = "#000000"
EVENT_COLOUR = "#6b6b6b"
_BADGE_BASE, _BADGE_STEP = 9.0, 12.0  # points above the axis: first row of event badges, each further row

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.08,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The figures' matplotlib settings, for building and saving."""
    with mpl.rc_context(_RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas (no pyplot, no GUI backend, nothing global to close)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def percent(x: Any) -> Any:
    """A share in [0, 1] as a percentage."""
    return 100 * x


class Platforms:
    """The experiment's platforms: names in config order, the incumbent and the rivals, colours and labels."""

    def __init__(self, info: ExperimentInfo) -> None:
        self.names: list[str] = list(info.platforms)
        self.incumbent: str = info.incumbent
        self.rivals: list[str] = list(info.rivals)
        self._colours = dict(zip(self.names, platform_colours(self.names, info.colours or None), strict=True))
        given = dict(zip(self.names, info.labels, strict=False))
        self._labels = {p: label_for(p, given.get(p, "")) for p in self.names}

    def colour(self, name: str) -> str:
        """The platform's colour (:mod:`sim.palette`: the config's, else distinct within the config)."""
        return self._colours[name]

    def label(self, name: str) -> str:
        """Display name (the config's ``label``, else the name title-cased)."""
        return self._labels[name]


# Calendar axis and events ----------------------------------------------------------------------------------
def day_label(start: str, day: int) -> str:
    """'Oct 1' for a start date, else 'day 30'."""
    if not start:
        return f"day {day}"
    d = date_of(start, day)
    return f"{d:%b} {d.day}"


def apply_day_axis(ax: Axes, start: str, last_day: int) -> None:
    """Label the time axis: dates (ticks on the 1st of each month, minor ticks weekly from day 0) when the
    experiment has a start date, else day numbers."""
    ax.set_xlim(0, last_day)
    if not start:
        ax.set_xlabel("day")
        return
    ticks = month_starts(start, last_day)
    ax.set_xticks(ticks, [day_label(start, t) for t in ticks])
    ax.set_xticks(range(0, last_day + 1, 7), minor=True)
    ax.set_xlabel(f"date (day 0 = {day_label(start, 0)}, {date_of(start, 0).year})")


@contextlib.contextmanager
def _no_autoscale(ax: Axes) -> Iterator[None]:
    ax.set_autoscale_on(False)
    try:
        yield
    finally:
        ax.set_autoscale_on(True)


def _badge(ax: Axes, xy: tuple[float, float], text: str, xycoords: Any, offset: float = 0,
           colour: str = EVENT_COLOUR) -> None:
    ax.annotate(text, xy, xycoords=xycoords, xytext=(0, offset), textcoords="offset points", ha="center",
                va="center", fontsize=7, color="white", fontweight="bold", annotation_clip=False, zorder=5,
                bbox={"boxstyle": "circle,pad=0.22", "fc": colour, "ec": "none"})


def mark_events(axes: Sequence[Axes], events: Sequence[EventMark], last_day: int) -> float:
    """A dotted vertical line at each event day on every axis, and numbered badges above the first axis
    (staggered in rows where events fall within a few days of each other). Returns the title pad (points)
    that clears the badges."""
    for ax in axes:
        with _no_autoscale(ax):
            for e in events:
                ax.axvline(e.day, color=EVENT_COLOUR, lw=0.7, ls=(0, (1.5, 2)), zorder=1, gid=f"event:{e.id}")
    top = axes[0]
    trans = blended_transform_factory(top.transData, top.transAxes)
    gap = max(last_day / 45, 1.5)
    row_end: list[float] = []
    for e in events:
        row = next((i for i, end in enumerate(row_end) if e.day - end >= gap), len(row_end))
        if row == len(row_end):
            row_end.append(e.day)
        row_end[row] = e.day
        _badge(top, (e.day, 1), str(e.number), trans, offset=_BADGE_BASE + _BADGE_STEP * row)
    return _BADGE_BASE + _BADGE_STEP * len(row_end) if events else 6


def draw_event_key(ax: Axes, events: Sequence[EventMark], start: str, title: str = "events") -> None:
    """The key to the numbered event badges, as a column of text at the top of ``ax`` (an otherwise empty
    axis): badge, date, then the event's id and kind."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=9.5)
    for i, e in enumerate(events):
        y = -4 - 25 * i
        _badge(ax, (0, 1), str(e.number), "axes fraction", offset=y)
        for dy, text, look in ((0, day_label(start, e.day), {"fontsize": 8.5, "fontweight": "bold"}),
                               (-10.5, f"{e.label} ({e.kind.replace('_', ' ')})",
                                {"fontsize": 7.5, "color": "#404040"})):
            ax.annotate(text, (0, 1), xycoords="axes fraction", xytext=(9, y + dy),
                        textcoords="offset points", va="center", annotation_clip=False, **look)
