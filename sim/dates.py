"""Calendar dates of simulated days: day 0 is the experiment's ``start_date`` (ISO, e.g. ``2014-09-01``, as in
configs and manifests, or a ``datetime.date``; empty when the experiment has none), day d the date d days
later."""

from __future__ import annotations

import datetime

__all__ = ["date_of", "month_starts"]

Start = str | datetime.date | None


def _first(start_date: str | datetime.date) -> datetime.date:
    return start_date if isinstance(start_date, datetime.date) else datetime.date.fromisoformat(start_date)


def date_of(start_date: Start, day: int) -> datetime.date | None:
    """The calendar date of ``day``.

    Parameters
    ----------
    start_date
        Day 0 (ISO text or a date), or ``""`` / None for an experiment without dates.
    day
        Days since day 0 (may be negative).

    Returns
    -------
    datetime.date or None
        None when there is no start date.

    Examples
    --------
    >>> date_of("2014-09-01", 30)
    datetime.date(2014, 10, 1)
    >>> date_of("", 30) is None
    True
    """
    if not start_date:
        return None
    return _first(start_date) + datetime.timedelta(days=int(day))


def month_starts(start_date: str | datetime.date, last_day: int) -> list[int]:
    """The days in [0, ``last_day``] that fall on the first of a month (where a time axis puts its ticks).

    Examples
    --------
    >>> month_starts("2014-09-01", 70)
    [0, 30, 61]
    >>> month_starts("2014-09-15", 20)
    [16]
    """
    first = _first(start_date)
    days: list[int] = []
    month = first.replace(day=1)
    while (month - first).days <= last_day:
        if month >= first:
            days.append((month - first).days)
        month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return days
