"""Photo search on a catalogue that is not the demo: do replies collapse onto a few "hub" items, and does a hubness
correction (CSLS-style) help?

    .venv/bin/python scripts/bench_photo_ood.py [--items 200] [--queries 160] [--json]

The catalogue is built from the shared Luma data but made foreign to everything the photo search was tuned on: every
category is renamed (the tree keeps its shape, its names are invented), no item has a colour name, and every photo is
recoloured (hue turned by a third of the circle, so a blue tee becomes a red one everywhere, queries included). Queries
are shopper photos of its items (another background, tilt, crop, blur, JPEG 30-60; `recsys/photo/shopper_photos.py`)
and scenes of two or three of its products. The hubness correction lowers each item's score by `beta` times its mean
cosine to its 10 nearest catalogue photos; `beta` is chosen on the tuning half, the held-out half is reported with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recsys.catalogue.loading import load_catalogue
from recsys.encoders.image import ImageEncoder
from recsys.encoders.images import load_image_file
from recsys.encoders.text import TextEncoder
from recsys.photo.benchmark import SPLITS, _composite_hits, _composites, _measure, _ranked_products, _shown_for, split_of
from recsys.photo.foreign_catalogue import hub_penalty, write_foreign_catalogue
from recsys.photo.search import PhotoQuery, PhotoRanker
from recsys.photo.shopper_photos import shopper_photo
from recsys.store.chroma import ItemStore
from recsys.store.indexer import index_items

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "luma"
BETAS = (0.0, 0.1, 0.2, 0.3, 0.5)


def hubness(scores: np.ndarray, items: list, top: int = 4) -> dict[str, float]:
    """How much the replies collapse: the commonest first item's share of queries, and distinct products per slot."""
    firsts = Counter(items[int(np.argmax(row))].id for row in scores)
    slots = [p for row in scores for p in _ranked_products(np.argsort(-row, kind="stable"), items, top)]
    return {
        "commonest_first_share": round(firsts.most_common(1)[0][1] / max(len(scores), 1), 4),
        "distinct_products_per_slot": round(len(set(slots)) / max(len(slots), 1), 4),
    }


def main(args: argparse.Namespace) -> dict:
    if not (DATA / "catalog.jsonl").is_file():
        raise SystemExit(f"{DATA} not found: this benchmark reads the shared Luma data (../shared/data/README.md)")
    encoder = ImageEncoder.shared()
    with tempfile.TemporaryDirectory(prefix="recbot-ood-") as tmp:
        catalogue = load_catalogue(write_foreign_catalogue(DATA / "catalog.jsonl", Path(tmp), args.items, args.seed))
        store = ItemStore(Path(tmp) / "chroma")
        index_items(catalogue.items, store, TextEncoder.shared(), encoder, progress=False)
        ranker, rows = PhotoRanker(store), store.image_rows()
        items = rows.items
        photos = [load_image_file(i.image) for i in items]  # type: ignore[arg-type]
        picks = sorted(random.Random(args.seed + 1).sample(range(len(items)), min(args.queries, len(items))))
        truths = [items[n] for n in picks]
        queries = [PhotoQuery.of_image(shopper_photo(photos[n], split_of(items[n].product_id), n), encoder) for n in picks]
        scores = np.stack([ranker.scores(q, rows) for q in queries])
        groups, scenes = _composites(items, photos, args.scenes, args.seed)
        scene_queries = [PhotoQuery.of_image(s, encoder) for s in scenes]
        penalty = hub_penalty(rows.vectors)
        scene_scores = {id(o): ranker.scores(o, rows) for q in scene_queries for o in q.objects or [q]}  # once, for every beta
        report: dict = {"items": len(items), "queries": len(truths), "scenes": len(groups), "by_beta": {}}
        for beta in BETAS:
            adjusted = scores - beta * penalty[None, :]
            halves = {}
            for split in SPLITS:
                take = [n for n, t in enumerate(truths) if split_of(t.product_id) == split]
                halves[split] = {**_measure(adjusted[take], [truths[n] for n in take], items), **hubness(adjusted[take], items)}
            shown = [_shown_for(q, lambda o, b=beta: scene_scores[id(o)] - b * penalty, items) for q in scene_queries]
            halves["scenes"] = _composite_hits(shown, groups)
            report["by_beta"][str(beta)] = halves
        tuning = {b: r["tuning"]["same_product_r5"] + r["tuning"]["exact_r1"] for b, r in report["by_beta"].items()}
        report["chosen_beta_on_tuning"] = max(tuning, key=lambda b: (tuning[b], -float(b)))
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--queries", type=int, default=160)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parsed = parser.parse_args()
    result = main(parsed)
    if parsed.json:
        print(json.dumps(result, indent=2))
    else:
        for beta, halves in result["by_beta"].items():
            for split in SPLITS:
                h, scenes = halves[split], halves["scenes"][split]
                print(
                    f"beta {beta} {split:8s} same@5 {h['same_product_r5']:.3f} exact@1 {h['exact_r1']:.3f} "
                    f"commonest-first {h['commonest_first_share']:.3f} distinct/slot {h['distinct_products_per_slot']:.3f} "
                    f"scenes any@4 {scenes['hit_at4_any']:.3f} per-object {scenes['hit_at4_per_object']:.3f}"
                )
        print("beta chosen on the tuning half:", result["chosen_beta_on_tuning"])
