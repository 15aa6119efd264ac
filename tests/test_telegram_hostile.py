"""The Telegram adapter against what issue 17 found: updates PTB cannot read, late button answers, messages without a
sender, buttons on inline messages, a webhook fed garbage. The real python-telegram-bot Application against the fake
Bot API (tests/fakes/telegram_api.py), in front of the fake bot; assertions are about what users see."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot

from adapters import log_redaction
from adapters.config import Config
from adapters.telegram.app import build_application
from adapters.telegram.serve import webhook_options
from adapters.telegram.updates import read_update
from tests.fakes.handler import FakeHandler
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI
from tests.test_telegram import GROUP, SECRET, USER, Harness, _free_port, button, cards, running, telegram_config
from tests.test_telegram import api as api  # the fixtures: the fake Bot API, the app in front of the fake bot
from tests.test_telegram import fake_telegram as fake_telegram
from tests.test_telegram import plain_config as plain_config

POLL_WITHOUT_PERSISTENT_IDS = {
    "poll": {
        "id": "5",
        "question": "Which one?",
        "options": [{"text": "red", "voter_count": 1}, {"text": "blue", "voter_count": 0}],  # no persistent_id
        "total_voter_count": 1,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
}


def message_without_date(api: FakeTelegramAPI) -> dict[str, Any]:
    update = api.text(USER, "a bag")
    del update["message"]["date"]
    return update


async def test_updates_ptb_cannot_read_are_skipped_once_and_everyone_is_still_answered(
    fake_telegram: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    api = fake_telegram.api
    caplog.set_level(logging.WARNING)
    await fake_telegram.send(message_without_date(api))
    await api.push(POLL_WITHOUT_PERSISTENT_IDS)
    answered = cards(await fake_telegram.send(api.text(USER + 1, "a hoodie")))
    assert answered, "a later user is answered"
    skipped = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(skipped) == 2, "each unreadable update is logged once, not refetched"
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_a_late_button_answer_is_not_shown_as_an_error(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    card = cards(await fake_telegram.send(api.text(USER, "a bag")))[0]
    api.fail_next("answerCallbackQuery", status=400, description="Bad Request: query is too old and response timeout expired")
    sent = await fake_telegram.send(api.press(USER, card, button(card, "👍")))
    assert not any("went wrong" in (m.get("text") or "") for m in sent)
    assert [i.feedback.action for i in fake_telegram.service.received if i.feedback] == ["like"]


async def test_a_message_sent_on_behalf_of_a_chat_is_answered(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    update = api.text(USER, "@recbot_test_bot a bag", chat=api.chat(GROUP, "supergroup"))
    del update["message"]["from"]  # an anonymous group admin: only sender_chat says who
    update["message"]["sender_chat"] = api.chat(GROUP, "supergroup")
    sent = await fake_telegram.send(update)
    assert cards(sent) and not any("went wrong" in (m.get("text") or "") for m in sent)
    assert fake_telegram.service.received[-1].user_id == str(GROUP)


async def test_more_like_this_on_an_inline_message_answers_in_the_private_chat(fake_telegram: Harness) -> None:
    api = fake_telegram.api
    card = cards(await fake_telegram.send(api.text(USER, "a bag")))[0]
    press = api.press(USER, card, button(card, "More"))
    query = press["callback_query"]
    del query["message"]
    query["inline_message_id"] = "inline-1"
    before = len(api.outgoing(USER))
    await api.push(press)
    await api.wait_for(lambda: len(cards(api.outgoing(USER)[before:])) >= 2)


async def test_the_webhook_answers_garbage_with_4xx_and_skips_what_it_cannot_read(
    plain_config: Config, api: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    cfg = telegram_config(plain_config, api, mode="webhook", webhook={"listen": "127.0.0.1", "port": port, "path": "/telegram", "url": url})
    bot = FakeHandler()
    harness = Harness(build_application(cfg, TOKEN, bot), api)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with running(harness.app, webhook_options(cfg)), aiohttp.ClientSession() as http:
        for body, content_type, status in [
            (b"{not json", "application/json", 400),
            (b"\xff\xfe\x00", "application/json", 400),
            (b"{}", "text/plain", 415),
            (b"x" * (5 * 2**20), "application/json", 413),
        ]:
            async with http.post(url, data=body, headers={**headers, "Content-Type": content_type}) as response:
                assert response.status == status, body[:20]
        assert await api.deliver_webhook(url, POLL_WITHOUT_PERSISTENT_IDS, SECRET) == 200
        assert await api.deliver_webhook(url, message_without_date(api), SECRET) == 200
        again = {"update_id": 777, **api.text(USER, "a bag")}
        for _ in range(2):  # Telegram redelivering the same update
            async with http.post(url, data=json.dumps(again), headers=headers) as response:
                assert response.status == 200
        await api.wait_for(lambda: bool(cards(api.outgoing(USER))))
        await asyncio.sleep(0.5)
    assert [i.text for i in bot.received] == ["a bag"], "the redelivered update ran once"
    assert "Traceback" not in caplog.text


@pytest.fixture
def redacting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    before = logging.getLogRecordFactory()
    log_redaction.install()
    yield
    logging.setLogRecordFactory(before)


async def test_at_debug_neither_the_token_nor_the_webhook_secret_reach_the_log(
    plain_config: Config, api: FakeTelegramAPI, redacting: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    cfg = telegram_config(plain_config, api, mode="webhook", webhook={"listen": "127.0.0.1", "port": port, "path": "/telegram", "url": url})
    harness = Harness(build_application(cfg, TOKEN, FakeHandler()), api)
    async with running(harness.app, webhook_options(cfg)):
        assert await api.deliver_webhook(url, api.text(USER, "a bag"), SECRET) == 200
        await api.wait_for(lambda: bool(cards(api.outgoing(USER))))
    assert "setWebhook" in caplog.text and "getMe" in caplog.text  # PTB did log its calls
    assert TOKEN not in caplog.text and SECRET not in caplog.text


# -- property: any JSON is read as an update or skipped, never raised -------------------------------------------------
BOT = Bot(TOKEN)
UPDATE = st.fixed_dictionaries(
    {"update_id": st.integers(0, 2**31)},
    optional={
        "message": st.dictionaries(
            st.sampled_from(["message_id", "date", "chat", "from", "text", "sender_chat", "photo", "poll", "entities"]),
            st.none() | st.integers() | st.text(max_size=10) | st.fixed_dictionaries({"id": st.integers(), "type": st.text(max_size=8)}),
            max_size=6,
        ),
        "callback_query": st.dictionaries(st.sampled_from(["id", "from", "data", "chat_instance"]), st.text(max_size=8), max_size=4),
    },
)


@given(UPDATE | st.none() | st.lists(st.integers(), max_size=3))
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_is_read_as_an_update_or_skipped(data: Any) -> None:
    update = read_update(data, BOT)
    assert update is None or update.update_id == data["update_id"]
