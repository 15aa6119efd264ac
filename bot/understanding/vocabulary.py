"""Words the catalogue understands: its colours, its categories, and what shoppers call them."""

from __future__ import annotations

import functools
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.understanding.lang import DEFAULT, Language, canonical_color, english_kind_names, gender_meant
from bot.understanding.lang.glossary import glosses, has_han
from bot.understanding.lang.zh_words import han_words
from recsys.catalogue.items import Item, clean_description
from recsys.catalogue.kinds import kinds_by_size
from recsys.store.filters import category_prefixes


@dataclass
class Vocabulary:
    """Built from the catalogue itself, so any ingested catalogue gets the same understanding."""

    colors: list[str]
    categories: list[str]  # every path and prefix in the catalogue
    words: set[str] = field(default_factory=set)  # every word the catalogue uses, for spotting off-topic text
    lang: Language = DEFAULT  # whose words for colours, kinds and genders map onto the catalogue's
    currency: str = "USD"  # what the catalogue's prices are in (catalogue.currency)
    # what the shop sells, for sentences that name it: (kind, its commonest colour, its median price), most items first
    kinds: list[tuple[str, str | None, float | None]] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)  # every size the catalogue lists, as it writes them
    names: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # a name, lower case → (id, colour) of each item
    _tokens: dict[str, list[str]] = field(default_factory=dict, init=False)
    genders: dict[str, str] = field(default_factory=dict, init=False)
    _colors: dict[str, str] = field(default_factory=dict, init=False)

    @classmethod
    def from_items(cls, items: Iterable[Item], lang: Language = DEFAULT, currency: str = "USD") -> Vocabulary:
        items = list(items)
        words: set[str] = set()
        for item in items:
            text = " ".join([item.name, *item.categories, *item.attributes.values()])
            words.update(lang.singular(w) for w in re.findall(r"[a-z]+", text.lower()))
            words.update(han_words(text))
        # Description words count when several products use them: rare ones say little about a large catalogue; in a
        # small one every description word is all there is to go on.
        descriptions = {clean_description(i.description) for i in items}
        df = Counter(w for d in descriptions for w in set(re.findall(r"[a-z]{3,}", d.lower())) | han_words(d))
        min_df = 3 if len(descriptions) >= 100 else 1
        words.update(lang.singular(w) for w, n in df.items() if n >= min_df)
        # A catalogue written in Chinese also knows the English of its words, for English requests ("laptop" for 笔记本电脑)
        words.update(w for han in [w for w in words if has_han(w)] for gloss in glosses(han)[:3] for w in gloss.split())
        colors = sorted({i.color for i in items if i.color})
        categories = sorted({p for i in items for p in category_prefixes(i.categories)})
        genders = _gender_categories(categories)
        sizes = list(dict.fromkeys(s for i in items for s in i.sizes))
        names: dict[str, list[tuple[str, str | None]]] = {}
        for item in sorted(items, key=lambda i: i.id):
            names.setdefault(" ".join(item.name.lower().split()), []).append((item.id, item.color))
        return cls(colors, categories, words, lang, currency, _kinds(items, genders.values()), sizes, names)

    def shop_words(self, lang: Language | None = None) -> dict[str, str]:
        """`kinds` ("tees, jackets, …") and `example` (a request this shop can answer) for a language's sentences."""
        lang = lang or self.lang
        names = [kind.lower() for kind, _, _ in self.kinds[:4]]
        if not self.kinds:
            return {"kinds": lang.say("things"), "example": lang.example_request(None, None, None, self.currency)}
        kind, color, price = self.kinds[0]
        return {"kinds": lang.series(names), "example": lang.example_request(color, kind.lower(), price, self.currency)}

    def __post_init__(self) -> None:
        self.genders = _gender_categories(self.categories)  # "Women" (what a shopper's word means) → the catalogue's path
        for path in self.categories:
            parts = path.split("/")
            if len(parts) == 1 and parts[0] in self.genders.values():
                continue  # genders are handled apart, to combine with a kind of item
            for token in re.split(self.lang.kind_separators, parts[-1].lower()):
                for key in self.lang.variants(token) + english_kind_names(token):  # 卫衣 also answers "hoodie"
                    self._tokens.setdefault(key, []).append(path)
        for color in self.colors:  # its lower-case name, and the English colour word it means → the catalogue's name
            for key in (canonical_color(color.lower()), color.lower()):
                self._colors[key] = color

    def color(self, word: str) -> str | None:
        """The catalogue's name for a colour word (in any language the bot reads), the word itself for a colour we do
        not stock, else None."""
        w = word.lower()
        canon = canonical_color(w)
        for key in (w, canon, self.lang.color_synonyms.get(canon)):
            if key in self._colors:
                return self._colors[key]
        if canon in self.lang.known_colors or canon in self.lang.color_synonyms or canon != w:  # 粉色 → pink
            return canon.title()
        return None

    def name_said(self, text: str) -> str | None:
        """The longest item name the text says, lower-cased as the vocabulary keeps it."""
        low = " ".join(text.lower().split())
        found = [n for n in self.names if len(n) > 3 and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", low)]
        return max(found, key=len) if found else None

    def variant_named(self, name: str, color: str | None = None) -> str:
        """The id of the item with a name `name_said` found: its variant in `color` if there is one, else its first."""
        variants = self.names[name]
        return next((i for i, c in variants if color and c == color), variants[0][0])

    def size(self, word: str, lang: Language | None = None) -> str | None:
        """The catalogue's name for a size a shopper said ("medium" → "M", "m" → "M"), None for one it does not list."""
        lang = lang or self.lang
        w = word.lower().strip()
        return self._size_keys.get(w) or self._size_keys.get(lang.size_words.get(w, "").lower())

    @functools.cached_property
    def _size_keys(self) -> dict[str, str]:
        return {s.lower(): s for s in self.sizes}

    def color_words(self, lang: Language | None = None) -> list[str]:
        lang = lang or self.lang
        words = set(self._colors) | set(lang.color_synonyms) | lang.known_colors | lang.spoken_colors
        return sorted(words, key=len, reverse=True)

    @functools.cached_property
    def han_words(self) -> frozenset[str]:
        """The catalogue's own Chinese kinds, colours and genders, for cutting a Chinese message into words."""
        return frozenset(w for w in (*self._tokens, *self.colors, *self.genders.values()) if has_han(w))

    def category_keys(self) -> list[str]:
        """Every phrase that names a kind of item, longest first so "sports bra" wins over "bra"."""
        return sorted(set(self._tokens) | set(self.lang.kind_synonyms), key=len, reverse=True)

    def categories_for(self, phrase: str) -> list[str]:
        """Category paths a word or phrase names ("hoodies" → both hoodie paths), or a path itself."""
        if phrase in self.categories:
            return [phrase]
        key = " ".join(self.lang.singular(w) for w in phrase.lower().split())
        if key not in self._tokens:  # a shop that sells sweaters means sweaters, not what "sweater" stands for elsewhere
            synonyms = self.lang.kind_synonyms
            key = synonyms.get(key) or synonyms.get(phrase.lower(), key)  # "sports bra" is listed as written
        meant = gender_meant(key)
        if meant:
            return [self.genders[meant]] if meant in self.genders else []
        for path in self.categories:  # a leaf written out in full, e.g. "Hoodies & Sweatshirts"
            if path.split("/")[-1].lower() == phrase.lower():
                return [p for p in self.categories if p.split("/")[-1].lower() == phrase.lower()]
        return list(self._tokens.get(key, []))

    def resolve_categories(self, phrases: list[str], gender: str | None) -> list[str]:
        """Paths for the named kinds of item, narrowed to a gender (what a shopper's word means: "Women") when one was
        given."""
        gender = self.genders.get(gender) if gender else None
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
        w = self.lang.singular(word)
        return w in self.words or word.lower() in self.words or self.color(word) is not None or bool(self.categories_for(word))


def _kinds(items: list[Item], genders: Iterable[str]) -> list[tuple[str, str | None, float | None]]:
    """Each kind of item (a gender alone is not one), most items first, with its commonest colour and median price."""
    out = []
    for kind, group in kinds_by_size(items, exclude=genders):
        colors = Counter(i.color for i in group if i.color).most_common(1)
        prices = [i.price for i in group if i.price is not None]
        out.append((kind, colors[0][0] if colors else None, statistics.median(prices) if prices else None))
    return out


def _gender_categories(categories: Iterable[str]) -> dict[str, str]:
    """The catalogue's top-level categories that are a gender, in any language the bot reads: {"Women": "女装"}."""
    out: dict[str, str] = {}
    for path in categories:
        if "/" not in path:
            meant = gender_meant(path)
            if meant and meant not in out:
                out[meant] = path
    return out
