"""The grounding guard: a reply may name only items that a tool returned in this conversation.

The catalogue's ids and names are indexed once (`CatalogueIndex`), so checking a reply looks up its own words instead
of scanning every item: the same cost for 400 items as for 100,000.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping

from recsys.catalogue.items import Item
from recsys.catalogue.sanitise import has_link, speaks_to_a_model

log = logging.getLogger(__name__)
_ID = re.compile(r"[^\W_](?:[\w.-]*[^\W_])?")  # an id-like token: letters, digits, "-", "_" and "." inside
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class CatalogueIndex:
    """Item ids and names by their lower-cased words, for finding which items a text names."""

    def __init__(self, catalogue: Mapping[str, Item]) -> None:
        self.source = catalogue
        self.ids = {item_id.lower(): item_id for item_id in catalogue}
        self.names: dict[str, list[str]] = {}
        for item in catalogue.values():
            if words := _words(item.name):
                self.names.setdefault(" ".join(words), []).append(item.id)
        self.longest = max((key.count(" ") + 1 for key in self.names), default=0)

    def named(self, text: str) -> dict[str, str]:
        """id → how the text names it ("id" or "name"), for every catalogue item the text names."""
        found = {self.ids[token.lower()]: "id" for token in _ID.findall(text) if token.lower() in self.ids}
        words = _words(text)
        for n in range(1, min(self.longest, len(words)) + 1):
            for start in range(len(words) - n + 1):
                for item_id in self.names.get(" ".join(words[start : start + n]), ()):
                    found.setdefault(item_id, "name")
        return found


_index: CatalogueIndex | None = None


def index_of(catalogue: Mapping[str, Item]) -> CatalogueIndex:
    """The index of this catalogue, built once and again only when the store hands out a new catalogue."""
    global _index
    if _index is None or _index.source is not catalogue:
        _index = CatalogueIndex(catalogue)
    return _index


def ungrounded_items(text: str, allowed_ids: Collection[str], catalogue: Mapping[str, Item]) -> list[str]:
    """Ids of catalogue items the text names (by id or exact name) that no tool returned."""
    allowed_names = {" ".join(_words(catalogue[i].name)) for i in allowed_ids if i in catalogue}
    return [
        item_id
        for item_id, how in index_of(catalogue).named(text).items()
        if item_id not in allowed_ids and (how == "id" or " ".join(_words(catalogue[item_id].name)) not in allowed_names)
    ]


def ground_text(text: str, allowed_ids: Collection[str], catalogue: Mapping[str, Item], fallback: Callable[[], str]) -> str:
    """Keep the model's text when it is grounded; otherwise answer from the tool results alone. A shop assistant's
    reply never sends the shopper elsewhere or passes on instructions: a link, a web address or an instruction in it
    means text it read (a catalogue row, a message) steered it, so that reply is not given either."""
    if has_link(text) or speaks_to_a_model(text):
        log.warning("reply had a link or instructions in it; answering from tool results instead: %r", text[:200])
        return fallback()
    bad = ungrounded_items(text, allowed_ids, catalogue)
    if not bad:
        return text
    log.warning("reply named items no tool returned (%s); answering from tool results instead", ", ".join(bad[:5]))
    return fallback()
