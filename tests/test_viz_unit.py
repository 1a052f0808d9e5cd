"""The browser page without a browser: its model, seeds, live events, scenario list, layout, pictures, assets
and the solara components rendered in-process (``solara.render``)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipyvuetify as v
import numpy as np
import pytest

pytest.importorskip("solara", reason="the page needs the viz extra: pip install -e '.[viz]'")

import solara

from sim.config import ConfigError
from sim.palette import PLATFORM_COLOURS, label_for, platform_colours
from sim.viz import app, assets, layout, server
from sim.viz.drawing import ChartPicture, NetworkPicture
from sim.viz.session import (
    CONFIG_ENV,
    LIVE_EVENTS,
    VizModel,
    coerce_seed,
    default_choice,
    default_config,
    defaults_for,
    list_choices,
    parse_choice,
)

ROOT = Path(__file__).resolve().parent.parent
KOREA = str(ROOT / "experiments" / "korea_2014.toml")
PNG = b"\x89PNG\r\n\x1a\n"


def small(**kw: Any) -> VizModel:
    """The 2014 scenario at 300 users (fast), page defaults otherwise."""
    return VizModel(config=KOREA, **{"n": 300, **kw})


# Palette -----------------------------------------------------------------------------------------------------
def test_palette_takes_the_configs_colours_and_fills_in_distinct_ones() -> None:
    names = ["a", "b", "c", "d", "e"]
    assert platform_colours(names) == PLATFORM_COLOURS[:5]                         # config order
    chosen = ["", PLATFORM_COLOURS[0], "", "#123456", ""]
    colours = platform_colours(names, chosen)
    assert colours[1] == PLATFORM_COLOURS[0] and colours[3] == "#123456"
    assert colours[0] == PLATFORM_COLOURS[1] and colours[2] == PLATFORM_COLOURS[2]  # the next free ones
    assert len(set(colours)) == len(names)
    assert label_for("kakaotalk", "KakaoTalk") == "KakaoTalk" and label_for("my_app") == "My App"


def test_the_page_and_the_figures_use_the_configs_labels_and_colours() -> None:
    m = small()
    assert m.platforms.labels[:2] == ("KakaoTalk", "Telegram")
    assert m.platforms.colours == tuple(platform_colours(m.platforms.names,
                                                         [p.colour for p in m.config.platforms]))


# Seeds -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "expected"), [("42", 42), ("  7 ", 7), ("", 99), ("   ", 99), (None, 99),
                                                 (5, 5), (np.int64(3), 3)])
def test_coerce_seed(typed: Any, expected: int) -> None:
    assert coerce_seed(typed, default=99) == expected


def test_coerce_seed_hashes_other_text_stably() -> None:
    a, b = coerce_seed("kakao", 0), coerce_seed("kakao!", 0)
    assert a == coerce_seed(" kakao ", 0) and a != b
    assert a >= 0 and coerce_seed(-4, 0) >= 0 and coerce_seed("-4", 0) >= 0
    with pytest.raises(TypeError):
        coerce_seed(True, 0)


def test_typed_seed_gives_the_same_run_as_the_number() -> None:
    typed, number, other = small(rng="7"), small(rng=7), small(rng="8")
    for m in (typed, number, other):
        for _ in range(3):
            m.step()
    assert typed.run_seed == 7
    assert typed.records == number.records
    assert typed.records != other.records


# The model ---------------------------------------------------------------------------------------------------
def test_viz_model_applies_the_page_controls() -> None:
    m = small(network_kind="watts_strogatz", b_priv=2.0, b_pull=0.3, mu=0.25, delta=0.1, band=0.2, rng="")
    b = m.config.behaviour
    assert m.n == 300 and m.config.network.kind == "watts_strogatz"
    assert (b.b_priv, b.b_pull, b.mu, b.delta, b.band) == (2.0, 0.3, 0.25, 0.1, 0.2)
    assert m.run_seed == m.config.experiment.seed  # blank seed box: the scenario's seed
    assert m.layout.shape == (300, 2) and m.date is not None and m.day == 0


def test_live_event_acts_on_the_next_step() -> None:
    quiet, fired = small(rng=3), small(rng=3)
    quiet.step()
    fired.step()
    event = fired.fire("announcement")
    assert fired.pending == [event]
    assert not [e for e in fired.timeline.upcoming(fired.day) if e.id.startswith("live_")]  # not yet scheduled
    quiet.step()
    fired.step()
    assert fired.pending == []
    live = [e for e in fired.timeline.fired(fired.day) if e.id.startswith("live_")]
    assert [(e.day, e.kind) for e in live] == [(2, "announcement")]
    assert fired.records[-1]["mean_alarm"] > quiet.records[-1]["mean_alarm"] + 0.05


@pytest.mark.parametrize("event", LIVE_EVENTS, ids=lambda e: e.key)
def test_every_live_event_runs(event: Any) -> None:
    m = small(rng=1)
    exposure = m.platforms.exposure.copy()
    m.fire(event.key)
    m.step()
    assert m.timeline.fired(1)[-1].kind == event.kind
    if "exposure_factor" in event.params:
        inc = m.platforms.incumbent
        assert m.platforms.exposure[inc] == pytest.approx(exposure[inc] * event.params["exposure_factor"])


# Scenarios ---------------------------------------------------------------------------------------------------
def test_scenario_list_has_the_configs_and_their_named_scenarios() -> None:
    choices = list_choices(ROOT / "experiments")
    labels = [c.label for c in choices]
    assert "korea_2014" in labels
    named = [c for c in choices if c.scenario]
    assert named, "experiments/counterfactuals_2014.toml has [scenarios]"
    for choice in [choices[0], named[0]]:
        assert parse_choice(choice.value) == choice
        assert choice.load({"population.n": 300}).population.n == 300


def test_named_scenario_overrides_apply(tmp_path: Path) -> None:
    config = tmp_path / "mini.toml"
    config.write_text(f'extends = "{KOREA}"\n[scenarios.calm]\n"behaviour.mu" = 0.05\n'
                      '[scenarios.late]\nevents.park_cabinet.day = 40\n', encoding="utf-8")
    assert [c.label for c in list_choices(tmp_path)] == ["mini", "mini › calm", "mini › late"]
    assert VizModel(config=f"{config}#calm", n=200).config.behaviour.mu == 0.05
    late = parse_choice(f"{config}#late").load({"population.n": 300})
    assert next(e.day for e in late.events if e.id == "park_cabinet") == 40
    with pytest.raises(ConfigError, match=r"no \[scenarios\.nope\]"):
        parse_choice(f"{config}#nope").load()
    (tmp_path / "broken.toml").write_text("[experiment\n", encoding="utf-8")
    assert "broken" not in [c.label for c in list_choices(tmp_path)]


def test_default_choice_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert default_choice().path == default_config() == Path("experiments") / "korea_2014.toml"  # the earliest
    monkeypatch.setenv(CONFIG_ENV, f"{KOREA}#x")
    assert default_choice() == parse_choice(f"{KOREA}#x")
    defaults = defaults_for(parse_choice(KOREA))
    assert defaults["n"] == 1000 and defaults["network_kind"] == "sbm" and defaults["rng"] == "20140901"


# Layout and pictures -----------------------------------------------------------------------------------------
def test_layout_is_cached_per_graph_and_deterministic() -> None:
    a, b = small(rng=1), small(rng=1)
    assert a.layout is b.layout  # same graph: computed once
    assert not a.layout.flags.writeable
    assert a.layout.min() >= 0 and a.layout.max() <= 1
    g = a.graph
    np.testing.assert_array_equal(layout.force_layout(g.indptr, g.indices, g.n, seed=5),
                                  layout.force_layout(g.indptr, g.indices, g.n, seed=5))
    assert small(rng=2).layout is not a.layout


def test_layout_is_fast_at_1000_users() -> None:
    m = small(n=1000, rng=11)
    t = time.perf_counter()
    layout.force_layout(m.graph.indptr, m.graph.indices, m.n, seed=1)
    assert time.perf_counter() - t < 5  # spring_layout takes ~3 s here and ~60 s at 5,000 users


def test_pictures_render_png_and_change_with_the_state() -> None:
    m = small(rng=4)
    net = NetworkPicture(m.graph, m.layout, m.platforms.names, m.platforms.incumbent, size_px=300)
    chart = ChartPicture(m.platforms.names, m.platforms.incumbent, 30, m.date)
    state = m.state
    first = net.render(state["active"], state["primary"], state["ever"])
    assert first.startswith(PNG)
    assert net.render(state["active"], state["primary"], state["ever"]) == first  # blitting leaves no trace
    active = state["active"].copy()
    active[:, 1] = True  # everyone multi-homes
    assert net.render(active, state["primary"], state["ever"]) != first
    c0 = chart.render(m.records, [], 30)
    m.fire("revelation")
    for _ in range(3):
        m.step()
    c1 = chart.render(m.records, m.timeline.fired(m.day), 30)
    assert c0.startswith(PNG) and c1 != c0


# Components (solara.render, no browser) ----------------------------------------------------------------------
@pytest.fixture
def small_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 2014 scenario at 300 users, as the page's config (what ``sim viz CONFIG`` would pass)."""
    config = tmp_path / "korea_small.toml"
    config.write_text(f'extends = "{KOREA}"\n[population]\nn = 300\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    return config


def render_page() -> Any:
    """The whole page rendered in-process; AppLayout makes the sidebar's portal content findable."""
    return solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)[1]


