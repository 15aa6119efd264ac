"""A product's variants as catalogue items: one item per colour (or other non-size option), carrying the sizes it
comes in and its lowest price, grouped under the product so a reply shows one colour of it at a time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# option names that mean colour or size, in the languages shop exports use
COLOR_OPTIONS = {"color", "colour", "farbe", "couleur", "colore", "kleur", "cor", "颜色", "顏色", "颜色分类"}
SIZE_OPTIONS = {"size", "größe", "groesse", "taille", "talla", "taglia", "maat", "tamanho", "尺码", "尺碼", "码", "尺寸"}


@dataclass
class Variant:
    line: int
    sku: str
    options: dict[str, str]  # option name → value, e.g. {"Color": "Blue", "Size": "M"}
    price: str
    compare_at: str = ""
    image: str = ""


def _kind(option: str) -> str:
    name = option.strip().lower()
    return "color" if name in COLOR_OPTIONS else "size" if name in SIZE_OPTIONS else "other"


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text.strip() else None
    except ValueError:
        return None


def _slug(text: str) -> str:
    return re.sub(r"\s+", "-", text.strip())


def group_variants(
    product_id: str, base: dict[str, Any], variants: list[Variant], images: list[str]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Generic rows for one product: `base` holds its shared fields (name, description, categories, attributes)."""
    groups: dict[tuple[tuple[str, str], ...], list[Variant]] = {}
    for variant in variants:
        key = tuple((name, value) for name, value in variant.options.items() if _kind(name) != "size")
        groups.setdefault(key, []).append(variant)
    several = len(groups) > 1
    for key, group in groups.items():
        first = group[0]
        prices = [p for p in (_number(v.price) for v in group) if p is not None]
        compare = [p for p in (_number(v.compare_at) for v in group) if p is not None]
        sizes = list(dict.fromkeys(value for v in group for name, value in v.options.items() if _kind(name) == "size"))
        color = next((value for name, value in key if _kind(name) == "color"), None)
        others = {name.strip().lower(): value for name, value in key if _kind(name) == "other"}
        if several or not (first.sku and len(group) == 1):
            item_id = "-".join([product_id, *(_slug(value) for _, value in key)])
        else:
            item_id = first.sku
        attributes = {**base.get("attributes", {}), **others}
        if compare:
            attributes["compare_at_price"] = f"{min(compare):g}"
        if len(group) == 1 and first.sku and first.sku != item_id:
            attributes["sku"] = first.sku
        yield (
            first.line,
            {
                **base,
                "id": item_id,
                "price": f"{min(prices):g}" if prices else None,
                "color": color,
                "sizes": sizes,
                "image": next((v.image for v in group if v.image), None) or (images[0] if images else None),
                "parent_id": product_id if several else None,
                "attributes": attributes,
            },
        )
