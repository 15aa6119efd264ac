"""The Telegram adapter end to end: the real python-telegram-bot Application against a fake Bot API on 127.0.0.1
(tests/fakes/telegram_api.py), in front of the real BotService (`telegram`) or, where only the adapter is under test,
a fake bot with no models (`fake_telegram`, tests/fakes/handler.py). Assertions are about what the user sees."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, ExtBot, TypeHandler

from adapters.cli import new_bot
from adapters.config import Config, TelegramConfig
from adapters.telegram.app import ALLOWED_UPDATES, build_application
from adapters.telegram.render import Renderer
from adapters.telegram.serve import check_bot_api, serve, webhook_options
from adapters.telegram.webhook import start_webhook
from bot.config import ConfigError
from bot.learning.feedback import UserKey
from bot.messages import Command, Incoming, ItemCard, Reply
from bot.understanding.lang import DEFAULT as EN
from tests.fakes.handler import FakeHandler
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "recsys" / "demo_catalogue" / "images"
USER, ADMIN, GROUP = 42, 7, -100200300
SECRET = "s3cret-for_the-webhook"


class Harness:
    """The bot running against the fake API; `send` delivers an update and waits until the bot has handled it."""

    def __init__(self, app: Application, api: FakeTelegramAPI) -> None:
        self.app, self.api = app, api
        self._handled: dict[int, asyncio.Event] = {}
        self.incoming: list[Incoming] = []
        self.replies: list[Reply] = []
        # Runs after the adapter's handlers for the same update (groups are processed in order).
        app.add_handler(TypeHandler(Update, self._mark_handled), group=99)

    @property
    def service(self) -> Any:
        return self.app.bot_data["handler"]

    def spy_on_service(self) -> None:
        """Record what the adapter asks the bot and what it answers (the adapter↔bot boundary)."""
        handle = self.service.handle

        async def spy(incoming: Incoming) -> Reply:
            self.incoming.append(incoming)
            reply = await handle(incoming)
            self.replies.append(reply)
            return reply

        self.service.handle = spy

    async def _mark_handled(self, update: Update, context: Any) -> None:
        self._event(update.update_id).set()

    def _event(self, update_id: int) -> asyncio.Event:
        return self._handled.setdefault(update_id, asyncio.Event())

    async def handled(self, update_id: int, timeout: float = 300) -> None:
        """Wait until the bot has handled the update with this id (also one with no chat, which `send` cannot track)."""
        await asyncio.wait_for(self._event(update_id).wait(), timeout)

    async def send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver `update`; returns the new messages the bot sent to that chat while handling it."""
        chat_id = _chat_id(update)
        before = len(self.api.outgoing(chat_id))
        await self.handled(await self.api.push(update))
        return self.api.outgoing(chat_id)[before:]