@pytest.fixture
def page(small_config: Path) -> Iterator[Any]:
    rc = render_page()
    yield rc
    rc.close()


def _text(rc: Any, css_class: str) -> str:
    return rc.find(v.Html, class_=css_class).widget.children[0]


def _button(rc: Any, label: str) -> Any:
    return rc.find(v.Btn, children=[label]).widget


def test_page_shows_the_day_date_and_mean_alarm(page: Any) -> None:
    assert _text(page, "viz-day") == "0"
    assert _text(page, "viz-date") == "Mon 1 Sep 2014"
    assert float(_text(page, "viz-mean-alarm")) > 0
    assert [w.children[0] for w in page.find(v.Btn).widgets][:3] == ["Reset", "▶", "Step"]
    labels = [w.label for w in page.find(v.Slider).widgets]
    for name in ("Users N", "b_priv", "b_pull", "mu", "delta", "band"):
        assert any(name in label for label in labels), name
    assert [w.label for w in page.find(v.Select).widgets] == ["Scenario", "Network"]
    assert page.find(v.TextField).widget.label == "Seed"


def test_step_and_live_event_buttons(page: Any) -> None:
    _button(page, "Step").click()
    assert _text(page, "viz-day") == "1"
    before = float(_text(page, "viz-mean-alarm"))
    _button(page, "Announcement").click()
    assert "Announcement" in _text(page, "viz-queued")
    _button(page, "Step").click()
    assert _text(page, "viz-day") == "2"
    assert float(_text(page, "viz-mean-alarm")) > before + 0.05
    assert not page.find(v.Html, class_="viz-queued").widgets


