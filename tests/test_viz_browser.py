"""The page in a real headless Chromium against a real ``solara run`` server (Playwright).

Outside CI a machine without /usr/bin/chromium (or without the playwright client) skips these tests; with
``CI=true`` they must run, so a missing browser fails them. A screenshot is left in tests/artifacts/.

The server serves the default config (the earliest episode in experiments/) at the page's 1,000 users; where a
test checks the page against the model, it builds the same model in this process (same config, controls and
seed: the runs are deterministic) and steps it as the page did.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
#: Chromium flags for containers and offline machines (playwright adds --headless itself).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 90
UI_TIMEOUT_MS = 60_000  # the first load on a cold server or a slow CI machine
#: How long an expectation waits by default (playwright's 5 s is short for a Reset on a busy 2-core machine).
EXPECT_TIMEOUT_MS = 30_000
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
#: The chart's and the network's drawing elements (the widgets keep their helpers on them, see sim/viz/chart_vue.py).
CHART = ".viz-charts .viz-chart-area > div"
OBSERVED = ".viz-observed .viz-chart-area > div"
CANVAS = "canvas.viz-net-canvas"


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI (where the browser tests are required)."""
    if IN_CI:
        pytest.fail(f"CI is set, so the browser tests must run, but {reason}")
    pytest.skip(reason)


# Fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("the playwright python client is not installed (pip install -e '.[dev]')")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        yield p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def saved_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page's Save run writes during the tests (the server's $SIM_VIZ_OUTPUT)."""
    return tmp_path_factory.mktemp("saved-runs")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, saved_runs: Path) -> Iterator[str]:
    """The page's server, started as ``sim viz`` starts it, on a free port; yields its URL."""
    from sim.viz.assets import AssetsError, fill_solara_cache
    from sim.viz.server import launch, resolve, stop, wait_ready

    try:
        fill_solara_cache()  # offline machines: the page's JavaScript comes from the npm registry
    except AssetsError as exc:
        unavailable(str(exc))
    port = _free_port()
    log_path = tmp_path_factory.mktemp("viz-server") / "solara.log"
    with open(log_path, "w", encoding="utf-8") as log, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIM_VIZ_OUTPUT", str(saved_runs))  # the server inherits it
        proc = launch(resolve(None), "127.0.0.1", port, log=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_ready(url, proc, START_TIMEOUT_S, log_path)
        yield url
    finally:
        stop(proc)
    missing = re.findall(r"Could not load URL: '[^']*'", log_path.read_text(encoding="utf-8"))
    assert not missing, f"solara could not fetch assets (add them to sim.viz.assets): {missing}"


def _new_context(playwright: Any, tmp: Path, width: int = 1500, height: int = 1050) -> Any:
    # a fresh profile per context: nothing (cookies, cache) carries over between tests or runs
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(dir=tmp), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": width, "height": height}, accept_downloads=True)


@pytest.fixture(scope="session")
def context(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ctx = _new_context(playwright, tmp_path_factory.mktemp("chromium"))
    yield ctx
    ctx.close()


class Tab:
    """One browser tab on the page (one solara session, so its own model), recording page errors."""

    def __init__(self, context: Any, url: str) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url)
        # the UI arrives over the websocket after the HTML (on a phone the sidebar starts closed)
        self.page.locator(".viz-day").wait_for(timeout=UI_TIMEOUT_MS)

    @property
    def step_button(self) -> Any:
        return self.page.get_by_role("button", name="Step", exact=True)

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def text(self, css_class: str) -> str:
        return self.page.locator(f".{css_class}").inner_text()

    @property
    def day(self) -> int:
        return int(self.text("viz-day"))

    @property
    def alarm(self) -> float:
        return float(self.text("viz-mean-alarm"))

    def step(self, days: int = 1) -> None:
        """Click Step and wait for the page to show the day ``days`` later (``days``: the days per frame)."""
        from playwright.sync_api import expect

        day = self.day
        self.step_button.click()
        expect(self.page.locator(".viz-day")).to_have_text(str(day + days), timeout=UI_TIMEOUT_MS)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
        """Poll ``condition`` (each panel updates on its own message, so a value may trail the day)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            self.page.wait_for_timeout(100)

    def slider(self, label_start: str) -> Any:
        return self.page.locator(".v-input", has_text=label_start).get_by_role("slider")

    def days_per_frame(self, days: int) -> None:
        from playwright.sync_api import expect

        slider = self.slider("Days per frame")
        slider.focus()
        slider.press("Home")
        for _ in range(days - 1):
            slider.press("ArrowRight")
        expect(self.page.get_by_text(f"Days per frame {days}", exact=True)).to_be_visible()

    def drawn(self, day: int) -> None:
        """Wait until the network and the chart have drawn ``day``."""
        for css in (".viz-net", ".viz-charts .viz-chart"):
            self.page.locator(f"{css}[data-day='{day}']").wait_for(state="attached", timeout=UI_TIMEOUT_MS)

    def js(self, selector: str, body: str) -> Any:
        """Evaluate ``body`` with ``v`` bound to the widget helpers kept on ``selector``'s element."""
        return self.page.evaluate(f"() => {{ const v = document.querySelector({selector!r}).__viz; {body} }}")

    def close(self) -> None:
        body = self.page.locator("body").inner_text()
        self.page.close()
        assert not self.errors, f"errors in the page: {self.errors}"
        assert "Traceback" not in body, body[-2000:]


@pytest.fixture
def tab(context: Any, server: str) -> Iterator[Tab]:
    t = Tab(context, server)
    yield t
    t.close()


def page_model(days: int = 0, **controls: Any) -> Any:
    """The model the served page builds (the default config, the page's defaults and ``controls``), stepped
    ``days`` days, built in this process."""
    from sim.viz.session import VizModel, default_choice, defaults_for, model_kwargs

    choice = default_choice()
    defaults = defaults_for(choice)
    model = VizModel(**model_kwargs(choice.value, {**defaults, **controls}, defaults))
    for _ in range(days):
        model.step()
    return model


# The page ----------------------------------------------------------------------------------------------------
def test_page_loads_with_everything_on_it(tab: Tab) -> None:
    from playwright.sync_api import expect

    from sim.config import load_config
    from sim.viz.session import default_config

    page = tab.page
    assert tab.day == 0
    assert tab.text("viz-date") == "Mon 1 Sep 2014"
    assert 0 < tab.alarm < 1
    for name in ("Reset", "▶", "Step", "Announcement", "Revelation", "Apology & warrant refusal",
                 "Encryption launch", "Clarification", "Save run"):
        expect(tab.button(name)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Download CSV"))).to_be_visible()
    tab.drawn(0)
    assert tab.js(CHART, "return v.ready && v.chart.getOption().series.length") >= 5
    scenario = load_config(default_config())
    assert scenario.experiment.name in page.locator(".v-select", has_text="Scenario").inner_text()
    assert page.get_by_label("Seed").input_value() == str(scenario.experiment.seed)
    expect(page.get_by_text("1,000 users", exact=False).first).to_be_visible()
    first = min(scenario.events, key=lambda e: e.day)
    expect(page.locator(".viz-upcoming").get_by_text(first.note)).to_be_visible()


def test_step_advances_the_day_and_redraws(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.drawn(0)
    tab.step()
    expect(tab.page.locator(".viz-date")).to_have_text("Tue 2 Sep 2014")
    tab.drawn(1)
    assert tab.js(CHART, "return v.chart.getOption().series.find(s => s.id === 'mean_alarm').data.length") == 2


def test_play_then_pause(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.button("▶").click()
    expect(tab.page.locator(".viz-day")).to_have_text(re.compile(r"^([4-9]|\d\d+)$"), timeout=UI_TIMEOUT_MS)
    tab.button("❚❚").click()
    expect(tab.button("▶")).to_be_visible()
    tab.page.wait_for_timeout(1000)  # a step under way when Pause was pressed still finishes
    paused_at = tab.day
    tab.page.wait_for_timeout(1500)
    assert tab.day == paused_at >= 4


def test_announcement_raises_the_mean_alarm(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.step()
    before = tab.alarm
    tab.button("Announcement").click()
    expect(tab.page.locator(".viz-queued")).to_contain_text("Announcement", timeout=UI_TIMEOUT_MS)
    tab.step()
    tab.wait_until(lambda: tab.alarm > before + 0.05, "the mean alarm to rise")
    # each panel updates on its own message: wait for the timeline rather than read it at once
    expect(tab.page.locator(".viz-fired").get_by_text("fired from the page")).to_be_visible()


def test_seed_and_slider_then_reset_give_a_different_model(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.step()
    tab.page.get_by_label("Seed").fill("777")
    users = tab.slider("Users N")
    users.focus()
    users.press("ArrowLeft")  # one step of 100
    expect(tab.page.get_by_text("Users N = 900")).to_be_visible()
    tab.button("Reset").click()
    expect(tab.page.locator(".viz-day")).to_have_text("0", timeout=UI_TIMEOUT_MS)
    expect(tab.page.get_by_text("900 users", exact=False).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(tab.page.get_by_text(re.compile(r"seed 777$"))).to_be_visible()
    tab.step()  # the new model runs: the one these controls build
    assert tab.text("viz-mean-alarm") == f"{page_model(1, n=900, rng='777').records[-1]['mean_alarm']:.4f}"


def test_two_sessions_have_their_own_models(context: Any, server: str, playwright: Any,
                                            tmp_path: Path) -> None:
    """Two tabs of one browser and a second browser context: stepping one steps no other."""
    other = _new_context(playwright, tmp_path)
    tabs = [Tab(context, server), Tab(context, server), Tab(other, server)]
    try:
        for _ in range(3):
            tabs[0].step()
        tabs[2].step()
        tabs[0].page.wait_for_timeout(500)  # room for any cross-talk to show
        assert [t.day for t in tabs] == [3, 0, 1]
    finally:
        for t in tabs:
            t.close()
        other.close()


# The bugs (each of these failed on the page before this version) ---------------------------------------
def test_reset_with_untouched_controls_rebuilds_the_exact_config(tab: Tab) -> None:
    """Bug 1: Reset rebuilt the model with the sliders' rounded values (b_pull 0.08 for 0.0764), so a fresh
    page's run and the same run after Reset differed. A changed control is flagged as pending."""
    from playwright.sync_api import expect

    tab.days_per_frame(20)
    tab.step(20)
    tab.step(20)
    fresh = tab.text("viz-mean-alarm")
    expect(tab.page.locator(".viz-pending")).to_have_count(0)
    tab.button("Reset").click()
    expect(tab.page.locator(".viz-day")).to_have_text("0", timeout=UI_TIMEOUT_MS)
    tab.step(20)
    tab.step(20)
    assert tab.text("viz-mean-alarm") == fresh
    users = tab.slider("Users N")
    users.focus()
    users.press("ArrowRight")
    expect(tab.page.locator(".viz-pending")).to_contain_text("N: 1,000 → 1,100")
    expect(tab.page.locator(".viz-pending")).to_contain_text("press Reset")
    users.press("ArrowLeft")  # back to the scenario's value: nothing pending
    expect(tab.page.locator(".viz-pending")).to_have_count(0)


def test_a_queued_event_is_listed_first_in_next(tab: Tab) -> None:
    """Bug 2: the sidebar said "Queued for day 1" but NEXT listed the scenario's events only."""
    from playwright.sync_api import expect

    tab.button("Announcement").click()
    expect(tab.page.locator(".viz-queued")).to_contain_text("Queued for day 1")
    first_row = tab.page.locator(".viz-upcoming tr").nth(1)
    expect(first_row).to_contain_text("announcement")
    expect(first_row).to_contain_text("queued from the page")


def test_the_run_stops_at_the_scenarios_last_day(tab: Tab) -> None:
    """Bug 3: Step and Play went on past the scenario's last day without notice. Now the run stops there,
    says so, and goes on only on "Continue past the end"."""
    from playwright.sync_api import expect

    from sim.config import load_config
    from sim.viz.session import default_config

    last = load_config(default_config()).experiment.steps
    tab.days_per_frame(20)
    while tab.day + 20 <= last:
        tab.step(20)
    tab.step(last - tab.day)  # the last frame stops on the last day
    expect(tab.page.locator(".viz-end")).to_contain_text(f"last day, day {last}")
    expect(tab.step_button).to_be_disabled()
    expect(tab.button("▶")).to_be_disabled()
    tab.button("Continue past the end").click()
    expect(tab.step_button).to_be_enabled()
    tab.step(20)
    assert tab.day == last + 20
    expect(tab.page.locator(".viz-past-end")).to_be_visible()


def test_the_chart_legend_is_outside_the_plot_and_toggles_a_series(tab: Tab) -> None:
    """Bug 4: the legend sat inside the plot, over the data. Now it is above the plot; a click hides a
    series."""
    from playwright.sync_api import expect

    tab.drawn(0)
    legend = tab.page.locator(".viz-charts .viz-legend").bounding_box()
    plot = tab.js(CHART, "return v.gridRect(0)")
    assert legend["y"] + legend["height"] <= plot["y"]
    item = tab.page.locator(".viz-charts .viz-legend-item", has_text="Telegram")
    item.click()
    expect(item).to_have_attribute("aria-pressed", "false")
    assert tab.js(CHART, "return v.chart.getOption().legend[0].selected['Telegram']") is False


def test_timeline_lists_every_event(tab: Tab) -> None:
    """Bug 5: the timeline's lists were cut at 6 rows ("NEXT (9)" showed 6)."""
    from playwright.sync_api import expect

    from sim.config import load_config
    from sim.viz.session import default_config

    upcoming = [e for e in load_config(default_config()).events if e.day > 0]
    assert len(upcoming) > 6
    expect(tab.page.locator(".viz-upcoming")).to_contain_text(f"Next ({len(upcoming)})")
    rows = tab.page.locator(".viz-upcoming tr")
    expect(rows).to_have_count(len(upcoming) + 1)  # and the header
    rows.last.scroll_into_view_if_needed()
    expect(rows.last).to_be_visible()
    expect(rows.last).to_contain_text(max(upcoming, key=lambda e: e.day).note)


def test_phone_width(playwright: Any, server: str, tmp_path: Path) -> None:
    """Bug 6: at 390 px the 400 px sidebar covered everything, its own close button included. Now the page
    opens on the main area; the controls open from the menu and close again."""
    from playwright.sync_api import expect

    ctx = _new_context(playwright, tmp_path, width=390, height=844)
    tab = Tab(ctx, server)
    try:
        page = tab.page
        page.wait_for_timeout(500)
        day = page.locator(".viz-day")
        box = day.bounding_box()
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.viz-day') !== null",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit, "the day tile is covered"
        assert page.evaluate("() => document.querySelector('.viz-net-canvas').getBoundingClientRect().right") <= 390
        page.locator(".v-app-bar__nav-icon").click()
        expect(tab.step_button).to_be_in_viewport()
        close = page.get_by_role("button", name="Close the controls")
        expect(close).to_be_in_viewport()
        assert page.locator(".v-navigation-drawer").bounding_box()["width"] < 390
        tab.step()
        close.click()
        expect(tab.step_button).not_to_be_in_viewport()
        assert page.evaluate("() => document.elementFromPoint(195, 300).closest('.v-navigation-drawer')") is None
    finally:
        tab.close()
        ctx.close()


def test_seed_must_be_a_whole_number(tab: Tab) -> None:
    """Bug 7: "-5" and "hello world" were silently hashed into other seeds. Now a seed is a whole number, and
    anything else gets a clear message and no new model."""
    from playwright.sync_api import expect

    seed = tab.page.get_by_label("Seed")
    heading = tab.page.get_by_text(re.compile(r"· seed \d+$"))
    before = heading.inner_text()
    for typed in ("-5", "hello world", "1.5"):
        seed.fill(typed)
        expect(tab.page.locator(".viz-seed-error")).to_contain_text("expected a whole number")
        expect(tab.page.locator(".viz-seed-error")).to_contain_text(repr(typed))
        tab.button("Reset").click()
        expect(tab.page.locator(".viz-error")).to_contain_text("Reset not done")
        assert heading.inner_text() == before
    seed.fill("42")
    expect(tab.page.locator(".viz-seed-error")).to_have_count(0)
    tab.button("Reset").click()
    expect(tab.page.get_by_text(re.compile(r"· seed 42$"))).to_be_visible()
    expect(tab.page.locator(".viz-error")).to_have_count(0)


def test_scenario_list_says_what_the_page_runs(tab: Tab) -> None:
    """Bug 8: the list offered a 35-million-user config and the sweeps but ran 1,000 users and the baseline,
    without saying so. Every entry now has its dates, and says what the page runs when that is not the config
    as given."""
    from sim.viz.session import EXPERIMENTS, describe, list_choices

    infos = [describe(c) for c in list_choices(EXPERIMENTS)]
    tab.page.locator(".v-select", has_text="Scenario").click()
    items = tab.page.locator(".v-menu__content .v-list-item").all_inner_texts()
    assert len(items) == len(infos)
    episodes = sum(i.episode for i in infos)
    assert episodes and all(" · episode · " in item for item in items[:episodes])  # the episodes first
    assert all(re.search(r"\d{4} – \d", item) for item in items), items
    big = [i for i in infos if i.config_n > 1_000_000]
    sweeps = [i for i in infos if i.sweep_points]
    assert big and sweeps
    for info in big:
        item = next(i for i in items if i.startswith(info.choice.label + " ·"))
        assert f"{info.config_n:,} users → page runs 1,000" in item
    for info in sweeps:
        item = next(i for i in items if i.startswith(info.choice.label + " ·"))
        assert f"sweep of {info.sweep_points} points → page runs its base scenario" in item
    tab.page.keyboard.press("Escape")
    info = tab.page.locator(".viz-scenario-info")
    assert "The page runs 1,000 of the config's" in info.inner_text()


def test_network_legend_and_encodings_are_unambiguous(tab: Tab) -> None:
    """Bug 9: green-ringed orange dots (multi-homers) read as users of the green platform, and the shaded
    area under the alarm curve was unexplained. Rings are now dark, never a platform's colour, the legend
    says what each mark means, and the alarm is a plain line."""
    import numpy as np

    model = page_model()
    legend = tab.page.locator(".viz-legend-net").inner_text()
    for label in model.platforms.labels:
        assert f"main app: {label}" in legend
    assert "dark ring: uses 2+ apps" in legend
    assert f"diamond: has left {model.platforms.labels[model.platforms.incumbent]}" in legend
    tab.drawn(0)
    assert tab.js(CHART, "return v.chart.getOption().series.find(s => s.id === 'mean_alarm').areaStyle") is None
    # on the canvas: a multi-homer well apart from everyone else has a dark ring
    active = model.state["active"]
    pos = np.asarray(model.layout)
    gaps = np.sort(np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1)), axis=1)[:, 1]
    multi = np.flatnonzero(active.sum(axis=1) >= 2)
    user = int(multi[np.argmax(gaps[multi])])
    ring = tab.js(CANVAS, f"""
        const [x, y] = v.px({user});
        const r = v.radius() * 1.35, k = v.ratio;
        const d = v.$refs.canvas.getContext('2d').getImageData(Math.round((x + r) * k), Math.round(y * k), 1, 1).data;
        return [d[0], d[1], d[2]];""")
    assert max(ring) < 80, f"the ring of user {user} is {ring}, not dark"


def test_a_config_that_cannot_be_built_at_this_size_says_why(tab: Tab) -> None:
    """A scenario whose network cannot be built at the chosen N (its engaged community too small at 100 users)
    shows the config's message, not a traceback, and keeps the current model."""
    from playwright.sync_api import expect

    tab.step()
    users = tab.slider("Users N")
    users.focus()
    users.press("Home")
    expect(tab.page.get_by_text("Users N = 100", exact=True)).to_be_visible()
    tab.button("Reset").click()
    expect(tab.page.locator(".viz-error")).to_contain_text("Cannot build")
    expect(tab.page.locator(".viz-error")).to_contain_text("engaged")
    assert tab.day == 1
    tab.step()


# What a user expects of the page -------------------------------------------------------------------------------
def _tip_at(tab: Tab, selector: str, day: int, grid: int = 0) -> str:
    x, y = tab.js(selector, f"return v.pixelOfDay({day}, {grid})")
    tab.page.mouse.move(x, y)
    tip = tab.page.locator(f"{selector.split(' ')[0]} .viz-tip")
    tip.wait_for(timeout=UI_TIMEOUT_MS)
    return tip.inner_text()


def test_hover_shows_the_days_date_values_and_events(tab: Tab) -> None:
    from sim.dates import date_of

    tab.days_per_frame(20)
    tab.step(20)
    tab.drawn(20)
    model = page_model(20)
    day = 10
    text = _tip_at(tab, CHART, day)
    assert f"day {day} · {date_of(model.config.experiment.start_date, day):%a %-d %b %Y}" in text
    row = model.records[day]
    for k, name in enumerate(model.platforms.names):
        shown = re.search(rf"{re.escape(model.platforms.labels[k])}: ([\d.]+)%", text)
        assert shown and float(shown.group(1)) == pytest.approx(100 * row[f"active_{name}"], rel=0.01, abs=0.01)
    assert f"mean alarm: {row['mean_alarm']:.4f}" in text
    event = min(model.timeline.events, key=lambda e: e.spec.day).spec
    assert event.note in _tip_at(tab, CHART, event.day)


def test_zoom_and_hidden_series_survive_a_step(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.drawn(0)
    box = tab.js(CHART, "return v.gridRect(0)")
    tab.page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    for _ in range(3):
        tab.page.mouse.wheel(0, -600)
    tab.wait_until(lambda: tab.js(CHART, "const z = v.chart.getOption().dataZoom[0]; return z.end - z.start") < 90,
                   "the chart to zoom")
    expect(tab.page.locator(".viz-zoom-reset")).to_be_visible()
    tab.page.locator(".viz-charts .viz-legend-item", has_text="LINE").click()
    zoom = tab.js(CHART, "const z = v.chart.getOption().dataZoom[0]; return [z.start, z.end]")
    tab.step()
    tab.drawn(1)
    assert tab.js(CHART, "const z = v.chart.getOption().dataZoom[0]; return [z.start, z.end]") == zoom
    assert tab.js(CHART, "return v.chart.getOption().legend[0].selected['LINE']") is False
    tab.page.locator(".viz-zoom-reset").click()
    assert tab.js(CHART, "const z = v.chart.getOption().dataZoom[0]; return [z.start, z.end]") == [0, 100]


def test_the_episodes_observed_data_are_drawn(tab: Tab) -> None:
    from sim.viz.drawing import observed_panels

    model = page_model()
    panel = observed_panels(model.config)[0]
    days = [int(d) for s in panel.series for d in s.days if 0 <= d <= model.last_day]
    tab.page.locator(OBSERVED.split(" ")[0]).scroll_into_view_if_needed()
    tab.page.locator(".viz-observed .viz-chart[data-ready='yes']").wait_for(timeout=UI_TIMEOUT_MS)
    drawn = tab.js(OBSERVED, "return v.chart.getOption().series.filter(s => s.id.startsWith('_obs'))"
                             ".map(s => s.data.length)")
    assert sum(drawn) == len(days) > 0
    first = panel.series[0]
    label = first.spec.label
    text = _tip_at(tab, OBSERVED, int(first.days[0]))
    assert f"observed, {label}: {100 * first.values[0]:.3g}%" in text


def test_the_inspector_shows_a_clicked_users_state(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.days_per_frame(20)
    tab.step(20)
    tab.drawn(20)
    model = page_model(20)
    x, y = tab.js(CANVAS, "return v.pixelOf(0)")
    tab.page.mouse.click(x, y)
    inspector = tab.page.locator(".viz-inspector")
    expect(inspector.locator(".viz-user")).to_contain_text("#")
    user = int(re.search(r"#(\d+)", inspector.locator(".viz-user").inner_text()).group(1))
    report = model.user_report(user)
    assert inspector.locator(".viz-user-alarm").inner_text() == f"{report.alarm:.4f}"
    for trait in ("concern", "attention", "inertia", "threshold"):
        assert inspector.locator(f".viz-user-{trait}").inner_text() == f"{getattr(report, trait):.4f}"
    assert inspector.locator(".viz-user-uses").inner_text() == ", ".join(report.uses)
    assert inspector.locator(".viz-user-primary").inner_text() == report.primary
    for k, label in enumerate(model.platforms.labels):
        assert inspector.locator(f".viz-share-{k}").inner_text() == f"{100 * report.contact_shares[label]:.1f}%"
    expect(tab.page.locator(".viz-net")).to_have_attribute("data-highlighted", str(report.degree))
    tab.page.locator(".v-select", has_text="Show").click()
    tab.page.locator(".v-menu__content .v-list-item", has_text="neighbourhood").click()
    expect(tab.page.locator(".viz-net")).to_have_attribute("data-shown", str(int(model.neighbourhood(user).sum())))
    tab.step(20)  # the panel follows the run
    expect(inspector.locator(".viz-user-alarm")).to_have_text(f"{page_model(40).user_report(user).alarm:.4f}")


def test_csv_download_holds_the_time_series(tab: Tab) -> None:
    import pandas as pd

    tab.days_per_frame(5)
    tab.step(5)
    with tab.page.expect_download() as info:
        tab.page.get_by_role("button", name=re.compile("Download CSV")).click()
    download = info.value
    model = page_model(5)
    assert download.suggested_filename == f"{model.config.experiment.name}_seed{model.run_seed}_day5.csv"
    got = pd.read_csv(io.StringIO(Path(download.path()).read_text(encoding="utf-8")))
    expected = model.timeseries()
    assert list(got["date"][:2]) == ["2014-09-01", "2014-09-02"]
    pd.testing.assert_frame_equal(got.drop(columns="date"), expected, check_dtype=False)


def test_save_run_writes_a_folder_that_sim_plot_reads(tab: Tab, saved_runs: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from sim.store import load_results

    tab.step()
    tab.button("Revelation").click()
    tab.days_per_frame(7)
    tab.step(7)
    tab.button("Save run").click()
    saved = tab.page.locator(".viz-saved")
    expect(saved).to_contain_text("sim plot", timeout=UI_TIMEOUT_MS)
    folder = Path(re.search(r"to (\S+) \(read it", saved.inner_text()).group(1))
    assert saved_runs in folder.parents
    results = load_results(folder)
    ts = results.timeseries
    assert list(ts["day"]) == list(range(9))
    assert f"{ts['mean_alarm'].iloc[-1]:.4f}" == tab.text("viz-mean-alarm")
    assert any(e["kind"] == "revelation" and e["day"] == 2 for e in results.manifest["events"])
    out = subprocess.run([sys.executable, "-m", "sim.cli", "plot", str(folder), "--out", str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert list(tmp_path.glob("*.png"))


def test_screenshot_after_some_days(tab: Tab) -> None:
    """Leaves tests/artifacts/viz.png: the 2014 scenario around its peak (docs/figures/viz.png is one)."""
    tab.page.set_viewport_size({"width": 1500, "height": 1500})
    tab.days_per_frame(15)
    for _ in range(3):
        tab.step(15)
    tab.drawn(45)
    x, y = tab.js(CANVAS, "return v.pixelOf(3)")
    tab.page.mouse.click(x, y)
    tab.page.locator(".viz-user").wait_for()
    x, y = tab.js(CHART, "return v.pixelOfDay(30, 0)")
    tab.page.mouse.move(x, y)
    tab.page.locator(".viz-charts .viz-tip").wait_for()
    tab.page.wait_for_timeout(500)  # let the layout settle
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "viz.png"
    tab.page.screenshot(path=str(path))
    assert path.stat().st_size > 50_000
    if os.environ.get("VIZ_UPDATE_DOCS_FIGURE"):  # refresh the README's figure on purpose only
        shutil.copy(path, ROOT / "docs" / "figures" / "viz.png")
