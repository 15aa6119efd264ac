"""Photo search on a catalogue that is not the demo: the bundled photos recoloured, its kinds renamed, no colour names
(recsys/photo/foreign_catalogue.py). Shopper photos of its items still find them, no item answers most photos (a
"hub"), and what cannot be a product photo is still said to be one. Real encoders, store and bot."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adapters.cli import new_bot
from adapters.config import Config
from bot.messages import Incoming
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.photo.benchmark import split_of
from recsys.photo.foreign_catalogue import write_foreign_catalogue
from recsys.photo.shopper_photos import shopper_photo

pytestmark = pytest.mark.slow


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return buf.getvalue()


async def test_shopper_photos_find_their_items_in_a_foreign_catalogue_without_hubs(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    path = write_foreign_catalogue(DEMO_CATALOGUE, tmp_path / "shop", 80, seed=3)
    config = Config(storage={"dir": tmp_path / "data"}, catalogue={"path": path}, llm={"provider": "rules"}, training={"enabled": False})
    service = new_bot(config)
    await service.start(progress=False)
    try:
        items = [i for i in service.recommender.store.all_items().values() if i.image][:16]  # type: ignore[union-attr]
        assert items and not any(i.color for i in items) and all(c.startswith("Line ") for i in items for c in i.categories)
        found, firsts = 0, Counter()
        for n, item in enumerate(items):
            shot = shopper_photo(Image.open(item.image), split_of(item.product_id), seed=n)  # type: ignore[arg-type]
            reply = await service.handle(Incoming(user_id=f"ood-{n}", photos=[jpeg(shot)]))
            found += item.product_id in {service.item(c.id).product_id for c in reply.items}  # type: ignore[union-attr]
            firsts[reply.items[0].id if reply.items else ""] += 1
        noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        not_a_product = await service.handle(Incoming(user_id="ood-noise", photos=[jpeg(Image.fromarray(noise))]))
    finally:
        await service.close()
    assert found >= 12  # of 16: the same product among the items shown
    assert firsts.most_common(1)[0][1] <= 3  # no item is the first answer to most photos
    assert not not_a_product.items and not_a_product.error == "bad_image"
