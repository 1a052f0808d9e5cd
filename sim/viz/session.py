"""The model behind the browser page: a :class:`~sim.MessengerModel` built from page controls, plus the
scenario list (with what the page runs of each config), integer seeds, the controls' pending changes, the user
inspector's report and the events the page fires live.

Nothing here imports solara, so it is usable (and tested) without a browser or a server.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import NETWORK_KINDS, ConfigError, EventSpec, Scenario, flatten, load_config, read_toml
from sim.dates import date_of
from sim.episode import episode_configs
from sim.model import MessengerModel
from sim.viz.layout import layout_for

__all__ = ["BEHAVIOUR_SLIDERS", "CONFIG_ENV", "CONTROL_LABELS", "DEFAULT_N", "EXPERIMENTS", "LIVE_EVENTS",
           "MAX_N", "MAX_SEED", "MIN_N", "LiveEvent", "ScenarioChoice", "ScenarioInfo", "SeedError", "UserReport",
           "VizModel", "default_choice", "default_config", "defaults_for", "describe", "list_choices",
           "model_kwargs", "network_kinds", "parse_choice", "parse_seed", "pending_changes", "run_seeds",
           "slider_values"]

#: Environment variable through which ``sim viz CONFIG`` tells the page (a separate process) what to load.
CONFIG_ENV = "SIM_VIZ_CONFIG"
#: The configs the page offers, relative to the working directory (the page serves the project it is started
#: in, never files beside the installed package); :func:`default_config` is the one it opens by default.
EXPERIMENTS = Path("experiments")
#: Users drawn by default: the page is for looking at the mechanism, not for numbers (use ``sim run``).
DEFAULT_N = 1000
MIN_N = 100
MAX_N = 5000

#: Behaviour parameters the page has sliders for: key -> (label, min, max, step). A slider's positions are
#: this grid plus the scenario's own value, so an untouched slider holds that value exactly.
BEHAVIOUR_SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "b_priv": ("Privacy weight b_priv", 0.0, 3.0, 0.05),
    "b_pull": ("Pull of contacts b_pull", 0.0, 1.0, 0.01),
    "mu": ("Word of mouth mu", 0.0, 1.0, 0.01),
    "delta": ("Forgetting rate delta", 0.0, 0.5, 0.01),
    "band": ("Hysteresis band", 0.0, 0.5, 0.01),
}
#: Short names of the controls that take effect on Reset, for the pending-changes notice.
CONTROL_LABELS = {"n": "N", "network_kind": "network", **{k: k for k in BEHAVIOUR_SLIDERS}, "rng": "seed"}

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
    scenarios: the episodes first, by start date (:func:`sim.episode.episode_configs`), then the other configs
    by name. Read at call time, so configs added later appear after a page reload. Files that do not load as a
    scenario are left out."""
    if folder is None:
        folder = EXPERIMENTS if EXPERIMENTS.is_dir() else default_choice().path.parent
    folder = Path(folder)
    episodes = _episodes(folder)
    out: list[ScenarioChoice] = []
    for path in [*episodes, *sorted(set(folder.glob("*.toml")) - set(episodes))]:
        try:
            names = read_toml(path).get("scenarios", {})
            load_config(path)
        except (ConfigError, ValueError, OSError):
            continue
        out.append(ScenarioChoice(path))
        out += [ScenarioChoice(path, name) for name in names if isinstance(names.get(name), dict)]
    return out


def _episodes(folder: Path) -> list[Path]:
    """The episodes in ``folder`` by start date; none if a config there does not parse (the list then holds
    the configs that load, by name)."""
    try:
        return episode_configs(folder)
    except (ConfigError, ValueError, OSError):
        return []


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


@dataclass(frozen=True)
class ScenarioInfo:
    """A config as the scenario list shows it: whether it is an episode (a config of ./experiments with its own
    observed data and targets), its description, its dates and what the page runs of it."""

    choice: ScenarioChoice
    episode: bool
    description: str
    start: datetime.date | None
    steps: int
    config_n: int
    page_n: int
    sweep_points: int
    replications: int

    @property
    def dates(self) -> str:
        """``1 Sep 2014 – 1 Jan 2015`` (days 0 and the last), or ``days 0–122`` without a start date."""
        end = date_of(self.start, self.steps)
        if self.start is None or end is None:
            return f"days 0–{self.steps}"
        return f"{self.start:%-d %b %Y} – {end:%-d %b %Y}"

    @property
    def label(self) -> str:
        """The list's entry: name, dates, and what the page runs when that is not the config as given."""
        runs = f"{self.config_n:,} users → page runs {self.page_n:,}" if self.page_n != self.config_n else ""
        if self.sweep_points:
            runs = f"sweep of {self.sweep_points} points → page runs its base scenario at {self.page_n:,} users"
        return " · ".join(filter(None, [self.choice.label, "episode" if self.episode else "", self.dates, runs]))

    @property
    def page_runs(self) -> str:
        """A sentence: what the page runs of this config."""
        parts = []
        if self.page_n != self.config_n:
            parts.append(f"{self.page_n:,} of the config's {self.config_n:,} users (change it with Users N, up to "
                         f"{MAX_N:,})")
        else:
            parts.append(f"the config's {self.config_n:,} users")
        if self.sweep_points:
            parts.append(f"its base scenario only: the config sweeps {self.sweep_points} points, which 'sim run' "
                         "runs")
        parts.append(f"one run (the config has {self.replications} replications) on the Mesa engine, for "
                     f"{self.steps} days")
        return "The page runs " + "; ".join(parts) + "."


