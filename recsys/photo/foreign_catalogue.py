"""A catalogue made foreign to everything the photo search was tuned on, from any catalogue with photos: every category
renamed (the tree keeps its shape, its names are invented), no colour names, every photo recoloured (the hue turned by a
third of the circle, so a blue tee is a red one). Used to check photo search out of domain, where a few "hub" items
could win every query."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from PIL import Image

from recsys.encoders.images import load_image_file

NEIGHBOURS = 10


def recolour(image: Image.Image) -> Image.Image:
    """The hue turned by a third of the circle; white, grey and black stay as they are."""
    hsv = np.asarray(image.convert("RGB").convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + 85) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def write_foreign_catalogue(source: Path, folder: Path, n_items: int, seed: int = 0) -> Path:
    """A JSONL catalogue of `n_items` rows of `source` (JSONL, photos relative to its folder), made foreign."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("image")]
    random.Random(seed).shuffle(rows)
    names: dict[str, str] = {}

    def invented(part: str) -> str:
        return names.setdefault(part, f"Line {chr(65 + len(names) % 26)}{len(names)}")

    out = []
    for row in rows[:n_items]:
        photo = folder / f"{row['id']}.jpg"
        recolour(load_image_file(str(source.parent / row["image"]))).save(photo, quality=90)
        categories = ["/".join(invented(p) for p in c.split("/")) for c in row.get("categories") or []]
        parent = row.get("parent_sku") or row["id"]
        out.append(
            {
                "id": row["id"],
                "name": row["name"],
                "parent_sku": parent,
                "price": row.get("price"),
                "categories": categories,
                "description": row.get("description") or "",
                "image": str(photo),
            }
        )
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")
    return path


def hub_penalty(vectors: np.ndarray) -> np.ndarray:
    """Each photo's mean cosine to its nearest other photos (CSLS's r term): high for an item close to everything."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    k = min(NEIGHBOURS, max(len(vectors) - 1, 1))
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)
