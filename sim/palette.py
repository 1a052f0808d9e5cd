"""Platform colours and display names shared by the browser page and the figures.

The colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies). Known
platforms keep the same colour in every config (KakaoTalk orange, Telegram blue, LINE green), whatever their
position; any other platform takes the palette colour of its position in the config.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PLATFORM_COLOURS", "PLATFORM_LABELS", "colour_for", "label_for", "platform_colours"]

#: Okabe-Ito: orange, blue, bluish green, reddish purple, vermillion, sky blue, yellow, black.
PLATFORM_COLOURS: list[str] = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
                               "#000000"]

#: Platforms with a fixed colour (index into PLATFORM_COLOURS), so a reordered config keeps its colours.
_FIXED: dict[str, int] = {"kakaotalk": 0, "telegram": 1, "line": 2}

PLATFORM_LABELS: dict[str, str] = {"kakaotalk": "KakaoTalk", "telegram": "Telegram", "line": "LINE",
                                   "whatsapp": "WhatsApp", "wechat": "WeChat", "signal": "Signal"}


def colour_for(name: str, index: int) -> str:
    """Colour of platform ``name``, the ``index``-th platform of its config (hex string).

    A platform without a fixed colour may share one with a fixed platform listed elsewhere; use
    :func:`platform_colours` to colour a whole config with distinct colours.
    """
    fixed = _FIXED.get(name.lower())
    return PLATFORM_COLOURS[fixed if fixed is not None else index % len(PLATFORM_COLOURS)]


def platform_colours(names: Sequence[str]) -> list[str]:
    """Distinct colours for a config's platforms (in its order): fixed colours first, then the unused palette
    colours in palette order (colours repeat only beyond eight platforms)."""
    fixed = {n: PLATFORM_COLOURS[_FIXED[n.lower()]] for n in names if n.lower() in _FIXED}
    spare = iter([c for c in PLATFORM_COLOURS if c not in fixed.values()])
    out = []
    for i, name in enumerate(names):
        out.append(fixed.get(name) or next(spare, PLATFORM_COLOURS[i % len(PLATFORM_COLOURS)]))
    return out


def label_for(name: str) -> str:
    """Display name of a platform (``kakaotalk`` -> ``KakaoTalk``)."""
    return PLATFORM_LABELS.get(name.lower(), name.replace("_", " ").title())
