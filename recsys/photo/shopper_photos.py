"""Catalogue photos made to look like a shopper took them, for the photo benchmark: the product cut out of its studio
shot and put on another background (real photos that ship inside installed packages, and generated textures), then a
perspective angle, a crop, blur, uneven light, downscaling and a JPEG at quality 30-60.

Backgrounds are split like the queries: the tuning half uses one set and the held-out half another, so a figure on the
held-out half is for backgrounds no setting was chosen on."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from recsys.encoders.images import decode_image
from recsys.photo.colors import normalise_light, studio_backdrop

SIZE = 480
PERSPECTIVE = 0.07  # how far each corner may move, as a share of the side


def _package_photo(module: str, *parts: str) -> Image.Image | None:
    """A photo that ships inside an installed package (none is downloaded)."""
    try:
        base = Path(__import__(module, fromlist=["__file__"]).__file__).parent
    except ImportError:
        return None
    path = base.joinpath(*parts)
    return Image.open(path).convert("RGB") if path.is_file() else None


def _wood(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    rings = np.sin((x + 40 * np.sin(y / rng.uniform(40, 90))) / rng.uniform(6, 14)) * 0.5 + 0.5
    base = np.array(rng.choice([(150, 100, 60), (120, 80, 45), (185, 140, 95)]), dtype=np.float32)
    return base * (0.75 + 0.35 * rings[..., None]) + rng.normal(0, 6, (SIZE, SIZE, 1))


def _smooth_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    small = Image.fromarray(rng.normal(0, 1, (cells, cells)).astype(np.float32), mode="F")
    return np.asarray(small.resize((SIZE, SIZE), Image.Resampling.BICUBIC), dtype=np.float32)


def _concrete(rng: np.random.Generator) -> np.ndarray:
    noise = sum(_smooth_noise(rng, SIZE // s) * (s / 16) for s in (2, 6, 16, 40))
    grey = rng.uniform(110, 170)
    return np.repeat((grey + 9 * noise)[..., None], 3, axis=2) + np.array(rng.normal(0, 6, 3))


def _fabric(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    period = rng.uniform(5, 11)
    weave = (np.sin(x / period) * np.sin(y / period)) * 0.5 + 0.5
    base = np.array(rng.choice([(60, 90, 140), (150, 60, 70), (90, 120, 80), (200, 190, 170)]), dtype=np.float32)
    return base * (0.8 + 0.3 * weave[..., None]) + rng.normal(0, 5, (SIZE, SIZE, 1))


def _gradient_wall(rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0, 1, SIZE, dtype=np.float32)[:, None, None]
    top, bottom = (np.array(rng.uniform(60, 230, 3), dtype=np.float32) for _ in range(2))
    return np.broadcast_to(top * (1 - t) + bottom * t, (SIZE, SIZE, 3)) + rng.normal(0, 3, (SIZE, SIZE, 3))


TEXTURES = {"tuning": (_wood, _concrete), "held_out": (_fabric, _gradient_wall)}
PHOTOS = {
    "tuning": (("sklearn.datasets", "images", "china.jpg"),),
    "held_out": (("sklearn.datasets", "images", "flower.jpg"), ("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")),
}


def background(split: str, rng: np.random.Generator) -> Image.Image:
    """A background of this half's set: a random crop of a real photo, or a generated texture."""
    photos = [p for spec in PHOTOS[split] if (p := _package_photo(*spec)) is not None]
    if photos and rng.random() < 0.5:
        photo = photos[int(rng.integers(len(photos)))]
        side = int(min(photo.size) * rng.uniform(0.35, 0.8))
        left, top = int(rng.integers(0, photo.width - side + 1)), int(rng.integers(0, photo.height - side + 1))
        return photo.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    texture = TEXTURES[split][int(rng.integers(len(TEXTURES[split])))](rng)
    return Image.fromarray(np.clip(texture, 0, 255).astype(np.uint8))


def _product_mask(image: Image.Image) -> Image.Image:
    """Everything but the studio backdrop (the product, and the model wearing it), at the photo's size, its edge pulled
    in a little and softened so no white halo stays."""
    small = image.convert("RGB").copy()
    small.thumbnail((256, 256))
    keep = ~studio_backdrop(normalise_light(np.asarray(small, dtype=np.float32) / 255.0))
    mask = Image.fromarray((keep * 255).astype(np.uint8)).filter(ImageFilter.MinFilter(3))
    return mask.resize(image.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.2))


