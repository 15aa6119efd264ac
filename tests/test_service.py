"""`BotService.handle`: what every adapter relies on, driven directly."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from adapters.config import Config
from bot.learning.feedback import UserKey
from bot.messages import Command, Feedback, Incoming
from bot.service import BotService
from recsys.catalogue.items import DEMO_CATALOGUE

IMAGES = DEMO_CATALOGUE.parent / "images"


async def test_a_text_request_gets_items_that_fit(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="u1", text="a blue tee under $30"))
    assert 1 <= len(reply.items) <= 4
    assert all(i.color == "Blue" and i.price <= 30 and "Tees" in " ".join(i.categories) for i in reply.items)
    assert all(Path(i.image).is_file() for i in reply.items if i.image)


async def test_a_budget_in_another_currency_is_kept_and_the_reply_says_how_it_was_read(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="fx", text="a jacket under 50 euros"))
    assert reply.items and all(i.price is not None and i.price <= 50 for i in reply.items)
    assert "Prices here are in US dollars" in reply.text and "50 euros" in reply.text
    zh = await service.handle(Incoming(user_id="fx-zh", text="100欧元以内的外套"))
    assert zh.items and all(i.price is not None and i.price <= 100 for i in zh.items)
    assert "美元" in zh.text and "欧元" in zh.text
    plain = await service.handle(Incoming(user_id="fx-usd", text="a jacket under 50 dollars"))
    assert plain.items and "Prices here are in" not in plain.text


async def test_the_text_model_is_loaded_at_start_not_in_the_first_users_turn(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsys.encoders.text import TextEncoder

    monkeypatch.setattr(TextEncoder, "_shared", None)  # as in a new process
    async with BotService(config) as fresh:
        assert fresh.recommender is not None and fresh.recommender.text_encoder._model is not None


async def test_a_photo_of_a_catalogue_item_finds_it(service: BotService) -> None:
    photo = (IMAGES / "mb01-blue-0.jpg").read_bytes()  # the Joust Duffle Bag
    reply = await service.handle(Incoming(user_id="u1", photos=[photo]))
    assert reply.error is None and reply.items
    assert "24-MB01" in [i.id for i in reply.items]
    cheaper = await service.handle(Incoming(user_id="u1", text="cheaper"))  # a follow-up on a photo search
    assert cheaper.items and max(i.price for i in cheaper.items) < min(i.price for i in reply.items)


async def test_a_photo_caption_refines_the_search(service: BotService) -> None:
    photo = (IMAGES / "mh01-gray_main.jpg").read_bytes()
    reply = await service.handle(Incoming(user_id="u1", photos=[photo], text="in red"))
    assert reply.items and all(i.color == "Red" for i in reply.items)


async def test_unusable_photos_get_a_friendly_reply(service: BotService) -> None:
    jpeg = (IMAGES / "mh01-gray_main.jpg").read_bytes()
    for data in (b"", jpeg[: len(jpeg) // 3], b"%PDF-1.4 not an image"):
        reply = await service.handle(Incoming(user_id="u1", photos=[data]))
        assert reply.error == "bad_image" and not reply.items and reply.text


async def test_a_png_with_alpha_is_understood(service: BotService) -> None:
    img = Image.open(IMAGES / "mh01-gray_main.jpg").convert("RGBA")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    reply = await service.handle(Incoming(user_id="u1", photos=[buf.getvalue()]))
    assert reply.error is None and reply.items


async def test_feedback_is_stored_before_it_is_acknowledged(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="u9", platform="telegram", feedback=Feedback("like", "MH01-Gray")))
    assert "Chaz Kangeroo Hoodie" in reply.text
    assert service.log.reactions(UserKey("telegram", "u9")) == (["MH01-Gray"], [])
    more = await service.handle(Incoming(user_id="u9", platform="telegram", feedback=Feedback("more_like_this", "MH01-Gray")))
    assert more.items and "MH01-Gray" not in [i.id for i in more.items]


async def test_forget_erases_memory_and_feedback(service: BotService) -> None:
    await service.handle(Incoming(user_id="u2", text="a blue tee"))
    await service.handle(Incoming(user_id="u2", command=Command("like", "MH01-Gray")))
    reply = await service.handle(Incoming(user_id="u2", command=Command("forget", "yes")))
    assert "forgot" in reply.text
    assert service.log.reactions(UserKey("terminal", "u2")) == ([], [])
    after = await service.handle(Incoming(user_id="u2", text="cheaper"))
    assert not after.items and "looking for first" in after.text  # no conversation to refer back to


async def test_admin_commands_are_for_admins_only(service: BotService) -> None:
    refused = await service.handle(Incoming(user_id="u3", command=Command("stats")))
    assert refused.error == "not_allowed"
    service.admins["telegram"].add("42")
    await service.handle(Incoming(user_id="7", platform="telegram", command=Command("like", "MH01-Gray")))
    stats = await service.handle(Incoming(user_id="42", platform="telegram", command=Command("stats")))
    assert stats.error is None and "Likes: 1" in stats.text and "Chaz Kangeroo Hoodie (1)" in stats.text
    assert (await service.handle(Incoming(user_id="42", platform="slack", command=Command("stats")))).error == "not_allowed"


async def test_users_are_served_concurrently_and_kept_apart(service: BotService) -> None:
    replies = await asyncio.gather(
        *(
            service.handle(Incoming(user_id=f"c{n}", text=text))
            for n, text in enumerate(["a red jacket", "a black tee", "green shorts"] * 2)
        )
    )
    assert all(r.items for r in replies)
    assert all(i.color == "Red" for i in replies[0].items) and all(
        "Tees" in " ".join(i.categories) and i.color == "Black" for i in replies[1].items
    )
    follow = await service.handle(Incoming(user_id="c0", text="cheaper"))
    assert all(i.color == "Red" and "Jackets" in " ".join(i.categories) for i in follow.items)


def spoken(text: str, path: Path) -> bytes:
    """A real voice note: espeak-ng speaks, ffmpeg encodes OGG/Opus like a Telegram voice note."""
    import shutil
    import subprocess

    import pytest

    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        pytest.skip("espeak-ng and ffmpeg are installed by scripts/install_system_deps.sh")
    wav, ogg = path / "note.wav", path / "note.ogg"
    subprocess.run(["espeak-ng", "-s", "130", "-w", str(wav), text], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "24k", str(ogg)], check=True)
    return ogg.read_bytes()


async def test_a_voice_note_is_answered_like_typed_text(service: BotService, tmp_path: Path) -> None:
    note = spoken("show me a blue jacket under one hundred dollars", tmp_path)
    reply = await service.handle(Incoming(user_id="v1", voice=note, voice_mime="audio/ogg"))
    assert reply.error is None, reply.text
    assert reply.transcript and "blue" in reply.transcript.lower()
    assert "I heard" in reply.text
    assert reply.items and all(i.color == "Blue" and i.price <= 100 and "Jackets" in " ".join(i.categories) for i in reply.items)


async def test_a_broken_voice_note_gets_a_clear_reply(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="v2", voice=b"definitely not audio", voice_mime="audio/ogg"))
    assert reply.error == "bad_audio" and reply.text and not reply.items


async def test_a_bound_stated_with_cheaper_wins_over_the_one_worked_out(service: BotService) -> None:
    first = await service.handle(Incoming(user_id="f1", text="a hoodie under $80"))
    assert first.items and min(i.price for i in first.items) > 40
    cheaper = await service.handle(Incoming(user_id="f1", text="cheaper, at most 70"))
    assert cheaper.items and all(i.price <= 70 and "Hoodies" in " ".join(i.categories) for i in cheaper.items)
    assert max(i.price for i in cheaper.items) >= min(i.price for i in first.items)  # 70, not "below the cheapest shown"
    zh = await service.handle(Incoming(user_id="f2", text="一件卫衣"))
    again = await service.handle(Incoming(user_id="f2", text="再便宜点，最多50美元"))
    assert zh.items and again.items and all(i.price <= 50 for i in again.items) and again.text.startswith("为你找到")
