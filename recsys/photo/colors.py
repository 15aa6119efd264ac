"""What colour a product photo shows: the garment's pixels (not the studio white or skin), named.

Two views of the same pixels: a fine hue/saturation/value histogram (the feature a colour model
learns from) and a coarse share per catalogue colour name (what a person would call it).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

COLOR_NAMES = ("Black", "Blue", "Brown", "Gray", "Green", "Lavender", "Orange", "Purple", "Red", "White", "Yellow")
_INDEX = {n: i for i, n in enumerate(COLOR_NAMES)}

_SIDE = 96  # colour needs few pixels; small keeps it cheap
_HUE_BINS = 18
HIST_DIM = _HUE_BINS * 2 * 2 + 5  # chromatic hue × saturation × value cells, then 5 grey levels
COLOR_DIM = HIST_DIM + len(COLOR_NAMES)  # a colour signature: the histogram, then the share per name


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees, saturation and value in 0..1, for an (N, 3) float array in 0..1."""
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    delta = mx - mn
    s = np.where(mx > 0, delta / np.maximum(mx, 1e-6), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.maximum(delta, 1e-6)
    h = np.where(
        mx == r,
        ((g - b) / safe) % 6,
        np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    h = np.where(delta > 0, h * 60.0, 0.0)
    return h, s, mx


def small_rgb(img: Image.Image) -> np.ndarray:
    """The photo at most 96 px a side, as floats in 0..1: colour needs few pixels."""
    small = img.convert("RGB").copy()
    small.thumbnail((_SIDE, _SIDE), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32) / 255.0


def _studio_light(rgb: np.ndarray) -> np.ndarray | None:
    """The backdrop's colour when the border looks like a plain light backdrop, else None."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    backdrop = np.median(border, axis=0)
    if backdrop.min() < 0.45 or backdrop.max() - backdrop.min() > 0.12:
        return None
    if np.mean(np.abs(border - backdrop).max(axis=-1) <= 0.08) < 0.5:
        return None
    return backdrop


def normalise_light(rgb: np.ndarray) -> np.ndarray:
    """Divide by the backdrop's colour, so a dim or tinted re-photo of a white-studio shot reads as the original."""
    backdrop = _studio_light(rgb)
    if backdrop is None:
        return rgb
    return np.clip(rgb / np.maximum(backdrop, 0.45), 0.0, 1.0)


def studio_backdrop(rgb: np.ndarray) -> np.ndarray:
    """True on a light studio backdrop: near-white pixels reached from the border, and pure white anywhere."""
    mn = rgb.min(axis=-1)
    spread = rgb.max(axis=-1) - mn
    near_white = (mn >= 0.94) & (spread <= 0.06)
    labels, _ = ndimage.label(near_white)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, border[border > 0]) | ((mn >= 0.975) & (spread <= 0.03))


def foreground_mask(rgb: np.ndarray) -> np.ndarray:
    """True where the product is: not the light backdrop reached from the border, not skin."""
    background = studio_backdrop(rgb)
    r, g, b = rgb[..., 0] * 255, rgb[..., 1] * 255, rgb[..., 2] * 255
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 128
    cb = (b - y) * 0.564 + 128
    h, s, v = _hsv(rgb)
    skin = (cr >= 138) & (cr <= 170) & (cb >= 85) & (cb <= 125) & (h <= 40) & (s >= 0.18) & (s <= 0.62) & (v >= 0.35) & (y >= 60)
    mask = ~background & ~skin
    if mask.sum() < 0.03 * mask.size:  # a product that is all "skin" tones (or nearly all white): keep what is not background
        mask = ~background
    if mask.sum() < 0.01 * mask.size:  # a white thing on white
        mask = np.ones_like(mask)
    return mask


def detail_crop(img: Image.Image) -> Image.Image:
    """A close-up of the product's upper middle (chest of a top, waist of trousers, front of a bag):
    indexed beside the whole shot, so a customer's close-up photo has something alike to match."""
    rgb = normalise_light(small_rgb(img))
    ys, xs = np.nonzero(foreground_mask(rgb))
    if len(ys) == 0:
        return img
    scale = img.width / rgb.shape[1]
    top, bottom, left, right = ys.min() * scale, ys.max() * scale, xs.min() * scale, xs.max() * scale
    height = bottom - top
    cx, cy, half = (left + right) / 2, top + 0.38 * height, max(0.225 * height, 8)
    return img.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))


def garment_pixels(img: Image.Image) -> np.ndarray:
    """The product's pixels as an (N, 3) float array in 0..1."""
    rgb = normalise_light(small_rgb(img))
    return rgb[foreground_mask(rgb)]