def _perspective(image: Image.Image, rng: np.random.Generator, strength: float = 0.08) -> Image.Image:
    w, h = image.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [(x + rng.uniform(-strength, strength) * w, y + rng.uniform(-strength, strength) * h) for x, y in corners]
    matrix = []
    for (x, y), (u, v) in zip(corners, moved, strict=True):
        matrix.append([u, v, 1, 0, 0, 0, -x * u, -x * v])
        matrix.append([0, 0, 0, u, v, 1, -y * u, -y * v])
    coeffs = np.linalg.solve(np.array(matrix, dtype=np.float64), np.array([c for xy in corners for c in xy], dtype=np.float64))
    return image.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC)


def shopper_photo(studio: Image.Image, split: str, seed: int) -> Image.Image:
    """The product of a studio shot as a shopper might photograph it."""
    rng = np.random.default_rng(seed)
    py = random.Random(seed)
    scene = background(split, rng)
    product = studio.convert("RGB")
    scale = rng.uniform(0.5, 0.75) * SIZE / max(product.size)  # the crop below keeps most of it in the picture
    product = product.resize((max(1, int(product.width * scale)), max(1, int(product.height * scale))), Image.Resampling.BICUBIC)
    mask = _product_mask(product)
    left = int(rng.integers(0, SIZE - product.width + 1))
    top = int(rng.integers(0, SIZE - product.height + 1))
    scene.paste(product, (left, top), mask)
    scene = _perspective(scene, rng, PERSPECTIVE)
    # a crop inside what the tilt left filled (a phone photo has no empty corners), off-centre by a random amount
    margin = int(SIZE * PERSPECTIVE) + 1
    side = int(SIZE * rng.uniform(0.75, 1.0 - 2 * PERSPECTIVE))
    x0, y0 = (int(rng.integers(margin, SIZE - side - margin + 1)) for _ in range(2))
    scene = scene.crop((x0, y0, x0 + side, y0 + side))
    scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.5)))
    scene = ImageEnhance.Brightness(scene).enhance(rng.uniform(0.7, 1.15))
    scene = ImageEnhance.Contrast(scene).enhance(rng.uniform(0.8, 1.1))
    warm = np.array([rng.uniform(0.92, 1.08), 1.0, rng.uniform(0.92, 1.08)], dtype=np.float32)  # the light's colour
    scene = Image.fromarray(np.clip(np.asarray(scene, dtype=np.float32) * warm, 0, 255).astype(np.uint8))
    scene = scene.resize((py.randint(240, 480),) * 2, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    scene.save(buf, "JPEG", quality=py.randint(30, 60))
    return decode_image(buf.getvalue())


def composite_photo(studios: list[Image.Image], split: str, seed: int) -> Image.Image:
    """Several products side by side in one scene (a flat-lay, a shelf), photographed like `shopper_photo`; kept whole
    in the frame so each can be found."""
    rng = np.random.default_rng(seed)
    py = random.Random(seed)
    scene = background(split, rng)
    slot = SIZE // len(studios)
    for n, studio in enumerate(studios):
        product = studio.convert("RGB")
        scale = rng.uniform(0.75, 0.9) * min(slot / product.width, SIZE * 0.8 / product.height)
        product = product.resize((max(1, int(product.width * scale)), max(1, int(product.height * scale))), Image.Resampling.BICUBIC)
        left = n * slot + int(rng.integers(0, max(1, slot - product.width)))
        top = int(rng.integers(int(SIZE * 0.08), max(int(SIZE * 0.08) + 1, SIZE - product.height - int(SIZE * 0.08))))
        scene.paste(product, (left, top), _product_mask(product))
    scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.0)))
    scene = ImageEnhance.Brightness(scene).enhance(rng.uniform(0.8, 1.1))
    scene = scene.resize((py.randint(360, 480),) * 2, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    scene.save(buf, "JPEG", quality=py.randint(40, 70))
    return decode_image(buf.getvalue())
