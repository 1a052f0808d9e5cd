"""The interactive page: ``solara run sim.viz.app`` (or ``sim viz``) serves the module-level ``page``.

Layout: the sidebar holds the run controls (Reset, Play/Pause, Step, play interval, days per frame), the live
event buttons, the scenario list and the parameters (which take effect on Reset and are flagged as pending
until then), and the exports (CSV, Save run). The main area shows today's numbers, the social network with the
user inspector, the charts over time (the episode's observed data in their own chart) and the event timeline.

Each browser session gets its own model: the page is a component that builds the model inside the session
(``use_memo`` in :func:`Page`), where Mesa's ``SolaraViz(model)`` would share one module-level model between
every tab. The run controls are the page's own, on the pattern of SolaraViz's ``ModelController`` (a threaded
task steps the model and calls Mesa's ``force_update``): they also stop the run on the scenario's last day,
show the progress of a long frame, rebuild the exact config on Reset when no control changed, and show a bad
seed or a config that cannot be built at the chosen size as a message instead of replacing the page with a
traceback.
"""

# Solara components are named in CapWords, like the classes they stand for (solara looks for ``Page``).
# ruff: noqa: N802

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import solara
from mesa.visualization.utils import force_update, update_counter
from reacton.core import get_render_context

from sim.config import ConfigError
from sim.dates import date_of
from sim.viz.drawing import (
    ALARM_COLOUR,
    ALARMING_KINDS,
    ENGAGED_COLOUR,
    ObservedPanel,
    b64,
    event_colour,
    main_chart,
    main_series,
    network_static,
    observed_chart,
    observed_panels,
    observed_series,
    state_codes,
    to_json,
)
from sim.viz.export import ExportError, csv_name, save_run, timeseries_csv
from sim.viz.session import (
    BEHAVIOUR_SLIDERS,
    LIVE_EVENTS,
    MAX_N,
    MIN_N,
    ScenarioInfo,
    SeedError,
    UserReport,
    VizModel,
    default_choice,
    defaults_for,
    describe,
    list_choices,
    model_kwargs,
    network_kinds,
    parse_choice,
    parse_seed,
    pending_changes,
    slider_values,
)
from sim.viz.widgets import NetworkCanvas, TimeChart

__all__ = ["EndNotice", "EventButtons", "ExportPanel", "Heading", "Inspector", "Layout", "NetworkView", "ObservedView",
           "Page", "ParameterInputs", "QueuedNote", "RunControls", "ScenarioPicker", "SeriesView", "StatusBar",
           "TimelineView", "page"]

TITLE = "Cyber exile: messenger choice under surveillance"
#: The network shows a sample of this many users by default above twice as many.
SAMPLE_SIZE = 1000
SHOW_ALL, SHOW_SAMPLE = "all users", f"a sample of {SAMPLE_SIZE:,} users"
SHOW_NEIGHBOURS = "the selected user's neighbourhood"
#: A frame that has run this long shows its progress (seconds).
PROGRESS_AFTER_S = 0.25

_TILE_LABEL = {"font-size": "12px", "color": "#666", "text-transform": "uppercase", "letter-spacing": "0.03em",
               "white-space": "nowrap"}
_NOTE = {"font-size": "13px", "color": "#666"}
_CSS = """
.viz-list { max-height: 320px; overflow-y: auto; }
.viz-tiles { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: stretch; }
.viz-tile { padding: 2px 10px; border-left: 4px solid #d0d0d0; }
.viz-tile-label { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: 0.03em;
                  white-space: nowrap; }
.viz-tile-value { font-size: 20px; font-weight: 600; line-height: 1.3; white-space: nowrap; }
.viz-close-controls { display: none !important; }
@media (max-width: 959px) {
  .v-navigation-drawer--is-mobile { min-width: 0 !important; width: calc(100vw - 48px) !important;
                                    max-width: 420px !important; }
  .viz-close-controls { display: inline-flex !important; }
}
.viz-legend-net { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 13px; margin-top: 4px; }
.viz-legend-net span { display: inline-flex; align-items: center; gap: 4px; }
.viz-inspector table { border-collapse: collapse; font-size: 13px; }
.viz-inspector td { padding: 1px 10px 1px 0; vertical-align: top; }
"""

#: Per session: whether the sidebar is open (None: as the screen's width suggests, closed on a phone).
_sidebar = solara.reactive(None)


