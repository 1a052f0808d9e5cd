"""How long the browser page takes from a click on Step to the redrawn page, at 1,000 and 5,000 users.

Starts the page's server (as ``sim viz`` does) on a free port, opens it in headless Chromium, sets the number
of users with the page's own slider and Reset, then clicks Step repeatedly and times each click until the
page shows the next day and a new chart image has loaded. For comparison it also times the model's step
alone (no page) and the drawing of both pictures. Prints a table.

    .venv/bin/python benchmarks/viz_step.py [--steps 10] [--sizes 1000,5000]

Needs /usr/bin/chromium (or $CHROMIUM) and the playwright client; run ``sim assets`` first on a machine that
cannot reach the CDN.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path.cwd()  # run from the repository root, as `make bench` does
if not (ROOT / "experiments").is_dir():
    sys.exit("run this from the repository root (no experiments/ folder here)")

from sim.viz.drawing import ChartPicture, NetworkPicture  # noqa: E402
from sim.viz.server import launch, resolve, stop, wait_ready  # noqa: E402
from sim.viz.session import VizModel  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
#: Start from the eve of the 2014 scenario's first announcement, so the timed days have news and switching.
WARM_UP_DAYS = 14
#: True once the page shows ``day`` and the chart image is a new, fully loaded one.
REDRAWN = """([day, oldSrc]) => {
    const d = document.querySelector('.viz-day');
    const img = document.querySelector('img.viz-charts');
    return d && d.textContent.trim() === String(day) && img && img.src !== oldSrc && img.complete;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_in_process(n: int, steps: int) -> dict[str, float]:
    """Median ms of the model's step and of drawing both pictures, without server or browser."""
    model = VizModel(n=n)
    for _ in range(WARM_UP_DAYS):
        model.step()
    net = NetworkPicture(model.graph, model.layout, model.platforms.names, model.platforms.incumbent)
    chart = ChartPicture(model.platforms.names, model.platforms.incumbent, model.config.experiment.steps, model.date)
    step_ms, draw_ms = [], []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        step_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        state = model.state
        net.render(state["active"], state["primary"], state["ever"])
        chart.render(model.records, model.timeline.fired(model.day), model.config.experiment.steps)
        draw_ms.append(1000 * (time.perf_counter() - t))
    return {"step": statistics.median(step_ms), "draw": statistics.median(draw_ms)}


def set_users(page: Any, n: int) -> None:
    """Move the page's N slider to ``n`` (arrow keys, 100 a press) and Reset."""
    slider = page.locator(".v-input", has_text="Users N").get_by_role("slider")
    current = int(slider.get_attribute("aria-valuenow"))
    slider.focus()
    for _ in range(abs(n - current) // 100):
        slider.press("ArrowRight" if n > current else "ArrowLeft")
    page.get_by_text(f"Users N = {n:,}").wait_for()
    page.get_by_role("button", name="Reset").click()
    page.get_by_text(f"{n:,} users").wait_for(timeout=120_000)


def time_clicks(page: Any, steps: int) -> list[float]:
    """Milliseconds from each Step click to the redrawn page."""
    step = page.get_by_role("button", name="Step", exact=True)
    day = int(page.locator(".viz-day").inner_text())
    for _ in range(WARM_UP_DAYS - day):
        day += 1
        step.click()
        page.wait_for_function(REDRAWN, arg=[day, ""], timeout=120_000)
    out = []
    for _ in range(steps):
        old = page.locator("img.viz-charts").get_attribute("src")
        day += 1
        t = time.perf_counter()
        step.click()
        page.wait_for_function(REDRAWN, arg=[day, old], timeout=120_000, polling=5)
        out.append(1000 * (time.perf_counter() - t))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per size (default 10)")
    parser.add_argument("--sizes", default="1000,5000", help="numbers of users (default 1000,5000)")
    args = parser.parse_args()
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
                page = ctx.new_page()
                page.goto(url)
                page.get_by_role("button", name="Step", exact=True).wait_for(timeout=60_000)
                for n in sizes:
                    set_users(page, n)
                    clicks = time_clicks(page, args.steps)
                    alone = time_in_process(n, args.steps)
                    rows.append((n, alone, clicks))
                    page.get_by_role("button", name="Reset").click()
                ctx.close()
        finally:
            stop(proc)
    print(f"Step click -> redrawn page (day {WARM_UP_DAYS + 1} onwards of the 2014 scenario, {args.steps} steps "
          f"each; {os.cpu_count()} CPUs)\n")
    widths = (7, 10, 9, 18, 7, 7)
    heads = ("users", "model step", "draw both", "click->page median", "min", "max")
    print(" | ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for n, alone, clicks in rows:
        cells = (f"{n:,}", *(f"{ms:.0f} ms" for ms in (alone["step"], alone["draw"], statistics.median(clicks),
                                                        min(clicks), max(clicks))))
        print(" | ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    print("\nmodel step and draw both: in this process, no server or browser (medians).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