def _chat_id(update: dict[str, Any]) -> int:
    body = update.get("message") or update.get("edited_message") or update.get("channel_post")
    if body is None:
        body = update["callback_query"]["message"]
    return body["chat"]["id"]


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Item cards: the messages carrying 👍 / 👎 / More like this buttons."""
    return [m for m in messages if any(b.get("text", "").startswith("👍") for row in _rows(m) for b in row)]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m and not cards([m])]


def button(message: dict[str, Any], label: str) -> str:
    return next(b["callback_data"] for row in _rows(message) for b in row if b["text"].startswith(label))


def _rows(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return (message.get("reply_markup") or {}).get("inline_keyboard", [])


def item_id(card: dict[str, Any]) -> str:
    body = card.get("caption") or card.get("text", "")
    return body.rsplit("ID: ", 1)[1].strip()


def telegram_config(config: Config, api: FakeTelegramAPI, **extra: Any) -> Config:
    section = TelegramConfig(base_url=api.base_url, base_file_url=api.base_file_url, admins=[str(ADMIN)], **extra)
    return config.model_copy(update={"telegram": section})


@contextlib.asynccontextmanager
async def running(app: Application, webhook: dict[str, Any] | None = None) -> AsyncIterator[None]:
    """What `Application.run_polling` / `serve.run_webhook` do, without owning the event loop or the signals."""
    await app.initialize()
    try:
        await app.post_init(app)
        hook = None
        if webhook is None:
            await app.updater.start_polling(timeout=1, allowed_updates=ALLOWED_UPDATES)  # a short long-poll: quick to stop
        else:
            hook = await start_webhook(app, webhook)
        await app.start()
        try:
            yield
        finally:
            if hook is None:
                await app.updater.stop()
            else:
                await hook.cleanup()
            await app.stop()
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def telegram(config: Config, api: FakeTelegramAPI) -> AsyncIterator[Harness]:
    cfg = telegram_config(config, api)
    harness = Harness(build_application(cfg, TOKEN, new_bot(cfg)), api)
    async with running(harness.app):
        yield harness


@pytest.fixture
def plain_config(tmp_path: Path) -> Config:
    """No catalogue index: all the adapter needs in front of a fake bot."""
    return Config(storage={"dir": tmp_path / "data"}, llm={"provider": "rules"})


@pytest.fixture
async def fake_telegram(plain_config: Config, api: FakeTelegramAPI) -> AsyncIterator[Harness]:
    cfg = telegram_config(plain_config, api)
    harness = Harness(build_application(cfg, TOKEN, FakeHandler(cfg.admins())), api)
    async with running(harness.app):
        yield harness


def jpeg(name: str = "mb01-blue-0.jpg") -> bytes:
    return (IMAGES / name).read_bytes()


# -- what a user sees ----------------------------------------------------------------------------------------------
async def test_a_text_request_gets_a_short_text_then_item_photo_cards(telegram: Harness) -> None:
    api = telegram.api
    sent = await telegram.send(api.text(USER, "a blue tee under $30"))
    shown = cards(sent)
    assert texts(sent) and sent[0] not in shown, "a short text comes first"
    assert 1 <= len(shown) <= 4
    intro = sent[0]["text"]
    assert "blue" in intro.lower() and not any(card["caption"].split("\n")[0] in intro for card in shown), "items are listed once, as cards"
    for card in shown:
        assert "photo" in card, "items with a catalogue image arrive as photos"
        caption = card["caption"]
        assert len(caption) <= 1024 and "Blue" in caption and "$" in caption
        assert float(caption.split("$")[1].split()[0]) <= 30
        assert [b["text"] for row in _rows(card) for b in row] == ["👍", "👎", "More like this"]
    actions = [c.params["action"] for c in api.calls_to("sendChatAction") if c.params["chat_id"] == USER]
    assert "typing" in actions and "upload_photo" in actions


async def test_commands_are_registered_with_an_admin_menu_for_admins(fake_telegram: Harness) -> None:
    calls = fake_telegram.api.calls_to("setMyCommands")
    everyone = next(c for c in calls if "scope" not in c.params)
    names = {c["command"] for c in everyone.params["commands"]}
    assert {"start", "help", "forget"} <= names and not {"stats", "retrain"} & names
    admin = next(c for c in calls if c.params.get("scope", {}).get("chat_id") == ADMIN)
    assert {"stats", "retrain"} <= {c["command"] for c in admin.params["commands"]}


async def test_start_says_what_the_bot_can_do(telegram: Harness) -> None:
    sent = await telegram.send(telegram.api.text(USER, "/start"))
    assert "Describe what you want" in texts(sent)[0]


async def test_a_photo_gets_items_from_its_largest_size_with_the_caption(fake_telegram: Harness) -> None:
    fake_telegram.spy_on_service()
    update = fake_telegram.api.photo(USER, jpeg(), caption="something like this")
    largest = update["message"]["photo"][-1]["file_id"]
    sent = await fake_telegram.send(update)
    assert len(cards(sent)) >= 1
    assert fake_telegram.incoming[-1].photos == [jpeg()] and fake_telegram.incoming[-1].text == "something like this"
    assert fake_telegram.api.downloads == [largest]


async def test_an_image_sent_as_a_file_is_treated_like_a_photo(fake_telegram: Harness) -> None:
    sent = await fake_telegram.send(fake_telegram.api.document(USER, jpeg("mh01-black_main.jpg"), "image/jpeg", "hoodie.jpg"))
    assert len(cards(sent)) >= 1


async def test_a_corrupt_photo_gets_a_friendly_reply_and_the_bot_keeps_going(telegram: Harness) -> None:
    broken = jpeg()[:1500]  # a JPEG cut off in transit
    sent = await telegram.send(telegram.api.photo(USER, broken))
    assert not cards(sent)
    assert any("damaged" in t or "couldn't read" in t for t in texts(sent))
    sent = await telegram.send(telegram.api.text(USER, "a bag"))
    assert cards(sent)


async def test_a_voice_note_reaches_the_bot_and_the_answer_reaches_the_user(fake_telegram: Harness, tmp_path: Path) -> None:
    ogg = _spoken_ogg(tmp_path, "a blue tee under thirty dollars")
    fake_telegram.spy_on_service()
    sent = await fake_telegram.send(fake_telegram.api.voice(USER, ogg))
    assert fake_telegram.incoming[-1].voice == ogg and fake_telegram.incoming[-1].voice_mime == "audio/ogg"
    assert texts(sent), "the user always hears back"
    reply = fake_telegram.replies[-1]
    if reply.error != "voice_unsupported":  # speech-to-text is wired into BotService: the note is understood
        assert reply.transcript and cards(sent)
        assert reply.transcript in texts(sent)[0]


async def test_audio_sent_as_a_file_is_passed_on_with_its_type(fake_telegram: Harness, tmp_path: Path) -> None:
    ogg = _spoken_ogg(tmp_path, "a bag")
    fake_telegram.spy_on_service()
    sent = await fake_telegram.send(fake_telegram.api.document(USER, ogg, "audio/ogg", "note.ogg"))
    assert fake_telegram.incoming[-1].voice == ogg and fake_telegram.incoming[-1].voice_mime == "audio/ogg"
    assert texts(sent)


def _spoken_ogg(folder: Path, words: str) -> bytes:
    """A real OGG/Opus voice note: espeak-ng speaks the words (a tone if it is missing), ffmpeg encodes."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: cannot make an OGG/Opus voice note (apt-get install ffmpeg)")
    wav, ogg = folder / "note.wav", folder / "note.ogg"
    source = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    if shutil.which("espeak-ng") is not None:
        subprocess.run(["espeak-ng", "-w", str(wav), words], check=True, capture_output=True)
        source = ["-i", str(wav)]
    command = ["ffmpeg", "-y", "-loglevel", "error", *source, "-ac", "1", "-ar", "48000", "-c:a", "libopus", str(ogg)]
    subprocess.run(command, check=True, capture_output=True)
    return ogg.read_bytes()


