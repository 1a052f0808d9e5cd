"""Event kinds and the timeline (docs/MODEL.md, 7.1).

Each kind is a small class with ``act(world, day, rng)``. ``world`` is either engine: it exposes ``n``,
``traits`` (for attention), ``platforms`` (a :class:`~sim.platforms.PlatformState`) and two alarm methods,
``raise_alarm(hearers, intensity, day)`` and ``calm_alarm(hearers, credibility)``. Who hears news is drawn here,
at model level, so both engines see the same hearers.

To add a kind: subclass :class:`Event` (or :class:`News`), list its parameters in ``config.EVENT_KINDS`` and
register the class in :data:`EVENT_CLASSES`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol

import numpy as np

from sim.config import EventSpec
from sim.platforms import PlatformState
from sim.population import Traits

__all__ = ["EVENT_CLASSES", "AlarmingNews", "AppealChange", "CalmingNews", "Event", "News", "Outage",
           "PolicyChange", "Promotion", "QualityChange", "Timeline", "World", "schedule"]


class World(Protocol):
    """What events may read and change in a model (both engines implement it)."""

    n: int
    traits: Traits
    platforms: PlatformState

    def raise_alarm(self, hearers: np.ndarray, intensity: float, day: int) -> None: ...

    def calm_alarm(self, hearers: np.ndarray, credibility: float) -> None: ...

    def install(self, users: np.ndarray, k: int) -> None: ...


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
            if days > 1:  # the same every coverage day; p = 1 gives log1p(-1) = -inf and a hazard of 1
                with np.errstate(divide="ignore"):
                    self._hazard = -np.expm1(np.log1p(-p) / days)
            else:
                self._hazard = p
            self.on_first_day(world)
        hearers = rng.random(world.n) < self._hazard
        hearers &= ~self.heard
        self.heard |= hearers
        if day == self.last_day:
            self._hazard = None  # an array of floats over users: free it once the coverage is over
        self.on_hearers(world, hearers, day, rng)

    def on_first_day(self, world: World) -> None:
        """Objective effects, for everyone at once (none by default)."""

    def on_hearers(self, world: World, hearers: np.ndarray, day: int, rng: np.random.Generator) -> None:
        raise NotImplementedError


class AlarmingNews(News):
    """``announcement``, ``revelation``: hearers' alarm rises, ``r <- r + intensity (1 - r)``, and they carry
    fresh news to their contacts for ``buzz_days``."""

    def on_hearers(self, world: World, hearers: np.ndarray, day: int, rng: np.random.Generator) -> None:
        world.raise_alarm(hearers, self.spec.intensity, day)


def change_exposure(world: World, spec: EventSpec) -> None:
    """Set the incumbent's exposure to ``exposure_to`` (if >= 0), then multiply it by ``exposure_factor``
    (at most 1 after)."""
    k = world.platforms.incumbent
    if spec.exposure_to >= 0:
        world.platforms.set_exposure(k, spec.exposure_to)
    if spec.exposure_factor != 1.0:
        world.platforms.scale_exposure(k, spec.exposure_factor)


class PolicyChange(AlarmingNews):
    """``policy_change``: the incumbent changes its own terms (e.g. shares more data with its owner): its
    exposure changes for everyone on the first day, and hearers' alarm rises as for alarming news."""

    def on_first_day(self, world: World) -> None:
        change_exposure(world, self.spec)


class CalmingNews(News):
    """Incumbent responses, the state's clarification, a postponement: hearers' alarm falls,
    ``r <- r (1 - credibility)``; retention cuts, launches and warrant refusals also change the incumbent's
    exposure for everyone. (A postponement's move of its target is in :func:`schedule`.)"""

    def on_first_day(self, world: World) -> None:
        change_exposure(world, self.spec)

    def on_hearers(self, world: World, hearers: np.ndarray, day: int, rng: np.random.Generator) -> None:
        if self.spec.credibility > 0:
            world.calm_alarm(hearers, self.spec.credibility)


class AppealChange(Event):
    """``localisation``, ``feature``: a rival's appeal rises by ``appeal_gain`` (once)."""

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        if day == self.spec.day:
            world.platforms.add_appeal(world.platforms.index(self.spec.platform), self.spec.appeal_gain)


class QualityChange(Event):
    """``quality_change``: any platform's appeal changes by ``appeal_gain`` (a new owner's changes to the
    incumbent, a rival's zero-rated data, a deadline's loss of features); undone after ``duration_days`` if
    ``temporary``."""

    def acts_on(self, day: int) -> bool:
        return day == self.spec.day or (self.spec.temporary and day == self.spec.day + self.spec.duration_days)

    def act(self, world: World, day: int, rng: np.random.Generator) -> None:
        sign = 1.0 if day == self.spec.day else -1.0
        world.platforms.add_appeal(world.platforms.index(self.spec.platform), sign * self.spec.appeal_gain)


class Promotion(News):
    """``promotion``: a campaign (the state, an employer, a celebrity) urges users onto a rival: each hearer
    installs it with chance ``uptake`` (one more uniform array over users per coverage day), without changing
    their primary platform; whether they keep it is then their own decision."""

    def on_hearers(self, world: World, hearers: np.ndarray, day: int, rng: np.random.Generator) -> None:
        installs = hearers & (rng.random(world.n) < self.spec.uptake)
        world.install(installs, world.platforms.index(self.spec.platform))


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
    "policy_change": PolicyChange,
    "quality_change": QualityChange,
    "postponement": CalmingNews,
    "promotion": Promotion,
}


def schedule(specs: Iterable[EventSpec]) -> list[EventSpec]:
    """The events as they happen, in day order (ties keep the given order): each postponement moves its
    target (``target``, an event still to come) to ``to_day``, or cancels it (``to_day = 0``). The move is
    known when the config is read, so runs, plots and the page all use this schedule; the postponement itself
    acts as calming news on its own day."""
    specs = list(specs)
    moves = {e.target: e.to_day for e in specs if e.kind == "postponement"}
    out = []
    for e in specs:
        if e.id in moves:
            if moves[e.id] == 0:
                continue
            e = dataclasses.replace(e, day=moves[e.id])
        out.append(e)
    return sorted(out, key=lambda e: e.day)


class Timeline:
    """The run's events, in day order (ties keep config order). Fresh event objects per run."""

    def __init__(self, specs: tuple[EventSpec, ...]) -> None:
        self.events: list[Event] = [EVENT_CLASSES[s.kind](s) for s in schedule(specs)]

    def add(self, spec: EventSpec) -> None:
        """Schedule one more event (the browser page fires events live this way); a postponement moves or
        cancels its target if that has not started by the postponement's day."""
        if spec.kind == "postponement":
            for i, e in enumerate(self.events):
                if e.spec.id == spec.target and e.spec.day > spec.day:
                    moved = dataclasses.replace(e.spec, day=spec.to_day)
                    if spec.to_day == 0:
                        del self.events[i]
                    else:
                        self.events[i] = EVENT_CLASSES[moved.kind](moved)
                    break
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
