"""The user agent of the Mesa engine: its state and its daily step, calling the rules in sim/rules.py."""

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
    platform, ``engaged``. State: ``uses`` (the platforms it is active on, as a bit set: bit k for platform
    k; :attr:`active` gives it as bools), ``primary`` (platform index), ``alarm`` r, ``heard`` (day the user
    last heard alarming news directly), ``ever`` (ever active, per platform), ``adoptions`` (adoption events,
    per platform).

    What a user knows of its contacts is two integer tallies its contacts keep up to date for it:
    ``counts[k]``, how many contacts are active on platform k, and ``fresh``, how many heard alarming news
    in the last ``buzz_days`` days. A user tells its contacts when its own platform use changes
    (:meth:`advance`) and when it starts and stops carrying fresh news (:meth:`hear_alarming_news`,
    :meth:`end_buzz`). ``adoptions`` and ``counts`` are this user's rows of the model's arrays over users,
    and the user writes its platform use, primary and the day it heard news into the model's ``uses``,
    ``ever``, ``primary`` and ``heard`` when they change, so the model observes everyone without asking each
    user (only alarm, which changes every day, is read from each).
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
        self.uses = int(model.uses[node])
        self.adoptions = model.adoptions[node]
        self.counts = model.contact_counts[node]
        self.primary = int(init.primary[node])
        self.alarm = float(init.alarm[node])
        self.salience = 0.0
        self.heard = NEVER
        self.fresh = 0
        self.buzzing = False  # counted as fresh news by its contacts
        self.contacts: list[UserAgent] = []
        self.degree = 0
        self._next: tuple[int, int, int] = (self.uses, self.primary, 0)  # uses, primary, adopted

    @property
    def active(self) -> np.ndarray:
        """The platforms in use, as bools per platform."""
        return (self.uses >> np.arange(len(self.taste))) & 1 == 1

    @property
    def ever(self) -> np.ndarray:
        """The platforms ever used, as bools per platform."""
        return (int(self.model.ever[self.node]) >> np.arange(len(self.taste))) & 1 == 1

    # News ------------------------------------------------------------------------------------------------
    def hear_alarming_news(self, intensity: float, day: int) -> None:
        """Heard alarming news directly: alarm and salience rise (each by its share of the intensity), and the
        user carries fresh news for ``buzz_days``."""
        sigma = self.model.config.behaviour.salience
        self.alarm = rules.alarm_after_news(self.alarm, intensity * (1.0 - sigma))
        if sigma > 0:
            self.salience = rules.alarm_after_news(self.salience, intensity * sigma)
        self.heard = day
        self.model.heard[self.node] = day
        if not self.buzzing:
            self.buzzing = True
            for c in self.contacts:
                c.fresh += 1
        self.model.buzz_ends.setdefault(day + self.model.config.behaviour.buzz_days, []).append(self)

    def hear_calming_news(self, credibility: float) -> None:
        self.alarm = rules.alarm_after_calming_news(self.alarm, credibility)
        self.salience = rules.alarm_after_calming_news(self.salience, credibility)

    def end_buzz(self, day: int) -> None:
        """On ``day`` the news this user heard is no longer fresh, unless it heard more since."""
        if self.buzzing and day - self.heard >= self.model.config.behaviour.buzz_days:
            self.buzzing = False
            for c in self.contacts:
                c.fresh -= 1

    def install(self, k: int) -> None:
        """Start using platform k (a promotion) if not on it yet: an adoption of k; the primary stays (k if
        the user was on no platform). Contacts count the user on k from now on."""
        if (self.uses >> k) & 1:
            return
        m = self.model
        if self.uses == 0:
            self.primary = k
            m.primary[self.node] = k
        self.uses |= 1 << k
        m.uses[self.node] = self.uses
        m.ever[self.node] |= self.uses
        self.adoptions[k] += 1
        for c in self.contacts:
            c.counts[k] += 1

    # The daily step --------------------------------------------------------------------------------------
    def step(self, u: np.ndarray) -> None:
        """Word of mouth and forgetting, then tomorrow's platforms from what the contacts did today, in one
        compiled call (``rules.user_day``). The decisions are applied in :meth:`advance`, so that every user
        decides from the same day. ``u`` is the model's uniform draws of the day, one row per user."""
        m = self.model
        if m.fresh_total >= 0:  # word of mouth from everyone else
            fresh, listeners = m.fresh_total - self.buzzing, len(m.users) - 1
        else:
            fresh, listeners = self.fresh, self.degree
        self.alarm, self.salience, uses, primary, adopted = rules.user_day(
            m.rule, m.parameters, m.platforms.table, m.platforms.incumbent, self.concern, self.inertia,
            self.threshold, self.taste, self.counts, self.degree, self.alarm, self.salience, fresh, listeners,
            self.uses, self.primary, u, self.node, m.platforms.disruption)
        if uses != self.uses or primary != self.primary:
            self._next = (uses, primary, adopted)
            m.movers.append(self)

    def changes_primary(self) -> bool:
        """Whether today's decisions (applied by :meth:`advance`) change this user's primary."""
        return self._next[1] != self.primary

    def advance(self) -> None:
        """Apply today's decisions, and tell the contacts about the platforms this user started or stopped
        using."""
        uses, self.primary, adopted = self._next
        changed = uses ^ self.uses
        self.uses = uses
        m = self.model
        m.uses[self.node] = uses
        m.primary[self.node] = self.primary
        m.ever[self.node] |= uses
        for k in range(len(self.taste)):
            if (changed >> k) & 1:
                step = 1 if (uses >> k) & 1 else -1
                for c in self.contacts:
                    c.counts[k] += step
            if (adopted >> k) & 1:
                self.adoptions[k] += 1
