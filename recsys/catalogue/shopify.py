"""Shopify's product CSV export (Products → Export): one row per variant, grouped by Handle.

The first row of a product carries its fields (Title, Body (HTML), Vendor, Product Category as a " > " path, Type, Tags,
Status, Option1..3 Name); its other rows leave them blank and carry the variant (Option1..3 Value such as a colour and a
size, Variant SKU, Variant Price, Variant Compare At Price, Variant Image). Rows with only an Image Src add a photo.
Variants of one colour become one item, with their sizes; the product's colours are items grouped under the product.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from recsys.catalogue.items import category_path
from recsys.catalogue.variants import Variant, group_variants

REQUIRED = {"handle", "title", "variant price"}
PRODUCT_FIELDS = ("Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Status", "Published", "Image Src")


def detect(header: list[str]) -> bool:
    return {h.strip().lower() for h in header} >= REQUIRED


def rows(records: Iterator[tuple[int, dict[str, str]]], separator: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Generic rows (the loader's schema), one per item; drafts and archived products come with their status."""
    products: dict[str, dict[str, Any]] = {}
    for line, record in records:
        handle = record.get("Handle", "").strip()
        if not handle:
            yield line, {"_problem": "no Handle"}
            continue
        product = products.setdefault(handle, {"line": line, "fields": {}, "options": {}, "variants": [], "images": []})
        for name in PRODUCT_FIELDS:
            if record.get(name, "").strip() and name not in product["fields"]:
                product["fields"][name] = record[name].strip()
        for n in (1, 2, 3):
            if record.get(f"Option{n} Name", "").strip():
                product["options"][n] = record[f"Option{n} Name"].strip()
        if record.get("Image Src", "").strip():
            product["images"].append(record["Image Src"].strip())
        if any(record.get(k, "").strip() for k in ("Variant SKU", "Variant Price", "Option1 Value")):
            product["variants"].append((line, record))
    for handle, product in products.items():
        yield from _items(handle, product, separator)


def _items(handle: str, product: dict[str, Any], separator: str | None) -> Iterator[tuple[int, dict[str, Any]]]:
    fields = product["fields"]
    status = fields.get("Status", "active").lower()
    if fields.get("Published", "").lower() == "false" and status == "active":
        status = "unpublished"
    path = fields.get("Product Category") or fields.get("Type")
    base = {
        "name": fields.get("Title", ""),
        "description": fields.get("Body (HTML)", ""),
        "categories": [category_path(path, separator)] if path else [],
        "attributes": {k: fields[v] for k, v in (("vendor", "Vendor"), ("type", "Type"), ("tags", "Tags")) if fields.get(v)},
        "_status": status,
    }
    variants = []
    for line, record in product["variants"] or [(product["line"], {})]:
        options = {product["options"].get(n, f"Option{n}"): record.get(f"Option{n} Value", "").strip() for n in (1, 2, 3)}
        variants.append(
            Variant(
                line=line,
                sku=record.get("Variant SKU", "").strip(),
                options={k: v for k, v in options.items() if v and v != "Default Title"},
                price=record.get("Variant Price", "").strip(),
                compare_at=record.get("Variant Compare At Price", "").strip(),
                image=record.get("Variant Image", "").strip(),
            )
        )
    yield from group_variants(handle, base, variants, product["images"])