def name_pixels(pixels: np.ndarray) -> np.ndarray:
    """Index into COLOR_NAMES for each (r, g, b) pixel, by hue, saturation and brightness."""
    h, s, v = _hsv(pixels)
    out = np.full(len(pixels), _INDEX["Gray"], dtype=np.int64)
    chroma = s * v
    achromatic = (s < 0.16) | (chroma < 0.09)
    out[achromatic & (v >= 0.82)] = _INDEX["White"]
    out[achromatic & (v < 0.82)] = _INDEX["Gray"]
    out[v < 0.2] = _INDEX["Black"]
    out[achromatic & (v < 0.3)] = _INDEX["Black"]
    col = ~achromatic & (v >= 0.2)
    hue_name = np.select(
        [h < 12, h < 40, h < 68, h < 165, h < 255, h < 295, h < 335],
        [_INDEX["Red"], _INDEX["Orange"], _INDEX["Yellow"], _INDEX["Green"], _INDEX["Blue"], _INDEX["Purple"], _INDEX["Purple"]],
        default=_INDEX["Red"],
    )
    brown = (h >= 8) & (h < 50) & ((v < 0.55) | ((s < 0.45) & (v < 0.75)))
    lavender = (h >= 230) & (h < 300) & (s < 0.35) & (v >= 0.65)
    hue_name = np.where(brown, _INDEX["Brown"], np.where(lavender, _INDEX["Lavender"], hue_name))
    out[col] = hue_name[col]
    return out


def name_shares(pixels: np.ndarray) -> np.ndarray:
    """Share of the pixels per catalogue colour name (sums to 1)."""
    counts = np.bincount(name_pixels(pixels), minlength=len(COLOR_NAMES)).astype(np.float32)
    return counts / max(float(counts.sum()), 1.0)


def hsv_histogram(pixels: np.ndarray) -> np.ndarray:
    """A fine colour histogram (HIST_DIM bins, sums to 1): hue × saturation × value, and grey levels."""
    h, s, v = _hsv(pixels)
    grey = (s < 0.15) | (v < 0.18)
    hue_bin = np.minimum((h / (360.0 / _HUE_BINS)).astype(np.int64), _HUE_BINS - 1)
    cell = hue_bin * 4 + (s >= 0.45) * 2 + (v >= 0.55)
    grey_bin = _HUE_BINS * 4 + np.minimum((v * 5).astype(np.int64), 4)
    bins = np.where(grey, grey_bin, cell)
    counts = np.bincount(bins, minlength=HIST_DIM).astype(np.float32)
    return counts / max(float(counts.sum()), 1.0)


def color_features(img: Image.Image) -> np.ndarray:
    """The photo's colour signature: fine histogram followed by the name shares (HIST_DIM + 11 values)."""
    pixels = garment_pixels(img)
    return np.concatenate([hsv_histogram(pixels), name_shares(pixels)]).astype(np.float32)


def histogram_similarity(query: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Bhattacharyya coefficient (0..1) of one signature's histogram with each of `others`."""
    return np.sqrt(np.clip(others[:, :HIST_DIM], 0, None)) @ np.sqrt(np.clip(query[:HIST_DIM], 0, None))


def name_similarity(query: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Bhattacharyya coefficient (0..1) of the colour-name shares: coarse where the histogram is fine, so a navy
    back view still meets the royal-blue front shot of the same "Blue" variant."""
    return np.sqrt(np.clip(others[:, HIST_DIM:], 0, None)) @ np.sqrt(np.clip(query[HIST_DIM:], 0, None))


def shares_of(features: np.ndarray) -> np.ndarray:
    """The colour-name shares inside a `color_features` vector."""
    return np.asarray(features, dtype=np.float32)[..., HIST_DIM:]


def dominant_colors(img: Image.Image, top: int = 2, min_share: float = 0.15) -> list[tuple[str, float]]:
    """The main colour names of the product in a photo, largest first, with their share of its pixels."""
    return named(name_shares(garment_pixels(img)), top, min_share)


def named(shares: np.ndarray, top: int = 2, min_share: float = 0.15) -> list[tuple[str, float]]:
    order = np.argsort(-shares)[:top]
    picked = [(COLOR_NAMES[i], round(float(shares[i]), 3)) for i in order if shares[i] >= min_share]
    return picked or [(COLOR_NAMES[int(order[0])], round(float(shares[order[0]]), 3))]


def visual_color(features: np.ndarray) -> str:
    """One colour name for a product without a catalogue colour (bags, watches, balls)."""
    return named(shares_of(features), top=1)[0][0]


def dominant_colors_of(features: np.ndarray, top: int = 2) -> list[tuple[str, float]]:
    """The main colour names inside a `color_features` vector."""
    return named(shares_of(features), top)
