"""The product cut out of a photo taken anywhere — a bed, a floor, a street — and set on a white square, the way the
catalogue's studio shots show it, so the image vector, the colour reading and the category model see the product and
not the room. A salient-object network (U²-Net-P, `salient.py`) finds the product; where its weights are not installed,
OpenCV's GrabCut (a colour model of the border versus the middle, refined on a graph) does. A photo already on a light
studio backdrop is left as it is."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from recsys.photo.colors import small_rgb
from recsys.photo.salient import SalientObjects

SIDE = 200  # the mask's working size: GrabCut takes about 0.1 s there on 2 cores, and it holds the product's outline
INSET = 0.06  # the border band taken as certainly background
ITERATIONS = 4
SALIENT = 0.5  # a pixel this likely to be the product is product (0.5 vs GrabCut, tuning half: exact @1 0.60 → 0.78)
PADDING = 0.02  # white kept around the product on its square (0.02 vs 0.08: exact @1 0.41 → 0.47, tuning half)
MIN_SHARE, MAX_SHARE = 0.03, 0.97  # a cut-out smaller or larger than this is not a product found: keep the photo
SEPARATE_SHARE = 0.04  # a separate part of the cut-out this large (of the photo) is a product of its own


STUDIO_UNIFORM = 0.8  # share of border pixels within 0.06 of the border's median: catalogue shots 0.86-0.95
STUDIO_LIGHT = 0.6  # the backdrop's darkest channel: white, or white photographed in dim light (0.8)


def on_studio_backdrop(image: Image.Image) -> bool:
    """A plain light backdrop around the product, as catalogue shots have: a light fabric or a pale checked floor is
    light too but not plain, and is cut away like any other background."""
    rgb = small_rgb(image)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    median = np.median(border, axis=0)
    plain = float(np.mean(np.abs(border - median).max(axis=-1) <= 0.06))
    return plain >= STUDIO_UNIFORM and float(median.min()) >= STUDIO_LIGHT


def isolate_product(image: Image.Image) -> Image.Image:
    """The product on white, centred on a square; the photo itself when it is a studio shot or nothing was found."""
    return cut_out(image)[0]


def cut_out(image: Image.Image, most: int = 3) -> tuple[Image.Image, list[Image.Image]]:
    """(everything found, on white; each of several separate products on white when there are two or more): a photo of
    a bed with a pillow and a throw on it is searched once per product. A studio shot or a photo where nothing was found
    comes back as it is, with no separate products."""
    if on_studio_backdrop(image):
        return image, []
    found = _find_product(image)
    if found is None:
        return image, []
    mask, parts = found
    whole = _on_white(image, mask)
    if whole is None:
        return image, []
    separate = [cut for part in parts[:most] if part.mean() >= SEPARATE_SHARE and (cut := _on_white(image, part)) is not None]
    return whole, separate if len(separate) > 1 else []


def _on_white(image: Image.Image, mask: np.ndarray) -> Image.Image | None:
    """The masked part of the photo on a white square around it (the mask at GrabCut's working size)."""
    full = Image.fromarray(mask.astype(np.uint8) * 255).resize(image.size, Image.Resampling.BILINEAR)
    ys, xs = np.nonzero(np.asarray(full) > 127)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    white = Image.new("RGB", image.size, (255, 255, 255))
    white.paste(image.convert("RGB"), (0, 0), full)
    width, height = x1 - x0, y1 - y0
    side = int(max(width, height) * (1 + 2 * PADDING))
    square = Image.new("RGB", (side, side), (255, 255, 255))
    square.paste(white.crop((x0, y0, x1, y1)), ((side - width) // 2, (side - height) // 2))
    return square


def _find_product(image: Image.Image) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """(0/1 mask of the product at the working size, its largest parts apart, largest first); stray specks taken for
    product are left out. None when the cut is implausible."""
    small = image.convert("RGB").copy()
    small.thumbnail((SIDE, SIDE))
    h, w = small.height, small.width
    if min(h, w) < 16:
        return None
    probabilities = SalientObjects.shared().probabilities(image, (w, h))
    product = (probabilities >= SALIENT).astype(np.uint8) if probabilities is not None else _grabcut(small)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(product)
    if count < 2:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    kept = [1 + int(n) for n in np.argsort(-areas) if areas[n] >= 0.2 * areas.max()]
    parts = [(labels == n).astype(np.uint8) for n in kept]
    product = np.maximum.reduce(parts)
    share = float(product.mean())
    return (product, parts) if MIN_SHARE <= share <= MAX_SHARE else None


def _grabcut(small: Image.Image) -> np.ndarray:
    """0/1 mask of what GrabCut takes for the product of a photo at the working size."""
    bgr = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
    h, w = bgr.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    rect = (int(w * INSET), int(h * INSET), max(1, int(w * (1 - 2 * INSET))), max(1, int(h * (1 - 2 * INSET))))
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(bgr, mask, rect, background, foreground, ITERATIONS, cv2.GC_INIT_WITH_RECT)
    return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
