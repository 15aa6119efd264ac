"""Structured constraints on items: price range, colours, categories, excluded ids."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from recsys.catalogue.items import Item

VISUAL_COLOR = "visual_color"  # item attribute: the colour seen in the photo of an item the catalogue gives no colour


def color_key(item: Item) -> str:
    """The colour a colour filter compares: the catalogue's, or the one seen in the photo when it has none."""
    return (item.color or item.attributes.get(VISUAL_COLOR) or "").lower()


def category_prefixes(categories: tuple[str, ...] | list[str]) -> list[str]:
    """Every path prefix, so a filter on "Women" or "Men/Tops" matches deeper paths."""
    out: set[str] = set()
    for path in categories:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return sorted(out)


@dataclass(frozen=True)
class Filters:
    """Hard constraints: every recommended item satisfies all of them."""

    min_price: float | None = None
    max_price: float | None = None
    colors: tuple[str, ...] = ()  # any of these (case-insensitive)
    exclude_colors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # any of these paths or prefixes
    exclude_categories: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()  # any of these sizes (case-insensitive); an item that lists no sizes does not match
    exclude_words: tuple[str, ...] = ()  # words its own text must not have (a material the shopper is allergic to)
    exclude_ids: tuple[str, ...] = field(default=(), compare=False)
    # whom the shopper shops for when they named no kind ("Women"): said back to them; the hard part is
    # exclude_categories holding the other genders, so unisex items (a watch, a bottle) still come
    audience: str = field(default="", compare=False)

    def with_(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    def matches(self, item: Item) -> bool:
        if (self.min_price is not None or self.max_price is not None) and item.price is None:
            return False  # an item without a price never matches a price filter
        if self.min_price is not None and item.price < self.min_price:  # type: ignore[operator]
            return False
        if self.max_price is not None and item.price > self.max_price:  # type: ignore[operator]
            return False
        color = color_key(item)  # the store's `color_key` metadata holds the same value, so to_where agrees
        if self.colors and color not in {c.lower() for c in self.colors}:
            return False
        if color and color in {c.lower() for c in self.exclude_colors}:
            return False
        prefixes = set(category_prefixes(item.categories))
        if self.categories and not prefixes & set(self.categories):
            return False
        if prefixes & set(self.exclude_categories):
            return False
        if self.sizes and not {s.lower() for s in self.sizes} & {s.lower() for s in item.sizes}:
            return False
        if self.exclude_words:  # checked here only: the store's where clause cannot look inside text
            text = item.embedding_text().lower()
            if any(w.lower() in text for w in self.exclude_words):
                return False
        return item.id not in self.exclude_ids

    def to_where(self) -> dict[str, Any] | None:
        """The same constraints as a Chroma `where` clause over the store's metadata."""
        clauses: list[dict[str, Any]] = []
        if self.min_price is not None:
            clauses.append({"price": {"$gte": float(self.min_price)}})
        if self.max_price is not None:
            clauses.append({"price": {"$lte": float(self.max_price)}})
        if self.colors:
            clauses.append({"color_key": {"$in": sorted({c.lower() for c in self.colors})}})
        if self.exclude_colors:
            clauses.append({"color_key": {"$nin": sorted({c.lower() for c in self.exclude_colors})}})
        if self.categories:
            ors = [{"cats": {"$contains": c}} for c in self.categories]
            clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if self.sizes:
            ors = [{"sizes": {"$contains": s.lower()}} for s in dict.fromkeys(self.sizes)]
            clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        for c in self.exclude_categories:
            clauses.append({"cats": {"$not_contains": c}})
        if self.exclude_ids:
            clauses.append({"item_id": {"$nin": list(self.exclude_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
