"""The Slack adapter end to end: the real Bolt `AsyncApp`, a fake Slack on 127.0.0.1, and the real `BotService`
(`rig`) or, where only the adapter is under test, a fake bot with no models (`fake_rig`, tests/fakes/handler.py).

Events, actions and slash commands are signed HTTP requests to the app; replies are read back from the
fake's chat.postMessage / chat.update / response_url records, i.e. what a Slack user would see.

`python -m tests.test_slack --latency [RUNS [DATA_DIR]]` prints the median time from a signed DM event to the
bot's chat.postMessage with the `rules` provider (it indexes the demo catalogue into DATA_DIR, by default a
temporary folder, first).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.cli import new_bot
from adapters.config import Config
from adapters.slack.app import build_app, post_reply
from adapters.slack.blocks import render
from adapters.slack.files import file_kind, voice_mime
from adapters.slack.serve import SlackTokens, make_client, run, start_http, start_socket_mode
from bot.config import ConfigError
from bot.learning.feedback import UserKey
from bot.messages import ItemCard, Reply
from bot.service import BotService
from tests.conftest import REPO, SHARED_DATA, make_config
from tests.fakes.handler import FakeHandler
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, BOT_USER_ID, TEAM_ID, Call, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "UADMIN"
USER = "U111"
DM = "D111"
CHANNEL = "C111"
IMAGES = REPO / "recsys" / "demo_catalogue" / "images"


# -- the rig: fake Slack + real service + real Bolt app served on 127.0.0.1 -------------------------------
@dataclass
class Rig:
    fake: FakeSlack
    service: Any  # BotService, or the fake bot
    url: str
    http: aiohttp.ClientSession
    server: str = ""  # where slack.public_url is proxied to
    _n: int = 0

    def next_ts(self) -> str:
        self._n += 1
        return f"1700000000.{self._n:06d}"

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None, timestamp: int | None = None) -> int:
        """POST `body` signed with the app's secret (unless `headers` override the signature)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
            **(headers or {}),
        }
        async with self.http.post(self.url, data=body.encode(), headers=signed) as response:
            return response.status

    async def event(self, event: dict[str, Any], event_id: str | None = None, **kwargs: Any) -> int:
        envelope = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A111",
            "event": {"team": TEAM_ID, "event_ts": event.get("ts"), **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{event['ts'].replace('.', '')}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return await self.post(json.dumps(envelope), "application/json", **kwargs)

    async def dm(self, text: str, user: str = USER, channel: str = DM, **extra: Any) -> tuple[str, int]:
        ts = self.next_ts()
        event = {"type": "message", "channel": channel, "channel_type": "im", "user": user, "text": text, "ts": ts, **extra}
        return ts, await self.event(event)

    async def click(self, message: Call, channel: str, action_id: str, item_id: str, user: str = USER) -> int:
        """A button press on a message the bot posted (as Slack sends it: form-encoded `payload`)."""
        posted = {**message.result["message"], "ts": message.result["ts"]}
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A111",
            "token": "legacy",
            "container": {"type": "message", "message_ts": posted["ts"], "channel_id": channel, "is_ephemeral": False},
            "trigger_id": "111.222.abc",
            "channel": {"id": channel, "name": "directmessage"},
            "message": posted,
            "response_url": self.fake.response_url(f"action-{posted['ts']}"),
            "actions": [
                {"action_id": action_id, "block_id": "actions:1", "value": item_id, "type": "button", "action_ts": str(time.time())}
            ],
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def command(self, text: str, user: str = USER, channel: str = DM) -> tuple[str, int]:
        hook = f"cmd-{self.next_ts()}"
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/recbot",
            "text": text,
            "api_app_id": "A111",
            "response_url": self.fake.response_url(hook),
            "trigger_id": "111.222.abc",
        }
        return hook, await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def reply_to(self, channel: str, thread_ts: str | None = None, after: int = 0) -> Call:
        """The bot's next successful chat.postMessage in `channel` (and thread), waiting for it."""

        def found() -> Call | None:
            for call in self.fake.calls_to("chat.postMessage", channel=channel)[after:]:
                if call.status == 200 and call.params.get("thread_ts") == thread_ts:
                    return call
            return None

        return await self.fake.wait_for(found)

    async def response(self, hook: str) -> Call:
        return await self.fake.wait_for(lambda: next(iter(self.fake.calls_to("response_url", hook=hook)), None))


