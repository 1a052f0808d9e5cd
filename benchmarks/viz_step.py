"""The browser page's speed, measured in headless Chromium: Step click to redrawn page, Play's days per second,
and a 20-day frame, at 1,000 and 5,000 users.

Starts the page's server (as ``sim viz`` does) on a free port, opens it in headless Chromium, sets the number
of users with the page's own slider and Reset, then:

- clicks Step repeatedly and times each click until the page shows the next day and both the network and the
  chart have drawn it (their ``data-day`` attributes, set once drawn);
- plays for a few seconds with a play interval of 0 ms and one day per frame, and counts the days the page
  showed per second;
- sets 20 days per frame, clicks Step once and times it until the page shows day +20, noting whether the
  frame's progress ("Running day ...") appeared meanwhile.

For comparison it also times, in this process, the model's step alone and what the server computes for the
widgets each day (the users' state codes and the charts' series). Prints a table.

    .venv/bin/python benchmarks/viz_step.py [--steps 10] [--sizes 1000,5000] [--play-seconds 5]

Needs /usr/bin/chromium (or $CHROMIUM) and the playwright client; run ``sim assets`` first on a machine that
cannot reach the CDN. Run it from the repository root (it serves the earliest episode in ./experiments).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sim.viz.drawing import main_series, observed_panels, observed_series, state_codes
from sim.viz.server import launch, resolve, stop, wait_ready
from sim.viz.session import VizModel

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
#: Start from the eve of the default episode's first news, so the timed days have news and switching.
WARM_UP_DAYS = 14
UI_TIMEOUT_MS = 120_000
#: True once the page shows ``day`` and the network and the chart have drawn it.
REDRAWN = """(day) => {
    const d = document.querySelector('.viz-day');
    const net = document.querySelector('.viz-net');
    const chart = document.querySelector('.viz-charts .viz-chart');
    return d && d.textContent.trim() === String(day) && net && net.dataset.day === String(day)
        && chart && chart.dataset.day === String(day);
}"""
#: Records, on every animation frame, whether the long frame's progress note is on the page.
WATCH_PROGRESS = """() => {
    window.__vizProgress = [];
    const look = () => {
        const p = document.querySelector('.viz-progress');
        if (p) window.__vizProgress.push(p.textContent);
        if (!window.__vizStopWatching) requestAnimationFrame(look);
    };
    window.__vizStopWatching = false;
    requestAnimationFrame(look);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_in_process(n: int, steps: int) -> dict[str, float]:
    """Median ms of the model's step, and of what the server computes for the widgets each day."""
    model = VizModel(n=n)
    panels = observed_panels(model.config)
    for _ in range(WARM_UP_DAYS):
        model.step()
    step_ms, encode_ms = [], []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        step_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        state = model.state
        state_codes(state["active"], state["primary"], state["ever"], model.platforms.incumbent)
        main_series(model.records, model.platforms.names)
        for panel in panels[:1]:  # the page shows one panel at a time
            observed_series(panel, model.config, model.timeseries())
        encode_ms.append(1000 * (time.perf_counter() - t))
    return {"step": statistics.median(step_ms), "encode": statistics.median(encode_ms)}


def day_of(page: Any) -> int:
    return int(page.locator(".viz-day").inner_text())


def move_slider(page: Any, label_start: str, key: str, presses: int = 1) -> None:
    slider = page.locator(".v-input", has_text=label_start).get_by_role("slider")
    slider.focus()
    for _ in range(presses):
        slider.press(key)


def set_users(page: Any, n: int) -> None:
    """Move the page's N slider to ``n`` (100 a press) and Reset."""
    label = page.locator(".v-input", has_text="Users N").inner_text()
    current = int(re.search(r"Users N = ([\d,]+)", label).group(1).replace(",", ""))
    if n != current:
        move_slider(page, "Users N", "ArrowRight" if n > current else "ArrowLeft", abs(n - current) // 100)
        page.get_by_text(f"Users N = {n:,}").wait_for()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text(f"{n:,} users; click").wait_for(timeout=UI_TIMEOUT_MS)
    page.wait_for_function(REDRAWN, arg=0, timeout=UI_TIMEOUT_MS)


def set_days_per_frame(page: Any, days: int) -> None:
    move_slider(page, "Days per frame", "Home")
    move_slider(page, "Days per frame", "ArrowRight", days - 1)
    page.get_by_text(f"Days per frame {days}", exact=True).wait_for()


def time_clicks(page: Any, steps: int) -> list[float]:
    """Milliseconds from each Step click to the redrawn page."""
    step = page.get_by_role("button", name="Step", exact=True)
    day = day_of(page)
    for _ in range(WARM_UP_DAYS - day):
        day += 1
        step.click()
        page.wait_for_function(REDRAWN, arg=day, timeout=UI_TIMEOUT_MS)
    out = []
    for _ in range(steps):
        day += 1
        t = time.perf_counter()
        step.click()
        page.wait_for_function(REDRAWN, arg=day, timeout=UI_TIMEOUT_MS, polling="raf")
        out.append(1000 * (time.perf_counter() - t))
    return out


def play_rate(page: Any, seconds: float) -> float:
    """Days per second the page shows while playing from day 0 (play interval 0 ms, one day per frame), over
    ``seconds`` or until the run stops on the scenario's last day."""
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(REDRAWN, arg=0, timeout=UI_TIMEOUT_MS)
    move_slider(page, "Play interval", "Home")
    page.get_by_text("Play interval 0 ms", exact=True).wait_for()
    page.get_by_role("button", name="▶").click()
    page.wait_for_timeout(1000)  # under way
    first, t0 = day_of(page), time.perf_counter()
    page.wait_for_timeout(1000 * seconds)
    last, t1 = day_of(page), time.perf_counter()
    pause = page.get_by_role("button", name="❚❚")
    if pause.count():
        pause.click()
    page.get_by_role("button", name="▶").wait_for()
    return (last - first) / (t1 - t0)


def long_frame(page: Any) -> tuple[float, int]:
    """Milliseconds for one 20-day Step to the redrawn page, and how many animation frames showed progress."""
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(REDRAWN, arg=0, timeout=UI_TIMEOUT_MS)
    set_days_per_frame(page, 20)
    page.evaluate(WATCH_PROGRESS)
    t = time.perf_counter()
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(REDRAWN, arg=20, timeout=UI_TIMEOUT_MS, polling="raf")
    ms = 1000 * (time.perf_counter() - t)
    shown = page.evaluate("() => { window.__vizStopWatching = true; return window.__vizProgress.length; }")
    return ms, shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per size (default 10)")
    parser.add_argument("--sizes", default="1000,5000", help="numbers of users (default 1000,5000)")
    parser.add_argument("--play-seconds", type=float, default=5.0, help="seconds of play timed (default 5)")
    args = parser.parse_args()
    if not Path("experiments").is_dir():
        sys.exit("run this from the repository root (no experiments/ folder here)")
    sizes = [int(s) for s in args.sizes.split(",")]
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "solara.log"
        with open(log_path, "w", encoding="utf-8") as log:
            proc = launch(resolve(None), "127.0.0.1", port, log=log)
        try:
            wait_ready(url, proc, log=log_path)
            with sync_playwright() as p:
                ctx = p.chromium.launch_persistent_context(Path(tmp) / "profile", executable_path=CHROMIUM,
                                                           args=ARGS, headless=True,
                                                           viewport={"width": 1500, "height": 1050})
                for n in sizes:  # a fresh tab (session) per size
                    page = ctx.new_page()
                    page.goto(url)
                    page.locator(".viz-day").wait_for(timeout=UI_TIMEOUT_MS)
                    set_users(page, n)
                    clicks = time_clicks(page, args.steps)
                    rate = play_rate(page, args.play_seconds)
                    frame_ms, progress = long_frame(page)
                    page.close()
                    rows.append((n, time_in_process(n, args.steps), clicks, rate, frame_ms, progress))
                ctx.close()
        finally:
            stop(proc)
    print(f"The page in headless Chromium (default episode, day {WARM_UP_DAYS + 1} onwards; {args.steps} Step "
          f"clicks and {args.play_seconds:g} s of play per size; {os.cpu_count()} CPUs)\n")
    heads = ("users", "model step", "encode", "Step->redrawn median", "min", "max", "play days/s",
             "20-day frame", "progress frames")
    widths = [max(len(h), 9) for h in heads]
    print(" | ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for n, alone, clicks, rate, frame_ms, progress in rows:
        cells = (f"{n:,}", f"{alone['step']:.1f} ms", f"{alone['encode']:.1f} ms",
                 *(f"{ms:.0f} ms" for ms in (statistics.median(clicks), min(clicks), max(clicks))),
                 f"{rate:.1f}", f"{frame_ms:.0f} ms", str(progress))
        print(" | ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print("\nmodel step and encode: in this process, no server or browser (medians); encode is what the server "
          "computes for the widgets each day. progress frames: animation frames that showed the 20-day frame's "
          "progress.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
