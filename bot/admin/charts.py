"""The /stats chart: likes and dislikes per day, and the model's held-out metric per version, as one PNG."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot
import matplotlib.pyplot as plt


def stats_chart(per_day: list[tuple[dt.date, int, int]], versions: list[tuple[str, float | None]], metric: str) -> bytes:
    """PNG bytes: reactions per day (left) and `metric` per model version (right); empty panels say so."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    try:
        if per_day:
            days = [d for d, _, _ in per_day]
            x = range(len(days))
            left.bar([i - 0.2 for i in x], [n for _, n, _ in per_day], width=0.4, label="likes", color="#2e7d32")
            left.bar([i + 0.2 for i in x], [n for _, _, n in per_day], width=0.4, label="dislikes", color="#c62828")
            step = max(1, len(days) // 8)
            left.set_xticks(list(x)[::step], [d.strftime("%m-%d") for d in days][::step])
            left.legend(loc="upper left")
        else:
            left.text(0.5, 0.5, "no feedback yet", ha="center", va="center", transform=left.transAxes)
        left.set_title("Likes and dislikes per day (UTC)")
        scored = [(name, value) for name, value in versions if value is not None]
        if scored:
            right.plot([n for n, _ in scored], [v for _, v in scored], marker="o", color="#1565c0")
            right.set_ylim(bottom=0)
        else:
            right.text(0.5, 0.5, "no evaluated model yet", ha="center", va="center", transform=right.transAxes)
        right.set_title(f"Model {metric} per version (held-out)")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
