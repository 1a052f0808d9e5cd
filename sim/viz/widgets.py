"""The page's two drawing widgets: ipyvue templates (Vue 2, as the rest of the page) that draw in the browser.

- :class:`NetworkCanvas` (:mod:`~sim.viz.network_vue`): the social network on a canvas. Positions, edges and
  the engaged community arrive once per graph; each day only one byte per user (its encoded state, see
  :func:`sim.viz.drawing.state_codes`). A click on a user calls back with its index (the inspector).
- :class:`TimeChart` (:mod:`~sim.viz.chart_vue`): an ECharts chart (the library solara's ``FigureEcharts``
  loads, from solara's CDN proxy, so ``sim assets`` caches it for offline machines). The chart's option arrives when the
  chart changes shape (a new model, an event fired, another panel); each day only the series' data, merged
  into the chart, so zoom and hidden series stay as the user left them. The legend is HTML above the plot
  (it never covers the data; a click shows or hides a series); hovering shows the day's date, the values, the
  observed data and the events near that day with their notes.

Arrays travel as base64 strings (a byte per user per day, 6.7 kB at 5,000 users).
"""

from __future__ import annotations

import ipyvuetify as v
import traitlets

from sim.viz import chart_vue, network_vue

__all__ = ["ECHARTS", "NetworkCanvas", "TimeChart"]

#: The ECharts build the chart loads, as a path under solara's CDN proxy (``sim assets`` caches the package).
ECHARTS = "echarts@5.4.0/dist/echarts.min.js"


class NetworkCanvas(v.VuetifyTemplate):
    """The social network drawn on a canvas (see the module docstring)."""

    template = traitlets.Unicode(network_vue.TEMPLATE).tag(sync=True)

    positions = traitlets.Unicode("").tag(sync=True)  # uint16 (x, y) pairs, x and y in [0, 65535]
    edges = traitlets.Unicode("").tag(sync=True)  # uint32 (a, b) pairs, a sample of at most MAX_EDGES
    engaged = traitlets.Unicode("").tag(sync=True)  # uint8 per user, 1: in the engaged community ('' none)
    shown = traitlets.Unicode("").tag(sync=True)  # uint8 per user, 1: drawn ('' all)
    colours = traitlets.List(traitlets.Unicode()).tag(sync=True)  # per platform
    state = traitlets.Unicode("").tag(sync=True)  # uint8 per user (sim.viz.drawing.state_codes)
    day = traitlets.Int(0).tag(sync=True)  # the day ``state`` is of (set on the canvas once drawn)
    selected = traitlets.Int(-1).tag(sync=True)
    contacts = traitlets.List(traitlets.Int()).tag(sync=True)  # the selected user's contacts
    label = traitlets.Unicode("").tag(sync=True)  # the canvas's accessible description
    on_select = traitlets.Callable(None, allow_none=True)

    def vue_select(self, index: int) -> None:
        """A click on the canvas: the nearest user's index, or -1 for none."""
        if self.on_select is not None:
            self.on_select(int(index))


class TimeChart(v.VuetifyTemplate):
    """An ECharts chart over the scenario's days (see the module docstring)."""

    template = traitlets.Unicode(chart_vue.TEMPLATE).tag(sync=True)

    lib = traitlets.Unicode(ECHARTS).tag(sync=True)
    # The chart's shape, as JSON: {option (grids, axes, titles and the series' ids, names and styles), units
    # (series id -> '%' or ''), legend ({name, colour, stroke, dash, marker, help}), labels (each day's axis
    # label), titles (each day's hover title), news ({day, when, kind, note, colour, fired} per event), observed
    # ({day, label, text} per observed value), floor (values at or below it show as "< floor%")}. JSON text,
    # not a dict: the page's renderer walks every list inside a dict on every render.
    spec_json = traitlets.Unicode("{}").tag(sync=True)
    series_json = traitlets.Unicode("{}").tag(sync=True)  # series id -> values by day, or [day, value] pairs
    height = traitlets.Unicode("480px").tag(sync=True)
    day = traitlets.Int(0).tag(sync=True)  # the day the data reach (set on the chart once applied)

