"""``sim viz``: serve the interactive page with the solara server (a child process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from sim.viz.assets import AssetsError, fill_solara_cache, missing_packages
from sim.viz.session import CONFIG_ENV, ScenarioChoice, default_choice, parse_choice

__all__ = ["APP_MODULE", "ServerError", "launch", "resolve", "serve", "server_command", "stop", "wait_ready"]

#: Served by module name, not file path: solara puts a served file's folder on sys.path, and this folder's
#: modules (session, layout, assets...) would then shadow any top-level modules of the same names.
APP_MODULE = "sim.viz.app"


class ServerError(RuntimeError):
    """The solara server exited or did not answer in time."""


def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The command that runs the solara server for the page (production mode: no reloader, no browser)."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-open"]


def resolve(config: str | None) -> ScenarioChoice:
    """The scenario to serve (``file.toml`` or ``file.toml#scenario``; None: the default), checked to load."""
    choice = parse_choice(os.path.abspath(config)) if config else default_choice()
    choice.load()  # a bad config fails here, with its message, not in the browser
    return choice


def launch(choice: ScenarioChoice, host: str = "127.0.0.1", port: int = 8765,
           log: IO[str] | None = None) -> subprocess.Popen:
    """Start the server for ``choice`` (output to ``log``, default: this process's)."""
    # SOLARA_THEME_SHOW_BANNER: no "This website runs on Solara" badge over the page's corner. The warning
    # silenced is solara's, on every page load, about cookies over plain http (it matters only in iframes).
    quiet = "ignore:Cookies with samesite=none require https"
    warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), quiet]))
    env = {**os.environ, CONFIG_ENV: choice.value, "SOLARA_THEME_SHOW_BANNER": "false", "PYTHONWARNINGS": warnings}
    return subprocess.Popen(server_command(host, port), env=env, stdout=log, stderr=subprocess.STDOUT if log else None)


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 90.0, log: Path | None = None) -> float:
    """Wait until ``url`` answers 200; returns the seconds waited. Raises ServerError (with the end of
    ``log``) if the server exits or times out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if proc.poll() is not None:
            raise ServerError(f"the solara server exited with status {proc.returncode}{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.3)
    raise ServerError(f"the solara server did not answer at {url} within {timeout_s:.0f} s{_tail(log)}")


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text(encoding='utf-8', errors='replace')[-3000:]}" if log and log.exists() else ""


def stop(proc: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """Stop the server gracefully (SIGINT, as Ctrl-C), killing it if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve(config: str | None = None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the page until interrupted; returns the server's exit status (0 after Ctrl-C).

    ``config`` is a scenario file, optionally ``file.toml#scenario`` for one of its ``[scenarios]``
    (default: the earliest episode in ./experiments); the page shows it at ~1,000 users. Raises ConfigError early if it
    does not load.
    """
    choice = resolve(config)
    _ensure_assets()
    print(f"serving {choice.label} on http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    proc = launch(choice, host, port)
    previous = _on_sigterm(_SigtermError.raise_it)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _SigtermError):
        return 0
    finally:
        stop(proc)  # also on SIGTERM, which would otherwise leave the server running without its parent
        _on_sigterm(previous)


class _SigtermError(Exception):
    """SIGTERM arrived."""

    @staticmethod
    def raise_it(signum: int, frame: object) -> None:
        raise _SigtermError


def _on_sigterm(handler: Any) -> Any:
    """Install a SIGTERM handler (only possible in the main thread); returns the previous one."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    return signal.signal(signal.SIGTERM, handler)


def _ensure_assets() -> None:
    """Fill solara's asset cache if needed; without npm, warn and carry on (the CDN may be reachable)."""
    if not missing_packages():
        return
    try:
        fill_solara_cache()
    except AssetsError as exc:
        print(f"warning: {exc}", file=sys.stderr)
