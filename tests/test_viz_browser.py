"""The page in a real headless Chromium against a real ``solara run`` server (Playwright).

Outside CI a machine without /usr/bin/chromium (or without the playwright client) skips these tests; with
``CI=true`` they must run, so a missing browser fails them. A screenshot is left in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
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
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


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
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright python client is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        yield p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page's server, started as ``sim viz`` starts it, on a free port; yields its URL."""
    from sim.viz.assets import AssetsError, fill_solara_cache
    from sim.viz.server import launch, resolve, stop, wait_ready

    try:
        fill_solara_cache()  # offline machines: the page's JavaScript comes from the npm registry
    except AssetsError as exc:
        unavailable(str(exc))
    port = _free_port()
    log_path = tmp_path_factory.mktemp("viz-server") / "solara.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = launch(resolve(None), "127.0.0.1", port, log=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_ready(url, proc, START_TIMEOUT_S, log_path)
        yield url
    finally:
        stop(proc)
    missing = re.findall(r"Could not load URL: '[^']*'", log_path.read_text(encoding="utf-8"))
    assert not missing, f"solara could not fetch assets (add them to sim.viz.assets): {missing}"


def _new_context(playwright: Any, tmp: Path) -> Any:
    # a fresh profile per context: nothing (cookies, cache) carries over between tests or runs
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(dir=tmp), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1500, "height": 1050})


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
        self.step_button.wait_for(timeout=UI_TIMEOUT_MS)  # the UI arrives over the websocket after the HTML
        self.page.locator(".viz-network").wait_for(timeout=UI_TIMEOUT_MS)

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

    def step(self) -> None:
        """Click Step and wait for the page to show the next day."""
        from playwright.sync_api import expect

        day = self.day
        self.step_button.click()
        expect(self.page.locator(".viz-day")).to_have_text(str(day + 1), timeout=UI_TIMEOUT_MS)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
        """Poll ``condition`` (each panel updates on its own message, so a value may trail the day)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            self.page.wait_for_timeout(100)

    def slider(self, label_start: str) -> Any:
        return self.page.locator(".v-input", has_text=label_start).get_by_role("slider")

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


# Tests -------------------------------------------------------------------------------------------------------
def test_page_loads_with_everything_on_it(tab: Tab) -> None:
    from playwright.sync_api import expect

    from sim.config import load_config
    from sim.viz.session import default_config

    page = tab.page
    assert tab.day == 0
    assert tab.text("viz-date") == "Mon 1 Sep 2014"
    assert 0 < tab.alarm < 1
    for name in ("Reset", "▶", "Step", "Announcement", "Revelation", "Apology & warrant refusal",
                 "Encryption launch", "Clarification"):
        expect(tab.button(name)).to_be_visible()
    assert page.locator("img.viz-network").get_attribute("src")
    assert page.locator("img.viz-charts").get_attribute("src")
    scenario = load_config(default_config())
    assert scenario.experiment.name in page.locator(".v-select", has_text="Scenario").inner_text()
    assert page.get_by_label("Seed").input_value() == str(scenario.experiment.seed)
    expect(page.get_by_text("1,000 users")).to_be_visible()
    first = min(scenario.events, key=lambda e: e.day)
    expect(page.locator(".viz-upcoming").get_by_text(first.note)).to_be_visible()


def test_step_advances_the_day_and_redraws(tab: Tab) -> None:
    from playwright.sync_api import expect

    chart = tab.page.locator("img.viz-charts")
    before = chart.get_attribute("src")
    tab.step()
    expect(tab.page.locator(".viz-date")).to_have_text("Tue 2 Sep 2014")
    # a new image arrived (the network's may be the same picture on a quiet day, and is then not resent)
    expect(chart).not_to_have_attribute("src", before)


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

    alarm0 = tab.text("viz-mean-alarm")
    tab.step()
    tab.page.get_by_label("Seed").fill("777")
    users = tab.slider("Users N")
    users.focus()
    users.press("ArrowLeft")  # one step of 100
    expect(tab.page.get_by_text("Users N = 900")).to_be_visible()
    tab.button("Reset").click()
    expect(tab.page.locator(".viz-day")).to_have_text("0", timeout=UI_TIMEOUT_MS)
    expect(tab.page.get_by_text("900 users")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(tab.page.get_by_text(re.compile(r"seed 777$"))).to_be_visible()
    expect(tab.page.locator(".viz-mean-alarm")).not_to_have_text(alarm0)  # other seed, other traits
    tab.step()  # the new model runs


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


def test_screenshot_after_some_days(tab: Tab) -> None:
    """Leaves tests/artifacts/viz.png: the 2014 scenario around its peak (docs/figures/viz.png is one)."""
    network = tab.page.locator("img.viz-network")
    day0 = network.get_attribute("src")
    frames = tab.slider("Days per frame")
    frames.focus()
    for _ in range(14):
        frames.press("ArrowRight")  # 15 days per Step
    from playwright.sync_api import expect

    expect(tab.page.get_by_text("Days per frame 15")).to_be_visible()
    for target in (15, 30, 45):
        tab.step_button.click()
        expect(tab.page.locator(".viz-day")).to_have_text(str(target), timeout=UI_TIMEOUT_MS)
    expect(network).not_to_have_attribute("src", day0)  # users have switched by now
    tab.page.set_viewport_size({"width": 1500, "height": 1240})  # room for the event timeline too
    tab.page.wait_for_timeout(800)  # let the images finish loading and the layout settle
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "viz.png"
    tab.page.screenshot(path=str(path))
    assert path.stat().st_size > 50_000
    if os.environ.get("VIZ_UPDATE_DOCS_FIGURE"):  # refresh the README's figure on purpose only
        shutil.copy(path, ROOT / "docs" / "figures" / "viz.png")
