"""The browser page without a browser: its model, seeds, live events, scenario list, controls, layout, what
the widgets draw, exports, assets and the solara components rendered in-process (``solara.render``)."""

from __future__ import annotations

import base64
import html
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the page needs the viz extra: pip install -e '.[viz]'")

import solara

from sim.config import ConfigError
from sim.dates import date_of
from sim.palette import PLATFORM_COLOURS, label_for, platform_colours
from sim.viz import app, assets, layout, server
from sim.viz.drawing import (
    LEFT_BIT,
    MAX_EDGES,
    MULTI_BIT,
    NONE_BIT,
    RING_COLOUR,
    main_chart,
    main_series,
    network_static,
    observed_chart,
    observed_panels,
    observed_series,
    state_codes,
)
from sim.viz.export import csv_name, run_overrides, save_run, timeseries_csv
from sim.viz.session import (
    CONFIG_ENV,
    LIVE_EVENTS,
    SeedError,
    VizModel,
    default_choice,
    default_config,
    defaults_for,
    describe,
    list_choices,
    model_kwargs,
    parse_choice,
    parse_seed,
    pending_changes,
    slider_values,
)

ROOT = Path(__file__).resolve().parent.parent
KOREA = str(ROOT / "experiments" / "korea_2014.toml")


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
                                                 (5, 5), (np.int64(3), 3), ("0", 0)])
def test_a_seed_is_a_whole_number_or_blank(typed: Any, expected: int) -> None:
    assert parse_seed(typed, default=99) == expected


@pytest.mark.parametrize("typed", ["-5", "hello world", "1.5", "1e3", "7 7", -4, True, 2.0, str(2**63)])
def test_any_other_seed_is_refused_with_a_message(typed: Any) -> None:
    with pytest.raises(SeedError, match="expected a whole number"):
        parse_seed(typed, default=99)


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


def test_the_run_stops_on_the_scenarios_last_day_unless_told_to_go_on() -> None:
    m = small(rng=1)
    m.last_day = 3  # as if the scenario had 3 days
    assert m.days_to_run(2) == 2 and not m.at_end
    m.step()
    m.step()
    assert m.days_to_run(5) == 1
    m.step()
    assert m.at_end and m.days_to_run(1) == 0
    m.past_end = True
    assert not m.at_end and m.days_to_run(4) == 4


def test_user_report_reads_the_users_agent() -> None:
    m = small(rng=2)
    for _ in range(20):
        m.step()
    state = m.state
    for i in (0, 7, 150):
        r = m.user_report(i)
        agent = m.users[i]
        assert (r.alarm, r.concern, r.inertia) == (agent.alarm, agent.concern, agent.inertia)
        assert r.uses == tuple(label for label, on in zip(m.platforms.labels, state["active"][i], strict=True) if on)
        contacts = m.contacts(i)
        assert r.degree == len(contacts)
        for k, label in enumerate(m.platforms.labels):
            assert r.contact_shares[label] == pytest.approx(state["active"][contacts, k].mean())
        assert m.neighbourhood(i)[contacts].all()
    assert m.sample(50).sum() == 50 and (m.sample(50) == m.sample(50)).all()


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