@asynccontextmanager
async def open_rig(config: Config, service: BotService | FakeHandler | None = None) -> AsyncIterator[Rig]:
    fake = await FakeSlack().start()
    own = service is None
    if service is None:
        service = new_bot(config)
        await service.start(progress=False)
    client = make_client(BOT_TOKEN, fake.base_url)
    runner = await start_http(build_app(service, client, SECRET, config.slack.public_url), config.slack, service, SECRET, port=0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as http:
            yield Rig(fake, service, f"http://{host}:{port}{config.slack.path}", http, f"http://{host}:{port}")
    finally:
        await runner.cleanup()
        await fake.stop()
        if own:
            await service.close()


@pytest.fixture
async def rig(tmp_path: Path, indexed_chroma: Path) -> AsyncIterator[Rig]:
    config = make_config(tmp_path / "data", indexed_chroma, slack={"admins": [ADMIN]})
    async with open_rig(config) as r:
        yield r


def plain_config(tmp_path: Path, **slack: Any) -> Config:
    """No catalogue index: all the adapter needs in front of a fake bot."""
    return Config(storage={"dir": tmp_path / "data"}, llm={"provider": "rules"}, slack={"admins": [ADMIN], **slack})


@pytest.fixture
async def fake_rig(tmp_path: Path) -> AsyncIterator[Rig]:
    config = plain_config(tmp_path)
    async with open_rig(config, FakeHandler(config.admins())) as r:
        yield r


def cards(call: Call) -> list[tuple[str, str]]:
    """(item id, card text) for each item card in a posted or updated message."""
    blocks = call.params.get("blocks") or []
    out = []
    for n, block in enumerate(blocks):
        if block.get("type") == "actions":
            item_id = block["elements"][0]["value"]
            section = blocks[n - 1]
            out.append((item_id, section["text"]["text"]))
    return out


def words(call: Call) -> str:
    """Everything a user reads in a message: fallback text and every text block."""
    texts = [call.params.get("text") or ""]
    for block in call.params.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            texts.append(block["text"]["text"])
        texts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(texts)


# -- conversations ------------------------------------------------------------------------------------------
async def test_a_direct_message_gets_item_cards_with_buttons(rig: Rig) -> None:
    _, status = await rig.dm("a blue tee under $30")
    assert status == 200
    reply = await rig.reply_to(DM)
    shown = cards(reply)
    assert 1 <= len(shown) <= 4
    assert all("Blue" in text for _, text in shown)
    buttons = next(b for b in reply.params["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["👍", "👎", "More like this"]
    assert "$" in reply.params["text"]  # the notification text names items and prices too


async def test_a_mention_in_a_channel_is_answered_in_its_thread(rig: Rig) -> None:
    ts = rig.next_ts()
    event = {"type": "app_mention", "channel": CHANNEL, "user": USER, "text": f"<@{BOT_USER_ID}> a blue tee under $30", "ts": ts}
    assert await rig.event(event) == 200
    reply = await rig.reply_to(CHANNEL, thread_ts=ts)
    shown = cards(reply)
    assert shown and all("Blue" in text for _, text in shown)


PUBLIC_URL = "https://recbot.example.test/bot"


def card_images(call: Call) -> dict[str, str]:
    """item id → the image URL on its card."""
    blocks = call.params.get("blocks") or []
    return {
        blocks[n + 1]["elements"][0]["value"]: block["accessory"]["image_url"]
        for n, block in enumerate(blocks[:-1])
        if block.get("type") == "section" and "accessory" in block and blocks[n + 1].get("type") == "actions"
    }


async def fetch_as_slack(http: aiohttp.ClientSession, image_url: str, server: str) -> tuple[int, str, bytes]:
    """GET a card's image the way Slack would, through the proxy that maps slack.public_url to the bot's server."""
    assert image_url.startswith(PUBLIC_URL + "/"), image_url
    async with http.get(server + image_url.removeprefix(PUBLIC_URL)) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def test_cards_show_the_catalogues_local_photos_from_the_bots_public_url(tmp_path: Path) -> None:
    config = plain_config(tmp_path, public_url=PUBLIC_URL)
    async with open_rig(config, FakeHandler()) as rig:
        await rig.dm("a blue tee under $30")
        images = card_images(await rig.reply_to(DM))
        assert images and len(images) == len(cards(await rig.reply_to(DM)))  # every card has its photo
        for item_id, url in images.items():
            status, content_type, body = await fetch_as_slack(rig.http, url, rig.server)
            assert (status, content_type) == (200, "image/jpeg")
            assert body == Path(rig.service.item_photo(item_id)).read_bytes()
        # only catalogue photos are served: no other file, whatever the path says
        for path in ("/images/no-such-item", "/images/..%2F..%2Fconfig.yaml", "/images/../../config.yaml"):
            async with rig.http.get(rig.server + path) as response:
                assert response.status == 404, path


async def test_without_a_public_url_local_photos_are_left_off_the_cards(fake_rig: Rig) -> None:
    await fake_rig.dm("a blue tee under $30")
    reply = await fake_rig.reply_to(DM)
    assert cards(reply) and not card_images(reply)
    async with fake_rig.http.get(f"{fake_rig.server}/images/{cards(reply)[0][0]}") as response:
        assert response.status == 404  # and nothing is served


async def test_a_shared_photo_gets_cards_that_look_like_it(rig: Rig) -> None:
    item = next(i for i in rig.service.recommender.store.all_items().values() if i.image and "mh01" in i.image.lower())
    photo = Path(item.image).read_bytes()
    shared = rig.fake.add_file("F111", "photo.jpg", "image/jpeg", "jpg", photo)
    _, status = await rig.dm("", subtype="file_share", files=[shared])
    assert status == 200
    reply = await rig.reply_to(DM)
    assert any(item.name in text for _, text in cards(reply))
    download = rig.fake.calls_to("files.download", file="F111")
    assert download and download[0].token == BOT_TOKEN


async def test_a_file_shared_without_details_is_looked_up_first(fake_rig: Rig) -> None:
    photo = (IMAGES / "mb01-blue-0.jpg").read_bytes()
    fake_rig.fake.add_file("F222", "bag.jpg", "image/jpeg", "jpg", photo)
    _, status = await fake_rig.dm("", subtype="file_share", files=[{"id": "F222", "file_access": "check_file_info"}])
    assert status == 200
    assert cards(await fake_rig.reply_to(DM))
    assert fake_rig.fake.calls_to("files.info", file="F222")


async def test_an_audio_clip_gets_a_reply(fake_rig: Rig, tmp_path: Path) -> None:
    clip = _m4a_clip(tmp_path)
    shared = fake_rig.fake.add_file("F333", "audio_message.m4a", "audio/mp4", "m4a", clip, subtype="slack_audio")
    _, status = await fake_rig.dm("", subtype="file_share", files=[shared])
    assert status == 200
    reply = await fake_rig.reply_to(DM)
    said = words(reply)
    assert said.strip() and "went wrong" not in said
    # Without speech-to-text a friendly "please type" answer; with it, the transcript is shown.
    assert "voice" in said.lower() or "I heard" in said
    assert fake_rig.fake.calls_to("files.download", file="F333")


async def test_a_file_that_is_not_a_photo_or_clip_is_explained(fake_rig: Rig) -> None:
    shared = fake_rig.fake.add_file("F444", "notes.pdf", "application/pdf", "pdf", b"%PDF-1.4 ...")
    await fake_rig.dm("", subtype="file_share", files=[shared])
    reply = await fake_rig.reply_to(DM)
    assert "notes.pdf" in words(reply) and not cards(reply)
    assert not fake_rig.fake.calls_to("files.download", file="F444")


# -- buttons ---------------------------------------------------------------------------------------------------
async def test_thumbs_up_is_logged_marks_the_card_and_changes_the_next_answer(rig: Rig) -> None:
    await rig.dm("a hoodie")
    first = await rig.reply_to(DM)
    before = [item_id for item_id, _ in cards(first)]
    liked = before[2]

    assert await rig.click(first, DM, "recbot_like", liked) == 200
    update = await rig.fake.wait_for(lambda: next(iter(rig.fake.calls_to("chat.update", ts=first.result["ts"])), None))
    assert "👍" in words(update) and [i for i, _ in cards(update)] == before  # same cards, now marked
    assert rig.service.log.reactions(UserKey("slack", USER))[0] == [liked]

    await rig.dm("a hoodie")
    second = await rig.reply_to(DM, after=1)
    after = [item_id for item_id, _ in cards(second)]
    assert after != before and after[0] == liked
    assert "you liked" in words(second)


async def test_a_thread_reply_under_a_list_is_feedback_on_that_lists_item(rig: Rig) -> None:
    await rig.dm("a hoodie")
    hoodies = await rig.reply_to(DM)
    await rig.dm("a jacket for men")
    await rig.reply_to(DM, after=1)  # the latest list is the jackets now
    second = cards(hoodies)[1][0]
    await rig.dm("I love the second one", thread_ts=hoodies.result["ts"])  # in the hoodies' thread
    noted = await rig.reply_to(DM, thread_ts=hoodies.result["ts"])
    assert rig.service.log.reactions(UserKey("slack", USER))[0] == [second]
    assert rig.service.item(second).name in words(noted)  # type: ignore[union-attr]


async def test_a_thread_reply_carries_the_items_of_our_message_only(fake_rig: Rig) -> None:
    rig = fake_rig

    def buttons(*ids: str) -> list[dict[str, Any]]:
        return [{"type": "actions", "elements": [{"type": "button", "action_id": "recbot_like", "value": i} for i in ids]}]

    rig.fake.add_message(DM, "1600000000.000001", user=BOT_USER_ID, bot_id="B111", blocks=buttons("A1", "B2", "A1"))
    rig.fake.add_message(DM, "1600000000.000002", user="U0THER", blocks=buttons("FORGED"))
    for thread in ("1600000000.000001", "1600000000.000002", "1600000000.999999"):  # ours, someone else's, none Slack has
        await rig.dm("love it", thread_ts=thread)
        await rig.reply_to(DM, thread_ts=thread)  # every one is answered
    assert [m.reply_to_items for m in rig.service.received] == [("A1", "B2"), (), ()]  # type: ignore[union-attr]


async def test_more_like_this_posts_new_items_in_the_thread(rig: Rig) -> None:
    await rig.dm("a jacket for men")
    first = await rig.reply_to(DM)
    anchor = cards(first)[0][0]
    assert await rig.click(first, DM, "recbot_more", anchor) == 200
    more = await rig.reply_to(DM, thread_ts=first.result["ts"])
    shown = [item_id for item_id, _ in cards(more)]
    assert shown and anchor not in shown


async def test_a_button_for_an_unknown_item_answers_only_the_clicker(fake_rig: Rig) -> None:
    await fake_rig.dm("a bag")
    first = await fake_rig.reply_to(DM)
    await fake_rig.click(first, DM, "recbot_dislike", "NO-SUCH-ITEM")
    answer = await fake_rig.response(f"action-{first.result['ts']}")
    assert "NO-SUCH-ITEM" in answer.params["text"] and answer.params["response_type"] == "ephemeral"
    assert not fake_rig.fake.calls_to("chat.update")


# -- /recbot ------------------------------------------------------------------------------------------------------
async def test_recbot_stats_refuses_a_non_admin_and_answers_an_admin(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    hook, status = await rig.command("stats", user=USER)
    assert status == 200
    refused = await rig.response(hook)
    assert "admins only" in refused.params["text"] and refused.params["response_type"] == "ephemeral"
    assert "Users:" not in words(refused)
    assert any("refused" in r.getMessage() and USER in r.getMessage() for r in caplog.records)

    hook, _ = await rig.command("stats", user=ADMIN)
    assert "Users:" in words(await rig.response(hook))


async def test_recbot_forget_asks_first_then_erases_the_users_feedback(rig: Rig) -> None:
    await rig.dm("a bag")
    first = await rig.reply_to(DM)
    await rig.click(first, DM, "recbot_like", cards(first)[0][0])
    await rig.fake.wait_for(lambda: rig.fake.calls_to("chat.update"))
    hook, _ = await rig.command("forget")
    assert "/forget yes" in (await rig.response(hook)).params["text"]
    assert rig.service.log.reactions(UserKey("slack", USER))[0]  # nothing erased yet
    hook, _ = await rig.command("forget alice")
    assert "only erases your own" in (await rig.response(hook)).params["text"]
    assert rig.service.log.reactions(UserKey("slack", USER))[0]
    hook, _ = await rig.command("forget yes")
    assert "forgot" in (await rig.response(hook)).params["text"]
    assert rig.service.log.reactions(UserKey("slack", USER)) == ([], [])


async def test_recbot_without_a_subcommand_shows_help(fake_rig: Rig) -> None:
    hook, _ = await fake_rig.command("")
    said = words(await fake_rig.response(hook))
    assert "/recbot forget" in said and "👍" in said


# -- Slack's delivery rules ------------------------------------------------------------------------------------------
async def test_forged_or_stale_signatures_get_401(fake_rig: Rig) -> None:
    event = {"type": "message", "channel": DM, "channel_type": "im", "user": USER, "text": "a bag", "ts": fake_rig.next_ts()}
    forged = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert await fake_rig.event(event, headers=forged) == 401
    assert await fake_rig.event(event, timestamp=int(time.time()) - 10 * 60) == 401  # correctly signed, but stale
    assert await fake_rig.event(event) == 200


async def test_a_retried_event_is_answered_once(fake_rig: Rig) -> None:
    ts, _ = await fake_rig.dm("a bag")
    await fake_rig.reply_to(DM)
    event = {"type": "message", "channel": DM, "channel_type": "im", "user": USER, "text": "a bag", "ts": ts}
    assert await fake_rig.event(event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}) == 200
    # A later message in the same conversation: its answer comes after any answer to the retry would have.
    await fake_rig.dm("a watch")
    await fake_rig.fake.wait_for(lambda: any("watch" in words(c).lower() for c in fake_rig.fake.calls_to("chat.postMessage", channel=DM)))
    answers = [words(c).lower() for c in fake_rig.fake.calls_to("chat.postMessage", channel=DM)]
    assert len(answers) == 2 and "bag" in answers[0] and "watch" in answers[1]


async def test_a_rate_limited_reply_is_retried(fake_rig: Rig) -> None:
    fake_rig.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await fake_rig.dm("a bag")
    reply = await fake_rig.reply_to(DM)
    assert cards(reply)
    assert [c.status for c in fake_rig.fake.calls_to("chat.postMessage")] == [429, 200]


async def test_socket_mode_round_trip(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    service = FakeHandler()
    await service.start(progress=False)
    handler = await start_socket_mode(build_app(service, make_client(BOT_TOKEN, fake.base_url)), APP_TOKEN)
    try:
        await fake.wait_for(lambda: fake.connected)
        event = {
            "type": "message",
            "channel": DM,
            "channel_type": "im",
            "user": USER,
            "text": "a blue tee under $30",
            "ts": "1700000000.000001",
        }
        payload = {
            "team_id": TEAM_ID,
            "api_app_id": "A111",
            "event": event,
            "type": "event_callback",
            "event_id": "EvSOCKET1",
            "event_time": 1700000000,
        }
        envelope_id = await fake.send_envelope("events_api", payload)
        await fake.wait_for(lambda: any(a["envelope_id"] == envelope_id for a in fake.acks))
        reply = await fake.wait_for(lambda: next(iter(fake.calls_to("chat.postMessage", channel=DM)), None))
        assert cards(reply)
        assert [c.token for c in fake.calls_to("apps.connections.open")] == [APP_TOKEN]
    finally:
        await handler.close_async()
        await fake.stop()
        await service.close()


async def test_in_socket_mode_the_photos_are_served_on_the_configured_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = await FakeSlack().start()
    slack = {"mode": "socket", "host": "127.0.0.1", "port": port, "api_base_url": fake.base_url, "public_url": PUBLIC_URL}
    stop = asyncio.Event()
    config = plain_config(tmp_path, **slack)
    serving = asyncio.create_task(run(config, SlackTokens(BOT_TOKEN, app=APP_TOKEN), FakeHandler(), stop=stop))
    try:
        await fake.wait_for(lambda: fake.connected or serving.done(), timeout=300)
        if serving.done():
            serving.result()
        event = {"type": "message", "channel": DM, "channel_type": "im", "user": USER, "text": "a bag", "ts": "1700000000.000002"}
        payload = {"team_id": TEAM_ID, "api_app_id": "A111", "event": event, "type": "event_callback", "event_id": "EvSOCKET2"}
        await fake.send_envelope("events_api", payload)
        reply = await fake.wait_for(lambda: next(iter(fake.calls_to("chat.postMessage", channel=DM)), None))
        images = card_images(reply)
        assert images
        async with aiohttp.ClientSession() as http:
            status, content_type, body = await fetch_as_slack(http, next(iter(images.values())), f"http://127.0.0.1:{port}")
        assert (status, content_type) == (200, "image/jpeg") and body[:2] == b"\xff\xd8"
    finally:
        stop.set()
        await serving
        await fake.stop()


async def test_serve_in_http_mode_answers_on_the_configured_host_until_stopped(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = await FakeSlack().start()
    slack = {"mode": "http", "host": "127.0.0.1", "port": port, "api_base_url": fake.base_url}
    config = plain_config(tmp_path, **slack)
    stop = asyncio.Event()
    serving = asyncio.create_task(run(config, SlackTokens(BOT_TOKEN, signing_secret=SECRET), FakeHandler(), stop=stop))
    try:
        async with aiohttp.ClientSession() as http:
            rig = Rig(fake, None, f"http://127.0.0.1:{port}/slack/events", http)  # type: ignore[arg-type]

            for _ in range(1500):  # the bot indexes nothing here, but loads its models before it listens
                if serving.done():
                    serving.result()  # start-up failed: show why
                try:
                    _, status = await rig.dm("a bag")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
            assert status == 200
            assert cards(await rig.reply_to(DM))
    finally:
        stop.set()
        await serving
        await fake.stop()


async def test_a_chart_attachment_is_uploaded_into_the_conversation() -> None:
    fake = await FakeSlack().start()
    png = (IMAGES / "mb01-blue-0.jpg").read_bytes()  # any bytes; Slack does not care what a file holds
    try:
        reply = Reply(text="Users: 3", attachment=png, attachment_name="stats.png")
        await post_reply(make_client(BOT_TOKEN, fake.base_url), DM, reply, None)
        assert "Users: 3" in words(fake.calls_to("chat.postMessage")[0])
        assert [c.params["bytes"] for c in fake.calls_to("files.upload")] == [len(png)]
        assert fake.calls_to("files.completeUploadExternal", channel_id=DM)
    finally:
        await fake.stop()


# -- start-up errors -------------------------------------------------------------------------------------------------
def test_missing_or_mixed_up_tokens_are_named() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        SlackTokens.from_env("socket", {})
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set"):
        SlackTokens.from_env("socket", {"SLACK_BOT_TOKEN": BOT_TOKEN})
    with pytest.raises(ConfigError, match=r"app-level token \(xapp-"):
        SlackTokens.from_env("socket", {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN})
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        SlackTokens.from_env("http", {"SLACK_BOT_TOKEN": BOT_TOKEN})
    tokens = SlackTokens.from_env("http", {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET})
    assert tokens.signing_secret == SECRET


@pytest.mark.parametrize(
    ("bot", "app", "message"),
    [
        ("xoxb-revoked", APP_TOKEN, r"refused SLACK_BOT_TOKEN \(auth.test: invalid_auth\)"),
        (BOT_TOKEN, "xapp-1-wrong", r"refused SLACK_APP_TOKEN \(apps.connections.open: invalid_auth\)"),
    ],
)
async def test_refused_tokens_stop_start_up_with_a_clear_error(tmp_path: Path, bot: str, app: str, message: str) -> None:
    fake = await FakeSlack().start()
    config = Config(storage={"dir": tmp_path}, slack={"api_base_url": fake.base_url})
    try:
        with pytest.raises(ConfigError, match=message):
            await run(config, SlackTokens(bot, app), FakeHandler(), stop=asyncio.Event())
    finally:
        await fake.stop()
    assert not (tmp_path / "chroma").exists()  # it stopped before indexing anything


async def test_an_unreachable_api_is_a_clear_start_up_error(tmp_path: Path) -> None:
    config = Config(storage={"dir": tmp_path}, slack={"api_base_url": "http://127.0.0.1:9/api/"})
    with pytest.raises(ConfigError, match="cannot reach the Slack API"):
        await run(config, SlackTokens(BOT_TOKEN, APP_TOKEN), FakeHandler(), stop=asyncio.Event())


# -- rendering -------------------------------------------------------------------------------------------------------
def test_cards_show_web_images_only_and_the_text_does_not_repeat_the_list() -> None:
    web = ItemCard(
        "A-1", "Mars HeatTech&trade; Pullover", 66.0, "Black", ["Men/Tops/Jackets"], "https://cdn.example/a.jpg", "Matches “jacket”"
    )
    local = ItemCard("B-2", "Montana Wind Jacket", 49.5, "Black", ["Men/Tops/Jackets"], "/srv/images/b.jpg", "Matches <jacket>")
    text = "Here are 2 results for “jacket”:\n1. Mars — Black, $66 [A-1]\n   Matches “jacket”\n2. Montana — Black, $49.5 [B-2]\n   Matches"
    fallback, blocks = render(Reply(text=text, items=[web, local]))
    sections = [b for b in blocks if b["type"] == "section"]
    assert sections[0]["text"]["text"] == "Here are 2 results for “jacket”:"
    assert sections[1]["accessory"]["image_url"] == "https://cdn.example/a.jpg"
    assert "accessory" not in sections[2]
    assert "Mars HeatTech™ Pullover" in sections[1]["text"]["text"] and "$66" in sections[1]["text"]["text"]
    assert "&lt;jacket&gt;" in sections[2]["text"]["text"] and "$49.50" in sections[2]["text"]["text"]
    assert "Montana Wind Jacket — $49.50" in fallback
    _, blocks = render(Reply(text=text, items=[web, local]), public_url="https://bot.example/")
    sections = [b for b in blocks if b["type"] == "section"]
    assert sections[1]["accessory"]["image_url"] == "https://cdn.example/a.jpg"
    assert sections[2]["accessory"]["image_url"] == "https://bot.example/images/B-2"


def test_slack_audio_clips_are_voice_with_an_audio_type_and_videos_are_not() -> None:
    clip = {"mimetype": "video/webm", "filetype": "webm", "subtype": "slack_audio"}
    assert file_kind(clip) == "voice" and voice_mime(clip) == "audio/webm"
    assert file_kind({"mimetype": "audio/mp4", "filetype": "m4a"}) == "voice"
    assert file_kind({"mimetype": "video/webm", "filetype": "webm", "subtype": "slack_video"}) is None
    assert file_kind({"mimetype": "image/png", "filetype": "png"}) == "photo"


# -- helpers ---------------------------------------------------------------------------------------------------------------
def _m4a_clip(tmp_path: Path) -> bytes:
    """A real recorded sentence as an M4A clip, like Slack's audio clips (needs ffmpeg and ../shared/data)."""
    source = SHARED_DATA / "speech" / "fleurs" / "fleurs-en-000.ogg"
    if not source.is_file() or shutil.which("ffmpeg") is None:
        pytest.skip("needs ../shared/data/speech and ffmpeg")
    target = tmp_path / "clip.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-c:a", "aac", "-b:a", "48k", str(target)], check=True)
    return target.read_bytes()


# -- the latency figure for the report (a command, not a test) ----------------------------------------------------------------
async def measure_latency(runs: int, data_dir: Path) -> list[float]:
    """Seconds from sending a signed DM event to the fake receiving the bot's chat.postMessage, per run."""
    config = Config(storage={"dir": data_dir}, llm={"provider": "rules"})
    queries = ["a blue tee under $30", "a hoodie", "a waterproof jacket for men", "a yoga bag", "black running shorts"]
    async with open_rig(config) as rig:
        await rig.dm("a bag", user="UWARM")  # the first turn loads lazily; not counted
        await rig.reply_to(DM)
        seconds = []
        for n in range(runs):
            user, channel = f"UBENCH{n}", f"DBENCH{n}"
            start = time.monotonic()
            await rig.dm(queries[n % len(queries)], user=user, channel=channel)
            reply = await rig.reply_to(channel)
            seconds.append(reply.at - start)
    return seconds


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--latency":
        print(__doc__)
        return 2
    runs = int(argv[1]) if len(argv) > 1 else 15
    if len(argv) > 2:  # a data folder to reuse (indexed on first use)
        seconds = asyncio.run(measure_latency(runs, Path(argv[2])))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = asyncio.run(measure_latency(runs, Path(tmp)))
    ms = sorted(s * 1000 for s in seconds)
    median = statistics.median(ms)
    print(f"signed DM event → chat.postMessage, rules provider, {runs} runs: median {median:.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


async def test_a_chinese_message_gets_chinese_cards_and_buttons(rig: Rig) -> None:
    _, status = await rig.dm("100元以下的男士夹克，不要黑色")
    assert status == 200
    reply = await rig.reply_to(DM)
    shown = cards(reply)
    assert shown and all("Black" not in text for _, text in shown)
    buttons = next(b for b in reply.params["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["👍", "👎", "更多类似的"]
    assert "为你找到" in words(reply)


async def test_the_users_slack_locale_is_the_language_hint_asked_once(fake_rig: Rig) -> None:
    fake_rig.fake.locales[USER] = "zh-CN"
    await fake_rig.dm("60")  # no words to tell the language by
    await fake_rig.reply_to(DM)
    await fake_rig.dm("a hoodie")
    await fake_rig.reply_to(DM, after=1)
    assert [i.language for i in fake_rig.service.received] == ["zh-CN", "zh-CN"]
    assert len(fake_rig.fake.calls_to("users.info")) == 1


async def test_recbot_help_is_in_the_users_language(rig: Rig) -> None:
    rig.fake.locales[USER] = "zh-CN"
    hook, _ = await rig.command("help")
    said = words(await rig.response(hook))
    assert "告诉我你想要什么" in said and "在 Slack 上" in said
