"""A catalogue item as the recommender sees it, and where the bundled demo catalogue lives."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_CATALOGUE = Path(__file__).resolve().parent.parent / "demo_catalogue" / "catalog.jsonl"
DEMO_EXAMPLES = DEMO_CATALOGUE.parent / "examples.jsonl"  # how shoppers ask this shop, for the local model's prompt
# Stored photo paths inside the bundled demo are relative to it, so a moved or re-cloned checkout keeps its photos
# (and its fingerprints: nothing is re-encoded).
DEMO_IMAGE_PREFIX = "demo_catalogue:"
TEXT_FORMAT = 2  # bump when `embedding_text` changes: stored items are encoded again
# attributes that are bookkeeping, not something a shopper searches for
NOT_SEARCHED = {"visual_color", "sku", "url_key", "visibility", "compare_at_price", "image", "images", "url", "handle"}
_YES, _NO = {"yes", "true", "1", "y"}, {"no", "false", "0", "n", ""}


@dataclass(frozen=True)
class Item:
    """One product as the recommender sees it."""

    id: str
    name: str
    price: float | None = None  # None: the shop gives no price; such an item never matches a price filter
    description: str = ""
    categories: tuple[str, ...] = ()
    color: str | None = None
    image: str | None = None  # absolute path or URL
    parent_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False)
    sizes: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # ids the shop says go with it (cross-sells, related), best first; a product id names its variants

    @property
    def product_id(self) -> str:
        """The product this item is a variant of (itself when it has no parent)."""
        return self.parent_id or self.id

    def embedding_text(self, fields: Collection[str] | None = None) -> str:
        """The text the text encoder sees: what a shopper would search for. Every attribute the shop gives counts
        (a yes/no flag by its name when it is yes) unless `fields` (catalogue.search_fields) names the ones to use."""
        leaves = {c.split("/")[-1] for c in self.categories}
        attrs = [
            words
            for k, v in self.attributes.items()
            if (k in fields if fields is not None else k not in NOT_SEARCHED) and (words := _attribute_words(k, v))
        ]
        parts = [self.name, self.color or "", ", ".join(sorted(leaves)), clean_description(self.description), *attrs]
        return ". ".join(p for p in parts if p)

    def details(self, limit: int = 8) -> dict[str, str]:
        """The attributes worth showing a shopper, as the shop names them: bookkeeping and "no" flags left out, lists
        ("|" or line breaks) joined with commas."""
        shown = {
            k: re.sub(r"\s*[|\n]\s*", ", ", v.strip())
            for k, v in self.attributes.items()
            if k not in NOT_SEARCHED and v.strip().lower() not in _NO and not re.match(r"https?://", v.strip())
        }
        return dict(list(shown.items())[:limit])

    def fingerprint(self) -> str:
        """Changes whenever anything the store keeps about the item changes."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "description": self.description,
            "categories": list(self.categories),
            "color": self.color,
            "image": _portable_image(self.image),
            "parent_id": self.parent_id,
            "attributes": dict(self.attributes),
            **({"sizes": list(self.sizes)} if self.sizes else {}),
            **({"links": list(self.links)} if self.links else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(
            id=data["id"],
            name=data["name"],
            price=None if data.get("price") is None else float(data["price"]),
            description=data.get("description") or "",
            categories=tuple(data.get("categories") or ()),
            color=data.get("color"),
            image=_local_image(data.get("image")),
            parent_id=data.get("parent_id"),
            attributes=dict(data.get("attributes") or {}),
            sizes=tuple(data.get("sizes") or ()),
            links=tuple(data.get("links") or ()),
        )


def _attribute_words(key: str, value: str) -> str:
    """What an attribute says in words: "Wool", "Cool, Indoor" ("|" and line breaks are lists), a flag by its
    name ("eco_collection: Yes" → "eco collection"); nothing for a "no" flag, a bare number or a link."""
    text = value.strip()
    if text.lower() in _YES:
        return key.replace("_", " ")
    if text.lower() in _NO or re.fullmatch(r"[\d.,\s]+", text) or re.match(r"https?://", text):
        return ""
    return re.sub(r"\s*[|\n]\s*", ", ", text)


def _portable_image(image: str | None) -> str | None:
    if not image or re.match(r"^https?://", image):
        return image
    try:
        return DEMO_IMAGE_PREFIX + Path(image).relative_to(DEMO_CATALOGUE.parent).as_posix()
    except ValueError:
        return image


def _local_image(stored: str | None) -> str | None:
    if stored and stored.startswith(DEMO_IMAGE_PREFIX):
        return str(DEMO_CATALOGUE.parent / stored.removeprefix(DEMO_IMAGE_PREFIX))
    return stored


def clean_description(text: str) -> str:
    """Catalogue descriptions carry HTML entities and tags; keep the words."""
    text = html.unescape(text or "")
    text = re.sub(r"<[^>]+>", " ", text).replace("•", ";")
    return re.sub(r"\s+", " ", text).strip()


PATH_SEPARATOR = "/"  # inside the store a category path is "Men/Tops/Tees"


def category_path(text: str, separator: str | None = None) -> str:
    """A shop's category path in the store's form: split on `separator`, or on " > " (Shopify, WooCommerce) when the
    text has one and on "/" otherwise; never on commas ("Chair, in,outdoor" is one name). A "/" inside a " > "
    segment is kept as a look-alike so it does not start a new level."""
    sep = separator or (" > " if ">" in text else PATH_SEPARATOR)
    parts = [p.strip() for p in text.split(sep.strip() if sep.strip() else sep)]
    return PATH_SEPARATOR.join(p.replace(PATH_SEPARATOR, "\u2215") for p in parts if p)
