"""Solara's browser assets for machines that cannot reach the CDN (``sim assets``).

The solara server fetches its JavaScript from ``https://cdn.jsdelivr.net/npm/<package>@<version>/...`` and
keeps a copy in its proxy cache, ``<venv>/share/solara/cdn/<package>@<version>/``. With no route to the CDN
the page stays blank. jsdelivr mirrors the npm registry, so the same files come from ``npm pack``; this
module puts them where the proxy looks. Packages already in the cache are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sim.config import ConfigError

__all__ = ["SOLARA_PACKAGES", "AssetsError", "cache_dir", "fill_solara_cache", "missing_packages"]

#: What solara 1.64 loads with ipyvue<2 / ipyvuetify<2 (the Vue-2 stack Mesa's page needs), and ECharts, which
#: the page's charts load through solara's CDN proxy (the version solara's own ``FigureEcharts`` loads,
#: :data:`sim.viz.widgets.ECHARTS`). The page draws no altair chart, so vega/vega-lite/vega-embed are not needed.
SOLARA_PACKAGES: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "echarts@5.4.0",
)
NPM_TIMEOUT_S = 300


class AssetsError(ConfigError):
    """The assets cannot be fetched (no npm, or npm failed). A ConfigError, so ``sim`` prints it plainly."""


def cache_dir() -> Path:
    """Solara's CDN proxy cache of the running interpreter's environment."""
    import solara.server.settings as settings

    return Path(settings.assets.proxy_cache_dir)


def _is_cached(folder: Path) -> bool:
    return folder.is_dir() and (folder / "package.json").is_file()


def missing_packages(packages: Iterable[str] | None = None, cache: Path | None = None) -> list[str]:
    """The package specs not yet in the cache."""
    cache = cache or cache_dir()
    return [p for p in (packages or SOLARA_PACKAGES) if not _is_cached(cache / p)]


def fill_solara_cache(packages: Iterable[str] | None = None, cache: Path | None = None,
                      npm: str = "npm") -> list[str]:
    """Fetch each missing package spec (``name@version``) with ``npm pack`` and unpack it into solara's
    cache as ``<cache>/<spec>/``. Returns the specs fetched (empty when all were present) and prints them.

    Raises :class:`AssetsError` if something is missing and npm is not installed or fails.
    """
    cache = cache or cache_dir()
    packages = list(packages or SOLARA_PACKAGES)
    todo = missing_packages(packages, cache)
    if not todo:
        print(f"solara assets: all {len(packages)} packages already cached in {cache}")
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise AssetsError(f"npm not found, so the page's JavaScript ({', '.join(todo)}) cannot be fetched into "
                          f"{cache}. Install npm (Debian: apt-get install npm) and run 'sim assets' again; "
                          "a machine that can reach cdn.jsdelivr.net does not need this step.")
    done = []
    with tempfile.TemporaryDirectory(prefix="sim-assets-") as tmp:
        for spec in todo:
            _fetch(exe, spec, Path(tmp), cache / spec)
            print(f"cached {spec}")
            done.append(spec)
    return done


def _fetch(npm: str, spec: str, tmp: Path, dest: Path) -> None:
    """``npm pack`` one spec and unpack it (minus the tarball's top folder) into ``dest``, atomically: a
    failure leaves no half-filled folder that a later run would take for cached."""
    try:
        out = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp, capture_output=True, text=True,
                             timeout=NPM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise AssetsError(f"npm pack {spec} took more than {NPM_TIMEOUT_S} s (is the npm registry "
                          "reachable?)") from None
    names = out.stdout.split()
    if out.returncode != 0 or not names or not (tmp / names[-1]).is_file():
        raise AssetsError(f"npm pack {spec} failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    staging = tmp / f"unpack-{len(list(tmp.iterdir()))}"
    with tarfile.open(tmp / names[-1]) as tar:
        members = []
        for m in tar.getmembers():
            parts = Path(m.name).parts
            if len(parts) > 1:  # strip the top folder ("package/" for most packages)
                m.name = str(Path(*parts[1:]))
                members.append(m)
        tar.extractall(staging, members=members, filter="data")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():  # an incomplete earlier attempt
        shutil.rmtree(dest)
    shutil.move(str(staging), dest)


if __name__ == "__main__":
    try:
        fill_solara_cache(sys.argv[1:] or None)
    except AssetsError as exc:
        sys.exit(f"error: {exc}")