def test_scenario_list_says_what_the_page_runs(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text(f'extends = "{KOREA}"\n[population]\nn = 2000000\n', encoding="utf-8")
    info = describe(parse_choice(big))
    assert info.dates == "1 Sep 2014 – 1 Jan 2015"
    assert "2,000,000 users → page runs 1,000" in info.label
    assert info.page_runs.startswith("The page runs 1,000 of the config's 2,000,000 users")
    own = describe(parse_choice(f"{KOREA}"))
    assert own.episode and own.description and own.label.startswith("korea_2014 · episode · 1 Sep 2014")
    assert not info.episode  # it extends an episode: a variant, not an episode


def test_scenario_list_puts_the_episodes_first_by_start_date() -> None:
    infos = [describe(c) for c in list_choices(ROOT / "experiments")]
    episodes = [i for i in infos if i.episode]
    assert len(episodes) >= 2 and infos[:len(episodes)] == episodes
    starts = [i.start for i in episodes]
    assert starts == sorted(starts)


def test_default_choice_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert default_choice().path == default_config() == Path("experiments") / "korea_2014.toml"  # the earliest
    monkeypatch.setenv(CONFIG_ENV, f"{KOREA}#x")
    assert default_choice() == parse_choice(f"{KOREA}#x")
    defaults = defaults_for(parse_choice(KOREA))
    assert defaults["n"] == 1000 and defaults["network_kind"] == "sbm" and defaults["rng"] == "20140901"


# Controls ----------------------------------------------------------------------------------------------------
def test_untouched_controls_pass_the_configs_exact_values() -> None:
    defaults = defaults_for(parse_choice(KOREA))
    kwargs = model_kwargs(KOREA, defaults, defaults)
    assert all(kwargs[key] is None for key in ("network_kind", "b_priv", "b_pull", "mu", "delta", "band"))
    for key in ("b_pull", "band", "mu", "delta"):
        assert defaults[key] in slider_values(key, defaults[key])  # a slider position holds it exactly
    changed = model_kwargs(KOREA, {**defaults, "mu": 0.3}, defaults)
    assert changed["mu"] == 0.3 and changed["b_pull"] is None


def test_pending_changes_name_each_changed_control() -> None:
    applied = defaults_for(parse_choice(KOREA))
    assert pending_changes(applied, applied) == []
    assert pending_changes({**applied, "rng": f" {applied['rng']} "}, applied) == []
    assert pending_changes({**applied, "n": 2000, "rng": "5"}, applied) == ["N: 1,000 → 2,000",
                                                                            f"seed: {applied['rng']} → 5"]


# Layout and what the widgets draw ----------------------------------------------------------------------------
def test_layout_is_cached_per_graph_and_deterministic() -> None:
    a, b = small(rng=1), small(rng=1)
    assert a.layout is b.layout  # same graph: computed once
    assert not a.layout.flags.writeable
    assert a.layout.min() >= 0 and a.layout.max() <= 1
    g = a.graph
    np.testing.assert_array_equal(layout.force_layout(g.indptr, g.indices, g.n, seed=5),
                                  layout.force_layout(g.indptr, g.indices, g.n, seed=5))
    assert small(rng=2).layout is not a.layout


def _bytes(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_network_is_sent_once_per_graph_as_positions_edges_and_community() -> None:
    m = small(rng=1)
    static = network_static(m.graph, m.layout)
    xy = _bytes(static["positions"], "<u2").reshape(-1, 2)
    np.testing.assert_allclose(xy / 65535, m.layout, atol=1e-4)
    edges = _bytes(static["edges"], "<u4").reshape(-1, 2)
    assert len(edges) == min(MAX_EDGES, sum(len(m.graph.neighbours(i)) for i in range(m.n)) // 2)
    assert all(b in m.graph.neighbours(int(a)) for a, b in edges[:50])
    assert (_bytes(static["engaged"], "u1") == m.graph.engaged).all()


def test_state_codes_mark_main_app_multi_homing_leaving_and_no_app() -> None:
    active = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    ever = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)
    codes = _bytes(state_codes(active, np.array([0, 1, 1, 0]), ever, incumbent=0), "u1")
    assert list(codes) == [0, 1 | MULTI_BIT, 1 | LEFT_BIT, LEFT_BIT | NONE_BIT]
    assert RING_COLOUR not in PLATFORM_COLOURS  # a ring never reads as a platform


def test_main_chart_has_a_series_per_platform_the_alarm_and_event_lines() -> None:
    m = small(rng=4)
    m.fire("revelation")
    for _ in range(3):
        m.step()
    events = [e.spec for e in m.timeline.events]
    spec = main_chart(m.platforms.names, m.platforms.labels, m.platforms.colours, m.platforms.incumbent,
                      m.last_day, date_of(m.config.experiment.start_date, 0), events, m.day, m.last_day)
    ids = [s["id"] for s in spec.option["series"]]
    assert ids[:3] == [f"active_{p}" for p in m.platforms.names] and "mean_alarm" in ids
    assert "areaStyle" not in spec.option["series"][ids.index("mean_alarm")]
    assert [item["name"] for item in spec.legend][:3] == list(m.platforms.labels)
    assert "legend" not in spec.option  # drawn as HTML above the plot, never over the data
    assert spec.titles[15] == "day 15 · Tue 16 Sep 2014" and spec.labels[15] == "16 Sep"
    live = next(e for e in spec.events if e["note"].startswith("Revelation"))
    assert live["day"] == 1 and live["fired"]
    data = main_series(m.records, m.platforms.names)
    assert len(data["mean_alarm"]) == 4
    assert data["mean_alarm"][-1] == pytest.approx(m.records[-1]["mean_alarm"], rel=1e-4)


def test_the_episodes_observed_series_and_this_runs_counterpart() -> None:
    m = small(rng=4)
    for _ in range(30):
        m.step()
    panels = observed_panels(m.config)
    assert panels and sum(len(p.series) for p in panels) == len(m.config.observed.series)
    panel = panels[0]
    spec = observed_chart(panel, m.platforms.names, m.platforms.colours, m.platforms.incumbent, m.last_day,
                          m.date, [e.spec for e in m.timeline.events], m.day)
    drawn = [s for s in spec.option["series"] if s["id"].startswith("_obs")]
    inside = [d for s in panel.series for d in s.days if 0 <= d <= m.last_day]
    assert sum(len(s["data"]) for s in drawn) == len(spec.observed) == len(inside) > 0
    data = observed_series(panel, m.config, m.timeseries())
    assert data and all(isinstance(values, list) for values in data.values())


# Exports -----------------------------------------------------------------------------------------------------
def test_csv_holds_the_runs_time_series_with_dates() -> None:
    m = small(rng=5)
    for _ in range(4):
        m.step()
    frame = pd.read_csv(__import__("io").StringIO(timeseries_csv(m)))
    assert list(frame["date"]) == ["2014-09-01", "2014-09-02", "2014-09-03", "2014-09-04", "2014-09-05"]
    pd.testing.assert_frame_equal(frame.drop(columns="date"), m.timeseries(), check_dtype=False)
    assert csv_name(m) == "korea_2014_seed5_day4.csv"


def test_save_run_writes_a_results_folder_that_gives_the_pages_run(tmp_path: Path) -> None:
    from sim.store import load_results

    m = small(rng=5, mu=0.3)
    m.step()
    m.fire("revelation")
    for _ in range(3):
        m.step()
    overrides = run_overrides(m, tmp_path)
    assert overrides["behaviour.mu"] == 0.3 and "behaviour.b_pull" not in overrides
    assert overrides["events.live_1"]["kind"] == "revelation" and overrides["events.live_1"]["day"] == 2
    folder = save_run(m, tmp_path)
    assert tmp_path in folder.parents
    results = load_results(folder)
    pd.testing.assert_frame_equal(results.timeseries.drop(columns="run_id"), m.timeseries())


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
    """The text of a solara Text with this class, or of the status bar's tile of this class."""
    texts = rc.find(v.Html, class_=css_class).widgets
    if texts:
        return texts[0].children[0]
    pattern = re.compile(rf"class='viz-tile-value {re.escape(css_class)}'>([^<]*)<")
    tiles = [m.group(1) for w in rc.find(solara.widgets.HTML).widgets  # type: ignore[attr-defined]
             if (m := pattern.search(w.unsafe_innerHTML))]
    assert len(tiles) == 1, f"no single element of class {css_class}"
    return html.unescape(tiles[0])


def _button(rc: Any, label: str) -> Any:
    return rc.find(v.Btn, children=[label]).widget


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for the page's stepping thread (Step runs a task in a thread, as Play does)."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _step(rc: Any) -> None:
    day = int(_text(rc, "viz-day"))
    _button(rc, "Step").click()
    _until(lambda: _text(rc, "viz-day") == str(day + 1), f"day {day + 1}")


def test_page_shows_the_day_date_and_mean_alarm(page: Any) -> None:
    assert _text(page, "viz-day") == "0"
    assert _text(page, "viz-date") == "Mon 1 Sep 2014"
    assert float(_text(page, "viz-mean-alarm")) > 0
    labels = [w.children[0] for w in page.find(v.Btn).widgets if isinstance(w.children[0], str)]
    assert {"Reset", "▶", "Step", "Save run", *(e.label for e in LIVE_EVENTS)} <= set(labels)
    labels = [w.label for w in page.find(v.Slider).widgets]
    for name in ("Users N", "b_priv", "b_pull", "mu", "delta", "band", "Play interval", "Days per frame"):
        assert any(name in label for label in labels), name
    assert {"Scenario", "Network", "Show"} <= {w.label for w in page.find(v.Select).widgets}
    assert page.find(v.TextField).widget.label == "Seed"


def test_step_and_live_event_buttons(page: Any) -> None:
    _step(page)
    before = float(_text(page, "viz-mean-alarm"))
    _button(page, "Announcement").click()
    assert "Announcement" in _text(page, "viz-queued")
    _step(page)
    assert float(_text(page, "viz-mean-alarm")) > before + 0.05
    assert not page.find(v.Html, class_="viz-queued").widgets


def test_typed_seed_and_slider_then_reset_build_a_new_model(page: Any) -> None:
    alarm0 = _text(page, "viz-mean-alarm")
    _step(page)
    page.find(v.TextField).widget.v_model = "12345"
    users = page.find(v.Slider, label="Users N = 300").widget
    users.v_model = 1  # the positions are 100, 200, 300, ...
    assert "N: 300 → 200" in _text(page, "viz-pending")
    _button(page, "Reset").click()
    assert _text(page, "viz-day") == "0"
    assert _text(page, "viz-mean-alarm") != alarm0  # other seed, other traits
    assert page.find(v.Slider, label="Users N = 200").widgets
    assert not page.find(v.Html, class_="viz-pending").widgets
    html = " ".join(w.unsafe_innerHTML for w in page.find(solara.widgets.HTML).widgets)  # type: ignore[attr-defined]
    assert "seed 12345" in html


def test_each_page_builds_its_own_model(small_config: Path) -> None:
    one, two = render_page(), render_page()
    try:
        for _ in range(2):
            _step(one)
        assert _text(two, "viz-day") == "0"
    finally:
        one.close()
        two.close()


def test_picking_a_scenario_loads_it(page: Any, small_config: Path) -> None:
    select = page.find(v.Select, label="Scenario").widget
    assert select.v_model.startswith("korea_small ·")  # a config outside experiments/ is listed first
    target = next(label for label in select.items if "›" in label)
    select.v_model = target
    assert page.find(v.Select, label="Scenario").widget.v_model == target
    html = " ".join(w.unsafe_innerHTML for w in page.find(solara.widgets.HTML).widgets)  # type: ignore[attr-defined]
    assert target.split(" › ")[1].split(" · ")[0] in html
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
    assert "echarts@5.4.0" in assets.SOLARA_PACKAGES  # the charts' library, served from the same cache
    for spec in assets.SOLARA_PACKAGES:
        (tmp_path / spec).mkdir(parents=True)
        (tmp_path / spec / "package.json").write_text("{}", encoding="utf-8")
    assert assets.fill_solara_cache(cache=tmp_path, npm="no-such-npm") == []
    (tmp_path / "requirejs@2.3.6" / "package.json").unlink()  # half-filled: not cached
    assert assets.missing_packages(cache=tmp_path) == ["requirejs@2.3.6"]
    with pytest.raises(assets.AssetsError, match=r"npm not found.*apt-get install npm"):
        assets.fill_solara_cache(cache=tmp_path, npm="no-such-npm")
