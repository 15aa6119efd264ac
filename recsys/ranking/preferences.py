"""What a shopper said about themselves, as the ranking uses it: soft preferences that move items up or down (a colour
they like or avoid, the sizes they take, a usual budget, who they shop for, materials). Hard ones (a colour they never
wear) are filters, applied before ranking; these never hide an item."""

from __future__ import annotations

from dataclasses import dataclass

from recsys.catalogue.items import Item
from recsys.store.filters import color_key

LETTERS = frozenset(["xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl", "4xl", "5xl"])


@dataclass(frozen=True)
class Preferences:
    like_colors: tuple[str, ...] = ()
    avoid_colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    budget: float | None = None
    gender: str | None = None  # the catalogue's category path of whom they shop for ("Women", "女装")
    genders: tuple[str, ...] = ()  # every gender path of the catalogue
    like_words: tuple[str, ...] = ()  # materials and the like, matched in the item's own text
    avoid_words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any([self.like_colors, self.avoid_colors, self.sizes, self.budget, self.gender, self.like_words, self.avoid_words])

    def score(self, item: Item) -> tuple[float, list[str]]:
        """(a score in about [-1, 1], the preferences the item meets: "size", "color", "budget", "gender", "word")."""
        score, met = 0.0, []
        color = color_key(item)
        if color and color in {c.lower() for c in self.like_colors}:
            score += 0.5
            met.append("color")
        if color and color in {c.lower() for c in self.avoid_colors}:
            score -= 0.6
        if self.sizes and item.sizes:
            offered = {s.lower() for s in item.sizes}
            wanted = {s.lower() for s in self.sizes}
            if offered & wanted:
                score += 0.4
                met.append("size")
            elif _same_system(offered, wanted):
                score -= 0.8  # sized the way the shopper's size is written, but not in theirs
        if self.budget is not None and item.price is not None:
            if item.price <= self.budget:
                met.append("budget")
            else:
                score -= min(0.6, 0.6 * (item.price - self.budget) / self.budget)
        if self.gender and item.categories:
            roots = {c.split("/")[0] for c in item.categories}
            if self.gender in roots:
                score += 0.3
                met.append("gender")
            elif roots & set(self.genders):
                score -= 0.5  # another gender's clothes
        if self.like_words or self.avoid_words:
            text = item.embedding_text().lower()
            if any(w.lower() in text for w in self.like_words):
                score += 0.3
                met.append("word")
            if any(w.lower() in text for w in self.avoid_words):
                score -= 0.5
        return score, met


def _same_system(offered: set[str], wanted: set[str]) -> bool:
    """Both letter sizes (S, M, L) or both numbers (32, 8): a size of one system says nothing about the other."""

    def system(sizes: set[str]) -> set[str]:
        return {"letters" if s in LETTERS else "numbers" if s.replace(".", "").isdigit() else "other" for s in sizes}

    return bool(system(offered) & system(wanted) - {"other"})
