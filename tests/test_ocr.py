"""Text printed on a product: read offline from the photo, and an item whose name it spells out ranks first."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bot.messages import Incoming
from bot.service import BotService
from recsys.photo.ocr import read_text, words
from recsys.photo.search import PhotoQuery
from recsys.store.filters import Filters


def labelled_bag(label: list[str], size: tuple[int, int] = (420, 420)) -> Image.Image:
    """A studio shot of a plain dark bag with its name printed across the front."""
    img = Image.new("RGB", size, (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((50, 90, 370, 380), radius=30, fill=(35, 35, 40))
    d.arc((140, 20, 280, 150), 180, 360, fill=(35, 35, 40), width=14)  # the handle
    font = ImageFont.load_default(size=38)
    for n, line in enumerate(label):
        d.text((75, 170 + 56 * n), line, font=font, fill=(245, 245, 245))
    return img


def test_the_text_printed_on_a_product_is_read() -> None:
    read = words(read_text(labelled_bag(["CROWN", "SUMMIT"])))
    assert "crown" in read and "summit" in read
    assert read_text(labelled_bag([])) == []  # a plain bag has nothing to read
    assert read_text(Image.new("RGB", (30, 30), (0, 0, 0))) == []  # too small to hold print


async def test_a_printed_name_brings_its_item_to_the_top(service: BotService) -> None:
    recommender = service.recommender
    photo = labelled_bag(["CROWN", "SUMMIT"])
    query = PhotoQuery.of_image(photo, recommender.image_encoder)
    assert query.text
    read = recommender.photo_ranker.rank(query, Filters(), 5)
    unread = recommender.photo_ranker.rank(PhotoQuery(query.vector, query.colors, query.encoder), Filters(), 5)
    assert read[0][0].name == "Crown Summit Backpack"
    assert unread[0][0].name != "Crown Summit Backpack"  # the picture alone does not single it out


async def test_a_user_who_sends_a_photo_of_a_labelled_bag_gets_that_bag_first(service: BotService) -> None:
    buf = io.BytesIO()
    labelled_bag(["CROWN", "SUMMIT"]).save(buf, "JPEG", quality=90)
    reply = await service.handle(Incoming(user_id="ocr", photos=[buf.getvalue()]))
    assert reply.error is None and reply.items
    assert reply.items[0].name == "Crown Summit Backpack"


def test_what_a_photo_said_is_kept_for_follow_ups(tmp_path: Path) -> None:
    query = PhotoQuery(np.ones(4, dtype=np.float32), encoder="e", text=("CROWN SUMMIT",))
    path = tmp_path / "p.npz"
    path.write_bytes(query.to_bytes())
    assert PhotoQuery.from_file(path).text == ("CROWN SUMMIT",)
