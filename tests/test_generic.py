"""Generic code names no episode: no module under sim/ mentions an episode, a country or a platform. Episodes
are data (experiments/<episode>.toml and experiments/data/<episode>/)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

#: Words that would tie generic code to one episode: its countries, its platforms, its data's sources.
NAMES = ("korea", "korean", "brazil", "turkey", "turkish", "india", "kakao", "kakaotalk", "telegram", "whatsapp",
         "viber", "twitter", "mastodon", "bip", "wechat", "facebook", "rankey", "koreanclick")
#: Platform names that are also ordinary words (the POSIX signal, a line of text): caught as quoted names.
QUOTED = ("line", "signal", "messenger")


def _hits(text: str) -> list[str]:
    words = re.compile(rf"\b({'|'.join(NAMES)})\b", re.IGNORECASE)
    quoted = re.compile(rf"""["']({'|'.join(QUOTED)})["']""", re.IGNORECASE)
    return [f"{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
            if words.search(line) or quoted.search(line)]


@pytest.mark.parametrize("path", sorted((ROOT / "sim").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_names_an_episode_a_country_or_a_platform(path):
    assert _hits(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_name_when_there_is_one():
    assert _hits('RIVAL = "telegram"') and _hits("# the 2014 Korea episode") and _hits('x = "signal"')
    assert not _hits("import signal\nsignal.signal(signal.SIGTERM, handler)") and not _hits("one line per run")
