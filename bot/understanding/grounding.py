"""The grounding guard: a reply may name only items that a tool returned in this conversation."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from recsys.catalogue.items import Item

log = logging.getLogger(__name__)


def ungrounded_items(text: str, allowed_ids: set[str], catalogue: dict[str, Item]) -> list[str]:
    """Ids of catalogue items the text names (by id or exact name) that no tool returned."""
    allowed_names = {catalogue[i].name.lower() for i in allowed_ids if i in catalogue}
    low = text.lower()
    named = []
    for item in catalogue.values():
        if item.id in allowed_ids:
            continue
        by_id = re.search(rf"(?<![\w-]){re.escape(item.id.lower())}(?![\w-])", low)
        by_name = item.name.lower() in low and item.name.lower() not in allowed_names
        if by_id or by_name:
            named.append(item.id)
    return named


def ground_text(text: str, allowed_ids: set[str], catalogue: dict[str, Item], fallback: Callable[[], str]) -> str:
    """Keep the model's text when it is grounded; otherwise answer from the tool results alone."""
    bad = ungrounded_items(text, allowed_ids, catalogue)
    if not bad:
        return text
    log.warning("reply named items no tool returned (%s); answering from tool results instead", ", ".join(bad[:5]))
    return fallback()