# -- buttons -----------------------------------------------------------------------------------------------------------
async def test_a_thumbs_up_is_recorded_and_changes_the_next_answer(telegram: Harness) -> None:
    api, request = telegram.api, "a hoodie"
    first = cards(await telegram.send(api.text(USER, request)))
    liked = first[-1]
    assert len(first) >= 2 and item_id(liked) != item_id(first[0])
    await telegram.send(api.press(USER, liked, button(liked, "👍")))
    answer = api.calls_to("answerCallbackQuery")[-1].params
    assert "Noted" in answer.get("text", "")
    assert telegram.service.log.reactions(UserKey("telegram", str(USER))) == ([item_id(liked)], [])
    assert [b["text"] for b in _rows(liked)[0]] == ["👍 Liked", "👎"], "the card shows the press"
    again = cards(await telegram.send(api.text(USER, request)))
    assert item_id(again[0]) == item_id(liked), "the liked item now comes first"


async def test_a_thumbs_down_hides_the_item_from_then_on(telegram: Harness) -> None:
    api = telegram.api
    first = cards(await telegram.send(api.text(USER, "a blue tee under $30")))
    disliked = item_id(first[0])
    await telegram.send(api.press(USER, first[0], button(first[0], "👎")))
    assert telegram.service.log.reactions(UserKey("telegram", str(USER))) == ([], [disliked])
    again = cards(await telegram.send(api.text(USER, "a blue tee under $30")))
    assert again and disliked not in [item_id(c) for c in again]


