"""Words the catalogue understands: its colours, its categories, and what shoppers call them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from recsys.catalogue import Item, clean_description
from recsys.filters import category_prefixes

# What people say → the catalogue colour it means (only applied when the target colour exists).
COLOR_SYNONYMS = {
    "grey": "gray",
    "charcoal": "gray",
    "silver": "gray",
    "heather": "gray",
    "navy": "blue",
    "azure": "blue",
    "cobalt": "blue",
    "teal": "blue",
    "turquoise": "blue",
    "maroon": "red",
    "burgundy": "red",
    "crimson": "red",
    "scarlet": "red",
    "wine": "red",
    "violet": "purple",
    "plum": "purple",
    "lilac": "lavender",
    "mauve": "purple",
    "olive": "green",
    "lime": "green",
    "mint": "green",
    "khaki": "green",
    "tan": "brown",
    "beige": "brown",
    "camel": "brown",
    "chocolate": "brown",
    "gold": "yellow",
    "mustard": "yellow",
    "ivory": "white",
    "cream": "white",
}
# Colour words that may have no item at all; asking for one must not be silently ignored.
KNOWN_COLORS = {"pink", "magenta", "fuchsia", "cyan", "coral", "peach", "rose"}

# Shopper words → the singular category token they stand for.
CATEGORY_SYNONYMS = {
    "t-shirt": "tee",
    "tshirt": "tee",
    "t shirt": "tee",
    "shirt": "tee",
    "hoody": "hoodie",
    "sweater": "hoodie",
    "pullover": "hoodie",
    "jumper": "hoodie",
    "trouser": "pant",
    "legging": "pant",
    "jogger": "pant",
    "tight": "pant",
    "sweatpant": "pant",
    "backpack": "bag",
    "duffel": "bag",
    "duffle": "bag",
    "tote": "bag",
    "rucksack": "bag",
    "pack": "bag",
    "coat": "jacket",
    "windbreaker": "jacket",
    "parka": "jacket",
    "shell": "jacket",
    "singlet": "tank",
    "sports bra": "bra",
    "smartwatch": "watch",
}
GENDERS = {
    "men": "Men",
    "man": "Men",
    "mens": "Men",
    "men's": "Men",
    "male": "Men",
    "guy": "Men",
    "guys": "Men",
    "him": "Men",
    "women": "Women",
    "woman": "Women",
    "womens": "Women",
    "women's": "Women",
    "female": "Women",
    "ladies": "Women",
    "lady": "Women",
    "her": "Women",
    "girls": "Women",
}


def singular(word: str) -> str:
    """A crude English singular; "-ies" keeps its "ie" (hoodies → hoodie) and `variants` adds the "y" form."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-1]
    if word.endswith(("ches", "shes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def variants(phrase: str) -> list[str]:
    """Singular forms of a phrase: "accessories" → accessorie and accessory."""
    if not phrase.strip():
        return []
    words = phrase.lower().split()
    head = " ".join(singular(w) for w in words)
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        return [head, " ".join([*(singular(w) for w in words[:-1]), last[:-3] + "y"])]
    return [head]


@dataclass
class Vocabulary:
    """Built from the catalogue itself, so any ingested catalogue gets the same understanding."""

    colors: list[str]
    categories: list[str]  # every path and prefix in the catalogue
    words: set[str] = field(default_factory=set)  # every word the catalogue uses, for spotting off-topic text
    _tokens: dict[str, list[str]] = field(default_factory=dict, init=False)

    @classmethod
    def from_items(cls, items: Iterable[Item]) -> Vocabulary:
        items = list(items)
        words: set[str] = set()
        for item in items:
            text = " ".join([item.name, *item.categories, *item.attributes.values()])
            words.update(singular(w) for w in re.findall(r"[a-z]+", text.lower()))
        # Description words count when several products use them: rare ones say little about the catalogue.
        df = Counter(w for d in {clean_description(i.description) for i in items} for w in set(re.findall(r"[a-z]{3,}", d.lower())))
        words.update(singular(w) for w, n in df.items() if n >= 3)
        colors = sorted({i.color for i in items if i.color})
        categories = sorted({p for i in items for p in category_prefixes(i.categories)})
        return cls(colors, categories, words)

    def __post_init__(self) -> None:
        for path in self.categories:
            parts = path.split("/")
            if len(parts) == 1 and parts[0] in GENDERS.values():
                continue  # genders are handled apart, to combine with a kind of item
            for token in re.split(r"\s*(?:&|,| and )\s*", parts[-1].lower()):
                for key in variants(token):
                    self._tokens.setdefault(key, []).append(path)

    def color(self, word: str) -> str | None:
        """The catalogue's name for a colour word, the word itself for a colour we do not stock, else None."""
        w = word.lower()
        names = {c.lower(): c for c in self.colors}
        if w in names:
            return names[w]
        if w in COLOR_SYNONYMS and COLOR_SYNONYMS[w] in names:
            return names[COLOR_SYNONYMS[w]]
        if w in KNOWN_COLORS or w in COLOR_SYNONYMS:
            return w.title()
        return None

    def color_words(self) -> list[str]:
        return sorted({c.lower() for c in self.colors} | set(COLOR_SYNONYMS) | KNOWN_COLORS, key=len, reverse=True)

    def category_keys(self) -> list[str]:
        """Every phrase that names a kind of item, longest first so "sports bra" wins over "bra"."""
        return sorted(set(self._tokens) | set(CATEGORY_SYNONYMS), key=len, reverse=True)

    def categories_for(self, phrase: str) -> list[str]:
        """Category paths a word or phrase names ("hoodies" → both hoodie paths), or a path itself."""
        if phrase in self.categories:
            return [phrase]
        key = " ".join(singular(w) for w in phrase.lower().split())
        key = CATEGORY_SYNONYMS.get(key, key)
        if key.lower() in {g.lower() for g in GENDERS}:
            return [GENDERS[key.lower()]] if GENDERS[key.lower()] in self.categories else []
        for path in self.categories:  # a leaf written out in full, e.g. "Hoodies & Sweatshirts"
            if path.split("/")[-1].lower() == phrase.lower():
                return [p for p in self.categories if p.split("/")[-1].lower() == phrase.lower()]
        return list(self._tokens.get(key, []))

    def resolve_categories(self, phrases: list[str], gender: str | None) -> list[str]:
        """Paths for the named kinds of item, narrowed to a gender when one was given."""
        paths: list[str] = []
        for phrase in phrases:
            paths.extend(p for p in self.categories_for(phrase) if p not in paths)
        # "tank top": the specific kind wins over the broader one it sits under
        paths = [p for p in paths if not any(q != p and q.startswith(p + "/") for q in paths)]
        if gender:
            if not paths:
                return [gender] if gender in self.categories else []
            narrowed = [p for p in paths if p.split("/")[0] == gender]
            return narrowed or paths
        return paths

    def knows(self, word: str) -> bool:
        w = singular(word)
        return w in self.words or word.lower() in self.words or self.color(word) is not None or bool(self.categories_for(word))
