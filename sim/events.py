"""Event kinds and the timeline (docs/MODEL.md, 7.1).

Each kind is a small class with ``act(world, day, rng)``. ``world`` is either engine: it exposes ``n``,
``traits`` (for attention), ``platforms`` (a :class:`~sim.platforms.PlatformState`) and two alarm methods,
``raise_alarm(hearers, intensity, day)`` and ``calm_alarm(hearers, credibility)``. Who hears news is drawn here,
at model level, so both engines see the same hearers.

To add a kind: subclass :class:`Event` (or :class:`News`), list its parameters in ``config.EVENT_KINDS`` and
register the class in :data:`EVENT_CLASSES`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sim.config import EventSpec
from sim.platforms import PlatformState
from sim.population import Traits

__all__ = ["EVENT_CLASSES", "AlarmingNews", "AppealChange", "CalmingNews", "Event", "News", "Outage",
           "Timeline", "World"]


class World(Protocol):
    """What events may read and change in a model (both engines implement it)."""

    n: int
    traits: Traits
    platforms: PlatformState

    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None: ...

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None: ...


class Event:
    """A dated event. Acts on the days ``[day, day + duration_days)``."""

    def __init__(self, spec: EventSpec) -> None:
        self.spec = spec

    @property
    def last_day(self) -> int:
        return self.spec.day + self.spec.duration_days - 1

    def acts_on(self, day: int) -> bool:
        return self.spec.day <= day <= self.last_day

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        raise NotImplementedError


class News(Event):
    """News that users hear directly with probability ``reach * a_i`` in all, spread over the coverage days:
    on each day a user who has not yet heard it hears it with hazard ``1 - (1 - reach a_i)^(1/days)``.
    One uniform array over users is drawn per coverage day."""

    def __init__(self, spec: EventSpec) -> None:
        super().__init__(spec)
        self.heard: np.ndarray | None = None
        self._hazard: np.ndarray | None = None

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        if day == self.spec.day:
            self.heard = np.zeros(world.n, dtype=bool)
            p = self.spec.reach * world.traits.attention
            days = self.spec.duration_days
            self._hazard = -np.expm1(np.log1p(-p) / days) if days > 1 else p  # the same every coverage day
            self.on_first_day(world)
        hearers = rng.random(world.n) < self._hazard
        hearers &= ~self.heard
        self.heard |= hearers
        if day == self.last_day:
            self._hazard = None  # an array of floats over users: free it once the coverage is over
        self.on_hearers(world, hearers, day)

    def on_first_day(self, world: World) -> None:
        """Objective effects, for everyone at once (none by default)."""

    def on_hearers(self, world: World, hearers: np.ndarray, day: int) -> None:
        raise NotImplementedError


class AlarmingNews(News):
    """``announcement``, ``revelation``: hearers' alarm rises, ``r <- r + intensity (1 - r)``, and they carry
    fresh news to their contacts for ``buzz_days``."""

    def on_hearers(self, world: World, hearers: np.ndarray, day: int) -> None:
        world.raise_alarm(hearers, self.spec.intensity, day)


class CalmingNews(News):
    """Incumbent responses and the state's clarification: hearers' alarm falls, ``r <- r (1 - credibility)``;
    retention cuts, launches and warrant refusals also change the incumbent's exposure for everyone."""

    def on_first_day(self, world: World) -> None:
        k = world.platforms.incumbent
        if self.spec.exposure_to >= 0:
            world.platforms.set_exposure(k, self.spec.exposure_to)
        if self.spec.exposure_factor != 1.0:
            world.platforms.scale_exposure(k, self.spec.exposure_factor)

    def on_hearers(self, world: World, hearers: np.ndarray, day: int) -> None:
        if self.spec.credibility > 0:
            world.calm_alarm(hearers, self.spec.credibility)


class AppealChange(Event):
    """``localisation``, ``feature``: a rival's appeal rises by ``appeal_gain`` (once)."""

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        if day == self.spec.day:
            world.platforms.add_appeal(world.platforms.index(self.spec.platform), self.spec.appeal_gain)


class Outage(Event):
    """``outage``: the incumbent is down for ``duration_days``; while down, users whose primary it is feel a
    push of ``severity`` toward rivals."""

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        world.platforms.disruption = max(world.platforms.disruption, self.spec.severity)


EVENT_CLASSES: dict[str, type[Event]] = {
    "announcement": AlarmingNews,
    "revelation": AlarmingNews,
    "retention_cut": CalmingNews,
    "encryption_promise": CalmingNews,
    "encryption_launch": CalmingNews,
    "apology_refusal": CalmingNews,
    "clarification": CalmingNews,
    "localisation": AppealChange,
    "feature": AppealChange,
    "outage": Outage,
}


class Timeline:
    """The run's events, in day order (ties keep config order). Fresh event objects per run."""

    def __init__(self, specs: tuple[EventSpec, ...]) -> None:
        self.events: list[Event] = [EVENT_CLASSES[s.kind](s) for s in specs]

    def add(self, spec: EventSpec) -> None:
        """Schedule one more event (the browser page fires events live this way)."""
        self.events.append(EVENT_CLASSES[spec.kind](spec))
        self.events.sort(key=lambda e: e.spec.day)

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        """Let today's events act, in order; each news event draws its own uniform array."""
        world.platforms.disruption = 0.0
        for event in self.events:
            if event.acts_on(day):
                event.act(world, day, rng)

    def fired(self, day: int) -> list[EventSpec]:
        """Events that have started on or before ``day``."""
        return [e.spec for e in self.events if e.spec.day <= day]

    def upcoming(self, day: int) -> list[EventSpec]:
        """Events that start after ``day``."""
        return [e.spec for e in self.events if e.spec.day > day]
