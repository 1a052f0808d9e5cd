"""The user agent of the Mesa engine: its state and its daily step, calling the kernels in sim/rules.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

from sim import rules
from sim.population import NEVER

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import MessengerModel

__all__ = ["UserAgent"]


class UserAgent(FixedAgent):
    """A messenger user on one node of the social graph.

    Traits (fixed): ``concern`` c, ``attention`` a, ``inertia`` kappa, ``threshold`` phi, ``taste`` e_k per
    platform, ``engaged``. State: ``active`` (bool per platform), ``primary`` (platform index), ``alarm`` r,
    ``heard`` (day the user last heard alarming news directly), ``ever`` (ever active, per platform),
    ``adoptions`` (adoption events, per platform).
    """

    model: MessengerModel

    def __init__(self, model: MessengerModel, cell: Cell, node: int) -> None:
        super().__init__(model)
        self.cell = cell
        self.node = node
        t, init = model.traits, model.initial
        self.engaged = bool(t.engaged[node])
        self.concern = float(t.concern[node])
        self.attention = float(t.attention[node])
        self.inertia = float(t.inertia[node])
        self.threshold = float(t.threshold[node])
        self.taste = t.taste[node].copy()
        self.active = init.active[node].copy()
        self.primary = int(init.primary[node])
        self.alarm = float(init.alarm[node])
        self.heard = NEVER
        self.ever = self.active.copy()
        self.adoptions = np.zeros(len(self.active), dtype=np.int64)
        self.contacts: list[UserAgent] = []
        self._next: tuple[np.ndarray, int] | None = None

    # News ------------------------------------------------------------------------------------------------
    def hear_alarming_news(self, intensity: float, day: int) -> None:
        self.alarm = rules.alarm_after_news(self.alarm, intensity)
        self.heard = day

    def hear_calming_news(self, credibility: float) -> None:
        self.alarm = rules.alarm_after_calming_news(self.alarm, credibility)

    # The daily step --------------------------------------------------------------------------------------
    def listen(self, day: int) -> None:
        """Word of mouth: fresh news from contacts who heard it directly in the last buzz_days days."""
        b = self.model.config.behaviour
        fresh = sum(1 for c in self.contacts if day - c.heard < b.buzz_days)
        g = rules.contact_shares(np.array([fresh]), np.array([len(self.contacts)]))[0]
        self.alarm = rules.word_of_mouth(self.alarm, g, b.mu)

    def forget(self) -> None:
        b = self.model.config.behaviour
        self.alarm = rules.forget(self.alarm, b.r_base * self.concern, b.delta)

    def decide(self, u: np.ndarray) -> None:
        """Choose tomorrow's platforms from contacts' platforms today (applied in :meth:`advance`)."""
        m = self.model
        counts = np.zeros(len(self.active), dtype=np.int64)
        for c in self.contacts:
            counts += c.active
        x = rules.DecisionInputs(
            incumbent=m.platforms.incumbent, concern=np.array([self.concern]),
            inertia=np.array([self.inertia]), threshold=np.array([self.threshold]), taste=self.taste[None, :],
            alarm=np.array([self.alarm]), exposure=m.platforms.exposure, appeal=m.platforms.appeal,
            counts=counts[None, :], degree=np.array([len(self.contacts)]), active=self.active[None, :],
            primary=np.array([self.primary], dtype=np.int8), u=u[self.node][None, :],
            disruption=m.platforms.disruption)
        active, primary, adopted = rules.decide(m.config.behaviour, x)
        self.adoptions += adopted[0]
        self._next = (active[0], int(primary[0]))

    def advance(self) -> None:
        self.active, self.primary = self._next
        self.ever |= self.active
