"""A catalogue item as the recommender sees it, and where the bundled demo catalogue lives."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_CATALOGUE = Path(__file__).resolve().parent.parent / "demo_catalogue" / "catalog.jsonl"
# Stored photo paths inside the bundled demo are relative to it, so a moved or re-cloned checkout keeps its photos
# (and its fingerprints: nothing is re-encoded).
DEMO_IMAGE_PREFIX = "demo_catalogue:"


@dataclass(frozen=True)
class Item:
    """One product as the recommender sees it."""

    id: str
    name: str
    price: float
    description: str = ""
    categories: tuple[str, ...] = ()
    color: str | None = None
    image: str | None = None  # absolute path or URL
    parent_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def product_id(self) -> str:
        """The product this item is a variant of (itself when it has no parent)."""
        return self.parent_id or self.id

    def embedding_text(self) -> str:
        """The text the text encoder sees: what a shopper would search for."""
        leaves = {c.split("/")[-1] for c in self.categories}
        attrs = [
            v.replace("\n", ", ").replace("|", ", ")
            for k, v in self.attributes.items()
            if k in {"material", "climate", "activity", "style_general", "style_bottom", "style_bags", "pattern"}
        ]
        parts = [self.name, self.color or "", ", ".join(sorted(leaves)), clean_description(self.description), *attrs]
        return ". ".join(p for p in parts if p)

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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(
            id=data["id"],
            name=data["name"],
            price=float(data["price"]),
            description=data.get("description") or "",
            categories=tuple(data.get("categories") or ()),
            color=data.get("color"),
            image=_local_image(data.get("image")),
            parent_id=data.get("parent_id"),
            attributes=dict(data.get("attributes") or {}),
        )


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
