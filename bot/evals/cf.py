"""`recbot eval cf --dataset {ml-100k,gowalla,lastfm} [--data DIR] [--json]`: CF accuracy and training time.

The work lives in recsys/cf_benchmark.py; this prints its report as a table or one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.config import BotConfig

DATASETS = ("ml-100k", "gowalla", "lastfm")


def _table(report: dict[str, Any]) -> str:
    metric_keys = [key for key in report if "@" in key]
    header = f"{'model':<16}" + "".join(f"{key:>12}" for key in metric_keys) + f"{'train s':>10}{'cpu s':>10}"
    lines = [f"dataset: {report['dataset']}", header]
    for row in [report, *report["baselines"]]:
        lines.append(
            f"{row['model']:<16}"
            + "".join(f"{row[key]:>12.4f}" for key in metric_keys)
            + f"{row['train_seconds']:>10.1f}{row['train_cpu_seconds']:>10.1f}"
        )
    return "\n".join(lines)


def run(config: BotConfig, args: argparse.Namespace) -> int:
    from recsys.cf.benchmark import run_benchmark
    from recsys.cf.datasets import DatasetUnavailable

    if args.dataset not in DATASETS:
        print(f"recbot eval cf: --dataset must be one of {', '.join(DATASETS)}", file=sys.stderr)
        return 2
    try:
        report = run_benchmark(args.dataset, args.data)
    except DatasetUnavailable as exc:
        print(f"recbot eval cf: {args.dataset} is not available: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for row in [report, *report["baselines"]]:
            row.pop("train_cpu_seconds", None)  # the JSON carries exactly the documented keys
        print(json.dumps(report, indent=2))
    else:
        print(_table(report))
    return 0
