"""Whether a shopper's picture can show a product at all: a few pixels, one flat colour or random noise get a clear
answer instead of "items that look like your photo" (any picture has nearest items, so the search cannot tell)."""

from __future__ import annotations

import numpy as np
from PIL import Image

MIN_SIDE = 32  # pixels: below this nothing is recognisable
FLAT = 4.0  # standard deviation (0-255) under which a picture is one colour: a blank, white or black frame
# Neighbouring pixels of a photo are alike (correlation 0.8-0.99 even for busy, blurred or JPEG-30 shots); in noise they
# are not (about 0). Measured on the grey picture at most 256 px a side.
NOISE_CORRELATION = 0.35


def photo_problem(image: Image.Image) -> tuple[str, dict[str, int]] | None:
    """(code, data) when the picture cannot show a product: too_small, blank or noise; None when it may."""
    if min(image.size) < MIN_SIDE:
        return "too_small", {"width": image.width, "height": image.height, "min_side": MIN_SIDE}
    small = image.convert("RGB").copy()
    small.thumbnail((256, 256))
    pixels = np.asarray(small, dtype=np.float32)
    if float(pixels.reshape(-1, 3).std(axis=0).max()) < FLAT:
        return "blank", {}
    grey = pixels.mean(axis=2)
    if _neighbour_correlation(grey) < NOISE_CORRELATION:
        return "noise", {}
    return None


def _neighbour_correlation(grey: np.ndarray) -> float:
    """Correlation of each pixel with the one to its right and the one below, averaged."""
    pairs = [(grey[:, :-1], grey[:, 1:]), (grey[:-1, :], grey[1:, :])]
    out = []
    for a, b in pairs:
        a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
        denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
        out.append(float((a * b).sum()) / denominator if denominator > 0 else 1.0)
    return float(np.mean(out))
