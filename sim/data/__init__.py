"""Data shipped with the package: the 2014 Korea timeline and panel figures (copied from the project's shared
data so that plots and validation work from any install)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["KOREA_2014"]

#: events.csv, telegram_weekly_users_koreanclick.csv, weekly_users_rankey.csv and their README.
KOREA_2014 = Path(__file__).resolve().parent / "korea_2014"