async def test_a_reply_to_a_card_saying_love_it_is_a_like(telegram: Harness) -> None:
    api = telegram.api
    shown = cards(await telegram.send(api.text(USER, "a bag")))
    sent = await telegram.send(api.text(USER, "love it!", reply_to_message=shown[1]))
    assert any("👍" in (m.get("text") or "") for m in sent)
    assert telegram.service.log.reactions(UserKey("telegram", str(USER))) == ([item_id(shown[1])], [])
    profile = await telegram.send(api.text(USER, "/profile"))
    assert "haven't told me" in profile[0]["text"]


async def test_more_like_this_answers_with_new_items(telegram: Harness) -> None:
    api = telegram.api
    first = cards(await telegram.send(api.text(USER, "a bag")))
    sent = await telegram.send(api.press(USER, first[0], button(first[0], "More like this")))
    assert api.calls_to("answerCallbackQuery"), "the button stops spinning"
    more = cards(sent)
    assert more and item_id(first[0]) not in [item_id(c) for c in more]


async def test_a_button_from_before_a_restart_says_it_expired(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    await fake_telegram.send(api.text(USER, "hello"))
    old = api.sent[-1]
    await fake_telegram.send(api.press(USER, old, "fb:l#0123456789abcdef0123"))
    answer = api.calls_to("answerCallbackQuery")[-1].params
    assert "expired" in answer["text"] and answer.get("show_alert") in (True, "true")


def _card_for(item_id: str) -> Reply:
    return Reply(text="one item", items=[ItemCard(item_id, "Long Tee", 10.0, "Blue", ["Tops"], None, "a long id")])


async def test_long_item_ids_still_fit_telegrams_64_byte_button_limit(fake_telegram: Harness) -> None:
    fake_telegram.spy_on_service()
    long_id = "X" * 80
    await fake_telegram.app.bot_data["renderer"].send(fake_telegram.app.bot, USER, _card_for(long_id))
    card = cards(fake_telegram.api.outgoing(USER))[-1]
    data = button(card, "👍")
    assert len(data.encode()) <= 64  # the fake Bot API refuses longer callback data, as Telegram does
    await fake_telegram.send(fake_telegram.api.press(USER, card, data))
    assert fake_telegram.incoming[-1].feedback is not None and fake_telegram.incoming[-1].feedback.item_id == long_id


async def test_a_long_id_button_from_before_a_restart_still_records_its_feedback(plain_config: Config, api: FakeTelegramAPI) -> None:
    long_id = "MB01-" + "very-long-variant-name-" * 3
    cfg = telegram_config(plain_config, api)
    before = Harness(build_application(cfg, TOKEN, FakeHandler()), api)
    async with running(before.app):
        await before.app.bot_data["renderer"].send(before.app.bot, USER, _card_for(long_id))
    card = cards(api.outgoing(USER))[-1]

    after_restart = Harness(build_application(cfg, TOKEN, FakeHandler()), api)
    after_restart.spy_on_service()
    async with running(after_restart.app):
        await after_restart.send(api.press(USER, card, button(card, "👎")))
    feedback = after_restart.incoming[-1].feedback
    assert feedback is not None and (feedback.action, feedback.item_id) == ("dislike", long_id)

    (cfg.storage.root / "telegram-buttons.pickle").unlink()  # the buttons' memory is gone: the button says it expired
    forgotten = Harness(build_application(cfg, TOKEN, FakeHandler()), api)
    async with running(forgotten.app):
        await forgotten.send(api.press(USER, card, button(card, "👎")))
    answer = api.calls_to("answerCallbackQuery")[-1].params
    assert "expired" in answer["text"]


async def test_long_texts_attachments_and_cards_without_photos_stay_within_telegram_limits(api: FakeTelegramAPI) -> None:
    image = str(IMAGES / "mb01-blue-0.jpg")
    items = [
        ItemCard("A-1", "Plain Tee", 12.5, "Blue", ["Tops"], None, "no picture in the catalogue"),
        ItemCard("A-2", "Lost Tee", 13.0, None, ["Tops"], "/nonexistent/tee.jpg", "its picture file is missing"),
        ItemCard("A-3", "Wordy Bag", 34.0, "Black", ["Bags"], image, "because " * 300),
        ItemCard("A-4", "Unreachable Bag", 40.0, "Red", ["Bags"], "http://127.0.0.1:9/bag.jpg", "Telegram cannot fetch its picture"),
    ]
    reply = Reply(text="word " * 1500, items=items, attachment=b"\x89PNG fake chart", attachment_name="stats.png")
    bot = ExtBot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, arbitrary_callback_data=True)  # as the app's
    async with bot:
        api.fail_next("sendPhoto", status=400, description="Bad Request: IMAGE_PROCESS_FAILED")
        await Renderer().send(bot, USER, Reply(text="", attachment=reply.attachment, attachment_name="stats.png"))
        await Renderer().send(bot, USER, reply)
    sent = api.outgoing(USER)
    assert "document" in sent[0], "an attachment Telegram refuses as a photo goes out as a file"
    long_text = [m["text"] for m in sent[1:] if "text" in m and not cards([m])]
    assert len(long_text) == 2 and all(len(t) <= 4096 for t in long_text) and " ".join(long_text).split() == reply.text.split()
    shown = cards(sent)
    assert [item_id(c) for c in shown] == ["A-1", "A-2", "A-3", "A-4"]
    assert ["photo" in c for c in shown] == [False, False, True, False], "cards whose picture cannot be sent go as text"
    assert shown[0]["text"].startswith("Plain Tee — Blue\n$12.50")
    assert len(shown[2]["caption"]) <= 1024 and shown[2]["caption"].endswith("ID: A-3"), "a long reason is cut, not the id"


