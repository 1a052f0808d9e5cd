"""The interactive page: ``solara run sim/viz/app.py`` (or ``sim viz``) serves the module-level ``page``.

Layout: the sidebar holds Mesa's run controls (Reset, Play/Pause, Step), the live event buttons and the
scenario and parameter inputs; the main area shows today's numbers, the social network, the live charts and
the event timeline.

Each browser session gets its own model. Mesa's ``SolaraViz(model)`` shares one module-level model between
every tab, so this page is a component that builds the model inside the session (``use_memo`` in
:func:`Page`) and uses SolaraViz's own ``ModelController`` for Reset / Play / Pause / Step: Reset builds a
new :class:`~sim.viz.session.VizModel` from the inputs' values, as in SolaraViz. The inputs are this
module's own (Mesa's ``ModelCreator`` cannot show slider values or reset them when the scenario changes).
"""

# Solara components are named in CapWords, like the classes they stand for (solara looks for ``Page``).
# ruff: noqa: N802

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

from sim.config import ConfigError
from sim.dates import date_of
from sim.viz.drawing import ALARMING_KINDS, ChartPicture, NetworkPicture
from sim.viz.session import (
    BEHAVIOUR_SLIDERS,
    LIVE_EVENTS,
    MAX_N,
    ScenarioChoice,
    VizModel,
    default_choice,
    defaults_for,
    list_choices,
    network_kinds,
    parse_choice,
)

__all__ = ["EventButtons", "NetworkView", "Page", "ParameterInputs", "RunControls", "ScenarioPicker",
           "SeriesView", "StatusBar", "TimelineView", "initial_params", "page"]

TITLE = "Cyber exile: messenger choice under surveillance"
MIN_N = 100
#: Shown on the timeline, most recent first / soonest first.
TIMELINE_ROWS = 6

_TILE = {"padding": "2px 10px", "border-left": "4px solid #d0d0d0"}
_TILE_LABEL = {"font-size": "12px", "color": "#666", "text-transform": "uppercase", "letter-spacing": "0.03em",
               "white-space": "nowrap"}
_TILE_VALUE = {"font-size": "20px", "font-weight": "600", "line-height": "1.3", "white-space": "nowrap"}


# Sidebar -----------------------------------------------------------------------------------------------------
def initial_params(choice: str) -> dict[str, Any]:
    """The inputs' starting values for a scenario: :class:`VizModel`'s keyword arguments (what Reset passes
    back to it), with the scenario's own values."""
    return {"config": choice, **defaults_for(parse_choice(choice))}


def _fmt(value: float, step: float) -> str:
    decimals = max(0, -int(np.floor(np.log10(step)))) if step < 1 else 0
    return f"{value:.{decimals}f}"


@solara.component
def RunControls(model: solara.Reactive[VizModel], params: solara.Reactive[dict[str, Any]]) -> None:
    """Mesa's Reset / Play-Pause / Step (SolaraViz's ModelController), with the play speed."""
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    ModelController(model, model_parameters=params, play_interval=play_interval,
                    render_interval=render_interval, use_threads=use_threads)
    solara.SliderInt(f"Play interval {play_interval.value} ms", value=play_interval, min=10, max=1000, step=10)
    solara.SliderInt(f"Days per frame {render_interval.value}", value=render_interval, min=1, max=20)


@solara.component
def EventButtons(model: VizModel) -> None:
    """One button per live event; a pressed event acts on the next step (queued until then)."""
    update_counter.get()  # the queue empties when the model steps
    _, set_presses = solara.use_state(0)

    def fire(key: str) -> Callable[[], None]:
        def on_click() -> None:
            model.fire(key)
            set_presses(lambda k: k + 1)  # re-render only this panel, not the pictures

        return on_click

    for event in LIVE_EVENTS:
        colour = "#D55E00" if event.kind in ALARMING_KINDS else "#0072B2"
        with solara.Tooltip(event.help):
            solara.Button(event.label, on_click=fire(event.key), outlined=True, color=colour, block=True,
                          style={"text-transform": "none", "margin": "3px 0", "letter-spacing": "normal"})
    if model.pending:
        queued = ", ".join(e.label for e in model.pending)
        solara.Text(f"Queued for day {model.day + 1}: {queued}", classes=["viz-queued"],
                    style={"font-size": "13px", "color": "#D55E00"})
    else:
        solara.Text("An event acts on the next step", style={"font-size": "13px", "color": "#666"})


