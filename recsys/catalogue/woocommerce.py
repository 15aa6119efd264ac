"""WooCommerce's product CSV export (Products → Export): one row per product, and for a variable product one row per
variation after it (Type "variation", Parent "id:<ID>" or the parent's SKU).

Names, descriptions, categories ("Clothing > Hoodies, Clothing > Sale": comma-separated " > " paths, a comma inside a
name escaped as "\\,"), tags and images (comma-separated URLs) come from the product row; prices (Sale price, else
Regular price) and attribute values ("Attribute 1 name" / "Attribute 1 value(s)") from each variation. Published is
1 (published), 0 (private) or -1 (draft); only published products are catalogue items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from recsys.catalogue.items import category_path
from recsys.catalogue.variants import Variant, group_variants

REQUIRED = {"id", "type", "sku", "name", "regular price"}
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def detect(header: list[str]) -> bool:
    return {h.strip().lower() for h in header} >= REQUIRED


def split_list(text: str) -> list[str]:
    """WooCommerce's list cells: split on commas that are not escaped, then unescape."""
    return [part.strip().replace("\\,", ",") for part in _UNESCAPED_COMMA.split(text or "") if part.strip()]


def _attributes(record: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in range(1, 10):
        name = record.get(f"Attribute {n} name", "").strip()
        if name:
            out[name] = record.get(f"Attribute {n} value(s)", "").strip()
    return out


def rows(records: Iterator[tuple[int, dict[str, str]]], separator: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    products: dict[str, dict[str, Any]] = {}  # parent key ("id:<ID>" and its SKU) → product
    order: list[dict[str, Any]] = []
    for line, record in records:
        kind = record.get("Type", "").strip().lower()
        if "variation" in kind.split(", "):
            parent = products.get(record.get("Parent", "").strip())
            if parent is None:
                yield line, {"_problem": f"variation of an unknown parent {record.get('Parent', '')!r}"}
                continue
            parent["variants"].append((line, record))
            continue
        product = {"line": line, "record": record, "variants": []}
        order.append(product)
        if record.get("ID", "").strip():
            products[f"id:{record['ID'].strip()}"] = product
        if record.get("SKU", "").strip():
            products[record["SKU"].strip()] = product
    for product in order:
        yield from _items(product, separator)


def _price(record: dict[str, str]) -> str:
    return (record.get("Sale price") or "").strip() or (record.get("Regular price") or "").strip()


def _was(record: dict[str, str]) -> str:
    """The regular price of an item on sale (its "was" price); nothing when it is not on sale."""
    return (record.get("Regular price") or "").strip() if (record.get("Sale price") or "").strip() else ""


def _items(product: dict[str, Any], separator: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    record = product["record"]
    product_id = record.get("SKU", "").strip() or f"woo-{record.get('ID', '').strip()}"
    published = record.get("Published", "1").strip()
    status = {"1": "active", "0": "private", "-1": "draft"}.get(published, "active")
    images = split_list(record.get("Images", ""))
    attributes = {"tags": ", ".join(split_list(record.get("Tags", "")))}
    if record.get("Short description", "").strip():
        attributes["summary"] = record["Short description"].strip()
    base = {
        "name": record.get("Name", "").strip(),
        "description": record.get("Description", "").strip() or record.get("Short description", "").strip(),
        "categories": [category_path(c, separator) for c in split_list(record.get("Categories", ""))],
        "attributes": {k: v for k, v in attributes.items() if v},
        # cross-sells (SKUs, or "id:NN" for a product without one) go with it; up-sells are pricier alternatives
        "links": [f"woo-{s[3:]}" if s.startswith("id:") else s for s in split_list(record.get("Cross-sells", ""))],
        "_status": status,
    }
    shared = _attributes(record)  # a simple product's attributes, or a variable product's value lists
    if not product["variants"]:
        options = {k: v for k, v in shared.items() if "," not in v}
        base["attributes"].update({k.lower(): v for k, v in shared.items() if "," in v})
        variants = [Variant(product["line"], record.get("SKU", "").strip(), options, _price(record), _was(record))]
    else:
        variants = []
        for line, variation in product["variants"]:
            options = {k: v for k, v in _attributes(variation).items() if v}
            image = next(iter(split_list(variation.get("Images", ""))), "")
            variants.append(Variant(line, variation.get("SKU", "").strip(), options, _price(variation), _was(variation), image))
    yield from group_variants(product_id, base, variants, images)