# -- commands ----------------------------------------------------------------------------------------------------------
async def test_forget_asks_first_and_erases_only_after_yes(telegram: Harness) -> None:
    api, who = telegram.api, UserKey("telegram", str(USER))
    first = cards(await telegram.send(api.text(USER, "a bag")))
    await telegram.send(api.press(USER, first[0], button(first[0], "👍")))
    [question] = await telegram.send(api.text(USER, "/forget"))
    assert "Are you sure" in question["text"]
    assert telegram.service.log.reactions(who) == ([item_id(first[0])], []), "nothing erased before confirming"

    await telegram.send(api.press(USER, question, button(question, "No")))
    assert "kept" in question["text"] and telegram.service.log.reactions(who)[0]

    [question] = await telegram.send(api.text(USER, "/forget"))
    await telegram.send(api.press(999, question, button(question, "Yes")))  # someone else cannot confirm
    assert telegram.service.log.reactions(who)[0]
    await telegram.send(api.press(USER, question, button(question, "Yes")))
    assert question["text"].startswith("Done: I forgot")
    assert telegram.service.log.reactions(who) == ([], [])


async def test_admin_commands_refuse_a_non_admin_and_answer_an_admin(telegram: Harness, caplog: pytest.LogCaptureFixture) -> None:
    api = telegram.api
    for command in ("/stats", "/retrain"):
        sent = await telegram.send(api.text(USER, command))
        assert "admins only" in texts(sent)[0]
    assert any("refused" in r.getMessage() and str(USER) in r.getMessage() for r in caplog.records)
    sent = await telegram.send(api.text(ADMIN, "/stats"))
    assert texts(sent)[0].startswith("Users:")
    sent = await telegram.send(api.text(ADMIN, "/retrain"))
    assert "Retrained" in texts(sent)[0]


async def test_like_by_id_and_unknown_commands(telegram: Harness) -> None:
    api = telegram.api
    sent = await telegram.send(api.text(USER, "/like MH01-Black"))
    assert "you like the Chaz Kangeroo Hoodie" in texts(sent)[0]
    sent = await telegram.send(api.text(USER, "/frobnicate"))
    assert "Unknown command /frobnicate" in texts(sent)[0]