@solara.component
def ScenarioPicker(choices: list[ScenarioChoice], choice: str, on_choice: Callable[[str], None]) -> None:
    """The configs in experiments/ and their named scenarios; picking one loads it at once."""
    labels = {c.label: c.value for c in choices}
    current = parse_choice(choice)
    if current.value not in labels.values():
        labels = {current.label: current.value, **labels}
    by_value = {v: k for k, v in labels.items()}
    solara.Select("Scenario", values=list(labels), value=by_value[current.value],
                  on_value=lambda label: on_choice(labels[label]))


@solara.component
def ParameterInputs(params: solara.Reactive[dict[str, Any]]) -> None:
    """Users, network, behaviour sliders and seed; they set what the next Reset builds."""
    values = params.value

    def setter(key: str) -> Callable[[Any], None]:
        def on_value(value: Any) -> None:
            params.value = {**params.value, key: value}

        return on_value

    if values["network_kind"] != "file":  # a graph file fixes the number of users
        solara.SliderInt(f"Users N = {values['n']:,}", value=values["n"], min=MIN_N, max=MAX_N, step=100,
                         on_value=setter("n"))
    solara.Select("Network", values=network_kinds(values["network_kind"]), value=values["network_kind"],
                  on_value=setter("network_kind"))
    for key, (label, lo, hi, step) in BEHAVIOUR_SLIDERS.items():
        solara.SliderFloat(f"{label} = {_fmt(values[key], step)}", value=values[key], min=lo, max=hi,
                           step=step, on_value=setter(key))
    # Text, as in SolaraViz: digits are the seed, any other text is hashed to one (VizModel coerces it)
    solara.InputText("Seed", value=str(values["rng"]), on_value=setter("rng"), continuous_update=True)
    solara.Text("Press Reset to apply", style={"font-size": "13px", "color": "#666"})


# Main area ---------------------------------------------------------------------------------------------------
@solara.component
def _Tile(label: str, value: str, colour: str = "#d0d0d0", value_class: str = "") -> None:
    with solara.Column(gap="0px", style={**_TILE, "border-left-color": colour}):
        solara.Text(label, style=_TILE_LABEL)
        solara.Text(value, style=_TILE_VALUE, classes=[value_class] if value_class else [])


@solara.component
def Heading(model: VizModel) -> None:
    """The scenario's name and description, and the run's seed."""
    exp = model.config.experiment
    text = f"<b>{html.escape(model.choice.label)}</b>" + (f": {html.escape(exp.description)}"
                                                         if exp.description else "")
    solara.HTML(tag="div", unsafe_innerHTML=f"{text} · seed {model.run_seed}", style={"font-size": "15px"})


@solara.component
def StatusBar(model: VizModel) -> None:
    """Today: day, date, mean alarm, active share per platform, multi-homing and exits."""
    update_counter.get()
    row = model.records[-1]
    names, inc = model.platforms.names, model.platforms.incumbent
    colours, labels = model.platforms.colours, model.platforms.labels
    date = model.date
    with solara.Row(gap="10px", style={"flex-wrap": "wrap", "align-items": "stretch"}):
        _Tile("Day", str(model.day), "#333333", "viz-day")
        _Tile("Date", f"{date:%a %-d %b %Y}" if date else "—", "#333333", "viz-date")
        _Tile("Mean alarm", f"{row['mean_alarm']:.4f}", "#D55E00", "viz-mean-alarm")
        for k, p in enumerate(names):
            _Tile(f"On {labels[k]}", f"{100 * row[f'active_{p}']:.1f}%", colours[k], f"viz-active-{p}")
        _Tile("2+ apps", f"{100 * row['multihoming']:.1f}%", "#444444", "viz-multihoming")
        _Tile(f"Left {labels[inc]}", f"{100 * row[f'exit_{names[inc]}']:.1f}%", "#111111",
              "viz-exit")


@solara.component
def NetworkView(model: VizModel) -> None:
    """The social network, redrawn each day from cached positions (see sim.viz.drawing.NetworkPicture)."""
    update_counter.get()
    picture = solara.use_memo(
        lambda: NetworkPicture(model.graph, model.layout, model.platforms.names, model.platforms.incumbent,
                               labels=model.platforms.labels, colours=model.platforms.colours),
        [model])
    png = solara.use_memo(lambda: picture.render(**_drawn_state(model)), [model, model.day])
    with solara.Card("Social network", subtitle=f"{model.n:,} users, coloured by main messenger", margin=0):
        solara.Image(png, width="100%", classes=["viz-network"])


def _drawn_state(model: VizModel) -> dict[str, Any]:
    state = model.state
    return {"active": state["active"], "primary": state["primary"], "ever": state["ever"]}


