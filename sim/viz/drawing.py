"""What the page's widgets draw (sim/viz/widgets.py), computed from the model: no drawing happens here.

The network: the graph's positions, a sample of its edges and its engaged community, encoded once per graph
(:func:`network_static`), and one byte per user per day (:func:`state_codes`). Encodings: fill colour = the
user's main (primary) app; a dark ring = active on two or more apps (never a platform's colour, so a ring
cannot be read as another app); a diamond = has left the incumbent; a white dot with a dark edge = on no app;
a pink shading under the users of the engaged community.

The charts: ECharts options over the scenario's days (:func:`main_chart`, :func:`observed_chart`) and each
day's series (:func:`main_series`, :func:`observed_series`). Days are the x axis's categories; the axis
labels and hover titles carry the dates.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config import EVENT_KINDS, EventSpec, Scenario
from sim.dates import date_of
from sim.episode import ObservedData, load_series, observables, panels
from sim.expressions import ExpressionError
from sim.network import SocialGraph

__all__ = ["ALARMING_KINDS", "ALARM_COLOUR", "CALM_COLOUR", "ENGAGED_COLOUR", "MAX_EDGES", "RING_COLOUR",
           "ChartSpec", "ObservedPanel", "b64", "day_labels", "event_colour", "event_rows", "main_chart",
           "main_series", "network_static", "observed_chart", "observed_panels", "observed_series", "state_codes",
           "to_json"]

#: Event kinds drawn in vermillion: news that raises alarm (the kinds with an intensity) and outages.
ALARMING_KINDS = frozenset({kind for kind, keys in EVENT_KINDS.items() if "intensity" in keys} | {"outage"})
ALARM_COLOUR = "#D55E00"
CALM_COLOUR = "#7a7a7a"
RING_COLOUR = "#111111"
#: The engaged community's shading (sim/viz/network_vue.py draws it at 16 % opacity).
ENGAGED_COLOUR = "#CC79A7"
MULTI_COLOUR = "#444444"
#: Edges drawn at most; beyond this a fixed random sample is drawn (30k lines are a grey smear anyway).
MAX_EDGES = 12_000
#: The share axis's floor (% of users): a log axis has no zero; values below show as "< 0.01%".
SHARE_FLOOR = 0.01
#: Marker shapes of an observed panel's series, in order.
SYMBOLS = ("circle", "rect", "diamond", "triangle", "pin", "arrow", "roundRect")

# Bits of a user's state code (sim/viz/network_vue.py reads the same): 0-3 primary platform, then these flags.
MULTI_BIT, LEFT_BIT, NONE_BIT = 16, 32, 64


def b64(array: np.ndarray) -> str:
    """An array's bytes as base64 text (little-endian, as the browser reads typed arrays)."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def to_json(value: Any) -> str:
    """Compact JSON text for a widget (None for NaN: :func:`main_series` and :func:`observed_series` give None)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def event_colour(kind: str) -> str:
    return ALARM_COLOUR if kind in ALARMING_KINDS else CALM_COLOUR


# The network ---------------------------------------------------------------------------------------------------
def network_static(graph: SocialGraph, pos: np.ndarray) -> dict[str, str]:
    """The network widget's per-graph traits: ``positions`` (uint16 pairs), ``edges`` (uint32 pairs, a fixed
    sample of at most :data:`MAX_EDGES`) and ``engaged`` (a byte per user, '' without an engaged community)."""
    xy = np.round(np.clip(np.asarray(pos, dtype=float), 0.0, 1.0) * 65535).astype("<u2")
    if graph.complete:
        a = b = np.empty(0, dtype=np.int64)
    else:
        rows = np.repeat(np.arange(graph.n), np.diff(graph.indptr))
        keep = rows < graph.indices
        a, b = rows[keep], np.asarray(graph.indices)[keep]
    if len(a) > MAX_EDGES:
        pick = np.sort(np.random.default_rng(0).choice(len(a), MAX_EDGES, replace=False))
        a, b = a[pick], b[pick]
    edges = np.stack([a, b], axis=1).astype("<u4")
    engaged = "" if graph.engaged is None or not graph.engaged.any() else b64(graph.engaged.astype(np.uint8))
    return {"positions": b64(xy), "edges": b64(edges), "engaged": engaged}


def state_codes(active: np.ndarray, primary: np.ndarray, ever: np.ndarray, incumbent: int) -> str:
    """One byte per user: its primary platform (bits 0-3), 16 if active on two or more platforms, 32 if it has
    left the incumbent (was active on it, is no longer), 64 if on no platform; base64."""
    codes = np.asarray(primary, dtype=np.uint8).copy()
    on = active.sum(axis=1)
    codes[on >= 2] |= MULTI_BIT
    codes[ever[:, incumbent] & ~active[:, incumbent]] |= LEFT_BIT
    codes[on == 0] |= NONE_BIT
    return b64(codes)


# Charts --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartSpec:
    """A chart's traits for :class:`sim.viz.widgets.TimeChart` apart from its daily data."""

    option: dict[str, Any]
    units: dict[str, str]
    legend: list[dict[str, Any]]
    labels: list[str]
    titles: list[str]
    events: list[dict[str, Any]]
    observed: list[dict[str, Any]]
    floor: float
    height: str

    def traits(self) -> dict[str, Any]:
        """The widget's ``spec_json`` and ``height``."""
        spec = {"option": self.option, "units": self.units, "legend": self.legend, "labels": self.labels,
                "titles": self.titles, "news": self.events, "observed": self.observed, "floor": self.floor}
        return {"spec_json": to_json(spec), "height": self.height}


