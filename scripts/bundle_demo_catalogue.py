"""Rebuild the bundled demo catalogue from the shared Luma data.

Keeps ids, colours, prices and category paths as they are; copies only the main photos,
downscaled to at most 320 px, so the package stays small. Run from the repository root:

    python scripts/bundle_demo_catalogue.py ../shared/data/luma
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

from PIL import Image

MAX_SIDE = 320
TARGET = Path(__file__).resolve().parent.parent / "recsys" / "demo_catalogue"


def store_links(source: Path) -> dict[str, list[str]]:
    """The store's own "goes with" lists by product or item id: related products first (the Luma store relates a hoodie
    to trousers and shorts: an outfit), then cross-sells (the cart's add-ons: a bottle, a ball). Up-sells are pricier
    alternatives, not companions, and stay out."""
    links: dict[str, list[str]] = {}
    for name in ("related_configurable.csv", "related_simple.csv", "crosssell_configurable.csv"):
        with (source / "fixtures" / name).open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                listed = links.setdefault(row["sku"].strip(), [])
                listed.extend(s.strip() for s in row["linked_sku"].splitlines() if s.strip() and s.strip() not in listed)
    return links


def with_links(row: dict, links: dict[str, list[str]]) -> dict:
    found = links.get(row.get("parent_sku") or row["id"]) or links.get(row["id"])
    return {**row, "links": found} if found else row


def main(source: Path) -> None:
    images_out = TARGET / "images"
    if images_out.exists():
        shutil.rmtree(images_out)
    images_out.mkdir(parents=True)
    rows = []
    links = store_links(source)
    for line in (source / "catalog.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("additional_images", None)  # alternate views serve the photo benchmark, read in place
        if row.get("image"):
            with Image.open(source / row["image"]) as img:
                img = img.convert("RGB")
                img.thumbnail((MAX_SIDE, MAX_SIDE))
                img.save(images_out / Path(row["image"]).name, "JPEG", quality=80, optimize=True)
        rows.append(with_links(row, links))
    (TARGET / "catalog.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for name in ("LICENSE.txt", "LICENSE_AFL.txt"):
        shutil.copy(source / name, TARGET / name)
    print(f"bundled {len(rows)} items into {TARGET}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/luma"))