# Layout --------------------------------------------------------------------------------------------------------
@solara.component
def Layout(children: list[Any] | None = None) -> None:
    """solara's AppLayout, with the sidebar open on wide screens and closed on phones at first."""
    solara.AppLayout(children=children or [], sidebar_open=_sidebar.value)


def _close_sidebar() -> None:
    # None and False both close the drawer on a phone (where alone this button shows); alternating them makes
    # each press a change the layout sees, whatever the drawer did in between
    _sidebar.value = False if _sidebar.value is None else None


# Sidebar -------------------------------------------------------------------------------------------------------
@solara.component
def RunControls(model: solara.Reactive[VizModel], playing: solara.Reactive[bool], on_reset: Callable[[], None],
                on_error: Callable[[str], None], pending: list[str]) -> None:
    """Reset / Play-Pause / Step, what Reset would change, a long frame's progress, and the play speed.

    The stepping lives here, not in :func:`Page`: a step changes only this component's state and Mesa's
    ``update_counter`` (which the panels showing the run read), so the rest of the page is not rendered again.
    """
    update_counter.get()
    steps = solara.use_reactive(0)  # Step presses
    busy = solara.use_reactive(False)
    progress = solara.use_reactive("")
    play_interval = solara.use_reactive(100)
    days_per_frame = solara.use_reactive(1)
    lock = solara.use_memo(threading.Lock, [])
    # Changes made together are rendered together: every component that reads Mesa's update_counter is one
    # listener, and outside a batch each would render the whole page on its own.
    batch = get_render_context()

    def run_frame() -> None:
        """Step one frame (days per frame, stopping at the scenario's end), showing a long frame's progress;
        the page is rendered once, at the end."""
        with lock:
            m = model.value
            todo = m.days_to_run(days_per_frame.value)
            start, shown = time.perf_counter(), 0.0
            failed = ""
            try:
                for done in range(1, todo + 1):
                    m.step()
                    now = time.perf_counter() - start
                    if done < todo and now > PROGRESS_AFTER_S and now - shown > 0.1:
                        progress.set(f"Running day {m.day} of {m.day - done + todo} ({done} of {todo} days)")
                        shown = now
            except (FloatingPointError, ValueError) as exc:
                failed = f"The run stopped on day {m.day}: {exc}"
            with batch:
                if failed:
                    on_error(failed)
                if failed or m.at_end:
                    playing.set(False)
                progress.set("")
                busy.set(False)
                force_update()

    def frames() -> None:
        if playing.value:
            while playing.value and not model.value.at_end:
                start = time.perf_counter()
                run_frame()
                rest = play_interval.value / 1000 - (time.perf_counter() - start)
                if rest > 0:
                    time.sleep(rest)
            playing.set(False)
        elif steps.value:
            run_frame()

    def step() -> None:
        if days_per_frame.value == 1:  # one day is quick: stepped and drawn in one render, here
            run_frame()
            return
        with batch:  # Step is disabled until the frame is drawn, in the same render as the press
            busy.set(True)
            steps.set(steps.value + 1)

    solara.lab.use_task(frames, dependencies=[playing.value, steps.value], prefer_threaded=True)

    stopped = model.value.at_end
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=on_reset)
        solara.Button("❚❚" if playing.value else "▶", color="primary", disabled=stopped and not playing.value,
                      on_click=lambda: playing.set(not playing.value))
        solara.Button("Step", color="primary", on_click=step, disabled=playing.value or busy.value or stopped)
    if pending:
        solara.Text(f"{'; '.join(pending)}: press Reset to apply", classes=["viz-pending"],
                    style={"font-size": "13px", "color": "#D55E00", "font-weight": "600"})
    if progress.value:
        solara.Text(progress.value, classes=["viz-progress"], style=_NOTE)
    solara.SliderInt(f"Play interval {play_interval.value} ms", value=play_interval, min=0, max=1000, step=25)
    solara.SliderInt(f"Days per frame {days_per_frame.value}", value=days_per_frame, min=1, max=20)