def describe(choice: ScenarioChoice) -> ScenarioInfo:
    """The scenario list's view of a config (read again when the file changes)."""
    stat = choice.path.stat()
    return _describe(choice, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _describe(choice: ScenarioChoice, mtime: int, size: int) -> ScenarioInfo:
    from sim.experiment import load_experiment  # the sweep's points; only needed here

    scenario = choice.load()
    exp = scenario.experiment
    sweep = load_experiment(choice.path).sweep if "sweep" in read_toml(choice.path) else None
    points = len(sweep.points(exp.seed)) if sweep else 0
    start = date_of(exp.start_date, 0)
    episode = not choice.scenario and choice.path.resolve() in {p.resolve() for p in _episodes(choice.path.parent)}
    return ScenarioInfo(choice=choice, episode=episode, description=exp.description, start=start, steps=exp.steps,
                        config_n=scenario.population.n, page_n=_page_n(scenario), sweep_points=points,
                        replications=exp.replications)


def _page_n(scenario: Scenario) -> int:
    """The number of users the page builds a scenario with by default: its own, at most DEFAULT_N (a graph file
    fixes it)."""
    return scenario.population.n if scenario.network.kind == "file" else min(scenario.population.n, DEFAULT_N)


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
#: The largest seed the page takes (numpy's SeedSequence takes any whole number >= 0; 2^63 - 1 keeps it an int64).
MAX_SEED = 2**63 - 1


class SeedError(ValueError):
    """A seed that is not a whole number from 0 to MAX_SEED."""


def parse_seed(value: Any, default: int) -> int:
    """The run seed from the seed box: a whole number from 0 to :data:`MAX_SEED` (digits only; surrounding
    spaces are ignored), or ``default`` when blank. Anything else raises :class:`SeedError` with the message the
    page shows (no text is turned into a number behind the user's back)."""
    if value is None:
        return int(default)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return int(default)
    else:
        raise SeedError(f"Seed: expected a whole number, got {value!r}")
    if not re.fullmatch(r"\d+", text) or int(text) > MAX_SEED:
        raise SeedError(f"Seed: expected a whole number from 0 to {MAX_SEED} (blank: the scenario's seed, "
                        f"{default}), got {text!r}")
    return int(text)


def run_seeds(seed: int) -> np.random.SeedSequence:
    """What a run with page seed ``seed`` is seeded with: replication 0 of ``sim run --seed SEED`` (the first
    child of the root seed), so that the page's run is the one ``sim run`` makes of the same config."""
    return np.random.SeedSequence(seed).spawn(1)[0]


# The model ---------------------------------------------------------------------------------------------------
class VizModel(MessengerModel):
    """The Mesa model with the page's controls as keyword arguments (what Reset passes back).

    ``config`` is ``path`` or ``path#scenario``; ``n``, ``network_kind`` and the behaviour parameters
    override the scenario (``None``: keep the scenario's value, exactly); ``rng`` is the seed as typed (see
    :func:`parse_seed`; blank: the scenario's seed), kept as ``run_seed``. ``layout`` holds the node
    positions, computed once per graph (:func:`sim.viz.layout.layout_for`). The run ends on the scenario's last
    day (``last_day``) unless ``past_end`` is set (the page's "continue past the end").
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
        self.run_seed = parse_seed(rng, scenario.experiment.seed)
        super().__init__(scenario, rng=run_seeds(self.run_seed))
        self.choice = choice
        self.layout = layout_for(self.graph)
        self.pending: list[LiveEvent] = []
        self.live_fired: list[EventSpec] = []
        self.last_day = scenario.experiment.steps
        self.past_end = False

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
            spec = EventSpec(day=self.day + 1, kind=event.kind, id=f"live_{len(self.live_fired) + 1}",
                             note=f"{event.label} (fired from the page)", **event.params)
            self.live_fired.append(spec)
            self.timeline.add(spec)
        super().step()

    @property
    def at_end(self) -> bool:
        """Whether the run has reached the scenario's last day (and may not go on)."""
        return self.day >= self.last_day and not self.past_end

    def days_to_run(self, wanted: int) -> int:
        """How many of ``wanted`` days may run now: up to the scenario's last day, unless past_end."""
        return wanted if self.past_end else max(0, min(wanted, self.last_day - self.day))

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Per-user arrays for drawing: ``active`` (n, K), ``primary``, ``alarm``, ``ever`` (n, K)."""
        s = self.user_state()
        return {"active": s.active, "primary": s.primary, "alarm": s.alarm, "ever": s.ever_active}

    def contacts(self, i: int) -> np.ndarray:
        """User ``i``'s contacts (node indices)."""
        return np.asarray(self.graph.neighbours(i), dtype=np.int64)

    def neighbourhood(self, i: int) -> np.ndarray:
        """User ``i``, its contacts and theirs (two steps on the graph), as a bool mask over users."""
        mask = np.zeros(self.n, dtype=bool)
        mask[i] = True
        first = self.contacts(i)
        mask[first] = True
        for j in first:
            mask[self.graph.neighbours(int(j))] = True
        return mask

    def sample(self, size: int) -> np.ndarray:
        """A fixed random sample of ``size`` users (the same for a graph every time), as a bool mask."""
        mask = np.zeros(self.n, dtype=bool)
        mask[np.random.default_rng(0).choice(self.n, min(size, self.n), replace=False)] = True
        return mask

    def user_report(self, i: int) -> UserReport:
        """What the inspector shows of user ``i``: read from its Mesa agent."""
        agent = self.users[i]
        labels = self.platforms.labels
        degree = agent.degree
        counts = np.asarray(agent.counts, dtype=float)
        return UserReport(
            node=i, engaged=agent.engaged, concern=agent.concern, attention=agent.attention, inertia=agent.inertia,
            threshold=agent.threshold, taste=dict(zip(labels, map(float, agent.taste), strict=True)),
            alarm=agent.alarm, salience=agent.salience if self.config.behaviour.salience > 0 else None,
            uses=tuple(label for label, on in zip(labels, agent.active, strict=True) if on),
            primary=labels[agent.primary] if agent.uses else None,
            ever=tuple(label for label, on in zip(labels, agent.ever, strict=True) if on),
            degree=degree,
            contact_shares=dict(zip(labels, (counts / degree if degree else counts * 0.0).tolist(), strict=True)))


@dataclass(frozen=True)
class UserReport:
    """One user as the inspector shows it: node index, traits (``taste`` per platform label), alarm (and
    salience when the scenario has two timescales), platforms in use and primary (None: on none), platforms
    ever used, number of contacts and the share of them active on each platform."""

    node: int
    engaged: bool
    concern: float
    attention: float
    inertia: float
    threshold: float
    taste: dict[str, float]
    alarm: float
    salience: float | None
    uses: tuple[str, ...]
    primary: str | None
    ever: tuple[str, ...]
    degree: int
    contact_shares: dict[str, float]


# Controls ----------------------------------------------------------------------------------------------------
def defaults_for(choice: ScenarioChoice) -> dict[str, Any]:
    """The page's initial control values for a scenario: its own parameters (exactly), at most DEFAULT_N users,
    its seed as text."""
    scenario = choice.load()
    b = scenario.behaviour
    return {"n": _page_n(scenario), "network_kind": scenario.network.kind, "rng": str(scenario.experiment.seed),
            **{key: getattr(b, key) for key in BEHAVIOUR_SLIDERS}}


def slider_values(key: str, own: float) -> list[float]:
    """The positions of a behaviour slider: its grid (:data:`BEHAVIOUR_SLIDERS`) and the scenario's own value."""
    _, lo, hi, step = BEHAVIOUR_SLIDERS[key]
    grid = {round(lo + i * step, 10) for i in range(round((hi - lo) / step) + 1)}
    return sorted(grid | {float(own)})


def model_kwargs(config: str, controls: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """:class:`VizModel`'s keyword arguments for the controls: a control left at the scenario's value passes
    None, so the model takes the config's value itself (never a value rounded by a slider)."""
    out: dict[str, Any] = {"config": config, "n": int(controls["n"]), "rng": controls["rng"]}
    for key in ("network_kind", *BEHAVIOUR_SLIDERS):
        out[key] = None if controls[key] == defaults[key] else controls[key]
    return out


def _shown(key: str, value: Any) -> str:
    if key == "n":
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).strip() or "(blank)"


def pending_changes(controls: dict[str, Any], applied: dict[str, Any]) -> list[str]:
    """The controls changed since the model was built, as ``"N: 1,000 → 2,000"`` (empty: nothing pending).
    The seed counts as changed when its text does (spaces aside)."""
    def changed(key: str) -> bool:
        if key == "rng":
            return str(controls[key]).strip() != str(applied[key]).strip()
        return controls[key] != applied[key]

    return [f"{CONTROL_LABELS[key]}: {_shown(key, applied[key])} → {_shown(key, controls[key])}"
            for key in CONTROL_LABELS if changed(key)]
