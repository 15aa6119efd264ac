"""Words read on a photo → the items whose names they spell out ("ZING JUMP ROPE" on a box, "HERO" on a tag)."""

from __future__ import annotations

import difflib
import html
import math
from collections import Counter

import numpy as np

from recsys.catalogue.items import Item
from recsys.photo.ocr import words


class NameMatcher:
    """Scores items by the share of their name the photo's words cover, each name word weighted by its rarity
    (a product's own name counts for much; "tee" or "hoodie" for little, as many names hold them)."""

    def __init__(self, items: list[Item]) -> None:
        self.names = [frozenset(words([html.unescape(i.name)])) for i in items]
        products = {i.product_id: name for i, name in zip(items, self.names, strict=True)}
        df = Counter(w for name in products.values() for w in name)
        self.idf = {w: math.log(1 + len(products) / n) for w, n in df.items()}
        self._vocab = sorted(self.idf)

    def _known(self, read: list[str]) -> set[str]:
        """The read words that are catalogue name words, allowing an OCR slip in a longer word."""
        known = set()
        for w in read:
            if w in self.idf:
                known.add(w)
            elif len(w) >= 5:
                known.update(difflib.get_close_matches(w, self._vocab, n=1, cutoff=0.85))
        return known

    def scores(self, read: list[str]) -> np.ndarray:
        """0..1 per item: the rarity-weighted share of its name words found among the read words."""
        known = self._known(read)
        out = np.zeros(len(self.names), dtype=np.float32)
        if not known:
            return out
        for n, name in enumerate(self.names):
            total = sum(self.idf[w] for w in name)
            if total:
                out[n] = sum(self.idf[w] for w in name & known) / total
        return out