@solara.component
def EventButtons(model: VizModel) -> None:
    """One button per live event; a pressed event acts on the next step (queued until then)."""

    def fire(key: str) -> Callable[[], None]:
        def on_click() -> None:
            model.fire(key)
            force_update()  # the timeline lists the queued event too

        return on_click

    for event in LIVE_EVENTS:
        colour = ALARM_COLOUR if event.kind in ALARMING_KINDS else "#0072B2"
        with solara.Tooltip(event.help):
            solara.Button(event.label, on_click=fire(event.key), outlined=True, color=colour, block=True,
                          style={"text-transform": "none", "margin": "3px 0", "letter-spacing": "normal"})
    QueuedNote(model)


@solara.component
def QueuedNote(model: VizModel) -> None:
    """The events queued for the next step (the queue empties when the model steps)."""
    update_counter.get()
    if model.pending:
        queued = ", ".join(e.label for e in model.pending)
        solara.Text(f"Queued for day {model.day + 1}: {queued}", classes=["viz-queued"],
                    style={"font-size": "13px", "color": "#D55E00"})
    else:
        solara.Text("An event acts on the next step", style=_NOTE)


@solara.component
def ScenarioPicker(infos: list[ScenarioInfo], choice: str, on_choice: Callable[[str], None]) -> None:
    """Every config in experiments/ and its named scenarios, with dates and what the page runs of each; picking
    one loads it at once. Below: the chosen one's description and what the page runs."""
    current = parse_choice(choice)
    if current not in [i.choice for i in infos]:
        infos = [describe(current), *infos]
    labels = {i.label: i for i in infos}
    chosen = next(i for i in infos if i.choice == current)
    solara.Select("Scenario", values=list(labels), value=chosen.label,
                  on_value=lambda label: on_choice(labels[label].choice.value))
    text = (f"<b>{html.escape(chosen.choice.label)}</b>, {html.escape(chosen.dates)}"
            + (f": {html.escape(chosen.description)}" if chosen.description else "")
            + f"<br>{html.escape(chosen.page_runs)}")
    solara.HTML(tag="div", unsafe_innerHTML=text, classes=["viz-scenario-info"],
                style={"font-size": "13px", "color": "#444", "margin-bottom": "8px"})


def _slider_label(key: str, value: float) -> str:
    return f"{BEHAVIOUR_SLIDERS[key][0]} = {value:.4g}"


@solara.component
def ParameterInputs(controls: solara.Reactive[dict[str, Any]], defaults: dict[str, Any], seed_error: str) -> None:
    """Users, network, behaviour sliders and seed; they set what the next Reset builds. Each slider's positions
    include the scenario's own value, so an untouched slider holds it exactly."""
    values = controls.value

    def setter(key: str, positions: list[Any] | None = None) -> Callable[[Any], None]:
        def on_value(value: Any) -> None:
            controls.value = {**controls.value, key: positions[int(value)] if positions else value}

        return on_value

    if values["network_kind"] != "file":  # a graph file fixes the number of users
        sizes = sorted(set(range(MIN_N, MAX_N + 1, 100)) | {defaults["n"]})
        solara.SliderInt(f"Users N = {values['n']:,}", value=sizes.index(values["n"]), min=0, max=len(sizes) - 1,
                         on_value=setter("n", sizes))
    solara.Select("Network", values=network_kinds(values["network_kind"]), value=values["network_kind"],
                  on_value=setter("network_kind"))
    for key in BEHAVIOUR_SLIDERS:
        positions = slider_values(key, defaults[key])
        solara.SliderInt(_slider_label(key, values[key]), value=positions.index(values[key]), min=0,
                         max=len(positions) - 1, on_value=setter(key, positions))
    solara.InputText("Seed", value=str(values["rng"]), on_value=setter("rng"), continuous_update=True,
                     error=bool(seed_error))
    if seed_error:
        solara.Text(seed_error, classes=["viz-seed-error"], style={"font-size": "13px", "color": "#B00020"})
    else:
        solara.Text(f"A whole number; blank: the scenario's seed ({defaults['rng']}). Press Reset to apply.",
                    style=_NOTE)


@solara.component
def ExportPanel(model: VizModel) -> None:
    """The run's time series as CSV, and Save run (a results folder that sim plot reads)."""
    update_counter.get()
    message, set_message = solara.use_state("")
    failed, set_failed = solara.use_state(False)

    def save() -> None:
        try:
            root = save_run(model)
        except ExportError as exc:
            set_failed(True)
            set_message(str(exc))
            return
        set_failed(False)
        set_message(f"Saved day 0-{model.day} to {root} (read it with: sim plot {root})")

    solara.FileDownload(lambda: timeseries_csv(model), filename=csv_name(model), label="Download CSV",
                        mime_type="text/csv")
    solara.Button("Save run", on_click=save, outlined=True, color="primary", block=True,
                  style={"margin-top": "6px"})
    if message:
        solara.Text(message, classes=["viz-saved"],
                    style={"font-size": "13px", "color": "#B00020" if failed else "#1B5E20", "word-break": "break-all"})
    else:
        solara.Text("Save run writes a results folder as sim run does", style=_NOTE)