def test_typed_seed_and_slider_then_reset_build_a_new_model(page: Any) -> None:
    alarm0 = _text(page, "viz-mean-alarm")
    _button(page, "Step").click()
    page.find(v.TextField).widget.v_model = "12345"
    users = page.find(v.Slider, label="Users N = 300").widget
    users.v_model = 200
    _button(page, "Reset").click()
    assert _text(page, "viz-day") == "0"
    assert _text(page, "viz-mean-alarm") != alarm0  # other seed, other traits
    assert page.find(v.Slider, label="Users N = 200").widgets
    html = " ".join(w.unsafe_innerHTML for w in page.find(solara.widgets.HTML).widgets)  # type: ignore[attr-defined]
    assert "seed 12345" in html


def test_each_page_builds_its_own_model(small_config: Path) -> None:
    one, two = render_page(), render_page()
    try:
        for _ in range(2):
            _button(one, "Step").click()
        assert _text(one, "viz-day") == "2"
        assert _text(two, "viz-day") == "0"
    finally:
        one.close()
        two.close()


def test_picking_a_scenario_loads_it(page: Any, small_config: Path) -> None:
    select = page.find(v.Select, label="Scenario").widget
    assert select.v_model == "korea_small"  # a config outside experiments/ is listed first
    target = next(label for label in select.items if "›" in label)
    select.v_model = target
    assert page.find(v.Select, label="Scenario").widget.v_model == target
    html = " ".join(w.unsafe_innerHTML for w in page.find(solara.widgets.HTML).widgets)  # type: ignore[attr-defined]
    assert target.split(" › ")[1] in html
    assert _text(page, "viz-day") == "0"


# Server and assets -------------------------------------------------------------------------------------------
def test_server_command_serves_the_app_module() -> None:
    cmd = server.server_command("0.0.0.0", 9999)
    assert cmd[1:4] == ["-m", "solara", "run"] and server.APP_MODULE in cmd
    assert cmd[cmd.index("--port") + 1] == "9999" and "--production" in cmd and "--no-open" in cmd


def test_wait_ready_reports_a_server_that_exits(tmp_path: Path) -> None:
    log = tmp_path / "solara.log"
    log.write_text("ImportError: boom", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(server.ServerError, match=r"status 3:\n.*boom"):
        server.wait_ready("http://127.0.0.1:9/", proc, timeout_s=30, log=log)


def test_serve_rejects_a_bad_config_before_starting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        server.serve(str(tmp_path / "missing.toml"))


def test_fill_cache_skips_what_is_present_and_explains_missing_npm(tmp_path: Path) -> None:
    for spec in assets.SOLARA_PACKAGES:
        (tmp_path / spec).mkdir(parents=True)
        (tmp_path / spec / "package.json").write_text("{}", encoding="utf-8")
    assert assets.fill_solara_cache(cache=tmp_path, npm="no-such-npm") == []
    (tmp_path / "requirejs@2.3.6" / "package.json").unlink()  # half-filled: not cached
    assert assets.missing_packages(cache=tmp_path) == ["requirejs@2.3.6"]
    with pytest.raises(assets.AssetsError, match=r"npm not found.*apt-get install npm"):
        assets.fill_solara_cache(cache=tmp_path, npm="no-such-npm")