@solara.component
def SeriesView(model: VizModel) -> None:
    """Live charts: active share per platform and mean alarm, with the fired events marked."""
    update_counter.get()
    last_day = max(model.config.experiment.steps, model.day)
    start = model.config.experiment.start_date
    picture = solara.use_memo(
        lambda: ChartPicture(model.platforms.names, model.platforms.incumbent, last_day,
                             date_of(start, 0), labels=model.platforms.labels, colours=model.platforms.colours),
        [model])
    png = solara.use_memo(lambda: picture.render(model.records, model.timeline.fired(model.day), last_day),
                          [model, model.day])
    with solara.Card("Over time", subtitle="dotted lines: alarming news (red), other events (grey)", margin=0):
        solara.Image(png, width="100%", classes=["viz-charts"])


def _event_rows(model: VizModel, events: list[tuple[int, str, str]]) -> str:
    """An HTML table of (day, kind, note) rows (solara's Markdown would pull mermaid.js from the CDN)."""
    start = model.config.experiment.start_date
    rows = []
    for day, kind, note in events:
        date = date_of(start, day)
        when = f"{day}&nbsp;·&nbsp;{date:%-d&nbsp;%b}" if date else str(day)
        colour = "#D55E00" if kind in ALARMING_KINDS else "#0072B2"
        rows.append(f"<tr><td style='white-space:nowrap;padding:3px 10px 3px 0'>{when}</td>"
                    f"<td style='white-space:nowrap;padding:3px 10px 3px 0;color:{colour}'>"
                    f"{html.escape(kind.replace('_', ' '))}</td>"
                    f"<td style='padding:3px 0;color:#444'>{html.escape(note)}</td></tr>")
    return ("<table style='border-collapse:collapse;font-size:13px;width:100%'>"
            "<tr style='color:#666;text-align:left'><th>Day</th><th>Event</th><th>Note</th></tr>"
            + "".join(rows) + "</table>")


@solara.component
def TimelineView(model: VizModel) -> None:
    """What has fired (most recent first) and what comes next (queued live events first)."""
    update_counter.get()
    fired = model.timeline.fired(model.day)
    recent = [(e.day, e.kind, e.note) for e in fired[::-1][:TIMELINE_ROWS]]
    upcoming = [(model.day + 1, e.kind, "queued from the page") for e in model.pending]
    upcoming += [(e.day, e.kind, e.note) for e in model.timeline.upcoming(model.day)]
    with solara.Card("Event timeline", margin=0), solara.Columns([1, 1]):
        with solara.Column(classes=["viz-fired"]):
            solara.Text(f"Fired ({len(fired)})", style=_TILE_LABEL)
            if recent:
                solara.HTML(tag="div", unsafe_innerHTML=_event_rows(model, recent))
            else:
                solara.Text("nothing yet", style={"color": "#666"})
        with solara.Column(classes=["viz-upcoming"]):
            solara.Text(f"Next ({len(upcoming)})", style=_TILE_LABEL)
            if upcoming:
                solara.HTML(tag="div", unsafe_innerHTML=_event_rows(model, upcoming[:TIMELINE_ROWS]))
            else:
                solara.Text("no more events", style={"color": "#666"})


# The page ----------------------------------------------------------------------------------------------------
@solara.component
def Page() -> None:
    """The whole page, one per browser session (each session builds and owns its model)."""
    choices = solara.use_memo(list_choices, [])
    choice = solara.use_reactive(default_choice().value)
    first = solara.use_memo(lambda: initial_params(choice.value), [])
    params = solara.use_reactive(first)
    model = solara.use_reactive(solara.use_memo(lambda: VizModel(**first), []))
    error = solara.use_reactive("")

    def on_choice(value: str) -> None:
        try:
            fresh = initial_params(value)
            new = VizModel(**fresh)
        except (ConfigError, ValueError) as exc:
            error.value = str(exc)
            return
        error.value = ""
        choice.value = value
        params.value = fresh
        model.value = new
        force_update()

    solara.Title("Cyber exile")
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run", margin=0):
            RunControls(model, params)
        with solara.Card("Fire an event", margin=0):
            EventButtons(model.value)
        with solara.Card("Scenario and parameters", margin=0):
            ScenarioPicker(choices, choice.value, on_choice)
            if error.value:
                solara.Error(error.value)
            ParameterInputs(params)
    with solara.Column(style={"padding": "4px 12px", "max-width": "1500px"}):
        Heading(model.value)
        StatusBar(model.value)
        with solara.Columns([1, 1], gutters_dense=True):
            NetworkView(model.value)
            SeriesView(model.value)
        TimelineView(model.value)


#: What ``solara run sim/viz/app.py`` serves (solara also finds ``Page``).
page = Page