# Main area -----------------------------------------------------------------------------------------------------
def _tile(label: str, value: str, colour: str, css: str) -> str:
    return (f"<div class='viz-tile' style='border-left-color:{colour}'>"
            f"<div class='viz-tile-label'>{html.escape(label)}</div>"
            f"<div class='viz-tile-value {css}'>{html.escape(value)}</div></div>")


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
    tiles = [_tile("Day", str(model.day), "#333333", "viz-day"),
             _tile("Date", f"{date:%a %-d %b %Y}" if date else "—", "#333333", "viz-date"),
             _tile("Mean alarm", f"{row['mean_alarm']:.4f}", "#D55E00", "viz-mean-alarm")]
    tiles += [_tile(f"On {labels[k]}", f"{100 * row[f'active_{p}']:.1f}%", colours[k], f"viz-active-{p}")
              for k, p in enumerate(names)]
    tiles += [_tile("2+ apps", f"{100 * row['multihoming']:.1f}%", "#444444", "viz-multihoming"),
              _tile(f"Left {labels[inc]}", f"{100 * row[f'exit_{names[inc]}']:.1f}%", "#111111", "viz-exit")]
    # one widget for all the tiles: the page renders every changed widget again each day
    solara.HTML(tag="div", unsafe_innerHTML="".join(tiles), classes=["viz-tiles"])