def day_labels(start: datetime.date | None, last_day: int) -> tuple[list[str], list[str]]:
    """Each day's axis label ("16 Sep", or the day number without a start date) and hover title
    ("day 15 · Tue 16 Sep 2014")."""
    labels, titles = [], []
    for day in range(last_day + 1):
        date = date_of(start, day)
        labels.append(f"{date:%-d %b}" if date else str(day))
        titles.append(f"day {day} · {date:%a %-d %b %Y}" if date else f"day {day}")
    return labels, titles


def event_rows(events: Sequence[EventSpec], fired_until: int, start: datetime.date | None) -> list[dict[str, Any]]:
    """The events for hover: day, date, kind, note, colour and whether it has fired by ``fired_until``."""
    out = []
    for e in events:
        date = date_of(start, e.day)
        out.append({"day": e.day, "when": f"day {e.day}" + (f" · {date:%-d %b %Y}" if date else ""),
                    "kind": e.kind.replace("_", " "), "note": e.note or "", "colour": event_colour(e.kind),
                    "fired": e.day <= fired_until})
    return out


def _event_lines(events: Sequence[EventSpec], fired_until: int, last_day: int) -> dict[str, Any]:
    """A markLine per event day (dotted: fired, faint: to come) and a solid one at the scenario's end."""
    data = [{"xAxis": e.day, "lineStyle": {"color": event_colour(e.kind), "type": "dotted", "width": 1.2,
                                           "opacity": 0.9 if e.day <= fired_until else 0.3}}
            for e in events if 0 <= e.day <= last_day]
    return {"silent": True, "symbol": "none", "label": {"show": False}, "animation": False, "data": data}


def _axis(grid: int, days: int, show_labels: bool) -> dict[str, Any]:
    return {"type": "category", "gridIndex": grid, "data": [str(d) for d in range(days + 1)], "boundaryGap": False,
            "axisLabel": {"show": show_labels, "hideOverlap": True}, "axisTick": {"alignWithLabel": True},
            "axisPointer": {"show": True, "label": {"show": False}, "triggerTooltip": False}}


def _title(text: str, top: str | int) -> dict[str, Any]:
    return {"text": text, "left": 2, "top": top, "textStyle": {"fontSize": 13, "fontWeight": 600}}


def main_chart(names: Sequence[str], labels: Sequence[str], colours: Sequence[str], incumbent: int, last_day: int,
               start: datetime.date | None, events: Sequence[EventSpec], day: int, end_day: int) -> ChartSpec:
    """The "Over time" chart: active share per platform and on 2+ apps (% of users, log axis) above the mean
    alarm (0-1), over days 0..``last_day``, with a line on each event's day and at the scenario's end
    (``end_day``) when the run goes past it."""
    series: list[dict[str, Any]] = []
    legend = []
    for k, (name, label, colour) in enumerate(zip(names, labels, colours, strict=True)):
        series.append(_line(f"active_{name}", label, colour, 0, width=2.6 if k == incumbent else 2.0))
        legend.append({"name": label, "colour": colour, "stroke": True, "help": f"share of users active on {label}"})
    series.append(_line("multihoming", "2+ apps", MULTI_COLOUR, 0, dash=True))
    legend.append({"name": "2+ apps", "colour": MULTI_COLOUR, "stroke": True, "dash": True,
                   "help": "share of users active on two or more apps"})
    series.append(_line("mean_alarm", "mean alarm", ALARM_COLOUR, 1))
    legend.append({"name": "mean alarm", "colour": ALARM_COLOUR, "stroke": True,
                   "help": "users' mean alarm: perceived surveillance risk, 0 to 1"})
    marks = _event_lines(events, day, last_day)
    if end_day < last_day:
        marks["data"].append({"xAxis": end_day, "lineStyle": {"color": "#111111", "type": "solid", "width": 1.5}})
    for grid in (0, 1):
        series.append({"id": f"_events{grid}", "name": "_events", "xAxisIndex": grid,
                       "yAxisIndex": grid, "data": [], "markLine": marks})
    option = {
        "animation": False,
        "grid": [{"left": 60, "right": 18, "top": 28, "height": "50%"},
                 {"left": 60, "right": 18, "top": "66%", "bottom": 64}],
        "title": [_title("Active users by platform (% of users, log scale)", 0),
                  _title("Mean alarm (perceived surveillance risk, 0-1)", "59%")],
        "xAxis": [_axis(0, last_day, False), _axis(1, last_day, True)],
        "yAxis": [{"type": "log", "logBase": 10, "min": SHARE_FLOOR, "max": 100, "gridIndex": 0, "percent": True,
                   "splitLine": {"lineStyle": {"color": "#e6e6e6"}}},
                  {"type": "value", "min": 0, "max": 1, "interval": 0.25, "gridIndex": 1,
                   "splitLine": {"lineStyle": {"color": "#e6e6e6"}}}],
        "axisPointer": {"link": [{"xAxisIndex": "all"}]},
        "dataZoom": [{"type": "inside", "xAxisIndex": [0, 1], "filterMode": "none"},
                     {"type": "slider", "xAxisIndex": [0, 1], "bottom": 6, "height": 18, "filterMode": "none",
                      "labelFormatter": ""}],
        "series": series,
    }
    day_label, titles = day_labels(start, last_day)
    units = {f"active_{p}": "%" for p in names} | {"multihoming": "%", "mean_alarm": ""}
    return ChartSpec(option=option, units=units, legend=legend, labels=day_label, titles=titles,
                     events=event_rows(events, day, start), observed=[], floor=SHARE_FLOOR, height="500px")


