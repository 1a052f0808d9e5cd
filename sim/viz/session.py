"""The model behind the browser page: a :class:`~sim.MessengerModel` built from page controls, plus the
scenario list, seed coercion and the events the page fires live.

Nothing here imports solara, so it is usable (and tested) without a browser or a server.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import NETWORK_KINDS, ConfigError, EventSpec, Scenario, flatten, load_config, read_toml
from sim.episode import episode_configs
from sim.model import MessengerModel
from sim.viz.layout import layout_for

__all__ = ["BEHAVIOUR_SLIDERS", "CONFIG_ENV", "DEFAULT_N", "EXPERIMENTS", "LIVE_EVENTS", "LiveEvent",
           "ScenarioChoice", "VizModel", "coerce_seed", "default_choice", "default_config", "defaults_for",
           "list_choices", "network_kinds", "parse_choice"]

#: Environment variable through which ``sim viz CONFIG`` tells the page (a separate process) what to load.
CONFIG_ENV = "SIM_VIZ_CONFIG"
#: The configs the page offers, relative to the working directory (the page serves the project it is started
#: in, never files beside the installed package); :func:`default_config` is the one it opens by default.
EXPERIMENTS = Path("experiments")
#: Users drawn by default: the page is for looking at the mechanism, not for numbers (use ``sim run``).
DEFAULT_N = 1000
MAX_N = 5000

#: Behaviour parameters the page has sliders for: key -> (label, min, max, step).
BEHAVIOUR_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "b_priv": ("Privacy weight b_priv", 0.0, 3.0, 0.05),
    "b_pull": ("Pull of contacts b_pull", 0.0, 1.0, 0.01),
    "mu": ("Word of mouth mu", 0.0, 1.0, 0.01),
    "delta": ("Forgetting rate delta", 0.0, 0.5, 0.01),
    "band": ("Hysteresis band", 0.0, 0.5, 0.01),
}

#: Generators the page offers (complete graphs are unreadable when drawn; file graphs fix N).
_OFFERED_KINDS = ("sbm", "powerlaw_cluster", "watts_strogatz", "barabasi_albert", "erdos_renyi", "chung_lu")


@dataclass(frozen=True)
class LiveEvent:
    """An event button: the kind it schedules and the parameters it gives it."""

    key: str
    label: str
    kind: str
    params: dict[str, float] = field(default_factory=dict)
    help: str = ""


#: The page's event buttons. Each event lasts one day (breaking news), so its effect shows on the next step.
LIVE_EVENTS: tuple[LiveEvent, ...] = (
    LiveEvent("announcement", "Announcement", "announcement", {"reach": 0.8, "intensity": 0.5},
              "The state announces it will monitor online talk: hearers' alarm rises"),
    LiveEvent("revelation", "Revelation", "revelation", {"reach": 0.9, "intensity": 0.8},
              "News that the police read users' chats: a stronger alarm"),
    LiveEvent("apology_refusal", "Apology & warrant refusal", "apology_refusal",
              {"reach": 0.7, "credibility": 0.3, "exposure_factor": 0.7},
              "The incumbent apologises and refuses warrants: calms hearers, lowers its exposure"),
    LiveEvent("encryption_launch", "Encryption launch", "encryption_launch",
              {"reach": 0.5, "credibility": 0.1, "exposure_factor": 0.5},
              "The incumbent ships end-to-end encryption: halves its exposure"),
    LiveEvent("clarification", "Clarification", "clarification", {"reach": 0.6, "credibility": 0.3},
              "The state says it does not read private chats: calms hearers"),
)
_LIVE_BY_KEY = {e.key: e for e in LIVE_EVENTS}


# Scenarios ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioChoice:
    """A config file and optionally one of its ``[scenarios.<name>]`` (written ``path#name``)."""

    path: Path
    scenario: str = ""

    @property
    def value(self) -> str:
        return f"{self.path}#{self.scenario}" if self.scenario else str(self.path)

    @property
    def label(self) -> str:
        return f"{self.path.stem} › {self.scenario}" if self.scenario else self.path.stem

    def overrides(self) -> dict[str, Any]:
        """The named scenario's overrides as dotted keys (none for the file's own baseline)."""
        if not self.scenario:
            return {}
        table = read_toml(self.path).get("scenarios", {})
        if self.scenario not in table:
            raise ConfigError(f"{self.path}: no [scenarios.{self.scenario}] (has: {', '.join(table) or 'none'})")
        return flatten(table[self.scenario])

    def load(self, overrides: dict[str, Any] | None = None) -> Scenario:
        return load_config(self.path, {**self.overrides(), **(overrides or {})})


def parse_choice(value: str | Path) -> ScenarioChoice:
    """``path`` or ``path#scenario`` into a choice (the path as given, relative to the working directory)."""
    text = str(value)
    path, _, name = text.partition("#")
    return ScenarioChoice(Path(path), name)


def list_choices(folder: str | Path | None = None) -> list[ScenarioChoice]:
    """Every loadable config in ``folder`` (default: the working directory's experiments/, or where there is
    none, the folder of the config the page opens, :func:`default_choice`), each followed by its named
    scenarios. Read at call time, so configs added later appear after a page reload. Files that do not load
    as a scenario are left out."""
    if folder is None:
        folder = EXPERIMENTS if EXPERIMENTS.is_dir() else default_choice().path.parent
    folder = Path(folder)
    out: list[ScenarioChoice] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            names = read_toml(path).get("scenarios", {})
            load_config(path)
        except (ConfigError, ValueError, OSError):
            continue
        out.append(ScenarioChoice(path))
        out += [ScenarioChoice(path, name) for name in names if isinstance(names.get(name), dict)]
    return out


def default_config() -> Path:
    """The config the page opens when given none: the earliest episode in ./experiments (by start date), else
    the first config there. ConfigError if there is none (``sim viz CONFIG`` names one)."""
    episodes = episode_configs(EXPERIMENTS) if EXPERIMENTS.is_dir() else []
    if episodes:
        return episodes[0]
    configs = sorted(EXPERIMENTS.glob("*.toml")) if EXPERIMENTS.is_dir() else []
    if not configs:
        raise ConfigError(f"no config given and none in {EXPERIMENTS.resolve()}: run 'sim viz CONFIG'")
    return configs[0]


def default_choice() -> ScenarioChoice:
    """What the page opens with: ``$SIM_VIZ_CONFIG`` if set (``sim viz CONFIG``), else :func:`default_config`."""
    return parse_choice(os.environ.get(CONFIG_ENV) or default_config())


def network_kinds(current: str) -> list[str]:
    """Network kinds offered for a scenario whose own kind is ``current`` (which always stays offered)."""
    kinds = [k for k in _OFFERED_KINDS if k in NETWORK_KINDS and _buildable(k)]
    return kinds if current in kinds else [current, *kinds]


@functools.cache
def _buildable(kind: str) -> bool:
    """Whether this version of sim.network builds ``kind`` (checked once on a tiny graph), so that Reset with
    any offered kind works: an error there would replace the whole page with a traceback."""
    try:
        VizModel(n=60, network_kind=kind)
    except Exception:  # any failure means: do not offer it
        return False
    return True


# Seeds -------------------------------------------------------------------------------------------------------
def coerce_seed(value: Any, default: int) -> int:
    """A run seed from what the seed box holds. SolaraViz's InputText hands over text: digits are used as
    the number they spell, blank means ``default``, and any other text is hashed to a stable seed (so every
    typed seed works and the same text always gives the same run)."""
    if value is None:
        return int(default)
    if isinstance(value, bool):
        raise TypeError(f"seed must be an integer or text, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value) if value >= 0 else _hash_seed(str(value))
    text = str(value).strip()
    if not text:
        return int(default)
    if re.fullmatch(r"\d+", text):
        return int(text)
    return _hash_seed(text)


def _hash_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


# The model ---------------------------------------------------------------------------------------------------
class VizModel(MessengerModel):
    """The Mesa model with the page's controls as keyword arguments (what SolaraViz's Reset passes back).

    ``config`` is ``path`` or ``path#scenario``; ``n``, ``network_kind`` and the behaviour parameters
    override the scenario (``None``: keep the scenario's value); ``rng`` is the seed as typed (see
    :func:`coerce_seed`; blank: the scenario's seed), kept as ``run_seed``. ``layout`` holds the node
    positions, computed once per graph (:func:`sim.viz.layout.layout_for`).
    """

    def __init__(self, config: str | None = None, n: int | None = DEFAULT_N,
                 network_kind: str | None = None, b_priv: float | None = None, b_pull: float | None = None,
                 mu: float | None = None, delta: float | None = None, band: float | None = None,
                 rng: Any = None) -> None:
        choice = parse_choice(config if config is not None else str(default_config()))
        overrides: dict[str, Any] = {}
        if n is not None:
            overrides["population.n"] = int(n)
        if network_kind:
            overrides["network.kind"] = network_kind
        for key, value in {"b_priv": b_priv, "b_pull": b_pull, "mu": mu, "delta": delta, "band": band}.items():
            if value is not None:
                overrides[f"behaviour.{key}"] = float(value)
        scenario = choice.load(overrides)
        self.run_seed = coerce_seed(rng, scenario.experiment.seed)
        super().__init__(scenario, rng=self.run_seed)
        self.choice = choice
        self.layout = layout_for(self.graph)
        self.pending: list[LiveEvent] = []
        self.live_fired = 0

    def fire(self, key: str) -> LiveEvent:
        """Queue the live event ``key`` (one of :data:`LIVE_EVENTS`) to act on the next step.

        Only queued here: the page's Play loop steps the model in another thread, and adding to the timeline
        while it iterates would race; :meth:`step` schedules the queue in the stepping thread.
        """
        event = _LIVE_BY_KEY[key]
        self.pending.append(event)
        return event

    def step(self) -> None:
        """One day, after scheduling the queued live events for it."""
        while self.pending:
            event = self.pending.pop(0)
            self.live_fired += 1
            self.timeline.add(EventSpec(day=self.day + 1, kind=event.kind, id=f"live_{self.live_fired}",
                                        note=f"{event.label} (fired from the page)", **event.params))
        super().step()

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Per-user arrays for drawing: ``active`` (n, K), ``primary``, ``alarm``, ``ever`` (n, K)."""
        s = self.user_state()
        return {"active": s.active, "primary": s.primary, "alarm": s.alarm, "ever": s.ever_active}


def defaults_for(choice: ScenarioChoice) -> dict[str, Any]:
    """The page's initial control values for a scenario: its own parameters, at most DEFAULT_N users."""
    scenario = choice.load()
    b = scenario.behaviour
    n = scenario.population.n if scenario.network.kind == "file" else min(scenario.population.n, DEFAULT_N)
    return {"n": n, "network_kind": scenario.network.kind, "rng": str(scenario.experiment.seed),
            **{key: getattr(b, key) for key in BEHAVIOUR_SLIDERS}}
