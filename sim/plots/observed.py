"""The 2014 panels' weekly figures (sim/data/korea_2014), as Telegram weekly users in % of KakaoTalk's."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.data import KOREA_2014

__all__ = ["KAKAOTALK_WEEKLY_KOREANCLICK", "OBSERVED_DIR", "ObservedSeries", "is_korea_2014", "load_observed"]

#: The panel figures shipped with the package (a copy of shared/data/korea_2014).
OBSERVED_DIR = KOREA_2014
#: KakaoTalk's weekly users in the KoreanClick panel (25.1M, week of Sep 15; the data README).
KAKAOTALK_WEEKLY_KOREANCLICK = 25.1e6


@dataclass(frozen=True)
class ObservedSeries:
    """One panel's observations: week start days and Telegram weekly users in % of KakaoTalk's."""

    label: str
    days: list[int]
    percent: list[float]
    marker: str


def is_korea_2014(manifest: dict[str, Any]) -> bool:
    """Whether the results are of the 2014 episode (KakaoTalk incumbent, Telegram a rival, day 0 = Sep 1)."""
    return (manifest.get("incumbent") == "kakaotalk" and "telegram" in manifest.get("platforms", [])
            and manifest.get("start_date") == "2014-09-01")


def load_observed(folder: Path = OBSERVED_DIR) -> list[ObservedSeries]:
    """KoreanClick (Telegram millions / 25.1M KakaoTalk weekly users) and Rankey (Telegram / KakaoTalk weekly
    users of the same week); empty, with a warning, if the files are not there."""
    koreanclick = folder / "telegram_weekly_users_koreanclick.csv"
    rankey = folder / "weekly_users_rankey.csv"
    if not (koreanclick.is_file() and rankey.is_file()):
        warnings.warn(f"observed 2014 panel data not found in {folder}; plotting the model only",
                      stacklevel=3)
        return []
    kc = pd.read_csv(koreanclick)
    rk = pd.read_csv(rankey).pivot(index="day", columns="app", values="weekly_users").dropna()
    kc_percent = 100 * kc["telegram_weekly_users_millions"] * 1e6 / KAKAOTALK_WEEKLY_KOREANCLICK
    return [
        ObservedSeries("observed: Nielsen KoreanClick\n(Telegram / 25.1M KakaoTalk weekly users)",
                       kc["day"].astype(int).tolist(), kc_percent.tolist(), "o"),
        ObservedSeries("observed: Rankey\n(Telegram / KakaoTalk weekly users)",
                       rk.index.astype(int).tolist(), (100 * rk["telegram"] / rk["kakaotalk"]).tolist(), "s"),
    ]