def _line(sid: str, name: str, colour: str, grid: int, width: float = 2.0, dash: bool = False) -> dict[str, Any]:
    return {"id": sid, "name": name, "xAxisIndex": grid, "yAxisIndex": grid, "showSymbol": False,
            "symbol": "circle", "symbolSize": 5, "connectNulls": False, "data": [],
            "lineStyle": {"color": colour, "width": width, "type": "dashed" if dash else "solid"},
            "itemStyle": {"color": colour}}


def _round(values: np.ndarray | Sequence[float], floor: float | None = None) -> list[float | None]:
    """Values for the browser: 5 significant digits (fewer bytes), NaN as None, at least ``floor`` if given."""
    out: list[float | None] = []
    for x in values:
        x = float(x)
        if not np.isfinite(x):
            out.append(None)
        else:
            out.append(float(f"{max(x, floor) if floor is not None else x:.5g}"))
    return out


def main_series(records: Sequence[dict[str, float]], names: Sequence[str]) -> dict[str, list[float | None]]:
    """Each day's values of the "Over time" chart's series (shares in %, at least the axis floor)."""
    out: dict[str, list[float | None]] = {}
    for p in names:
        out[f"active_{p}"] = _round([100 * r[f"active_{p}"] for r in records], SHARE_FLOOR)
    out["multihoming"] = _round([100 * r["multihoming"] for r in records], SHARE_FLOOR)
    out["mean_alarm"] = _round([r["mean_alarm"] for r in records])
    return out


# Observed data -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservedPanel:
    """One kind of the episode's data about some platforms (:func:`sim.episode.panels`): its series and, where
    they all compare with one model expression, that expression (else each series is compared with the model
    at its own days)."""

    title: str
    series: tuple[ObservedData, ...]
    shared: bool
    scale: float  # 100: shares and ratios of shares, drawn in %; 1: other numbers
    log: bool


def observed_panels(scenario: Scenario) -> list[ObservedPanel]:
    """The scenario's observed series (its config's ``[observed]``), grouped into panels as ``sim plot`` does.
    Empty when the config declares none."""
    loaded = [load_series(scenario, spec) for spec in scenario.observed.series]
    out = []
    for title, group in panels(loaded).items():
        values = np.concatenate([d.values for d in group])
        values = values[np.isfinite(values)]
        shared = len({d.model.text for d in group}) == 1
        out.append(ObservedPanel(title=title, series=tuple(group), shared=shared,
                                 scale=100.0 if np.abs(values).max(initial=0.0) <= 1.5 else 1.0,
                                 log=not shared and bool(len(values)) and bool((values > 0).all())))
    return out


def _panel_colour(panel: ObservedPanel, names: Sequence[str], colours: Sequence[str], incumbent: int) -> str:
    mentioned = [k for k, p in enumerate(names) if p in panel.title]
    rivals = [k for k in range(len(names)) if k != incumbent]
    return colours[(mentioned or rivals or [incumbent])[0]]


def _fmt(value: float, scale: float) -> str:
    return f"{value * scale:.3g}%" if scale == 100.0 else f"{value * scale:.4g}"