@solara.component
def EndNotice(model: VizModel) -> None:
    """At the scenario's last day: the run stopped, and a button to go on past it."""
    update_counter.get()
    end = date_of(model.config.experiment.start_date, model.last_day)
    when = f"day {model.last_day}" + (f" ({end:%-d %b %Y})" if end else "")

    def go_on() -> None:
        model.past_end = True
        force_update()

    if model.at_end:
        with solara.Row(classes=["viz-end"], style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(f"End of the scenario: the run stopped on its last day, {when}.",
                        style={"font-weight": "600"})
            solara.Button("Continue past the end", on_click=go_on, outlined=True, color="primary")
    elif model.past_end and model.day > model.last_day:
        solara.Text(f"Running past the scenario's end ({when}): no events are scheduled there.",
                    classes=["viz-past-end"], style=_NOTE)


def _legend_html(model: VizModel) -> str:
    labels, colours = model.platforms.labels, model.platforms.colours
    dot = "<svg width='14' height='14' aria-hidden='true'>{}</svg>"
    items = [f"<span>{dot.format(f'<circle cx=7 cy=7 r=5 fill={c!r}/>')}main app: {html.escape(label)}</span>"
             for label, c in zip(labels, colours, strict=True)]
    items.append(f"<span>{dot.format('<circle cx=7 cy=7 r=4.5 fill=#bbbbbb stroke=#111 stroke-width=2.4/>')}"
                 "dark ring: uses 2+ apps (see the inspector for which)</span>")
    items.append(f"<span>{dot.format('<path d=\"M7 1 L13 7 L7 13 L1 7 Z\" fill=#bbbbbb stroke=#111/>')}"
                 f"diamond: has left {html.escape(labels[model.platforms.incumbent])}</span>")
    items.append(f"<span>{dot.format('<circle cx=7 cy=7 r=4.5 fill=white stroke=#111/>')}white: on no app</span>")
    if model.graph.engaged is not None and model.graph.engaged.any():
        items.append(f"<span>{dot.format(f'<circle cx=7 cy=7 r=7 fill={ENGAGED_COLOUR!r} fill-opacity=0.3/>')}"
                     "pink shading: the engaged community</span>")
    return "".join(items)


@solara.component
def NetworkView(model: VizModel, selected: solara.Reactive[int]) -> None:
    """The social network: positions and edges sent once per graph, one byte per user per day; a click on a
    user selects it for the inspector and highlights its contacts."""
    update_counter.get()
    static = solara.use_memo(lambda: network_static(model.graph, model.layout), [model])
    default_show = SHOW_ALL if model.n <= 2 * SAMPLE_SIZE else SHOW_SAMPLE
    show = solara.use_reactive(default_show)
    solara.use_effect(lambda: show.set(default_show), [model])
    options = [SHOW_ALL] + ([SHOW_SAMPLE] if model.n > SAMPLE_SIZE else [])
    options += [SHOW_NEIGHBOURS] if selected.value >= 0 else []
    shown_kind = show.value if show.value in options else SHOW_ALL
    mask = solara.use_memo(lambda: _shown(model, shown_kind, selected.value), [model, shown_kind, selected.value])
    state = model.state
    codes = state_codes(state["active"], state["primary"], state["ever"], model.platforms.incumbent)
    contacts = model.contacts(selected.value).tolist() if selected.value >= 0 else []
    solara.Select("Show", values=options, value=shown_kind, on_value=show.set)
    NetworkCanvas.element(**static, shown=mask, colours=list(model.platforms.colours), state=codes,
                          day=model.day, selected=selected.value, contacts=contacts,
                          label=f"Social network of {model.n:,} users on day {model.day}", on_select=selected.set)


def _shown(model: VizModel, kind: str, selected: int) -> str:
    """The users drawn, as the widget's ``shown`` trait ('' for all)."""
    if kind == SHOW_SAMPLE:
        mask = model.sample(SAMPLE_SIZE)
        if selected >= 0:
            mask[selected] = True
            mask[model.contacts(selected)] = True
    elif kind == SHOW_NEIGHBOURS and selected >= 0:
        mask = model.neighbourhood(selected)
    else:
        return ""
    return b64(mask.astype(np.uint8))


def _report_html(model: VizModel, r: UserReport) -> str:
    labels, colours = model.platforms.labels, model.platforms.colours

    def row(name: str, value: str, css: str) -> str:
        return f"<tr><td>{name}</td><td class='{css}'>{value}</td></tr>"

    shares = ", ".join(f"<span style='color:{c}'>{html.escape(label)}</span> "
                       f"<b class='viz-share-{k}'>{100 * r.contact_shares[label]:.1f}%</b>"
                       for k, (label, c) in enumerate(zip(labels, colours, strict=True)))
    tastes = ", ".join(f"{html.escape(label)} {r.taste[label]:+.3f}" for label in labels)
    rows = [row("user", f"#{r.node}" + (" (engaged community)" if r.engaged else ""), "viz-user"),
            row("alarm", f"{r.alarm:.4f}", "viz-user-alarm")]
    if r.salience is not None:
        rows.append(row("salience", f"{r.salience:.4f}", "viz-user-salience"))
    rows += [row("uses", html.escape(", ".join(r.uses) or "no app"), "viz-user-uses"),
             row("main app", html.escape(r.primary or "none"), "viz-user-primary"),
             row("ever used", html.escape(", ".join(r.ever) or "none"), "viz-user-ever"),
             row("concern", f"{r.concern:.4f}", "viz-user-concern"),
             row("attention", f"{r.attention:.4f}", "viz-user-attention"),
             row("inertia", f"{r.inertia:.4f}", "viz-user-inertia"),
             row("threshold", f"{r.threshold:.4f}", "viz-user-threshold"),
             row("taste", tastes, "viz-user-taste"),
             row("contacts", f"{r.degree}, of whom active on: {shares}", "viz-user-contacts")]
    return "<table>" + "".join(rows) + "</table>"


@solara.component
def Inspector(model: VizModel, selected: solara.Reactive[int]) -> None:
    """NetLogo's "inspect turtle": the selected user's traits, alarm, platforms and contacts, as of today."""
    update_counter.get()
    if selected.value < 0 or selected.value >= model.n:
        solara.Text("Click a user in the network to see its traits, alarm, platforms and contacts "
                    "(its contacts are highlighted).", style=_NOTE)
        return
    solara.HTML(tag="div", unsafe_innerHTML=_report_html(model, model.user_report(selected.value)))
    solara.Button("Clear selection", on_click=lambda: selected.set(-1), text=True, color="primary")


def _x_last(model: VizModel) -> int:
    """The charts' last day: the scenario's, then in steps of 30 days past it (so the axes change rarely)."""
    if model.day <= model.last_day:
        return model.last_day
    return model.last_day + 30 * -(-(model.day - model.last_day) // 30)


@solara.component
def SeriesView(model: VizModel) -> None:
    """Live charts: active share per platform and mean alarm, every event's day marked (hover for its note)."""
    update_counter.get()
    x_last, fired = _x_last(model), len(model.timeline.fired(model.day))
    spec = solara.use_memo(
        lambda: main_chart(model.platforms.names, model.platforms.labels, model.platforms.colours,
                           model.platforms.incumbent, x_last, date_of(model.config.experiment.start_date, 0),
                           [e.spec for e in model.timeline.events], model.day, model.last_day).traits(),
        [model, x_last, fired, len(model.timeline.events)])
    data = to_json(main_series(model.records, model.platforms.names))
    with solara.Div(classes=["viz-charts"]):
        TimeChart.element(**spec, series_json=data, day=model.day)


@solara.component
def ObservedView(model: VizModel, panels: list[ObservedPanel]) -> None:
    """The episode's observed data (its config's [observed] series), one kind at a time, against this run."""
    update_counter.get()
    chosen = solara.use_reactive(0)
    index = chosen.value if chosen.value < len(panels) else 0
    panel = panels[index]
    x_last, fired = _x_last(model), len(model.timeline.fired(model.day))
    spec = solara.use_memo(
        lambda: observed_chart(panel, model.platforms.names, model.platforms.colours, model.platforms.incumbent,
                               x_last, date_of(model.config.experiment.start_date, 0),
                               [e.spec for e in model.timeline.events], model.day).traits(),
        [model, index, x_last, fired, len(model.timeline.events)])
    data = to_json(observed_series(panel, model.config, model.timeseries()))
    titles = [p.title for p in panels]
    solara.Select("Data", values=titles, value=titles[index], on_value=lambda t: chosen.set(titles.index(t)))
    solara.Text(f"Open markers: the episode's observed series ({len(panels[index].series)} here); line or "
                "filled markers: this run's counterpart (the model expression each series is compared with). "
                "One run at page size is noisy: sim run and sim validate compare many.", style=_NOTE)
    with solara.Div(classes=["viz-observed"]):
        TimeChart.element(**spec, series_json=data, day=model.day)


def _event_rows(model: VizModel, events: list[tuple[int, str, str]]) -> str:
    """An HTML table of (day, kind, note) rows (solara's Markdown would pull mermaid.js from the CDN)."""
    start = model.config.experiment.start_date
    rows = []
    for day, kind, note in events:
        date = date_of(start, day)
        when = f"{day}&nbsp;·&nbsp;{date:%-d&nbsp;%b}" if date else str(day)
        rows.append(f"<tr><td style='white-space:nowrap;padding:3px 10px 3px 0'>{when}</td>"
                    f"<td style='white-space:nowrap;padding:3px 10px 3px 0;color:{event_colour(kind)}'>"
                    f"{html.escape(kind.replace('_', ' '))}</td>"
                    f"<td style='padding:3px 0;color:#444'>{html.escape(note)}</td></tr>")
    return ("<table style='border-collapse:collapse;font-size:13px;width:100%'>"
            "<tr style='color:#666;text-align:left'><th>Day</th><th>Event</th><th>Note</th></tr>"
            + "".join(rows) + "</table>")


@solara.component
def TimelineView(model: VizModel) -> None:
    """What has fired (most recent first) and what comes next (queued live events first), every row in a list
    that scrolls."""
    update_counter.get()
    fired = model.timeline.fired(model.day)
    recent = [(e.day, e.kind, e.note) for e in fired[::-1]]
    upcoming = [(model.day + 1, e.kind, f"{e.label}: queued from the page") for e in model.pending]
    upcoming += [(e.day, e.kind, e.note) for e in model.timeline.upcoming(model.day)]
    with solara.ColumnsResponsive(12, large=6):
        for title, rows, css, empty in (("Fired", recent, "viz-fired", "nothing yet"),
                                        ("Next", upcoming, "viz-upcoming", "no more events")):
            with solara.Column(classes=[css]):
                solara.Text(f"{title} ({len(rows)})", style=_TILE_LABEL)
                if rows:
                    solara.HTML(tag="div", unsafe_innerHTML=_event_rows(model, rows), classes=["viz-list"])
                else:
                    solara.Text(empty, style={"color": "#666"})


# The page ------------------------------------------------------------------------------------------------------
def _seed_error(controls: dict[str, Any], defaults: dict[str, Any]) -> str:
    try:
        parse_seed(controls["rng"], int(defaults["rng"]))
    except SeedError as exc:
        return str(exc)
    return ""


@solara.component
def Page() -> None:
    """The whole page, one per browser session (each session builds and owns its model)."""
    infos = solara.use_memo(lambda: [describe(c) for c in list_choices()], [])
    opened = solara.use_memo(lambda: default_choice().value, [])  # reads ./experiments: once per session
    choice = solara.use_reactive(opened)
    first = solara.use_memo(lambda: defaults_for(parse_choice(opened)), [])
    defaults = solara.use_reactive(first)
    controls = solara.use_reactive(first)
    applied = solara.use_reactive(first)
    model = solara.use_reactive(solara.use_memo(lambda: VizModel(**model_kwargs(opened, first, first)), []))
    panels = solara.use_memo(lambda: observed_panels(model.value.config), [choice.value])
    error = solara.use_reactive("")
    selected = solara.use_reactive(-1)
    playing = solara.use_reactive(False)

    def rebuild(config: str, wanted: dict[str, Any], own: dict[str, Any]) -> bool:
        """A new model for ``config`` with the controls ``wanted`` (``own``: the scenario's values)."""
        seed = _seed_error(wanted, own)
        if seed:
            error.set(f"Reset not done: {seed}")
            return False
        try:
            new = VizModel(**model_kwargs(config, wanted, own))
        except (ConfigError, SeedError, ValueError) as exc:
            error.set(f"Cannot build {parse_choice(config).label} with these controls: {exc}")
            return False
        playing.set(False)
        error.set("")
        selected.set(-1)
        model.set(new)
        applied.set(dict(wanted))
        force_update()
        return True

    def on_reset() -> None:
        rebuild(choice.value, controls.value, defaults.value)

    def on_choice(value: str) -> None:
        try:
            own = defaults_for(parse_choice(value))
        except (ConfigError, ValueError) as exc:
            error.set(str(exc))
            return
        if rebuild(value, own, own):
            choice.set(value)
            defaults.set(own)
            controls.set(own)

    solara.Title("Cyber exile")
    solara.Style(_CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    m = model.value
    with solara.Sidebar(), solara.Column():
        solara.Button("Close the controls", icon_name="mdi-close", on_click=_close_sidebar, text=True,
                      classes=["viz-close-controls"])
        with solara.Card("Run", margin=0):
            RunControls(model, playing, on_reset, error.set, pending_changes(controls.value, applied.value))
        with solara.Card("Fire an event", margin=0):
            EventButtons(m)
        with solara.Card("Scenario and parameters", margin=0):
            ScenarioPicker(infos, choice.value, on_choice)
            ParameterInputs(controls, defaults.value, _seed_error(controls.value, defaults.value))
        with solara.Card("Export", margin=0):
            ExportPanel(m)
    with solara.Column(style={"padding": "4px 12px", "max-width": "1600px"}):
        Heading(m)
        if error.value:
            solara.Error(error.value, classes=["viz-error"])
        StatusBar(m)
        EndNotice(m)
        # the cards and their notes are the page's: they stay as they are while the run goes on
        with solara.ColumnsResponsive(12, large=[6, 6], gutters_dense=True):
            with solara.Column():
                with solara.Card("Social network", subtitle=f"{m.n:,} users; click a user to inspect it", margin=0):
                    NetworkView(m, selected)
                    solara.HTML(tag="div", unsafe_innerHTML=_legend_html(m), classes=["viz-legend-net"])
                with solara.Card("User inspector", margin=0, classes=["viz-inspector"]):
                    Inspector(m, selected)
            with solara.Column():
                with solara.Card("Over time", margin=0):
                    solara.Text("Hover for the day's values and events; scroll or drag to zoom and pan; click a "
                                "legend entry to show or hide it. Dotted lines: events (red: alarming news and "
                                "outages, grey: the rest; faint: still to come).", style=_NOTE)
                    SeriesView(m)
                if panels:
                    with solara.Card("Against the data", margin=0):
                        ObservedView(m, panels)
        with solara.Card("Event timeline", margin=0):
            TimelineView(m)


#: What ``solara run sim.viz.app`` serves (solara also finds ``Page``).
page = Page
