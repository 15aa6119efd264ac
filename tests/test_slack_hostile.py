"""Slack HTTP mode against hostile requests (issue 17): malformed or unsigned input gets a 4xx and one log line, never a
500 or a traceback; a replayed signed request runs once, across restarts; what a user typed is echoed as text."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.app import action_incoming, command_incoming, message_incoming
from adapters.slack.requests import payload_problem
from bot.deliveries import Deliveries
from bot.learning.feedback import FeedbackLog
from tests.conftest import make_config
from tests.fakes.handler import FakeHandler
from tests.test_slack import DM, SECRET, USER, Rig, cards, open_rig, plain_config


@pytest.fixture
async def bare(tmp_path: Path) -> AsyncIterator[Rig]:
    """The Slack app in front of the fake bot."""
    config = plain_config(tmp_path)
    async with open_rig(config, FakeHandler(config.admins())) as r:
        yield r


@pytest.fixture
async def real(tmp_path: Path, indexed_chroma: Path) -> AsyncIterator[Rig]:
    """The Slack app in front of the real BotService."""
    async with open_rig(make_config(tmp_path / "data", indexed_chroma)) as r:
        yield r


async def post_signed(rig: Rig, body: bytes, content_type: str, times: int = 1) -> list[int]:
    """POST the same signed body `times` times, with the very same headers (what a captured request replayed is)."""
    ts = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest(),
    }
    statuses = []
    for _ in range(times):
        async with rig.http.post(rig.url, data=body, headers=headers) as response:
            statuses.append(response.status)
    return statuses


async def test_unsigned_and_malformed_requests_get_4xx_without_a_traceback(bare: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    junk = {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=abc", "Content-Type": "application/json"}
    async with bare.http.post(bare.url, data=b"{}", headers=junk) as response:
        assert response.status == 401
    async with bare.http.post(bare.url, data=b"{}") as response:
        assert response.status == 401
    press_without_user = {"type": "block_actions", "actions": [{"action_id": "recbot_like", "value": "24-MB01"}]}
    for body, content_type in [
        (b"{not json", "application/json"),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00\x01binary", "application/octet-stream"),
        (b"[1, 2, 3]", "application/json"),
        (urlencode({"payload": json.dumps(press_without_user)}).encode(), "application/x-www-form-urlencoded"),
        (json.dumps({"type": "event_callback", "event": "nope"}).encode(), "application/json"),
        (urlencode({"command": "/recbot", "text": "help"}).encode(), "application/x-www-form-urlencoded"),
    ]:
        assert await post_signed(bare, body, content_type) == [400], body
    assert not bare.service.received
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_replayed_button_press_or_command_runs_once(bare: Rig) -> None:
    await bare.dm("a bag")
    first = await bare.reply_to(DM)
    posted = {**first.result["message"], "ts": first.result["ts"]}
    press = {
        "type": "block_actions",
        "user": {"id": USER},
        "channel": {"id": DM},
        "message": posted,
        "response_url": bare.fake.response_url("replay"),
        "actions": [{"action_id": "recbot_like", "value": cards(first)[0][0], "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(press)}).encode()
    assert await post_signed(bare, body, "application/x-www-form-urlencoded", times=3) == [200, 200, 200]
    form = {"command": "/recbot", "text": "help", "user_id": USER, "channel_id": DM, "response_url": bare.fake.response_url("cmd")}
    command = urlencode(form).encode()
    assert await post_signed(bare, command, "application/x-www-form-urlencoded", times=2) == [200, 200]
    await bare.fake.wait_for(lambda: bare.fake.calls_to("chat.update"))
    received = bare.service.received
    assert sum(i.feedback is not None for i in received) == 1 and sum(i.command is not None for i in received) == 1


def test_seen_deliveries_survive_a_restart_and_are_shared_by_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    worker_a, worker_b = Deliveries(FeedbackLog(url).engine), Deliveries(FeedbackLog(url).engine)
    assert worker_a.first_time("slack:signature:v0=1")
    assert not worker_b.first_time("slack:signature:v0=1")  # another worker, or this one after a restart
    assert not Deliveries(FeedbackLog(url).engine).first_time("slack:signature:v0=1")
    assert worker_b.first_time("slack:event:Ev2")


def test_seen_deliveries_are_shared_by_workers_on_postgresql(postgres_url: str) -> None:
    worker_a, worker_b = Deliveries(FeedbackLog(postgres_url).engine), Deliveries(FeedbackLog(postgres_url).engine)
    assert worker_a.first_time("telegram:update:1:1001")
    assert not worker_b.first_time("telegram:update:1:1001")
    assert worker_b.first_time("telegram:update:1:1002")


async def test_what_a_user_typed_is_echoed_as_text_never_as_a_mention(real: Rig) -> None:
    await real.dm("&lt;!channel&gt; &lt;@U999&gt; a bag")  # typed as text: Slack sends it HTML-escaped
    reply = await real.reply_to(DM)
    shown = json.dumps([reply.params.get("text"), reply.params.get("blocks")])
    assert "<!channel>" not in shown and "<@U999>" not in shown
    assert reply.params.get("blocks")


# -- properties: every Slack normaliser takes any JSON without raising ----------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["recbot_like", "D1", "U1", "1.2"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["type", "user", "id", "channel", "ts", "text", "actions", "action_id", "value", "message", "user_id", "event"]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@given(JSON, JSON)
@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_the_slack_normalisers_take_any_payload(body: Any, action: Any) -> None:
    payload_problem(body)
    for threaded in (True, False):
        read = message_incoming(body, "UBOT", threaded)
        assert read is None or read[0].user_id
    pressed = action_incoming(body, action)
    assert pressed is None or (pressed[0].feedback is not None and pressed[0].feedback.item_id)
    command = command_incoming(body)
    assert command is None or command.command is not None