def observed_chart(panel: ObservedPanel, names: Sequence[str], colours: Sequence[str], incumbent: int,
                   last_day: int, start: datetime.date | None, events: Sequence[EventSpec], day: int) -> ChartSpec:
    """The "Against the data" chart of one panel: each observed series as open markers and this run's
    counterpart, the panel's model expression as a line (or, where the series compare with different
    expressions, filled markers at the data's days)."""
    colour = _panel_colour(panel, names, colours, incumbent)
    unit = "%" if panel.scale == 100.0 else ""
    series: list[dict[str, Any]] = []
    legend: list[dict[str, Any]] = []
    units: dict[str, str] = {}
    if panel.shared:
        name = f"this run: {panel.series[0].model.text}"
        series.append(_line("model", name, colour, 0))
        legend.append({"name": name, "colour": colour, "stroke": True,
                       "help": "the model expression the data compare with"})
        units["model"] = unit
    observed = []
    for k, data in enumerate(panel.series):
        symbol = SYMBOLS[k % len(SYMBOLS)]
        inside = [(int(d), float(v)) for d, v in zip(data.days, data.values, strict=True) if 0 <= d <= last_day]
        label = data.spec.label or data.spec.id
        series.append({"id": f"_obs_{k}", "name": label, "type": "scatter", "symbol": symbol, "symbolSize": 9,
                       "z": 4, "data": [[d, v * panel.scale] for d, v in inside],
                       "itemStyle": {"color": "#ffffff", "borderColor": "#111111", "borderWidth": 1.5}})
        legend.append({"name": label, "colour": "#111111", "marker": "open", "help": f"observed ({data.spec.kind})"})
        observed += [{"day": d, "label": label, "text": _fmt(v, panel.scale)} for d, v in inside]
        if not panel.shared:
            series.append({"id": f"model_{k}", "name": "this run at the data's days", "type": "scatter",
                           "symbol": symbol, "symbolSize": 6, "z": 5, "data": [], "itemStyle": {"color": colour}})
            units[f"model_{k}"] = unit
    if not panel.shared:
        legend.insert(0, {"name": "this run at the data's days", "colour": colour, "marker": "filled",
                          "help": "the model expression of each series, on that series' days"})
    series.append({"id": "_events0", "name": "_events", "data": [],
                   "markLine": _event_lines(events, day, last_day)})
    y_axis: dict[str, Any] = {"type": "log" if panel.log else "value", "gridIndex": 0, "scale": panel.log,
                              "percent": unit == "%", "splitLine": {"lineStyle": {"color": "#e6e6e6"}}}
    option = {
        "animation": False,
        "grid": [{"left": 64, "right": 18, "top": 30, "bottom": 64}],
        "title": [_title(f"{panel.title[:1].upper()}{panel.title[1:]} ({'%' if unit else 'value'})", 0)],
        "xAxis": [_axis(0, last_day, True)],
        "yAxis": [y_axis],
        "dataZoom": [{"type": "inside", "xAxisIndex": [0], "filterMode": "none"},
                     {"type": "slider", "xAxisIndex": [0], "bottom": 6, "height": 18, "filterMode": "none",
                      "labelFormatter": ""}],
        "series": series,
    }
    day_label, titles = day_labels(start, last_day)
    return ChartSpec(option=option, units=units, legend=legend, labels=day_label, titles=titles,
                     events=event_rows(events, day, start), observed=observed, floor=0.0, height="340px")


def observed_series(panel: ObservedPanel, scenario: Scenario, timeseries: pd.DataFrame
                    ) -> dict[str, list[Any]]:
    """This run's counterpart of the panel's data so far: the shared expression on every day (``model``), or
    each series' expression at that series' days up to today (``model_<k>``, [day, value] pairs)."""
    obs = observables(scenario, timeseries)
    out: dict[str, list[Any]] = {}
    if panel.shared:
        out["model"] = _round(_evaluate(panel.series[0], obs, len(timeseries)) * panel.scale)
        return out
    for k, data in enumerate(panel.series):
        values = _evaluate(data, obs, len(timeseries)) * panel.scale
        pairs = [[int(d), v] for d, v in zip(data.days, _round(values[np.clip(data.days, 0, len(values) - 1)]),
                                              strict=True) if 0 <= d < len(values) and v is not None]
        out[f"model_{k}"] = pairs
    return out


def _evaluate(data: ObservedData, obs: Any, days: int) -> np.ndarray:
    """The series' model expression over the run's days (NaN where it cannot be computed yet)."""
    try:
        values = np.asarray(data.model.evaluate(obs), dtype=float)
    except (ExpressionError, ValueError):  # ValueError: new(s, n) on a run shorter than n days (sim.expressions)
        return np.full(days, np.nan)
    return values if values.shape == (days,) else np.full(days, np.nan)
