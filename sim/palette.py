"""Platform colours and display names shared by the browser page and the figures.

The colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies). A platform
takes the colour its config gives it (``[platforms.<name>] colour``), else the first palette colour no other
platform of the config uses, in config order; its display name is its config ``label``, else its name
title-cased.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PLATFORM_COLOURS", "label_for", "platform_colours"]

#: Okabe-Ito: orange, blue, bluish green, reddish purple, vermillion, sky blue, yellow, black.
PLATFORM_COLOURS: list[str] = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
                               "#000000"]


def platform_colours(names: Sequence[str], chosen: Sequence[str] | None = None) -> list[str]:
    """Colours for a config's platforms (in its order): ``chosen[i]`` where given (non-empty), else the unused
    palette colours in palette order (colours repeat only beyond eight platforms)."""
    chosen = list(chosen or [""] * len(names))
    taken = {c.upper() for c in chosen if c}
    spare = iter([c for c in PLATFORM_COLOURS if c.upper() not in taken])
    return [c or next(spare, PLATFORM_COLOURS[i % len(PLATFORM_COLOURS)]) for i, c in enumerate(chosen)]


def label_for(name: str, label: str = "") -> str:
    """Display name of a platform: its config ``label``, else its name title-cased (``my_app`` -> ``My App``)."""
    return label or name.replace("_", " ").title()