async def test_a_link_code_is_given_in_private_only_and_links_the_profile(telegram: Harness) -> None:
    api = telegram.api
    group = await telegram.send(api.text(USER, "/link", chat_id=GROUP, chat_type="supergroup"))
    assert "private chat" in texts(group)[0] and "/link " not in texts(group)[0]
    await telegram.send(api.text(USER, "I can't stand yellow"))
    code = texts(await telegram.send(api.text(USER, "/link")))[0].split("/link ")[1].split()[0]
    linked = await telegram.service.handle(Incoming(user_id="U1", platform="slack", command=Command("link", code)))
    assert "Telegram" in linked.text
    shown = await telegram.service.handle(Incoming(user_id="U1", platform="slack", command=Command("profile")))
    assert "Never: yellow" in shown.text


# -- groups and updates the bot does not serve ---------------------------------------------------------------------------
async def test_in_groups_the_bot_answers_only_when_mentioned_or_replied_to(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    assert await fake_telegram.send(api.text(USER, "a bag for the gym", chat_id=GROUP, chat_type="supergroup")) == []
    update = api.text(USER, "@recbot_test_bot a bag for the gym", chat_id=GROUP, chat_type="supergroup")
    sent = await fake_telegram.send(update)
    assert cards(sent)
    [answer] = [c.params for c in api.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert answer["reply_parameters"]["message_id"] == update["message"]["message_id"], "the answer quotes the question"
    reply = api.text(USER, "and a hoodie?", chat_id=GROUP, chat_type="supergroup", reply_to_message=cards(sent)[0])
    assert cards(await fake_telegram.send(reply))


async def test_stickers_and_locations_get_a_hint_edits_and_channel_posts_are_ignored(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    sticker = {
        "file_id": "st1",
        "file_unique_id": "ust1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    assert texts(await fake_telegram.send(api.message(USER, sticker=sticker))) == [EN.say("unsupported_content")]
    assert texts(await fake_telegram.send(api.message(USER, location={"latitude": 52.5, "longitude": 13.4}))) == [
        EN.say("unsupported_content")
    ]
    edited = api.text(USER, "a red hoodie")["message"] | {"edit_date": 1}
    assert await fake_telegram.send({"edited_message": edited}) == []
    channel = {"message_id": 5, "date": 1, "chat": api.chat(-100999, "channel"), "text": "news"}
    assert await fake_telegram.send({"channel_post": channel}) == []
    assert await fake_telegram.send(api.message(USER, chat_id=GROUP, chat_type="group", sticker=sticker)) == []
    assert cards(await fake_telegram.send(api.text(USER, "a red hoodie"))), "still answering"


# -- the network -----------------------------------------------------------------------------------------------------------
async def test_a_429_is_waited_out_and_retried(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    api.fail_next("sendMessage", status=429, retry_after=1)
    sent = await fake_telegram.send(api.text(USER, "a bag"))
    assert texts(sent) and "went wrong" not in texts(sent)[0] and cards(sent)
    statuses = [c.status for c in api.calls_to("sendMessage") if c.params["chat_id"] == USER]
    assert statuses == [429, 200]


async def test_a_bad_gateway_while_sending_is_retried(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    api.fail_next("sendPhoto", status=502)
    sent = await fake_telegram.send(api.text(USER, "a bag"))
    assert cards(sent) and all("photo" in c for c in cards(sent)), "no card was lost or downgraded"
    assert [c.status for c in api.calls_to("sendPhoto")][:2] == [502, 200]


async def test_webhook_refuses_requests_without_the_secret(
    plain_config: Config, api: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    cfg = telegram_config(plain_config, api, mode="webhook", webhook={"listen": "127.0.0.1", "port": port, "path": "/telegram", "url": url})
    harness = Harness(build_application(cfg, TOKEN, FakeHandler()), api)
    async with running(harness.app, webhook_options(cfg)):
        assert api.webhook is not None and api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
        assert await api.deliver_webhook(url, api.text(USER, "a bag"), "wrong-secret") == 403
        assert await api.deliver_webhook(url, api.text(USER, "a bag"), None) == 403
        assert api.outgoing(USER) == []
        assert await api.deliver_webhook(url, api.text(USER, "a bag"), SECRET) == 200
        await api.wait_for(lambda: bool(cards(api.outgoing(USER))))


def test_webhook_mode_needs_a_public_url_and_a_secret(plain_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    config = plain_config
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    no_url = config.model_copy(update={"telegram": TelegramConfig(mode="webhook")})
    with pytest.raises(ConfigError, match=r"webhook\.url"):
        webhook_options(no_url)
    with_url = config.model_copy(update={"telegram": TelegramConfig(mode="webhook", webhook={"url": "https://example.org/tg"})})
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_options(with_url)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_options(with_url)


# -- starting and stopping -------------------------------------------------------------------------------------------------
def test_a_missing_token_is_a_clear_error(plain_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        serve(plain_config, FakeHandler())


async def test_a_rejected_token_and_an_unreachable_server_are_clear_errors(
    plain_config: Config, api: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = plain_config
    wrong = "999999:not-the-token"
    problem = await check_bot_api(telegram_config(config, api), wrong)
    assert problem is not None and "rejected TELEGRAM_BOT_TOKEN" in problem and wrong not in problem
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
    cfg = telegram_config(config, api)
    assert await asyncio.to_thread(serve, cfg, FakeHandler()) == 2  # serve owns its event loop: another thread
    assert "rejected TELEGRAM_BOT_TOKEN" in capsys.readouterr().err

    closed = f"http://127.0.0.1:{_free_port()}"
    nowhere = config.model_copy(update={"telegram": TelegramConfig(base_url=f"{closed}/bot", base_file_url=f"{closed}/file/bot")})
    problem = await check_bot_api(nowhere, TOKEN)
    assert problem is not None and "cannot reach" in problem and closed in problem


async def test_recbot_serve_telegram_answers_and_stops_cleanly_on_sigterm(config: Config, api: FakeTelegramAPI, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "RECBOT_STORAGE__DIR": str(config.storage.dir),
        "RECBOT_TELEGRAM__BASE_URL": api.base_url,
        "RECBOT_TELEGRAM__BASE_FILE_URL": api.base_file_url,
        "RECBOT_LOGGING__LEVEL": "DEBUG",  # PTB logs every request URL (the token is in it) at DEBUG
    }
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters.cli", "serve", "telegram", cwd=tmp_path, env=env, stderr=stderr
        )
    try:
        polling = asyncio.ensure_future(api.wait_for(lambda: bool(api.calls_to("getUpdates")), timeout=600))
        exited = asyncio.ensure_future(process.wait())
        await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
        assert not exited.done(), log.read_text()[-2000:]
        await polling
        unreadable = api.text(USER, "no date")
        del unreadable["message"]["date"]  # PTB cannot read it: skipped once, never refetched forever
        await api.push(unreadable)
        await api.push(api.text(USER, "a bag"))
        await api.wait_for(lambda: len(cards(api.outgoing(USER))) >= 1, timeout=300)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(exited, 120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, log.read_text()[-2000:]
    logged = log.read_text()
    assert "Traceback" not in logged and logged.count("cannot read") == 1
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged and "getUpdates" in logged


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_chinese_shopper_is_answered_in_chinese_with_chinese_buttons(telegram: Harness) -> None:
    api = telegram.api
    sent = await telegram.send(api.text(USER, "我想要一件蓝色的女士卫衣，100元以下"))
    shown = cards(sent)
    assert shown and "为你找到" in sent[0]["text"]
    for card in shown:
        assert "Blue" in card["caption"] and "编号：" in card["caption"] and "US$" in card["caption"]
        assert [b["text"] for row in _rows(card) for b in row] == ["👍", "👎", "更多类似的"]
    liked = shown[0]
    await telegram.send(api.press(USER, liked, button(liked, "👍")))
    assert "记下了" in api.calls_to("answerCallbackQuery")[-1].params.get("text", "")
    assert [b["text"] for b in _rows(liked)[0]] == ["👍 已喜欢", "👎"]
    again = await telegram.send(api.text(USER, "I need a warm hoodie for running"))  # the next message may switch
    assert "Here are" in again[0]["text"]


async def test_start_is_in_the_users_telegram_language(telegram: Harness) -> None:
    telegram.api.languages[USER] = "zh-hans"
    sent = await telegram.send(telegram.api.text(USER, "/start"))
    assert "告诉我你想要什么" in texts(sent)[0]
