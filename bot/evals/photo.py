"""`recbot eval photo [--data DIR] [--json]`: photo search on the Luma alternate views and re-photos.

The work lives in recsys/photo_benchmark.py; this prints its report as a table or one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.config import BotConfig

_LABELS = {
    "same_product_r1": "same product R@1",
    "same_product_r5": "same product R@5",
    "exact_r1": "exact variant R@1",
    "category_at1": "category @1",
    "color_at1": "colour @1",
    "rephoto_exact_r1": "re-photo exact R@1",
}


def _table(report: dict[str, Any]) -> str:
    lines = [
        f"photo search on {report['queries']} alternate views and {report['rephoto_queries']} re-photographed main images",
        f"index: {report['indexed_photos']} photos from {report['index_images']} ({report['encoder']}), "
        f"indexed in {report['index_seconds']} s; {report['query_ms']} ms per query photo",
        f"{'':<22}{'all queries':>18}{'held-out half':>20}",
        f"{'metric':<22}{'ours':>8}{'baseline':>10}{'ours':>10}{'baseline':>10}{'goal':>8}",
    ]
    held, base_held = report["held_out"], report["baseline"]["held_out"]
    for key, label in _LABELS.items():
        goal = report["goals"].get(key)
        lines.append(
            f"{label:<22}{report[key]:>8.3f}{report['baseline'][key]:>10.3f}{held[key]:>10.3f}{base_held[key]:>10.3f}"
            f"{(f'≥{goal:.2f}' if goal else ''):>8}"
        )
    lines.append(
        f"(top-5 items as they come, variants not merged: ours {report['same_product_r5_items']:.3f}, "
        f"baseline {report['baseline']['same_product_r5_items']:.3f})"
    )
    lines.append(
        f"held-out half: {held['queries']} alternate views and {held['rephoto_queries']} re-photos of products split off by a hash "
        "of their id; weights and thresholds are chosen on the other half only"
    )
    shopper, base = report["shopper_photos"], report["baseline_shopper_photos"]
    lines.append(
        f"shopper photos (product on another background, angle, crop, blur, light, JPEG 30-60; backgrounds differ by half): "
        f"{shopper['tuning']['queries']} tuning, {shopper['held_out']['queries']} held out"
    )
    lines.append(f"{'metric':<22}{'tuning':>8}{'baseline':>10}{'held out':>10}{'baseline':>10}{'goal':>8}")
    for key in ("exact_r1", "same_product_r5", "color_at1", "category_at1"):
        goal = report["shopper_goals"].get(key)
        lines.append(
            f"{_LABELS[key]:<22}{shopper['tuning'][key]:>8.3f}{base['tuning'][key]:>10.3f}{shopper['held_out'][key]:>10.3f}"
            f"{base['held_out'][key]:>10.3f}{(f'≥{goal:.2f}' if goal else ''):>8}"
        )
    composites = report["composites"]
    lines.append(
        "scenes with 2-3 products on another background: a product of the scene among the first 4, and the share of its "
        "products there — "
        + ", ".join(
            f"{split} {v['hit_at4_any']:.3f} / {v['hit_at4_per_object']:.3f} ({v['scenes']} scenes)" for split, v in composites.items()
        )
    )
    return "\n".join(lines)


def run(config: BotConfig, args: argparse.Namespace) -> int:
    from recsys.photo.benchmark import BenchmarkDataMissing, run_benchmark

    try:
        report = run_benchmark(args.data)
    except BenchmarkDataMissing as exc:
        print(f"recbot eval photo: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0
